#!/usr/bin/env bash
# Whole-process timing of `dbguard check` for the commands whose recognizers read files
# (issue 12, classes 2 and 3): terraform reading a configuration of 40 resources in 4
# files plus a local module, `rm -r` looking through a tree of ~600 entries with an SQLite
# file in it, `git clean -fdx` (walk + one `git ls-files`), and the same tools where
# nothing is read (`terraform plan`, `rm -rf node_modules`, an `aws` delete), next to
# `ls -la` as the floor. Release build, hyperfine. Prints medians in ms.
#
# usage: bench/infra_bench.sh   (writes bench/out/infra.json)
#        DBGUARD_BIN=target/debug/dbguard RUNS=50 bench/infra_bench.sh   (another binary, fewer runs)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { apt-get install -y -qq hyperfine >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null); }
if [ -n "${DBGUARD_BIN:-}" ]; then
  BIN=$(realpath "$DBGUARD_BIN")
else
  cargo build --release -p dbguard -q
  BIN=$PWD/target/release/dbguard
fi
RUNS=${RUNS:-200}
OUT=$PWD/bench/out
mkdir -p "$OUT"
cd "$(mktemp -d)"
export DBGUARD_CONFIG=none DBGUARD_HOME=$PWD/.home
# A Terraform configuration: 4 files x 10 resources, one database, a local module with another.
for f in network compute storage database; do
  for i in $(seq 1 10); do
    printf 'resource "aws_security_group" "%s_%s" {\n  name = "%s-%s"\n  vpc_id = aws_vpc.main.id\n}\n' "$f" "$i" "$f" "$i"
  done > "$f.tf"
done
printf 'resource "aws_vpc" "main" { cidr_block = "10.0.0.0/16" }\nresource "aws_db_instance" "main" {\n  identifier = "shop"\n  vpc_security_group_ids = [aws_security_group.database_1.id]\n}\nmodule "cache" { source = "./modules/cache" }\n' >> database.tf
mkdir -p modules/cache && printf 'resource "aws_elasticache_cluster" "this" { cluster_id = "c" }\n' > modules/cache/main.tf
# A tree of ~600 entries with one SQLite file deep inside, and a node_modules beside it.
for d in $(seq 1 20); do
  mkdir -p "data/d$d/sub"
  for f in $(seq 1 12); do echo "x $d $f" > "data/d$d/sub/f$f.txt"; done
  for f in $(seq 1 12); do head -c 700 /dev/zero > "data/d$d/b$f.bin"; done
done
sqlite3 data/d7/sub/app.db 'CREATE TABLE t (x); INSERT INTO t VALUES (1);'
mkdir -p node_modules/pkg && echo x > node_modules/pkg/index.js
git init -q . && printf 'data/\nnode_modules/\n' > .gitignore
hyperfine -N --warmup 10 --runs "$RUNS" --export-json "$OUT/infra.json" -i \
  -n 'check: ls -la' "$BIN check 'ls -la'" \
  -n 'check: terraform plan' "$BIN check 'terraform plan'" \
  -n 'check: terraform destroy (41 resources, 5 files)' "$BIN check 'terraform destroy -auto-approve'" \
  -n 'check: aws rds delete-db-instance' "$BIN check 'aws rds delete-db-instance --db-instance-identifier shop'" \
  -n 'check: rm -rf node_modules' "$BIN check 'rm -rf node_modules'" \
  -n 'check: rm -rf data (~600 entries)' "$BIN check 'rm -rf data'" \
  -n 'check: git clean -fdx' "$BIN check 'git clean -fdx'" \
  >/dev/null
python3 - "$OUT/infra.json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(f"{r['command']:50s} median {r['median']*1000:6.2f} ms  mean {r['mean']*1000:6.2f} ms  (n={len(r['times'])})")
PY
