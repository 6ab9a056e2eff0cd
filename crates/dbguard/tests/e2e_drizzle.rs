//! End to end: the real `dbguard run` around the real drizzle-kit 0.31.11 (tests/e2e)
//! against throwaway PostgreSQL databases holding rows. `drizzle-kit push --force` after
//! removing a table and a column from the schema drops both without a word: dbguard
//! stops it (exit 3, data untouched), lets it run once after a person's approval with a
//! snapshot first, and the snapshot restores identical rows into a new database. On a
//! production database it is blocked.

mod e2e_support;

use e2e_support::{describe, json, rows, table_exists, Project, World};

fn seed(cluster: &testpg::Cluster, db: &str) {
    cluster.psql(
        db,
        "INSERT INTO users (email, name, bio) VALUES ('ada@example.com', 'Ada', 'first programmer'), \
         ('grace@example.com', 'Grace', NULL); \
         INSERT INTO posts (title, author_id) VALUES ('Notes', 1), ('COBOL', 2), ('More notes', 1);",
    );
}

fn content(cluster: &testpg::Cluster, db: &str) -> Vec<Vec<String>> {
    ["users", "posts"].iter().map(|t| rows(cluster, db, t)).collect()
}

fn prepared_db(project: &Project, prefix: &str) -> (String, String, Vec<Vec<String>>) {
    let cluster = testpg::Cluster::shared();
    let db = cluster.create_db(prefix);
    let url = cluster.url(&db);
    // The full schema first (outside dbguard), then rows.
    std::fs::copy(
        project.dir.join("drizzle/schema.full.ts"),
        project.dir.join("drizzle/schema.ts"),
    )
    .expect("schema");
    project.npx(&url, &["drizzle-kit", "push", "--force"]);
    seed(cluster, &db);
    let c = content(cluster, &db);
    assert_eq!(c[1].len(), 3);
    (db, url, c)
}

fn reduce_schema(project: &Project) {
    std::fs::copy(
        project.dir.join("drizzle/schema.reduced.ts"),
        project.dir.join("drizzle/schema.ts"),
    )
    .expect("schema");
}

#[test]
fn drizzle_kit_push_force_after_removing_a_table_and_a_column() {
    let cluster = testpg::Cluster::shared();
    let project = Project::new("e2e_drizzle", &["drizzle", "drizzle.config.ts"]);
    std::fs::copy(
        project.dir.join("drizzle/schema.ts"),
        project.dir.join("drizzle/schema.full.ts"),
    )
    .expect("copy");
    let (db, url, original) = prepared_db(&project, "e2e_drizzle");
    reduce_schema(&project);
    let world = World::new().env("DATABASE_URL", &url);
    let args = ["run", "--json", "--", "npx", "drizzle-kit", "push", "--force"];

    // Development, no approval: exit 3 with a code; nothing dropped.
    let out = world.dbguard(&project.dir, &args);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let v = json(&out);
    assert_eq!(v["outcome"], "needs_approval", "{v}");
    let code = v["approval"]["code"].as_str().expect("code").to_string();
    assert_eq!(content(cluster, &db), original);

    // A person approves in a terminal; the rerun snapshots and runs it.
    let (status, screen) = world.dbguard_pty(&project.dir, &["approve", &code], &[&db], &[]);
    assert_eq!(status, 0, "{screen}");
    let out = world.dbguard(&project.dir, &args);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let v = json(&out);
    assert_eq!(v["outcome"], "ran", "{v}");
    let id = v["snapshot"]["id"].as_str().expect("snapshot id").to_string();
    assert!(!table_exists(cluster, &db, "posts"), "posts should be dropped");
    assert!(
        !rows(cluster, &db, "users").iter().any(|r| r.contains("\"bio\"")),
        "bio should be dropped"
    );
    let changed: Vec<&serde_json::Value> = v["verification"]["tables"]
        .as_array()
        .expect("verification")
        .iter()
        .filter(|t| t["rows_after"] != t["rows_before"])
        .collect();
    assert!(
        changed
            .iter()
            .any(|t| t["table"] == "public.posts" && t["rows_after"].is_null()),
        "{v}"
    );

    // Restore into a new database: identical rows.
    let restored = format!("{db}_back");
    let out = world.dbguard(&project.dir, &["restore", &id, "--to-database", &restored]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(content(cluster, &restored), original);

    // Production: blocked, untouched.
    let (prod_db, prod_url, prod_before) = prepared_db(&project, "e2e_drizzle_prod");
    reduce_schema(&project);
    let world = World::new().env("DATABASE_URL", &prod_url);
    world.set_config(&format!(
        "[[databases]]\nmatch = \"{prod_db}\"\nenvironment = \"production\"\n"
    ));
    let out = world.dbguard(&project.dir, &args);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let v = json(&out);
    assert_eq!(v["outcome"], "blocked", "{v}");
    assert!(
        v["safe_alternative"]
            .as_str()
            .unwrap_or("")
            .contains("drizzle-kit generate"),
        "{v}"
    );
    assert_eq!(content(cluster, &prod_db), prod_before);
}
