//! The `copy` strategy: tables read with binary `COPY ... TO STDOUT` in one REPEATABLE
//! READ READ ONLY transaction (its snapshot exported to a second connection so two
//! tables stream in parallel, still mutually consistent; see `pg_stream`), plus the DDL to
//! recreate them: pg_dump's schema when a suitable pg_dump is installed (run once, in the same
//! snapshot, while the rows stream), and always the catalog's per table (`pg_catalog`), which
//! restore uses for a subset of tables or without pg_dump.
//!
//! What grows with the number of tables is kept to one query or one statement per kind of
//! thing: one catalog pass, one pg_dump, small tables packed many to a file.

use anyhow::{anyhow, bail};
use serde::{Deserialize, Serialize};

use super::manifest::{self, Manifest, Request, SnapshotScope, Strategy, TableEntry};
use super::pg::{self, qualified, quote_ident, quote_literal, TableRef};
pub use super::pg_catalog::TableDdl;
use super::{pg_catalog, pg_stream, store};
use crate::engine::pg_connect::{self, describe_pg_error};

/// `ddl.json` in a copy snapshot.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct DdlFile {
    pub tables: Vec<TableDdl>,
    /// pg_dump --schema-only output split in sections, when pg_dump was usable.
    pub pg_dump_pre: Option<String>,
    pub pg_dump_post: Option<String>,
    pub pg_dump_version: Option<String>,
    /// Materialized views that held rows, qualified and quoted, in dependency order: pg_dump's
    /// schema creates them empty, and restore refreshes them after the data.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matviews: Vec<String>,
}

/// pg_dump --schema-only split into pre-data and post-data, or None when no suitable pg_dump is
/// installed (the catalog DDL is used then). One pg_dump run (custom format, into the building
/// folder), then pg_restore turns its two sections into SQL: pg_dump itself costs a round trip
/// per table and sequence, too much to pay twice.
fn pg_dump_ddl(
    url: &str,
    dir: &std::path::Path,
    server_major: u32,
    snapshot: &str,
    scope: &SnapshotScope,
    tables: &[TableRef],
) -> Option<(String, String, String)> {
    let (tool, _, version) = pg::find_tool("pg_dump", server_major).ok()?;
    let restore_tool = tool.with_file_name("pg_restore");
    if !restore_tool.is_file() {
        return None;
    }
    let archive = dir.join("schema.dump.tmp");
    let (mut cmd, conn) = pg::tool_command(&tool, url).ok()?;
    cmd.args(["--schema-only", "-Fc", "--snapshot", snapshot, "-f"])
        .arg(&archive);
    match scope {
        // The in-database guard is not part of a snapshot (guard_ddl.rs).
        SnapshotScope::Database => {
            cmd.arg(format!("--exclude-schema={}", super::guard_ddl::SCHEMA));
        }
        SnapshotScope::Schema(schemas) => {
            for s in schemas {
                cmd.arg("-n").arg(quote_ident(s));
            }
        }
        SnapshotScope::Tables(_) => {
            for t in tables {
                cmd.arg("-t").arg(qualified(&t.schema, &t.name));
            }
        }
    }
    cmd.arg("-d").arg(conn);
    let dumped = pg::run_tool(cmd, "pg_dump --schema-only");
    let _ = std::fs::set_permissions(&archive, std::os::unix::fs::PermissionsExt::from_mode(0o600));
    let sections = dumped.ok().and_then(|_| {
        let section = |sec: &'static str| {
            let mut cmd = std::process::Command::new(&restore_tool);
            cmd.args(["--no-owner", "--no-privileges", "--section", sec, "-f", "-"])
                .arg(&archive);
            std::thread::spawn(move || pg::run_tool(cmd, "pg_restore --section"))
        };
        let (pre, post) = (section("pre-data"), section("post-data"));
        let (pre, post) = (pre.join().ok()?.ok()?, post.join().ok()?.ok()?);
        let clean = |s: &str| psql_free(&super::guard_ddl::strip_script(s));
        Some((clean(&pre), clean(&post)))
    });
    let _ = std::fs::remove_file(&archive);
    let (pre, post) = sections?;
    Some((pre, post, version))
}

/// Recent pg_dump versions wrap the script in psql-only `\restrict` lines.
fn psql_free(script: &str) -> String {
    script
        .lines()
        .filter(|l| !l.starts_with('\\'))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Take a copy snapshot into `b`. Returns the manifest (not yet committed).
pub async fn take(url: &str, req: Request<'_>) -> anyhow::Result<Manifest> {
    let (b, progress, source, scope) = (req.building, req.progress, &req.source, &req.scope);
    let main = pg_connect::connect(url, pg_connect::DEFAULT_CONNECT_TIMEOUT).await?;
    pg::prepare_session(&main).await?;
    main.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await
        .map_err(|e| anyhow!("starting the snapshot transaction: {}", describe_pg_error(&e)))?;
    let snap_row = main
        .query_one("SELECT pg_export_snapshot()", &[])
        .await
        .map_err(|e| anyhow!("exporting the snapshot: {}", describe_pg_error(&e)))?;
    let snapshot_name: String = snap_row.get(0);
    let tables = pg::tables_in_scope(&main, scope).await?;
    if tables.is_empty() {
        bail!("nothing to snapshot: {} holds no tables", scope.describe());
    }
    let server_major = source.server_version_num.unwrap_or(0) / 10_000;
    // pg_dump runs while our transaction holds the exported snapshot, so its DDL matches the data.
    let dump_url = url.to_string();
    let dump_dir = b.dir.clone();
    let dump_scope = scope.clone();
    let dump_tables = tables.clone();
    let dump_snap = snapshot_name.clone();
    let dump = tokio::task::spawn_blocking(move || {
        pg_dump_ddl(
            &dump_url,
            &dump_dir,
            server_major,
            &dump_snap,
            &dump_scope,
            &dump_tables,
        )
    });
    let mut ddl = DdlFile {
        tables: pg_catalog::table_ddl(&main, &tables).await?,
        matviews: pg_catalog::populated_matviews(&main, scope).await?,
        ..Default::default()
    };
    let total: u64 = tables.iter().map(|t| t.bytes.max(0) as u64).sum();
    progress.phase(&format!("copying {} table(s)", tables.len()), total);

    // PARALLEL connections share the exported snapshot; big tables are split in ctid ranges.
    let mut extra = Vec::new();
    for _ in 1..pg_stream::PARALLEL {
        let c = pg_connect::connect(url, pg_connect::DEFAULT_CONNECT_TIMEOUT).await?;
        pg::prepare_session(&c).await?;
        c.batch_execute(&format!(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT {}",
            quote_literal(&snapshot_name)
        ))
        .await
        .map_err(|e| anyhow!("joining the snapshot transaction: {}", describe_pg_error(&e)))?;
        extra.push(c);
    }
    let clients: Vec<&tokio_postgres::Client> = std::iter::once(&main).chain(extra.iter()).collect();
    let jobs = pg_stream::copy_jobs(&main, &tables, source.server_version_num.unwrap_or(0)).await?;
    let streamed = pg_stream::run_jobs(&clients, &tables, jobs, Some(b.dir.clone()), progress).await?;
    let sequences = pg_catalog::owned_sequences(&main, &tables).await?;
    let mut entries = Vec::new();
    let mut files = Vec::new();
    let mut packed = false;
    for ((t, s), sequences) in tables.iter().zip(streamed.tables).zip(sequences) {
        packed |= s.packed.is_some();
        entries.push(TableEntry {
            schema: t.schema.clone(),
            name: t.name.clone(),
            rows: s.sum.rows,
            content_checksum: s.sum.hex(),
            files: s.files.iter().map(|f| f.path.clone()).collect(),
            packed: s.packed,
            sequences,
        });
        files.extend(s.files);
    }
    files.extend(streamed.packs);
    let dump = dump.await.ok().flatten();
    let ddl_source = match &dump {
        Some((_, _, v)) => format!("pg_dump {v} --schema-only (catalog DDL kept for partial restores)"),
        None => "catalog (no pg_dump at least as new as the server is installed)".to_string(),
    };
    if let Some((pre, post, v)) = dump {
        ddl.pg_dump_pre = Some(pre);
        ddl.pg_dump_post = Some(post);
        ddl.pg_dump_version = Some(v);
    }
    main.batch_execute("COMMIT")
        .await
        .map_err(|e| anyhow!("ending the snapshot transaction: {}", describe_pg_error(&e)))?;
    for c in &extra {
        let _ = c.batch_execute("COMMIT").await;
    }
    progress.finish();
    let ddl_json = serde_json::to_vec_pretty(&ddl)?;
    {
        use std::io::Write;
        let mut f = store::create_private_file(&b.path("ddl.json"))?;
        f.write_all(&ddl_json)
            .map_err(|e| store::io_error(e, "writing ddl.json"))?;
    }
    files.push(store::file_entry(&b.dir, "ddl.json")?);
    let bytes = files.iter().map(|f| f.bytes).sum();
    Ok(Manifest {
        // Pack files are format 2: an older dbguard would restore those tables empty.
        format: if packed {
            manifest::FORMAT_VERSION
        } else {
            manifest::FORMAT_VERSION_PLAIN
        },
        tables: entries,
        files,
        ddl_source: Some(ddl_source),
        bytes,
        ..req.manifest(Strategy::Copy)
    })
}

/// pg_dump output cut into its objects (at the "-- Name: ...; Type: ..." headers), so that
/// one failing statement (a foreign key to a table outside the snapshot) does not stop the
/// rest; `preamble` holds the SET statements every object needs (search_path etc.).
pub struct DumpScript {
    pub preamble: String,
    pub objects: Vec<String>,
}

pub fn split_dump_sections(sql: &str) -> DumpScript {
    let mut objects = Vec::new();
    let mut cur = String::new();
    let mut preamble = String::new();
    let mut in_preamble = true;
    for line in sql.lines() {
        if line.starts_with("-- Name: ") || line.starts_with("-- Data for Name: ") {
            if !in_preamble && !cur.trim().is_empty() {
                objects.push(std::mem::take(&mut cur));
            }
            in_preamble = false;
            cur.clear();
        }
        let part = if in_preamble { &mut preamble } else { &mut cur };
        part.push_str(line);
        part.push('\n');
    }
    if !cur.trim().is_empty() {
        objects.push(cur);
    }
    DumpScript { preamble, objects }
}
