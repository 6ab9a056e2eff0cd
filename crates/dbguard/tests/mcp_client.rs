//! `dbguard mcp` with a real MCP client: the official Python SDK (`mcp` from PyPI, installed
//! by tests/mcp/setup.sh) drives the server against a real PostgreSQL database created here
//! (tests/mcp/client_test.py holds the checks: reads, refusals, approval codes approved by a
//! person in a pseudo-terminal, snapshots, restores into new databases, production refusals).
//! Here: the database's state afterwards, and the restored copies' rows.

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
    cluster.psql(
        &db,
        "CREATE TABLE users (id int PRIMARY KEY, name text); INSERT INTO users VALUES (1,'alice'),(2,'bob'),(3,'carol'); \
         CREATE TABLE orders (id int PRIMARY KEY, user_id int); INSERT INTO orders VALUES (1, 1), (2, 2);",
    );
    // A password in the URL (the cluster trusts local connections): no answer may show it.
    let url = cluster.url(&db).replacen("postgres@", "postgres:mcpsecret@", 1);
    let project = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let results = home.path().join("results.json");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/mcp/client_test.py");
    let mut cmd = Command::new("python3");
    cmd.arg(script)
        .arg(env!("CARGO_BIN_EXE_dbguard"))
        .arg(&url)
        .arg(project.path())
        .env("DBGUARD_HOME", home.path())
        // No user-level dbguard.toml: the script writes the project's own.
        .env("XDG_CONFIG_HOME", home.path().join("xdg"))
        .env("MCP_TEST_RESULTS", &results)
        .env_remove("DBGUARD_CONFIG")
        .env_remove("DBGUARD_APPROVAL_TTL");
    // `dbguard approve`, run by the script as the person, refuses agent environments: this
    // test may itself run under an agent. The script sets CLAUDECODE for the server only.
    for (v, _) in dbguard_core::agents::AGENT_VARIABLES {
        cmd.env_remove(v);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "client_test.py failed:\n{stdout}\n{stderr}");
    println!("{stdout}");

    // The original: users was dropped (approved) and recreated with one row; orders survived
    // production's refusal.
    assert_eq!(cluster.psql(&db, "SELECT string_agg(name, ',') FROM users"), "zed");
    assert_eq!(cluster.psql(&db, "SELECT count(*) FROM orders"), "2");

    // The restored copies hold the rows as they were when each snapshot was taken.
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    let want = "1:alice,2:bob,3:carol,4:dave";
    for key in ["restored_pre_execute", "restored_manual"] {
        let name = r[key].as_str().unwrap_or_else(|| panic!("{key} missing: {r}"));
        assert_ne!(name, db);
        let got = cluster.psql(name, "SELECT string_agg(id || ':' || name, ',' ORDER BY id) FROM users");
        assert_eq!(got, want, "{key} ({name})");
    }
    let got = cluster.psql(r["restored_manual"].as_str().unwrap(), "SELECT count(*) FROM orders");
    assert_eq!(got, "2", "the whole-database snapshot restores orders too");
}
