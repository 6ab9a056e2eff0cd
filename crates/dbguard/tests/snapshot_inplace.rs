//! `dbguard restore ID --in-place` through a real pseudo-terminal, against throwaway
//! PostgreSQL databases and real SQLite files: the typed database name, a snapshot of the
//! state being replaced, table-scoped replacement that leaves other tables alone, whole
//! databases swapped with the replaced one kept, a wrong name changing nothing, and agents.

mod e2e_support;

use std::path::Path;

use e2e_support::{describe, json, World};
use rusqlite::Connection;
use testpg::Cluster;

fn pg_world() -> World {
    let cluster = Cluster::shared();
    let path = std::env::var("PATH").unwrap_or_default();
    World::new().env("PATH", &format!("{}:{path}", cluster.bin_dir.display()))
}

fn ok_json(w: &World, args: &[&str]) -> serde_json::Value {
    let out = w.dbguard(w.dir.path(), args);
    assert!(out.status.success(), "dbguard {args:?}:\n{}", describe(&out));
    json(&out)
}

/// `dbguard restore ID [--url URL] --in-place [EXTRA]` at a terminal, typing `answer`.
fn in_place(
    w: &World,
    id: &str,
    url: Option<&str>,
    extra: &[&str],
    answer: &str,
    env: &[(&str, &str)],
) -> (i32, String) {
    let mut args = vec!["restore", id];
    if let Some(u) = url {
        args.extend(["--url", u]);
    }
    args.push("--in-place");
    args.extend_from_slice(extra);
    w.dbguard_pty(w.dir.path(), &args, &[answer], env)
}

/// Snapshot ids in the store, oldest first.
fn snapshot_ids(w: &World) -> Vec<String> {
    ok_json(w, &["snapshots", "--json"])["snapshots"]
        .as_array()
        .expect("snapshots array")
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

/// Ids in `after` and not in `before`. (Not "the last one": ids sort by the second they
/// were taken in, then by a random suffix.)
fn new_ids(before: &[String], after: &[String]) -> Vec<String> {
    after.iter().filter(|id| !before.contains(id)).cloned().collect()
}

fn snapshot_entry(w: &World, id: &str) -> serde_json::Value {
    ok_json(w, &["snapshots", "--json"])["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("snapshot {id} is not listed"))
}

/// Row count and an order-independent digest of a table.
fn digest(c: &Cluster, db: &str, table: &str) -> String {
    c.psql(
        db,
        &format!(
            "SELECT count(*) || ':' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM {table} x"
        ),
    )
}

/// Does `sql` succeed on `db`? (For statements that constraints must reject.)
fn psql_ok(c: &Cluster, db: &str, sql: &str) -> bool {
    std::process::Command::new(c.bin_dir.join("psql"))
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p"])
        .arg(c.port.to_string())
        .args(["-U", "postgres", "-d", db, "-c", sql])
        .output()
        .expect("run psql")
        .status
        .success()
}

fn databases_like(c: &Cluster, pattern: &str) -> Vec<String> {
    c.psql(
        "postgres",
        &format!("SELECT datname FROM pg_database WHERE datname LIKE '{pattern}' ORDER BY 1"),
    )
    .lines()
    .map(str::to_string)
    .collect()
}

/// The word after `prefix` on the terminal (an id or a database name), without trailing punctuation.
fn word_after(screen: &str, prefix: &str) -> String {
    let i = screen
        .find(prefix)
        .unwrap_or_else(|| panic!("{prefix:?} not on the terminal:\n{screen}"));
    screen[i + prefix.len()..]
        .split(|ch: char| ch.is_whitespace() || ch == ':' || ch == ';' || ch == ',')
        .next()
        .unwrap()
        .trim_end_matches('.')
        .to_string()
}

/// The JSON object printed after the prompt (stdout and stderr share the terminal).
fn screen_json(screen: &str) -> serde_json::Value {
    let start = screen
        .find("\n{")
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("no JSON on the terminal:\n{screen}"));
    serde_json::from_str(&screen[start..]).unwrap_or_else(|e| panic!("bad JSON ({e}) on the terminal:\n{screen}"))
}

/// Two tables with sequences: `a` (serial, an index, a CHECK) with 200 rows and `b`
/// (identity) with 50.
fn two_tables(c: &Cluster, prefix: &str) -> (String, String) {
    let db = c.create_db(prefix);
    c.psql(
        &db,
        "CREATE TABLE a (id serial PRIMARY KEY, name text NOT NULL, qty int NOT NULL CHECK (qty >= 0));
         CREATE INDEX a_name_idx ON a (name);
         INSERT INTO a (name, qty) SELECT 'a' || g, g FROM generate_series(1, 200) g;
         CREATE TABLE b (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text);
         INSERT INTO b (note) SELECT 'b' || g FROM generate_series(1, 50) g;",
    );
    let url = c.url(&db);
    (db, url)
}

/// Deletes and updates rows of `a`, and inserts two (its sequence moves to 202).
const DAMAGE_A: &str = "DELETE FROM a WHERE id % 3 = 0;
     UPDATE a SET name = 'changed ' || id, qty = qty + 1000 WHERE id % 5 = 0;
     INSERT INTO a (name, qty) VALUES ('new 1', 1), ('new 2', 2);";

#[test]
fn pg_table_snapshot_in_place_replaces_only_those_tables() {
    let c = Cluster::shared();
    let w = pg_world();
    let (db, url) = two_tables(c, "inplace_tables");
    let snap = ok_json(&w, &["snapshot", "--url", &url, "--tables", "a", "--json"]);
    let id = snap["id"].as_str().unwrap().to_string();
    assert_eq!(snap["strategy"], "copy", "{snap}");
    let a_snap = digest(c, &db, "a");

    c.psql(&db, DAMAGE_A);
    c.psql(
        &db,
        "UPDATE b SET note = 'edited' WHERE id <= 10; DELETE FROM b WHERE id = 50; INSERT INTO b (note) VALUES ('b new');",
    );
    let a_damaged = digest(c, &db, "a");
    let b_changed = digest(c, &db, "b");
    assert_ne!(a_damaged, a_snap);
    let before = snapshot_ids(&w);

    let (code, screen) = in_place(&w, &id, Some(&url), &[], &db, &[]);
    assert_eq!(code, 0, "{screen}");
    for want in [
        format!("This replaces the current content of {db}"),
        "Type the database name to confirm".to_string(),
        format!("Restored snapshot {id} in place into {db}"),
        "The state it replaced is snapshot ".to_string(),
    ] {
        assert!(screen.contains(&want), "{want:?} not on the terminal:\n{screen}");
    }
    assert!(
        !screen.contains("is kept as"),
        "a table-scoped restore replaces no database:\n{screen}"
    );
    let pre = word_after(&screen, "The state it replaced is snapshot ");
    assert!(
        screen.contains(&format!("`dbguard restore {pre}` brings it back")),
        "{screen}"
    );

    // Table a holds exactly the snapshot's rows; b keeps its changes.
    assert_eq!(digest(c, &db, "a"), a_snap, "a was not restored");
    assert_eq!(digest(c, &db, "b"), b_changed, "b was touched by a restore of a only");
    // The table came back whole: index, CHECK, and a sequence that never goes back: ids
    // handed out after the snapshot (up to 202) may be held by rows of other tables.
    assert_eq!(
        c.psql(&db, "SELECT count(*) FROM pg_indexes WHERE indexname = 'a_name_idx'"),
        "1"
    );
    let max: i64 = c.psql(&db, "SELECT max(id) FROM a").parse().unwrap();
    let next: i64 = c
        .psql(&db, "INSERT INTO a (name, qty) VALUES ('after', 1) RETURNING id")
        .parse()
        .unwrap();
    assert!(next > max, "sequence of a at {next}, rows up to {max}");
    assert_eq!(next, 203);
    assert!(
        !psql_ok(c, &db, "INSERT INTO a (name, qty) VALUES ('neg', -1)"),
        "CHECK lost"
    );
    assert_eq!(c.psql(&db, "INSERT INTO b (note) VALUES ('x') RETURNING id"), "52");
    assert_eq!(
        c.psql(&db, "SELECT pg_get_serial_sequence('a', 'id')"),
        "public.a_id_seq",
        "the sequence is no longer owned by a.id"
    );

    // The replaced state was snapshotted first, and restores into a new database.
    let after = snapshot_ids(&w);
    assert_eq!(new_ids(&before, &after), vec![pre.as_str()], "{before:?} -> {after:?}");
    let entry = snapshot_entry(&w, &pre);
    assert_eq!(entry["label"], format!("before in-place restore of {id}"), "{entry}");
    assert_eq!(entry["tables"], serde_json::json!(["public.a"]), "{entry}");
    let fresh = format!("{db}_pre");
    let out = ok_json(&w, &["restore", &pre, "--url", &url, "--to-database", &fresh, "--json"]);
    assert_eq!(out["database"], fresh.as_str(), "{out}");
    assert_eq!(
        digest(c, &fresh, "a"),
        a_damaged,
        "the pre-restore snapshot lacks the damaged state"
    );
    // Its sequence was at 202 (the two rows inserted by the damage).
    assert_eq!(
        c.psql(&fresh, "INSERT INTO a (name, qty) VALUES ('x', 1) RETURNING id"),
        "203"
    );
    c.psql("postgres", &format!("DROP DATABASE \"{fresh}\""));
}

#[test]
fn pg_in_place_with_a_wrong_name_changes_nothing() {
    let c = Cluster::shared();
    let w = pg_world();
    let (db, url) = two_tables(c, "inplace_wrong");
    let snap = ok_json(&w, &["snapshot", "--url", &url, "--tables", "a", "--json"]);
    let id = snap["id"].as_str().unwrap().to_string();
    c.psql(&db, DAMAGE_A);
    let damaged = (digest(c, &db, "a"), digest(c, &db, "b"));
    let before = snapshot_ids(&w);

    let (suffixed, upper) = (format!("{db}x"), db.to_uppercase());
    for wrong in ["wrong", suffixed.as_str(), upper.as_str(), "yes"] {
        let (code, screen) = in_place(&w, &id, Some(&url), &[], wrong, &[]);
        assert_eq!(code, 3, "typing {wrong:?}:\n{screen}");
        assert!(screen.contains("Type the database name to confirm"), "{screen}");
        assert!(
            screen.contains("the name did not match; nothing was changed"),
            "typing {wrong:?}:\n{screen}"
        );
        assert!(!screen.contains("Restored snapshot"), "{screen}");
    }
    assert_eq!(
        (digest(c, &db, "a"), digest(c, &db, "b")),
        damaged,
        "a refused restore changed data"
    );
    assert_eq!(snapshot_ids(&w), before, "a refused restore took a snapshot");
    assert!(databases_like(c, &format!("{db}\\_%")).is_empty());

    // The right name, but --url names another database: refused before anything happens.
    let (other, other_url) = two_tables(c, "inplace_other");
    let other_before = digest(c, &other, "a");
    let (code, screen) = in_place(&w, &id, Some(&other_url), &[], &db, &[]);
    assert_eq!(code, 1, "{screen}");
    assert!(
        screen.contains(&format!("--in-place would replace {other}")) && screen.contains("point --url at"),
        "{screen}"
    );
    assert_eq!(digest(c, &other, "a"), other_before);
    assert_eq!((digest(c, &db, "a"), digest(c, &db, "b")), damaged);
    assert_eq!(snapshot_ids(&w), before);
}

/// Whole-database snapshot with `strategy` (None: auto), damage, in-place restore: the
/// database keeps its name and holds the snapshot; the replaced one is kept, damaged.
fn whole_database(strategy: Option<&str>, expect: &str, json_out: bool) {
    let c = Cluster::shared();
    let w = pg_world();
    let (db, url) = two_tables(c, &format!("inplace_whole_{expect}"));
    let mut args = vec!["snapshot", "--url", &url, "--json"];
    if let Some(s) = strategy {
        args.extend(["--strategy", s]);
    }
    let snap = ok_json(&w, &args);
    let id = snap["id"].as_str().unwrap().to_string();
    assert_eq!(snap["strategy"], expect, "{snap}");
    let original = (digest(c, &db, "a"), digest(c, &db, "b"));

    c.psql(&db, DAMAGE_A);
    c.psql(&db, "DROP TABLE b; CREATE TABLE c (x int); INSERT INTO c VALUES (1);");
    let damaged_a = digest(c, &db, "a");
    let before = snapshot_ids(&w);

    let extra: &[&str] = if json_out { &["--json"] } else { &[] };
    let (code, screen) = in_place(&w, &id, Some(&url), extra, &db, &[]);
    assert_eq!(code, 0, "{screen}");
    assert!(
        screen.contains(&format!("This replaces the current content of {db}")),
        "{screen}"
    );
    let (kept, pre) = if json_out {
        let out = screen_json(&screen);
        assert_eq!(out["in_place"], true, "{out}");
        assert_eq!(out["database"], db.as_str(), "{out}");
        (
            out["replaced_database_kept_as"]
                .as_str()
                .expect("replaced_database_kept_as")
                .to_string(),
            out["pre_restore_snapshot"]
                .as_str()
                .expect("pre_restore_snapshot")
                .to_string(),
        )
    } else {
        assert!(
            screen.contains(&format!("Restored snapshot {id} in place into {db}")),
            "{screen}"
        );
        assert!(screen.contains("drop it when you no longer need it"), "{screen}");
        (
            word_after(&screen, "The replaced database is kept as "),
            word_after(&screen, "The state it replaced is snapshot "),
        )
    };
    assert!(kept.starts_with(&format!("{db}_replaced_")), "{kept}");

    // The database named like the original holds the snapshot, and only it.
    assert_eq!(
        (digest(c, &db, "a"), digest(c, &db, "b")),
        original,
        "{db} was not restored"
    );
    assert!(
        !e2e_support::table_exists(c, &db, "c"),
        "a table created after the snapshot survived"
    );
    assert_eq!(
        c.psql(&db, "INSERT INTO a (name, qty) VALUES ('x', 1) RETURNING id"),
        "201"
    );
    assert_eq!(c.psql(&db, "INSERT INTO b (note) VALUES ('x') RETURNING id"), "51");
    // The replaced database holds the damaged state.
    assert_eq!(digest(c, &kept, "a"), damaged_a, "{kept} is not the replaced database");
    assert!(!e2e_support::table_exists(c, &kept, "b"));
    assert_eq!(c.psql(&kept, "SELECT x FROM c"), "1");
    // No staging database left behind.
    assert!(databases_like(c, &format!("{db}\\_restoring\\_%")).is_empty());

    // The replaced state was also snapshotted.
    let after = snapshot_ids(&w);
    assert_eq!(new_ids(&before, &after), vec![pre.as_str()], "{before:?} -> {after:?}");
    assert_eq!(
        snapshot_entry(&w, &pre)["label"],
        format!("before in-place restore of {id}")
    );
    c.psql("postgres", &format!("DROP DATABASE \"{kept}\""));
}

#[test]
fn pg_whole_database_auto_clone_in_place_keeps_the_replaced_database() {
    whole_database(None, "clone", false);
}

#[test]
fn pg_whole_database_dump_in_place_keeps_the_replaced_database() {
    whole_database(Some("dump"), "dump", true);
}

#[test]
fn pg_whole_database_in_place_with_another_session_changes_nothing() {
    let c = Cluster::shared();
    let w = pg_world();
    let (db, url) = two_tables(c, "inplace_busy");
    let snap = ok_json(&w, &["snapshot", "--url", &url, "--json"]);
    let id = snap["id"].as_str().unwrap().to_string();
    assert_eq!(snap["strategy"], "clone", "{snap}");
    c.psql(&db, DAMAGE_A);
    let damaged = (digest(c, &db, "a"), digest(c, &db, "b"));

    // An application holding a connection to the database.
    let mut app = std::process::Command::new(c.bin_dir.join("psql"))
        .args(["-X", "-q", "-h", "127.0.0.1", "-p"])
        .arg(c.port.to_string())
        .args(["-U", "postgres", "-d", &db])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start psql");
    let sessions = || {
        c.psql(
            "postgres",
            &format!("SELECT count(*) FROM pg_stat_activity WHERE datname = '{db}'"),
        )
    };
    assert!(
        testpg::wait_for(std::time::Duration::from_secs(10), || sessions() == "1"),
        "the application session did not connect"
    );

    let snapshots_before = snapshot_ids(&w);
    let (code, screen) = in_place(&w, &id, Some(&url), &[], &db, &[]);
    let _ = app.kill();
    let _ = app.wait();
    assert_eq!(code, 1, "{screen}");
    assert!(
        screen.contains(&format!("cannot replace {db} while 1 other session(s) are connected"))
            && screen.contains("close them and retry (nothing was changed)"),
        "{screen}"
    );
    assert!(!screen.contains("Restored snapshot"), "{screen}");
    assert_eq!(
        snapshot_ids(&w),
        snapshots_before,
        "refused before any work, no pre-restore snapshot"
    );
    assert_eq!((digest(c, &db, "a"), digest(c, &db, "b")), damaged, "{db} changed");
    assert!(
        databases_like(c, &format!("{db}\\_restoring\\_%")).is_empty(),
        "staging left behind"
    );
    assert!(databases_like(c, &format!("{db}\\_replaced\\_%")).is_empty());

    // Once the session is gone, the same restore goes through.
    assert!(testpg::wait_for(std::time::Duration::from_secs(10), || sessions() == "0"));
    let (code, screen) = in_place(&w, &id, Some(&url), &[], &db, &[]);
    assert_eq!(code, 0, "{screen}");
    let kept = word_after(&screen, "The replaced database is kept as ");
    assert_eq!(digest(c, &kept, "a"), damaged.0);
    assert_eq!(c.psql(&db, "SELECT count(*) FROM a"), "200");
    c.psql("postgres", &format!("DROP DATABASE \"{kept}\""));
}

fn sqlite_rows(path: &Path) -> Vec<String> {
    let c = Connection::open(path).unwrap();
    let mut stmt = c
        .prepare("SELECT quote(id) || ',' || quote(name) || ',' || quote(qty) FROM items ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

#[test]
fn sqlite_in_place_restores_the_file_and_snapshots_it_first() {
    let w = World::new();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.db");
    {
        let conn = Connection::open(&file).unwrap();
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        conn.execute_batch(
            "CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, qty INTEGER);
             WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 300)
             INSERT INTO items (name, qty) SELECT 'item ' || n, n FROM g;",
        )
        .unwrap();
    }
    let file_s = file.to_str().unwrap();
    let snap = ok_json(&w, &["snapshot", "--url", file_s, "--json"]);
    let id = snap["id"].as_str().unwrap().to_string();
    let original = sqlite_rows(&file);
    assert_eq!(original.len(), 300);

    {
        let conn = Connection::open(&file).unwrap();
        conn.execute_batch(
            "DELETE FROM items WHERE id % 4 = 0; UPDATE items SET name = 'changed' WHERE id % 7 = 0;
             INSERT INTO items (name, qty) VALUES ('late', 0); CREATE TABLE extra (x);",
        )
        .unwrap();
    }
    let damaged = sqlite_rows(&file);
    let before = snapshot_ids(&w);

    // The prompt asks for the file's name.
    let (code, screen) = in_place(&w, &id, None, &[], "app.db", &[]);
    assert_eq!(code, 0, "{screen}");
    assert!(
        screen.contains("This replaces the current content of app.db"),
        "{screen}"
    );
    assert!(
        screen.contains(&format!("Restored snapshot {id} in place into app.db")),
        "{screen}"
    );
    let pre = word_after(&screen, "The state it replaced is snapshot ");

    assert_eq!(sqlite_rows(&file), original, "the file does not hold the snapshot");
    let conn = Connection::open(&file).unwrap();
    let extra: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_master WHERE name = 'extra'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(extra, 0, "a table created after the snapshot survived");
    let next: i64 = conn
        .query_row("INSERT INTO items (name) VALUES ('after') RETURNING id", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(next, 301);
    drop(conn);
    // No temporary file left next to the database.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(".dbguard"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    let after = snapshot_ids(&w);
    assert_eq!(new_ids(&before, &after), vec![pre.as_str()], "{before:?} -> {after:?}");
    let back = dir.path().join("back.db");
    ok_json(&w, &["restore", &pre, "--to-file", back.to_str().unwrap(), "--json"]);
    assert_eq!(
        sqlite_rows(&back),
        damaged,
        "the pre-restore snapshot lacks the damaged state"
    );
}

#[test]
fn agents_never_get_the_in_place_prompt_even_in_a_terminal() {
    let c = Cluster::shared();
    let w = pg_world();
    let (db, url) = two_tables(c, "inplace_agent");
    let snap = ok_json(&w, &["snapshot", "--url", &url, "--tables", "a", "--json"]);
    let id = snap["id"].as_str().unwrap().to_string();
    c.psql(&db, DAMAGE_A);
    let damaged = digest(c, &db, "a");
    let before = snapshot_ids(&w);

    for var in ["CLAUDECODE", "CURSOR_AGENT", "CODEX_SANDBOX", "GEMINI_CLI"] {
        // An agent driving a terminal could type the name: it must not be asked at all.
        let (code, screen) = in_place(&w, &id, Some(&url), &[], &db, &[(var, "1")]);
        assert_eq!(code, 3, "{var}=1: --in-place was not refused:\n{screen}");
        assert!(
            !screen.contains("Type the database name"),
            "{var}=1: prompted:\n{screen}"
        );
        assert!(
            screen.contains("dbguard restore"),
            "the safe alternative is not named:\n{screen}"
        );
        assert_eq!(digest(c, &db, "a"), damaged, "{var}=1: the database was replaced");
        assert_eq!(snapshot_ids(&w), before, "{var}=1: a snapshot was taken");
    }
    // The same terminal without the agent variable is asked.
    let (code, screen) = in_place(&w, &id, Some(&url), &[], "no", &[]);
    assert_eq!(code, 3, "{screen}");
    assert!(screen.contains("Type the database name"), "{screen}");
}

#[test]
fn in_place_ignores_what_was_typed_before_the_question() {
    let w = World::new();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("early.db");
    Connection::open(&file)
        .unwrap()
        .execute_batch("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER); INSERT INTO items VALUES (1, 'one', 1);")
        .unwrap();
    let snap = ok_json(&w, &["snapshot", "--url", file.to_str().unwrap(), "--json"]);
    let id = snap["id"].as_str().unwrap().to_string();
    Connection::open(&file)
        .unwrap()
        .execute_batch("DELETE FROM items")
        .unwrap();
    let before = snapshot_ids(&w);

    // The name, typed (or pasted, or sent by a script) before the question was asked, must
    // not answer it: the real answer comes after the prompt and is wrong.
    let (code, screen) = w.dbguard_pty(
        w.dir.path(),
        &["restore", &id, "--in-place"],
        &["not-the-name"],
        &[("PTY_TYPEAHEAD", "early.db")],
    );
    assert_eq!(code, 3, "typeahead answered the question:\n{screen}");
    assert!(screen.contains("nothing was changed"), "{screen}");
    assert!(sqlite_rows(&file).is_empty(), "the file was restored");
    assert_eq!(snapshot_ids(&w), before);
}

/// A database of the same name on another server is another database: refused before the
/// question is asked, nothing replaced (a review found the name alone compared, and the
/// prompt showing the snapshot's server while the other one was replaced).
#[test]
fn in_place_refuses_another_server_with_the_same_database_name() {
    let a = Cluster::shared();
    let b = Cluster::start();
    let name = format!("inplace_same_{}", std::process::id());
    for c in [a, &b] {
        c.psql("postgres", &format!("CREATE DATABASE \"{name}\""));
    }
    a.psql(&name, "CREATE TABLE t (v text); INSERT INTO t VALUES ('from server A')");
    b.psql(
        &name,
        "CREATE TABLE t (v text); INSERT INTO t VALUES ('precious rows on server B')",
    );
    let w = pg_world();
    let snap = ok_json(&w, &["snapshot", "--url", &a.url(&name), "--tables", "t", "--json"]);
    let id = snap["id"].as_str().unwrap().to_string();
    let (code, screen) = w.dbguard_pty(
        w.dir.path(),
        &["restore", &id, "--url", &b.url(&name), "--in-place"],
        &[&name],
        &[],
    );
    assert_eq!(code, 1, "{screen}");
    assert!(screen.contains("--in-place would replace"), "{screen}");
    assert!(!screen.contains("Type the database name"), "asked anyway:\n{screen}");
    assert_eq!(
        e2e_support::rows(&b, &name, "t"),
        vec![r#"{"v":"precious rows on server B"}"#]
    );
}
