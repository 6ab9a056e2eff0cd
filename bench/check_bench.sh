#!/usr/bin/env bash
# Whole-process timing of `dbguard check` (and, once they exist, `dbguard hook` and
# `dbguard run -- true`) with hyperfine, release build. Prints medians in ms.
#
# usage: bench/check_bench.sh   (writes bench/out/check.json)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { apt-get install -y -qq hyperfine >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null); }
cargo build --release -p dbguard -q
BIN=$PWD/target/release/dbguard
mkdir -p bench/out
cd "$(mktemp -d)"   # an empty project dir: no .env, no package.json
hyperfine -N --warmup 20 --runs 300 --export-json "$OLDPWD/bench/out/check.json" \
  -i \
  -n 'check: ls -la' "$BIN check 'ls -la'" \
  -n 'check: npx prisma migrate reset --force' "$BIN check 'npx prisma migrate reset --force'" \
  -n 'check: psql -c "DROP TABLE users"' "$BIN check 'psql -c \"DROP TABLE users\"'" \
  >/dev/null
python3 - "$OLDPWD/bench/out/check.json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(f"{r['command']:45s} median {r['median']*1000:6.2f} ms  mean {r['mean']*1000:6.2f} ms  (n={len(r['times'])})")
PY
