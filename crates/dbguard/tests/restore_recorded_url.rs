//! `dbguard restore ID` without `--url` or DATABASE_URL: the snapshot's recorded server is
//! used when it lets dbguard in without the password the manifest does not keep (trust,
//! PGPASSWORD, .pgpass); a server that demands a password nobody supplied gets a clear
//! error and no prompt when no person is at a terminal.

mod snapshot_support;

use snapshot_support::{dbguard_env, ok_json, ok_json_env};
use testpg::Cluster;

#[test]
fn restore_without_url_uses_the_recorded_server() {
    let c = Cluster::shared();
    let home = tempfile::tempdir().unwrap();
    let db = c.create_db("recorded");
    c.psql(
        &db,
        "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 10)",
    );
    let snap = ok_json(
        home.path(),
        &["snapshot", "--url", &c.url(&db), "--strategy", "copy", "--json"],
    );
    let id = snap["id"].as_str().unwrap();
    let out = ok_json(home.path(), &["restore", id, "--json"]);
    let restored = out["database"].as_str().unwrap();
    assert_eq!(c.psql(restored, "SELECT count(*) FROM t"), "10");
}

#[test]
fn a_password_comes_from_pgpassword_or_pgpass_and_is_never_guessed() {
    let c = Cluster::start();
    c.psql("postgres", "CREATE ROLE app LOGIN CREATEDB PASSWORD 'app-secret'");
    c.psql("postgres", "CREATE DATABASE shop OWNER app");
    c.psql(
        "shop",
        "SET ROLE app; CREATE TABLE t (id int); INSERT INTO t VALUES (1), (2)",
    );
    // TCP connections as app need its password; everything else stays trusted.
    let hba = c.psql("postgres", "SHOW hba_file");
    let old = std::fs::read_to_string(&hba).unwrap();
    std::fs::write(&hba, format!("host all app 127.0.0.1/32 scram-sha-256\n{old}")).unwrap();
    c.psql("postgres", "SELECT pg_reload_conf()");

    let home = tempfile::tempdir().unwrap();
    let url = c.url("shop").replace("postgres@", "app:app-secret@");
    let snap = ok_json(
        home.path(),
        &["snapshot", "--url", &url, "--strategy", "copy", "--json"],
    );
    let id = snap["id"].as_str().unwrap();

    // No password anywhere: refused, with the ways to give one, and no secret shown.
    let pgpass = home.path().join("pgpass");
    let none = [("PGPASSFILE", pgpass.to_str().unwrap())];
    let out = dbguard_env(home.path(), &["restore", id], &none);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("asks for a password for user app") && err.contains("PGPASSWORD") && err.contains(".pgpass"),
        "{err}"
    );
    assert!(!err.contains("app-secret"));

    // PGPASSWORD.
    let out = ok_json_env(
        home.path(),
        &["restore", id, "--to-database", "from_pgpassword", "--json"],
        &[("PGPASSWORD", "app-secret"), none[0]],
    );
    let restored = out["database"].as_str().unwrap();
    assert_eq!(c.psql(restored, "SELECT count(*) FROM t"), "2");
    assert!(!out.to_string().contains("app-secret"));

    // .pgpass (only when others cannot read it, as libpq).
    let port = url.split(':').nth(3).unwrap().split('/').next().unwrap().to_string();
    std::fs::write(&pgpass, format!("127.0.0.1:{port}:*:app:app-secret\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = dbguard_env(home.path(), &["restore", id], &none);
    assert_eq!(out.status.code(), Some(1), "a world-readable .pgpass was used");
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = ok_json_env(
        home.path(),
        &["restore", id, "--to-database", "from_pgpass", "--json"],
        &none,
    );
    let restored = out["database"].as_str().unwrap();
    assert_eq!(c.psql(restored, "SELECT count(*) FROM t"), "2");

    // A wrong password in PGPASSWORD: the server's refusal, not a prompt.
    let out = dbguard_env(home.path(), &["restore", id], &[("PGPASSWORD", "wrong"), none[0]]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("password authentication failed"), "{err}");
}
