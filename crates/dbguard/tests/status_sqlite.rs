//! `dbguard status` on real SQLite files: tables with exact counts and sizes, migration
//! tables, a Prisma project whose `file:` URL is relative to the schema, and a missing
//! file (a clear error, and no empty database created).

mod isolated;

use std::path::Path;

use serde_json::Value;

fn dbguard(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let o = isolated::run(cwd, args, env);
    (o.code, o.stdout, o.stderr)
}

fn make_db(path: &Path) {
    let c = rusqlite::Connection::open(path).unwrap();
    c.execute_batch(
        "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 250) INSERT INTO users(email) SELECT 'u' || i FROM n;
         CREATE INDEX users_email ON users(email);
         CREATE TABLE posts(id INTEGER PRIMARY KEY, user_id INTEGER, body TEXT);
         INSERT INTO posts(user_id, body) VALUES (1, 'a'), (2, 'b');
         CREATE TABLE django_migrations(id INTEGER PRIMARY KEY, app TEXT, name TEXT, applied TEXT);
         INSERT INTO django_migrations(app, name, applied) VALUES ('auth', '0001_initial', '2024-01-01 00:00:00'), ('shop', '0002_posts', '2024-03-01 00:00:00');",
    )
    .unwrap();
}

#[test]
fn sqlite_file_tables_counts_and_migrations() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    make_db(&db);
    let (code, out, err) = dbguard(dir.path(), &["status", "--url", db.to_str().unwrap(), "--json"], &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    let j: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["target"]["engine"], "sqlite");
    assert_eq!(j["target"]["environment"], "development");
    assert_eq!(j["target"]["environment_rule"], "SQLite file (local)");
    assert_eq!(j["server"]["engine"], "sqlite");
    assert!(j["search_path"].is_null());
    let tables = j["tables"].as_array().unwrap();
    let users = tables.iter().find(|t| t["name"] == "users").unwrap();
    assert_eq!(users["rows"], 250);
    assert_eq!(users["rows_exact"], true);
    assert!(users["bytes"].as_i64().unwrap() > 0);
    assert_eq!(tables.iter().find(|t| t["name"] == "posts").unwrap()["rows"], 2);
    assert_eq!(j["totals"]["tables"], 3);
    let m = &j["migrations"][0];
    assert_eq!(m["tool"], "django");
    assert_eq!(m["last"], "shop.0002_posts");
    assert_eq!(m["applied"], 2);

    // The file is untouched by status (read-only open).
    let before = std::fs::read(&db).unwrap();
    let (code, text, _) = dbguard(dir.path(), &["status", "--url", db.to_str().unwrap()], &[]);
    assert_eq!(code, 0);
    assert_eq!(std::fs::read(&db).unwrap(), before);
    assert!(text.contains("Engine       SQLite"), "{text}");
    assert!(text.contains("main.users"), "{text}");
    assert!(text.contains("shop.0002_posts"), "{text}");
}

#[test]
fn missing_sqlite_file_is_an_error_not_a_new_database() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.db");
    let url = format!("file:{}", missing.display());
    let (code, out, err) = dbguard(dir.path(), &["status", "--url", &url], &[]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("SQLite database file not found") && err.contains("nope.db"),
        "{err}"
    );
    assert!(!missing.exists(), "status must not create the file");
}

#[test]
fn prisma_sqlite_project_resolves_relative_to_schema() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("prisma")).unwrap();
    std::fs::write(
        dir.path().join("prisma/schema.prisma"),
        "datasource db {\n  provider = \"sqlite\"\n  url      = env(\"DATABASE_URL\")\n}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join(".env"), "DATABASE_URL=\"file:./dev.db\"\n").unwrap();
    make_db(&dir.path().join("prisma/dev.db"));
    let (code, out, err) = dbguard(dir.path(), &["status", "--json"], &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    let j: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        j["target"]["file"],
        dir.path().join("prisma/dev.db").display().to_string()
    );
    assert_eq!(
        j["target"]["source"],
        ".env: DATABASE_URL (named by prisma/schema.prisma: datasource url)"
    );
    assert_eq!(j["totals"]["tables"], 3);
}
