//! `dbguard verify`: file checksums against the manifest, and with `--deep` a restore
//! into a scratch database (or file) whose row counts and content checksums are compared
//! with the manifest, then dropped.

use std::path::Path;

use anyhow::anyhow;
use serde::Serialize;

use super::manifest::{Manifest, TableEntry};
use super::progress::Progress;
use super::{pg, pg_clone, restore, sqlite, store};

/// Problems with a snapshot's files: missing, wrong size, wrong checksum.
pub fn check_files(dir: &Path, m: &Manifest) -> Vec<String> {
    store::check_files(dir, &m.files, |_| true)
}

#[derive(Debug, Serialize)]
pub struct VerifyReport {
    pub id: String,
    pub ok: bool,
    pub files_checked: usize,
    pub deep: bool,
    /// "complete" once the snapshot's row counts and checksums are recorded.
    pub content_status: super::manifest::ContentStatus,
    pub tables_checked: usize,
    pub problems: Vec<String>,
}

/// Compare restored tables with the manifest.
pub fn compare_tables(expected: &[TableEntry], actual: &[TableEntry], problems: &mut Vec<String>) -> usize {
    let mut n = 0;
    for e in expected {
        match actual.iter().find(|a| a.schema == e.schema && a.name == e.name) {
            None => problems.push(format!("{}: missing after restore", e.qualified())),
            Some(a) => {
                n += 1;
                if a.rows != e.rows {
                    problems.push(format!(
                        "{}: {} rows after restore, {} in the manifest",
                        e.qualified(),
                        a.rows,
                        e.rows
                    ));
                } else if a.content_checksum != e.content_checksum {
                    problems.push(format!("{}: content checksum differs from the manifest", e.qualified()));
                }
                for s in &e.sequences {
                    if let Some(got) = a.sequences.iter().find(|x| x.schema == s.schema && x.name == s.name) {
                        if got.last_value != s.last_value || got.is_called != s.is_called {
                            problems.push(format!(
                                "sequence {}.{}: {} after restore, {} in the manifest",
                                s.schema, s.name, got.last_value, s.last_value
                            ));
                        }
                    }
                }
            }
        }
    }
    n
}

/// Verify a snapshot. `url` gives server credentials for PostgreSQL clone/deep checks.
pub fn verify(
    dir: &Path,
    m: &Manifest,
    deep: bool,
    url: Option<&str>,
    progress: &Progress,
) -> anyhow::Result<VerifyReport> {
    let mut problems = check_files(dir, m);
    let mut tables_checked = 0;
    let completed;
    let mut m = m;
    if m.source.engine == "postgres" && (deep || m.clone_database.is_some()) {
        let url = url.ok_or_else(|| {
            anyhow!("checking snapshot {} needs a connection to its PostgreSQL server: pass --url or set DATABASE_URL (the manifest keeps no passwords)", m.id)
        })?;
        // A clone whose row counts are still pending gets them now (or waits for the
        // background pass), from the clone itself, which nothing writes.
        if m.content_pending() {
            match super::content::ensure_content(&m.id, url, progress) {
                Ok(full) => {
                    completed = full;
                    m = &completed;
                }
                Err(e) => problems.push(format!("{e:#}")),
            }
        }
        let rt = crate::engine::pg_connect::runtime()?;
        rt.block_on(async {
            if let Some(clone) = &m.clone_database {
                let admin = pg::connect_maintenance(url).await?;
                if !pg::database_exists(&admin, clone).await? {
                    problems.push(format!("the clone database {clone} is missing from the server"));
                }
            }
            if deep && problems.is_empty() {
                let scratch = format!("dbguard_verify_{}", m.id.replace('-', "_"));
                let admin = pg::connect_maintenance(url).await?;
                pg_clone::drop_database(&admin, &scratch).await?;
                let result = async {
                    restore::restore_pg_into(url, dir, m, &restore::Destination::scratch(&scratch), progress).await?;
                    pg_clone::checksum_database(url, &scratch, progress).await
                }
                .await;
                let _ = pg_clone::drop_database(&admin, &scratch).await;
                let actual = result?;
                tables_checked = compare_tables(&m.tables, &actual, &mut problems);
            }
            Ok::<_, anyhow::Error>(())
        })?;
    } else if deep && problems.is_empty() && m.source.engine == "sqlite" {
        let scratch = dir
            .parent()
            .unwrap_or(dir)
            .join(format!(".tmp-verify-{}-{}", m.id, std::process::id()));
        store::make_private_dir(&scratch)?;
        let result = (|| {
            let file = scratch.join("scratch.db");
            sqlite::decompress_to(dir, &file)?;
            sqlite::checksum_file(&file)
        })();
        let _ = std::fs::remove_dir_all(&scratch);
        let actual = result?;
        tables_checked = compare_tables(&m.tables, &actual, &mut problems);
    }
    progress.finish();
    Ok(VerifyReport {
        id: m.id.clone(),
        ok: problems.is_empty(),
        content_status: m.content,
        files_checked: m.files.len(),
        deep,
        tables_checked,
        problems,
    })
}
