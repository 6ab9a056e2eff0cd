//! `dbguard migrate baseline`: give a database that has tables but no migration history
//! (made with `db push`, by hand, by another tool) a first migration, recorded as applied
//! only once a rehearsal proves it builds exactly the live schema.
//!
//! Prisma: `0_init` from `migrate diff --from-empty --to-schema-datamodel`, run on a scratch
//! database and compared with the live catalog; equal -> written, and `prisma migrate
//! resolve --applied 0_init` records it (the tool writes its own history row). Drizzle:
//! the journal's first entry, proven the same way, recorded with its own `when` in
//! `drizzle.__drizzle_migrations` as drizzle-kit's migrator would. Anything different:
//! refused with the differences, nothing written.

use dbguard_core::redact::redact_text;
use serde::Serialize;

use super::catalog;
use super::ctx::Ctx;
use super::pg::Pg;
use super::scratch::Scratch;
use super::status::Db;
use super::{drift, history, prisma, tool, Migration, ToolKind};
use crate::audit;
use crate::plan::{self, Input, Measure, PlanRequest};

#[derive(Serialize, Default)]
pub struct Report {
    pub tool: &'static str,
    /// recorded | refused
    pub result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub migration: Option<String>,
    pub differences: Vec<String>,
    pub message: String,
    pub next_step: String,
    #[serde(skip)]
    pub code: u8,
}

fn refuse(r: &mut Report, message: String, next: &str) {
    r.result = "refused";
    r.code = crate::exit::BLOCKED;
    r.message = message;
    r.next_step = next.into();
}

pub fn run(ctx: &Ctx) -> anyhow::Result<Report> {
    let mut r = Report {
        tool: ctx.project.tool.as_str(),
        ..Report::default()
    };
    let url = ctx.url()?.to_string();
    let db = Db::open(&ctx.target)?;
    let h = history::read(&ctx.project, &db)?;
    if h.exists && !h.rows.is_empty() {
        refuse(
            &mut r,
            format!(
                "{} already records {} migration(s): this database has a history",
                ctx.project.history.display(),
                h.rows.len()
            ),
            "Use `dbguard migrate status` to see where it stands.",
        );
        return Ok(r);
    }
    if h.user_tables == 0 {
        refuse(
            &mut r,
            "the database holds no tables: there is nothing to baseline".into(),
            "Apply the migrations normally: `dbguard migrate apply`.",
        );
        return Ok(r);
    }
    let Db::Pg(_) = &db else {
        refuse(
            &mut r,
            "baseline supports PostgreSQL databases".into(),
            "For SQLite, record the first migration with the tool itself.",
        );
        return Ok(r);
    };
    let files = ctx.project.migrations()?;
    let (sql, first): (String, Option<&Migration>) = match ctx.project.tool {
        ToolKind::Prisma => {
            if !files.is_empty() {
                refuse(
                    &mut r,
                    format!(
                        "{} already holds {} migration(s); baseline writes the first one from the schema file",
                        ctx.project.dir_display(),
                        files.len()
                    ),
                    "If the folder's first migration describes the live schema, record it yourself with `npx prisma migrate resolve --applied <folder>` after checking; or move the folder away and run baseline again.",
                );
                return Ok(r);
            }
            let scratch = Scratch::create(Some(&ctx.target), false)?;
            let sql = prisma::diff(&ctx.project, &scratch.url, true);
            scratch.finish()?;
            match sql? {
                Some(s) => (s, None),
                None => {
                    refuse(
                        &mut r,
                        "the schema file describes no tables".into(),
                        "Check prisma/schema.prisma.",
                    );
                    return Ok(r);
                }
            }
        }
        ToolKind::Drizzle => match files.first() {
            Some(f) => (f.up_sql.clone(), Some(f)),
            None => {
                refuse(
                    &mut r,
                    "the journal has no migration to record".into(),
                    "Generate the first migration from the schema with `dbguard migrate new init`, then run baseline again.",
                );
                return Ok(r);
            }
        },
        ToolKind::Sql => {
            refuse(
                &mut r,
                "baseline is for Prisma and drizzle-kit; a plain SQL folder's history belongs to its apply command"
                    .into(),
                "Record the versions already applied with your migration runner.",
            );
            return Ok(r);
        }
    };
    // The proof: the migration, run on an empty scratch database, builds the live schema.
    let ex = drift::exclude_for(&ctx.project);
    let live = match &db {
        Db::Pg(pg) => catalog::describe_pg(pg, &ex)?,
        Db::Sqlite(_) => unreachable!("checked above"),
    };
    let scratch = Scratch::create(Some(&ctx.target), false)?;
    let built = (|| -> anyhow::Result<catalog::Catalog> {
        let pg = Pg::connect(&scratch.url)?;
        drift::prepare_search_path(&pg, &ctx.project)?;
        pg.batch(&sql).map_err(|e| {
            anyhow::anyhow!(
                "the baseline migration does not apply on an empty database: {}",
                crate::engine::pg_connect::describe_pg_error(&e)
            )
        })?;
        catalog::describe_pg(&pg, &ex)
    })();
    scratch.finish()?;
    let built = built?;
    let diffs = built.diff(&live);
    if !diffs.is_empty() {
        r.differences = diffs
            .iter()
            .map(|d| d.line("the database", "the schema file"))
            .collect();
        refuse(
            &mut r,
            format!(
                "the live schema differs from what the {} describes in {} place(s): recording it as applied would hide that",
                if ctx.project.tool == ToolKind::Prisma { "schema file" } else { "first migration" },
                diffs.len()
            ),
            "Make the schema file describe the database (Prisma: `npx prisma db pull` shows what is there), then run `dbguard migrate baseline` again.",
        );
        return Ok(r);
    }
    drop(db);
    match ctx.project.tool {
        ToolKind::Prisma => {
            let dir = prisma::write_migration(&ctx.project, "0_init", &sql)?;
            let env = tool::db_env(&ctx.project, &url)?;
            let recorded = (|| -> anyhow::Result<()> {
                let seen = prisma::probe_database(&ctx.project, &env)?;
                let want = ctx.target.database.clone().unwrap_or_default();
                if seen != want {
                    anyhow::bail!("Prisma would connect to \"{seen}\", not to {want}: nothing was recorded");
                }
                let argv = tool::node_argv(
                    &ctx.project.root,
                    "prisma",
                    &["migrate", "resolve", "--applied", "0_init"],
                );
                let out = tool::run(&argv, &ctx.project.root, &env, false)?;
                if !out.ok() {
                    anyhow::bail!(
                        "`npx prisma migrate resolve --applied 0_init` failed:\n{}",
                        out.error_tail(10)
                    );
                }
                Ok(())
            })();
            if let Err(e) = recorded {
                // Nothing left behind: the folder goes with the failure.
                let _ = std::fs::remove_dir_all(&dir);
                if std::fs::read_dir(&ctx.project.dir)
                    .map(|mut d| d.all(|e| e.map(|e| e.file_name() == "migration_lock.toml").unwrap_or(false)))
                    .unwrap_or(false)
                {
                    let _ = std::fs::remove_dir_all(&ctx.project.dir);
                }
                return Err(e);
            }
            r.migration = Some(crate::target::rel(&ctx.project.root, &dir.join("migration.sql")));
        }
        ToolKind::Drizzle => {
            let f = first.expect("drizzle baseline has a first migration");
            let pg = Pg::connect(&url)?;
            let schema = ctx.project.history.schema.clone().unwrap_or_else(|| "drizzle".into());
            let q = crate::snapshot::pg::quote_ident;
            let t = format!("{}.{}", q(&schema), q(&ctx.project.history.table));
            // The table exactly as drizzle-kit's migrator creates it, and the row it would write.
            pg.exec(&format!(
                "CREATE SCHEMA IF NOT EXISTS {}; CREATE TABLE IF NOT EXISTS {t} (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint); \
                 INSERT INTO {t} (hash, created_at) VALUES ({}, {})",
                q(&schema),
                crate::snapshot::pg::quote_literal(&f.checksum),
                f.when.unwrap_or(0)
            ))?;
            r.migration = Some(crate::target::rel(&ctx.project.root, &f.path));
        }
        ToolKind::Sql => unreachable!("refused above"),
    }
    // The audit log records it like any other door's action.
    let p = plan::build_for_target(
        PlanRequest {
            input: Input::Shell(format!(
                "dbguard migrate baseline ({})",
                r.migration.clone().unwrap_or_default()
            )),
            cwd: ctx.cwd.clone(),
            cli_url: None,
            measure: Measure::Skip,
            exact: false,
        },
        ctx.target.clone(),
    );
    let mut e = audit::Entry::from_plan(&p, audit::door::MIGRATE);
    e.outcome = audit::outcome::RAN.into();
    e.exit_code = Some(0);
    e.detail = Some("baseline: recorded as applied after the rehearsal proved it equal to the live schema".into());
    if let Err(err) = audit::record(&e) {
        eprintln!("dbguard: warning: {}", redact_text(&format!("{err:#}")));
    }
    r.result = "recorded";
    r.code = crate::exit::OK;
    r.message = format!(
        "{} builds exactly the live schema (rehearsed on a scratch database) and is now recorded as applied",
        r.migration.clone().unwrap_or_default()
    );
    r.next_step = "From now on: change the schema, `dbguard migrate new <name>`, `dbguard migrate apply`.".into();
    Ok(r)
}
