#!/usr/bin/env bash
# Overhead of `dbguard run` for a non-destructive command: whole-process time of
# `dbguard run -- true` against `true` itself, with hyperfine -N (no shell), release build.
# The budget is 5 ms of median overhead. Prints medians in ms and the difference.
#
# usage: bench/run_bench.sh   (writes bench/out/run.json)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { apt-get install -y -qq hyperfine >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null); }
cargo build --release -p dbguard -q
BIN=$PWD/target/release/dbguard
TRUE=$(command -v true)
mkdir -p bench/out
OUT=$PWD/bench/out/run.json
cd "$(mktemp -d)"   # an empty project dir: no .env, no package.json, no dbguard.toml
export DBGUARD_HOME=$PWD/home DBGUARD_CONFIG=none
hyperfine -N --warmup 50 --runs 500 --export-json "$OUT" \
  -n 'true' "$TRUE" \
  -n 'dbguard run -- true' "$BIN run -- $TRUE" \
  -n 'dbguard run -- ls -la' "$BIN run -- ls -la" \
  >/dev/null
python3 - "$OUT" <<'PY'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
for name, r in res.items():
    print(f"{name:28s} median {r['median']*1000:6.2f} ms  mean {r['mean']*1000:6.2f} ms  (n={len(r['times'])})")
over = (res["dbguard run -- true"]["median"] - res["true"]["median"]) * 1000
print(f"overhead of `dbguard run` (median): {over:.2f} ms  (budget 5 ms: {'OK' if over <= 5 else 'OVER'})")
sys.exit(0 if over <= 5 else 1)
PY
