//! End to end: the real `dbguard run` around the real Prisma 6.19.3 CLI (tests/e2e, offline
//! with its WebAssembly engine) against throwaway PostgreSQL databases holding rows.
//!
//! For each destructive Prisma command: in development without approval it exits 3 and
//! the data is untouched; after `dbguard approve CODE` (typed in a pseudo-terminal) the
//! rerun snapshots, runs it, the data is gone, and `dbguard restore` brings back identical
//! rows into a new database; on a database dbguard.toml classifies as production it is
//! blocked and the data untouched.

mod e2e_support;

use e2e_support::{describe, json, rows, table_exists, Project, World};

const TABLES: &[&str] = &["User", "Post"];

fn seed(cluster: &testpg::Cluster, db: &str) {
    cluster.psql(
        db,
        "INSERT INTO \"User\" (email, name, bio) VALUES ('ada@example.com', 'Ada', 'first programmer'), \
         ('grace@example.com', 'Grace', NULL), ('linus@example.com', 'Linus', 'kernel'); \
         INSERT INTO \"Post\" (title, \"authorId\") VALUES ('Notes on the engine', 1), ('COBOL', 2), ('Hello', 3), ('Again', 1);",
    );
}

fn snapshot_of(cluster: &testpg::Cluster, db: &str) -> Vec<Vec<String>> {
    TABLES.iter().map(|t| rows(cluster, db, t)).collect()
}

/// Set up a project and a migrated, seeded database; returns (project, db, url, content).
fn prepared(name: &str) -> (Project, String, String, Vec<Vec<String>>) {
    let cluster = testpg::Cluster::shared();
    let project = Project::new(name, &["prisma", "prisma.config.ts"]);
    let db = cluster.create_db(name);
    let url = cluster.url(&db);
    project.npx(&url, &["prisma", "migrate", "deploy"]);
    seed(cluster, &db);
    let content = snapshot_of(cluster, &db);
    assert_eq!(content[0].len(), 3);
    (project, db, url, content)
}

/// The whole scenario for one command. `before` edits the project first (e.g. the schema).
fn scenario(name: &str, command: &[&str], before: impl Fn(&Project), all_gone: bool) {
    let cluster = testpg::Cluster::shared();
    let (project, db, url, original) = prepared(name);
    before(&project);
    let world = World::new().env("DATABASE_URL", &url);
    let mut args = vec!["run", "--json", "--"];
    args.extend_from_slice(command);

    // 1. Development, no approval, no terminal: exit 3, an approval code, nothing touched.
    let out = world.dbguard(&project.dir, &args);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let v = json(&out);
    assert_eq!(v["outcome"], "needs_approval", "{v}");
    assert_eq!(v["plan"]["target"]["environment"], "development", "{v}");
    let code = v["approval"]["code"].as_str().expect("approval code").to_string();
    assert!(v["approval"]["sentence"]
        .as_str()
        .unwrap_or("")
        .contains(&format!("dbguard approve {code}")));
    assert_eq!(snapshot_of(cluster, &db), original, "data changed without approval");

    // 2. A person approves at a terminal, typing the database name.
    let (status, screen) = world.dbguard_pty(&project.dir, &["approve", &code], &[&db], &[]);
    assert_eq!(status, 0, "approve failed:\n{screen}");
    assert!(
        screen.contains(command.join(" ").as_str()),
        "the plan was not shown again:\n{screen}"
    );

    // 3. The rerun snapshots, runs the real command, and reports what was lost.
    let out = world.dbguard(&project.dir, &args);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let v = json(&out);
    assert_eq!(v["outcome"], "ran", "{v}");
    assert_eq!(v["exit_code"], 0, "{v}");
    assert_eq!(v["approval_used"], code.as_str(), "{v}");
    let id = v["snapshot"]["id"].as_str().expect("snapshot id").to_string();
    assert_eq!(v["restore_command"], format!("dbguard restore {id}").as_str());
    assert!(v["verification"]["rows_lost"].as_u64().unwrap_or(0) > 0, "{v}");
    if all_gone {
        assert!(!table_exists(cluster, &db, "Post") || rows(cluster, &db, "Post").is_empty());
        assert!(!table_exists(cluster, &db, "User") || rows(cluster, &db, "User").is_empty());
    } else {
        assert!(!table_exists(cluster, &db, "Post"), "Post should be dropped");
        assert!(
            !rows(cluster, &db, "User").iter().any(|r| r.contains("\"bio\"")),
            "bio should be dropped"
        );
    }
    // The approval was single-use: the same command needs a new one, unless the
    // database now holds nothing at all (after a reset), which needs no approval.
    let out = world.dbguard(&project.dir, &args);
    let now_empty = cluster.psql(
        &db,
        "SELECT coalesce(sum((xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', schemaname, relname), false, true, '')))[1]::text::bigint), 0) FROM pg_stat_user_tables",
    ) == "0";
    if now_empty {
        assert_eq!(out.status.code(), Some(0), "empty database:\n{}", describe(&out));
        assert_eq!(
            json(&out)["plan"]["verdict"]["rule"],
            "empty database",
            "{}",
            describe(&out)
        );
    } else {
        assert_eq!(out.status.code(), Some(3), "approval reused:\n{}", describe(&out));
    }

    // 4. The snapshot exists and restores identical rows into a new database.
    let out = world.dbguard(&project.dir, &["snapshots", "--json"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains(&id), "{}", describe(&out));
    let restored = format!("{db}_back");
    let out = world.dbguard(&project.dir, &["restore", &id, "--to-database", &restored]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(snapshot_of(cluster, &restored), original, "restored rows differ");

    // 5. The audit log has the verdicts.
    let out = world.dbguard(&project.dir, &["log", "--json"]);
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).expect("log json");
    let outcomes: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["outcome"].as_str())
        .collect();
    let last: &[&str] = if now_empty {
        &["started", "ran"]
    } else {
        &["needs_approval"]
    };
    let expected: Vec<&str> = ["needs_approval", "started", "ran"]
        .iter()
        .chain(last)
        .copied()
        .collect();
    assert_eq!(outcomes, expected, "{log}");

    // 6. Production (by dbguard.toml): blocked, untouched.
    let prod_db = cluster.create_db(&format!("{name}_prod"));
    let prod_url = cluster.url(&prod_db);
    project.npx(&prod_url, &["prisma", "migrate", "deploy"]);
    seed(cluster, &prod_db);
    let prod_before = snapshot_of(cluster, &prod_db);
    let world = World::new().env("DATABASE_URL", &prod_url);
    world.set_config(&format!(
        "[[databases]]\nmatch = \"{prod_db}\"\nenvironment = \"production\"\n"
    ));
    let out = world.dbguard(&project.dir, &args);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let v = json(&out);
    assert_eq!(v["outcome"], "blocked", "{v}");
    assert_eq!(v["plan"]["target"]["environment"], "production", "{v}");
    assert!(
        v["safe_alternative"].as_str().unwrap_or("").contains("migrate deploy"),
        "{v}"
    );
    // Not even a flag lifts it without a person at a terminal.
    let mut lifted = vec!["run", "--json", "--allow-production", "--"];
    lifted.extend_from_slice(command);
    let out = world.dbguard(&project.dir, &lifted);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    assert_eq!(snapshot_of(cluster, &prod_db), prod_before, "production data changed");
}

#[test]
fn prisma_migrate_reset_force() {
    scenario(
        "e2e_reset",
        &["npx", "prisma", "migrate", "reset", "--force"],
        |_| {},
        true,
    );
}

#[test]
fn prisma_db_push_force_reset() {
    scenario(
        "e2e_pushreset",
        &["npx", "prisma", "db", "push", "--force-reset"],
        |_| {},
        true,
    );
}

#[test]
fn prisma_db_push_accept_data_loss_after_removing_a_model_and_a_column() {
    scenario(
        "e2e_pushloss",
        &["npx", "prisma", "db", "push", "--accept-data-loss"],
        |p| {
            std::fs::copy(
                p.dir.join("prisma/schema.reduced.prisma"),
                p.dir.join("prisma/schema.prisma"),
            )
            .expect("swap in the reduced schema");
        },
        false,
    );
}
