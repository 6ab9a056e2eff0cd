//! Every door points to `dbguard migrate`: `check`'s and the hook's messages for Prisma
//! resets, `db push`, `migrate dev` without a terminal and `drizzle-kit push` name
//! `dbguard migrate new <name>` then `dbguard migrate apply`; `init` writes the workflow
//! into the agents' note, and `init --scripts` adds (and `--uninstall` removes exactly)
//! the package.json scripts. No database needed.

mod e2e_support;

use std::process::Command;

use e2e_support::{describe, World};

const WORKFLOW: &str = "`dbguard migrate new <name>` then `dbguard migrate apply`";

fn prisma_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("prisma")).unwrap();
    std::fs::write(
        dir.path().join("prisma/schema.prisma"),
        "datasource db {\n  provider = \"postgresql\"\n  url = env(\"DATABASE_URL\")\n}\n",
    )
    .unwrap();
    dir
}

#[test]
fn check_names_the_workflow() {
    let dir = prisma_project();
    let world = World::new().env("DATABASE_URL", "postgres://app@localhost:5432/app");
    for cmd in [
        "npx prisma migrate reset --force",
        "npx prisma db push --accept-data-loss",
        "npx prisma db push --force-reset",
        "npx drizzle-kit push",
    ] {
        let out = world.dbguard(dir.path(), &["check", cmd]);
        assert_eq!(out.status.code(), Some(3), "{cmd}: {}", describe(&out));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(&format!("Safe alternative: {WORKFLOW}")), "{cmd}: {text}");
    }
    let out = world.dbguard(dir.path(), &["check", "npx prisma migrate dev"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(WORKFLOW),
        "{}",
        describe(&out)
    );
}

fn hook(world: &World, dir: &std::path::Path, command: &str) -> serde_json::Value {
    let payload = serde_json::json!({
        "session_id": "s", "cwd": dir.display().to_string(), "hook_event_name": "PreToolUse",
        "tool_name": "Bash", "tool_input": { "command": command }
    });
    let out = e2e_support::with_stdin(
        &mut world.command(dir, &["hook", "claude", "--no-ask"]),
        &payload.to_string(),
    );
    if out.stdout.is_empty() {
        return serde_json::Value::Null;
    }
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", describe(&out)))
}

#[test]
fn the_hook_names_the_workflow() {
    let dir = prisma_project();
    let world = World::new().env("DATABASE_URL", "postgres://app@localhost:5432/app");
    for cmd in [
        "npx prisma migrate reset --force",
        "npx prisma migrate dev --name add_status",
    ] {
        let v = hook(&world, dir.path(), cmd);
        let o = &v["hookSpecificOutput"];
        assert_eq!(o["permissionDecision"], "deny", "{cmd}: {v}");
        let reason = o["permissionDecisionReason"].as_str().unwrap_or("");
        assert!(reason.contains(WORKFLOW), "{cmd}: {reason}");
    }
    // dbguard's own migrate commands are the way forward: allowed.
    let v = hook(&world, dir.path(), "dbguard migrate apply");
    assert!(
        v.is_null() || v["hookSpecificOutput"]["permissionDecision"] != "deny",
        "{v}"
    );
}

#[test]
fn init_note_and_scripts_round_trip() {
    let dir = prisma_project();
    let pkg = "{\n  \"name\": \"app\",\n  \"scripts\": {\n    \"dev\": \"next dev\",\n    \"db:backup\": \"./backup.sh\"\n  }\n}\n";
    std::fs::write(dir.path().join("package.json"), pkg).unwrap();
    let world = World::new();
    let out = world.dbguard(
        dir.path(),
        &["init", "--agent", "claude", "--scripts", "--dbguard", "dbguard"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let note = std::fs::read_to_string(dir.path().join("CLAUDE.md")).unwrap();
    assert!(
        note.contains("dbguard migrate new <name>") && note.contains("dbguard migrate apply"),
        "{note}"
    );
    let workflow = &note[note.find("Schema changes").expect("workflow section")..];
    assert!(!workflow.contains("..."), "the workflow is exact: {workflow}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("package.json")).unwrap()).unwrap();
    let s = &v["scripts"];
    assert_eq!(s["dev"], "next dev");
    assert_eq!(s["db:backup"], "./backup.sh", "an existing script is left alone");
    assert_eq!(s["db:migrate:new"], "dbguard migrate new");
    assert_eq!(s["db:migrate:plan"], "dbguard migrate plan");
    assert_eq!(s["db:migrate:apply"], "dbguard migrate apply");
    assert_eq!(s["db:migrate:status"], "dbguard migrate status");
    // Idempotent.
    let out = world.dbguard(
        dir.path(),
        &["init", "--agent", "claude", "--scripts", "--dbguard", "dbguard"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    // Uninstall: exactly what was there before.
    let out = world.dbguard(dir.path(), &["init", "--uninstall"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(std::fs::read_to_string(dir.path().join("package.json")).unwrap(), pkg);

    // A package.json edited after init keeps the edit; only init's scripts go.
    let out = world.dbguard(
        dir.path(),
        &["init", "--agent", "claude", "--scripts", "--dbguard", "dbguard"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("package.json")).unwrap()).unwrap();
    v["scripts"]["test"] = "vitest".into();
    std::fs::write(
        dir.path().join("package.json"),
        serde_json::to_string_pretty(&v).unwrap(),
    )
    .unwrap();
    let out = world.dbguard(dir.path(), &["init", "--uninstall"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("package.json")).unwrap()).unwrap();
    let keys: Vec<&String> = v["scripts"].as_object().unwrap().keys().collect();
    assert_eq!(keys, vec!["dev", "db:backup", "test"], "{v}");
    let _ = Command::new("true").status();
}
