#!/usr/bin/env bash
# Whole-process timing of the hook on commands that run a script (issue 12, class 1), with
# hyperfine (-N: no shell), release build, the Claude payload on stdin:
#   - `ls -la` (baseline: no script read);
#   - `node dist/bundle.js` on a 5 MB benign bundle: with the cache off (every run scans the
#     file) and with the cache on (a repeat answers from DBGUARD_HOME/cache/scripts);
#   - the same bundle with one TRUNCATE appended (a strong marker: parsed), cache off and on;
#   - `node scripts/cleanup.js` (a small destructive script), cache off and on.
# Budgets (issue 12): the benign 5 MB bundle adds at most 5 ms to the hook; a cached
# repeat at most 1 ms.
#
# usage: bench/script_bench.sh   (writes bench/out/script.json)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
if ! hyperfine --help 2>/dev/null | grep -q -- '--input'; then
  cargo install hyperfine --version 1.20.0 --locked -q
fi
[ -n "${BENCH_NO_BUILD:-}" ] || cargo build --release -p dbguard -q
BIN=$PWD/target/release/dbguard
OUT=$PWD/bench/out
mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cp -r crates/dbguard-core/tests/corpus/projects/node-pg "$WORK/app"
python3 bench/gen_bundle.py "$WORK/app/dist/bundle.js"
python3 bench/gen_bundle.py "$WORK/app/dist/marked.js" 5242880 --destructive
export DBGUARD_HOME=$WORK/home DBGUARD_CONFIG=none DATABASE_URL=postgres://app@localhost/app_dev
unset CLAUDECODE CLAUDE_CODE_ENTRYPOINT PGHOST PGDATABASE || true
cd "$WORK/app"
claude() { printf '{"session_id":"s","cwd":"%s","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"%s"}}' "$WORK/app" "$1"; }
claude 'ls -la' > ls.json
claude 'node dist/bundle.js' > bundle.json
claude 'node dist/marked.js' > marked.json
claude 'node scripts/cleanup.js' > cleanup.json
# Warm the cache for the cached runs.
for p in bundle marked cleanup; do "$BIN" hook claude < $p.json > /dev/null; done
# hyperfine takes one --input per run: one run per case. The `env` wrapper is not used (one
# more exec would add to every run).
run_case() { # name payload json-out
  hyperfine -N --warmup 5 --runs 60 --export-json "$3" -n "$1" --input "$2" "$BIN hook claude" > /dev/null
}
i=0
for c in "ls -la|ls.json" "node 5 MB benign bundle|bundle.json" "node 5 MB bundle + TRUNCATE (parsed)|marked.json" "node scripts/cleanup.js|cleanup.json"; do
  name=${c%%|*}; payload=${c##*|}; i=$((i + 1))
  DBGUARD_SCRIPT_CACHE=off run_case "$name, cache off" "$payload" "$OUT/script_nocache_$i.json"
  run_case "$name, cached" "$payload" "$OUT/script_cached_$i.json"
done
python3 - "$OUT" <<'PY'
import json, sys, glob, os
out = sys.argv[1]
results = []
for kind in ("nocache", "cached"):
  for f in sorted(glob.glob(os.path.join(out, f"script_{kind}_*.json"))):
    results += json.load(open(f))["results"]
json.dump({"results": results}, open(os.path.join(out, "script.json"), "w"), indent=1)
for r in results:
  print(f'{r["command"]:<48} median {r["median"]*1000:7.2f} ms  (min {r["min"]*1000:.2f})')
PY
