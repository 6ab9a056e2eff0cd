//! Snapshot and restore against a real PostgreSQL (testpg), through the real binary.

mod snapshot_support;
use snapshot_support::{checksums, dbguard, manifest, ok_json};

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use testpg::Cluster;

/// Row count and an order-independent digest of a table, through psql.
fn digest(c: &Cluster, db: &str, table: &str) -> String {
    c.psql(
        db,
        &format!(
            "SELECT count(*) || ':' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM {table} x"
        ),
    )
}

const TABLES: [&str; 3] = ["kinds", "accounts", "orders"];

fn fill(c: &Cluster, db: &str) {
    c.psql(
        db,
        "CREATE TABLE kinds (
            id serial PRIMARY KEY,
            i int, b bigint, t text NOT NULL DEFAULT 'x', n numeric(14,4), ts timestamptz, j jsonb, raw bytea,
            u uuid, arr int[], tags text[], maybe text CHECK (maybe <> 'forbidden')
         );
         CREATE INDEX kinds_t_idx ON kinds (t);
         INSERT INTO kinds (i, b, t, n, ts, j, raw, u, arr, tags, maybe)
         SELECT g, g::bigint * 1000000007, 'row ' || g || E'\\twith tab\\nand newline', g / 7.0,
                '2024-01-01 00:00:00+00'::timestamptz + g * interval '1 minute',
                jsonb_build_object('g', g, 'nested', jsonb_build_array(g, 'x')),
                decode(md5(g::text), 'hex'), md5(g::text)::uuid, ARRAY[g, g + 1], ARRAY['a' || g, NULL],
                CASE WHEN g % 7 = 0 THEN NULL ELSE 'm' || g END
         FROM generate_series(1, 3000) g;
         CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0), email text UNIQUE);
         INSERT INTO accounts SELECT g, 100, 'u' || g || '@example.com' FROM generate_series(1, 500) g;
         CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, account_id int REFERENCES accounts (id), note text);
         INSERT INTO orders (account_id, note) SELECT (g % 500) + 1, 'order ' || g FROM generate_series(1, 1200) g;",
    );
}

/// Every constraint and index of the test tables, as the server prints them.
fn schema_objects(c: &Cluster, db: &str) -> String {
    c.psql(
        db,
        "SELECT string_agg(x, E'\\n' ORDER BY x) FROM (
           SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) AS x FROM pg_constraint
            WHERE conrelid IN ('kinds'::regclass, 'accounts'::regclass, 'orders'::regclass)
           UNION ALL
           SELECT indexdef FROM pg_indexes WHERE tablename IN ('kinds', 'accounts', 'orders')) o",
    )
}

fn digests(c: &Cluster, db: &str) -> Vec<String> {
    TABLES.iter().map(|t| digest(c, db, t)).collect()
}

fn check_modes(dir: &Path) {
    let mode = std::fs::metadata(dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "{} has mode {mode:o}", dir.display());
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            check_modes(&p);
        } else {
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{} has mode {mode:o}", p.display());
        }
    }
}

/// Snapshot with `strategy`, destroy with `destroy`, restore into a new database, and check
/// every table's rows, content checksum and sequences.
fn roundtrip(strategy: &str, scope: &[&str], destroy: &str) {
    let c = Cluster::shared();
    let home = tempfile::tempdir().unwrap();
    let db = c.create_db(&format!("rt_{strategy}"));
    fill(c, &db);
    let before = digests(c, &db);
    let schema_before = schema_objects(c, &db);
    let seq_before = c.psql(&db, "SELECT last_value FROM kinds_id_seq");
    let url = c.url(&db);
    let mut args = vec!["snapshot", "--url", &url, "--strategy", strategy, "--json"];
    args.extend_from_slice(scope);
    let snap = ok_json(home.path(), &args);
    let id = snap["id"].as_str().unwrap().to_string();
    assert_eq!(snap["strategy"], strategy);
    // A clone's row counts and checksums are recorded in the background, right after.
    assert!(
        testpg::wait_for(Duration::from_secs(30), || manifest(home.path(), &id)["content"]
            .as_str()
            .unwrap_or("complete")
            == "complete"),
        "the checksums of {id} were not recorded"
    );
    let m = manifest(home.path(), &id);
    let original = checksums(&m);
    assert_eq!(original.len(), 3, "{original:?}");
    check_modes(&home.path().join("snapshots"));

    c.psql(&db, destroy);

    let out = ok_json(home.path(), &["restore", &id, "--url", &url, "--json"]);
    let restored_db = out["database"].as_str().unwrap().to_string();
    assert!(restored_db.starts_with(&format!("{db}_restored_")), "{restored_db}");
    assert!(out["switch_line"]
        .as_str()
        .unwrap()
        .starts_with("DATABASE_URL=postgres://"));
    assert_eq!(digests(c, &restored_db), before, "restored rows differ ({strategy})");
    assert_eq!(
        schema_objects(c, &restored_db),
        schema_before,
        "constraints or indexes differ ({strategy})"
    );
    assert_eq!(out["warnings"], serde_json::json!([]), "{out}");
    assert_eq!(c.psql(&restored_db, "SELECT last_value FROM kinds_id_seq"), seq_before);
    // Sequences continue after the restored rows; constraints and indexes came back.
    assert_eq!(
        c.psql(&restored_db, "INSERT INTO kinds (i) VALUES (0) RETURNING id"),
        "3001"
    );
    assert_eq!(
        c.psql(&restored_db, "INSERT INTO orders (account_id) VALUES (1) RETURNING id"),
        "1201"
    );
    assert_eq!(
        c.psql(
            &restored_db,
            "SELECT count(*) FROM pg_indexes WHERE indexname = 'kinds_t_idx'"
        ),
        "1"
    );
    assert!(std::process::Command::new(c.bin_dir.join("psql"))
        .args([
            "-X",
            "-h",
            "127.0.0.1",
            "-p",
            &c.port.to_string(),
            "-U",
            "postgres",
            "-d",
            &restored_db,
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            "INSERT INTO accounts VALUES (9999, -1)"
        ])
        .output()
        .map(|o| !o.status.success())
        .unwrap());
    c.psql(
        &restored_db,
        "DELETE FROM kinds WHERE i = 0; DELETE FROM orders WHERE id = 1201",
    );

    // Content checksums recomputed on the restored database match the manifest.
    let restored_url = c.url(&restored_db);
    let again = ok_json(
        home.path(),
        &[
            "snapshot",
            "--url",
            &restored_url,
            "--strategy",
            "copy",
            "--tables",
            "kinds,accounts,orders",
            "--json",
        ],
    );
    assert_eq!(
        checksums(&manifest(home.path(), again["id"].as_str().unwrap())),
        original
    );

    // Never overwrite: the same target again is refused.
    let out = dbguard(
        home.path(),
        &["restore", &id, "--url", &url, "--to-database", &restored_db],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("already exists"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(digests(c, &restored_db), before);

    // A partial restore (catalog DDL instead of pg_dump's) of copy snapshots.
    if strategy == "copy" {
        let sub = ok_json(
            home.path(),
            &[
                "restore",
                &id,
                "--url",
                &url,
                "--tables",
                "accounts,orders,kinds",
                "--to-database",
                &format!("{db}_sub"),
                "--json",
            ],
        );
        let sub_db = sub["database"].as_str().unwrap().to_string();
        assert_eq!(digests(c, &sub_db), before, "catalog-DDL restore differs");
        assert_eq!(
            c.psql(&sub_db, "INSERT INTO orders (account_id) VALUES (1) RETURNING id"),
            "1201"
        );
        assert_eq!(
            c.psql(
                &sub_db,
                "SELECT count(*) FROM pg_indexes WHERE indexname = 'kinds_t_idx'"
            ),
            "1"
        );
        assert_eq!(
            c.psql(&sub_db, "SELECT count(*) FROM pg_constraint WHERE contype = 'f'"),
            "1"
        );
    }

    let v = ok_json(home.path(), &["verify", &id, "--deep", "--url", &url, "--json"]);
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["tables_checked"], 3);
}

#[test]
fn copy_snapshot_survives_drop_tables() {
    roundtrip(
        "copy",
        &["--tables", "kinds,accounts,public.orders"],
        "DROP TABLE orders, kinds, accounts",
    );
}

#[test]
fn clone_snapshot_survives_drop_schema_public() {
    roundtrip("clone", &[], "DROP SCHEMA public CASCADE; CREATE SCHEMA public");
}

#[test]
fn dump_snapshot_survives_drop_schema_public() {
    roundtrip("dump", &[], "DROP SCHEMA public CASCADE; CREATE SCHEMA public");
}

#[test]
fn copy_of_whole_database_survives_drop_schema_public() {
    roundtrip("copy", &[], "DROP SCHEMA public CASCADE; CREATE SCHEMA public");
}

#[test]
fn clone_is_marked_and_pruned_with_its_database() {
    let c = Cluster::shared();
    let home = tempfile::tempdir().unwrap();
    let db = c.create_db("mark");
    c.psql(&db, "CREATE TABLE t (a int); INSERT INTO t VALUES (1)");
    let url = c.url(&db);
    let a = ok_json(home.path(), &["snapshot", "--url", &url, "--json"]);
    assert_eq!(a["strategy"], "clone", "{a}");
    let clone = a["clone_database"].as_str().unwrap().to_string();
    assert!(clone.starts_with("dbguard_snap_"));
    let comment = c.psql(
        "postgres",
        &format!("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '{clone}'"),
    );
    assert!(
        comment.starts_with(&format!("dbguard snapshot {} of {db}", a["id"].as_str().unwrap())),
        "{comment}"
    );
    std::thread::sleep(Duration::from_millis(1100));
    let b = ok_json(home.path(), &["snapshot", "--url", &url, "--json", "--label", "second"]);
    // keep 1: the older one goes, with its clone database.
    let p = ok_json(home.path(), &["prune", "--keep", "1", "--url", &url, "--json"]);
    assert_eq!(p["deleted"].as_array().unwrap().len(), 1, "{p}");
    assert_eq!(
        c.psql(
            "postgres",
            &format!("SELECT count(*) FROM pg_database WHERE datname = '{clone}'")
        ),
        "0"
    );
    let list = ok_json(home.path(), &["snapshots", "--json"]);
    let ids: Vec<&str> = list["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![b["id"].as_str().unwrap()]);
    // keep 0 never deletes the newest verified snapshot.
    let p = ok_json(home.path(), &["prune", "--keep", "0", "--url", &url, "--json"]);
    assert_eq!(p["deleted"].as_array().unwrap().len(), 0, "{p}");
}

#[test]
fn auto_falls_back_to_copy_when_others_are_connected_and_explicit_clone_fails() {
    let c = Cluster::shared();
    let home = tempfile::tempdir().unwrap();
    let db = c.create_db("busy");
    c.psql(
        &db,
        "CREATE TABLE t (a int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 100)",
    );
    let mut other = Command::new(c.bin_dir.join("psql"))
        .args([
            "-X",
            "-h",
            "127.0.0.1",
            "-p",
            &c.port.to_string(),
            "-U",
            "postgres",
            "-d",
            &db,
            "-c",
            "SELECT pg_sleep(60)",
        ])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    assert!(testpg::wait_for(Duration::from_secs(10), || c.psql(
        "postgres",
        &format!("SELECT count(*) FROM pg_stat_activity WHERE datname = '{db}'")
    ) != "0"));
    let url = c.url(&db);
    let out = dbguard(home.path(), &["snapshot", "--url", &url, "--strategy", "clone"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("other session") && err.contains("--strategy copy"),
        "{err}"
    );
    let snap = ok_json(home.path(), &["snapshot", "--url", &url, "--json"]);
    assert_eq!(snap["strategy"], "copy");
    assert!(snap["strategy_reason"].as_str().unwrap().contains("session"), "{snap}");
    let _ = other.kill();
    let _ = other.wait();
}

#[test]
fn corrupted_snapshot_is_detected_and_refused() {
    let c = Cluster::shared();
    let home = tempfile::tempdir().unwrap();
    let db = c.create_db("corrupt");
    c.psql(
        &db,
        "CREATE TABLE t (a int, b text); INSERT INTO t SELECT g, repeat('x', g % 50) FROM generate_series(1, 5000) g",
    );
    let url = c.url(&db);
    let snap = ok_json(home.path(), &["snapshot", "--url", &url, "--tables", "t", "--json"]);
    let id = snap["id"].as_str().unwrap();
    let dir = home.path().join("snapshots").join(id);
    let data: PathBuf = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(".copy.zst"))
        .unwrap();
    let mut bytes = std::fs::read(&data).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    std::fs::write(&data, bytes).unwrap();
    let out = dbguard(home.path(), &["verify", id]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("checksum mismatch") && err.contains("FAILED"), "{err}");
    let out = dbguard(home.path(), &["restore", id, "--url", &url]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("corrupted") && err.contains("--force-corrupt"), "{err}");
    // Not found names the nearest ids.
    let out = dbguard(home.path(), &["restore", "20000101-000000-0000", "--url", &url]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(id),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // In place without a terminal: blocked, exit 3.
    let out = dbguard(home.path(), &["restore", id, "--url", &url, "--in-place"]);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let restored = |c: &Cluster| {
        c.psql(
            "postgres",
            &format!("SELECT count(*) FROM pg_database WHERE datname LIKE '{db}_restored_%'"),
        )
    };
    assert_eq!(restored(c), "0", "a refused restore left a database behind");

    // A segment swapped for another valid one (it decompresses and loads without an
    // error): segments are checked as they load, so the COPY is aborted, nothing is kept.
    let other = ok_json(home.path(), &["snapshot", "--url", &url, "--tables", "t", "--json"]);
    let other_dir = home.path().join("snapshots").join(other["id"].as_str().unwrap());
    c.psql(&db, "INSERT INTO t SELECT g, 'more' FROM generate_series(1, 100) g");
    let third = ok_json(home.path(), &["snapshot", "--url", &url, "--tables", "t", "--json"]);
    let third_dir = home.path().join("snapshots").join(third["id"].as_str().unwrap());
    let name = data.file_name().unwrap();
    std::fs::copy(third_dir.join(name), other_dir.join(name)).unwrap();
    let out = dbguard(home.path(), &["restore", other["id"].as_str().unwrap(), "--url", &url]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is corrupted") && err.contains("rows of public.t") && err.contains("was dropped"),
        "{err}"
    );
    assert_eq!(restored(c), "0", "the partly loaded database was kept");
    // The untouched third snapshot restores.
    let out = ok_json(
        home.path(),
        &["restore", third["id"].as_str().unwrap(), "--url", &url, "--json"],
    );
    assert_eq!(out["rows"], 5100);
}

#[test]
fn concurrent_transfers_restore_consistently() {
    let c = Cluster::shared();
    let home = tempfile::tempdir().unwrap();
    let db = c.create_db("txfer");
    c.psql(
        &db,
        "CREATE TABLE a (id int PRIMARY KEY, bal bigint, pad text); CREATE TABLE b (id int PRIMARY KEY, bal bigint, pad text);
         INSERT INTO a SELECT g, 1000, repeat('p', 250) FROM generate_series(1, 300000) g;
         INSERT INTO b SELECT g, 1000, repeat('p', 250) FROM generate_series(1, 300000) g;",
    );
    let url = c.url(&db);
    // A writer moving money from a to b in transactions, as fast as it can.
    let writer_url = url.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let writer = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let (client, conn) = tokio_postgres::connect(&writer_url, tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(conn);
            let mut n = 0u64;
            while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
                let k = (n % 300000) as i32 + 1;
                let j = ((n * 7919) % 300000) as i32 + 1;
                client
                    .batch_execute(&format!("BEGIN; UPDATE a SET bal = bal - 5 WHERE id = {k}; UPDATE b SET bal = bal + 5 WHERE id = {j}; COMMIT"))
                    .await
                    .unwrap();
                n += 1;
            }
            n
        })
    });
    std::thread::sleep(Duration::from_millis(200));
    let snap = ok_json(
        home.path(),
        &[
            "snapshot",
            "--url",
            &url,
            "--tables",
            "a,b",
            "--strategy",
            "copy",
            "--json",
        ],
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let transfers = writer.join().unwrap();
    assert!(transfers > 10, "writer made {transfers} transfers");
    let id = snap["id"].as_str().unwrap();
    // Both tables are big enough to be read as two ctid ranges on two connections.
    let files = manifest(home.path(), id)["tables"][0]["files"]
        .as_array()
        .unwrap()
        .len();
    assert!(files >= 2, "expected a split read, got {files} file(s)");
    let out = ok_json(home.path(), &["restore", id, "--url", &url, "--json"]);
    let restored = out["database"].as_str().unwrap();
    let m = manifest(home.path(), id);
    assert_eq!(m["tables"][0]["rows"], 300000, "{}", m["tables"]);
    assert_eq!(m["tables"][1]["rows"], 300000, "{}", m["tables"]);
    assert_eq!(c.psql(restored, "SELECT count(*) FROM a"), "300000");
    assert_eq!(c.psql(restored, "SELECT count(*) FROM b"), "300000");
    assert_eq!(
        c.psql(restored, "SELECT (SELECT sum(bal) FROM a) + (SELECT sum(bal) FROM b)"),
        "600000000"
    );
    // The live database moved on; the snapshot is one point in time.
    assert_eq!(
        c.psql(&db, "SELECT (SELECT sum(bal) FROM a) + (SELECT sum(bal) FROM b)"),
        "600000000"
    );
}

#[test]
fn kill_during_snapshot_leaves_nothing_usable_and_debris_is_cleaned() {
    let c = Cluster::shared();
    let home = tempfile::tempdir().unwrap();
    let db = c.create_db("kill");
    c.psql(&db, "CREATE TABLE big (id bigint, pad text); INSERT INTO big SELECT g, md5(g::text) || repeat('z', 300) FROM generate_series(1, 600000) g");
    let url = c.url(&db);
    let mut child = Command::new(env!("CARGO_BIN_EXE_dbguard"))
        .args([
            "snapshot",
            "--url",
            &url,
            "--tables",
            "big",
            "--strategy",
            "copy",
            "--json",
        ])
        .env("DBGUARD_HOME", home.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let snaps = home.path().join("snapshots");
    let tmp_has_data = || {
        std::fs::read_dir(&snaps)
            .map(|rd| {
                rd.flatten().any(|e| {
                    e.file_name().to_string_lossy().starts_with(".tmp-")
                        && std::fs::read_dir(e.path())
                            .map(|f| f.flatten().any(|f| f.file_name().to_string_lossy().ends_with(".zst")))
                            .unwrap_or(false)
                })
            })
            .unwrap_or(false)
    };
    assert!(
        testpg::wait_for(Duration::from_secs(30), tmp_has_data),
        "no temp folder appeared"
    );
    assert!(
        child.try_wait().unwrap().is_none(),
        "snapshot finished before the kill: make the table bigger"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let list = ok_json(home.path(), &["snapshots", "--json"]);
    assert_eq!(list["snapshots"].as_array().unwrap().len(), 0);
    assert!(tmp_has_data(), "the debris should still be there before the next run");
    // The next run removes the debris (its owner is dead) and works.
    c.psql(&db, "CREATE TABLE small (a int); INSERT INTO small VALUES (1)");
    let snap = ok_json(home.path(), &["snapshot", "--url", &url, "--tables", "small", "--json"]);
    assert!(!tmp_has_data());
    let names: Vec<String> = std::fs::read_dir(&snaps)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(names, vec![snap["id"].as_str().unwrap().to_string()]);
}

/// Columns of user types (an extension's, an enum, a domain with a check over another
/// domain, a composite holding both, a range, arrays of them) in a non-public schema:
/// a copy snapshot restores into a new database through the catalog DDL (`--tables`) and
/// through pg_dump's (whole snapshot), with identical rows.
#[test]
fn copy_snapshot_recreates_the_types_its_tables_use() {
    let c = Cluster::shared();
    let home = tempfile::tempdir().unwrap();
    let db = c.create_db("types");
    c.psql(
        &db,
        "CREATE EXTENSION citext;
         CREATE SCHEMA app;
         CREATE TYPE app.mood AS ENUM ('sad', 'ok', 'happy');
         CREATE DOMAIN app.posint AS int CHECK (VALUE > 0);
         CREATE DOMAIN app.small_posint AS app.posint DEFAULT 1 NOT NULL CHECK (VALUE < 1000);
         CREATE TYPE app.addr AS (street text, zip app.small_posint, feel app.mood);
         CREATE TYPE app.floatrange AS RANGE (subtype = float8);
         CREATE TYPE app.\"Odd Name\" AS ENUM ('a$dbguard$b', 'it''s', '$dbguard1$');
         CREATE TABLE app.people (
             id serial PRIMARY KEY, email citext UNIQUE, mood app.mood, moods app.mood[],
             age app.posint, home app.addr, homes app.addr[], span app.floatrange,
             odd app.\"Odd Name\" DEFAULT 'it''s'
         );
         INSERT INTO app.people (email, mood, moods, age, home, homes, span)
         SELECT 'User' || g || '@X.org', (ARRAY['sad','ok','happy']::app.mood[])[1 + g % 3], ARRAY['ok','sad']::app.mood[],
                g, ROW('street ' || g, 1 + g % 900, 'happy')::app.addr,
                ARRAY[ROW('a', 5, 'ok')::app.addr], app.floatrange(g, g + 0.5)
         FROM generate_series(1, 300) g;",
    );
    let before = digest(c, &db, "app.people");
    let url = c.url(&db);
    let snap = ok_json(
        home.path(),
        &[
            "snapshot",
            "--url",
            &url,
            "--tables",
            "app.people",
            "--strategy",
            "copy",
            "--json",
        ],
    );
    let id = snap["id"].as_str().unwrap();
    c.psql(&db, "DROP SCHEMA app CASCADE; DROP EXTENSION citext");
    // Whole snapshot: pg_dump's DDL for the table, our prerequisites for its types.
    let whole = ok_json(home.path(), &["restore", id, "--url", &url, "--json"]);
    let restored = whole["database"].as_str().unwrap();
    assert_eq!(digest(c, restored, "app.people"), before);
    assert_eq!(
        c.psql(restored, "SELECT count(*) FROM app.people WHERE email = 'user7@x.org'"),
        "1",
        "citext compares without case"
    );
    let err = c.psql(
        restored,
        "DO $$ BEGIN INSERT INTO app.people (age) VALUES (0); RAISE EXCEPTION 'the domain check is missing'; EXCEPTION WHEN check_violation THEN NULL; END $$; SELECT 'checked'",
    );
    assert_eq!(err, "checked");
    // --tables: the catalog's DDL.
    let part = ok_json(
        home.path(),
        &[
            "restore",
            id,
            "--url",
            &url,
            "--tables",
            "app.people",
            "--to-database",
            &format!("{db}_part"),
            "--json",
        ],
    );
    assert_eq!(digest(c, part["database"].as_str().unwrap(), "app.people"), before);
}

#[test]
fn snapshots_list_shows_host_port_and_database_whole() {
    let c = Cluster::shared();
    let home = tempfile::tempdir().unwrap();
    let db = c.create_db("list_column_with_a_long_database_name");
    c.psql(&db, "CREATE TABLE t (a int)");
    ok_json(
        home.path(),
        &["snapshot", "--url", &c.url(&db), "--strategy", "copy", "--json"],
    );
    let out = dbguard(home.path(), &["snapshots"]);
    let screen = String::from_utf8_lossy(&out.stdout);
    let port = c
        .url(&db)
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let want = format!(" 127.0.0.1:{port}/{db} ");
    assert!(screen.contains(&want), "{want:?} not in\n{screen}");
    assert!(!screen.contains("postgres://"), "{screen}");
}
