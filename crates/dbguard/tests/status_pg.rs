//! `dbguard status` against a real PostgreSQL (testpg): tables and estimates, a table
//! hidden by search_path, migrations, a Prisma project whose shadow database is the
//! real one, `.env` vs shell disagreement, dbguard.toml rules, and unreachable servers.

mod isolated;
use isolated::run as dbguard;

use std::time::Duration;

use serde_json::Value;

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// The URL with a password, which trust authentication ignores: lets tests check redaction.
fn url_with_password(db: &str) -> String {
    let c = testpg::Cluster::shared();
    format!("postgres://postgres:hunter2secret@127.0.0.1:{}/{db}", c.port)
}

#[test]
fn tables_search_path_and_migrations() {
    let c = testpg::Cluster::shared();
    let db = c.create_db("status_sp");
    c.psql(
        &db,
        "CREATE TABLE users(id serial PRIMARY KEY, name text);
         INSERT INTO users(name) SELECT 'u' || g FROM generate_series(1, 120) g;
         CREATE SCHEMA app;
         CREATE TABLE app.orders(id serial PRIMARY KEY, total int);
         INSERT INTO app.orders(total) SELECT g FROM generate_series(1, 7) g;
         CREATE SCHEMA drizzle;
         CREATE TABLE drizzle.__drizzle_migrations(id serial PRIMARY KEY, hash text NOT NULL, created_at bigint);
         INSERT INTO drizzle.__drizzle_migrations(hash, created_at) VALUES ('abc123', 1700000000000);
         CREATE TABLE _prisma_migrations(id varchar(36) PRIMARY KEY, checksum varchar(64), finished_at timestamptz,
           migration_name varchar(255) NOT NULL, logs text, rolled_back_at timestamptz, started_at timestamptz NOT NULL DEFAULT now(),
           applied_steps_count int NOT NULL DEFAULT 0);
         INSERT INTO _prisma_migrations(id, migration_name, finished_at) VALUES
           ('1', '20240101000000_init', '2024-01-01 10:00:00+00'),
           ('2', '20240201000000_add_orders', '2024-02-01 10:00:00+00'),
           ('3', '20240301000000_broken', NULL);
         CREATE TABLE events(id int, at date) PARTITION BY RANGE (at);
         CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
         INSERT INTO events SELECT g, '2024-03-01' FROM generate_series(1, 10) g;
         ANALYZE;",
    );
    c.psql("postgres", &format!("ALTER DATABASE \"{db}\" SET search_path = public"));
    let dir = tempfile::tempdir().unwrap();
    let url = url_with_password(&db);

    let out = dbguard(dir.path(), &["status", "--url", &url, "--json"], &[]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(!out.stdout.contains("hunter2secret"), "{}", out.stdout);
    let j = out.json();
    assert_eq!(j["target"]["source"], "--url");
    assert_eq!(
        j["target"]["display"],
        format!("postgres://postgres:***@127.0.0.1:{}/{db}", c.port)
    );
    assert_eq!(j["target"]["engine"], "postgres");
    assert_eq!(j["target"]["environment"], "development");
    assert!(j["target"]["environment_rule"].as_str().unwrap().contains("127.0.0.1"));
    assert_eq!(j["server"]["engine"], "postgresql");
    assert_eq!(j["server"]["database"], db.as_str());
    assert_eq!(j["server"]["user"], "postgres");
    assert!(j["server"]["version"]
        .as_str()
        .unwrap()
        .chars()
        .next()
        .unwrap()
        .is_ascii_digit());
    assert_eq!(j["search_path"]["setting"], "public");
    assert_eq!(strings(&j["search_path"]["effective"]), ["public"]);
    let outside = strings(&j["tables_outside_search_path"]);
    assert!(outside.contains(&"app.orders".to_string()), "{outside:?}");
    assert!(
        outside.contains(&"drizzle.__drizzle_migrations".to_string()),
        "{outside:?}"
    );
    let warnings = strings(&j["warnings"]);
    let sp_warning: Vec<&String> = warnings
        .iter()
        .filter(|w| w.contains("outside the search_path"))
        .collect();
    assert_eq!(sp_warning.len(), 1, "{warnings:?}");
    // The drizzle schema is expected to sit outside the search_path: only `app` is a trap.
    assert!(
        sp_warning[0].contains("1 table(s) in schema(s) app"),
        "{}",
        sp_warning[0]
    );
    assert!(
        warnings.iter().any(|w| w.contains("1 failed or unfinished")),
        "{warnings:?}"
    );

    let tables = j["tables"].as_array().unwrap();
    let users = tables
        .iter()
        .find(|t| t["name"] == "users" && t["schema"] == "public")
        .unwrap();
    assert_eq!(users["rows"], 120, "analyzed: reltuples is exact here");
    assert_eq!(users["rows_exact"], false);
    assert!(users["bytes"].as_i64().unwrap() > 0);
    assert_eq!(users["in_search_path"], true);
    let orders = tables.iter().find(|t| t["name"] == "orders").unwrap();
    assert_eq!(orders["in_search_path"], false);
    // A partitioned table counts its partitions, which are not listed themselves.
    let events = tables.iter().find(|t| t["name"] == "events").unwrap();
    assert_eq!(events["rows"], 10);
    assert!(events["bytes"].as_i64().unwrap() > 0);
    assert!(!tables.iter().any(|t| t["name"] == "events_2024"));

    let migrations = j["migrations"].as_array().unwrap();
    let prisma = migrations
        .iter()
        .find(|m| m["tool"] == "prisma")
        .expect("prisma migrations");
    assert_eq!(prisma["last"], "20240201000000_add_orders");
    assert_eq!(prisma["applied"], 3);
    assert_eq!(prisma["failed"], 1);
    assert!(prisma["last_at"].as_str().unwrap().starts_with("2024-02-01"));
    let drizzle = migrations
        .iter()
        .find(|m| m["tool"] == "drizzle")
        .expect("drizzle migrations");
    assert_eq!(drizzle["table"], "drizzle.__drizzle_migrations");
    assert_eq!(drizzle["last"], "abc123");
    assert_eq!(drizzle["last_at"], "2023-11-14 22:13:20 UTC");
    assert!(j.get("newest_snapshot").is_some());

    // Exact counts.
    let out = dbguard(dir.path(), &["status", "--url", &url, "--json", "--exact"], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let j = out.json();
    let orders = j["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "orders")
        .unwrap()
        .clone();
    assert_eq!(orders["rows"], 7);
    assert_eq!(orders["rows_exact"], true);

    // Human text: the facts, aligned, and no password.
    let out = dbguard(dir.path(), &["status", "--url", &url], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    eprintln!("{}", out.stdout); // visible with --nocapture
    assert!(out.stdout.contains("Environment  development"), "{}", out.stdout);
    assert!(
        out.stdout.contains("app.orders") && out.stdout.contains("outside search_path"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("20240201000000_add_orders"), "{}", out.stdout);
    assert!(!out.stdout.contains("hunter2secret"));

    // With app on the search_path the trap is gone.
    c.psql(
        "postgres",
        &format!("ALTER DATABASE \"{db}\" SET search_path = app, public"),
    );
    let j = dbguard(dir.path(), &["status", "--url", &url, "--json"], &[]).json();
    assert!(
        !strings(&j["warnings"])
            .iter()
            .any(|w| w.contains("outside the search_path")),
        "{}",
        j["warnings"]
    );
}

#[test]
fn prisma_shadow_database_is_the_real_one() {
    let c = testpg::Cluster::shared();
    let db = c.create_db("status_prisma");
    c.psql(&db, "CREATE TABLE \"User\"(id int PRIMARY KEY)");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("prisma")).unwrap();
    std::fs::write(
        dir.path().join("prisma/schema.prisma"),
        "generator client {\n  provider = \"prisma-client-js\"\n}\n\ndatasource db {\n  provider          = \"postgresql\"\n  url               = env(\"DATABASE_URL\")\n  shadowDatabaseUrl = env(\"SHADOW_URL\")\n}\n\nmodel User {\n  id Int @id\n}\n",
    )
    .unwrap();
    let url = url_with_password(&db);
    // Same database, written differently (localhost vs 127.0.0.1, no password).
    let shadow = format!("postgresql://postgres@localhost:{}/{db}?schema=public", c.port);
    std::fs::write(
        dir.path().join(".env"),
        format!("DATABASE_URL=\"{url}\"\nSHADOW_URL=\"{shadow}\"\n"),
    )
    .unwrap();

    let out = dbguard(dir.path(), &["status", "--json"], &[]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(!out.stdout.contains("hunter2secret"));
    let j = out.json();
    assert_eq!(
        j["target"]["source"],
        ".env: DATABASE_URL (named by prisma/schema.prisma: datasource url)"
    );
    assert_eq!(j["target"]["tool"], "prisma (project)");
    assert_eq!(j["server"]["database"], db.as_str());
    let related = &j["target"]["related"][0];
    assert_eq!(related["role"], "shadowDatabaseUrl");
    assert_eq!(related["same_as_target"], true);
    let warnings = strings(&j["warnings"]);
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("shadowDatabaseUrl") && w.contains("same database")),
        "{warnings:?}"
    );

    // --cwd from elsewhere gives the same answer.
    let elsewhere = tempfile::tempdir().unwrap();
    let out = dbguard(
        elsewhere.path(),
        &["status", "--json", "--cwd", dir.path().to_str().unwrap()],
        &[],
    );
    assert_eq!(out.json()["server"]["database"], db.as_str());
}

#[test]
fn shell_database_url_differs_from_dot_env() {
    let c = testpg::Cluster::shared();
    let shell_db = c.create_db("status_shell");
    let file_db = c.create_db("status_file");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        format!("DATABASE_URL={}\n", url_with_password(&file_db)),
    )
    .unwrap();
    let out = dbguard(
        dir.path(),
        &["status", "--json"],
        &[("DATABASE_URL", &url_with_password(&shell_db))],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stdout.contains("hunter2secret"), "{}", out.stdout);
    let j = out.json();
    assert_eq!(j["target"]["source"], "environment: DATABASE_URL");
    assert_eq!(j["server"]["database"], shell_db.as_str());
    let warnings = strings(&j["warnings"]);
    let w = warnings
        .iter()
        .find(|w| w.contains("in the shell"))
        .unwrap_or_else(|| panic!("{warnings:?}"));
    assert!(
        w.contains(&shell_db) && w.contains(&file_db) && w.contains("uses the shell's value"),
        "{w}"
    );
}

#[test]
fn dbguard_toml_decides_the_environment() {
    let c = testpg::Cluster::shared();
    let db = c.create_db("status_toml");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("dbguard.toml"),
        format!("[[databases]]\nmatch = \"{db}\"\nenvironment = \"production\"\nprotected = true\nname = \"main\"\n\n[future_section]\nx = 1\n"),
    )
    .unwrap();
    let sub = dir.path().join("sub/dir");
    std::fs::create_dir_all(&sub).unwrap();
    let out = dbguard(
        &sub,
        &["status", "--json", "--url", &c.url(&db)],
        &[("NODE_ENV", "development")],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let j = out.json();
    assert_eq!(j["target"]["environment"], "production");
    assert_eq!(j["target"]["protected"], true);
    assert_eq!(j["target"]["name"], "main");
    assert!(
        j["target"]["environment_rule"]
            .as_str()
            .unwrap()
            .contains("[[databases]] match"),
        "{}",
        j["target"]
    );
    assert!(
        strings(&j["warnings"])
            .iter()
            .any(|w| w.contains("unknown key `future_section`")),
        "{}",
        j["warnings"]
    );

    // A malformed file: exit 1, file and line named.
    std::fs::write(
        dir.path().join("dbguard.toml"),
        "[[databases]]\nmatch = \"x\"\nenvironment = \n",
    )
    .unwrap();
    let out = dbguard(&sub, &["status", "--url", &c.url(&db)], &[]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("dbguard.toml") && out.stderr.contains("line 3"),
        "{}",
        out.stderr
    );
}

#[test]
fn unreachable_server_is_one_redacted_line_fast() {
    let dir = tempfile::tempdir().unwrap();
    let out = dbguard(
        dir.path(),
        &["status", "--url", "postgres://app:s3cretpw@127.0.0.1:1/x"],
        &[],
    );
    assert_eq!(out.code, 1);
    assert!(out.elapsed < Duration::from_secs(5), "{:?}", out.elapsed);
    assert_eq!(out.stderr.trim_end().lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr
            .starts_with("dbguard: error: cannot connect to postgres://app:***@127.0.0.1:1/x"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("s3cretpw"));
    assert!(out.stdout.is_empty());

    // A server that accepts the connection and never answers: bounded by --connect-timeout.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let url = format!("postgres://app:s3cretpw@127.0.0.1:{port}/x");
    let out = dbguard(dir.path(), &["status", "--url", &url, "--connect-timeout", "1"], &[]);
    assert_eq!(out.code, 1);
    assert!(
        out.elapsed >= Duration::from_millis(900) && out.elapsed < Duration::from_secs(4),
        "{:?}",
        out.elapsed
    );
    assert!(out.stderr.contains("timed out"), "{}", out.stderr);
    assert!(!out.stderr.contains("s3cretpw"));
    assert_eq!(out.stderr.trim_end().lines().count(), 1, "{}", out.stderr);
    drop(silent);

    // A bad URL.
    let out = dbguard(
        dir.path(),
        &["status", "--url", "postgres://app:s3cretpw@host:notaport/x"],
        &[],
    );
    assert_eq!(out.code, 1);
    assert!(!out.stderr.contains("s3cretpw"), "{}", out.stderr);
    assert_eq!(out.stderr.trim_end().lines().count(), 1, "{}", out.stderr);

    // Nothing to connect to at all.
    let out = dbguard(dir.path(), &["status"], &[]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("no database found"), "{}", out.stderr);
}
