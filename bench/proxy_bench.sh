#!/usr/bin/env bash
# dbguard proxy against PgBouncer, on one throwaway PostgreSQL cluster, in one run:
#   1. pgbench -S (select only) and the default TPC-B mix, -c 1 and -c 10, -M simple and
#      -M extended: direct to the server, through `dbguard proxy`, through PgBouncer (Debian's
#      pgbouncer package, session mode; installed here when missing). Reports tps, the mean
#      latency per transaction, and what each path adds per statement (TPC-B: 7 statements
#      per transaction, -S: 1).
#   2. DROP TABLE IF EXISTS of a missing table (the soft-drop path: analysis, the guard with
#      its audit-log fsync, the soft-drop statement on the server) against the same statement
#      sent direct, with a pgbench script.
#   3. `DROP TABLE` (soft-drop through the proxy, whole psql process) and `dbguard undrop` of a
#      table of about 1 GB (the undrop's own time and the whole process), 5 times each.
#   4. The proxy's resident memory with 100 idle connections (VmRSS and the peak, VmHWM).
#
# usage: bench/proxy_bench.sh [seconds per pgbench run, default 10]
# writes bench/out/proxy_bench.md (a Markdown section for docs/benchmarks.md) and prints it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECS=${1:-10}
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; fi
if ! command -v pgbouncer >/dev/null 2>&1 && [ ! -x /usr/sbin/pgbouncer ]; then
  echo "proxy_bench: installing pgbouncer" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends pgbouncer >/dev/null
fi
PGBOUNCER=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
command -v pgbench >/dev/null || { echo "pgbench missing (postgresql-client)" >&2; exit 1; }
[ -n "${BENCH_NO_BUILD:-}" ] || cargo build --release -p dbguard -q
BIN=$ROOT/target/release/dbguard
mkdir -p bench/out
OUT=$ROOT/bench/out/proxy_bench.md

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
WORK=$(mktemp -d /tmp/dbguard-proxy-bench.XXXXXX)
chmod 755 "$WORK"
# The server and PgBouncer refuse to run as root.
RUNAS=()
if [ "$(id -u)" = "0" ]; then
  chown postgres "$WORK" 2>/dev/null || chown nobody "$WORK"
  RUNAS=(runuser -u "$(stat -c %U "$WORK")" --)
fi
PG_PORT=$(free_port); PROXY_PORT=$(free_port); BOUNCER_PORT=$(free_port)
PROXY_PID=""; BOUNCER_PID=""
cleanup() {
  [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null || true
  [ -n "$BOUNCER_PID" ] && kill "$BOUNCER_PID" 2>/dev/null || true
  "${RUNAS[@]}" "$PGBIN/pg_ctl" -D "$WORK/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "proxy_bench: cluster on port $PG_PORT" >&2
"${RUNAS[@]}" "$PGBIN/initdb" -D "$WORK/data" -U postgres --auth=trust -E UTF8 --no-sync --locale=C >/dev/null
"${RUNAS[@]}" "$PGBIN/pg_ctl" -D "$WORK/data" -l "$WORK/pg.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories=$WORK -c max_connections=200 -c shared_buffers=128MB -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start >/dev/null
export PGUSER=postgres PGHOST=127.0.0.1
psql -X -q -p "$PG_PORT" -d postgres -c "CREATE DATABASE bench" >/dev/null
pgbench -q -i -s 10 -p "$PG_PORT" bench >/dev/null 2>&1

# PgBouncer, session mode, trust.
cat > "$WORK/pgbouncer.ini" <<EOF
[databases]
bench = host=127.0.0.1 port=$PG_PORT dbname=bench
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
unix_socket_dir =
auth_type = trust
auth_file = $WORK/userlist.txt
pool_mode = session
max_client_conn = 500
default_pool_size = 50
logfile = $WORK/pgbouncer.log
EOF
echo '"postgres" ""' > "$WORK/userlist.txt"
chown -R "$(stat -c %U "$WORK")" "$WORK" 2>/dev/null || true
"${RUNAS[@]}" "$PGBOUNCER" "$WORK/pgbouncer.ini" >/dev/null 2>&1 &
BOUNCER_PID=$!

# dbguard proxy, its own data dir (audit log) and no dbguard.toml.
export DBGUARD_HOME=$WORK/dbguard DBGUARD_CONFIG=none
"$BIN" proxy --listen "127.0.0.1:$PROXY_PORT" --upstream "postgres://127.0.0.1:$PG_PORT/bench" --json-log > "$WORK/proxy.log" 2>&1 &
PROXY_PID=$!
for port in "$BOUNCER_PORT" "$PROXY_PORT"; do
  for _ in $(seq 100); do psql -X -q -p "$port" -d bench -c "SELECT 1" >/dev/null 2>&1 && break; sleep 0.1; done
done

LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
RESULTS=$WORK/results.tsv
: > "$RESULTS"
run() { # name port workload clients mode
  local name=$1 port=$2 workload=$3 clients=$4 mode=$5 flag=""
  [ "$workload" = "select" ] && flag="-S"
  local jobs=$(( clients < 2 ? clients : 2 ))
  local out
  out=$(pgbench -n $flag -c "$clients" -j "$jobs" -M "$mode" -T "$SECS" -p "$port" bench 2>&1)
  local tps lat
  tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | tail -1)
  lat=$(echo "$out" | sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p')
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$workload" "$clients" "$mode" "$name" "$tps" "$lat" >> "$RESULTS"
  echo "  $workload -c $clients -M $mode $name: $tps tps, $lat ms" >&2
}
for workload in select tpcb; do
  for clients in 1 10; do
    for mode in simple extended; do
      # Interleaved so that a busy machine disturbs all three alike.
      run direct "$PG_PORT" "$workload" "$clients" "$mode"
      run proxy "$PROXY_PORT" "$workload" "$clients" "$mode"
      run pgbouncer "$BOUNCER_PORT" "$workload" "$clients" "$mode"
    done
  done
done

# The soft-drop path, per statement (the table never exists: each one is a full decision,
# audit-log entry and soft-drop statement that finds nothing to move).
echo 'DROP TABLE IF EXISTS dbguard_bench_missing;' > "$WORK/drop.sql"
softdrop() { # name port
  pgbench -n -f "$WORK/drop.sql" -c 1 -T "$SECS" -p "$2" bench 2>&1 | sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p'
}
DROP_DIRECT=$(softdrop direct "$PG_PORT")
DROP_PROXY=$(softdrop proxy "$PROXY_PORT")

# Undrop of a table of about 1 GB.
echo "proxy_bench: building a 1 GB table" >&2
psql -X -q -p "$PG_PORT" -d bench -c "CREATE TABLE big AS SELECT g AS id, md5(g::text) || repeat('x', 180) AS pad FROM generate_series(1, 4200000) g" >/dev/null
psql -X -q -p "$PG_PORT" -d bench -c "ALTER TABLE big ADD PRIMARY KEY (id); ANALYZE big" >/dev/null
BIG=$(psql -X -A -t -q -p "$PG_PORT" -d bench -c "SELECT pg_size_pretty(pg_total_relation_size('big'))")
UNDROPS=(); DROPS=()
for i in 1 2 3 4 5; do
  start=$(date +%s%N)
  psql -X -q -p "$PROXY_PORT" -d bench -c "DROP TABLE big" >/dev/null
  DROPS+=("$(( ($(date +%s%N) - start) / 1000000 ))")
  start=$(date +%s%N)
  ms=$("$BIN" undrop big --url "postgres://postgres@127.0.0.1:$PG_PORT/bench" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["elapsed_ms"])')
  end=$(date +%s%N)
  UNDROPS+=("$ms/$(( (end - start) / 1000000 ))")
done

# Memory with 100 idle connections.
python3 - "$PROXY_PORT" "$WORK/idle.pid" <<'PY' &
import os, socket, struct, sys, time
port = int(sys.argv[1])
socks = []
for _ in range(100):
    s = socket.create_connection(("127.0.0.1", port))
    body = struct.pack(">i", 196608) + b"user\0postgres\0database\0bench\0\0"
    s.sendall(struct.pack(">i", len(body) + 4) + body)
    buf = b""
    while not buf.endswith(b"Z\0\0\0\x05I"):
        buf += s.recv(65536)
    socks.append(s)
open(sys.argv[2], "w").write("ready")
time.sleep(30)
PY
IDLE_PID=$!
for _ in $(seq 300); do [ -f "$WORK/idle.pid" ] && break; sleep 0.1; done
sleep 1
RSS=$(awk '/VmRSS/{print $2}' "/proc/$PROXY_PID/status")
HWM=$(awk '/VmHWM/{print $2}' "/proc/$PROXY_PID/status")
kill "$IDLE_PID" 2>/dev/null || true

python3 - "$RESULTS" "$DROP_DIRECT" "$DROP_PROXY" "$BIG" "$RSS" "$HWM" "$LOAD" "$SECS" "${DROPS[*]}" "${UNDROPS[@]}" > "$OUT" <<'PY'
import sys, collections
results, drop_direct, drop_proxy, big, rss, hwm, load, secs, drops = sys.argv[1:10]
undrops = sys.argv[10:]
rows = collections.OrderedDict()
for line in open(results):
    workload, clients, mode, name, tps, lat = line.rstrip("\n").split("\t")
    rows.setdefault((workload, clients, mode), {})[name] = (float(tps or 0), float(lat or 0))
per_tx = {"select": 1, "tpcb": 7}
print(f"pgbench ({secs} s per run, scale 10, interleaved; load average at start {load}): tps, mean latency per")
print("transaction, and the latency each path adds per statement over direct.\n")
print("| workload | clients | mode | direct | dbguard proxy | PgBouncer | added/stmt: proxy | added/stmt: PgBouncer |")
print("|---|---|---|---|---|---|---|---|")
for (w, c, m), r in rows.items():
    d, p, b = r["direct"], r["proxy"], r["pgbouncer"]
    n = per_tx[w]
    cell = lambda x: f"{x[0]:.0f} tps, {x[1]:.3f} ms"
    add = lambda x: f"{(x[1] - d[1]) / n * 1000:+.0f} µs"
    name = "-S (select only)" if w == "select" else "TPC-B (default)"
    print(f"| {name} | {c} | {m} | {cell(d)} | {cell(p)} | {cell(b)} | {add(p)} | {add(b)} |")
print()
print(f"`DROP TABLE IF EXISTS` of a missing table, one client: direct {float(drop_direct):.3f} ms, through the proxy")
print(f"{float(drop_proxy):.3f} ms (analysis, the guard with its audit-log fsync, the soft-drop statement).\n")
print(f"`DROP TABLE` of that {big} table through the proxy (a soft-drop; the whole psql process, ms): {', '.join(drops.split())}.\n")
print(f"`dbguard undrop` of a {big} table, 5 times (undrop transaction / whole process, ms): {', '.join(undrops)}.\n")
print(f"Proxy memory with 100 idle sessions: VmRSS {int(rss) / 1024:.1f} MB, peak (VmHWM) {int(hwm) / 1024:.1f} MB.")
PY
cat "$OUT"
