//! Which database, when a command names it through a variable (issue 12, class 6), through
//! the real binary: `check`, the Claude Code hook and `dbguard run` against a throwaway
//! PostgreSQL cluster. The runbook pattern `source .env && psql "$DATABASE_URL" -c ...` is
//! blocked as production when `.env` and dbguard.toml say so; a variable set nowhere, a
//! launcher's env file, the process environment and another machine decide as documented.

mod e2e_support;

use std::path::Path;
use std::process::Output;

use e2e_support::{describe, json, World};

const PROD_TOML: &str = "[[databases]]\nmatch = \"db.internal.example\"\nenvironment = \"production\"\n";
const SECRET: &str = "s3cret-pw";

fn project(world: &World) -> std::path::PathBuf {
    let p = world.dir.path().join("app");
    std::fs::create_dir_all(&p).unwrap();
    std::fs::write(
        p.join(".env"),
        format!("DATABASE_URL=postgres://app:{SECRET}@db.internal.example:5432/shop\n"),
    )
    .unwrap();
    std::fs::write(
        p.join(".env.production"),
        format!("DATABASE_URL=postgres://app:{SECRET}@db.internal.example:5432/shop\n"),
    )
    .unwrap();
    p
}

fn check(world: &World, cwd: &Path, cmd: &str) -> (Output, serde_json::Value) {
    let out = world.dbguard(cwd, &["check", "--json", cmd]);
    let j = json(&out);
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains(SECRET),
        "{}",
        describe(&out)
    );
    (out, j)
}

/// `dbguard hook claude` with the command as Claude Code sends it; the decision.
fn hook(world: &World, cwd: &Path, cmd: &str) -> (String, String) {
    let payload = serde_json::json!({
        "session_id": "s",
        "transcript_path": "/t",
        "cwd": cwd,
        "permission_mode": "default",
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": cmd, "description": "d"},
        "tool_use_id": "t",
    });
    let out = e2e_support::with_stdin(&mut world.command(cwd, &["hook", "claude"]), &payload.to_string());
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!text.contains(SECRET), "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {}", describe(&out)));
    let o = &v["hookSpecificOutput"];
    (
        o["permissionDecision"].as_str().unwrap_or("").to_string(),
        o["permissionDecisionReason"].as_str().unwrap_or("").to_string(),
    )
}

#[test]
fn sourced_env_file_names_a_production_database() {
    let world = World::new();
    world.set_config(PROD_TOML);
    let p = project(&world);
    let cmd = "source .env && psql \"$DATABASE_URL\" -c \"DROP TABLE x\"";
    let (out, j) = check(&world, &p, cmd);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    assert_eq!(j["environment"], "production", "{j:#}");
    assert_eq!(j["target"]["host"], "db.internal.example");
    assert_eq!(j["target"]["database"], "shop");
    let source = j["target"]["source"].as_str().unwrap();
    assert!(source.contains("$DATABASE_URL") && source.contains(".env"), "{source}");
    let (decision, reason) = hook(&world, &p, cmd);
    assert_eq!(decision, "deny", "{reason}");
    assert!(
        reason.contains("production") && reason.contains("db.internal.example"),
        "{reason}"
    );
    // The same through `export $(cat .env | xargs)` and `set -a`.
    for cmd in [
        "export $(cat .env | xargs) && psql \"$DATABASE_URL\" -c 'TRUNCATE orders'",
        "set -a; . ./.env; set +a; npx prisma migrate reset --force",
    ] {
        let (_, j) = check(&world, &p, cmd);
        assert_eq!(j["environment"], "production", "{cmd}: {j:#}");
    }
}

#[test]
fn a_variable_set_nowhere_is_an_unknown_target_decided_by_the_strictest_environment() {
    let world = World::new();
    world.set_config(PROD_TOML);
    let p = project(&world);
    let cmd = "psql \"$DBGUARD_TEST_NOWHERE_URL\" -c \"DROP TABLE x\"";
    let (out, j) = check(&world, &p, cmd);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(j["environment"], "production", "{j:#}");
    assert!(j["target"]["source"].as_str().unwrap().starts_with("unknown:"), "{j:#}");
    assert!(
        j["target"]["environment_rule"].as_str().unwrap().contains("strictest"),
        "{j:#}"
    );
    assert!(
        j["target"]["display"].is_null(),
        "never a local socket named after the variable: {j:#}"
    );
    let warned = j["target"]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w.as_str().unwrap_or("").contains("cannot tell which database"));
    assert!(warned, "{j:#}");
    let (decision, reason) = hook(&world, &p, cmd);
    assert_eq!(decision, "deny", "{reason}");
    // Without a production database in dbguard.toml, the project's .env.production still
    // names one: production.
    world.set_config("");
    let (_, j) = check(&world, &p, cmd);
    assert_eq!(j["environment"], "production", "{j:#}");
    let rule = j["target"]["environment_rule"].as_str().unwrap();
    assert!(rule.contains(".env.production") && !rule.contains(SECRET), "{rule}");
    let (decision, _) = hook(&world, &p, cmd);
    assert_eq!(decision, "deny");
    // With only a local database in the env files: unknown, never development.
    std::fs::remove_file(p.join(".env.production")).unwrap();
    std::fs::write(p.join(".env"), "DATABASE_URL=postgres://app@localhost:5432/shop\n").unwrap();
    let (_, j) = check(&world, &p, cmd);
    assert_eq!(j["environment"], "unknown", "{j:#}");
    let (decision, _) = hook(&world, &p, cmd);
    assert_eq!(decision, "ask");
}

#[test]
fn launchers_env_files_the_process_environment_and_other_machines() {
    let world = World::new().env("DBGUARD_TEST_DB_HOST", "db.internal.example");
    world.set_config(PROD_TOML);
    let p = project(&world);
    std::fs::write(p.join(".env"), "DATABASE_URL=postgres://localhost/dev\n").unwrap();
    // The launcher's file decides, not .env.
    let (_, j) = check(
        &world,
        &p,
        "npx dotenv -e .env.production -- npx prisma migrate reset --force",
    );
    assert_eq!(j["environment"], "production", "{j:#}");
    assert!(
        j["target"]["source"]
            .as_str()
            .unwrap()
            .contains("dotenv -e .env.production"),
        "{j:#}"
    );
    let (_, j) = check(
        &world,
        &p,
        "env-cmd -f .env.production npx prisma migrate reset --force",
    );
    assert_eq!(j["environment"], "production", "{j:#}");
    // Without the launcher the project's .env is development.
    let (_, j) = check(&world, &p, "npx prisma migrate reset --force");
    assert_eq!(j["environment"], "development", "{j:#}");
    // A variable of the process environment names the host.
    let (_, j) = check(
        &world,
        &p,
        "psql -h \"$DBGUARD_TEST_DB_HOST\" -d shop -c 'DROP TABLE t'",
    );
    assert_eq!(j["target"]["host"], "db.internal.example", "{j:#}");
    assert_eq!(j["environment"], "production");
    // Another machine: its name decides; its local socket is not this machine's.
    world.set_config("");
    let (_, j) = check(&world, &p, "ssh deploy@prod-db 'psql -c \"DROP TABLE users\"'");
    assert_eq!(j["environment"], "production", "{j:#}");
    assert!(
        j["target"]["environment_rule"].as_str().unwrap().contains("prod-db"),
        "{j:#}"
    );
    let (_, j) = check(
        &world,
        &p,
        "kubectl --context staging-eu exec -it deploy/api -- npx prisma migrate reset --force",
    );
    assert_eq!(j["environment"], "staging", "{j:#}");
    let (decision, _) = hook(&world, &p, "ssh prod-db 'dropdb shop'");
    assert_eq!(decision, "deny");
}

/// `dbguard run` with a real database: the runbook line is blocked before it runs, and
/// the table is still there.
#[test]
fn run_blocks_the_runbook_line_on_a_real_production_database() {
    let cluster = testpg::Cluster::shared();
    let db = cluster.create_db("shellvars");
    cluster.psql(
        &db,
        "CREATE TABLE items (id int); INSERT INTO items VALUES (1), (2), (3);",
    );
    let path = std::env::var("PATH").unwrap_or_default();
    let world = World::new().env("PATH", &format!("{}:{path}", cluster.bin_dir.display()));
    let url = cluster.url(&db);
    let port = url
        .split(':')
        .nth(2)
        .and_then(|r| r.split('/').next())
        .unwrap()
        .to_string();
    world.set_config(&format!(
        "[[databases]]\nmatch = \"*127.0.0.1:{port}/{db}\"\nenvironment = \"production\"\n"
    ));
    let p = world.dir.path().join("ops");
    std::fs::create_dir_all(&p).unwrap();
    std::fs::write(p.join(".env"), format!("DATABASE_URL={url}\n")).unwrap();
    let out = world.dbguard(
        &p,
        &[
            "run",
            "--",
            "bash",
            "-c",
            "source .env && psql \"$DATABASE_URL\" -c \"DROP TABLE items\"",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("production"), "{text}");
    assert_eq!(cluster.psql(&db, "SELECT count(*) FROM items"), "3");
}
