#!/usr/bin/env bash
# Whole-process timing of `dbguard hook <agent>` with hyperfine (-N: no shell), release
# build, the payload on stdin (hyperfine --input), as the agents call it. Prints medians.
# Budgets: <= 3 ms for commands that touch no database, <= 5 ms for database commands
# decided without contacting the database (the default: no --measure).
#
# usage: bench/hook_bench.sh   (writes bench/out/hook.json)
set -euo pipefail
cd "$(dirname "$0")/.."
# --input needs hyperfine >= 1.16 (Debian's may be older): then build 1.20 from crates.io.
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
unset CLAUDECODE CLAUDE_CODE_ENTRYPOINT PGHOST PGDATABASE || true
cat > "$WORK/dbguard.toml" <<'TOML'
[[databases]]
match = "db.prod.internal"
environment = "production"
[[databases]]
match = "localhost"
environment = "development"
TOML
cd "$WORK"
claude() { printf '{"session_id":"s","transcript_path":"/t","cwd":"%s","permission_mode":"default","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":%s,"description":"d"},"tool_use_id":"t"}' "$WORK" "$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1")"; }
cursor() { printf '{"conversation_id":"c","generation_id":"g","hook_event_name":"beforeShellExecution","workspace_roots":["%s"],"command":%s,"cwd":"%s"}' "$WORK" "$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1")" "$WORK"; }
claude 'ls -la' > ls.json
claude 'git status && cargo build --release' > git.json
claude 'npx prisma generate' > prisma_generate.json
claude "psql postgres://app:pw@db.prod.internal/app -c 'DROP TABLE users'" > psql_prod.json
claude 'npx prisma migrate reset --force' > prisma_prod.json
claude "psql postgres://app:pw@localhost/app_dev -c 'DROP TABLE users'" > psql_dev_ask.json
cursor "psql postgres://app:pw@localhost/app_dev -c 'TRUNCATE orders'" > cursor_dev_code.json
# Redaction (issue 12, class 8): a password in a tool's own position on a denied command, and a
# long benign command line (every word is read by the word-aware redaction of the plan).
claude "mysql -h db.prod.internal -u app -p'S3cr3t pw' -e 'DROP TABLE users'" > mysql_pw_prod.json
claude "bash -c \"$(python3 -c 'print(" && ".join(f"echo step{i} --password=x{i} | tee -a /tmp/log{i}" for i in range(300)))')\"" > long_benign.json
export DATABASE_URL=postgres://app:pw@db.prod.internal:5432/app
# hyperfine takes one --input per run: one run per case, results merged into hook.json.
cases=(
  "claude|ls.json|claude: ls -la (allow, silent)"
  "claude|git.json|claude: git status && cargo build (allow)"
  "claude|prisma_generate.json|claude: npx prisma generate (allow)"
  "claude|psql_prod.json|claude: psql DROP TABLE on production (deny)"
  "claude|prisma_prod.json|claude: prisma migrate reset, production (deny)"
  "claude|psql_dev_ask.json|claude: psql DROP TABLE on dev (ask + code)"
  "cursor|cursor_dev_code.json|cursor: TRUNCATE on dev (deny + code)"
  "claude|mysql_pw_prod.json|claude: mysql -p'...' DROP TABLE on production (deny, redacted)"
  "claude|long_benign.json|claude: 300-step benign bash -c, 20 KB (allow)"
)
i=0
for c in "${cases[@]}"; do
  IFS='|' read -r agent input name <<<"$c"
  hyperfine -N --warmup 20 --runs 300 --input "$input" --export-json "$WORK/r$i.json" -n "$name" "$BIN hook $agent" >/dev/null
  i=$((i + 1))
done
python3 - "$OUT/hook.json" "$WORK"/r*.json <<'PY'
import json, sys
results = []
for f in sorted(sys.argv[2:], key=lambda p: int(p.rsplit("r", 1)[1].split(".")[0])):
    results += json.load(open(f))["results"]
json.dump({"results": results}, open(sys.argv[1], "w"), indent=1)
for r in results:
    print(f"{r['command']:48s} median {r['median']*1000:6.2f} ms  mean {r['mean']*1000:6.2f} ms  (n={len(r['times'])})")
PY
