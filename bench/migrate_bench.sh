#!/usr/bin/env bash
# `dbguard migrate` benchmarks (not a test), on a throwaway PostgreSQL cluster with the real
# Prisma 6.19.3 of tests/e2e (run tests/e2e/setup.sh first):
#   1. status of a project with 500 applied migrations: `dbguard migrate status` (drift
#      checked, its expected schema cached from the first run; and --no-drift) against
#      `prisma migrate status`, with hyperfine, in one run;
#   2. the rehearsal of a one-migration plan on a ~1 GB database (`dbguard migrate plan`,
#      whose rehearsal makes a TEMPLATE copy, checks where Prisma connects, runs `prisma
#      migrate deploy` on the copy, compares the result with the schema file and drops the
#      copy) against a bare `CREATE DATABASE ... TEMPLATE` plus the migration's own time
#      (`prisma migrate deploy` of that migration on a copy).
# Usage: cargo build --release -p dbguard && bash bench/migrate_bench.sh
#   ROWS=5000000   rows in "User" for part 2 (about 1 GB with its index)
#   RUNS=3         rehearsal comparisons (the median of each time is reported)
#   BENCH_ONLY=status|rehearsal
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DBGUARD=${DBGUARD:-$ROOT/target/release/dbguard}
[ -x "$DBGUARD" ] || { echo "build first: cargo build --release -p dbguard" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "needs hyperfine (cargo install hyperfine)" >&2; exit 1; }
E2E=$ROOT/tests/e2e
[ -x "$E2E/node_modules/.bin/prisma" ] || { echo "run tests/e2e/setup.sh first" >&2; exit 1; }
BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}

WORK=$(mktemp -d /tmp/dbguard-migbench.XXXXXX)
PROJ=$E2E/work/migbench-$$
PORT=${PORT:-$(python3 -c "import socket; s=socket.socket(); s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])")}
RUNAS=()
if [ "$(id -u)" = 0 ]; then
    U=${BENCH_USER:-postgres}
    id "$U" >/dev/null 2>&1 || U=nobody
    chown "$U" "$WORK"
    RUNAS=(runuser -u "$U" --)
fi
cleanup() {
    "${RUNAS[@]}" "$BIN/pg_ctl" -D "$WORK/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$WORK" "$PROJ"
}
trap cleanup EXIT
[ -n "${RUNAS[*]}" ] && chmod 755 "$WORK"
"${RUNAS[@]}" "$BIN/initdb" -D "$WORK/data" -U postgres --auth=trust -E UTF8 --locale=C >/dev/null
"${RUNAS[@]}" "$BIN/pg_ctl" -D "$WORK/data" -l "$WORK/log" -w -o "-c listen_addresses=127.0.0.1 -p $PORT -c unix_socket_directories=$WORK -c shared_buffers=256MB -c max_wal_size=4GB -c checkpoint_timeout=30min" start >/dev/null

psql() { "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres "$@"; }
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
export DBGUARD_HOME=$WORK/home DBGUARD_CONFIG=none CHECKPOINT_DISABLE=1 PRISMA_HIDE_UPDATE_MESSAGE=1
PRISMA=$E2E/node_modules/.bin/prisma
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

mkdir -p "$PROJ"
cp -r "$E2E/prisma" "$E2E/prisma.config.ts" "$PROJ/"
cd "$PROJ"

if [ "${BENCH_ONLY:-all}" != rehearsal ]; then
echo "== 1. status of 500 applied migrations"
for i in $(seq 1 499); do
    d=prisma/migrations/$(printf '2026020100%04d' "$i")_t$i
    mkdir -p "$d"
    printf 'CREATE TABLE "T%d" (\n    "id" SERIAL NOT NULL,\n    "v" TEXT,\n    CONSTRAINT "T%d_pkey" PRIMARY KEY ("id")\n);\n' "$i" "$i" > "$d/migration.sql"
done
psql -d postgres -c "CREATE DATABASE many"
export DATABASE_URL="postgres://postgres@127.0.0.1:$PORT/many"
s=$(now); "$PRISMA" migrate deploy >/dev/null 2>&1; e=$(now)
echo "   prisma migrate deploy of 500 migrations: $(secs "$s" "$e") s"
"$DBGUARD" migrate status >/dev/null   # fills the expected-schema cache (a scratch database, once)
hyperfine -N --warmup 2 --runs 15 \
    -n "dbguard migrate status (drift checked)" "$DBGUARD migrate status" \
    -n "dbguard migrate status --no-drift" "$DBGUARD migrate status --no-drift" \
    -n "prisma migrate status" "$PRISMA migrate status" \
    --export-markdown "$WORK/status.md" | grep -v '^ *$'
hyperfine -N --runs 5 --prepare "rm -rf $DBGUARD_HOME/migrate-cache" \
    -n "dbguard migrate status (cold: drift computed on a scratch database)" "$DBGUARD migrate status" | grep -v '^ *$'
rm -rf prisma/migrations/2026020100*
fi

if [ "${BENCH_ONLY:-all}" != status ]; then
ROWS=${ROWS:-5000000}
RUNS=${RUNS:-3}
echo "== 2. rehearsal of a one-migration plan on a large database ($ROWS rows)"
psql -d postgres -c "CREATE DATABASE big"
export DATABASE_URL="postgres://postgres@127.0.0.1:$PORT/big"
"$PRISMA" migrate deploy >/dev/null 2>&1
s=$(now)
psql -d big -c "INSERT INTO \"User\" (email, name, bio) SELECT 'user' || g || '@example.com', md5(g::text), repeat(md5((g * 7)::text), 3) FROM generate_series(1, $ROWS) g"
psql -d big -c "VACUUM ANALYZE" -c "CHECKPOINT"
echo "   loaded $(psql -d big -At -c "SELECT pg_size_pretty(pg_database_size('big'))") in $(secs "$s" "$(now)") s"
d=prisma/migrations/20260301000000_add_status
mkdir -p "$d"
printf 'ALTER TABLE "User" ADD COLUMN "status" TEXT NOT NULL DEFAULT '"'"'active'"'"';\n' > "$d/migration.sql"
"$DBGUARD" migrate status >/dev/null   # the drift check's expected schema, cached
TEMPLATES=(); OWNS=(); REHEARSALS=(); PLANS=()
for run in $(seq 1 "$RUNS"); do
    psql -d postgres -c "CHECKPOINT" >/dev/null
    s=$(now); psql -d postgres -c "CREATE DATABASE bare TEMPLATE big STRATEGY FILE_COPY"; e=$(now)
    TEMPLATES+=("$(secs "$s" "$e")")
    s=$(now); DATABASE_URL="postgres://postgres@127.0.0.1:$PORT/bare" "$PRISMA" migrate deploy >/dev/null 2>&1; e=$(now)
    OWNS+=("$(secs "$s" "$e")")
    psql -d postgres -c "DROP DATABASE bare"
    psql -d postgres -c "CHECKPOINT" >/dev/null
    s=$(now); "$DBGUARD" migrate plan --json > "$WORK/plan.json" || true; e=$(now)
    PLANS+=("$(secs "$s" "$e")")
    R=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["rehearsal"]; assert r["ok"], r; print(r["total_ms"] / 1000)' "$WORK/plan.json")
    REHEARSALS+=("$R")
    echo "   run $run: CREATE DATABASE TEMPLATE ${TEMPLATES[-1]} s + prisma migrate deploy ${OWNS[-1]} s; rehearsal $R s (whole dbguard migrate plan ${PLANS[-1]} s)"
done
T=$(median "${TEMPLATES[@]}"); O=$(median "${OWNS[@]}"); R=$(median "${REHEARSALS[@]}"); P=$(median "${PLANS[@]}")
echo "   median: bare $T + $O = $(echo "$T + $O" | bc) s; rehearsal $R s ($(echo "scale=2; $R / ($T + $O)" | bc)x); whole plan $P s"
[ -z "$(psql -d postgres -At -c "SELECT datname FROM pg_database WHERE datname LIKE 'dbguard_scratch_%'")" ] || { echo "scratch database left behind" >&2; exit 1; }
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
