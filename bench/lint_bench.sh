#!/usr/bin/env bash
# `dbguard lint` against squawk (PyPI squawk-cli 2.70) on the same migration folders, side by
# side in one run: wall-time medians of alternating runs, and dbguard's peak RSS.
#   corpus 1: 8 MB of ordinary migrations (bench/gen_migrations.py)
#   corpus 2: 8 MB where one statement in seven is a DO $$...$$ block and one in seven a
#             bounded UPDATE ... WHERE id = N (MIX=plpgsql), issue 12's comparison
# usage: bench/lint_bench.sh [MEGABYTES] [RUNS]     (BENCH_NO_BUILD=1 to skip the build)
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${1:-8}
RUNS=${2:-15}
[ "${BENCH_NO_BUILD:-}" = 1 ] || cargo build --release -p dbguard -q
BIN=target/release/dbguard
if ! squawk --version 2>/dev/null | grep -q '2\.70'; then
  python3 -m pip install -q --disable-pip-version-check 'squawk-cli==2.70.0' >/dev/null 2>&1 \
    || python3 -m pip install -q --disable-pip-version-check --user 'squawk-cli==2.70.0'
fi
SQUAWK=$(command -v squawk || echo "$HOME/.local/bin/squawk")
echo "squawk: $($SQUAWK --version)   dbguard: $($BIN --version)   cores: $(nproc)"

for mix in plain plpgsql; do
  OUT=bench/out/migrations_${MB}mb_${mix}
  if [ ! -d "$OUT" ]; then
    if [ $mix = plpgsql ]; then MIX=plpgsql python3 bench/gen_migrations.py "$OUT" "$MB" >/dev/null
    else python3 bench/gen_migrations.py "$OUT" "$MB" >/dev/null; fi
  fi
  find "$OUT" -name '*.sql' | sort > "$OUT.files"
  echo
  echo "== corpus $mix: $(du -sb "$OUT" | awk '{printf "%.1f MB", $1/1024/1024}') in $(wc -l < "$OUT.files") files"
  python3 - "$BIN" "$SQUAWK" "$OUT" "$RUNS" <<'PY'
import statistics, subprocess, sys, time
bin_, squawk, out, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
files = open(out + ".files").read().split()
cmds = {
    "dbguard lint": [bin_, "lint", "--format", "json", out],
    "dbguard lint (1 thread)": ["taskset", "-c", "0", bin_, "lint", "--format", "json", out],
    "squawk": [squawk] + files,
}
times = {k: [] for k in cmds}
for k, c in cmds.items():  # warm-up
    subprocess.run(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
for _ in range(runs):
    for k, c in cmds.items():
        t = time.perf_counter()
        subprocess.run(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times[k].append(time.perf_counter() - t)
med = {k: statistics.median(v) for k, v in times.items()}
for k, v in times.items():
    print(f"  {k:26s} median {med[k]*1000:8.1f} ms   min {min(v)*1000:8.1f} ms   ({runs} runs)")
print(f"  squawk / dbguard lint: {med['squawk'] / med['dbguard lint']:.1f}x"
      f"   (one thread: {med['squawk'] / med['dbguard lint (1 thread)']:.1f}x)")
PY
  /usr/bin/time -q -f "  dbguard peak RSS: %M kB" "$BIN" lint --format json "$OUT" >/dev/null || true
done
