//! The bodies of the MCP tools: blocking functions from the project context to a JSON value.
//! Every value is redacted by the caller before it reaches the agent; connection URLs never
//! leave this module except as `ResolvedTarget::display`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use dbguard_core::target::Engine;
use dbguard_core::{analyze, Dialect, Operation};
use serde_json::{json, Value};

use super::read_role;
use crate::engine::pg_connect;
use crate::fs_lookup::FsLookup;
use crate::plan::{self, Input, Measure, PlanRequest};
use crate::report::FindingJson;
use crate::target::{resolve, ResolveRequest, ResolvedTarget};

/// Statement timeout for db_query and db_execute.
const STATEMENT_TIMEOUT: &str = "5s";
/// Default and maximum rows returned by db_query.
const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 1000;
/// Impact measurement deadline for db_plan / db_execute.
const MEASURE_DEADLINE: Duration = Duration::from_secs(2);

#[derive(Clone, Debug)]
pub struct Ctx {
    pub cwd: PathBuf,
    pub url: Option<String>,
}

fn target(ctx: &Ctx) -> anyhow::Result<ResolvedTarget> {
    resolve(&ResolveRequest::from_process(ctx.url.clone(), ctx.cwd.clone(), None))
}

fn engine(t: &ResolvedTarget) -> Option<Engine> {
    t.engine.or_else(|| t.url.as_deref().and_then(crate::target::engine_of))
}

fn url_of(t: &ResolvedTarget) -> anyhow::Result<&str> {
    t.url.as_deref().ok_or_else(|| anyhow!(no_database(t)))
}

/// What was looked for, and where, when no database was found.
fn no_database(t: &ResolvedTarget) -> String {
    let tool = t.tool.as_deref().map(|t| format!(" ({t})")).unwrap_or_default();
    format!(
        "no database found for the project{tool}: dbguard looked for {}. Set DATABASE_URL in the project's .env, or start the server with `dbguard mcp --url URL`",
        t.looked_for.join("; ")
    )
}

fn target_json(t: &ResolvedTarget) -> Value {
    json!({
        "database": t.display,
        "engine": engine(t),
        "environment": t.environment.as_str(),
        "environment_rule": t.environment_rule,
        "protected": t.protected,
        "source": t.source,
        "warnings": t.warnings,
    })
}

fn dialect_of(t: Option<&ResolvedTarget>) -> Dialect {
    match t.and_then(engine) {
        Some(Engine::Sqlite) => Dialect::Sqlite,
        Some(Engine::Mysql) => Dialect::Mysql,
        _ => Dialect::Postgres,
    }
}

fn sqlite_path(url: &str) -> PathBuf {
    let p = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .trim_start_matches("file:");
    PathBuf::from(p.split('?').next().unwrap_or(p))
}

// ---------------------------------------------------------------------------------------
// db_status

pub fn status(ctx: &Ctx) -> anyhow::Result<Value> {
    let t = target(ctx)?;
    let mut out = json!({ "target": target_json(&t) });
    let tables = match (engine(&t), t.url.as_deref()) {
        (Some(Engine::Postgres), Some(url)) => pg_tables(url).map_err(|e| format!("{e:#}")),
        (Some(Engine::Sqlite), Some(url)) => sqlite_tables(&sqlite_path(url)).map_err(|e| format!("{e:#}")),
        (_, None) => Err(no_database(&t)),
        (other, _) => Err(format!("dbguard cannot inspect {other:?} databases yet")),
    };
    match tables {
        Ok(v) => out["tables"] = v,
        Err(e) => out["tables_error"] = json!(e),
    }
    out["newest_snapshot"] = match crate::snapshot::newest_for(&t) {
        Some(s) => serde_json::to_value(&s).unwrap_or(Value::Null),
        None => Value::Null,
    };
    Ok(out)
}

fn pg_tables(url: &str) -> anyhow::Result<Value> {
    let rt = pg_connect::runtime()?;
    rt.block_on(async {
        let client = pg_connect::connect(url, Duration::from_secs(3)).await?;
        let rows = client
            .query(
                "SELECT n.nspname::text, c.relname::text, \
                 GREATEST(c.reltuples, 0)::bigint, COALESCE(s.n_live_tup, 0)::bigint, pg_total_relation_size(c.oid)::bigint \
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid \
                 WHERE c.relkind IN ('r','p') AND n.nspname NOT IN ('pg_catalog','information_schema') \
                 AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1, 2 LIMIT 500",
                &[],
            )
            .await
            .map_err(|e| anyhow!("listing tables: {}", pg_connect::describe_pg_error(&e)))?;
        let list: Vec<Value> = rows
            .iter()
            .map(|r| {
                let reltuples: i64 = r.get(2);
                let live: i64 = r.get(3);
                json!({"schema": r.get::<_, String>(0), "table": r.get::<_, String>(1),
                       "rows_estimate": reltuples.max(live), "bytes": r.get::<_, i64>(4)})
            })
            .collect();
        Ok(Value::Array(list))
    })
}

fn sqlite_tables(path: &Path) -> anyhow::Result<Value> {
    let conn = open_sqlite_ro(path)?;
    let mut stmt = conn.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name LIMIT 500",
    )?;
    let names: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    for n in names {
        let q = format!("SELECT count(*) FROM \"{}\"", n.replace('"', "\"\""));
        let rows: i64 = conn.query_row(&q, [], |r| r.get(0)).unwrap_or(-1);
        out.push(json!({"table": n, "rows": rows}));
    }
    Ok(Value::Array(out))
}

fn open_sqlite_ro(path: &Path) -> anyhow::Result<rusqlite::Connection> {
    use rusqlite::OpenFlags;
    let conn =
        rusqlite::Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .with_context(|| format!("opening SQLite database {}", path.display()))?;
    conn.busy_timeout(Duration::from_secs(2))?;
    conn.pragma_update(None, "query_only", true)?;
    Ok(conn)
}

// ---------------------------------------------------------------------------------------
// db_query

/// Refuse anything that is not one read-only query, before any connection is made.
pub fn read_only_sql(sql: &str, dialect: Dialect) -> anyhow::Result<String> {
    let text = sql
        .trim()
        .trim_end_matches(|c: char| c == ';' || c.is_whitespace())
        .to_string();
    if text.is_empty() {
        bail!("empty query");
    }
    let findings = dbguard_core::sql::analyze_sql(&text, dialect);
    if !findings.is_empty() {
        let what: Vec<String> = findings
            .iter()
            .map(|f| format!("{} ({})", f.kind.as_str(), f.detail))
            .collect();
        bail!(
            "refused: db_query is read only, and this statement writes or destroys data: {}. Use db_plan to see \
its impact; destructive changes need the user's approval through db_execute.",
            what.join("; ")
        );
    }
    let first = text
        .trim_start_matches('(')
        .split(|c: char| c.is_whitespace() || c == '(')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if !matches!(first.as_str(), "select" | "with" | "values" | "table") {
        bail!("refused: db_query runs one read-only query (SELECT, WITH ... SELECT, VALUES or TABLE); `{first}` is not one. Use db_execute for writes.");
    }
    Ok(text)
}

pub fn query(ctx: &Ctx, sql: &str, limit: Option<u32>) -> anyhow::Result<Value> {
    let t = target(ctx)?;
    let limit = limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let text = read_only_sql(sql, dialect_of(Some(&t)))?;
    let url = url_of(&t)?;
    let (rows, truncated, privilege) = match engine(&t) {
        Some(Engine::Postgres) => {
            read_role::precheck(&text)?;
            let configured = crate::config::Config::load(&ctx.cwd)?.mcp.read_role;
            let (rows, truncated, p) = pg_query(url, &text, limit, configured.as_deref())?;
            (rows, truncated, p.describe())
        }
        Some(Engine::Sqlite) => {
            let (rows, truncated) = sqlite_query(&sqlite_path(url), &text, limit)?;
            (rows, truncated, "a read-only SQLite connection".to_string())
        }
        other => bail!("db_query supports PostgreSQL and SQLite, not {other:?}"),
    };
    Ok(
        json!({"database": t.display, "rows": rows, "row_count": rows.len(), "truncated": truncated, "limit": limit,
              "ran": privilege}),
    )
}

/// Run one query in a READ ONLY transaction, as a read-only role or under the allowlist
/// (`read_role`), with a statement timeout; always rolled back.
fn pg_query(
    url: &str,
    text: &str,
    limit: u32,
    read_role: Option<&str>,
) -> anyhow::Result<(Vec<Value>, bool, read_role::Privilege)> {
    // Wrapping the query as a subquery makes it one SELECT whatever it says (a second
    // statement or a data-modifying WITH cannot appear there), and the extended protocol
    // refuses several statements; the READ ONLY transaction refuses writes on top.
    let wrapped = format!(
        "SELECT row_to_json(q)::text FROM (\n{text}\n) AS q LIMIT {}",
        limit as u64 + 1
    );
    let rt = pg_connect::runtime()?;
    rt.block_on(async {
        let client = pg_connect::connect(url, Duration::from_secs(3)).await?;
        client
            .batch_execute(&format!(
                "BEGIN READ ONLY; SET LOCAL statement_timeout = '{STATEMENT_TIMEOUT}'; SET LOCAL lock_timeout = '1s'"
            ))
            .await
            .map_err(|e| {
                anyhow!(
                    "starting a read-only transaction: {}",
                    pg_connect::describe_pg_error(&e)
                )
            })?;
        let privilege = match read_role::enter(&client, text, read_role).await {
            Ok(p) => p,
            Err(e) => {
                let _ = client.batch_execute("ROLLBACK").await;
                return Err(e);
            }
        };
        let res = client.query(wrapped.as_str(), &[]).await;
        let _ = client.batch_execute("ROLLBACK").await;
        let rows = res.map_err(|e| anyhow!("query failed: {}", pg_connect::describe_pg_error(&e)))?;
        let mut out = Vec::new();
        for r in rows.iter().take(limit as usize) {
            let s: Option<String> = r.get(0);
            out.push(s.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or(Value::Null));
        }
        Ok((out, rows.len() > limit as usize, privilege))
    })
}

fn sqlite_query(path: &Path, text: &str, limit: u32) -> anyhow::Result<(Vec<Value>, bool)> {
    let conn = open_sqlite_ro(path)?;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    conn.progress_handler(10_000, Some(move || std::time::Instant::now() > deadline));
    let mut stmt = conn.prepare(text).map_err(|e| anyhow!("query failed: {e}"))?;
    if !stmt.readonly() {
        bail!("refused: db_query is read only");
    }
    let names: Vec<String> = stmt.column_names().iter().map(|s| s.to_string()).collect();
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    let mut truncated = false;
    while let Some(r) = rows.next()? {
        if out.len() >= limit as usize {
            truncated = true;
            break;
        }
        let mut obj = serde_json::Map::new();
        for (i, n) in names.iter().enumerate() {
            use rusqlite::types::ValueRef;
            let v = match r.get_ref(i)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(x) => json!(x),
                ValueRef::Real(x) => json!(x),
                ValueRef::Text(t) => json!(String::from_utf8_lossy(t)),
                ValueRef::Blob(b) => json!(format!("<{} bytes>", b.len())),
            };
            obj.insert(n.clone(), v);
        }
        out.push(Value::Object(obj));
    }
    Ok((out, truncated))
}

// ---------------------------------------------------------------------------------------
// db_check and db_plan

pub fn check(ctx: &Ctx, text: &str, sql: bool) -> anyhow::Result<Value> {
    let lookup = FsLookup::new(&ctx.cwd);
    let analysis = if sql {
        analyze(
            &Operation::Sql {
                text,
                dialect: Dialect::Postgres,
            },
            &lookup,
        )
    } else {
        analyze(&Operation::Shell(text), &lookup)
    };
    let findings: Vec<FindingJson<'_>> = analysis.findings.iter().map(FindingJson::from).collect();
    Ok(json!({"destructive": analysis.is_destructive(), "findings": findings}))
}

fn plan_json(p: &crate::plan::Plan) -> Value {
    let findings: Vec<FindingJson<'_>> = p.analysis.findings.iter().map(FindingJson::from).collect();
    json!({
        "destructive": p.destructive(),
        "findings": findings,
        "target": p.target.as_ref().map(target_json),
        "impacts": p.impacts,
        "total_rows": p.total_rows,
        "measure_note": p.measure_note,
        "verdict": p.verdict,
        "snapshot": p.snapshot,
    })
}

pub fn plan(ctx: &Ctx, file: Option<&str>, sql: Option<&str>) -> anyhow::Result<Value> {
    let text = match (file, sql) {
        (Some(f), _) => {
            let path = ctx.cwd.join(f);
            std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?
        }
        (None, Some(s)) => s.to_string(),
        (None, None) => bail!("give a migration `file` or `sql`"),
    };
    let t = target(ctx).ok();
    let p = plan::build(PlanRequest {
        input: Input::Sql {
            text,
            dialect: dialect_of(t.as_ref()),
        },
        cwd: ctx.cwd.clone(),
        cli_url: ctx.url.clone(),
        measure: Measure::Within(MEASURE_DEADLINE),
        exact: false,
    });
    Ok(plan_json(&p))
}

// ---------------------------------------------------------------------------------------
// Snapshots

pub fn snapshot(ctx: &Ctx, tables: Option<Vec<String>>, label: Option<String>) -> anyhow::Result<Value> {
    use crate::snapshot::{SnapshotScope, Strategy};
    let t = target(ctx)?;
    url_of(&t)?;
    let scope = match tables {
        Some(ts) if !ts.is_empty() => SnapshotScope::Tables(ts),
        _ => SnapshotScope::Database,
    };
    let m = crate::snapshot::take(
        &t,
        scope,
        Strategy::Auto,
        label,
        Some("dbguard mcp: db_snapshot".into()),
        false,
    )?;
    Ok(serde_json::to_value(&m)?)
}

pub fn snapshots(ctx: &Ctx) -> anyhow::Result<Value> {
    let t = target(ctx)?;
    let key = crate::snapshot::source_key(&t);
    let list = crate::snapshot::list(key.as_deref())?;
    Ok(json!({"database": t.display, "snapshots": list}))
}

pub fn restore(ctx: &Ctx, id: &str, new_database: Option<String>) -> anyhow::Result<Value> {
    let t = target(ctx)?;
    let opts = crate::snapshot::RestoreOptions {
        id: id.to_string(),
        to_database: new_database,
        url: t.url.clone(),
        // Never in place from an agent.
        in_place_confirmed: false,
        ..Default::default()
    };
    let out = crate::snapshot::restore(&opts)?;
    Ok(serde_json::to_value(&out)?)
}

// ---------------------------------------------------------------------------------------
// db_execute

pub fn execute(ctx: &Ctx, sql: &str, approval_code: Option<&str>) -> anyhow::Result<Value> {
    let t = target(ctx)?;
    if engine(&t) == Some(Engine::Postgres) {
        // What db_query refuses because it acts beyond the database is refused here too:
        // switching tools is no way around it.
        dbguard_core::sql::readonly::check_write(sql).map_err(|r| {
            anyhow!(
                "refused: db_execute writes to this database only, and {r}. Nothing was run. If the user wants \
this done, it is theirs to run outside dbguard mcp."
            )
        })?;
    }
    let p = plan::build(PlanRequest {
        input: Input::Sql {
            text: sql.to_string(),
            dialect: dialect_of(Some(&t)),
        },
        cwd: ctx.cwd.clone(),
        cli_url: ctx.url.clone(),
        measure: Measure::Within(MEASURE_DEADLINE),
        exact: false,
    });
    if p.destructive() {
        if let Some(code) = approval_code {
            return execute_approved(&t, &p, sql, code);
        }
        let mut out = plan_json(&p);
        out["executed"] = json!(false);
        let mut entry = crate::audit::Entry::from_plan(&p, crate::audit::door::MCP);
        if p.verdict.action == dbguard_core::policy::Action::Block {
            out["message"] = json!(format!(
                "NOT executed: {}. Do not retry or work around this; only the user can decide.",
                p.verdict.reason
            ));
            entry.outcome = crate::audit::outcome::BLOCKED.into();
            let _ = crate::audit::record(&entry);
            return Ok(out);
        }
        entry.outcome = crate::audit::outcome::NEEDS_APPROVAL.into();
        match crate::hooks::request_approval(&p) {
            Ok(a) => {
                entry.approval = Some(a.code.clone());
                out["approval_code"] = json!(a.code);
                out["message"] = json!(format!(
                    "NOT executed: this destroys data and needs the user's approval. Tell the user: {} They approve \
with `dbguard approve {}` in their own terminal; then call db_execute again with the same sql and \
approval_code. A snapshot is taken before it runs.",
                    a.sentence, a.code
                ));
            }
            Err(e) => {
                out["message"] = json!(format!(
                    "NOT executed: this destroys data and needs the user's approval, and no approval code could be \
created ({e}). Ask the user to run it themselves through `dbguard run`."
                ));
            }
        }
        let _ = crate::audit::record(&entry);
        return Ok(out);
    }
    let url = url_of(&t)?;
    let affected = match engine(&t) {
        Some(Engine::Postgres) => pg_execute(url, sql, None)?,
        Some(Engine::Sqlite) => sqlite_execute(&sqlite_path(url), sql)?,
        other => bail!("db_execute supports PostgreSQL and SQLite, not {other:?}"),
    };
    Ok(json!({"executed": true, "database": t.display, "rows_affected": affected}))
}

/// Run a destructive statement after the user approved its code: consume the approval
/// (bound to this exact SQL, directory and target), snapshot, log, execute.
fn execute_approved(t: &ResolvedTarget, p: &crate::plan::Plan, sql: &str, code: &str) -> anyhow::Result<Value> {
    use crate::audit::{self, door, outcome};
    use crate::plan::SnapshotNeed;
    use crate::snapshot::{SnapshotScope, Strategy};
    // Refusals are audited too: an agent presenting codes that approve nothing is news.
    let refuse = |outcome: &str, message: String| {
        let mut entry = audit::Entry::from_plan(p, door::MCP);
        entry.outcome = outcome.into();
        entry.approval = Some(crate::approval::normalize_code(code).unwrap_or_else(|| "(not a code)".into()));
        entry.detail = Some(message.clone());
        let _ = audit::record(&entry);
        anyhow!(message)
    };
    if p.verdict.action == dbguard_core::policy::Action::Block {
        return Err(refuse(
            outcome::BLOCKED,
            format!(
                "NOT executed: {}. Only the user can decide, outside dbguard mcp.",
                p.verdict.reason
            ),
        ));
    }
    let Some(approved) = crate::approval::consume_code(p, code)? else {
        return Err(refuse(outcome::REFUSED, format!(
            "NOT executed: no approval for exactly this SQL and database (code {code}): the user approves with `dbguard approve {code}` in their own terminal; the code expires, is used once, and only matches the same SQL."
        )));
    };
    let scope = match &p.snapshot {
        Some(SnapshotNeed::Tables { names }) => SnapshotScope::Tables(names.clone()),
        Some(SnapshotNeed::Schemas { names }) => SnapshotScope::Schema(names.clone()),
        _ => SnapshotScope::Database,
    };
    let manifest = crate::snapshot::take(
        t,
        scope,
        Strategy::Auto,
        None,
        Some(format!("dbguard mcp: db_execute (approval {})", approved.code)),
        false,
    )
    .map_err(|e| anyhow!("NOT executed: the snapshot failed: {e:#}"))?;
    let mut entry = audit::Entry::from_plan(p, door::MCP);
    entry.approval = Some(approved.code.clone());
    entry.snapshot = Some(manifest.id.clone());
    entry.outcome = outcome::STARTED.into();
    audit::record(&entry).map_err(|e| anyhow!("NOT executed: {e:#}"))?;
    let url = url_of(t)?;
    let result = match engine(t) {
        Some(Engine::Postgres) => pg_execute(url, sql, approved.db_token.as_deref()),
        Some(Engine::Sqlite) => sqlite_execute(&sqlite_path(url), sql),
        other => Err(anyhow!("db_execute supports PostgreSQL and SQLite, not {other:?}")),
    };
    let mut end = entry.next();
    end.outcome = outcome::RAN.into();
    end.exit_code = Some(if result.is_ok() { 0 } else { 1 });
    let _ = audit::record(&end);
    let affected = result?;
    Ok(
        json!({"executed": true, "database": t.display, "rows_affected": affected, "snapshot": manifest.id,
              "restore": format!("dbguard restore {}", manifest.id)}),
    )
}

/// `db_token`: the in-database guard's approval for this session, when the approval was
/// also written into a guarded database.
fn pg_execute(url: &str, sql: &str, db_token: Option<&str>) -> anyhow::Result<u64> {
    let rt = pg_connect::runtime()?;
    rt.block_on(async {
        let client = pg_connect::connect(url, Duration::from_secs(3)).await?;
        if let Some(token) = db_token {
            crate::protect::approval::present(&client, token).await?;
        }
        client
            .batch_execute(&format!("BEGIN; SET LOCAL statement_timeout = '{STATEMENT_TIMEOUT}'"))
            .await
            .map_err(|e| anyhow!("starting a transaction: {}", pg_connect::describe_pg_error(&e)))?;
        let res = client.simple_query(sql).await;
        match res {
            Ok(msgs) => {
                client
                    .batch_execute("COMMIT")
                    .await
                    .map_err(|e| anyhow!("commit failed: {}", pg_connect::describe_pg_error(&e)))?;
                Ok(msgs
                    .iter()
                    .map(|m| match m {
                        tokio_postgres::SimpleQueryMessage::CommandComplete(n) => *n,
                        _ => 0,
                    })
                    .sum())
            }
            Err(e) => {
                let _ = client.batch_execute("ROLLBACK").await;
                Err(anyhow!(
                    "statement failed (rolled back): {}",
                    pg_connect::describe_pg_error(&e)
                ))
            }
        }
    })
}

fn sqlite_execute(path: &Path, sql: &str) -> anyhow::Result<u64> {
    let mut conn = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE)
        .with_context(|| format!("opening SQLite database {}", path.display()))?;
    conn.busy_timeout(Duration::from_secs(2))?;
    let tx = conn.transaction()?;
    tx.execute_batch(sql)
        .map_err(|e| anyhow!("statement failed (rolled back): {e}"))?;
    let n = tx.changes();
    tx.commit()?;
    Ok(n)
}

// ---------------------------------------------------------------------------------------
// db_migrate_status / db_migrate_plan / db_migrate_apply: `dbguard migrate` for agents.

fn migrate_ctx(ctx: &Ctx) -> anyhow::Result<crate::migrate::ctx::Ctx> {
    crate::migrate::ctx::Ctx::load(Some(ctx.cwd.clone()), ctx.url.clone())
}

pub fn migrate_status(ctx: &Ctx) -> anyhow::Result<Value> {
    use crate::migrate::{check, status::Db};
    let m = migrate_ctx(ctx)?;
    let db = Db::open(&m.target)?;
    let files = m.project.migrations()?;
    let st = check::full_status(&m, &db, &files, true)?;
    Ok(json!({
        "tool": m.project.tool.as_str(),
        "folder": m.project.dir_display(),
        "target": target_json(&m.target),
        "status": st,
    }))
}

pub fn migrate_plan(ctx: &Ctx, rehearse: bool) -> anyhow::Result<Value> {
    let m = migrate_ctx(ctx)?;
    let r = crate::migrate::planner::run(&m, rehearse)?;
    Ok(serde_json::to_value(&r)?)
}

pub fn migrate_apply(ctx: &Ctx, approval_code: Option<&str>) -> anyhow::Result<Value> {
    let m = migrate_ctx(ctx)?;
    let r = crate::migrate::apply::run(
        &m,
        &crate::migrate::apply::Options {
            json: true,
            allow_production: false,
            plan: None,
            approval_code: approval_code.map(str::to_string),
        },
    )?;
    let mut v = serde_json::to_value(&r)?;
    if r.result == "needs_approval" {
        if let Some(code) = r
            .guarded
            .as_ref()
            .and_then(|g| g.approval.as_ref())
            .map(|a| a.code.clone())
        {
            v["approval_code"] = json!(code);
            v["message"] = json!(format!(
                "NOT applied: these migrations destroy data and need the user's approval. Tell the user: {} Then call \
db_migrate_apply again with approval_code. A snapshot is taken before they run.",
                crate::approval::sentence(&code)
            ));
        }
    }
    Ok(v)
}

#[cfg(test)]
mod no_database_tests {
    use super::*;

    #[test]
    fn says_what_was_looked_for_and_where() {
        let dir = tempfile::tempdir().unwrap();
        let req = ResolveRequest {
            cwd: dir.path().to_path_buf(),
            config: Some(crate::config::Config::default()),
            ..Default::default()
        };
        let msg = no_database(&resolve(&req).unwrap());
        assert!(
            msg.contains("looked for DATABASE_URL in the environment; DATABASE_URL in .env.local, .env in ")
                && msg.contains(&dir.path().display().to_string())
                && msg.contains("dbguard mcp --url URL")
                && !msg.contains("none found"),
            "{msg}"
        );
    }
}
