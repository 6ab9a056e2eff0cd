//! Snapshot and restore failures through the real binary, against a real PostgreSQL
//! (testpg) and real SQLite files: every error names its cause and the next step, and a
//! failure leaves nothing that lists as a snapshot, no temp folder after the next run and
//! no orphan database. Covered: a role without CREATEDB, a full disk (the store on a 2 MB
//! tmpfs; needs root), a pg_dump/pg_restore older than the server (the installed ones
//! hidden in a private mount namespace; needs root), and a server that goes away during
//! a snapshot. Checksum mismatch and "not found" are in `snapshot_pg.rs`.
//!
//! What a failure leaves behind is asserted on the spot; the wording of each message
//! (cause, where, next step) is collected in `Gaps` and asserted at the end of its test,
//! so one run lists every message that falls short.

mod e2e_support;
mod snapshot_support;
use snapshot_support::{dbguard, ok_json};

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use testpg::Cluster;

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn describe(out: &Output) -> String {
    e2e_support::describe(out)
}

/// Ids that `dbguard snapshots --json` lists.
fn listed(home: &Path) -> Vec<String> {
    ok_json(home, &["snapshots", "--json"])["snapshots"]
        .as_array()
        .expect("snapshots array")
        .iter()
        .map(|s| s["id"].as_str().expect("id").to_string())
        .collect()
}

/// Everything in the snapshot folder that is not a complete snapshot (`.tmp-*`, `.del-*`).
fn debris(home: &Path) -> Vec<String> {
    std::fs::read_dir(home.join("snapshots"))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default()
}

/// Databases of the cluster whose name is LIKE `pattern`.
fn databases_like(c: &Cluster, pattern: &str) -> String {
    c.psql(
        "postgres",
        &format!("SELECT coalesce(string_agg(datname, ',' ORDER BY datname), '') FROM pg_database WHERE datname LIKE '{pattern}'"),
    )
}

/// Messages that fail to name their cause or the next step: collected through a test, so
/// one run reports them all, and asserted empty at its end (after every check of what the
/// failure left behind).
#[derive(Default)]
struct Gaps(Vec<String>);

impl Gaps {
    fn check(&mut self, ok: bool, what: &str, message: &str) {
        if !ok {
            self.0
                .push(format!("{what}:\n    {}", message.trim().replace('\n', "\n    ")));
        }
    }

    fn assert_none(self) {
        assert!(
            self.0.is_empty(),
            "{} message(s) do not name the cause and the next step:\n- {}",
            self.0.len(),
            self.0.join("\n- ")
        );
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn server_major(c: &Cluster) -> u32 {
    c.psql("postgres", "SHOW server_version_num").parse::<u32>().unwrap() / 10_000
}

/// A SQLite file of about `mb` MB of random (incompressible) blobs.
fn big_sqlite(path: &Path, mb: usize) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(&format!(
        "CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB NOT NULL);
         WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < {})
         INSERT INTO blobs SELECT i, randomblob(1000) FROM g;",
        mb * 1000
    ))
    .unwrap();
}

// ---------------------------------------------------------------------------------------
// 1. Permission denied on CREATE DATABASE
// ---------------------------------------------------------------------------------------

/// A role without CREATEDB: an explicit clone fails naming the privilege and `--strategy
/// copy`; auto falls back to copy and says why; restoring into a new database fails
/// naming the privilege (and leaves no database), while `--to-url` into a database the
/// role owns works; a clone snapshot (taken by a superuser) cannot be restored by it.
#[test]
fn role_without_createdb_gets_the_privilege_and_the_alternative() {
    let c = Cluster::shared();
    let home = tempfile::tempdir().unwrap();
    let role = format!("nocreatedb_{}", std::process::id());
    c.psql("postgres", &format!("CREATE ROLE {role} LOGIN NOCREATEDB NOSUPERUSER"));
    let db = c.create_db("nocreatedb");
    c.psql("postgres", &format!("ALTER DATABASE {db} OWNER TO {role}"));
    c.psql(
        &db,
        &format!(
            "SET ROLE {role}; CREATE TABLE t (id int PRIMARY KEY, note text);
             INSERT INTO t SELECT g, 'row ' || g FROM generate_series(1, 1000) g"
        ),
    );
    let url = format!("postgres://{role}@127.0.0.1:{}/{db}", c.port);
    let mut gaps = Gaps::default();
    let clones_before = databases_like(c, "dbguard_snap_%");

    // Explicit clone: refused, naming the missing privilege, how to grant it, and copy.
    let out = dbguard(home.path(), &["snapshot", "--url", &url, "--strategy", "clone"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = stderr(&out);
    assert!(
        err.contains("permission denied to create a database")
            && err.contains(&format!("ALTER ROLE \"{role}\" CREATEDB"))
            && err.contains("--strategy copy"),
        "{err}"
    );
    assert!(listed(home.path()).is_empty(), "a failed clone lists as a snapshot");
    assert!(debris(home.path()).is_empty(), "{:?}", debris(home.path()));
    assert_eq!(
        databases_like(c, "dbguard_snap_%"),
        clones_before,
        "a failed clone left a database"
    );

    // auto: a copy, and the reason says CREATEDB is missing.
    let out = dbguard(home.path(), &["snapshot", "--url", &url]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("strategy  copy") && text.contains("no CREATEDB"),
        "auto did not say why it copied:\n{text}"
    );
    let ids = listed(home.path());
    assert_eq!(ids.len(), 1, "{ids:?}");
    let id = ids[0].clone();

    // Restore into a new database: needs CREATE DATABASE too.
    let out = dbguard(home.path(), &["restore", &id, "--url", &url]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = stderr(&out);
    assert!(
        err.contains("permission denied to create a database") && err.contains("CREATEDB"),
        "{err}"
    );
    assert_eq!(
        databases_like(c, &format!("{db}_restored_%")),
        "",
        "a failed restore left a database"
    );
    // The way out for this role: an existing database it may use (`--to-url`). Restore has
    // no --strategy option, so suggesting `--strategy copy` here is no next step.
    gaps.check(
        err.contains("--to-url") && !err.contains("--strategy copy"),
        "restore of a copy snapshot without CREATEDB suggests `--strategy copy` (restore has no such option) instead of --to-url into a database the role may use",
        &err,
    );

    // ... and that way works.
    let into = c.create_db("nocreatedb_into");
    c.psql("postgres", &format!("ALTER DATABASE {into} OWNER TO {role}"));
    let into_url = format!("postgres://{role}@127.0.0.1:{}/{into}", c.port);
    let r = ok_json(
        home.path(),
        &["restore", &id, "--url", &url, "--to-url", &into_url, "--json"],
    );
    assert_eq!(r["rows"], 1000, "{r}");
    assert_eq!(c.psql(&into, "SELECT count(*) FROM t"), "1000");

    // A clone snapshot (taken by a superuser) restored by the role: refused clearly, and
    // the next step must be one that exists for restore.
    let clone = ok_json(
        home.path(),
        &["snapshot", "--url", &c.url(&db), "--strategy", "clone", "--json"],
    );
    let clone_id = clone["id"].as_str().unwrap();
    let out = dbguard(home.path(), &["restore", clone_id, "--url", &url]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = stderr(&out);
    assert!(
        err.contains("permission denied to create a database") && err.contains("CREATEDB"),
        "{err}"
    );
    assert_eq!(databases_like(c, &format!("{db}_restored_%")), "");
    gaps.check(
        !err.contains("--strategy copy"),
        "restore of a clone snapshot without CREATEDB suggests `--strategy copy` (restore has no --strategy; a clone restores only into a new database)",
        &err,
    );
    gaps.assert_none();
}

// ---------------------------------------------------------------------------------------
// 2. No space left on the device
// ---------------------------------------------------------------------------------------

/// A tmpfs of `size` mounted on a folder; unmounted on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Result<Tmpfs, String> {
        if !is_root() {
            return Err("not running as root, so a small tmpfs cannot be mounted".into());
        }
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700"), "tmpfs"])
            .arg(dir)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Tmpfs(dir.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.0)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
}

/// The store on a 2 MB filesystem: a copy snapshot of a 4 MB table and a snapshot of a
/// 3 MB SQLite file fail with exit 1, saying there is no space left and where; nothing
/// lists, no temp folder stays, a small snapshot still works after, and `dbguard run`
/// does not run a destructive command whose snapshot failed.
#[test]
fn full_disk_fails_cleanly_and_the_command_does_not_run() {
    let outer = tempfile::tempdir().unwrap();
    let home = outer.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let _mounted = match Tmpfs::mount(&home, "2m") {
        Ok(m) => m,
        Err(why) => {
            eprintln!("SKIPPED full_disk_fails_cleanly_and_the_command_does_not_run: {why}");
            return;
        }
    };
    let home = home.as_path();
    let c = Cluster::shared();
    let db = c.create_db("nospace");
    // Random bytes: about 4 MB that zstd cannot shrink.
    c.psql(
        &db,
        "CREATE TABLE big (id int, data bytea);
         INSERT INTO big SELECT g, decode(md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text), 'hex')
         FROM generate_series(1, 60000) g;
         CREATE TABLE small (a int); INSERT INTO small VALUES (1), (2);",
    );
    let url = c.url(&db);
    let where_ = home.display().to_string();
    let mut gaps = Gaps::default();

    // PostgreSQL, copy strategy.
    let out = dbguard(
        home,
        &["snapshot", "--url", &url, "--tables", "big", "--strategy", "copy"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let pg_err = stderr(&out);
    assert!(
        pg_err.contains("no space left") && pg_err.contains("dbguard prune") && pg_err.contains("DBGUARD_HOME"),
        "{pg_err}"
    );
    assert!(listed(home).is_empty(), "a snapshot that ran out of space lists");

    // SQLite.
    let files = tempfile::tempdir().unwrap();
    let sqlite = files.path().join("big.db");
    big_sqlite(&sqlite, 3);
    let out = dbguard(home, &["snapshot", "--url", sqlite.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let sqlite_err = stderr(&out);
    assert!(listed(home).is_empty(), "a SQLite snapshot that ran out of space lists");

    // The next run finds no debris, and a snapshot that fits still works.
    let ok = ok_json(home, &["snapshot", "--url", &url, "--tables", "small", "--json"]);
    assert!(debris(home).is_empty(), "{:?}", debris(home));
    assert_eq!(listed(home), vec![ok["id"].as_str().unwrap().to_string()]);

    // `dbguard run` with a snapshot verdict: the snapshot cannot fit, so DROP TABLE never runs.
    let w = e2e_support::World::new().env("DBGUARD_HOME", &where_).env(
        "PATH",
        &format!("{}:{}", c.bin_dir.display(), std::env::var("PATH").unwrap_or_default()),
    );
    w.set_config("[policy]\ndevelopment = \"snapshot\"\n");
    let cwd = tempfile::tempdir().unwrap();
    let out = w.dbguard(
        cwd.path(),
        &["run", "--", "psql", "-X", "-q", &url, "-c", "DROP TABLE big"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let run_err = stderr(&out);
    assert!(
        run_err.contains("did NOT run") && run_err.contains("no space left"),
        "{run_err}"
    );
    assert_eq!(c.psql(&db, "SELECT count(*) FROM big"), "60000", "the command ran");
    assert!(debris(home).is_empty(), "{:?}", debris(home));
    assert_eq!(listed(home).len(), 1);

    // The messages must say where the space ran out (the store), not only that it did.
    gaps.check(
        sqlite_err.contains("no space left") && sqlite_err.contains("DBGUARD_HOME"),
        "SQLite snapshot on a full disk: no \"no space left\" and no next step (free space, dbguard prune, DBGUARD_HOME)",
        &sqlite_err,
    );
    for (what, err) in [("PostgreSQL", &pg_err), ("SQLite", &sqlite_err), ("run", &run_err)] {
        gaps.check(
            err.contains(&where_),
            &format!("{what} snapshot on a full disk does not say where ({where_})"),
            err,
        );
    }
    gaps.assert_none();
}

// ---------------------------------------------------------------------------------------
// 3. pg_dump / pg_restore older than the server
// ---------------------------------------------------------------------------------------

/// Run dbguard in a private mount namespace where /usr/lib/postgresql is empty and PATH
/// starts with `fake` (old pg_dump/pg_restore), so the only client programs it can find
/// are too old for the server. Exit 97: the bind mount failed.
fn dbguard_with_old_tools(fake: &Path, empty: &Path, home: &Path, args: &[&str]) -> Output {
    Command::new("unshare")
        .args(["-m", "--propagation", "private", "/bin/sh", "-c"])
        .arg("mount --bind \"$1\" /usr/lib/postgresql || exit 97; shift; exec \"$@\"")
        .arg("sh")
        .arg(empty)
        .arg(env!("CARGO_BIN_EXE_dbguard"))
        .args(args)
        .env("DBGUARD_HOME", home)
        .env("PATH", format!("{}:/usr/bin:/bin", fake.display()))
        .env_remove("DBGUARD_PG_BIN")
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .output()
        .expect("run unshare")
}

/// Why the mismatched-tool test cannot run here, if it cannot.
fn cannot_hide_tools(fake: &Path, empty: &Path, home: &Path) -> Option<String> {
    if !is_root() {
        return Some("not running as root, so the installed pg_dump cannot be hidden".into());
    }
    if !Path::new("/usr/lib/postgresql").is_dir() {
        return Some("PostgreSQL is not installed under /usr/lib/postgresql".into());
    }
    let probe = dbguard_with_old_tools(fake, empty, home, &["--version"]);
    if !probe.status.success() {
        return Some(format!("cannot make a private mount namespace: {}", describe(&probe)));
    }
    None
}

/// Only a pg_dump 11 is installed and the server is newer: `--strategy dump` fails naming
/// both versions and the next steps, leaving nothing; `--strategy copy` (the suggested
/// alternative) works. Restoring a dump with only a pg_restore 11 fails the same way and
/// drops the database it had created.
#[test]
fn pg_dump_older_than_the_server_names_both_versions() {
    let c = Cluster::shared();
    let home = tempfile::tempdir().unwrap();
    let tools = tempfile::tempdir().unwrap();
    let fake = tools.path().join("bin");
    let empty = tools.path().join("empty");
    std::fs::create_dir(&fake).unwrap();
    std::fs::create_dir(&empty).unwrap();
    for name in ["pg_dump", "pg_restore"] {
        let p = fake.join(name);
        std::fs::write(
            &p,
            format!(
                "#!/bin/sh\nif [ \"$1\" = \"--version\" ]; then echo \"{name} (PostgreSQL) 11.0\"; exit 0; fi\necho \"{name}: this fake 11.0 must not be run\" >&2\nexit 1\n"
            ),
        )
        .unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    if let Some(why) = cannot_hide_tools(&fake, &empty, home.path()) {
        eprintln!("SKIPPED pg_dump_older_than_the_server_names_both_versions: {why}");
        return;
    }
    let major = server_major(c);
    let db = c.create_db("oldtools");
    c.psql(
        &db,
        "CREATE TABLE t (id serial PRIMARY KEY, note text); INSERT INTO t (note) SELECT 'n' || g FROM generate_series(1, 500) g",
    );
    let url = c.url(&db);
    let mut gaps = Gaps::default();

    let out = dbguard_with_old_tools(
        &fake,
        &empty,
        home.path(),
        &["snapshot", "--url", &url, "--strategy", "dump"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = stderr(&out);
    assert!(
        err.contains("pg_dump is too old")
            && err.contains(&format!("PostgreSQL {major}"))
            && err.contains("11.0")
            && err.contains(&format!("postgresql-client-{major}"))
            && err.contains("DBGUARD_PG_BIN")
            && err.contains("--strategy copy"),
        "{err}"
    );
    assert!(listed(home.path()).is_empty());
    assert!(debris(home.path()).is_empty(), "{:?}", debris(home.path()));

    // The suggested alternative works with the same tools, taking the DDL from the catalog.
    let out = dbguard_with_old_tools(
        &fake,
        &empty,
        home.path(),
        &["snapshot", "--url", &url, "--strategy", "copy", "--json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let copy: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let m = snapshot_support::manifest(home.path(), copy["id"].as_str().unwrap());
    assert!(
        m["ddl_source"].as_str().unwrap().starts_with("catalog"),
        "{}",
        m["ddl_source"]
    );

    // A dump taken with the real tools, restored where only pg_restore 11 exists.
    let dump = ok_json(
        home.path(),
        &["snapshot", "--url", &url, "--strategy", "dump", "--json"],
    );
    let dump_id = dump["id"].as_str().unwrap();
    let out = dbguard_with_old_tools(&fake, &empty, home.path(), &["restore", dump_id, "--url", &url]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = stderr(&out);
    assert!(
        err.contains("pg_restore is too old")
            && err.contains(&format!("PostgreSQL {major}"))
            && err.contains("11.0")
            && err.contains(&format!("postgresql-client-{major}")),
        "{err}"
    );
    assert_eq!(
        databases_like(c, &format!("{db}_restored_%")),
        "",
        "the database created for the restore was left behind"
    );
    gaps.check(
        !err.contains("--strategy"),
        "restore of a dump with an old pg_restore suggests `--strategy copy or clone` (restore has no --strategy)",
        &err,
    );
    gaps.assert_none();
}

// ---------------------------------------------------------------------------------------
// 4. The server goes away during a snapshot
// ---------------------------------------------------------------------------------------

/// `pg_ctl stop -m immediate` while a copy snapshot streams a table: exit 1 with a message
/// that says the connection was lost, nothing lists, and no temp folder stays.
#[test]
fn server_going_away_mid_snapshot_leaves_nothing() {
    let c = Cluster::start();
    let home = tempfile::tempdir().unwrap();
    let db = c.create_db("gone");
    c.psql(
        &db,
        "CREATE TABLE big AS SELECT g AS id, repeat(md5(g::text), 3) AS pad FROM generate_series(1, 1500000) g",
    );
    let url = c.url(&db);
    let child = Command::new(env!("CARGO_BIN_EXE_dbguard"))
        .args(["snapshot", "--url", &url, "--tables", "big", "--strategy", "copy"])
        .env("DBGUARD_HOME", home.path())
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let copying = || {
        c.psql(
            "postgres",
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'COPY %' AND pid <> pg_backend_pid()",
        ) != "0"
    };
    assert!(
        testpg::wait_for(Duration::from_secs(30), copying),
        "the snapshot never started copying"
    );
    c.stop();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "the snapshot finished before the server stopped (make the table bigger?):\n{}",
        describe(&out)
    );
    let err = stderr(&out);
    assert!(err.contains("big") && err.contains("connection"), "{err}");
    let mut gaps = Gaps::default();
    assert!(listed(home.path()).is_empty(), "a snapshot cut off by the server lists");
    assert!(debris(home.path()).is_empty(), "{:?}", debris(home.path()));
    // The next run (any engine) works in the same store.
    let files = tempfile::tempdir().unwrap();
    let sqlite = files.path().join("app.db");
    rusqlite::Connection::open(&sqlite)
        .unwrap()
        .execute_batch("CREATE TABLE a (x int); INSERT INTO a VALUES (1)")
        .unwrap();
    let next = ok_json(home.path(), &["snapshot", "--url", sqlite.to_str().unwrap(), "--json"]);
    assert!(debris(home.path()).is_empty(), "{:?}", debris(home.path()));
    assert_eq!(listed(home.path()), vec![next["id"].as_str().unwrap().to_string()]);
    // The message says what happened (the server closed the connection / shut down) and
    // what to do next (check the server, retry; nothing was kept).
    gaps.check(
        (err.contains("retry") || err.contains("try again")) && !err.contains("dropped?"),
        "a server that goes away mid-snapshot: the message guesses (\"connection dropped?\") and gives no next step (check the server, retry; nothing was kept)",
        &err,
    );
    gaps.assert_none();
}
