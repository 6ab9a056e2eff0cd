//! Table-driven corpus for the SQL analyzer: every `[[case]]` of every TOML file under
//! `tests/corpus/sql/` is run, and all failures are reported at once with file and index.
//! Also holds an ignored 8 MB benchmark (`cargo test --release --test sql_corpus -- --ignored`).

use std::path::Path;

use dbguard_core::sql::{accepted, analyze_sql, Dialect};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct File {
    #[serde(default)]
    case: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    sql: String,
    #[serde(default)]
    dialect: Option<String>,
    /// Kinds in order (snake_case), or [] for none.
    expect: Vec<String>,
    /// Objects in order, when given.
    #[serde(default)]
    objects: Option<Vec<String>>,
    /// "line:column" of each finding, when given.
    #[serde(default)]
    locations: Option<Vec<String>>,
    /// Whether each finding is accepted by an inline directive, when given.
    #[serde(default)]
    accepted: Option<Vec<bool>>,
    /// Per-finding cascade flags, when given.
    #[serde(default)]
    cascade: Option<Vec<bool>>,
    /// Substrings that must appear in the detail of the finding with the same index.
    #[serde(default)]
    detail_contains: Option<Vec<String>>,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
}

fn dialect(name: Option<&str>) -> Result<Dialect, String> {
    match name.unwrap_or("postgres") {
        "postgres" | "postgresql" => Ok(Dialect::Postgres),
        "sqlite" => Ok(Dialect::Sqlite),
        "mysql" | "mariadb" => Ok(Dialect::Mysql),
        other => Err(format!("unknown dialect {other}")),
    }
}

fn check(case: &Case) -> Result<(), String> {
    let d = dialect(case.dialect.as_deref())?;
    let findings = analyze_sql(&case.sql, d);
    let kinds: Vec<&str> = findings.iter().map(|f| f.kind.as_str()).collect();
    let show = || {
        findings
            .iter()
            .map(|f| {
                let loc = f
                    .location
                    .map(|l| format!("{}:{}", l.line, l.column))
                    .unwrap_or_default();
                format!("  {} {:?} @{} — {}", f.kind.as_str(), f.object, loc, f.detail)
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    if kinds != case.expect {
        return Err(format!("expected kinds {:?}, got {:?}\n{}", case.expect, kinds, show()));
    }
    if let Some(objects) = &case.objects {
        let got: Vec<String> = findings.iter().map(|f| f.object.clone().unwrap_or_default()).collect();
        if &got != objects {
            return Err(format!("expected objects {objects:?}, got {got:?}"));
        }
    }
    if let Some(locs) = &case.locations {
        let got: Vec<String> = findings
            .iter()
            .map(|f| {
                f.location
                    .map(|l| format!("{}:{}", l.line, l.column))
                    .unwrap_or_default()
            })
            .collect();
        if &got != locs {
            return Err(format!("expected locations {locs:?}, got {got:?}"));
        }
    }
    if let Some(cascade) = &case.cascade {
        let got: Vec<bool> = findings.iter().map(|f| f.cascade).collect();
        if &got != cascade {
            return Err(format!("expected cascade {cascade:?}, got {got:?}"));
        }
    }
    if let Some(acc) = &case.accepted {
        let got: Vec<bool> = accepted(&case.sql, d, &findings).iter().map(Option::is_some).collect();
        if &got != acc {
            return Err(format!("expected accepted {acc:?}, got {got:?}"));
        }
    }
    if let Some(parts) = &case.detail_contains {
        for (i, p) in parts.iter().enumerate() {
            let Some(f) = findings.get(i) else {
                return Err(format!("no finding {i} for detail check"));
            };
            if !f.detail.contains(p.as_str()) {
                return Err(format!("detail of finding {i} lacks {p:?}: {}", f.detail));
            }
        }
    }
    for f in &findings {
        if f.detail.trim().is_empty() || f.statement.is_none() || f.location.is_none() {
            return Err(format!("finding without detail/statement/location: {f:?}"));
        }
    }
    Ok(())
}

#[test]
fn sql_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/sql");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    let mut failures = Vec::new();
    let mut total = 0;
    for path in &paths {
        let text = std::fs::read_to_string(path).expect("read corpus file");
        let file: File = match toml::from_str(&text) {
            Ok(f) => f,
            Err(e) => {
                failures.push(format!("{}: bad TOML: {e}", path.display()));
                continue;
            }
        };
        for (i, case) in file.case.iter().enumerate() {
            total += 1;
            if let Err(e) = check(case) {
                let name = path.file_name().unwrap_or_default().to_string_lossy();
                failures.push(format!("{name} case #{i} ({:?}):\n  {e}", case.sql));
            }
        }
    }
    eprintln!("sql corpus: {total} cases in {} files", paths.len());
    assert!(total >= 180, "corpus too small: {total}");
    assert!(
        failures.is_empty(),
        "{} of {total} corpus cases failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// About `target` bytes of migration-style SQL: mostly CREATE TABLE, multi-row INSERT, ALTER ADD
/// COLUMN and CREATE INDEX, with a destructive statement now and then.
fn generate_migrations(target: usize) -> (String, usize) {
    let mut out = String::with_capacity(target + 4096);
    let mut destructive = 0;
    let mut i = 0usize;
    let mut next_destructive = 0usize;
    while out.len() < target {
        let t = format!("table_{i}");
        out.push_str(&format!(
            "-- migration {i}\nCREATE TABLE {t} (\n  id bigserial PRIMARY KEY,\n  name text NOT NULL,\n  email varchar(255) UNIQUE,\n  owner_id bigint REFERENCES users(id) ON DELETE CASCADE,\n  created_at timestamptz NOT NULL DEFAULT now()\n);\n"
        ));
        out.push_str(&format!("CREATE INDEX {t}_name_idx ON {t} (name);\n"));
        out.push_str(&format!("ALTER TABLE {t} ADD COLUMN score integer DEFAULT 0;\n"));
        out.push_str(&format!("INSERT INTO {t} (name, email, owner_id, created_at) VALUES\n"));
        for r in 0..40 {
            let sep = if r == 39 { ";\n" } else { ",\n" };
            out.push_str(&format!(
                "  ('name {r} of {i}', 'user{r}_{i}@example.com', {r}, '2024-01-01 00:00:00+00'){sep}"
            ));
        }
        out.push_str(&format!("UPDATE {t} SET score = 1 WHERE id = {i};\n"));
        // Every 25th migration also drops something.
        if i == next_destructive {
            next_destructive += 25;
            out.push_str(&format!(
                "DROP TABLE legacy_{i};\nALTER TABLE accounts_{i} DROP COLUMN old_flag;\n"
            ));
            destructive += 2;
        }
        i += 1;
    }
    (out, destructive)
}

#[test]
#[ignore = "benchmark: run in release with --ignored"]
fn bench_8mb_postgres() {
    let (sql, destructive) = generate_migrations(8 * 1024 * 1024);
    let start = std::time::Instant::now();
    let findings = analyze_sql(&sql, Dialect::Postgres);
    let elapsed = start.elapsed();
    eprintln!(
        "analyze_sql: {} bytes, {} findings (expected {destructive}) in {:.3}s",
        sql.len(),
        findings.len(),
        elapsed.as_secs_f64()
    );
    assert_eq!(findings.len(), destructive);
}

/// The same 8 MB with every statement forced through the full parse (a leading read-only CTE
/// defeats the scanner fast path): the cost the fast path saves.
#[test]
#[ignore = "benchmark: run in release with --ignored"]
fn bench_8mb_postgres_full_parse() {
    let (sql, destructive) = generate_migrations(8 * 1024 * 1024);
    let sql = sql
        .replace("INSERT INTO", "WITH dbguard_noop AS (SELECT 1) INSERT INTO")
        .replace("CREATE TABLE", "SET search_path TO public; CREATE TABLE");
    let start = std::time::Instant::now();
    let findings = analyze_sql(&sql, Dialect::Postgres);
    eprintln!(
        "analyze_sql (full parse): {} bytes, {} findings in {:.3}s",
        sql.len(),
        findings.len(),
        start.elapsed().as_secs_f64()
    );
    assert_eq!(findings.len(), destructive);
}

#[test]
#[ignore = "benchmark: run in release with --ignored"]
fn bench_8mb_sqlite() {
    let (sql, destructive) = generate_migrations(8 * 1024 * 1024);
    let sql = sql
        .replace("bigserial", "integer")
        .replace("timestamptz", "text")
        .replace("now()", "0");
    let start = std::time::Instant::now();
    let findings = analyze_sql(&sql, Dialect::Sqlite);
    eprintln!(
        "analyze_sql (sqlite): {} bytes, {} findings in {:.3}s",
        sql.len(),
        findings.len(),
        start.elapsed().as_secs_f64()
    );
    assert_eq!(findings.len(), destructive, "{:?}", findings.first());
}

/// The same 8 MB through the MySQL dialect (chunked like SQLite; peak RSS with `/usr/bin/time -v`).
#[test]
#[ignore = "benchmark: run in release with --ignored"]
fn bench_8mb_mysql() {
    let (sql, destructive) = generate_migrations(8 * 1024 * 1024);
    let sql = sql
        .replace("bigserial", "bigint AUTO_INCREMENT")
        .replace("timestamptz", "datetime")
        .replace("now()", "0");
    let start = std::time::Instant::now();
    let findings = analyze_sql(&sql, Dialect::Mysql);
    eprintln!(
        "analyze_sql (mysql): {} bytes, {} findings in {:.3}s",
        sql.len(),
        findings.len(),
        start.elapsed().as_secs_f64()
    );
    assert_eq!(findings.len(), destructive, "{:?}", findings.first());
}
