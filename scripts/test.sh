#!/usr/bin/env bash
# Runs every test: unit, corpus, property and end-to-end tests against real
# PostgreSQL clusters (started by the tests themselves) and SQLite files.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# End-to-end tools (npm: prisma, drizzle-kit; PyPI: mcp), each folder installs its own.
for s in tests/*/setup.sh; do if [ -f "$s" ]; then "$s"; fi; done
cargo test --workspace "$@"
