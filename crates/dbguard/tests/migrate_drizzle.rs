//! End to end: `dbguard migrate` with the real drizzle-kit 0.31.11 (tests/e2e) on a
//! database holding rows, run as an agent runs it (scenario 8): `new` on an added column
//! writes the migration; a rename question is reported without writing anything;
//! out-of-order journal entries are reported instead of silently skipped; a destructive
//! apply needs an approval, and the snapshot restores identical rows.

mod e2e_support;
mod migrate_support;

use e2e_support::{json, rows, table_exists, Project, World};
use migrate_support::{agent, agent_ok, column_exists, edit, entries, scratch_dbs};

fn content(cluster: &testpg::Cluster, db: &str) -> Vec<Vec<String>> {
    ["users", "posts"].iter().map(|t| rows(cluster, db, t)).collect()
}

#[test]
fn scenario_8_drizzle() {
    let cluster = &testpg::Cluster::start();
    let project = Project::new("mig_drizzle", &["drizzle", "drizzle.config.ts"]);
    let db = cluster.create_db("mig_drizzle");
    let world = World::new().env("DATABASE_URL", &cluster.url(&db));
    let out_dir = project.dir.join("drizzle");

    // The first migration from the schema, applied to an empty database, then rows.
    let v = agent_ok(&world, &project.dir, &["migrate", "new", "init", "--json"], 0);
    assert_eq!(v["result"], "written", "{v}");
    let v = agent_ok(&world, &project.dir, &["migrate", "apply", "--json"], 0);
    assert_eq!(v["result"], "applied", "{v}");
    cluster.psql(
        &db,
        "INSERT INTO users (email, name, bio) VALUES ('ada@example.com', 'Ada', 'first programmer'), \
         ('grace@example.com', 'Grace', NULL); \
         INSERT INTO posts (title, author_id) VALUES ('Notes', 1), ('COBOL', 2), ('More notes', 1);",
    );
    let original = content(cluster, &db);

    // An added column: one new migration, applied without approval, rows kept.
    edit(
        &project.dir,
        "drizzle/schema.ts",
        "  bio: text('bio'),\n",
        "  bio: text('bio'),\n  status: text('status'),\n",
    );
    let files_before = entries(&out_dir);
    let v = agent_ok(&world, &project.dir, &["migrate", "new", "add_status", "--json"], 0);
    assert_eq!(v["result"], "written", "{v}");
    let new_files: Vec<String> = entries(&out_dir)
        .into_iter()
        .filter(|f| !files_before.contains(f))
        .collect();
    assert_eq!(new_files.len(), 1, "{new_files:?}");
    let sql = std::fs::read_to_string(out_dir.join(&new_files[0])).unwrap();
    assert!(sql.contains("ADD COLUMN \"status\""), "{sql}");
    let v = agent_ok(&world, &project.dir, &["migrate", "apply", "--json"], 0);
    assert_eq!(v["result"], "applied", "{v}");
    assert!(v["guarded"]["snapshot"]["id"].is_string(), "{v}");
    assert!(column_exists(cluster, &db, "users", "status"));
    assert_eq!(rows(cluster, &db, "posts"), original[1]);
    assert_eq!(rows(cluster, &db, "users").len(), 2);

    // A rename: drizzle-kit would ask; nothing is written.
    edit(
        &project.dir,
        "drizzle/schema.ts",
        "  bio: text('bio'),\n",
        "  about: text('about'),\n",
    );
    let files_before = entries(&out_dir);
    let journal_before = std::fs::read(out_dir.join("meta/_journal.json")).unwrap();
    let v = agent_ok(&world, &project.dir, &["migrate", "new", "rename", "--json"], 3);
    assert_eq!(v["result"], "question", "{v}");
    assert!(v["message"].as_str().unwrap().contains("column"), "{v}");
    assert!(v["next_step"].as_str().unwrap().contains("--custom"), "{v}");
    assert_eq!(entries(&out_dir), files_before, "files written after a question");
    assert_eq!(
        std::fs::read(out_dir.join("meta/_journal.json")).unwrap(),
        journal_before
    );
    edit(
        &project.dir,
        "drizzle/schema.ts",
        "  about: text('about'),\n",
        "  bio: text('bio'),\n",
    );

    // An entry merged from another branch, older than the newest applied one.
    let journal_path = out_dir.join("meta/_journal.json");
    let mut journal: serde_json::Value = serde_json::from_slice(&journal_before).unwrap();
    let first_when = journal["entries"][0]["when"].as_i64().unwrap();
    journal["entries"].as_array_mut().unwrap().push(serde_json::json!({
        "idx": 9, "version": "7", "when": first_when + 1, "tag": "0009_from_branch", "breakpoints": true
    }));
    std::fs::write(&journal_path, serde_json::to_vec_pretty(&journal).unwrap()).unwrap();
    std::fs::write(
        out_dir.join("0009_from_branch.sql"),
        "ALTER TABLE \"users\" ADD COLUMN \"branch\" text;",
    )
    .unwrap();
    let v = agent_ok(&world, &project.dir, &["migrate", "status", "--json"], 3);
    assert_eq!(v["out_of_order"][0], "0009_from_branch", "{v}");
    assert!(v["issues"][0]["detail"].as_str().unwrap().contains("skip"), "{v}");
    let v = agent_ok(&world, &project.dir, &["migrate", "apply", "--json"], 3);
    assert_eq!(v["result"], "refused", "{v}");
    std::fs::write(&journal_path, &journal_before).unwrap();
    std::fs::remove_file(out_dir.join("0009_from_branch.sql")).unwrap();

    // Drop a table and a column: approval, then applied; the snapshot restores the rows.
    let before_drop = content(cluster, &db);
    std::fs::copy(
        project.dir.join("drizzle/schema.reduced.ts"),
        project.dir.join("drizzle/schema.ts"),
    )
    .unwrap();
    let v = agent_ok(&world, &project.dir, &["migrate", "new", "cleanup", "--json"], 0);
    assert!(v["findings"].to_string().contains("drop_table"), "{v}");
    let out = agent(&world, &project.dir, &["migrate", "plan", "--json"]);
    assert_eq!(out.status.code(), Some(3), "{}", e2e_support::describe(&out));
    let p = json(&out);
    assert_eq!(p["rehearsal"]["ok"], true, "{p}");
    assert_eq!(p["rehearsal"]["schema_check"]["matches"], true, "{p}");
    let v = agent_ok(&world, &project.dir, &["migrate", "apply", "--json"], 3);
    assert_eq!(v["result"], "needs_approval", "{v}");
    let code = v["guarded"]["approval"]["code"].as_str().unwrap().to_string();
    assert_eq!(content(cluster, &db), before_drop, "changed without approval");
    let (status, screen) = world.dbguard_pty(&project.dir, &["approve", &code], &[&db], &[]);
    assert_eq!(status, 0, "{screen}");
    let v = agent_ok(&world, &project.dir, &["migrate", "apply", "--json"], 0);
    assert_eq!(v["result"], "applied", "{v}");
    assert!(!table_exists(cluster, &db, "posts"));
    let id = v["guarded"]["snapshot"]["id"].as_str().unwrap().to_string();
    let restored = format!("{db}_back");
    let out = world.dbguard(&project.dir, &["restore", &id, "--to-database", &restored]);
    assert_eq!(out.status.code(), Some(0), "{}", e2e_support::describe(&out));
    assert_eq!(content(cluster, &restored), before_drop);
    let v = agent_ok(&world, &project.dir, &["migrate", "status", "--json"], 0);
    assert_eq!(v["clean"], true, "{v}");
    assert!(scratch_dbs(cluster).is_empty(), "{:?}", scratch_dbs(cluster));
}
