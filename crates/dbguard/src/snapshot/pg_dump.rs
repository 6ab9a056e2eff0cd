//! The `dump` strategy: `pg_dump -Fd -j2` into the snapshot folder, for a durable copy
//! outside the cluster. pg_dump reads the snapshot that our own REPEATABLE READ
//! transaction exported, and the content checksums are computed in that same
//! transaction, so the checksums describe exactly what was dumped.

use std::path::Path;

use anyhow::{anyhow, bail};

use super::manifest::{FileEntry, Manifest, Request, SnapshotScope, Strategy, TableEntry};
use super::pg::{self, qualified, quote_ident};
use super::store;
use crate::engine::pg_connect::{self, describe_pg_error};

pub const DUMP_DIR: &str = "dump";

/// Every regular file under `dir`, relative to `base`, sorted.
pub fn walk_files(base: &Path, dir: &Path, out: &mut Vec<FileEntry>) -> anyhow::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| store::io_error(e, &format!("reading {}", dir.display())))?
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            walk_files(base, &p, out)?;
        } else {
            let rel = p
                .strip_prefix(base)
                .map_err(|_| anyhow!("bad path {}", p.display()))?
                .to_string_lossy()
                .to_string();
            out.push(store::file_entry(base, &rel)?);
        }
    }
    Ok(())
}

/// Make every file 0600 and every folder 0700 (pg_dump follows the umask).
pub fn tighten_modes(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| store::io_error(e, "setting permissions"))?;
    for e in std::fs::read_dir(dir)
        .map_err(|e| store::io_error(e, "setting permissions"))?
        .flatten()
    {
        let p = e.path();
        if p.is_dir() {
            tighten_modes(&p)?;
        } else {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| store::io_error(e, "setting permissions"))?;
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub async fn take(url: &str, req: Request<'_>) -> anyhow::Result<Manifest> {
    let (b, progress, source, scope) = (req.building, req.progress, &req.source, &req.scope);
    let major = source.server_version_num.unwrap_or(0) / 10_000;
    let (tool, _, version) = pg::find_tool("pg_dump", major)?;
    let client = pg_connect::connect(url, pg_connect::DEFAULT_CONNECT_TIMEOUT).await?;
    pg::prepare_session(&client).await?;
    client
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await
        .map_err(|e| anyhow!("starting the snapshot transaction: {}", describe_pg_error(&e)))?;
    let snap: String = client
        .query_one("SELECT pg_export_snapshot()", &[])
        .await
        .map_err(|e| anyhow!("exporting the snapshot: {}", describe_pg_error(&e)))?
        .get(0);
    let tables = pg::tables_in_scope(&client, scope).await?;
    if tables.is_empty() && !matches!(scope, SnapshotScope::Database) {
        bail!("nothing to snapshot: {} holds no tables", scope.describe());
    }
    let (mut cmd, conn) = pg::tool_command(&tool, url)?;
    cmd.args([
        "-Fd",
        "-j",
        "2",
        "-Z",
        "1",
        "--no-owner",
        "--no-privileges",
        "--snapshot",
        &snap,
        "-f",
    ])
    .arg(b.path(DUMP_DIR));
    match scope {
        SnapshotScope::Database => {
            cmd.arg(format!("--exclude-schema={}", super::guard_ddl::SCHEMA));
        }
        SnapshotScope::Schema(s) => {
            for s in s {
                cmd.arg("-n").arg(quote_ident(s));
            }
        }
        SnapshotScope::Tables(_) => {
            for t in &tables {
                cmd.arg("-t").arg(qualified(&t.schema, &t.name));
            }
        }
    }
    cmd.arg("-d").arg(conn);
    progress.phase(&format!("pg_dump {version} -Fd -j2 of {}", source.database), 0);
    let dump = tokio::task::spawn_blocking(move || pg::run_tool(cmd, "pg_dump"));
    // Checksums in the same snapshot, while pg_dump works.
    let total: u64 = tables.iter().map(|t| t.bytes.max(0) as u64).sum();
    progress.phase(&format!("checksumming {} table(s)", tables.len()), total);
    let jobs = super::pg_stream::copy_jobs(&client, &tables, source.server_version_num.unwrap_or(0)).await?;
    let streamed = super::pg_stream::run_jobs(&[&client], &tables, jobs, None, progress).await?;
    let sequences = super::pg_catalog::owned_sequences(&client, &tables).await?;
    let mut entries = Vec::new();
    for ((t, s), sequences) in tables.iter().zip(streamed.tables).zip(sequences) {
        entries.push(TableEntry {
            schema: t.schema.clone(),
            name: t.name.clone(),
            rows: s.sum.rows,
            content_checksum: s.sum.hex(),
            files: Vec::new(),
            packed: None,
            sequences,
        });
    }
    dump.await.map_err(|e| anyhow!("pg_dump task failed: {e}"))??;
    let _ = client.batch_execute("COMMIT").await;
    progress.finish();
    tighten_modes(&b.path(DUMP_DIR))?;
    let mut files = Vec::new();
    walk_files(&b.dir, &b.path(DUMP_DIR), &mut files)?;
    let bytes = files.iter().map(|f| f.bytes).sum();
    Ok(Manifest {
        tables: entries,
        files,
        ddl_source: Some(format!("pg_dump {version}")),
        bytes,
        ..req.manifest(Strategy::Dump)
    })
}
