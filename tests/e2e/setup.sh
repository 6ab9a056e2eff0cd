#!/usr/bin/env bash
# Installs the real Prisma 6.19.3 and drizzle-kit 0.31.11 used by dbguard's end-to-end
# tests (crates/dbguard/tests/e2e_*.rs) from package-lock.json, with `npm ci`.
# Idempotent and quick: skipped when node_modules already matches the lockfile.
# Prisma runs offline afterwards: its WebAssembly schema engine and the pg adapter
# need no engine download (prisma.config.ts: `engine: 'js'`).
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v npm >/dev/null 2>&1; then
  echo "tests/e2e/setup.sh: npm not found; installing Node.js" >&2
  SUDO=""
  if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi

stamp=node_modules/.dbguard-e2e-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x node_modules/.bin/prisma ] && [ -x node_modules/.bin/drizzle-kit ]; then
  exit 0
fi
echo "tests/e2e/setup.sh: npm ci (prisma, drizzle-kit)" >&2
npm ci --no-audit --no-fund --loglevel=error >/dev/null
echo "$want" > "$stamp"
