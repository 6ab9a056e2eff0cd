//! `dbguard mcp`'s db_query is least-privilege, driven by the official Python MCP client
//! (tests/mcp/readonly_test.py holds the queries): statements that reach another connection
//! (dblink), the server's files, other sessions, settings, replication slots, notifications,
//! advisory locks, sequences or transaction ids are refused, and ordinary SELECTs work, in each
//! way db_query can run: as `dbguard_reader` (a superuser session and a member role), as the
//! `[mcp] read_role` of dbguard.toml, and with the allowlist of built-in functions when no
//! read-only role exists; a read_role that cannot be used refuses everything.
//!
//! Here: a private cluster (roles are cluster-wide, so no other test sees them), and afterwards
//! the database's state: rows intact, the sentinel session alive, no large object, replication
//! slot, advisory lock, sequence step or setting left behind. Also: every allowlisted function
//! is a built-in that PostgreSQL itself marks side-effect-free.

use std::process::{Child, Command, Stdio};

fn python_mcp_available() {
    let ok = Command::new("python3")
        .args(["-c", "import mcp.client.stdio"])
        .status()
        .map(|s| s.success());
    assert!(
        matches!(ok, Ok(true)),
        "the Python `mcp` package is missing: run tests/mcp/setup.sh"
    );
}

const SETUP: &str = "
CREATE EXTENSION dblink;
CREATE TABLE users (id serial PRIMARY KEY, name text);
INSERT INTO users (name) VALUES ('alice'), ('bob'), ('carol');
CREATE TABLE orders (id int PRIMARY KEY, user_id int);
INSERT INTO orders VALUES (1, 1), (2, 2);
CREATE FUNCTION app_wipe() RETURNS int LANGUAGE sql AS $$ DELETE FROM users; SELECT 1 $$;
CREATE FUNCTION app_count() RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT count(*) FROM users $$;
CREATE FUNCTION app_terminate_all() RETURNS int LANGUAGE sql SECURITY DEFINER AS
  $$ SELECT count(pg_terminate_backend(pid))::int FROM pg_stat_activity
     WHERE pid <> pg_backend_pid() AND backend_type = 'client backend' $$;
-- What `dbguard protect` creates: a role that can only read, granted to the application.
CREATE ROLE dbguard_reader NOLOGIN;
GRANT pg_read_all_data TO dbguard_reader;
CREATE ROLE app_member LOGIN;
GRANT dbguard_reader TO app_member;
-- An application role without it: it may write, so db_query falls back to the allowlist.
CREATE ROLE app_plain LOGIN;
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public TO app_plain;
GRANT USAGE, UPDATE ON SEQUENCE users_id_seq TO app_plain;
-- A read-only role named in dbguard.toml.
CREATE ROLE reporting_ro NOLOGIN;
GRANT pg_read_all_data TO reporting_ro;
CREATE ROLE app_cfg LOGIN;
GRANT reporting_ro TO app_cfg;
GRANT ALL ON ALL TABLES IN SCHEMA public TO app_cfg;
-- A 'read-only' role that can write: refused.
CREATE ROLE writer_ro NOLOGIN;
GRANT pg_write_all_data TO writer_ro;
CREATE ROLE app_bad LOGIN;
GRANT writer_ro TO app_bad;
";

/// A session that must survive every query: `pg_terminate_backend` on all would end it.
fn sentinel(cluster: &testpg::Cluster, db: &str) -> Child {
    let bin = testpg::pg_bin_dir().expect("PostgreSQL binaries");
    let url = cluster.url(db);
    Command::new(bin.join("psql"))
        .args(["-X", "-q", "-d", &url, "-c", "SELECT pg_sleep(600)"])
        .env("PGAPPNAME", "dbguard_sentinel")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start psql")
}

fn run_client(url: &str, mode: &str, config: Option<&str>) {
    let project = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    if let Some(c) = config {
        std::fs::write(project.path().join("dbguard.toml"), c).unwrap();
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/mcp/readonly_test.py");
    let mut cmd = Command::new("python3");
    cmd.arg(script)
        .arg(env!("CARGO_BIN_EXE_dbguard"))
        .arg(url)
        .arg(project.path())
        .arg(mode)
        .env("DBGUARD_HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("xdg"))
        .env_remove("DBGUARD_CONFIG");
    for (v, _) in dbguard_core::agents::AGENT_VARIABLES {
        cmd.env_remove(v);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "readonly_test.py ({mode}) failed:\n{stdout}\n{stderr}"
    );
    println!("{stdout}");
}

#[test]
fn db_query_is_read_only_in_every_mode() {
    python_mcp_available();
    let cluster = testpg::Cluster::start();
    let db = cluster.create_db("mcpro");
    cluster.psql(&db, SETUP);
    let mut guard = sentinel(&cluster, &db);
    let alive = testpg::wait_for(std::time::Duration::from_secs(10), || {
        cluster.psql(
            &db,
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'dbguard_sentinel'",
        ) == "1"
    });
    assert!(alive, "the sentinel session did not start");

    let as_user = |user: &str| cluster.url(&db).replacen("postgres@", &format!("{user}@"), 1);
    run_client(&cluster.url(&db), "reader", None);
    run_client(&as_user("app_member"), "reader", None);
    run_client(&as_user("app_plain"), "allowlist", None);
    run_client(
        &as_user("app_cfg"),
        "configured",
        Some("[mcp]\nread_role = \"reporting_ro\"\n"),
    );
    run_client(
        &as_user("app_plain"),
        "misconfigured",
        Some("[mcp]\nread_role = \"reporting_ro\"\n"),
    );
    run_client(
        &as_user("app_bad"),
        "misconfigured",
        Some("[mcp]\nread_role = \"writer_ro\"\n"),
    );

    // The database as it was.
    assert_eq!(
        cluster.psql(&db, "SELECT string_agg(name, ',' ORDER BY id) FROM users"),
        "alice,bob,carol"
    );
    assert_eq!(cluster.psql(&db, "SELECT count(*) FROM orders"), "2");
    assert_eq!(cluster.psql(&db, "SELECT last_value FROM users_id_seq"), "3");
    assert_eq!(cluster.psql(&db, "SELECT count(*) FROM pg_largeobject_metadata"), "0");
    assert_eq!(cluster.psql(&db, "SELECT count(*) FROM pg_replication_slots"), "0");
    assert_eq!(
        cluster.psql(&db, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"),
        "0"
    );
    assert_eq!(
        cluster.psql(
            &db,
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'dbguard_sentinel'"
        ),
        "1",
        "a session was ended"
    );
    assert!(guard.try_wait().unwrap().is_none(), "the sentinel psql exited");
    assert_eq!(
        cluster.psql(&db, "SELECT setting FROM pg_settings WHERE name = 'work_mem'"),
        "4096"
    );
    let _ = guard.kill();
    let _ = guard.wait();
}

/// The allowlist holds only built-ins PostgreSQL marks immutable or stable, plus the volatile
/// ones dbguard documents as effect-free; none is in a refused family.
#[test]
fn allowlisted_functions_are_side_effect_free_builtins() {
    use dbguard_core::sql::readonly::{ALLOWED, ALLOWED_VOLATILE};
    let cluster = testpg::Cluster::shared();
    let list = |names: &[&str]| names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(",");
    let bad = cluster.psql(
        "postgres",
        &format!(
            "SELECT string_agg(n || ':' || coalesce(v, 'missing'), ' ') FROM unnest(ARRAY[{}]) n \
             LEFT JOIN LATERAL (SELECT string_agg(DISTINCT provolatile::text, '') v FROM pg_proc p \
               JOIN pg_namespace s ON s.oid = p.pronamespace AND s.nspname = 'pg_catalog' WHERE p.proname = n) x ON true \
             WHERE coalesce(v, 'missing') !~ '^[is]+$'",
            list(ALLOWED)
        ),
    );
    assert_eq!(bad, "", "allowlisted functions that are missing or volatile");
    let missing = cluster.psql(
        "postgres",
        &format!(
            "SELECT string_agg(n, ' ') FROM unnest(ARRAY[{}]) n WHERE NOT EXISTS \
             (SELECT 1 FROM pg_proc p JOIN pg_namespace s ON s.oid = p.pronamespace AND s.nspname = 'pg_catalog' \
              WHERE p.proname = n)",
            list(ALLOWED_VOLATILE)
        ),
    );
    assert_eq!(missing, "", "volatile allowlisted functions that do not exist");
}
