#!/usr/bin/env python3
"""Generate a folder of migration SQL for the lint benchmark.

Mostly what real migration histories hold (CREATE TABLE, multi-row INSERT seed
data, ALTER TABLE ADD COLUMN, CREATE INDEX, bounded UPDATE/DELETE), with about one
destructive statement in 200 (DROP TABLE, TRUNCATE, DELETE without WHERE, DROP
COLUMN, ALTER COLUMN TYPE). Deterministic for a given seed.

With MIX=plpgsql in the environment, one statement in seven is a `DO $$ ... $$`
block (the shapes Drizzle and hand-written data migrations use: enum and foreign-key
guards, backfill loops, conditional DDL) and one in seven a bounded
`UPDATE ... WHERE id = N`: the corpus of issue 12's lint comparison with squawk.

usage: gen_migrations.py OUT_DIR [MEGABYTES] [SEED]
"""
import os
import random
import sys

out = sys.argv[1]
target = int(float(sys.argv[2] if len(sys.argv) > 2 else 8) * 1024 * 1024)
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 42)
os.makedirs(out, exist_ok=True)
MIX = os.environ.get("MIX", "")

TYPES = ["bigint", "integer", "text", "varchar(255)", "timestamptz", "boolean", "numeric(12,2)", "jsonb", "uuid"]
tables = []
written = 0
n_file = 0


def create_table(i):
    name = f"t_{i}"
    cols = [f"  id bigserial PRIMARY KEY"]
    for c in range(rng.randint(3, 10)):
        cols.append(f"  c{c} {rng.choice(TYPES)}{' NOT NULL' if rng.random() < 0.3 else ''}")
    tables.append(name)
    return f"CREATE TABLE {name} (\n" + ",\n".join(cols) + "\n);\n"


def insert(t):
    rows = ",\n".join(
        f"  ({rng.randint(1, 10**9)}, 'value {rng.randint(0, 10**6)}', now(), {str(rng.random() < 0.5).lower()})"
        for _ in range(rng.randint(20, 80))
    )
    return f"INSERT INTO {t} (c0, c1, c2, c3) VALUES\n{rows};\n"


def do_block(i):
    t = rng.choice(tables)
    shape = rng.randrange(5)
    if shape == 0:
        return (f'DO $$ BEGIN\n CREATE TYPE "public"."status_{i}" AS ENUM(\'draft\', \'live\', \'gone\');\n'
                f'EXCEPTION\n WHEN duplicate_object THEN null;\nEND $$;\n')
    if shape == 1:
        other = rng.choice(tables)
        return (f'DO $$ BEGIN\n ALTER TABLE "{t}" ADD CONSTRAINT "{t}_fk_{i}" FOREIGN KEY ("c0") '
                f'REFERENCES "public"."{other}"("id") ON DELETE cascade ON UPDATE no action;\n'
                f'EXCEPTION\n WHEN duplicate_object THEN null;\nEND $$;\n')
    if shape == 2:
        return (f"DO $$\nDECLARE r record;\nBEGIN\n  FOR r IN SELECT id FROM {t} WHERE c1 IS NULL LOOP\n"
                f"    UPDATE {t} SET c1 = 'backfilled' WHERE id = r.id;\n  END LOOP;\nEND $$;\n")
    if shape == 3:
        return (f"DO $$\nBEGIN\n  IF NOT EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = 'idx_do_{i}') THEN\n"
                f"    CREATE INDEX idx_do_{i} ON {t} (c0);\n  END IF;\nEND\n$$;\n")
    return (f"DO $body$\nDECLARE n bigint;\nBEGIN\n  SELECT count(*) INTO n FROM {t};\n"
            f"  RAISE NOTICE 'rows in {t}: %', n;\n  PERFORM pg_sleep(0);\nEND\n$body$ LANGUAGE plpgsql;\n")


def statement(i):
    if MIX == "plpgsql" and tables:
        r = rng.random()
        if r < 1 / 7:
            return do_block(i)
        if r < 2 / 7:
            t = rng.choice(tables)
            return f"UPDATE {t} SET c1 = 'y', c3 = true WHERE id = {rng.randint(1, 100000)};\n"
    r = rng.random()
    if r < 0.005 and tables:
        t = rng.choice(tables)
        return rng.choice([
            f"DROP TABLE {t};\n",
            f"TRUNCATE {t};\n",
            f"DELETE FROM {t};\n",
            f"ALTER TABLE {t} DROP COLUMN c1;\n",
            f"ALTER TABLE {t} ALTER COLUMN c0 TYPE smallint;\n",
        ])
    if r < 0.10 or not tables:
        return create_table(i)
    if r < 0.75:
        return insert(rng.choice(tables))
    if r < 0.87:
        return f"ALTER TABLE {rng.choice(tables)} ADD COLUMN extra_{i} text DEFAULT 'x';\n"
    if r < 0.95:
        t = rng.choice(tables)
        return f"CREATE INDEX idx_{i} ON {t} (c0);\n"
    t = rng.choice(tables)
    return f"UPDATE {t} SET c1 = 'y' WHERE id = {rng.randint(1, 1000)};\n"


i = 0
while written < target:
    n_file += 1
    d = os.path.join(out, f"{20240101000000 + n_file}_migration_{n_file}")
    os.makedirs(d, exist_ok=True)
    parts = []
    size = 0
    while size < 64 * 1024 and written + size < target:
        s = statement(i)
        i += 1
        parts.append(s)
        size += len(s)
    with open(os.path.join(d, "migration.sql"), "w") as f:
        f.write("".join(parts))
    written += size
print(f"wrote {written} bytes, {i} statements, {n_file} files into {out}")
