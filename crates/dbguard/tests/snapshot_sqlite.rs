//! SQLite snapshot and restore with real files, through the real binary.

mod snapshot_support;
use snapshot_support::{dbguard, ok_json};

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use rusqlite::Connection;

fn rows(path: &Path, table: &str) -> Vec<String> {
    let c = Connection::open(path).unwrap();
    let mut stmt = c
        .prepare(&format!(
            "SELECT quote(id) || quote(i) || quote(r) || quote(t) || quote(b) || quote(n) FROM {table} ORDER BY id"
        ))
        .unwrap();
    stmt.query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

fn make(path: &Path, wal: bool) {
    let c = Connection::open(path).unwrap();
    if wal {
        let mode: String = c.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
    }
    c.execute_batch(
        "CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, i INTEGER, r REAL, t TEXT, b BLOB, n TEXT);
         CREATE INDEX items_t ON items (t);
         CREATE TABLE notes (id INTEGER PRIMARY KEY, i INTEGER, r REAL, t TEXT, b BLOB, n TEXT);",
    )
    .unwrap();
    let tx = c.unchecked_transaction().unwrap();
    for g in 0..5000i64 {
        tx.execute(
            "INSERT INTO items (i, r, t, b, n) VALUES (?1, ?2, ?3, ?4, ?5)",
            rusqlite::params![
                g * 1_000_000_007,
                g as f64 / 3.0,
                format!("row {g}\nnewline"),
                vec![(g % 256) as u8; 16],
                if g % 7 == 0 { None } else { Some("x") }
            ],
        )
        .unwrap();
    }
    tx.execute("INSERT INTO notes VALUES (1, 2, 3.5, 'a', x'00ff', NULL)", [])
        .unwrap();
    tx.commit().unwrap();
}

fn roundtrip(wal: bool) {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let db = work.path().join("app.db");
    make(&db, wal);
    let before = (rows(&db, "items"), rows(&db, "notes"));
    // A writer holding the database open (and, in WAL mode, writing) during the snapshot.
    let writer = Connection::open(&db).unwrap();
    writer
        .execute("INSERT INTO notes VALUES (2, 0, 0, 'uncommitted', NULL, NULL)", [])
        .ok();
    writer
        .execute_batch("BEGIN; INSERT INTO notes VALUES (3, 0, 0, 'in flight', NULL, NULL);")
        .unwrap();
    let db_s = db.to_str().unwrap();
    let snap = ok_json(home.path(), &["snapshot", "--url", db_s, "--json"]);
    writer.execute_batch("ROLLBACK").unwrap();
    writer.execute("DELETE FROM notes WHERE id = 2", []).unwrap();
    drop(writer);
    let id = snap["id"].as_str().unwrap().to_string();
    assert_eq!(snap["strategy"], "sqlite_backup");
    assert_eq!(snap["rows"], 5002);
    // The app drops its tables.
    Connection::open(&db)
        .unwrap()
        .execute_batch("DROP TABLE items; DROP TABLE notes;")
        .unwrap();
    let out = ok_json(home.path(), &["restore", &id, "--json"]);
    let restored = std::path::PathBuf::from(out["restored_to"].as_str().unwrap());
    assert_eq!(restored.parent().unwrap(), std::fs::canonicalize(work.path()).unwrap());
    assert!(restored
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with("app_restored_"));
    let mut notes = rows(&restored, "notes");
    assert_eq!(notes.len(), 2);
    notes.retain(|r| !r.contains("uncommitted"));
    assert_eq!((rows(&restored, "items"), notes), before);
    let next: i64 = Connection::open(&restored)
        .unwrap()
        .query_row("INSERT INTO items (i) VALUES (0) RETURNING id", [], |r| r.get(0))
        .unwrap();
    assert_eq!(next, 5001);
    // Never overwrite.
    let out = dbguard(home.path(), &["restore", &id, "--to-file", restored.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    let v = ok_json(home.path(), &["verify", &id, "--deep", "--json"]);
    assert_eq!(v["ok"], true, "{v}");
    let dir = home.path().join("snapshots").join(&id);
    assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        assert_eq!(
            e.metadata().unwrap().permissions().mode() & 0o777,
            0o600,
            "{}",
            e.path().display()
        );
    }
    // Corruption is caught.
    let data = dir.join("database.sqlite.zst");
    let mut bytes = std::fs::read(&data).unwrap();
    let last = bytes.len() - 3;
    bytes[last] ^= 1;
    std::fs::write(&data, bytes).unwrap();
    let out = dbguard(home.path(), &["verify", &id]);
    assert_eq!(out.status.code(), Some(1));
    let out = dbguard(
        home.path(),
        &["restore", &id, "--to-file", work.path().join("x.db").to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(!work.path().join("x.db").exists());
}

#[test]
fn sqlite_rollback_journal_roundtrip() {
    roundtrip(false);
}

#[test]
fn sqlite_wal_roundtrip_with_open_writer() {
    roundtrip(true);
}

#[test]
fn listing_hundreds_of_snapshots_is_fast() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let db = work.path().join("tiny.db");
    Connection::open(&db)
        .unwrap()
        .execute_batch("CREATE TABLE t (a); INSERT INTO t VALUES (1);")
        .unwrap();
    let snap = ok_json(home.path(), &["snapshot", "--url", db.to_str().unwrap(), "--json"]);
    let id = snap["id"].as_str().unwrap();
    let src = home.path().join("snapshots").join(id);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(src.join("manifest.json")).unwrap()).unwrap();
    // 400 copies with distinct ids, under another database key so retention leaves them alone.
    for n in 0..400 {
        let new_id = format!("20200101-{:06}-{:04x}", n, n);
        let d = home.path().join("snapshots").join(&new_id);
        std::fs::create_dir(&d).unwrap();
        let mut m = manifest.clone();
        m["id"] = serde_json::Value::String(new_id.clone());
        m["source"]["key"] = serde_json::Value::String(format!("/elsewhere/{n}.db"));
        std::fs::write(d.join("manifest.json"), serde_json::to_vec(&m).unwrap()).unwrap();
    }
    let start = std::time::Instant::now();
    let list = ok_json(home.path(), &["snapshots", "--json"]);
    let took = start.elapsed();
    let all = list["snapshots"].as_array().unwrap();
    assert_eq!(all.len(), 401);
    assert_eq!(all[0]["id"], "20200101-000000-0000");
    assert_eq!(all[400]["id"], id);
    eprintln!("listing 401 snapshots took {took:?}");
    assert!(took < std::time::Duration::from_secs(2), "{took:?}");
}
