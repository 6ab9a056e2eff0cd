#!/usr/bin/env bash
# The dbguard demo on the embedded default: a SQLite file, no server needed.
# Builds dbguard, creates a small database with real rows, and shows an agent's
# destructive command being caught, a snapshot, and a restore into a new file.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build -q -p dbguard
BIN=$PWD/target/debug/dbguard

DEMO=$(mktemp -d /tmp/dbguard-demo.XXXXXX)
export DBGUARD_HOME=$DEMO/home
cd "$DEMO"
sqlite3 app.db <<'SQL'
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);
INSERT INTO users (email) VALUES ('ada@example.com'), ('grace@example.com'), ('linus@example.com');
CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), total REAL);
INSERT INTO orders (user_id, total) VALUES (1, 19.90), (2, 5.00), (2, 42.00);
SQL
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step "dbguard status --url app.db        # which database, which environment, what is in it"
"$BIN" status --url app.db

step "dbguard check \"sqlite3 app.db 'DROP TABLE users'\"   # what an agent is about to run"
"$BIN" check "sqlite3 app.db 'DROP TABLE users'" || echo "(exit $?: destructive)"

step "dbguard check 'rm -f app.db'"
"$BIN" check "rm -f app.db" || echo "(exit $?: destructive)"

step "dbguard run -- sqlite3 app.db 'DROP TABLE users'   # as an agent would: no terminal, so no prompt"
CLAUDECODE=1 "$BIN" run -- sqlite3 app.db 'DROP TABLE users' </dev/null || echo "(exit $?: it did not run)"
echo "users still has $(sqlite3 app.db 'SELECT count(*) FROM users') rows"

step "dbguard snapshot --url app.db --label before-cleanup"
"$BIN" snapshot --url app.db --label before-cleanup
ID=$("$BIN" snapshots --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["snapshots"][-1]["id"])')

step "sqlite3 app.db 'DROP TABLE orders'   # the accident happens anyway, outside dbguard"
sqlite3 app.db 'DROP TABLE orders'

step "dbguard restore $ID   # into a NEW file; the original is never overwritten"
"$BIN" restore "$ID"
RESTORED=$(ls "$DEMO"/app_restored_*.db | head -1)
echo "orders in the restored copy: $(sqlite3 "$RESTORED" 'SELECT count(*) FROM orders') rows"
printf '\nDemo files are in %s\n' "$DEMO"
