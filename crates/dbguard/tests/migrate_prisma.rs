//! End to end: `dbguard migrate` with the real Prisma 6.19.3 (tests/e2e: a driver adapter
//! in prisma.config.ts, offline) on databases holding rows, run as an agent runs it (an
//! agent variable set, no terminal). The issue's scenarios 1-7 and the project without a
//! migrations folder.

mod e2e_support;
mod migrate_support;

use e2e_support::{describe, json, rows, table_exists, Project, World};
use migrate_support::{agent, agent_ok, column_exists, edit, entries, scratch_dbs};

const TABLES: &[&str] = &["User", "Post"];

fn seed(cluster: &testpg::Cluster, db: &str) {
    cluster.psql(
        db,
        "INSERT INTO \"User\" (email, name, bio) VALUES ('ada@example.com', 'Ada', 'first programmer'), \
         ('grace@example.com', 'Grace', NULL), ('linus@example.com', 'Linus', 'kernel'); \
         INSERT INTO \"Post\" (title, \"authorId\") VALUES ('Notes on the engine', 1), ('COBOL', 2), ('Hello', 3), ('Again', 1);",
    );
}

fn content(cluster: &testpg::Cluster, db: &str) -> Vec<Vec<String>> {
    TABLES.iter().map(|t| rows(cluster, db, t)).collect()
}

/// A project copy and a database migrated with its first migration, holding rows, on the
/// test's own cluster (so that "no scratch database left" is about this test alone).
fn prepared(cluster: &testpg::Cluster, name: &str) -> (Project, String, World) {
    let project = Project::new(name, &["prisma", "prisma.config.ts"]);
    let db = cluster.create_db(name);
    let url = cluster.url(&db);
    project.npx(&url, &["prisma", "migrate", "deploy"]);
    seed(cluster, &db);
    let world = World::new().env("DATABASE_URL", &url);
    (project, db, world)
}

fn migrations_dir(p: &Project) -> std::path::PathBuf {
    p.dir.join("prisma/migrations")
}

/// Scenario 1: a field added to schema.prisma; `new` writes exactly one migration that
/// adds the column; `apply` needs no approval, snapshots, keeps every row; status clean.
#[test]
fn scenario_1_add_a_column_new_then_apply() {
    let cluster = &testpg::Cluster::start();
    let (project, db, world) = prepared(cluster, "mig_add");
    let before = content(cluster, &db);
    edit(
        &project.dir,
        "prisma/schema.prisma",
        "  bio   String?\n",
        "  bio   String?\n  status String @default(\"active\")\n",
    );
    let dirs_before = entries(&migrations_dir(&project));

    let v = agent_ok(&world, &project.dir, &["migrate", "new", "add_status", "--json"], 0);
    assert_eq!(v["result"], "written", "{v}");
    let dirs_after = entries(&migrations_dir(&project));
    let added: Vec<&String> = dirs_after.iter().filter(|d| !dirs_before.contains(d)).collect();
    assert_eq!(added.len(), 1, "{dirs_after:?}");
    assert!(added[0].ends_with("_add_status") && added[0].len() == "20260101000000_add_status".len());
    let sql = std::fs::read_to_string(migrations_dir(&project).join(added[0]).join("migration.sql")).unwrap();
    assert!(
        sql.contains("ALTER TABLE \"User\" ADD COLUMN") && sql.contains("\"status\""),
        "{sql}"
    );
    assert!(!sql.contains("DROP"), "{sql}");
    assert!(v["findings"].as_array().unwrap().is_empty(), "{v}");
    assert!(
        scratch_dbs(cluster).is_empty(),
        "scratch left: {:?}",
        scratch_dbs(cluster)
    );

    // Nothing destructive: no approval needed, a snapshot of what it touches, every row kept.
    let v = agent_ok(&world, &project.dir, &["migrate", "apply", "--json"], 0);
    assert_eq!(v["result"], "applied", "{v}");
    let snap = v["guarded"]["snapshot"]["id"].as_str().expect("snapshot").to_string();
    assert!(v["guarded"]["approval_used"].is_null(), "{v}");
    assert!(column_exists(cluster, &db, "User", "status"));
    let now = content(cluster, &db);
    assert_eq!(now[1], before[1], "posts changed");
    assert_eq!(now[0].len(), before[0].len(), "users lost");
    assert!(now[0].iter().all(|r| r.contains("\"status\":\"active\"")), "{now:?}");
    let out = world.dbguard(&project.dir, &["snapshots", "--json"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&snap),
        "{}",
        describe(&out)
    );

    let v = agent_ok(&world, &project.dir, &["migrate", "status", "--json"], 0);
    assert_eq!(v["clean"], true, "{v}");
    assert!(v["pending"].as_array().unwrap().is_empty(), "{v}");
    assert_eq!(v["drift"]["checked"], true, "{v}");
    assert!(scratch_dbs(cluster).is_empty());

    // The audit log has the apply, door migrate.
    let out = world.dbguard(&project.dir, &["log", "--json"]);
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).expect("log json");
    let doors: Vec<(&str, &str)> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["door"].as_str().unwrap_or(""), e["outcome"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(doors, vec![("migrate", "started"), ("migrate", "ran")], "{log}");
}

/// Scenario 2: a model and a column removed: plan shows the rows at stake and the
/// rehearsal; apply exits 3 with a code, data untouched; after `dbguard approve` it
/// applies; restore brings back identical rows into a new database.
#[test]
fn scenario_2_drop_needs_approval_then_restore() {
    let cluster = &testpg::Cluster::start();
    let (project, db, world) = prepared(cluster, "mig_drop");
    let original = content(cluster, &db);
    std::fs::copy(
        project.dir.join("prisma/schema.reduced.prisma"),
        project.dir.join("prisma/schema.prisma"),
    )
    .unwrap();
    let v = agent_ok(&world, &project.dir, &["migrate", "new", "cleanup", "--json"], 0);
    let kinds: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"drop_table") && kinds.contains(&"drop_column"), "{v}");

    let out = agent(&world, &project.dir, &["migrate", "plan", "--json"]);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let v = json(&out);
    let impacts = v["plan"]["impacts"].to_string();
    assert!(impacts.contains("\"rows\":4"), "Post's 4 rows not measured: {v}");
    assert_eq!(v["rehearsal"]["ok"], true, "{v}");
    assert_eq!(v["rehearsal"]["schema_check"]["matches"], true, "{v}");
    assert!(v["rehearsal"]["migrations"][0]["ms"].is_u64(), "{v}");
    assert_eq!(v["pending_hash"].as_str().map(str::len), Some(64));
    std::fs::write(world.dir.path().join("plan.json"), &out.stdout).unwrap();
    assert_eq!(content(cluster, &db), original, "the plan changed data");
    assert!(scratch_dbs(cluster).is_empty(), "{:?}", scratch_dbs(cluster));

    let plan_file = world.dir.path().join("plan.json");
    let plan_arg = plan_file.to_str().unwrap();
    let v = agent_ok(
        &world,
        &project.dir,
        &["migrate", "apply", "--json", "--plan", plan_arg],
        3,
    );
    assert_eq!(v["result"], "needs_approval", "{v}");
    let code = v["guarded"]["approval"]["code"].as_str().expect("code").to_string();
    assert_eq!(content(cluster, &db), original, "data changed without approval");

    let (status, screen) = world.dbguard_pty(&project.dir, &["approve", &code], &[&db], &[]);
    assert_eq!(status, 0, "{screen}");
    assert!(screen.contains("DROP TABLE"), "{screen}");

    let v = agent_ok(
        &world,
        &project.dir,
        &["migrate", "apply", "--json", "--plan", plan_arg],
        0,
    );
    assert_eq!(v["result"], "applied", "{v}");
    assert_eq!(v["guarded"]["approval_used"], code.as_str(), "{v}");
    assert!(!table_exists(cluster, &db, "Post"));
    assert!(!column_exists(cluster, &db, "User", "bio"));
    let id = v["guarded"]["snapshot"]["id"].as_str().expect("snapshot").to_string();

    let restored = format!("{db}_back");
    let out = world.dbguard(&project.dir, &["restore", &id, "--to-database", &restored]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(content(cluster, &restored), original, "restored rows differ");
}

/// Scenario 3: a renamed field: `new` reports the probable rename and the statement that
/// keeps the data.
#[test]
fn scenario_3_rename_is_reported() {
    let cluster = &testpg::Cluster::start();
    let (project, _db, world) = prepared(cluster, "mig_rename");
    edit(
        &project.dir,
        "prisma/schema.prisma",
        "  bio   String?\n",
        "  about String?\n",
    );
    let v = agent_ok(&world, &project.dir, &["migrate", "new", "rename_bio", "--json"], 0);
    let r = &v["probable_renames"][0];
    assert_eq!(r["from"], "bio", "{v}");
    assert_eq!(r["to"], "about", "{v}");
    assert_eq!(
        r["statement"], "ALTER TABLE \"User\" RENAME COLUMN \"bio\" TO \"about\";",
        "{v}"
    );
    assert!(v["next_step"].as_str().unwrap().contains("RENAME COLUMN"), "{v}");
    // The text output names it too.
    let out = agent(&world, &project.dir, &["migrate", "status"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("pending"),
        "{}",
        describe(&out)
    );
}

/// Scenario 4: a shadow database URL that is the main database under another host name:
/// `new` refuses; `check "npx prisma migrate dev"` exits 3.
#[test]
fn scenario_4_shadow_is_main() {
    let cluster = &testpg::Cluster::start();
    let (project, db, world) = prepared(cluster, "mig_shadow");
    let other_name = format!("postgres://postgres@localhost:{}/{db}", cluster.port);
    edit(
        &project.dir,
        "prisma/schema.prisma",
        "  url      = env(\"DATABASE_URL\")\n",
        "  url      = env(\"DATABASE_URL\")\n  shadowDatabaseUrl = env(\"SHADOW_URL\")\n",
    );
    let world = world.env("SHADOW_URL", &other_name);
    edit(
        &project.dir,
        "prisma/schema.prisma",
        "  bio   String?\n",
        "  bio   String?\n  x Int?\n",
    );
    let before = content(cluster, &db);
    let dirs = entries(&migrations_dir(&project));
    let v = agent_ok(&world, &project.dir, &["migrate", "new", "x", "--json"], 3);
    assert_eq!(v["result"], "refused", "{v}");
    assert!(v["message"].as_str().unwrap().contains("main database"), "{v}");
    assert_eq!(entries(&migrations_dir(&project)), dirs, "a migration was written");
    assert_eq!(content(cluster, &db), before);
    let out = agent(&world, &project.dir, &["check", "npx prisma migrate dev"]);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let v = agent_ok(&world, &project.dir, &["migrate", "status", "--json", "--no-drift"], 3);
    assert!(v["issues"].to_string().contains("shadow_is_main"), "{v}");
}

/// Scenario 5: a migration that fails halfway: apply reports it with the restore command;
/// status shows the failed migration and the next step; apply then refuses.
#[test]
fn scenario_5_failed_migration() {
    let cluster = &testpg::Cluster::start();
    let (project, db, world) = prepared(cluster, "mig_fail");
    let dir = migrations_dir(&project).join("20260102000000_half");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("migration.sql"),
        "ALTER TABLE \"User\" ADD COLUMN \"nickname\" TEXT;\nALTER TABLE \"Nope\" ADD COLUMN \"y\" INTEGER;\n",
    )
    .unwrap();
    let out = agent(&world, &project.dir, &["migrate", "apply", "--json"]);
    assert_ne!(out.status.code(), Some(0), "{}", describe(&out));
    let v = json(&out);
    assert_eq!(v["result"], "failed", "{v}");
    assert_eq!(v["after"]["failed"][0], "20260102000000_half", "{v}");
    assert!(v["message"].as_str().unwrap().contains("dbguard restore "), "{v}");
    assert!(
        v["next_step"]
            .as_str()
            .unwrap()
            .contains("migrate resolve --rolled-back 20260102000000_half"),
        "{v}"
    );
    // Prisma ran the first statement: the state the tool left.
    assert!(column_exists(cluster, &db, "User", "nickname"));

    let v = agent_ok(&world, &project.dir, &["migrate", "status", "--json"], 3);
    assert_eq!(v["failed"][0], "20260102000000_half", "{v}");
    let issue = v["issues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "failed")
        .expect("failed issue")
        .clone();
    assert!(issue["detail"].as_str().unwrap().contains("Nope"), "{issue}");
    assert!(scratch_dbs(cluster).is_empty(), "{:?}", scratch_dbs(cluster));
    assert!(
        issue["next_step"].as_str().unwrap().contains("never resolves"),
        "{issue}"
    );
    let v = agent_ok(&world, &project.dir, &["migrate", "apply", "--json"], 3);
    assert_eq!(v["result"], "refused", "{v}");
    // No automatic resolve: the failed row is still there.
    assert_eq!(
        cluster.psql(
            &db,
            "SELECT count(*) FROM _prisma_migrations WHERE finished_at IS NULL AND rolled_back_at IS NULL"
        ),
        "1"
    );
}

/// Scenario 6: an applied migration edited, a manual ALTER TABLE (drift), a provider lock
/// mismatch: status reports each; apply refuses each.
#[test]
fn scenario_6_edited_drift_and_provider_mismatch() {
    let cluster = &testpg::Cluster::start();
    let (project, db, world) = prepared(cluster, "mig_dirty");
    // A pending migration, so that apply has something it refuses to do.
    let pending = migrations_dir(&project).join("20260103000000_more");
    std::fs::create_dir_all(&pending).unwrap();
    std::fs::write(
        pending.join("migration.sql"),
        "ALTER TABLE \"User\" ADD COLUMN \"more\" TEXT;\n",
    )
    .unwrap();
    let v = agent_ok(&world, &project.dir, &["migrate", "status", "--json"], 0);
    assert_eq!(v["clean"], true, "{v}");

    let init = migrations_dir(&project).join("20260101000000_init/migration.sql");
    let original = std::fs::read_to_string(&init).unwrap();
    std::fs::write(&init, format!("{original}\n-- edited later\n")).unwrap();
    let v = agent_ok(&world, &project.dir, &["migrate", "status", "--json"], 3);
    assert_eq!(v["edited"][0], "20260101000000_init", "{v}");
    let v = agent_ok(&world, &project.dir, &["migrate", "apply", "--json"], 3);
    assert_eq!(v["result"], "refused", "{v}");
    std::fs::write(&init, &original).unwrap();

    cluster.psql(&db, "ALTER TABLE \"User\" ADD COLUMN sneaky INTEGER");
    let v = agent_ok(&world, &project.dir, &["migrate", "status", "--json"], 3);
    let drift = v["issues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "drift")
        .expect("drift")
        .clone();
    assert!(drift["detail"].as_str().unwrap().contains("sneaky"), "{drift}");
    let v = agent_ok(&world, &project.dir, &["migrate", "apply", "--json"], 3);
    assert_eq!(v["result"], "refused", "{v}");
    assert!(!column_exists(cluster, &db, "User", "more"));
    cluster.psql(&db, "ALTER TABLE \"User\" DROP COLUMN sneaky");

    let lock = migrations_dir(&project).join("migration_lock.toml");
    std::fs::write(&lock, "provider = \"sqlite\"\n").unwrap();
    let v = agent_ok(&world, &project.dir, &["migrate", "status", "--json", "--no-drift"], 3);
    assert!(v["issues"].to_string().contains("provider_mismatch"), "{v}");
    let v = agent_ok(&world, &project.dir, &["migrate", "apply", "--json"], 3);
    assert_eq!(v["result"], "refused", "{v}");
    std::fs::write(&lock, "provider = \"postgresql\"\n").unwrap();

    // All put back: clean again, and the pending migration applies.
    let v = agent_ok(&world, &project.dir, &["migrate", "apply", "--json"], 0);
    assert_eq!(v["result"], "applied", "{v}");
    assert!(scratch_dbs(cluster).is_empty());
}

/// Scenario 7: a database made with `db push` (tables, no history): baseline proves and
/// records 0_init; status is clean; apply of a new migration works.
#[test]
fn scenario_7_baseline_after_db_push() {
    let cluster = &testpg::Cluster::start();
    let project = Project::new("mig_base", &["prisma", "prisma.config.ts"]);
    std::fs::remove_dir_all(migrations_dir(&project)).unwrap();
    let db = cluster.create_db("mig_base");
    let url = cluster.url(&db);
    project.npx(&url, &["prisma", "db", "push", "--skip-generate"]);
    seed(cluster, &db);
    let world = World::new().env("DATABASE_URL", &url);
    let v = agent_ok(&world, &project.dir, &["migrate", "baseline", "--json"], 0);
    assert_eq!(v["result"], "recorded", "{v}");
    assert!(migrations_dir(&project).join("0_init/migration.sql").is_file());
    let v = agent_ok(&world, &project.dir, &["migrate", "status", "--json"], 0);
    assert_eq!(v["clean"], true, "{v}");
    assert_eq!(v["applied"][0], "0_init", "{v}");
    edit(
        &project.dir,
        "prisma/schema.prisma",
        "  bio   String?\n",
        "  bio   String?\n  born Int?\n",
    );
    agent_ok(&world, &project.dir, &["migrate", "new", "born", "--json"], 0);
    let v = agent_ok(&world, &project.dir, &["migrate", "apply", "--json"], 0);
    assert_eq!(v["result"], "applied", "{v}");
    assert!(column_exists(cluster, &db, "User", "born"));
    assert_eq!(rows(cluster, &db, "Post").len(), 4);
}

/// No migrations folder yet: status and apply say so; `new` makes the first migration
/// and the folder, as `prisma migrate dev --name init` would.
#[test]
fn first_migration_without_a_folder() {
    let cluster = &testpg::Cluster::start();
    let project = Project::new("mig_first", &["prisma", "prisma.config.ts"]);
    std::fs::remove_dir_all(migrations_dir(&project)).unwrap();
    let db = cluster.create_db("mig_first");
    let world = World::new().env("DATABASE_URL", &cluster.url(&db));
    let v = agent_ok(&world, &project.dir, &["migrate", "status", "--json"], 0);
    assert!(
        v["applied"].as_array().unwrap().is_empty() && v["pending"].as_array().unwrap().is_empty(),
        "{v}"
    );
    let v = agent_ok(&world, &project.dir, &["migrate", "apply", "--json"], 0);
    assert_eq!(v["result"], "nothing_to_apply", "{v}");
    let v = agent_ok(&world, &project.dir, &["migrate", "new", "init", "--json"], 0);
    assert_eq!(v["result"], "written", "{v}");
    assert!(migrations_dir(&project).join("migration_lock.toml").is_file());
    let v = agent_ok(&world, &project.dir, &["migrate", "status", "--json"], 0);
    assert_eq!(v["pending"].as_array().unwrap().len(), 1, "{v}");
    let v = agent_ok(&world, &project.dir, &["migrate", "apply", "--json"], 0);
    assert_eq!(v["result"], "applied", "{v}");
    assert!(table_exists(cluster, &db, "Post"));
}
