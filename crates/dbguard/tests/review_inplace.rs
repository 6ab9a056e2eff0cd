//! Review finding on `restore --in-place`: the database replaced is the one `--url` names,
//! but only its database *name* is compared with the snapshot's, and the prompt shows the
//! snapshot's source. A snapshot of `app` on one server replaces `app` on another server.

mod e2e_support;

use e2e_support::{json, rows, World};
use testpg::Cluster;

#[test]
fn in_place_refuses_another_server_with_the_same_database_name() {
    let a = Cluster::shared();
    let b = Cluster::start();
    let name = format!("rv_same_{}", std::process::id());
    for c in [a, &b] {
        c.psql("postgres", &format!("CREATE DATABASE \"{name}\""));
    }
    a.psql(&name, "CREATE TABLE t (v text); INSERT INTO t VALUES ('from server A')");
    b.psql(
        &name,
        "CREATE TABLE t (v text); INSERT INTO t VALUES ('precious rows on server B')",
    );
    let path = std::env::var("PATH").unwrap_or_default();
    let w = World::new().env("PATH", &format!("{}:{path}", a.bin_dir.display()));
    let out = w.dbguard(
        w.dir.path(),
        &["snapshot", "--url", &a.url(&name), "--tables", "t", "--json"],
    );
    assert!(out.status.success());
    let id = json(&out)["id"].as_str().unwrap().to_string();
    // The person is shown server A's URL and types the (shared) database name.
    let (code, screen) = w.dbguard_pty(
        w.dir.path(),
        &["restore", &id, "--url", &b.url(&name), "--in-place"],
        &[&name],
        &[],
    );
    let prompt = screen.split("Type the database name").next().unwrap_or("");
    let left = rows(&b, &name, "t");
    assert!(
        left.len() == 1 && left[0].contains("precious rows on server B"),
        "exit {code}: server B's table was replaced by server A's snapshot ({left:?}); the prompt named server B: {}\n{screen}",
        prompt.contains(&format!(":{}/", b.port))
    );
}
