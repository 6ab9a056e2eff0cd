//! TLS connections with libpq's `sslmode` meanings, against a real PostgreSQL that accepts
//! TCP clients only over TLS (testpg `start_tls`: a throwaway CA and a `localhost` cert).

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use testpg::Cluster;

const SECRET: &str = "tls-hunter2";

fn cluster() -> &'static Cluster {
    static C: OnceLock<Cluster> = OnceLock::new();
    C.get_or_init(Cluster::start_tls)
}

fn dbguard(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dbguard"))
        .args(args)
        .env("DBGUARD_HOME", home)
        .env("HOME", home)
        .env_remove("DATABASE_URL")
        .env_remove("PGSSLMODE")
        .env_remove("PGSSLROOTCERT")
        .stdin(Stdio::null())
        .output()
        .expect("run dbguard")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `dbguard status --json` for a URL: (connected to the server, everything printed).
fn status(home: &Path, url: &str) -> (bool, String) {
    let out = dbguard(home, &["status", "--url", url, "--json"]);
    let all = text(&out);
    assert!(!all.contains(SECRET), "password leaked: {all}");
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (j["server"]["engine"] == "postgresql", all)
}

fn url(host: &str, db: &str, query: &str) -> String {
    format!("postgres://postgres:{SECRET}@{host}:{}/{db}?{query}", cluster().port)
}

#[test]
fn sslmodes_follow_libpq() {
    let c = cluster();
    let db = c.create_db("tls");
    c.psql(
        &db,
        "CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 5)",
    );
    let home = tempfile::tempdir().unwrap();
    let ca = c.ca_cert();
    let ca = ca.to_str().unwrap();

    // The server refuses plain connections: disable fails, with the hint to try TLS.
    let (ok, all) = status(home.path(), &url("127.0.0.1", &db, "sslmode=disable"));
    assert!(!ok, "{all}");
    assert!(all.contains("sslmode=require"), "{all}");
    // prefer (the default) and require encrypt without checking the certificate.
    for q in ["", "sslmode=prefer", "sslmode=require", "sslmode=allow"] {
        let (ok, all) = status(home.path(), &url("127.0.0.1", &db, q));
        assert!(ok, "{q}: {all}");
    }
    // verify-full: the CA and the name must match.
    let (ok, all) = status(
        home.path(),
        &url("localhost", &db, &format!("sslmode=verify-full&sslrootcert={ca}")),
    );
    assert!(ok, "{all}");
    let (ok, all) = status(
        home.path(),
        &url("127.0.0.1", &db, &format!("sslmode=verify-full&sslrootcert={ca}")),
    );
    assert!(!ok, "the certificate is for localhost, not 127.0.0.1: {all}");
    assert!(all.contains("verify-ca"), "{all}");
    // verify-ca: the CA only; and require with a root certificate behaves the same.
    for q in [
        format!("sslmode=verify-ca&sslrootcert={ca}"),
        format!("sslmode=require&sslrootcert={ca}"),
    ] {
        let (ok, all) = status(home.path(), &url("127.0.0.1", &db, &q));
        assert!(ok, "{q}: {all}");
    }
    // Another CA: refused, with the next step.
    let other = home.path().join("other-ca.pem");
    let own = std::fs::read_to_string(c.ca_cert()).unwrap();
    let wrong = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-days",
            "1",
            "-subj",
            "/CN=other",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "/dev/null",
        ])
        .output()
        .unwrap();
    assert!(wrong.status.success());
    std::fs::write(&other, &wrong.stdout).unwrap();
    assert_ne!(own.as_bytes(), wrong.stdout.as_slice());
    let (ok, all) = status(
        home.path(),
        &url(
            "localhost",
            &db,
            &format!("sslmode=verify-full&sslrootcert={}", other.display()),
        ),
    );
    assert!(!ok, "{all}");
    assert!(all.contains("sslrootcert"), "{all}");
    // verify-full without any root certificate: says what is missing (as psql would).
    let (ok, all) = status(home.path(), &url("localhost", &db, "sslmode=verify-full"));
    assert!(!ok, "{all}");
    assert!(all.contains("sslrootcert=/path/to/ca.pem"), "{all}");
    // Not an sslmode.
    let (ok, all) = status(home.path(), &url("localhost", &db, "sslmode=yes"));
    assert!(!ok && all.contains("verify-full"), "{all}");
}

#[test]
fn keyword_value_strings_carry_tls_settings() {
    let c = cluster();
    let db = c.create_db("tls_kv");
    let home = tempfile::tempdir().unwrap();
    let conn = format!(
        "host=localhost port={} user=postgres password='{SECRET}' dbname={db} sslmode=verify-full sslrootcert='{}'",
        c.port,
        c.ca_cert().display()
    );
    let (ok, all) = status(home.path(), &conn);
    assert!(ok, "{all}");
}

#[test]
fn snapshot_and_restore_over_tls() {
    let c = cluster();
    let db = c.create_db("tls_snap");
    c.psql(
        &db,
        "CREATE TABLE items (id serial PRIMARY KEY, name text); INSERT INTO items (name) SELECT 'i' || g FROM generate_series(1, 3000) g",
    );
    let home = tempfile::tempdir().unwrap();
    let u = url(
        "localhost",
        &db,
        &format!("sslmode=verify-full&sslrootcert={}", c.ca_cert().display()),
    );
    let out = dbguard(home.path(), &["snapshot", "--url", &u, "--tables", "items", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains(SECRET));
    let snap: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    c.psql(&db, "DROP TABLE items");
    let out = dbguard(
        home.path(),
        &["restore", snap["id"].as_str().unwrap(), "--url", &u, "--json"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains(SECRET));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let restored = r["database"].as_str().unwrap();
    assert_eq!(c.psql(restored, "SELECT count(*) FROM items"), "3000");
}
