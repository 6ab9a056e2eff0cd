#!/usr/bin/env bash
# Two dbguard binaries side by side, in one hyperfine run per case (so that a busy machine
# slows both alike): the cases of bench/check_bench.sh and bench/hook_bench.sh. For judging
# a change when the absolute numbers are not reliable (shared machine).
#
# usage: bench/ab_bench.sh BASE_BIN NEW_BIN   (writes bench/out/ab.json)
#   e.g. git archive main | tar -x -C /tmp/base && (cd /tmp/base && cargo build --release -p dbguard)
#        bench/ab_bench.sh /tmp/base/target/release/dbguard target/release/dbguard
set -euo pipefail
BASE=$(realpath "$1")
NEW=$(realpath "$2")
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
if ! hyperfine --help 2>/dev/null | grep -q -- '--input'; then
  cargo install hyperfine --version 1.20.0 --locked -q
fi
OUT=$PWD/bench/out
mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export DBGUARD_HOME=$WORK/home DBGUARD_CONFIG=$WORK/dbguard.toml
unset CLAUDECODE CLAUDE_CODE_ENTRYPOINT DATABASE_URL PGHOST PGDATABASE || true
printf '[[databases]]\nmatch = "db.prod.internal"\nenvironment = "production"\n' > "$WORK/dbguard.toml"
cd "$WORK"
claude() { printf '{"session_id":"s","transcript_path":"/t","cwd":"%s","permission_mode":"default","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":%s,"description":"d"},"tool_use_id":"t"}' "$WORK" "$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1")"; }
claude 'ls -la' > ls.json
claude 'git status && cargo build --release' > git.json
claude "psql postgres://app:pw@db.prod.internal/app -c 'DROP TABLE users'" > psql_prod.json
i=0
for c in "ls -la" "npx prisma migrate reset --force" 'psql -c "DROP TABLE users"'; do
  q=$(printf '%q' "$c")
  hyperfine -N -i --warmup 20 --runs 300 --export-json "$WORK/c$i.json" \
    -n "base check: $c" "$BASE check $q" -n "new  check: $c" "$NEW check $q" >/dev/null
  i=$((i + 1))
done
for c in "ls.json|ls -la (allow)" "git.json|git status && cargo build (allow)" "psql_prod.json|psql DROP TABLE on production (deny)"; do
  IFS='|' read -r input name <<<"$c"
  hyperfine -N --warmup 20 --runs 300 --input "$input" --export-json "$WORK/h$i.json" \
    -n "base hook claude: $name" "$BASE hook claude" -n "new  hook claude: $name" "$NEW hook claude" >/dev/null
  i=$((i + 1))
done
python3 - "$OUT/ab.json" "$WORK"/c*.json "$WORK"/h*.json <<'PY'
import json, sys
results = []
for f in sys.argv[2:]:
    results += json.load(open(f))["results"]
json.dump({"results": results}, open(sys.argv[1], "w"), indent=1)
for r in results:
    print(f"{r['command']:62s} median {r['median']*1000:6.2f} ms  mean {r['mean']*1000:6.2f} ms  (n={len(r['times'])})")
PY
