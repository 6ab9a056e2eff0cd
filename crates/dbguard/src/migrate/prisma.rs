//! Prisma: `<schema dir>/migrations/<timestamp>_<name>/migration.sql` (or the
//! `migrations.path` of prisma.config.*), `migration_lock.toml`, the `_prisma_migrations`
//! table, and the commands dbguard runs: `migrate diff` (generate, into a scratch
//! database), `migrate deploy` (apply), `migrate resolve --applied` (baseline),
//! `migrate status` (only to learn which database Prisma connects to).
//!
//! Measured with Prisma 6.19.3 and a driver adapter in prisma.config.ts (`engine: 'js'`):
//! `migrate diff` refuses `--shadow-database-url`, `--from-url` and
//! `--from-schema-datasource`, but `--from-migrations ... --to-schema-datamodel ...
//! --script` works: it creates and drops its own `prisma_migrate_shadow_db_<uuid>` on the
//! adapter's server. dbguard points the adapter at a scratch database, so that shadow
//! lands on the scratch's server and the user's database is never connected. `migrate dev
//! --create-only` (the suggestion) writes the right file there but exits 1 with
//! "null pointer passed to rust", so dbguard uses `diff`. Without an adapter `diff` takes
//! `--shadow-database-url <scratch>` (the native engine, downloaded by Prisma).

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};

use super::tool;
use super::{HistoryTable, Migration, Project, ToolKind};
use crate::target::jsscan::{self, Tok};

pub const HISTORY: &str = "_prisma_migrations";

/// The Prisma project in `cwd`, if there is one. A prisma.config.* without a schema file
/// is an error (the schema is what migrations are generated from).
pub fn project(cwd: &Path) -> anyhow::Result<Option<Project>> {
    let Some(p) = crate::target::prisma::load(cwd) else {
        return Ok(None);
    };
    let schema = match &p.schema_file {
        Some(s) => s.clone(),
        None => bail!(
            "{} exists but no Prisma schema was found (prisma/schema.prisma, schema.prisma, or the `schema` it names): \
create the schema first (`npx prisma init`)",
            p.config_file
                .as_deref()
                .map(|c| crate::target::rel(cwd, c))
                .unwrap_or_else(|| "prisma.config".into())
        ),
    };
    let (adapter, configured_dir) = match &p.config_file {
        Some(cfg) => {
            let text = std::fs::read_to_string(cfg).with_context(|| format!("reading {}", cfg.display()))?;
            let toks = jsscan::tokenize(&text);
            (has_adapter(&toks), migrations_path(&toks).map(|d| cwd.join(d)))
        }
        None => (false, None),
    };
    let schema_dir = schema
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| cwd.to_path_buf());
    Ok(Some(Project {
        tool: ToolKind::Prisma,
        root: cwd.to_path_buf(),
        dir: configured_dir.unwrap_or_else(|| schema_dir.join("migrations")),
        schema: Some(schema),
        config_file: p.config_file.clone(),
        provider: p.provider.clone(),
        adapter,
        history: HistoryTable {
            schema: None,
            table: HISTORY.into(),
            column: "migration_name".into(),
        },
        apply_command: None,
        dbmate: false,
    }))
}

/// prisma.config.* configures a driver adapter: `adapter: ...`, `adapter() {...}`, or
/// `experimental: { adapter: true }`.
fn has_adapter(toks: &[Tok]) -> bool {
    toks.iter().enumerate().any(|(i, t)| {
        matches!(t, Tok::Ident(k) if k == "adapter")
            && matches!(toks.get(i + 1), Some(Tok::Punct(':' | '(')))
            && i > 0
            && matches!(toks.get(i - 1), Some(Tok::Punct('{' | ',')) | Some(Tok::Ident(_)))
    })
}

/// `migrations: { path: "..." }` in prisma.config.*.
fn migrations_path(toks: &[Tok]) -> Option<String> {
    let m = jsscan::find_property(toks, "migrations", 0, toks.len())?;
    let end = jsscan::object_end(toks, m)?;
    let p = jsscan::find_property(toks, "path", m, end)?;
    match toks.get(p) {
        Some(Tok::Str(s)) => Some(s.clone()),
        _ => None,
    }
}

/// The migration folders, by name (Prisma's order).
pub fn migrations(project: &Project) -> anyhow::Result<Vec<Migration>> {
    let mut out = Vec::new();
    for e in project.folder_entries()? {
        let path = e.path().join("migration.sql");
        if !e.path().is_dir() || !path.is_file() {
            continue;
        }
        let name = e.file_name().to_string_lossy().into_owned();
        out.push(Migration::read(path, name.clone(), name, str::to_string)?);
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// `provider` of `migration_lock.toml`, when the file exists.
pub fn lock_provider(project: &Project) -> Option<String> {
    let text = std::fs::read_to_string(project.dir.join("migration_lock.toml")).ok()?;
    let t: toml::Table = toml::from_str(&text).ok()?;
    t.get("provider")?.as_str().map(str::to_string)
}

/// The engine a Prisma provider name means.
pub fn provider_engine(provider: &str) -> Option<dbguard_core::target::Engine> {
    use dbguard_core::target::Engine;
    match provider.to_ascii_lowercase().as_str() {
        "postgresql" | "postgres" | "cockroachdb" => Some(Engine::Postgres),
        "sqlite" => Some(Engine::Sqlite),
        "mysql" => Some(Engine::Mysql),
        _ => None,
    }
}

/// `migrate diff` from the folder (or from empty) to the schema, using `scratch_url` as the
/// shadow; the SQL, or None when there is no change.
pub fn diff(project: &Project, scratch_url: &str, from_empty: bool) -> anyhow::Result<Option<String>> {
    let schema = project
        .schema
        .as_ref()
        .ok_or_else(|| anyhow!("no Prisma schema"))?
        .display()
        .to_string();
    let dir = project.dir.display().to_string();
    let mut args: Vec<&str> = vec!["migrate", "diff"];
    if from_empty {
        args.push("--from-empty");
    } else {
        args.extend(["--from-migrations", &dir]);
    }
    args.extend(["--to-schema-datamodel", &schema, "--script"]);
    // With an adapter, prisma.config.ts decides where Prisma connects: its variables point
    // at the scratch, and Prisma makes its shadow there.
    let env = tool::db_env(project, scratch_url)?;
    if !project.adapter && !from_empty {
        args.extend(["--shadow-database-url", scratch_url]);
    }
    let argv = tool::node_argv(&project.root, "prisma", &args);
    let out = tool::run(&argv, &project.root, &env, false)?;
    if !out.ok() {
        bail!(
            "`{}` failed (exit {}):\n{}",
            tool::shown("prisma", &["migrate", "diff", "..."]),
            out.exit.code,
            out.error_tail(15)
        );
    }
    if out.stdout.trim().is_empty() {
        // A diff with no change prints "-- This is an empty migration."; nothing at all
        // means Prisma stopped without saying why (seen with an invalid schema). Unknown
        // is not "no change".
        bail!(
            "`{}` ended without any output (exit 0), so its result is unknown: check the schema with `npx prisma validate`{}",
            tool::shown("prisma", &["migrate", "diff", "..."]),
            if out.stderr.trim().is_empty() {
                String::new()
            } else {
                format!(" ({})", out.error_tail(6))
            }
        );
    }
    let sql = out.stdout;
    let meaningful = sql
        .lines()
        .map(str::trim)
        .any(|l| !l.is_empty() && !l.starts_with("--"));
    Ok(meaningful.then_some(sql))
}

/// The database name Prisma reports connecting to (`Datasource "db": PostgreSQL database
/// "x", ...`), from `migrate status` with `env`. Used to prove the tool points where
/// dbguard means before it writes anything.
pub fn probe_database(project: &Project, env: &[(String, String)]) -> anyhow::Result<String> {
    let argv = tool::node_argv(&project.root, "prisma", &["migrate", "status"]);
    let out = tool::run(&argv, &project.root, env, false)?;
    let text = format!("{}\n{}", out.stdout, out.stderr);
    for line in text.lines() {
        if let Some(rest) = line.split("Datasource \"").nth(1) {
            if let Some(db) = rest.split(" database \"").nth(1).and_then(|r| r.split('"').next()) {
                return Ok(db.to_string());
            }
        }
    }
    bail!(
        "could not tell which database Prisma connects to (`prisma migrate status` said: {})",
        out.error_tail(6)
    )
}

/// Write `<dir>/<stamp>_<name>/migration.sql` atomically (a temp folder renamed into
/// place), and `migration_lock.toml` when missing. Returns the new folder.
pub fn write_migration(project: &Project, folder: &str, sql: &str) -> anyhow::Result<PathBuf> {
    let created_dir = !project.dir.exists();
    std::fs::create_dir_all(&project.dir).with_context(|| format!("creating {}", project.dir.display()))?;
    let dest = project.dir.join(folder);
    if dest.exists() {
        bail!("{} already exists", dest.display());
    }
    let tmp = project.dir.join(format!(".dbguard-tmp-{folder}"));
    let result = (|| -> anyhow::Result<()> {
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir(&tmp)?;
        std::fs::write(tmp.join("migration.sql"), sql)?;
        std::fs::rename(&tmp, &dest)?;
        let lock = project.dir.join("migration_lock.toml");
        if !lock.exists() {
            let provider = project.provider.clone().unwrap_or_else(|| "postgresql".into());
            std::fs::write(
                &lock,
                format!(
                    "# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = \"{provider}\"\n"
                ),
            )?;
        }
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&tmp);
        let _ = std::fs::remove_dir_all(&dest);
        if created_dir {
            let _ = std::fs::remove_dir_all(&project.dir);
        }
        return Err(e.context(format!("writing the migration into {}", project.dir.display())));
    }
    Ok(dest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adapter_detection() {
        let t = jsscan::tokenize("export default defineConfig({ experimental: { adapter: true }, engine: 'js', async adapter() { return x } })");
        assert!(has_adapter(&t));
        let t = jsscan::tokenize("export default defineConfig({ schema: 'prisma/schema.prisma' }) // adapter: no");
        assert!(!has_adapter(&t));
        let t = jsscan::tokenize("export default defineConfig({ migrations: { path: 'db/migrations' } })");
        assert_eq!(migrations_path(&t).as_deref(), Some("db/migrations"));
    }
}
