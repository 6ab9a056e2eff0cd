#!/usr/bin/env bash
# Runs every test: unit, corpus, property and end-to-end tests against real
# PostgreSQL clusters (started by the tests themselves) and SQLite files.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ -f tests/e2e/setup.sh ]; then tests/e2e/setup.sh; fi
cargo test --workspace "$@"
