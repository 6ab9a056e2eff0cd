//! `dbguard mcp` with a real MCP client: the official Python SDK (`mcp` from PyPI, installed
//! by tests/mcp/setup.sh) drives the server against a real PostgreSQL database created here
//! (tests/mcp/client_test.py holds the checks); the table must survive `DROP TABLE users`.

use std::process::Command;

#[test]
fn python_client_against_real_postgres() {
    let have_mcp = Command::new("python3")
        .args(["-c", "import mcp.client.stdio"])
        .status()
        .map(|s| s.success());
    if !matches!(have_mcp, Ok(true)) {
        // scripts/test.sh runs tests/mcp/setup.sh first; say so plainly when it was skipped.
        panic!("the Python `mcp` package is missing: run tests/mcp/setup.sh");
    }
    let cluster = testpg::Cluster::shared();
    let db = cluster.create_db("mcp");
    cluster.psql(&db, "CREATE TABLE users (id int PRIMARY KEY, name text); INSERT INTO users VALUES (1,'alice'),(2,'bob'),(3,'carol');");
    // A password in the URL (the cluster trusts local connections): no answer may show it.
    let url = cluster.url(&db).replacen("postgres@", "postgres:mcpsecret@", 1);
    let project = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/mcp/client_test.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_dbguard"))
        .arg(&url)
        .arg(project.path())
        .env("DBGUARD_HOME", home.path())
        .env_remove("DBGUARD_CONFIG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "client_test.py failed:\n{stdout}\n{stderr}");
    let count = cluster.psql(&db, "SELECT count(*) FROM users");
    assert_eq!(count.trim(), "4", "users intact: 3 rows + the INSERT");
}
