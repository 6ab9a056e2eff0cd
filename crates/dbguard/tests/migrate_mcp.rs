//! `dbguard mcp`'s migration tools, spoken to over stdio as an MCP client does (JSON-RPC,
//! one message a line): db_migrate_status, db_migrate_plan, and db_migrate_apply, whose
//! destructive apply answers with an approval code like db_execute; a made-up code is
//! refused, the user's approved code applies it once. Also: Ctrl-C during a rehearsal
//! leaves no scratch database behind.

mod e2e_support;
mod migrate_support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Stdio};

use e2e_support::World;
use migrate_support::{scratch_dbs, PG_APPLY};

struct Mcp {
    child: Child,
    stdin: ChildStdin,
    out: BufReader<ChildStdout>,
    next: u64,
}

impl Mcp {
    fn start(world: &World, dir: &std::path::Path) -> Mcp {
        let mut child = world
            .command(dir, &["mcp"])
            .env("CLAUDECODE", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dbguard mcp");
        let stdin = child.stdin.take().unwrap();
        let out = BufReader::new(child.stdout.take().unwrap());
        let mut m = Mcp {
            child,
            stdin,
            out,
            next: 1,
        };
        m.request(
            "initialize",
            serde_json::json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}),
        );
        m.send(serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        m
    }

    fn send(&mut self, v: serde_json::Value) {
        writeln!(self.stdin, "{v}").unwrap();
        self.stdin.flush().unwrap();
    }

    fn request(&mut self, method: &str, params: serde_json::Value) -> serde_json::Value {
        let id = self.next;
        self.next += 1;
        self.send(serde_json::json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let mut line = String::new();
            assert!(self.out.read_line(&mut line).unwrap() > 0, "the server closed stdout");
            let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
            if v["id"] == id {
                return v;
            }
        }
    }

    /// A tool's answer, parsed from its text content.
    fn call(&mut self, tool: &str, args: serde_json::Value) -> (bool, serde_json::Value) {
        let r = self.request("tools/call", serde_json::json!({"name": tool, "arguments": args}));
        let text = r["result"]["content"][0]["text"].as_str().unwrap_or("").to_string();
        let is_error = r["result"]["isError"].as_bool().unwrap_or(false);
        (
            is_error,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
        )
    }
}

impl Drop for Mcp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn project(cluster: &testpg::Cluster, name: &str) -> (tempfile::TempDir, String, World) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("migrations")).unwrap();
    std::fs::write(
        dir.path().join("migrations/001_items.sql"),
        "CREATE TABLE items (id int PRIMARY KEY, name text);\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("apply.sh"), PG_APPLY).unwrap();
    let db = cluster.create_db(name);
    let world = World::new().env("DATABASE_URL", &cluster.url(&db));
    world.set_config(&format!(
        "[migrate]\ntool = \"sql\"\napply = \"sh {}\"\n",
        dir.path().join("apply.sh").display()
    ));
    (dir, db, world)
}

#[test]
fn mcp_migrate_tools_with_an_approval_code() {
    let cluster = &testpg::Cluster::start();
    let (dir, db, world) = project(cluster, "mcp_mig");
    let mut m = Mcp::start(&world, dir.path());
    let tools = m.request("tools/list", serde_json::json!({}));
    let names = tools["result"]["tools"].to_string();
    for t in ["db_migrate_status", "db_migrate_plan", "db_migrate_apply"] {
        assert!(names.contains(t), "{t} missing: {names}");
    }
    let (err, v) = m.call("db_migrate_status", serde_json::json!({}));
    assert!(!err, "{v}");
    assert_eq!(v["status"]["pending"][0], "001_items.sql", "{v}");
    let (err, v) = m.call("db_migrate_apply", serde_json::json!({}));
    assert!(!err && v["result"] == "applied", "{v}");
    cluster.psql(&db, "INSERT INTO items VALUES (1, 'a'), (2, 'b')");

    std::fs::write(dir.path().join("migrations/002_drop.sql"), "DROP TABLE items;\n").unwrap();
    let (_, v) = m.call("db_migrate_plan", serde_json::json!({"rehearse": false}));
    assert_eq!(v["pending"][0]["findings"][0]["kind"], "drop_table", "{v}");
    let (_, v) = m.call("db_migrate_apply", serde_json::json!({}));
    assert_eq!(v["result"], "needs_approval", "{v}");
    let code = v["approval_code"].as_str().expect("approval code").to_string();
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains(&format!("dbguard approve {code}")),
        "{v}"
    );
    assert_eq!(cluster.psql(&db, "SELECT count(*) FROM items"), "2");

    // A made-up code approves nothing; the user's approval does, once.
    let (_, v) = m.call("db_migrate_apply", serde_json::json!({"approval_code": "ZZZ-999"}));
    assert_eq!(v["result"], "refused", "{v}");
    let (status, screen) = world.dbguard_pty(dir.path(), &["approve", &code], &[&db], &[]);
    assert_eq!(status, 0, "{screen}");
    let (_, v) = m.call("db_migrate_apply", serde_json::json!({"approval_code": code}));
    assert_eq!(v["result"], "applied", "{v}");
    assert!(v["guarded"]["snapshot"]["id"].is_string(), "{v}");
    assert_eq!(
        cluster.psql(&db, "SELECT count(*) FROM pg_class WHERE relname = 'items'"),
        "0"
    );
}

#[test]
fn ctrl_c_during_a_rehearsal_leaves_no_scratch_database() {
    let cluster = &testpg::Cluster::start();
    let (dir, db, world) = project(cluster, "mig_int");
    // An apply command that takes its time, so the signal lands mid-rehearsal.
    std::fs::write(dir.path().join("migrations/001_items.sql"), "SELECT pg_sleep(30);\n").unwrap();
    let mut child = world
        .command(dir.path(), &["migrate", "plan", "--json"])
        .env("CLAUDECODE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let appeared = testpg::wait_for(std::time::Duration::from_secs(60), || !scratch_dbs(cluster).is_empty());
    assert!(appeared, "no scratch database appeared");
    std::thread::sleep(std::time::Duration::from_millis(500));
    // SAFETY: sending SIGINT to the child we spawned.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let status = child.wait().unwrap();
    assert!(!status.success(), "{status:?}");
    assert!(
        testpg::wait_for(std::time::Duration::from_secs(10), || scratch_dbs(cluster).is_empty()),
        "scratch left after Ctrl-C: {:?}",
        scratch_dbs(cluster)
    );
    let _ = db;
}
