//! Issue 12, classes 2 and 3 through the real binary: trees on disk that hold databases
//! (a real SQLite file inside a directory removed by `rm -r`: snapshotted first by
//! `dbguard run`, and the restore brings its rows back; a PostgreSQL data directory found
//! by its PG_VERSION; `git clean -x` asking a real git which files it ignores), and cloud
//! commands, which no snapshot can cover: the provider's own safeguard in check, run and
//! the hook, production blocked by the resource's name.

mod e2e_support;

use std::path::Path;
use std::process::{Command, Stdio};

use e2e_support::{describe, json, World};

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

fn sqlite(path: &Path, sql: &str) -> String {
    let out = Command::new("sqlite3").arg(path).arg(sql).output().expect("sqlite3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `data/app.db` with 3 orders, next to files that are not databases.
fn tree_with_sqlite(root: &Path) {
    std::fs::create_dir_all(root.join("data/cache")).expect("mkdir");
    std::fs::write(root.join("data/cache/page.html"), "<html>").expect("write");
    sqlite(
        &root.join("data/app.db"),
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, total INT); INSERT INTO orders (total) VALUES (10), (20), (30);",
    );
}

#[test]
fn rm_r_of_a_tree_with_an_sqlite_file_is_snapshotted_first_and_restores() {
    let w = World::new();
    w.set_config("[policy.development]\ndefault = \"snapshot\"\n");
    let d = tmp();
    tree_with_sqlite(d.path());

    let out = w.dbguard(d.path(), &["check", "--json", "rm -rf data"]);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let v = json(&out);
    assert_eq!(v["findings"][0]["kind"], "delete_files", "{v:#}");
    assert_eq!(v["findings"][0]["object"], "data/app.db", "{v:#}");

    let out = w.dbguard(d.path(), &["run", "--json", "--", "rm", "-rf", "data"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let v = json(&out);
    assert_eq!(v["outcome"], "ran", "{v:#}");
    assert!(!d.path().join("data").exists(), "the command ran");
    let id = v["snapshot"]["id"].as_str().expect("a snapshot id").to_string();

    let restored = d.path().join("restored.db");
    let out = w.dbguard(
        d.path(),
        &["restore", &id, "--to-file", restored.to_str().expect("utf-8")],
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(sqlite(&restored, "SELECT group_concat(total) FROM orders"), "10,20,30");
}

#[test]
fn look_alikes_pass_straight_through() {
    let w = World::new();
    let d = tmp();
    tree_with_sqlite(d.path());
    std::fs::create_dir_all(d.path().join("node_modules/pkg")).expect("mkdir");
    std::fs::write(d.path().join("node_modules/pkg/index.js"), "x").expect("write");
    for cmd in [
        "rm -rf node_modules",
        "rm -rf data/cache",
        "find . -name '*.html' -delete",
        "rsync -a data/ backup/",
        "git clean -n -dx",
    ] {
        let out = w.dbguard(d.path(), &["check", cmd]);
        assert_eq!(out.status.code(), Some(0), "{cmd}: {}", describe(&out));
    }
    let out = w.dbguard(d.path(), &["run", "--", "rm", "-rf", "node_modules"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(!d.path().join("node_modules").exists());
}

#[test]
fn a_postgres_data_directory_is_found_by_pg_version_and_cannot_be_snapshotted() {
    let w = World::new();
    w.set_config("[policy.development]\ndefault = \"snapshot\"\n");
    let d = tmp();
    let pg = d.path().join("stack/volumes/db");
    std::fs::create_dir_all(pg.join("base/1")).expect("mkdir");
    std::fs::write(pg.join("PG_VERSION"), "16\n").expect("write");
    std::fs::write(pg.join("base/1/1259"), vec![0u8; 8192]).expect("write");

    let out = w.dbguard(d.path(), &["check", "rm -rf stack"]);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("stack/volumes/db") && text.contains("PG_VERSION"),
        "{text}"
    );
    assert!(
        text.contains("pg_dumpall"),
        "the next step names the server's own copy: {text}"
    );

    // "snapshot, then run" without a snapshot would be a silent allow: a human must approve.
    let out = w.dbguard(d.path(), &["run", "--", "rm", "-rf", "stack"]);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("NONE POSSIBLE") && err.contains("no snapshot can be taken"),
        "{err}"
    );
    assert!(pg.join("PG_VERSION").exists(), "nothing was deleted");
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.email=t@example.com", "-c", "user.name=t"])
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn git_clean_asks_git_which_database_files_it_would_remove() {
    let w = World::new();
    let d = tmp();
    git(d.path(), &["init", "-q"]);
    std::fs::write(d.path().join(".gitignore"), "*.db\n").expect("write");
    std::fs::create_dir_all(d.path().join("prisma")).expect("mkdir");
    sqlite(
        &d.path().join("prisma/dev.db"),
        "CREATE TABLE t (x); INSERT INTO t VALUES (1);",
    );
    sqlite(
        &d.path().join("fixtures.sqlite3"),
        "CREATE TABLE f (x); INSERT INTO f VALUES (1);",
    );
    git(d.path(), &["add", ".gitignore", "fixtures.sqlite3"]);
    git(d.path(), &["commit", "-qm", "init"]);

    // -x removes the ignored dev.db; the tracked fixtures are never removed.
    let out = w.dbguard(d.path(), &["check", "--json", "git clean -fdx"]);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let v = json(&out);
    let objects: Vec<&str> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["object"].as_str())
        .collect();
    assert_eq!(objects, ["prisma/dev.db"], "{v:#}");
    // Without -x, ignored files stay.
    let out = w.dbguard(d.path(), &["check", "git clean -fd"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    // An untracked database that is not ignored goes with plain -f.
    sqlite(&d.path().join("notes.sqlite"), "CREATE TABLE n (x);");
    let out = w.dbguard(d.path(), &["check", "git clean -f"]);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
}

#[test]
fn cloud_deletions_name_the_providers_safeguard_everywhere() {
    let w = World::new();
    let d = tmp();
    let cmd = "aws rds delete-db-instance --db-instance-identifier shop --skip-final-snapshot";

    let out = w.dbguard(d.path(), &["check", cmd]);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("DELETE CLOUD DATABASE") && text.contains("no final snapshot"),
        "{text}"
    );
    assert!(
        text.contains("create-db-snapshot") && !text.contains("takes a snapshot"),
        "{text}"
    );

    let out = w.dbguard(d.path(), &["check", "--json", cmd]);
    let v = json(&out);
    assert_eq!(v["target"]["resource"]["provider"], "AWS RDS", "{v:#}");
    assert_eq!(v["environment"], "unknown", "{v:#}");

    let out = w.dbguard(
        d.path(),
        &[
            "run",
            "--",
            "aws",
            "rds",
            "delete-db-instance",
            "--db-instance-identifier",
            "shop",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("NEEDS APPROVAL") && err.contains("NONE POSSIBLE") && err.contains("DeletionProtection"),
        "{err}"
    );

    // A name that says prod is production: blocked, with the provider's way to keep a copy.
    let out = w.dbguard(
        d.path(),
        &["run", "--", "gcloud", "sql", "instances", "delete", "shop-prod"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("BLOCKED") && err.contains("production") && err.contains("deletion-protection"),
        "{err}"
    );
}

#[test]
fn terraform_destroy_reads_the_configuration_and_the_hook_denies_production() {
    let w = World::new();
    let d = tmp();
    std::fs::write(
        d.path().join("main.tf"),
        "resource \"aws_db_instance\" \"main\" {\n  identifier = \"shop-prod\"\n  skip_final_snapshot = true\n}\n",
    )
    .expect("write");
    let out = w.dbguard(d.path(), &["check", "--json", "terraform destroy -auto-approve"]);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let v = json(&out);
    assert_eq!(v["findings"][0]["object"], "aws_db_instance.main", "{v:#}");
    assert_eq!(v["environment"], "production", "{v:#}");

    let payload = serde_json::json!({
        "session_id": "s",
        "cwd": d.path(),
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": "terraform destroy -auto-approve"},
    });
    let mut child = w
        .command(d.path(), &["hook", "claude"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hook");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(payload.to_string().as_bytes()).expect("write payload");
    }
    let out = child.wait_with_output().expect("hook");
    let answer = String::from_utf8_lossy(&out.stdout);
    assert!(answer.contains("\"deny\""), "{answer}");
    assert!(
        answer.contains("prevent_destroy") && !answer.contains("dbguard snapshot"),
        "{answer}"
    );

    // Plain look-alikes pass.
    for cmd in [
        "terraform plan -destroy",
        "terraform state list",
        "aws rds describe-db-instances",
        "kubectl get pvc",
    ] {
        let out = w.dbguard(d.path(), &["check", cmd]);
        assert_eq!(out.status.code(), Some(0), "{cmd}: {}", describe(&out));
    }
}
