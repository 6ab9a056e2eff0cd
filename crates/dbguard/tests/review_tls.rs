//! Review findings on TLS: connection settings that libpq verifies (or refuses) and
//! dbguard connects with, unverified. Ground truth: psql (libpq) against the same server.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use testpg::Cluster;

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

/// Whether `dbguard status` reached the server, and everything it printed.
fn connects(home: &Path, url: &str) -> (bool, String) {
    let out = dbguard(home, &["status", "--url", url, "--json"]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (j["server"]["engine"] == "postgresql", all)
}

/// Whether psql (libpq) connects with the same string and HOME.
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

/// A CA that did not sign the server's certificate (PEM).
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
        .unwrap();
    assert!(out.status.success());
    let p = dir.join("other-ca.pem");
    std::fs::write(&p, &out.stdout).unwrap();
    p
}

fn url(db: &str, query: &str) -> String {
    format!("postgres://postgres@localhost:{}/{db}?{query}", cluster().port)
}

/// libpq: with `sslmode=require` and a root certificate file present (the default
/// `~/.postgresql/root.crt` too), the server's certificate is verified as with verify-ca.
/// dbguard only upgrades when `sslrootcert` is written out, so a user who put their CA in
/// `~/.postgresql/root.crt` (as the libpq docs tell them to) gets an unchecked certificate.
#[test]
fn require_with_default_root_crt_verifies_like_libpq() {
    let c = cluster();
    let db = c.create_db("rv_rootcrt");
    let home = tempfile::tempdir().unwrap();
    let pgdir = home.path().join(".postgresql");
    std::fs::create_dir_all(&pgdir).unwrap();
    let wrong = other_ca(home.path());
    std::fs::copy(&wrong, pgdir.join("root.crt")).unwrap();
    let u = url(&db, "sslmode=require");
    let (psql_ok, psql_err) = psql_connects(home.path(), &u);
    assert!(!psql_ok, "libpq verifies against ~/.postgresql/root.crt and refuses");
    assert!(psql_err.contains("certificate verify failed"), "{psql_err}");
    let (ok, all) = connects(home.path(), &u);
    assert!(
        !ok,
        "dbguard connected although the server's certificate is not signed by ~/.postgresql/root.crt: {all}"
    );
}

/// libpq (16+): `sslrootcert=system` makes the default sslmode verify-full ("In most
/// cases it is trivial for anyone to obtain a certificate trusted by the system for a
/// hostname they control"). dbguard keeps the default `prefer`: no check at all, and a
/// plain-text fallback. Here the server's certificate is from a private CA the system does
/// not trust, so a verify-full connection must fail.
#[test]
fn sslrootcert_system_defaults_to_verify_full() {
    let c = cluster();
    let db = c.create_db("rv_system");
    let home = tempfile::tempdir().unwrap();
    let (ok, all) = connects(home.path(), &url(&db, "sslrootcert=system"));
    assert!(
        !ok,
        "sslrootcert=system asked for the system's CAs, yet an untrusted certificate was accepted: {all}"
    );
}

/// libpq allows spaces around `=` (`password = secret`), and so does the new splitter, but
/// `redact_url` only masks `password=` written without them: the password is printed in
/// the connection error and on `check`'s "database:" line. A quoted password with an
/// escaped quote and a space (`password='a\'b c'`) has its tail (` c`) printed.
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
