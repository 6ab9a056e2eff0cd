//! End to end: `dbguard migrate` on plain SQL folders with an apply command configured in
//! dbguard.toml (scenario 9): a PostgreSQL project whose command runs psql, and an SQLite
//! project of dbmate-style files (`-- migrate:up` / `-- migrate:down`) whose command runs
//! sqlite3; status, plan (rehearsed on a copy) and apply, as an agent runs them. Plus the
//! bad inputs: an unknown tool, no schema file, a broken schema, an unreachable server.

mod e2e_support;
mod migrate_support;

use std::path::Path;

use e2e_support::{describe, World};
use migrate_support::{agent, agent_ok, scratch_dbs, PG_APPLY};

/// The same runner for SQLite with dbmate-style files (only the up section is applied).
const SQLITE_APPLY: &str = r#"set -e
db=${DATABASE_URL#sqlite:}
sqlite3 "$db" 'CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY)'
for f in migrations/*.sql; do
  v=$(basename "$f" .sql); v=${v%%_*}
  if [ -z "$(sqlite3 "$db" "SELECT 1 FROM schema_migrations WHERE version = '$v'")" ]; then
    { echo 'BEGIN;'; awk '/^-- migrate:up/{u=1;next} /^-- migrate:down/{u=0} u' "$f"; echo "INSERT INTO schema_migrations VALUES ('$v'); COMMIT;"; } | sqlite3 "$db"
  fi
done
"#;

fn write(dir: &Path, name: &str, text: &str) {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn config(world: &World, apply_script: &Path) {
    world.set_config(&format!(
        "[migrate]\ntool = \"sql\"\ndir = \"migrations\"\napply = \"sh {}\"\n",
        apply_script.display()
    ));
}

#[test]
fn scenario_9_plain_sql_on_postgres() {
    let cluster = &testpg::Cluster::start();
    let project = tempfile::tempdir().unwrap();
    let dir = project.path();
    write(
        dir,
        "migrations/001_users.sql",
        "CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL);\n",
    );
    write(
        dir,
        "migrations/002_posts.sql",
        "CREATE TABLE posts (id serial PRIMARY KEY, title text);\n",
    );
    write(dir, "apply.sh", PG_APPLY);
    let db = cluster.create_db("mig_plain");
    let world = World::new().env("DATABASE_URL", &cluster.url(&db));
    config(&world, &dir.join("apply.sh"));

    let v = agent_ok(&world, dir, &["migrate", "status", "--json"], 0);
    assert_eq!(v["pending"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(v["tool"], "sql", "{v}");
    let v = agent_ok(&world, dir, &["migrate", "apply", "--json"], 0);
    assert_eq!(v["result"], "applied", "{v}");
    cluster.psql(
        &db,
        "INSERT INTO users (email) VALUES ('a@x'), ('b@x'); INSERT INTO posts (title) VALUES ('t')",
    );

    // A destructive one: plan measures it and rehearses it on a copy; apply needs approval.
    write(dir, "migrations/003_drop_posts.sql", "DROP TABLE posts;\n");
    let out = agent(&world, dir, &["migrate", "plan", "--json"]);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let p = e2e_support::json(&out);
    assert_eq!(p["pending"][0]["findings"][0]["kind"], "drop_table", "{p}");
    assert_eq!(p["rehearsal"]["ok"], true, "{p}");
    assert!(p["rehearsal"]["copy"].as_str().unwrap().contains("TEMPLATE"), "{p}");
    assert_eq!(
        cluster.psql(&db, "SELECT count(*) FROM posts"),
        "1",
        "the plan touched the database"
    );
    let v = agent_ok(&world, dir, &["migrate", "apply", "--json"], 3);
    assert_eq!(v["result"], "needs_approval", "{v}");

    // A non-destructive one alongside is fine once the destructive one is gone.
    std::fs::remove_file(dir.join("migrations/003_drop_posts.sql")).unwrap();
    write(
        dir,
        "migrations/003_index.sql",
        "CREATE INDEX users_email ON users (email);\n",
    );
    let v = agent_ok(&world, dir, &["migrate", "apply", "--json"], 0);
    assert_eq!(v["result"], "applied", "{v}");
    let v = agent_ok(&world, dir, &["migrate", "status", "--json"], 0);
    assert_eq!(v["clean"], true, "{v}");
    assert_eq!(v["applied"].as_array().unwrap().len(), 3, "{v}");
    assert_eq!(cluster.psql(&db, "SELECT count(*) FROM users"), "2");

    // A version recorded but no longer in the folder.
    std::fs::remove_file(dir.join("migrations/003_index.sql")).unwrap();
    let v = agent_ok(&world, dir, &["migrate", "status", "--json", "--no-drift"], 3);
    assert_eq!(v["missing"][0], "003", "{v}");
    assert!(scratch_dbs(cluster).is_empty(), "{:?}", scratch_dbs(cluster));
}

#[test]
fn scenario_9_sqlite_with_dbmate_files() {
    let project = tempfile::tempdir().unwrap();
    let dir = project.path();
    write(
        dir,
        "migrations/20240101000000_users.sql",
        "-- migrate:up\nCREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, bio TEXT);\n\n-- migrate:down\nDROP TABLE users;\n",
    );
    write(dir, "apply.sh", SQLITE_APPLY);
    let world = World::new().env("DATABASE_URL", "sqlite:app.db");
    config(&world, &dir.join("apply.sh"));

    let v = agent_ok(&world, dir, &["migrate", "status", "--json"], 0);
    assert_eq!(v["pending"][0], "20240101000000_users.sql", "{v}");
    let v = agent_ok(&world, dir, &["migrate", "apply", "--json"], 0);
    assert_eq!(v["result"], "applied", "{v}");
    let conn = rusqlite::Connection::open(dir.join("app.db")).unwrap();
    conn.execute_batch("INSERT INTO users (email, bio) VALUES ('a@x', 'hi'), ('b@x', NULL)")
        .unwrap();
    drop(conn);

    // Adding a column: the `down` section (DROP TABLE) is not what is applied.
    write(
        dir,
        "migrations/20240102000000_status.sql",
        "-- migrate:up\nALTER TABLE users ADD COLUMN status TEXT;\n\n-- migrate:down\nALTER TABLE users DROP COLUMN status;\n",
    );
    let v = agent_ok(&world, dir, &["migrate", "plan", "--json"], 0);
    assert_eq!(v["rehearsal"]["ok"], true, "{v}");
    assert!(v["rehearsal"]["copy"].as_str().unwrap().contains("backup API"), "{v}");
    assert!(v["pending"][0]["findings"].as_array().unwrap().is_empty(), "{v}");
    let v = agent_ok(&world, dir, &["migrate", "apply", "--json"], 0);
    assert_eq!(v["result"], "applied", "{v}");
    assert!(v["guarded"]["snapshot"]["id"].is_string(), "{v}");
    let v = agent_ok(&world, dir, &["migrate", "status", "--json"], 0);
    assert_eq!(v["clean"], true, "{v}");
    assert_eq!(v["drift"]["checked"], true, "{v}");

    // Drift: a column added by hand.
    let conn = rusqlite::Connection::open(dir.join("app.db")).unwrap();
    conn.execute_batch("ALTER TABLE users ADD COLUMN sneaky INTEGER")
        .unwrap();
    drop(conn);
    let v = agent_ok(&world, dir, &["migrate", "status", "--json"], 3);
    assert!(v["issues"].to_string().contains("sneaky"), "{v}");

    // Destructive: needs approval; the data stays.
    write(
        dir,
        "migrations/20240103000000_drop_bio.sql",
        "-- migrate:up\nALTER TABLE users DROP COLUMN bio;\n",
    );
    let conn = rusqlite::Connection::open(dir.join("app.db")).unwrap();
    conn.execute_batch("ALTER TABLE users DROP COLUMN sneaky").unwrap();
    drop(conn);
    let v = agent_ok(&world, dir, &["migrate", "apply", "--json"], 3);
    assert_eq!(v["result"], "needs_approval", "{v}");
    let conn = rusqlite::Connection::open(dir.join("app.db")).unwrap();
    let bios: i64 = conn
        .query_row("SELECT count(bio) FROM users", [], |r| r.get(0))
        .unwrap();
    assert_eq!(bios, 1);
}

#[test]
fn bad_input_gets_a_clear_error_and_leaves_nothing() {
    let cluster = &testpg::Cluster::start();
    let world = World::new().env("DATABASE_URL", &cluster.url("postgres"));

    // An unknown tool.
    let project = tempfile::tempdir().unwrap();
    world.set_config("[migrate]\ntool = \"flyway\"\n");
    let out = agent(&world, project.path(), &["migrate", "status"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is not a tool dbguard migrate knows"),
        "{}",
        describe(&out)
    );
    world.set_config("");

    // Nothing to migrate with.
    let out = agent(&world, project.path(), &["migrate", "new", "x"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no migrations setup found"),
        "{}",
        describe(&out)
    );

    // prisma.config.ts without a schema file.
    write(
        project.path(),
        "prisma.config.ts",
        "export default { schema: 'prisma/schema.prisma' }\n",
    );
    let out = agent(&world, project.path(), &["migrate", "status"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no Prisma schema was found"),
        "{}",
        describe(&out)
    );

    // A broken schema: Prisma's own error, nothing written, no scratch database left.
    let e2e = e2e_support::Project::new("mig_broken", &["prisma", "prisma.config.ts"]);
    std::fs::write(
        e2e.dir.join("prisma/schema.prisma"),
        "datasource db {\n  provider = \"postgresql\"\n  url = env(\"DATABASE_URL\")\n}\nmodel User {\n  id Int @id\n  email Strin\n}\n",
    )
    .unwrap();
    let before = migrate_support::entries(&e2e.dir.join("prisma/migrations"));
    let out = agent(&world, &e2e.dir, &["migrate", "new", "x"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    // (tests/e2e's prisma.config.ts unrefs Prisma's timers, and an invalid schema then ends
    // the diff without a word: dbguard takes no output as "unknown", never "no change".)
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Strin") || err.contains("prisma validate"),
        "{}",
        describe(&out)
    );
    assert_eq!(migrate_support::entries(&e2e.dir.join("prisma/migrations")), before);
    assert!(scratch_dbs(cluster).is_empty(), "{:?}", scratch_dbs(cluster));

    // A role without CREATEDB: the scratch database goes to a private temporary cluster of
    // the same PostgreSQL version, which is gone afterwards.
    cluster.psql("postgres", "CREATE ROLE app_nocreate LOGIN PASSWORD 'pw'");
    let app_db = cluster.create_db("mig_nocreate");
    cluster.psql(&app_db, "ALTER SCHEMA public OWNER TO app_nocreate");
    let plain = tempfile::tempdir().unwrap();
    write(plain.path(), "migrations/001_t.sql", "CREATE TABLE t (id int);\n");
    write(plain.path(), "apply.sh", PG_APPLY);
    let limited = World::new().env(
        "DATABASE_URL",
        &format!("postgres://app_nocreate:pw@127.0.0.1:{}/{app_db}", cluster.port),
    );
    config(&limited, &plain.path().join("apply.sh"));
    let v = agent_ok(&limited, plain.path(), &["migrate", "apply", "--json"], 0);
    assert_eq!(v["result"], "applied", "{v}");
    let v = agent_ok(&limited, plain.path(), &["migrate", "status", "--json"], 0);
    assert_eq!(
        v["drift"]["checked"], true,
        "the drift check needs a private cluster: {v}"
    );
    assert!(scratch_dbs(cluster).is_empty(), "{:?}", scratch_dbs(cluster));
    std::thread::sleep(std::time::Duration::from_secs(2));
    let leftovers: Vec<String> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("dbguard-scratch-"))
        .filter(|n| {
            let pid: i32 = n.split('-').nth(2).and_then(|p| p.parse().ok()).unwrap_or(0);
            // SAFETY: signal 0 only asks whether the process exists.
            pid > 0 && unsafe { libc::kill(pid, 0) } != 0
        })
        .collect();
    assert!(leftovers.is_empty(), "scratch clusters left behind: {leftovers:?}");

    // An unreachable server.
    let dead = World::new().env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/app");
    let e2e2 = e2e_support::Project::new("mig_dead", &["prisma", "prisma.config.ts"]);
    let out = agent(&dead, &e2e2.dir, &["migrate", "status"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot connect"),
        "{}",
        describe(&out)
    );
    let out = agent(&dead, &e2e2.dir, &["migrate", "apply", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
}
