//! Approvals that pass the in-database guard, and only those: `dbguard run -- psql ...`
//! on a guarded database needs a person's `dbguard approve CODE`, which asks for the guard
//! owner's password (typed in a pseudo-terminal here) and writes the approval into the
//! database; the rerun's psql session presents the one-time token through PGOPTIONS and
//! gets through once. A wrong password approves nothing. An agent that drives `approve`
//! through a pseudo-terminal, edits the approvals store and opens its own connections
//! still gets no destructive statement through.

mod e2e_support;
mod protect_support;

use std::path::Path;
use std::process::Stdio;

use e2e_support::{describe, json, World};
use protect_support::{app_db, install, psql, scalar, Db, APP, OWNER_PASSWORD};

const SEED: &str = "CREATE TABLE items (id int PRIMARY KEY, name text); \
    INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 3000) g;";

fn guarded(prefix: &str) -> Db {
    let db = app_db(prefix, SEED);
    install(&db);
    db
}

fn psql_cmd(db: &Db, sql: &str) -> Vec<String> {
    ["psql", "-X", "-v", "ON_ERROR_STOP=1", &db.app_url, "-c", sql]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

fn run_args(cmd: &[String]) -> Vec<&str> {
    let mut v = vec!["run", "--json", "--"];
    v.extend(cmd.iter().map(String::as_str));
    v
}

fn items(db: &Db) -> String {
    scalar(db, "SELECT count(*) FROM items")
}

fn record_path(world: &World, code: &str) -> std::path::PathBuf {
    world.home.join("approvals").join(format!("{code}.json"))
}

/// `dbguard run` that needs approval: returns the code.
fn needs_approval(world: &World, cmd: &[String], env: &[(&str, &str)]) -> String {
    let mut c = world.command(Path::new("/"), &run_args(cmd));
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.stdin(Stdio::null()).output().expect("run dbguard");
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let v = json(&out);
    assert_eq!(v["outcome"], "needs_approval", "{v}");
    v["approval"]["code"].as_str().expect("code").to_string()
}

#[test]
fn run_after_approval_passes_the_guard_once() {
    let db = guarded("appr_once");
    let world = World::new();
    let cmd = psql_cmd(&db, "DELETE FROM items");
    let code = needs_approval(&world, &cmd, &[]);
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(record_path(&world, &code)).unwrap()).unwrap();
    assert_eq!(record["db_guard"]["role"], APP, "{record}");
    assert_eq!(record["db_guard"]["owner"], protect_support::OWNER);
    assert!(
        !record.to_string().contains(protect_support::APP_PASSWORD),
        "password stored: {record}"
    );
    let token = record["db_token"].as_str().expect("token").to_string();
    // The person approves: the database name, then the owner's password (not echoed).
    let (status, screen) = world.dbguard_pty(Path::new("/"), &["approve", &code], &[&db.name, OWNER_PASSWORD], &[]);
    assert_eq!(status, 0, "{screen}");
    assert!(screen.contains("guard owner"), "{screen}");
    assert!(!screen.contains(OWNER_PASSWORD), "the password was echoed: {screen}");
    assert_eq!(
        scalar(&db, "SELECT count(*) FROM dbguard.approvals WHERE role = 'app_user'"),
        "1"
    );
    assert_eq!(items(&db), "3000");
    // The rerun snapshots and runs psql, whose session presents the token: it passes.
    let out = world.dbguard(Path::new("/"), &run_args(&cmd));
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let v = json(&out);
    assert_eq!(v["outcome"], "ran", "{v}");
    assert_eq!(v["approval_used"], code.as_str());
    assert_eq!(items(&db), "0");
    assert_eq!(
        scalar(
            &db,
            "SELECT outcome || ' ' || kind || ' ' || role FROM dbguard.attempts"
        ),
        "approved mass_delete app_user"
    );
    // Once: the same token in another session passes nothing.
    scalar(
        &db,
        "INSERT INTO items SELECT g, 'again ' || g FROM generate_series(1, 3000) g",
    );
    let out = psql(
        &db.app_url,
        "DELETE FROM items",
        &[("PGOPTIONS", &format!("-c dbguard.approval={token}"))],
    );
    assert!(out.failed_with("DG003"), "{}", out.stderr);
    // And the local approval was used up: the same command needs a new one.
    needs_approval(&world, &cmd, &[]);
    assert_eq!(items(&db), "3000");
}

#[test]
fn a_wrong_owner_password_approves_nothing() {
    let db = guarded("appr_wrong");
    let world = World::new();
    let cmd = psql_cmd(&db, "TRUNCATE items");
    let code = needs_approval(&world, &cmd, &[]);
    let (status, screen) = world.dbguard_pty(
        Path::new("/"),
        &["approve", &code],
        &[&db.name, "guessed-password"],
        &[],
    );
    assert_eq!(status, 3, "{screen}");
    assert!(screen.contains("could not log in as the guard owner"), "{screen}");
    assert!(screen.contains("not approved"), "{screen}");
    assert!(!screen.contains("guessed-password"), "{screen}");
    assert_eq!(scalar(&db, "SELECT count(*) FROM dbguard.approvals"), "0");
    // Still pending: the rerun asks again, nothing ran.
    assert_eq!(needs_approval(&world, &cmd, &[]), code);
    assert_eq!(items(&db), "3000");
}

#[test]
fn a_person_at_the_terminal_types_the_name_and_the_owner_password() {
    let db = guarded("appr_typed");
    let world = World::new();
    let cmd = psql_cmd(&db, "DELETE FROM items");
    let mut args = vec!["run", "--"];
    args.extend(cmd.iter().map(String::as_str));
    let (status, screen) = world.dbguard_pty(Path::new("/"), &args, &[&db.name, OWNER_PASSWORD], &[]);
    assert_eq!(status, 0, "{screen}");
    assert!(screen.contains("guard owner"), "{screen}");
    assert_eq!(items(&db), "0");
}

/// An approval from an agent hook (which decides without contacting the database) does
/// not cover the guard: the rerun through `dbguard run` runs nothing and asks for a new
/// code, which `approve` then writes into the database with the owner's password.
#[test]
fn an_approval_from_a_hook_is_renewed_for_the_guard() {
    let db = guarded("appr_hook");
    let world = World::new();
    let dir = tempfile::tempdir().unwrap();
    let cmd = psql_cmd(&db, "DELETE FROM items");
    let quoted: Vec<String> = cmd.iter().map(|w| format!("'{w}'")).collect();
    let payload = serde_json::json!({
        "hook_event_name": "beforeShellExecution", "command": quoted.join(" "),
        "cwd": dir.path(), "workspace_roots": [dir.path()],
    });
    let out = e2e_support::with_stdin(
        &mut world.command(dir.path(), &["hook", "cursor"]),
        &payload.to_string(),
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let at = text
        .find("dbguard approve ")
        .unwrap_or_else(|| panic!("no code: {text}"))
        + "dbguard approve ".len();
    let code = text[at..at + 7].to_string();
    let (status, screen) = world.dbguard_pty(dir.path(), &["approve", &code], &[&db.name], &[]);
    assert_eq!(status, 0, "{screen}");
    // The agent reruns it through dbguard run: nothing runs, a new code.
    let out = world.dbguard(dir.path(), &run_args(&cmd));
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let v = json(&out);
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("without the database's own guard"),
        "{v}"
    );
    let renewed = v["approval"]["code"].as_str().unwrap().to_string();
    assert_ne!(renewed, code);
    assert_eq!(items(&db), "3000");
    let (status, screen) = world.dbguard_pty(dir.path(), &["approve", &renewed], &[&db.name, OWNER_PASSWORD], &[]);
    assert_eq!(status, 0, "{screen}");
    let out = world.dbguard(dir.path(), &run_args(&cmd));
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(items(&db), "0");
}

/// The test: an agent with the user's own privileges tries everything it can.
#[test]
fn an_agent_driving_approve_and_editing_the_store_gets_nothing_through() {
    let db = guarded("appr_agent");
    let world = World::new();
    let agent = [("CLAUDECODE", "1")];
    let cmd = psql_cmd(&db, "DROP TABLE items");
    // 1. The agent's command needs approval.
    let code = needs_approval(&world, &cmd, &agent);
    // 2. It drops its own variables and drives `dbguard approve` through a pseudo-terminal,
    //    typing the database name the message showed and guessing the owner's password.
    for guess in ["postgres", "password", APP] {
        let (status, screen) = world.dbguard_pty(Path::new("/"), &["approve", &code], &[&db.name, guess], &[]);
        assert_eq!(status, 3, "{screen}");
    }
    assert_eq!(scalar(&db, "SELECT count(*) FROM dbguard.approvals"), "0");
    // 3. It edits the approvals store: approved, fresh expiry (and the token it can read).
    let path = record_path(&world, &code);
    let mut record: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let token = record["db_token"].as_str().expect("token").to_string();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    record["status"] = "approved".into();
    record["approved_unix"] = now.into();
    record["expires_unix"] = (now + 600).into();
    std::fs::write(&path, serde_json::to_vec_pretty(&record).unwrap()).unwrap();
    // 4. It reruns the command: whatever dbguard decides locally, the database refuses.
    let mut c = world.command(Path::new("/"), &run_args(&cmd));
    let out = c.env("CLAUDECODE", "1").stdin(Stdio::null()).output().unwrap();
    assert_ne!(out.status.code(), Some(0), "{}", describe(&out));
    // Either dbguard sees through the edit (exit 3), or psql ran and the guard refused it.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.code() == Some(3) || stderr.contains("dbguard: DROP refused"),
        "{}",
        describe(&out)
    );
    assert_eq!(items(&db), "3000", "{}", describe(&out));
    // The signed store sees through the edit (exit 3, nothing run); else psql's refusal is on record.
    let psql_ran = out.status.code() != Some(3);
    // 5. Its own connections: the token from the file, a made-up one, SET, a script.
    for opts in [
        format!("-c dbguard.approval={token}"),
        "-c dbguard.approval=approved".to_string(),
    ] {
        let out = psql(&db.app_url, "DROP TABLE items", &[("PGOPTIONS", &opts)]);
        assert!(out.failed_with("DG001"), "{}", out.stderr);
    }
    let out = psql(
        &db.app_url,
        &format!("SET dbguard.approval = '{token}'; TRUNCATE items"),
        &[],
    );
    assert!(out.failed_with("DG002"), "{}", out.stderr);
    let out = psql(
        &db.app_url,
        &format!(
            "INSERT INTO dbguard.approvals (token_sha256, role, database, expires_at) VALUES (encode(sha256('{token}'), 'hex'), 'app_user', current_database(), now() + interval '1 hour')"
        ),
        &[],
    );
    assert!(out.failed_with("42501"), "{}", out.stderr);
    let owner_without_password = db.owner_url.replace(&format!(":{OWNER_PASSWORD}"), "");
    let out = psql(&owner_without_password, "SELECT 1", &[("PGPASSWORD", "")]);
    assert!(!out.ok(), "the owner logged in without its password");
    let out = psql(&db.app_url, "DO $$ BEGIN EXECUTE 'DROP TABLE items'; END $$", &[]);
    assert!(out.failed_with("DG001"), "{}", out.stderr);
    assert_eq!(items(&db), "3000");
    assert_eq!(scalar(&db, "SELECT count(*) FROM dbguard.approvals"), "0");
    // Everything it tried is on record in the database.
    let blocked: i64 = scalar(
        &db,
        "SELECT count(*) FROM dbguard.attempts WHERE outcome = 'blocked' AND role = 'app_user'",
    )
    .parse()
    .unwrap();
    assert!(blocked >= if psql_ran { 5 } else { 4 }, "{blocked}");
}
