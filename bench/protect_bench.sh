#!/usr/bin/env bash
# Overhead of the in-database guard (`dbguard protect`, issue 10). Not a test. Starts a
# throwaway PostgreSQL cluster and measures, in one run, with and without the guard:
#   pgbench TPC-B (the default mix: 3 single-row UPDATEs, a SELECT, an INSERT per
#   transaction) and pgbench -S (select-only): transactions per second, target >= 95% of
#   the unguarded throughput;
#   a bulk UPDATE of 1,000,000 of 3,000,000 rows (allowed by the rules: a third of the
#   table): wall time, target <= 1.3x.
# Rounds alternate the order of the two databases; the tables show the median of each.
# synchronous_commit is off so that throughput is CPU-bound, where any per-statement cost
# of the guard shows most. Because throughput on a shared machine says as much about the
# neighbours as about the guard, every measurement is also taken as the server's CPU time
# (utime + stime of the cluster's processes, exited backends included through the
# postmaster's cutime/cstime, from /proc): one pgbench client running CPU_TXNS transactions,
# and the bulk UPDATE's own backend. CPU time is what a CPU-bound server's throughput is
# the inverse of, and it hardly depends on what else runs.
#
# Usage: cargo build --release -p dbguard && bash bench/protect_bench.sh
#   ROUNDS=3       rounds of every measurement
#   SECONDS_PER=30 seconds per pgbench run
#   SCALE=10       pgbench scale (10: 1,000,000 accounts)
#   CLIENTS=4      pgbench clients (2 threads)
#   CPU_TXNS=20000 transactions of the one-client CPU-time runs
#   VARIANTS=1     also measure two designs the guard did not take, on the same tables:
#                  the DELETE/UPDATE triggers without their WHEN gate (the trigger function
#                  runs for every statement), and without transition tables (what counting
#                  the statement's rows would cost without them is not measurable: this
#                  shows the capture's share)
# Prints Markdown rows for docs/benchmarks.md and the machine's load before and after.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DBGUARD=${DBGUARD:-$ROOT/target/release/dbguard}
[ -x "$DBGUARD" ] || { echo "build first: cargo build --release -p dbguard" >&2; exit 1; }
BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
PGBENCH=$BIN/pgbench
[ -x "$PGBENCH" ] || PGBENCH=$(command -v pgbench)
ROUNDS=${ROUNDS:-3}
SECONDS_PER=${SECONDS_PER:-30}
SCALE=${SCALE:-10}
CLIENTS=${CLIENTS:-4}
VARIANTS=${VARIANTS:-0}
CPU_TXNS=${CPU_TXNS:-20000}

WORK=$(mktemp -d /tmp/dbguard-protect-bench.XXXXXX)
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
    rm -rf "$WORK"
}
trap cleanup EXIT
[ -n "${RUNAS[*]}" ] && chmod 755 "$WORK"

echo "load before: $(uptime)"
"${RUNAS[@]}" "$BIN/initdb" -D "$WORK/data" -U postgres --auth=trust -E UTF8 --locale=C >/dev/null
"${RUNAS[@]}" "$BIN/pg_ctl" -D "$WORK/data" -l "$WORK/log" -w -o "-c listen_addresses=127.0.0.1 -p $PORT -c unix_socket_directories=$WORK -c shared_buffers=256MB -c max_wal_size=4GB -c checkpoint_timeout=30min -c synchronous_commit=off -c max_connections=50 -c autovacuum=off" start >/dev/null
POSTMASTER=$(head -1 "$WORK/data/postmaster.pid")
# CPU seconds used by the cluster so far: the postmaster and its live children, plus the
# children it has reaped (cutime, cstime).
cluster_cpu() {
    local tck total=0 f
    tck=$(getconf CLK_TCK)
    total=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$POSTMASTER/stat")
    for f in /proc/[0-9]*/stat; do
        { read -r line < "$f"; } 2>/dev/null || continue
        # fields after the command name (which may hold spaces): state ppid ... utime(14) stime(15)
        rest=${line##*) }
        set -- $rest
        [ "$2" = "$POSTMASTER" ] && total=$((total + ${12} + ${13}))
    done
    echo "scale=3; $total / $tck" | bc
}
# Wait until the backends of finished clients are gone and reaped, so that their CPU time
# is in the postmaster's cutime/cstime when it is read.
settle() {
    local i
    for i in $(seq 1 50); do
        if [ "$(psql -At -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()")" = 0 ]; then
            break
        fi
        sleep 0.1
    done
    sleep 0.3
}

export PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=postgres
export DBGUARD_HOME=$WORK/home
psql() { "$BIN/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }
now() { date +%s.%N; }

DBS=(plain guarded)
[ "$VARIANTS" = 1 ] && DBS+=(nogate nocapture)

for db in "${DBS[@]}"; do
    psql -d postgres -c "CREATE DATABASE $db"
    "$PGBENCH" -q -i -s "$SCALE" "$db" >/dev/null 2>&1
    psql -d "$db" -c "CREATE TABLE bulk (id int PRIMARY KEY, price numeric, note text);
        INSERT INTO bulk SELECT g, g, md5(g::text) FROM generate_series(1, 3000000) g" -c "VACUUM ANALYZE bulk"
done
for db in "${DBS[@]:1}"; do
    "$DBGUARD" protect --url "postgres://postgres@127.0.0.1:$PORT/$db" --json >/dev/null
done
if [ "$VARIANTS" = 1 ]; then
    # Same guard, DELETE/UPDATE triggers without the WHEN gate.
    psql -d nogate -c "DO \$\$ DECLARE r record; BEGIN
        FOR r IN SELECT tgrelid::regclass AS t, tgname FROM pg_trigger WHERE tgname IN ('dbguard_delete', 'dbguard_update') LOOP
            EXECUTE format('CREATE OR REPLACE TRIGGER %I AFTER %s ON %s REFERENCING OLD TABLE AS dbguard_old FOR EACH STATEMENT EXECUTE FUNCTION dbguard.on_mass_change(%L, %L, %L)',
                r.tgname, CASE WHEN r.tgname = 'dbguard_delete' THEN 'DELETE' ELSE 'UPDATE' END, r.t, 1000, 0.5, 10000);
        END LOOP; END \$\$"
    # Same guard, DELETE/UPDATE triggers with the gate but no transition table.
    psql -d nocapture -c "CREATE FUNCTION public.noop() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END';
        DO \$\$ DECLARE r record; BEGIN
        FOR r IN SELECT tgrelid::regclass AS t, tgname FROM pg_trigger WHERE tgname IN ('dbguard_delete', 'dbguard_update') LOOP
            EXECUTE format('CREATE OR REPLACE TRIGGER %I AFTER %s ON %s FOR EACH STATEMENT WHEN (pg_stat_get_xact_tuples_%s(%L::regclass) > 1000) EXECUTE FUNCTION public.noop()',
                r.tgname, CASE WHEN r.tgname = 'dbguard_delete' THEN 'DELETE' ELSE 'UPDATE' END, r.t,
                CASE WHEN r.tgname = 'dbguard_delete' THEN 'deleted' ELSE 'updated' END, r.t);
        END LOOP; END \$\$"
fi
psql -d postgres -c "CHECKPOINT"

declare -A TPCB TPCS BULK CPUB CPUS CPUU
for ((round = 1; round <= ROUNDS; round++)); do
    order=("${DBS[@]}")
    if ((round % 2 == 0)); then
        mapfile -t order < <(printf '%s\n' "${DBS[@]}" | tac)
    fi
    for db in "${order[@]}"; do
        t=$("$PGBENCH" -n -c "$CLIENTS" -j 2 -T "$SECONDS_PER" "$db" 2>/dev/null | awk '/^tps/ {print $3; exit}')
        TPCB[$db]+="$t "
        s=$("$PGBENCH" -n -S -c "$CLIENTS" -j 2 -T "$SECONDS_PER" "$db" 2>/dev/null | awk '/^tps/ {print $3; exit}')
        TPCS[$db]+="$s "
        settle; c0=$(cluster_cpu)
        "$PGBENCH" -n -c 1 -t "$CPU_TXNS" "$db" >/dev/null 2>&1
        settle; c1=$(cluster_cpu)
        "$PGBENCH" -n -S -c 1 -t "$CPU_TXNS" "$db" >/dev/null 2>&1
        settle; c2=$(cluster_cpu)
        cb=$(echo "scale=4; 1000 * ($c1 - $c0) / $CPU_TXNS" | bc)
        cs=$(echo "scale=4; 1000 * ($c2 - $c1) / $CPU_TXNS" | bc)
        CPUB[$db]+="$cb "
        CPUS[$db]+="$cs "
        psql -d "$db" -c "VACUUM bulk" && psql -d postgres -c "CHECKPOINT"
        settle; c3=$(cluster_cpu)
        a=$(now)
        psql -d "$db" -c "UPDATE bulk SET price = price + 1 WHERE id <= 1000000"
        b=$(now)
        settle; c4=$(cluster_cpu)
        BULK[$db]+="$(echo "$b - $a" | bc) "
        CPUU[$db]+="$(echo "$c4 - $c3" | bc) "
        echo "round $round $db: TPC-B $t tps ($cb ms CPU/txn), select-only $s tps ($cs ms CPU/txn), bulk UPDATE $(echo "$b - $a" | bc) s ($(echo "$c4 - $c3" | bc) s CPU)"
    done
done

median() { printf '%s\n' $1 | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
echo "load after: $(uptime)"
echo
echo "| database | TPC-B tps | select-only tps | bulk UPDATE 1M of 3M rows | TPC-B server CPU/txn | select-only CPU/txn | bulk UPDATE CPU |"
echo "|---|---|---|---|---|---|---|"
P_B=$(median "${TPCB[plain]}"); P_S=$(median "${TPCS[plain]}"); P_U=$(median "${BULK[plain]}")
P_CB=$(median "${CPUB[plain]}"); P_CS=$(median "${CPUS[plain]}"); P_CU=$(median "${CPUU[plain]}")
for db in "${DBS[@]}"; do
    B=$(median "${TPCB[$db]}"); S=$(median "${TPCS[$db]}"); U=$(median "${BULK[$db]}")
    CB=$(median "${CPUB[$db]}"); CS=$(median "${CPUS[$db]}"); CU=$(median "${CPUU[$db]}")
    printf '| %s | %.0f (%.1f%%) | %.0f (%.1f%%) | %.2f s (%.2fx) | %.3f ms (%.2fx) | %.3f ms (%.2fx) | %.2f s (%.2fx) |\n' "$db" \
        "$B" "$(echo "100 * $B / $P_B" | bc -l)" "$S" "$(echo "100 * $S / $P_S" | bc -l)" "$U" "$(echo "$U / $P_U" | bc -l)" \
        "$CB" "$(echo "$CB / $P_CB" | bc -l)" "$CS" "$(echo "$CS / $P_CS" | bc -l)" "$CU" "$(echo "$CU / $P_CU" | bc -l)"
done
echo
echo "(median of $ROUNDS rounds; throughput: pgbench -c $CLIENTS -j 2 -T $SECONDS_PER; CPU: pgbench -c 1 -t $CPU_TXNS; scale $SCALE; $(nproc) cores)"
