#!/usr/bin/env bash
# Whole-process timing of `dbguard check` and `dbguard hook claude` for the shell shapes of
# issue 12 classes 4-6 (variables, launchers, limits), with hyperfine, release build, next
# to the plain baseline of bench/check_bench.sh. Prints medians in ms.
#
# usage: bench/shell_bench.sh   (writes bench/out/shell.json)
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
export DBGUARD_HOME=$WORK/home
unset DBGUARD_CONFIG CLAUDECODE CLAUDE_CODE_ENTRYPOINT DATABASE_URL PGHOST PGDATABASE || true
# A project: .env on a production host, dbguard.toml saying so, a pnpm workspace of 20 packages.
P=$WORK/project
mkdir -p "$P"
cd "$P"
printf 'DATABASE_URL=postgres://app:pw@db.internal.example:5432/shop\n' > .env
printf '[[databases]]\nmatch = "db.internal.example"\nenvironment = "production"\n' > dbguard.toml
printf 'packages:\n  - "packages/*"\n' > pnpm-workspace.yaml
printf '{"name": "root", "private": true}\n' > package.json
for i in $(seq 1 20); do
  mkdir -p "packages/p$i"
  printf '{"name": "@shop/p%s", "scripts": {"build": "tsc", "db:reset": "prisma migrate reset --force"}}\n' "$i" > "packages/p$i/package.json"
done
nest() { local c="$1" n=$2; for ((i=0;i<n;i++)); do c="sh -c $(printf %q "$c")"; done; printf '%s' "$c"; }
Q10=$(nest 'dropdb shop' 10)
claude() { printf '{"session_id":"s","transcript_path":"/t","cwd":"%s","permission_mode":"default","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":%s,"description":"d"},"tool_use_id":"t"}' "$P" "$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1")"; }
claude 'ls -la' > ls.json
claude 'source .env && psql "$DATABASE_URL" -c "DROP TABLE x"' > source.json
claude 'pnpm --filter @shop/p7 build' > pnpm.json
hyperfine -N --warmup 20 --runs 300 -i --export-json "$WORK/check.json" \
  -n 'check: ls -la' "$BIN check 'ls -la'" \
  -n 'check: source .env && psql "$DATABASE_URL" DROP (production)' "$BIN check 'source .env && psql \"\$DATABASE_URL\" -c \"DROP TABLE x\"'" \
  -n 'check: psql "$UNSET" DROP (unknown target)' "$BIN check 'psql \"\$UNSET_URL\" -c \"DROP TABLE x\"'" \
  -n 'check: pnpm --filter @shop/p7 db:reset (20 packages)' "$BIN check 'pnpm --filter @shop/p7 db:reset'" \
  -n 'check: echo B64 | base64 -d | sh' "$BIN check 'echo ZHJvcGRiIHNob3A= | base64 -d | sh'" \
  -n 'check: 10 printf %q layers of sh -c' "$BIN check '$Q10'" \
  >/dev/null
i=0
for c in "ls.json|hook claude: ls -la (allow)" "source.json|hook claude: source .env && psql DROP (deny, production)" "pnpm.json|hook claude: pnpm --filter build (allow)"; do
  IFS='|' read -r input name <<<"$c"
  hyperfine -N --warmup 20 --runs 300 --input "$input" --export-json "$WORK/h$i.json" -n "$name" "$BIN hook claude" >/dev/null
  i=$((i + 1))
done
python3 - "$OUT/shell.json" "$WORK"/check.json "$WORK"/h*.json <<'PY'
import json, sys
results = []
for f in sys.argv[2:]:
    results += json.load(open(f))["results"]
json.dump({"results": results}, open(sys.argv[1], "w"), indent=1)
for r in results:
    print(f"{r['command']:62s} median {r['median']*1000:6.2f} ms  mean {r['mean']*1000:6.2f} ms  (n={len(r['times'])})")
PY
