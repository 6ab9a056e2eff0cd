//! Target resolution for Rails (`config/database.yml`) and Laravel (`DB_*` variables),
//! through the real binary: `dbguard check --json` shows the resolved target without
//! connecting; `dbguard status --json` is used on SQLite files only. Every test also
//! checks that no password from these configs appears in any output.

mod isolated;

use std::path::Path;

use serde_json::Value;

/// Secrets used in the fixtures; none may ever be printed.
const SECRETS: &[&str] = &[
    "Sup3rS3cretPw",
    "ProdS3cret",
    "EnvUrlPw",
    "LaraPw123",
    "DbUrlPw",
    "AnimalPw",
];

/// Run dbguard in `cwd` with only `env` set; returns the JSON on stdout after checking
/// that neither stdout nor stderr carries a secret.
fn dbguard(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Value {
    let o = isolated::run(cwd, args, env);
    let all = format!("{}\n{}", o.stdout, o.stderr);
    for s in SECRETS {
        assert!(!all.contains(s), "secret {s} printed by {args:?}:\n{all}");
    }
    serde_json::from_str(&o.stdout).unwrap_or_else(|e| panic!("{e}: {all}"))
}

/// The resolved target of a shell command, as `dbguard check --json` reports it.
fn check(cwd: &Path, cmd: &str, env: &[(&str, &str)]) -> Value {
    let j = dbguard(cwd, &["check", "--json", cmd], env);
    assert_eq!(j["destructive"], true, "{cmd}: {j}");
    j["target"].clone()
}

fn warnings(t: &Value) -> Vec<String> {
    t["warnings"]
        .as_array()
        .map(|a| a.iter().filter_map(|w| w.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

fn has_warning(t: &Value, parts: &[&str]) -> bool {
    warnings(t).iter().any(|w| parts.iter().all(|p| w.contains(p)))
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn sqlite_db(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    rusqlite::Connection::open(path)
        .unwrap()
        .execute_batch("CREATE TABLE t(x)")
        .unwrap();
}

/// What `rails new --database=postgresql` generates, with ENV defaults as apps add them.
const GENERATED_YML: &str = r#"# PostgreSQL. Versions 9.3 and up are supported.
default: &default
  adapter: postgresql
  encoding: unicode
  pool: <%= ENV.fetch("RAILS_MAX_THREADS") { 5 } %>
  host: <%= ENV.fetch("DB_HOST") { "localhost" } %>
  port: <%= ENV.fetch('DB_PORT', 5432) %>
  username: <%= ENV.fetch("DB_USER", "app") %>
  password: <%= ENV["DB_PASSWORD"] || "Sup3rS3cretPw" %>

development:
  <<: *default
  database: myapp_development

test:
  <<: *default
  database: myapp_test

production:
  <<: *default
  database: myapp_production
  host: <%= ENV["PROD_DB_HOST"] %>
  password: <%= ENV['MYAPP_DATABASE_PASSWORD'] %>
"#;

fn rails_app(yml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "Gemfile", "source 'https://rubygems.org'\ngem 'rails'\n");
    write(dir.path(), "config/database.yml", yml);
    dir
}

#[test]
fn rails_generated_yml_with_default_merge_and_env_fetch() {
    let app = rails_app(GENERATED_YML);
    let p = app.path();
    let t = check(p, "bin/rails db:drop", &[]);
    assert_eq!(t["display"], "postgresql://app:***@localhost:5432/myapp_development");
    assert_eq!(t["source"], "config/database.yml (development)");
    assert_eq!(t["database"], "myapp_development");
    assert_eq!(t["environment"], "development");
    // ENV values come from the shell and from the env files dotenv-rails loads.
    write(p, ".env", "DB_HOST=db.internal.example\n");
    let t = check(p, "bundle exec rake db:reset", &[("DB_USER", "ops")]);
    assert_eq!(
        t["display"],
        "postgresql://ops:***@db.internal.example:5432/myapp_development"
    );
    assert_eq!(t["tool"], "rails");
}

#[test]
fn rails_env_picks_the_block_and_the_environment() {
    let app = rails_app(GENERATED_YML);
    let p = app.path();
    let prod = [
        ("RAILS_ENV", "production"),
        ("PROD_DB_HOST", "db.prod.example.com"),
        ("MYAPP_DATABASE_PASSWORD", "ProdS3cret"),
    ];
    let t = check(p, "bin/rails db:schema:load", &prod);
    assert_eq!(
        t["display"],
        "postgresql://app:***@db.prod.example.com:5432/myapp_production"
    );
    assert_eq!(t["source"], "config/database.yml (production)");
    assert_eq!(t["environment"], "production");
    assert_eq!(t["environment_rule"], "RAILS_ENV=production (process environment)");
    // Inline on the command line, and RACK_ENV when RAILS_ENV is not set.
    let t = check(
        p,
        "RAILS_ENV=production PROD_DB_HOST=10.0.0.7 bin/rails db:drop",
        &[("MYAPP_DATABASE_PASSWORD", "ProdS3cret")],
    );
    assert_eq!(t["database"], "myapp_production");
    assert_eq!(t["host"], "10.0.0.7");
    assert_eq!(t["environment"], "production");
    let t = check(p, "rake db:drop", &[("RACK_ENV", "test")]);
    assert_eq!(t["database"], "myapp_test");
    // An environment without a block (and no DATABASE_URL): nothing, with a warning.
    let t = check(p, "bin/rails db:drop", &[("RAILS_ENV", "staging")]);
    assert!(t["display"].is_null(), "{t}");
    assert!(has_warning(&t, &["no staging block"]), "{:?}", warnings(&t));
    assert_eq!(t["environment"], "staging");
}

#[test]
fn rails_database_url_is_merged_over_database_yml() {
    let app = rails_app(GENERATED_YML);
    let p = app.path();
    let t = check(
        p,
        "DATABASE_URL=postgres://u:EnvUrlPw@db.abc.eu-west-1.rds.amazonaws.com/live bin/rails db:drop",
        &[],
    );
    assert_eq!(t["host"], "db.abc.eu-west-1.rds.amazonaws.com");
    assert_eq!(t["database"], "live");
    assert_eq!(
        t["source"],
        "inline DATABASE_URL=... on the command line (merged over config/database.yml (development))"
    );
    assert_eq!(t["environment"], "production");
    assert!(
        has_warning(
            &t,
            &["overrides config/database.yml (development)", "myapp_development"]
        ),
        "{:?}",
        warnings(&t)
    );
    // From the process environment, a URL without a database takes database.yml's
    // (Rails merges the two), and mysql2:// is MySQL.
    let t = check(
        p,
        "bin/rails db:drop",
        &[("DATABASE_URL", "mysql2://root:EnvUrlPw@127.0.0.1:3307")],
    );
    assert_eq!(t["engine"], "mysql");
    assert_eq!(t["database"], "myapp_development");
    assert_eq!(t["port"], 3307);
    assert_eq!(
        t["source"],
        "environment: DATABASE_URL (merged over config/database.yml (development))"
    );
    // From .env (dotenv-rails).
    write(p, ".env", "DATABASE_URL=postgres://u:EnvUrlPw@localhost/from_dotenv\n");
    let t = check(p, "bin/rails db:drop", &[]);
    assert_eq!(t["database"], "from_dotenv");
    assert!(t["source"].as_str().unwrap().starts_with(".env: DATABASE_URL"), "{t}");
}

#[test]
fn rails_unsupported_erb_is_unknown_not_guessed() {
    let app = rails_app(
        r#"default: &default
  adapter: postgresql
  password: Sup3rS3cretPw
development:
  <<: *default
  host: <%= Rails.application.credentials.dig(:db, :host) %>
  database: app_dev
"#,
    );
    let p = app.path();
    let t = check(p, "bin/rails db:drop", &[]);
    assert!(t["display"].is_null(), "{t}");
    assert_eq!(t["source"], "none found");
    assert_eq!(t["environment"], "unknown");
    assert!(
        has_warning(
            &t,
            &[
                "config/database.yml (development): host is `<%= Rails.application",
                "does not evaluate"
            ]
        ),
        "{:?}",
        warnings(&t)
    );
    // ENV.fetch without a default for an unset variable: Rails would not boot.
    write(
        p,
        "config/database.yml",
        "development:\n  adapter: postgresql\n  host: <%= ENV.fetch(\"DB_HOST\") %>\n  database: x\n",
    );
    let t = check(p, "bin/rails db:drop", &[]);
    assert!(t["display"].is_null(), "{t}");
    assert!(has_warning(&t, &["host is `<%= ENV.fetch"]), "{:?}", warnings(&t));
    // Control flow in ERB: the whole file is unknown.
    write(
        p,
        "config/database.yml",
        "development:\n<% if ENV['PG'] %>\n  adapter: postgresql\n<% else %>\n  adapter: sqlite3\n<% end %>\n  database: x\n",
    );
    let t = check(p, "bin/rails db:drop", &[]);
    assert!(t["display"].is_null(), "{t}");
    assert!(has_warning(&t, &["line 2 runs Ruby code"]), "{:?}", warnings(&t));
    // Broken YAML says so, and does not fall back to a guess either.
    write(p, "config/database.yml", "development:\n  adapter: [postgresql\n");
    let t = check(p, "bin/rails db:drop", &[]);
    assert!(t["display"].is_null(), "{t}");
    assert!(has_warning(&t, &["invalid YAML"]), "{:?}", warnings(&t));
    // An unknown password alone still identifies the database.
    write(
        p,
        "config/database.yml",
        "development:\n  adapter: postgresql\n  host: localhost\n  database: app_dev\n  password: <%= Rails.application.credentials.db_password %>\n",
    );
    let t = check(p, "bin/rails db:drop", &[]);
    assert_eq!(t["database"], "app_dev");
    assert!(has_warning(&t, &["password is computed by ERB"]), "{:?}", warnings(&t));
}

#[test]
fn rails_multi_database_uses_primary() {
    let app = rails_app(
        r#"default: &default
  adapter: postgresql
  host: localhost
  username: app
  password: Sup3rS3cretPw
development:
  animals:
    <<: *default
    database: animals_dev
    password: AnimalPw
    migrations_paths: db/animals_migrate
  primary:
    <<: *default
    database: app_dev
"#,
    );
    let t = check(app.path(), "bin/rails db:drop", &[]);
    assert_eq!(t["database"], "app_dev");
    assert_eq!(t["source"], "config/database.yml (development, primary)");
    assert!(
        has_warning(&t, &["several databases (animals, primary)", "follows primary"]),
        "{:?}",
        warnings(&t)
    );
}

#[test]
fn rails_sqlite3_path_is_relative_to_the_app_and_status_finds_the_app() {
    let app = rails_app(
        "default: &default\n  adapter: sqlite3\n  pool: 5\n  timeout: 5000\n\ndevelopment:\n  <<: *default\n  database: storage/development.sqlite3\n",
    );
    let p = app.path();
    write(p, "bin/rails", "#!/usr/bin/env ruby\n");
    let file = p.join("storage/development.sqlite3");
    sqlite_db(&file);
    let j = dbguard(p, &["status", "--json"], &[]);
    let t = &j["target"];
    assert_eq!(t["tool"], "rails (project)");
    assert_eq!(t["source"], "config/database.yml (development)");
    assert_eq!(t["engine"], "sqlite");
    assert_eq!(Path::new(t["file"].as_str().unwrap()), file);
    assert_eq!(t["environment"], "development");
    // A config/database.yml without Gemfile or bin/rails is not taken for a Rails app.
    let other = tempfile::tempdir().unwrap();
    write(
        other.path(),
        "config/database.yml",
        "development:\n  adapter: sqlite3\n  database: x.db\n",
    );
    write(other.path(), ".env", "DATABASE_URL=file:./generic.db\n");
    sqlite_db(&other.path().join("generic.db"));
    let j = dbguard(other.path(), &["status", "--json"], &[]);
    assert_eq!(j["target"]["source"], ".env: DATABASE_URL");
}

fn laravel_app(env: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "artisan", "#!/usr/bin/env php\n<?php\n");
    write(dir.path(), ".env", env);
    dir
}

#[test]
fn laravel_db_pieces_and_app_env() {
    let app = laravel_app(
        "APP_NAME=Shop\nAPP_ENV=production\nDB_CONNECTION=pgsql\nDB_HOST=10.1.2.3\nDB_PORT=6432\nDB_DATABASE=shop\nDB_USERNAME=shop\nDB_PASSWORD=LaraPw123\n",
    );
    let p = app.path();
    let t = check(p, "php artisan migrate:fresh", &[]);
    assert_eq!(t["tool"], "artisan");
    assert_eq!(t["display"], "postgresql://shop:***@10.1.2.3:6432/shop");
    assert_eq!(
        t["source"],
        "Laravel DB_CONNECTION=pgsql (.env), DB_HOST (.env), DB_PORT (.env), DB_DATABASE (.env), DB_USERNAME (.env), DB_PASSWORD (.env)"
    );
    assert_eq!(t["environment"], "production");
    assert_eq!(t["environment_rule"], "APP_ENV=production (.env)");
    // Inline variables override .env, as phpdotenv never overrides a set variable.
    let t = check(p, "DB_HOST=x php artisan migrate:fresh", &[]);
    assert_eq!(t["host"], "x");
    assert!(t["source"].as_str().unwrap().contains("DB_HOST (inline)"), "{t}");
    // So does the shell, with a warning.
    let t = check(p, "php artisan db:wipe", &[("DB_DATABASE", "other")]);
    assert_eq!(t["database"], "other");
    assert!(
        has_warning(
            &t,
            &[
                "DB_DATABASE in the shell differs from .env",
                "artisan uses the shell's value"
            ]
        ),
        "{:?}",
        warnings(&t)
    );
    // APP_ENV=local in .env does not make an unknown host look like development.
    write(
        p,
        ".env",
        "APP_ENV=local\nDB_CONNECTION=mysql\nDB_HOST=db.example.com\nDB_PASSWORD=LaraPw123\n",
    );
    let t = check(p, "php artisan migrate:reset", &[]);
    assert_eq!(t["display"], "mysql://root:***@db.example.com:3306/laravel");
    assert!(
        t["source"]
            .as_str()
            .unwrap()
            .ends_with("stock defaults DB_PORT=3306, DB_DATABASE=laravel, DB_USERNAME=root"),
        "{t}"
    );
    assert_eq!(t["environment"], "unknown");
}

#[test]
fn laravel_db_url_wins() {
    let app = laravel_app(
        "DB_CONNECTION=mysql\nDB_HOST=127.0.0.1\nDB_PASSWORD=LaraPw123\nDB_URL=pgsql://u:DbUrlPw@ep-cool-1.eu-central-1.aws.neon.tech/neondb\n",
    );
    let t = check(app.path(), "php artisan migrate:fresh --force", &[]);
    assert_eq!(t["engine"], "postgres");
    assert_eq!(t["database"], "neondb");
    assert_eq!(t["source"], "Laravel DB_URL (.env)");
    assert_eq!(t["environment"], "production");
}

#[test]
fn laravel_sqlite_default_path_and_status() {
    let app = laravel_app("APP_ENV=local\nDB_CONNECTION=sqlite\n# DB_HOST=127.0.0.1\n");
    let p = app.path();
    let file = p.join("database/database.sqlite");
    sqlite_db(&file);
    let j = dbguard(p, &["status", "--json"], &[]);
    let t = &j["target"];
    assert_eq!(t["tool"], "artisan (project)");
    assert_eq!(t["engine"], "sqlite");
    assert_eq!(Path::new(t["file"].as_str().unwrap()), file);
    assert_eq!(t["environment"], "development");
    // Without DB_CONNECTION or a URL, dbguard does not pick Laravel's version default.
    write(p, ".env", "APP_ENV=local\n");
    let t = check(p, "php artisan migrate:fresh", &[]);
    assert!(t["display"].is_null(), "{t}");
    assert!(
        has_warning(&t, &["neither DB_CONNECTION nor DB_URL"]),
        "{:?}",
        warnings(&t)
    );
}
