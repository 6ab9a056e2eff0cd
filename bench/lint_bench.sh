#!/usr/bin/env bash
# `dbguard lint` on 8 MB of generated migration SQL: wall time and peak RSS.
# usage: bench/lint_bench.sh [MEGABYTES]
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${1:-8}
cargo build --release -p dbguard -q
OUT=bench/out/migrations_${MB}mb
[ -d "$OUT" ] || python3 bench/gen_migrations.py "$OUT" "$MB"
du -sb "$OUT" | awk '{printf "input: %.1f MB\n", $1/1024/1024}'
for i in 1 2 3; do
  /usr/bin/time -f "run $i: %e s wall, %M kB peak RSS" target/release/dbguard lint --format json "$OUT" >/dev/null || true
done
