#!/usr/bin/env bash
# Snapshot/restore benchmark (not a test). Starts a throwaway PostgreSQL cluster, loads a
# 5-million-row table (~750 MB, bench/gen_table.sql) and compares:
#   dbguard snapshot --tables big --strategy copy   vs  pg_dump -Fc -t big
#   dbguard restore of that snapshot                vs  createdb + pg_restore -j2
#   dbguard snapshot --strategy clone               vs  CREATE DATABASE ... TEMPLATE
# with wall time, output size and dbguard's peak RSS (/usr/bin/time -v).
# Usage: cargo build --release -p dbguard && bash bench/snapshot_bench.sh
#   BENCH_ONLY=clone   only the clone comparison (the table is still generated)
#   CLONE_RUNS=3       clone comparisons to run; the table shows the median of each time
#   BENCH_ONLY=restore only the snapshot and restore comparisons (no clone)
#   BENCH_ONLY=many_tables  instead of the big table: schemas of many ordinary tables
#                      (300 x 1,000 rows; 5,000 x 1 row), whole-database copy snapshot vs
#                      pg_dump -Fc, its restore and a clone's restore vs createdb + pg_restore
#                      -j2; MANY_RUNS=3 runs of each (medians), MANY_SHAPES="300x1000 5000x1"
#   RESTORE_RUNS=3     restore comparisons to run (median of each); every run adds, for the
#                      same data, the floor of any COPY-based restore on this machine:
#                      the server reading the uncompressed segments from local files
#                      (COPY FROM 'file', two sessions, no client, no network) and
#                      psql's \copy of them over TCP, each followed by the primary key
# A clone snapshot returns once the clone exists and is locked; its row counts and
# checksums are recorded right after by a background `dbguard snapshot-finish`, whose
# time (content_duration_ms in the manifest) is reported separately.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DBGUARD=${DBGUARD:-$ROOT/target/release/dbguard}
[ -x "$DBGUARD" ] || { echo "build first: cargo build --release -p dbguard" >&2; exit 1; }
BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/dbguard-bench.XXXXXX)
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

# The many-table shapes are small: less WAL kept between checkpoints (less disk).
MAX_WAL=4GB
[ "${BENCH_ONLY:-all}" = many_tables ] && MAX_WAL=1GB
"${RUNAS[@]}" "$BIN/initdb" -D "$WORK/data" -U postgres --auth=trust -E UTF8 --locale=C >/dev/null
"${RUNAS[@]}" "$BIN/pg_ctl" -D "$WORK/data" -l "$WORK/log" -w -o "-c listen_addresses=127.0.0.1 -p $PORT -c unix_socket_directories=$WORK -c shared_buffers=256MB -c max_wal_size=$MAX_WAL -c checkpoint_timeout=30min" start >/dev/null

export PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=postgres
URL="postgres://postgres@127.0.0.1:$PORT/bench"
export DBGUARD_HOME=$WORK/home
OUT=$WORK/out
mkdir -p "$OUT" "$DBGUARD_HOME"

psql() { "$BIN/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc; }
# Run a command under /usr/bin/time -v; sets T (seconds) and RSS (MB).
measure() {
    local log=$WORK/time.log
    local s e
    s=$(now)
    /usr/bin/time -v -o "$log" "$@" >"$WORK/cmd.out" 2>"$WORK/cmd.err" || { cat "$WORK/cmd.err" >&2; exit 1; }
    e=$(now)
    T=$(secs "$s" "$e")
    RSS=$(awk -F: '/Maximum resident/ {printf "%.0f", $2/1024}' "$log")
    CPU=$(awk -F: '/User time/ {u=$2} /System time/ {s=$2} END {printf "%.1f", u+s}' "$log")
    echo "   $1 ${2:-} ${3:-}: ${T} s wall, ${CPU} s CPU, ${RSS} MB peak RSS"
}
checkpoint() { psql -d postgres -c "CHECKPOINT" >/dev/null; sync; }

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
ratio() { echo "scale=2; $1 / $2" | bc; }

if [ "${BENCH_ONLY:-all}" = many_tables ]; then
# $1 tables, $2 rows each: database many_<tables>x<rows>, tables created 250 to a transaction
# (one transaction for all would outgrow the default lock table).
gen_many() {
    local db=$3 from
    psql -d postgres -c "CREATE DATABASE $db" >/dev/null
    for from in $(seq 1 250 "$1"); do
        psql -d "$db" -c "DO \$\$ BEGIN FOR i IN $from..LEAST($from + 249, $1) LOOP
            EXECUTE format('CREATE TABLE t%s (id bigserial PRIMARY KEY, account_id int NOT NULL, name text, amount numeric(12,2), created_at timestamptz NOT NULL DEFAULT now())', i);
            EXECUTE format('INSERT INTO t%s (account_id, name, amount) SELECT g %% 97, ''item '' || g, g * 1.5 FROM generate_series(1, %s) g', i, $2);
        END LOOP; END \$\$" >/dev/null
    done
    psql -d "$db" -c "ANALYZE" >/dev/null
}
MANY_RUNS=${MANY_RUNS:-1}
ROWS_OUT=""
for shape in ${MANY_SHAPES:-300x1000 5000x1}; do
    N=${shape%x*}; R=${shape#*x}; DB=many_$shape
    echo "== $N tables x $R rows"
    s=$(now); gen_many "$N" "$R" "$DB"; e=$(now)
    MURL="postgres://postgres@127.0.0.1:$PORT/$DB"
    echo "   generated in $(secs "$s" "$e") s, $(psql -d "$DB" -At -c "SELECT pg_size_pretty(pg_database_size('$DB'))")"
    DUMPS=(); SCHEMAS=(); COPIES=(); PGRS=(); RESTS=(); CRESTS=(); SREST=()
    for run in $(seq 1 "$MANY_RUNS"); do
        checkpoint
        measure "$BIN/pg_dump" -Fc -f "$OUT/$DB.dump" -d "$MURL"; DUMPS+=("$T")
        # The floor of a whole-database copy snapshot: it takes its DDL from one such run.
        measure "$BIN/pg_dump" -Fc --schema-only -f "$OUT/$DB.schema" -d "$MURL"; SCHEMAS+=("$T")
        checkpoint
        measure "$DBGUARD" snapshot --url "$MURL" --strategy copy --keep 1000 --json; COPIES+=("$T")
        COPY_ID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$WORK/cmd.out")
        checkpoint
        s=$(now)
        psql -d postgres -c "CREATE DATABASE pgr" >/dev/null
        "$BIN/pg_restore" -j2 -d "postgres://postgres@127.0.0.1:$PORT/pgr" "$OUT/$DB.dump"
        e=$(now); PGRS+=("$(secs "$s" "$e")")
        psql -d postgres -c "DROP DATABASE pgr" >/dev/null
        # The floor of a copy restore: it replays the same DDL (createdb, then the schema alone in
        # one transaction, as the restore batches it).
        checkpoint
        s=$(now)
        psql -d postgres -c "CREATE DATABASE pgs" >/dev/null
        "$BIN/pg_restore" --single-transaction -d "postgres://postgres@127.0.0.1:$PORT/pgs" "$OUT/$DB.schema"
        e=$(now); SREST+=("$(secs "$s" "$e")")
        psql -d postgres -c "DROP DATABASE pgs" >/dev/null
        checkpoint
        measure "$DBGUARD" restore "$COPY_ID" --url "$MURL" --to-database dbr --json; RESTS+=("$T")
        [ "$(psql -d dbr -At -c "SELECT count(*) FROM t$N")" = "$R" ] || { echo "restore lost rows" >&2; exit 1; }
        psql -d postgres -c "DROP DATABASE dbr" >/dev/null
        # Autovacuum may be analyzing the new tables: a clone needs the database to itself.
        "$DBGUARD" snapshot --url "$MURL" --strategy clone --terminate-sessions --wait-checksums --keep 1000 --json >"$WORK/clone.out"
        CLONE_ID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$WORK/clone.out")
        checkpoint
        measure "$DBGUARD" restore "$CLONE_ID" --url "$MURL" --to-database dbc --json; CRESTS+=("$T")
        psql -d postgres -c "DROP DATABASE dbc" >/dev/null
        "$DBGUARD" prune --keep 1 --url "$MURL" --json >/dev/null 2>&1 || true
        echo "   run $run: pg_dump -Fc ${DUMPS[-1]} s, copy snapshot ${COPIES[-1]} s; pg_restore -j2 ${PGRS[-1]} s, copy restore ${RESTS[-1]} s (schema alone ${SREST[-1]} s), clone restore ${CRESTS[-1]} s"
    done
    D=$(median "${DUMPS[@]}"); S=$(median "${SCHEMAS[@]}"); C=$(median "${COPIES[@]}"); P=$(median "${PGRS[@]}")
    RS=$(median "${RESTS[@]}"); CR=$(median "${CRESTS[@]}"); SR=$(median "${SREST[@]}")
    ROWS_OUT+="| $N tables x $R rows: copy snapshot (${COPIES[*]}) | $C s | pg_dump -Fc (${DUMPS[*]}): $D s | $(ratio "$D" "$C")x faster |
| $N tables x $R rows: floor, pg_dump -Fc --schema-only (${SCHEMAS[*]}) | | $S s | copy snapshot / floor: $(ratio "$C" "$S")x |
| $N tables x $R rows: restore of the copy snapshot (${RESTS[*]}) | $RS s | createdb + pg_restore -j2 (${PGRS[*]}): $P s | $(ratio "$P" "$RS")x faster |
| $N tables x $R rows: floor, createdb + pg_restore --single-transaction of the schema alone (${SREST[*]}) | | $SR s | copy restore / floor: $(ratio "$RS" "$SR")x |
| $N tables x $R rows: restore of a clone snapshot (${CRESTS[*]}) | $CR s | createdb + pg_restore -j2: $P s | $(ratio "$P" "$CR")x faster |
"
    psql -d postgres -c "DROP DATABASE $DB" >/dev/null
done
cat <<TABLE

| measurement (median of $MANY_RUNS) | dbguard | baseline | ratio |
| --- | --- | --- | --- |
$ROWS_OUT
TABLE
exit 0
fi

echo "== generating 5,000,000 rows"
psql -d postgres -c "CREATE DATABASE bench"
s=$(now); psql -d bench -f "$ROOT/bench/gen_table.sql" >/dev/null; e=$(now)
SIZE=$(psql -d bench -At -c "SELECT pg_size_pretty(pg_total_relation_size('big'))")
TABLE_ONLY=$(psql -d bench -At -c "SELECT pg_size_pretty(pg_relation_size('big'))")
echo "   table: $SIZE with its primary key ($TABLE_ONLY heap), generated in $(secs "$s" "$e") s"
checkpoint

BENCH_ONLY=${BENCH_ONLY:-all}
CLONE_RUNS=${CLONE_RUNS:-1}
RESTORE_RUNS=${RESTORE_RUNS:-1}
if [ "$BENCH_ONLY" != clone ]; then
echo "== table snapshot"
measure "$BIN/pg_dump" -Fc -t big -f "$OUT/big.dump" -d "$URL"
PGDUMP_T=$T; PGDUMP_SIZE=$(stat -c %s "$OUT/big.dump")
measure "$DBGUARD" snapshot --url "$URL" --tables big --strategy copy --json
COPY_T=$T; COPY_RSS=$RSS
COPY_ID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$WORK/cmd.out")
COPY_SIZE=$(du -sb "$DBGUARD_HOME/snapshots/$COPY_ID" | cut -f1)
checkpoint

echo "== restore ($RESTORE_RUNS run(s))"
# The floor: the snapshot's segments, uncompressed, readable by the server.
RAW=$WORK/raw
mkdir -p "$RAW"
for f in "$DBGUARD_HOME/snapshots/$COPY_ID"/*.copy.zst; do
    zstd -q -d -f "$f" -o "$RAW/$(basename "$f" .zst)"
done
chmod 755 "$RAW"; chmod 644 "$RAW"/*
[ -n "${RUNAS[*]}" ] && chown -R "$U" "$RAW"
DDL=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(";".join(d["tables"][0]["pre"][1:]))' "$DBGUARD_HOME/snapshots/$COPY_ID/ddl.json")
# Two sessions, the segments of each ctid half (p0, p1) in one of them, as dbguard does.
floor_load() { # $1 database, $2 "server" or "client"
    local p pids=() f
    psql -d "$1" -c "$DDL"
    for p in p0 p1; do
        for f in "$RAW"/*"$p".*.copy; do
            if [ "$2" = server ]; then echo "COPY big FROM '$f' (FORMAT binary);"; else echo "\\copy big FROM '$f' (FORMAT binary)"; fi
        done > "$WORK/load_$p.sql"
        psql -d "$1" -f "$WORK/load_$p.sql" & pids+=($!)
    done
    wait "${pids[@]}"
    psql -d "$1" -c "SET maintenance_work_mem = '256MB'" -c "ALTER TABLE big ADD PRIMARY KEY (id)"
}
PGRS=(); RESTS=(); FLOORS=(); TCPS=()
for run in $(seq 1 "$RESTORE_RUNS"); do
    checkpoint
    s=$(now)
    psql -d postgres -c "CREATE DATABASE pgr" >/dev/null
    "$BIN/pg_restore" -j2 -d "postgres://postgres@127.0.0.1:$PORT/pgr" "$OUT/big.dump"
    e=$(now); PGRS+=("$(secs "$s" "$e")")
    psql -d postgres -c "DROP DATABASE pgr" >/dev/null
    checkpoint
    measure "$DBGUARD" restore "$COPY_ID" --url "$URL" --to-database dbr --json
    RESTS+=("$T"); RESTORE_RSS=$RSS
    [ "$(psql -d dbr -At -c 'SELECT count(*) FROM big')" = 5000000 ] || { echo "restore lost rows" >&2; exit 1; }
    psql -d postgres -c "DROP DATABASE dbr" >/dev/null
    checkpoint
    s=$(now); psql -d postgres -c "CREATE DATABASE fl" >/dev/null; floor_load fl server; e=$(now)
    FLOORS+=("$(secs "$s" "$e")")
    psql -d postgres -c "DROP DATABASE fl" >/dev/null
    checkpoint
    s=$(now); psql -d postgres -c "CREATE DATABASE fl" >/dev/null; floor_load fl client; e=$(now)
    TCPS+=("$(secs "$s" "$e")")
    psql -d postgres -c "DROP DATABASE fl" >/dev/null
    echo "   run $run: pg_restore ${PGRS[-1]} s, dbguard ${RESTS[-1]} s, floor: server-side ${FLOORS[-1]} s, psql \\copy over TCP ${TCPS[-1]} s"
done
PGRESTORE_T=$(median "${PGRS[@]}"); RESTORE_T=$(median "${RESTS[@]}")
FLOOR_T=$(median "${FLOORS[@]}"); TCP_T=$(median "${TCPS[@]}")
checkpoint
fi

mb() { echo "scale=1; $1 / 1048576" | bc; }
RESTORE_ROWS="| restore into a new database (median of $RESTORE_RUNS: ${RESTS[*]:-}) | ${RESTORE_T:-} s | createdb + pg_restore -j2 (${PGRS[*]:-}): ${PGRESTORE_T:-} s | $(ratio "${PGRESTORE_T:-0}" "${RESTORE_T:-1}")x faster | >= 2x |
| floor: server-side COPY FROM files, 2 sessions, + primary key (${FLOORS[*]:-}) | ${FLOOR_T:-} s | | pg_restore / floor: $(ratio "${PGRESTORE_T:-0}" "${FLOOR_T:-1}")x | |
| floor: psql \\copy of the uncompressed segments over TCP, 2 sessions, + primary key (${TCPS[*]:-}) | ${TCP_T:-} s | | pg_restore / this: $(ratio "${PGRESTORE_T:-0}" "${TCP_T:-1}")x | |"
if [ "$BENCH_ONLY" = restore ]; then
cat <<TABLE

| measurement | dbguard | baseline | ratio | target |
| --- | --- | --- | --- | --- |
| table snapshot, 5M rows ($SIZE) | copy: ${COPY_T} s, $(mb "$COPY_SIZE") MB | pg_dump -Fc -t: ${PGDUMP_T} s, $(mb "$PGDUMP_SIZE") MB | $(ratio "$PGDUMP_T" "$COPY_T")x faster, size $(ratio "$COPY_SIZE" "$PGDUMP_SIZE")x | >= 4x faster, size <= 1x |
$RESTORE_ROWS
| peak RSS of dbguard | copy ${COPY_RSS} MB, restore ${RESTORE_RSS} MB | | | <= 200 MB |
TABLE
exit 0
fi

echo "== clone ($CLONE_RUNS run(s))"
# Wait until the background pass has recorded the snapshot's checksums; prints its time (s).
wait_content() {
    local m=$DBGUARD_HOME/snapshots/$1/manifest.json i
    for i in $(seq 1 600); do
        if [ -f "$m" ] && ! grep -q '"content": "pending"' "$m"; then
            python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print("%.2f" % (m.get("content_duration_ms",0)/1000), len(m["tables"]), sum(t["rows"] for t in m["tables"]))' "$m"
            return 0
        fi
        sleep 0.1
    done
    echo "checksums of $1 not recorded after 60 s" >&2; exit 1
}
BARES=(); CLONES=(); FINISHES=(); CLONE_RSS=0
for run in $(seq 1 "$CLONE_RUNS"); do
    checkpoint
    s=$(now); psql -d postgres -c "CREATE DATABASE bare TEMPLATE bench STRATEGY FILE_COPY" >/dev/null; e=$(now)
    BARES+=("$(secs "$s" "$e")")
    echo "   run $run: bare CREATE DATABASE ... TEMPLATE: ${BARES[-1]} s"
    psql -d postgres -c "DROP DATABASE bare" >/dev/null
    checkpoint
    measure "$DBGUARD" snapshot --url "$URL" --strategy clone --json
    CLONES+=("$T"); CLONE_RSS=$RSS
    CLONE_ID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$WORK/cmd.out")
    read -r FIN TABLES ROWS < <(wait_content "$CLONE_ID")
    FINISHES+=("$FIN")
    echo "   run $run: background checksums: $FIN s ($TABLES table(s), $ROWS rows)"
    [ "$ROWS" = 5000000 ] || { echo "checksum pass counted $ROWS rows" >&2; exit 1; }
    # Between runs, drop the older clones (outside the measured time).
    "$DBGUARD" prune --keep 1 --url "$URL" --json >/dev/null
done
BARE_T=$(median "${BARES[@]}"); CLONE_T=$(median "${CLONES[@]}"); FINISH_T=$(median "${FINISHES[@]}")
checkpoint
# For comparison: the same snapshot waiting for its checksums (what it used to cost).
measure "$DBGUARD" snapshot --url "$URL" --strategy clone --wait-checksums --keep 2 --json
WAIT_T=$T
CLONE_ID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$WORK/cmd.out")
checkpoint
measure "$DBGUARD" restore "$CLONE_ID" --url "$URL" --to-database fromclone --json
CLONE_RESTORE_T=$T

if [ "$BENCH_ONLY" = clone ]; then
cat <<TABLE

| measurement (median of $CLONE_RUNS) | dbguard | baseline | ratio | target |
| --- | --- | --- | --- | --- |
| whole-database snapshot ($CLONE_RUNS runs: ${CLONES[*]}) | clone: ${CLONE_T} s | CREATE DATABASE TEMPLATE (${BARES[*]}): ${BARE_T} s | $(ratio "$CLONE_T" "$BARE_T")x | <= 1.5x |
| background row counts + checksums (${FINISHES[*]}) | ${FINISH_T} s | | | |
| clone with --wait-checksums (one run) | ${WAIT_T} s | | | |
| restore of the clone | ${CLONE_RESTORE_T} s | | | |
| peak RSS of dbguard | clone ${CLONE_RSS} MB | | | <= 200 MB |
TABLE
exit 0
fi
cat <<TABLE

| measurement | dbguard | baseline | ratio | target |
| --- | --- | --- | --- | --- |
| table snapshot, 5M rows ($SIZE) | copy: ${COPY_T} s, $(mb "$COPY_SIZE") MB | pg_dump -Fc -t: ${PGDUMP_T} s, $(mb "$PGDUMP_SIZE") MB | $(ratio "$PGDUMP_T" "$COPY_T")x faster, size $(ratio "$COPY_SIZE" "$PGDUMP_SIZE")x | >= 4x faster, size <= 1x |
$RESTORE_ROWS
| whole-database snapshot | clone: ${CLONE_T} s | CREATE DATABASE TEMPLATE: ${BARE_T} s | $(ratio "$CLONE_T" "$BARE_T")x | <= 1.5x |
| background row counts + checksums of the clone | ${FINISH_T} s | | | |
| restore of the clone | ${CLONE_RESTORE_T} s | | | |
| peak RSS of dbguard | copy ${COPY_RSS} MB, restore ${RESTORE_RSS} MB, clone ${CLONE_RSS} MB | | | <= 200 MB |
TABLE
