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

/// Whether psql (libpq) connects with the same string and HOME: the ground truth.
fn psql_connects(home: &Path, url: &str) -> (bool, String) {
    let out = Command::new(cluster().bin_dir.join("psql"))
        .args(["-X", "-A", "-t", "-c", "SELECT 1", url])
        .env("HOME", home)
        .env_remove("PGSSLMODE")
        .env_remove("PGSSLROOTCERT")
        .stdin(Stdio::null())
        .output()
        .expect("run psql");
    (out.status.success(), String::from_utf8_lossy(&out.stderr).to_string())
}

/// A CA that did not sign the server's certificate (PEM), in `dir`.
fn other_ca(dir: &Path) -> std::path::PathBuf {
    let out = Command::new("openssl")
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
        .expect("run openssl");
    assert!(out.status.success());
    let p = dir.join("other-ca.pem");
    std::fs::write(&p, &out.stdout).unwrap();
    p
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
    let other = other_ca(home.path());
    assert_ne!(std::fs::read(c.ca_cert()).unwrap(), std::fs::read(&other).unwrap());
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

/// libpq: with `sslmode=require` and a root certificate file present (the default
/// `~/.postgresql/root.crt` too), the server's certificate is verified as with verify-ca.
/// (A review found dbguard upgrading only when `sslrootcert` was written out.)
#[test]
fn require_with_default_root_crt_verifies_like_libpq() {
    let c = cluster();
    let db = c.create_db("rv_rootcrt");
    let home = tempfile::tempdir().unwrap();
    let pgdir = home.path().join(".postgresql");
    std::fs::create_dir_all(&pgdir).unwrap();
    let wrong = other_ca(home.path());
    std::fs::copy(&wrong, pgdir.join("root.crt")).unwrap();
    let u = url("localhost", &db, "sslmode=require");
    let (psql_ok, psql_err) = psql_connects(home.path(), &u);
    assert!(!psql_ok, "libpq verifies against ~/.postgresql/root.crt and refuses");
    assert!(psql_err.contains("certificate verify failed"), "{psql_err}");
    let (ok, all) = status(home.path(), &u);
    assert!(
        !ok,
        "dbguard connected although the server's certificate is not signed by ~/.postgresql/root.crt: {all}"
    );
}

/// libpq (16+): `sslrootcert=system` makes the default sslmode verify-full ("In most
/// cases it is trivial for anyone to obtain a certificate trusted by the system for a
/// hostname they control"). The server's certificate is from a private CA the system does
/// not trust, so the connection must fail (it used to be `prefer`: no check at all).
#[test]
fn sslrootcert_system_defaults_to_verify_full() {
    let c = cluster();
    let db = c.create_db("rv_system");
    let home = tempfile::tempdir().unwrap();
    let (ok, all) = status(home.path(), &url("localhost", &db, "sslrootcert=system"));
    assert!(
        !ok,
        "sslrootcert=system asked for the system's CAs, yet an untrusted certificate was accepted: {all}"
    );
}

/// libpq allows spaces around `=` (`password = secret`) and escaped quotes inside quoted
/// values (`password='a\'b c'`): neither may let the password (or its tail) through to the
/// connection error or `check`'s "database:" line.
#[test]
fn keyword_value_passwords_are_never_printed() {
    let home = tempfile::tempdir().unwrap();
    for (conn, secret) in [
        ("host=127.0.0.1 port=1 user=u password = hunter2 dbname=x", "hunter2"),
        (
            r"host=127.0.0.1 port=1 user=u password='hun\'ter tail2' dbname=x",
            "tail2",
        ),
    ] {
        let out = dbguard(home.path(), &["status", "--url", conn]);
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains(secret), "status printed the password: {all}");
        let out = dbguard(home.path(), &["check", "--url", conn, "--", "psql -c 'DROP TABLE t'"]);
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains(secret), "check printed the password: {all}");
    }
}
