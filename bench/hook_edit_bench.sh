#!/usr/bin/env bash
# Whole-process timing of `dbguard hook claude` for the file-edit guard (issue 10), with
# hyperfine (-N: no shell), release build, the payload on stdin as Claude Code sends it:
# an Edit of an ordinary file (allow, silent), an Edit of dbguard.toml (deny, one audit
# line), and for comparison the shell path: `ls -la` (allow) and `sed -i ... dbguard.toml`
# (deny). Budget: low milliseconds, like the shell hook (<= 3 ms allow, <= 5 ms deny).
#
# usage: bench/hook_edit_bench.sh   (writes bench/out/hook_edit.json)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
if ! hyperfine --help 2>/dev/null | grep -q -- '--input'; then
  cargo install hyperfine --version 1.20.0 --locked -q
fi
cargo build --release -p dbguard -q
BIN=$PWD/target/release/dbguard
OUT=$PWD/bench/out
mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export DBGUARD_HOME=$WORK/home DBGUARD_CONFIG=$WORK/dbguard.toml
unset CLAUDECODE CLAUDE_CODE_ENTRYPOINT PGHOST PGDATABASE DATABASE_URL || true
printf '[[databases]]\nmatch = "localhost"\nenvironment = "development"\n' > "$WORK/dbguard.toml"
cd "$WORK"
mkdir -p src && touch src/main.rs
q() { python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1"; }
edit() { printf '{"session_id":"s","transcript_path":"/t","cwd":"%s","permission_mode":"default","hook_event_name":"PreToolUse","tool_name":"Edit","tool_input":{"file_path":%s,"old_string":"a","new_string":"b"},"tool_use_id":"t"}' "$WORK" "$(q "$1")"; }
bash_() { printf '{"session_id":"s","transcript_path":"/t","cwd":"%s","permission_mode":"default","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":%s,"description":"d"},"tool_use_id":"t"}' "$WORK" "$(q "$1")"; }
edit "$WORK/src/main.rs" > edit_ok.json
edit "$WORK/dbguard.toml" > edit_guarded.json
bash_ 'ls -la' > ls.json
bash_ "sed -i 's/development/production/' dbguard.toml" > sed_guarded.json
cases=(
  "edit_ok.json|claude Edit src/main.rs (allow, silent)"
  "edit_guarded.json|claude Edit dbguard.toml (deny, audit line)"
  "ls.json|claude Bash ls -la (allow, silent)"
  "sed_guarded.json|claude Bash sed -i dbguard.toml (deny, audit line)"
)
i=0
for c in "${cases[@]}"; do
  IFS='|' read -r input name <<<"$c"
  hyperfine -N --warmup 20 --runs 300 --input "$input" --export-json "$WORK/r$i.json" -n "$name" "$BIN hook claude" >/dev/null
  i=$((i + 1))
done
python3 - "$OUT/hook_edit.json" "$WORK"/r*.json <<'PY'
import json, sys
results = []
for f in sorted(sys.argv[2:], key=lambda p: int(p.rsplit("r", 1)[1].split(".")[0])):
    results += json.load(open(f))["results"]
json.dump({"results": results}, open(sys.argv[1], "w"), indent=1)
for r in results:
    print(f"{r['command']:48s} median {r['median']*1000:6.2f} ms  mean {r['mean']*1000:6.2f} ms  (n={len(r['times'])})")
PY
