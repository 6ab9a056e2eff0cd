//! Target resolution through the real binary, on SQLite files (no server needed):
//! `.env.local` over `.env` for apps, the shell over files, `NODE_ENV` files, and the
//! disagreement warnings.

mod isolated;

use std::path::Path;

use serde_json::Value;

fn status_json(cwd: &Path, env: &[(&str, &str)]) -> Value {
    let o = isolated::run(cwd, &["status", "--json"], env);
    assert_eq!(o.code, 0, "{}", o.stderr);
    o.json()
}

fn db(path: &Path) {
    rusqlite::Connection::open(path)
        .unwrap()
        .execute_batch("CREATE TABLE t(x)")
        .unwrap();
}

fn warnings(j: &Value) -> Vec<String> {
    j["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn env_file_precedence_and_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    for f in ["env.db", "local.db", "prod.db", "shell.db"] {
        db(&p.join(f));
    }
    std::fs::write(p.join(".env"), "DATABASE_URL=file:./env.db\n").unwrap();
    std::fs::write(p.join(".env.local"), "DATABASE_URL=file:./local.db\n").unwrap();
    std::fs::write(p.join(".env.production"), "DATABASE_URL=file:./prod.db\n").unwrap();

    let j = status_json(p, &[]);
    assert_eq!(j["target"]["source"], ".env.local: DATABASE_URL");
    assert!(
        warnings(&j)
            .iter()
            .any(|w| w.contains(".env.local") && w.contains("differs from .env")),
        "{:?}",
        warnings(&j)
    );

    // NODE_ENV=test skips .env.local (Next.js, dotenv-flow).
    let j = status_json(p, &[("NODE_ENV", "test")]);
    assert_eq!(j["target"]["source"], ".env: DATABASE_URL");

    // NODE_ENV=production reads .env.production after .env.local; the variable also
    // sets the environment, and the database name saying prod is flagged nowhere since
    // it is production.
    std::fs::remove_file(p.join(".env.local")).unwrap();
    let j = status_json(p, &[("NODE_ENV", "production")]);
    assert_eq!(j["target"]["source"], ".env.production: DATABASE_URL");
    assert_eq!(j["target"]["environment"], "production");
    assert_eq!(
        j["target"]["environment_rule"],
        "NODE_ENV=production (process environment)"
    );

    // The shell wins over every file, with a warning naming both.
    let j = status_json(p, &[("DATABASE_URL", "file:./shell.db")]);
    assert_eq!(j["target"]["source"], "environment: DATABASE_URL");
    assert_eq!(j["target"]["database"], "shell.db");
    assert!(
        warnings(&j)
            .iter()
            .any(|w| w.contains("in the shell") && w.contains(".env")),
        "{:?}",
        warnings(&j)
    );

    // A development label on a database whose name says production.
    let j = status_json(p, &[("DATABASE_URL", "file:./prod.db"), ("NODE_ENV", "development")]);
    assert!(
        warnings(&j).iter().any(|w| w.contains("prod.db says production")),
        "{:?}",
        warnings(&j)
    );
}
