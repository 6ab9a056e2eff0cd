//! Shared helpers for the in-database guard's tests (`protect_*.rs`): one PostgreSQL
//! cluster per test binary where every role but the harness's own `postgres` logs in with
//! a password over TCP (so "the guard owner's password" means something), a superuser guard
//! owner, a NOSUPERUSER application role owning the test databases, psql as a client, and
//! the real `dbguard protect`. Needs `mod e2e_support;` next to `mod protect_support;`.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use crate::e2e_support::{clean, describe, World};

/// The superuser that installs the guard (its password is what `dbguard approve` asks for).
pub const OWNER: &str = "guard_admin";
pub const OWNER_PASSWORD: &str = "owner-pw-7Hq";
/// The application's role: NOSUPERUSER, owns the databases and their tables.
pub const APP: &str = "app_user";
pub const APP_PASSWORD: &str = "app-pw-3Kd";

/// The cluster, started once with password authentication for everyone but `postgres`.
pub fn cluster() -> &'static testpg::Cluster {
    static C: OnceLock<testpg::Cluster> = OnceLock::new();
    C.get_or_init(|| {
        let c = testpg::Cluster::start();
        std::fs::write(
            c.data_dir.join("pg_hba.conf"),
            "local all all trust\nhost all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n",
        )
        .expect("write pg_hba.conf");
        c.psql(
            "postgres",
            &format!(
                "CREATE ROLE {OWNER} LOGIN SUPERUSER PASSWORD '{OWNER_PASSWORD}'; \
                 CREATE ROLE {APP} LOGIN NOSUPERUSER PASSWORD '{APP_PASSWORD}'; SELECT pg_reload_conf()"
            ),
        );
        // The reload is asynchronous: wait until a login without a password is refused.
        let refused = testpg::wait_for(Duration::from_secs(10), || {
            let out = clean(c.bin_dir.join("psql"))
                .args([
                    "-X",
                    "-w",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &c.port.to_string(),
                    "-U",
                    APP,
                    "-d",
                    "postgres",
                    "-c",
                    "SELECT 1",
                ])
                .stdin(Stdio::null())
                .output()
                .expect("run psql");
            !out.status.success()
        });
        assert!(refused, "pg_hba.conf with passwords was not loaded");
        c
    })
}

pub fn url(db: &str, user: &str, password: &str) -> String {
    format!("postgres://{user}:{password}@127.0.0.1:{}/{db}", cluster().port)
}

/// A guarded test database's names and URLs.
pub struct Db {
    pub name: String,
    pub owner_url: String,
    pub app_url: String,
}

/// A new database owned by the application role, `setup` run in it as that role.
pub fn app_db(prefix: &str, setup: &str) -> Db {
    let c = cluster();
    let name = c.create_db(prefix);
    c.psql(&name, &format!("ALTER DATABASE \"{name}\" OWNER TO {APP}"));
    let db = Db {
        owner_url: url(&name, OWNER, OWNER_PASSWORD),
        app_url: url(&name, APP, APP_PASSWORD),
        name,
    };
    if !setup.is_empty() {
        let out = psql(&db.app_url, setup, &[]);
        assert!(out.ok(), "setup failed: {}", out.stderr);
    }
    db
}

/// What psql said.
pub struct Psql {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Psql {
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }

    /// Failed with this SQLSTATE (psql runs with VERBOSITY=verbose: `ERROR:  DG001: ...`).
    pub fn failed_with(&self, sqlstate: &str) -> bool {
        !self.ok() && self.stderr.contains(&format!("ERROR:  {sqlstate}:"))
    }
}

/// psql against `url` (no PG* variables from the test's environment), stopping at the
/// first error, errors with their SQLSTATE.
pub fn psql(url: &str, sql: &str, env: &[(&str, &str)]) -> Psql {
    let mut c = clean(cluster().bin_dir.join("psql"));
    c.args([
        "-X",
        "-q",
        "-A",
        "-t",
        "-v",
        "ON_ERROR_STOP=1",
        "-v",
        "VERBOSITY=verbose",
        url,
        "-c",
        sql,
    ]);
    c.env_remove("PGOPTIONS");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.stdin(Stdio::null()).output().expect("run psql");
    Psql {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).trim().to_string(),
        stderr: String::from_utf8_lossy(&out.stderr).to_string(),
    }
}

/// A statement as the application: must be refused with `sqlstate`.
pub fn refused(db: &Db, sql: &str, sqlstate: &str) {
    let out = psql(&db.app_url, sql, &[]);
    assert!(
        out.failed_with(sqlstate),
        "{sql}: expected {sqlstate}, got exit {:?}\n{}\n{}",
        out.code,
        out.stdout,
        out.stderr
    );
}

/// A statement as the application: must go through.
pub fn allowed(db: &Db, sql: &str) {
    let out = psql(&db.app_url, sql, &[]);
    assert!(out.ok(), "{sql}: expected to be allowed:\n{}", out.stderr);
}

/// One value, as the harness's superuser (never refused by anything but the guard).
pub fn scalar(db: &Db, sql: &str) -> String {
    cluster().psql(&db.name, sql)
}

/// Every table's row count and content, as one comparable text (read as the superuser).
pub fn content(db: &Db) -> String {
    scalar(
        db,
        "SELECT coalesce(string_agg(t || '=' || n || ':' || h, ' ' ORDER BY t), '') FROM ( \
           SELECT format('%I.%I', s.nspname, c.relname) AS t, \
             (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %s', c.oid::regclass), false, true, '')))[1]::text AS n, \
             (xpath('/row/h/text()', query_to_xml(format('SELECT md5(coalesce(string_agg(x::text, ''|'' ORDER BY x::text), '''')) AS h FROM %s x', c.oid::regclass), false, true, '')))[1]::text AS h \
           FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace \
           WHERE c.relkind IN ('r', 'm') AND s.nspname NOT IN ('pg_catalog', 'information_schema', 'dbguard', 'pg_toast') \
             AND s.nspname NOT LIKE 'pg\\_temp%') q",
    )
}

/// `dbguard protect --json ARGS` in a fresh world.
pub fn protect(world: &World, url: &str, args: &[&str]) -> Output {
    let mut all = vec!["protect", "--url", url, "--json"];
    all.extend_from_slice(args);
    world.dbguard(Path::new("/"), &all)
}

/// Install the guard as its owner; returns the JSON report.
pub fn install(db: &Db) -> serde_json::Value {
    let world = World::new();
    let out = protect(&world, &db.owner_url, &[]);
    assert_eq!(out.status.code(), Some(0), "protect failed:\n{}", describe(&out));
    serde_json::from_slice(&out.stdout).expect("protect --json")
}

/// A catalog fingerprint of the database and the cluster's roles, without OIDs: what an
/// uninstall must leave as it found it.
pub fn catalog(db: &Db) -> Vec<String> {
    let text = scalar(
        db,
        "SELECT string_agg(x, E'\\n' ORDER BY x) FROM ( \
           SELECT 'ns ' || nspname || ' ' || coalesce(nspacl::text, '') AS x FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_temp%' AND nspname NOT LIKE 'pg\\_toast\\_temp%' \
           UNION ALL SELECT 'rel ' || n.nspname || '.' || c.relname || ' ' || c.relkind::text || ' ' || coalesce(c.relacl::text, '') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_toast') AND n.nspname NOT LIKE 'pg\\_temp%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp%' \
           UNION ALL SELECT 'trg ' || tgrelid::regclass::text || '.' || tgname || ' ' || tgenabled::text FROM pg_trigger \
           UNION ALL SELECT 'evt ' || evtname || ' ' || evtenabled::text FROM pg_event_trigger \
           UNION ALL SELECT 'proc ' || p.oid::regprocedure::text || ' ' || coalesce(p.proacl::text, '') FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') \
           UNION ALL SELECT 'ext ' || extname || ' ' || extversion FROM pg_extension \
           UNION ALL SELECT 'role ' || rolname || ' ' || rolsuper::text || rolcanlogin::text FROM pg_roles \
           UNION ALL SELECT 'member ' || roleid::regrole::text || '>' || member::regrole::text FROM pg_auth_members \
           UNION ALL SELECT 'desc ' || classoid::regclass::text || ' ' || description FROM pg_description WHERE objoid >= 16384 \
           UNION ALL SELECT 'shdesc ' || classoid::regclass::text || ' ' || description FROM pg_shdescription \
           UNION ALL SELECT 'defacl ' || defaclrole::regrole::text || ' ' || defaclacl::text FROM pg_default_acl \
         ) q",
    );
    text.lines().map(str::to_string).collect()
}
