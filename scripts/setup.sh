#!/usr/bin/env bash
# Installs what dbguard's build and tests need, idempotently and non-interactively:
# libclang (pg_query's build), PostgreSQL server + client (tests start their own
# throwaway clusters), sqlite3, openssl (certificates for the TLS tests), and the Rust
# components for fmt/clippy.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; fi

missing=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in libclang1-14 libclang-common-14-dev sqlite3 postgresql-client openssl; do
  have_pkg "$p" || missing+=("$p")
done
# A PostgreSQL server: any initdb on PATH or under /usr/lib/postgresql will do.
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  missing+=("postgresql")
fi
# The dblink extension (the MCP read-only tests use it): part of PostgreSQL's contrib modules,
# which Debian ships inside postgresql-NN; postgresql-contrib pulls them in where they are apart.
if ! ls /usr/share/postgresql/*/extension/dblink.control >/dev/null 2>&1 \
  && ! ls /usr/lib/postgresql/*/share/extension/dblink.control >/dev/null 2>&1; then
  missing+=("postgresql-contrib")
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if command -v rustup >/dev/null 2>&1; then
  rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
  rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
fi
