//! Restore: into a new database (or file) by default, never overwriting one that exists.
//! clone -> `CREATE DATABASE new TEMPLATE dbguard_snap_<id>`; copy -> DDL, parallel binary
//! `COPY FROM STDIN` of the segments, constraints and indexes after the data, sequence
//! values; dump -> `pg_restore -j2`; SQLite -> a new file next to the original.
//! `--in-place` first snapshots the current state, then swaps the restored copy in.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{anyhow, bail};
use serde::Serialize;
use tokio_postgres::Client;

use super::manifest::{Manifest, SnapshotScope, Strategy, TableEntry};
use super::pg::{self, qualified, quote_ident};
use super::pg_stream::Transactions;
use super::progress::Progress;
use super::{pg_clone, pg_dump, restore_copy, sqlite, store};
use crate::engine::pg_connect::{self, describe_pg_error};
use dbguard_core::redact::redact_url;

#[derive(Debug, Clone, Default)]
pub struct RestoreOptions {
    pub id: String,
    pub to_database: Option<String>,
    pub to_url: Option<String>,
    pub to_file: Option<PathBuf>,
    pub tables: Option<Vec<String>>,
    /// Replace the original; the caller must have obtained the typed confirmation.
    pub in_place_confirmed: bool,
    pub force_corrupt: bool,
    /// Credentials for the snapshot's server (the resolved target's URL).
    pub url: Option<String>,
    pub progress: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct RestoreOutcome {
    pub id: String,
    pub engine: String,
    pub strategy: Strategy,
    /// Redacted URL of the restored database, or the restored file.
    pub restored_to: String,
    pub database: String,
    /// `DATABASE_URL=...` (redacted) to point an application at the restored copy.
    pub switch_line: String,
    pub tables: Vec<String>,
    pub rows: u64,
    pub duration_ms: u64,
    pub in_place: bool,
    /// In-place restores: the snapshot taken of the state that was replaced.
    pub pre_restore_snapshot: Option<String>,
    /// In-place PostgreSQL restores of whole databases: where the replaced database went.
    pub replaced_database_kept_as: Option<String>,
    pub warnings: Vec<String>,
}

fn select_tables(m: &Manifest, wanted: Option<&[String]>) -> anyhow::Result<Vec<TableEntry>> {
    let Some(wanted) = wanted else {
        return Ok(m.tables.clone());
    };
    let mut out = Vec::new();
    for w in wanted {
        let hit = m.tables.iter().find(|t| t.qualified() == *w || t.name == *w);
        match hit {
            Some(t) => {
                if !out.iter().any(|o: &TableEntry| o.qualified() == t.qualified()) {
                    out.push(t.clone());
                }
            }
            None => bail!(
                "table {w} is not in snapshot {}: it holds {}",
                m.id,
                m.tables.iter().map(|t| t.qualified()).collect::<Vec<_>>().join(", ")
            ),
        }
    }
    Ok(out)
}

pub fn restore(opts: &RestoreOptions) -> anyhow::Result<RestoreOutcome> {
    let prog = Progress::new(opts.progress);
    let started = Instant::now();
    let (dir, m) = super::manifest::find(&opts.id)?;
    let mut warnings = Vec::new();
    // The data files of a copy snapshot going into a database this restore creates are
    // checked as they are loaded instead of in a pass of their own (reading them twice
    // cost a tenth of the restore): a mismatch aborts that COPY and the new database is
    // dropped. Everything else is checked first.
    let on_load: Vec<String> = if m.source.engine == "postgres"
        && m.strategy == Strategy::Copy
        && !opts.in_place_confirmed
        && opts.to_url.is_none()
        && !opts.force_corrupt
    {
        restore_copy::read_whole(&m.tables, &select_tables(&m, opts.tables.as_deref())?)
    } else {
        Vec::new()
    };
    let problems = store::check_files(&dir, &m.files, |p| !on_load.iter().any(|f| f == p));
    if !problems.is_empty() {
        if !opts.force_corrupt {
            return Err(corrupted(&m, &problems));
        }
        let w = format!(
            "restoring a CORRUPTED snapshot because of --force-corrupt: {}",
            problems.join("; ")
        );
        prog.note(&w);
        warnings.push(w);
    }
    // A clone restores without its checksums, but the outcome reports its tables and rows
    // (and they are worth recording before anything else happens to the snapshot).
    let m = match (&m.content_pending(), opts.to_url.as_deref().or(opts.url.as_deref())) {
        (true, Some(url)) => match super::content::ensure_content(&m.id, url, &prog) {
            Ok(full) => full,
            Err(e) => {
                let w = format!("the row counts of snapshot {} are not recorded yet: {e:#}", m.id);
                prog.note(&w);
                warnings.push(w);
                m
            }
        },
        _ => m,
    };
    let tables = select_tables(&m, opts.tables.as_deref())?;
    let rows = tables.iter().map(|t| t.rows).sum();
    let names: Vec<String> = tables.iter().map(|t| t.qualified()).collect();
    let now = store::now_unix();
    let ts = store::compact_timestamp(now);

    if m.source.engine == "sqlite" {
        if opts.tables.is_some() {
            bail!("SQLite snapshots restore whole files: drop --tables (then copy the tables you need from the restored file)");
        }
        let original = PathBuf::from(&m.source.display);
        if opts.in_place_confirmed {
            let pre = pre_restore_snapshot(&original.display().to_string(), &m, opts.progress)?;
            sqlite::restore_in_place(&dir, &original)?;
            return Ok(RestoreOutcome {
                id: m.id.clone(),
                engine: "sqlite".into(),
                strategy: m.strategy,
                restored_to: original.display().to_string(),
                database: m.source.database.clone(),
                switch_line: "nothing to change: the original file now holds the snapshot".into(),
                tables: names,
                rows,
                duration_ms: started.elapsed().as_millis() as u64,
                in_place: true,
                pre_restore_snapshot: Some(pre),
                replaced_database_kept_as: None,
                warnings,
            });
        }
        let dst = match &opts.to_file {
            Some(p) => p.clone(),
            None => {
                let stem = original
                    .file_stem()
                    .map(|s| s.to_string_lossy().to_string())
                    .unwrap_or_else(|| "database".into());
                let ext = original
                    .extension()
                    .map(|e| format!(".{}", e.to_string_lossy()))
                    .unwrap_or_default();
                original.with_file_name(format!("{stem}_restored_{ts}{ext}"))
            }
        };
        prog.phase(&format!("restoring into {}", dst.display()), 0);
        sqlite::restore_new_file(&dir, &dst)?;
        let shown = std::fs::canonicalize(&dst).unwrap_or(dst.clone()).display().to_string();
        return Ok(RestoreOutcome {
            id: m.id.clone(),
            engine: "sqlite".into(),
            strategy: m.strategy,
            restored_to: shown.clone(),
            database: dst
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default(),
            switch_line: format!("DATABASE_URL=file:{shown}"),
            tables: names,
            rows,
            duration_ms: started.elapsed().as_millis() as u64,
            in_place: false,
            pre_restore_snapshot: None,
            replaced_database_kept_as: None,
            warnings,
        });
    }

    // PostgreSQL.
    let server_url = opts.to_url.clone().or_else(|| opts.url.clone()).ok_or_else(|| {
        anyhow!(
            "restoring into PostgreSQL needs a connection to the server: pass --url (or set DATABASE_URL) for {}, or --to-url; the manifest keeps no passwords",
            m.source.display
        )
    })?;
    if opts.to_file.is_some() {
        bail!("--to-file is for SQLite snapshots; use --to-database or --to-url");
    }
    let rt = pg_connect::runtime()?;
    if opts.in_place_confirmed {
        let url = opts
            .url
            .clone()
            .ok_or_else(|| anyhow!("--in-place needs the original database's URL: pass --url or set DATABASE_URL"))?;
        let facts = pg::conn_facts(&url)?;
        in_place_target_matches(&m, &url)?;
        // A whole database is swapped by renaming, which other sessions prevent: say so
        // before the pre-restore snapshot and the full restore, not after them.
        if m.strategy != Strategy::Copy {
            let (n, who) = rt.block_on(async {
                let admin = pg::connect_maintenance(&url).await?;
                pg_clone::other_sessions(&admin, &m.source.database).await
            })?;
            if n > 0 {
                bail!(
                    "cannot replace {} while {n} other session(s) are connected to it ({who}): close them and retry (nothing was changed)",
                    m.source.database
                );
            }
        }
        let pre = pre_restore_snapshot(&url, &m, opts.progress)?;
        let kept = rt.block_on(restore_pg_in_place(&url, &dir, &m, &tables, &ts, &prog))?;
        return Ok(RestoreOutcome {
            id: m.id.clone(),
            engine: "postgres".into(),
            strategy: m.strategy,
            restored_to: redact_url(&url),
            database: facts.database,
            switch_line: "nothing to change: the original database now holds the snapshot".into(),
            tables: names,
            rows,
            duration_ms: started.elapsed().as_millis() as u64,
            in_place: true,
            pre_restore_snapshot: Some(pre),
            replaced_database_kept_as: kept,
            warnings,
        });
    }
    let target_db = match (&opts.to_url, &opts.to_database) {
        (Some(u), None) => pg::conn_facts(u)?.database,
        (None, Some(d)) => d.clone(),
        (Some(_), Some(_)) => bail!("give --to-database or --to-url, not both"),
        (None, None) => {
            let base: String = m.source.database.chars().take(40).collect();
            format!("{base}_restored_{ts}")
        }
    };
    let subset = opts.tables.as_ref().map(|_| tables.clone());
    let dest = Destination {
        database: &target_db,
        subset: subset.as_deref(),
        allow_existing: opts.to_url.is_some(),
        verify_on_load: !on_load.is_empty(),
    };
    match rt.block_on(restore_pg_into(&server_url, &dir, &m, &dest, &prog)) {
        Ok(w) => warnings.extend(w),
        Err(e) if !on_load.is_empty() => {
            // Say "corrupted" rather than whatever the server made of the bad bytes.
            let problems = store::check_files(&dir, &m.files, |p| on_load.iter().any(|f| f == p));
            if problems.is_empty() {
                return Err(e);
            }
            return Err(anyhow!(
                "{}. Nothing was kept: the partly restored database {target_db} was dropped",
                corrupted(&m, &problems)
            ));
        }
        Err(e) => return Err(e),
    }
    prog.finish();
    let new_url = pg::with_database(&server_url, &target_db)?;
    Ok(RestoreOutcome {
        id: m.id.clone(),
        engine: "postgres".into(),
        strategy: m.strategy,
        restored_to: redact_url(&new_url),
        database: target_db,
        switch_line: format!("DATABASE_URL={}", redact_url(&new_url)),
        tables: names,
        rows,
        duration_ms: started.elapsed().as_millis() as u64,
        in_place: false,
        pre_restore_snapshot: None,
        replaced_database_kept_as: None,
        warnings,
    })
}

/// `--in-place` replaces the snapshot's own database: the same name on the same server
/// (host:port as written when the snapshot was taken); a same-named database elsewhere is
/// another database. Checked before the person is asked, and again before the work.
pub fn in_place_target_matches(m: &Manifest, url: &str) -> anyhow::Result<()> {
    if m.source.engine != "postgres" {
        return Ok(());
    }
    let facts = pg::conn_facts(url)?;
    let key = format!("postgres://{}/{}", facts.server_key, facts.database);
    if key != m.source.key {
        bail!(
            "--in-place would replace {} ({}), but snapshot {} is of {} ({}): point --url at the snapshot's database, written with the same host and port, or restore into a new database without --in-place",
            facts.database,
            redact_url(url),
            m.id,
            m.source.database,
            m.source.display
        );
    }
    Ok(())
}

fn corrupted(m: &Manifest, problems: &[String]) -> anyhow::Error {
    let named: Vec<String> = problems.iter().map(|p| with_tables(m, p)).collect();
    anyhow!(
        "snapshot {} is corrupted and will not be restored: {}. Run `dbguard verify {}` for details; restoring anyway needs --force-corrupt",
        m.id,
        named.join("; "),
        m.id
    )
}

/// A file problem ("path: what") with the tables whose rows that file holds, since a
/// pack file's name says nothing about them.
fn with_tables(m: &Manifest, problem: &str) -> String {
    let Some((path, what)) = problem.split_once(": ") else {
        return problem.to_string();
    };
    let tables: Vec<String> = m
        .tables
        .iter()
        .filter(|t| t.files.iter().any(|f| f == path) || t.packed.as_ref().is_some_and(|p| p.file == path))
        .map(|t| t.qualified())
        .collect();
    match tables.len() {
        0 => problem.to_string(),
        1..=5 => format!("{path} (rows of {}): {what}", tables.join(", ")),
        n => format!(
            "{path} (rows of {} and {} more tables): {what}",
            tables[..5].join(", "),
            n - 5
        ),
    }
}

/// Snapshot the current state before an in-place restore.
fn pre_restore_snapshot(url: &str, m: &Manifest, progress: bool) -> anyhow::Result<String> {
    let target = crate::target::resolve(&crate::target::ResolveRequest::from_process(
        Some(url.to_string()),
        std::env::current_dir().unwrap_or_default(),
        None,
    ))?;
    let scope = match (&m.strategy, &m.scope) {
        (Strategy::Copy, SnapshotScope::Tables(_)) | (Strategy::Copy, SnapshotScope::Schema(_)) => {
            SnapshotScope::Tables(m.tables.iter().map(|t| t.qualified()).collect())
        }
        _ => SnapshotScope::Database,
    };
    let opts = super::TakeOptions {
        scope,
        strategy: Strategy::Auto,
        label: Some(format!("before in-place restore of {}", m.id)),
        operation: Some(format!("dbguard restore {} --in-place", m.id)),
        progress,
        terminate_sessions: false,
        keep: None,
        wait_content: false,
    };
    let taken = super::take_with(&target, &opts).map_err(|e| {
        anyhow!("snapshotting the current state before the in-place restore failed, nothing was changed: {e:#}")
    })?;
    Ok(taken.id)
}

async fn restore_pg_in_place(
    url: &str,
    dir: &Path,
    m: &Manifest,
    tables: &[TableEntry],
    ts: &str,
    prog: &Progress,
) -> anyhow::Result<Option<String>> {
    let db = &m.source.database;
    if m.strategy == Strategy::Copy {
        // Table-scoped: replace those tables in one transaction.
        let client = pg_connect::connect(url, pg_connect::DEFAULT_CONNECT_TIMEOUT).await?;
        pg::prepare_session(&client).await?;
        client
            .batch_execute("BEGIN")
            .await
            .map_err(|e| anyhow!("{}", describe_pg_error(&e)))?;
        // Rows of the tables left alone may hold ids handed out after the snapshot: the
        // restored sequences continue from where they are now, never back from there.
        let mut current: Vec<(String, i64)> = Vec::new();
        for s in tables.iter().flat_map(|t| &t.sequences) {
            let name = qualified(&s.schema, &s.name);
            if let Some(v) = sequence_position(&client, &name).await? {
                current.push((name, v));
            }
        }
        for t in tables {
            client
                .batch_execute(&format!("DROP TABLE IF EXISTS {}", qualified(&t.schema, &t.name)))
                .await
                .map_err(|e| {
                    anyhow!(
                        "replacing {}: {} (other objects depend on it?)",
                        t.qualified(),
                        describe_pg_error(&e)
                    )
                })?;
        }
        let ddl = restore_copy::read_ddl(dir)?;
        let load = restore_copy::Load {
            dir,
            all: &m.tables,
            tables,
            ddl: &ddl,
            use_pg_dump: false,
            verify: None,
            txn: Transactions::Caller,
        };
        restore_copy::load_copy(&[&client], &load, prog).await?;
        for (name, before) in &current {
            if sequence_position(&client, name).await?.is_some_and(|now| now < *before) {
                client
                    .query_one("SELECT setval($1::text::regclass, $2, true)", &[name, before])
                    .await
                    .map_err(|e| anyhow!("moving sequence {name} forward: {}", describe_pg_error(&e)))?;
            }
        }
        client
            .batch_execute("COMMIT")
            .await
            .map_err(|e| anyhow!("committing the restore: {}", describe_pg_error(&e)))?;
        return Ok(None);
    }
    let staging: String = format!("{}_restoring_{ts}", db.chars().take(40).collect::<String>());
    restore_pg_into(url, dir, m, &Destination::scratch(&staging), prog).await?;
    let admin = pg::connect_maintenance(url).await?;
    let kept = format!("{}_replaced_{ts}", db.chars().take(40).collect::<String>());
    if let Err(e) = admin
        .batch_execute(&format!(
            "ALTER DATABASE {} RENAME TO {}",
            quote_ident(db),
            quote_ident(&kept)
        ))
        .await
    {
        let _ = pg_clone::drop_database(&admin, &staging).await;
        bail!(
            "cannot move {db} aside: {}. Close the other sessions on it and retry (nothing was changed)",
            describe_pg_error(&e)
        );
    }
    admin
        .batch_execute(&format!(
            "ALTER DATABASE {} RENAME TO {}",
            quote_ident(&staging),
            quote_ident(db)
        ))
        .await
        .map_err(|e| {
            anyhow!(
                "renaming {staging} to {db}: {} (the original is kept as {kept})",
                describe_pg_error(&e)
            )
        })?;
    Ok(Some(kept))
}

/// The last value a sequence handed out (its start minus one before the first call), or
/// None when it does not exist. Never fails inside a transaction for a missing sequence.
async fn sequence_position(client: &Client, name: &str) -> anyhow::Result<Option<i64>> {
    let err = |e: tokio_postgres::Error| anyhow!("reading sequence {name}: {}", describe_pg_error(&e));
    let exists: bool = client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&name])
        .await
        .map_err(err)?
        .get(0);
    if !exists {
        return Ok(None);
    }
    let row = client
        .query_one(
            &format!("SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM {name}"),
            &[],
        )
        .await
        .map_err(err)?;
    Ok(Some(row.get(0)))
}

/// A private list file, removed when dropped.
struct TempList(std::path::PathBuf);

impl TempList {
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempList {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// When the dump holds the in-database guard's objects (triggers calling functions of the
/// dbguard schema, which dumps leave out), a `pg_restore -L` list without them; None when
/// it holds none (the whole archive is restored as it is).
fn guard_free_list(tool: &std::path::PathBuf, dump: &Path) -> anyhow::Result<Option<TempList>> {
    use super::guard_ddl;
    let mut ls = std::process::Command::new(tool);
    ls.arg("-l").arg(dump);
    let list = pg::run_tool(ls, "pg_restore -l")?;
    if !guard_ddl::toc_has_guard(&list) {
        return Ok(None);
    }
    let write = |name: &str, text: &str| -> anyhow::Result<TempList> {
        let path = std::env::temp_dir().join(format!(
            "dbguard-{name}-{}-{}.list",
            std::process::id(),
            crate::audit::new_id()
        ));
        let mut f = store::create_private_file(&path)?;
        std::io::Write::write_all(&mut f, text.as_bytes())
            .map_err(|e| store::io_error(e, "writing the restore list"))?;
        Ok(TempList(path))
    };
    // Is the archive's dblink the guard's (created in the dbguard schema)?
    let dblink: Vec<&str> = list.lines().filter(|l| l.contains(" EXTENSION - dblink")).collect();
    let dblink_is_guards = if dblink.is_empty() {
        false
    } else {
        let one = write("ext", &format!("{}\n", dblink.join("\n")))?;
        let mut show = std::process::Command::new(tool);
        show.arg("-f").arg("-").arg("-L").arg(one.path()).arg(dump);
        pg::run_tool(show, "pg_restore -L")?.contains("WITH SCHEMA dbguard;")
    };
    Ok(Some(write("toc", &guard_ddl::strip_toc(&list, dblink_is_guards))?))
}

/// Is the database free of user tables?
async fn has_user_tables(client: &Client) -> anyhow::Result<bool> {
    let row = client
        .query_one(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r','p') AND n.nspname NOT IN ('pg_catalog','information_schema') AND n.nspname NOT LIKE 'pg_toast%'",
            &[],
        )
        .await
        .map_err(|e| anyhow!("inspecting the target: {}", describe_pg_error(&e)))?;
    Ok(row.get::<_, i64>(0) > 0)
}

/// Restore snapshot `m` into database `target` on the server of `url`. Creates `target`
/// unless `allow_existing` and it exists (then it must not hold the snapshot's tables, or
/// any table for whole-database snapshots). Drops what it created on failure. Returns
/// warnings (e.g. foreign keys to tables outside the snapshot).
/// Where `restore_pg_into` puts a snapshot.
pub struct Destination<'a> {
    pub database: &'a str,
    /// Only these tables (copy snapshots).
    pub subset: Option<&'a [TableEntry]>,
    /// `--to-url`: the database may exist (its tables never).
    pub allow_existing: bool,
    /// Check the data files against the manifest as they are loaded; the caller checked
    /// the others. Only honoured for a database this restore creates (a mismatch drops it).
    pub verify_on_load: bool,
}

impl<'a> Destination<'a> {
    /// A new database of the whole snapshot, its files already checked.
    pub fn scratch(database: &'a str) -> Self {
        Destination {
            database,
            subset: None,
            allow_existing: false,
            verify_on_load: false,
        }
    }
}

pub async fn restore_pg_into(
    url: &str,
    dir: &Path,
    m: &Manifest,
    dest: &Destination<'_>,
    prog: &Progress,
) -> anyhow::Result<Vec<String>> {
    let (target, subset, allow_existing) = (dest.database, dest.subset, dest.allow_existing);
    let facts = pg::conn_facts(url)?;
    let admin = pg::connect_maintenance(url).await?;
    let info = pg::server_info(&admin).await?;
    let exists = pg::database_exists(&admin, target).await?;
    if exists && !allow_existing {
        bail!("database {target} already exists: dbguard never overwrites a database. Choose another name for the new database (--to-database; `new_database` over MCP), or drop it yourself first");
    }
    if let Some(v) = m.source.server_version_num {
        if m.strategy != Strategy::Dump && info.version_num / 10_000 < v / 10_000 {
            bail!(
                "snapshot {} is from PostgreSQL {} and this server runs {}: restore to a server at least as new",
                m.id,
                v / 10_000,
                info.version
            );
        }
    }
    if m.strategy == Strategy::Clone {
        if subset.is_some() {
            bail!("snapshot {} is a whole-database clone: restore it whole (without --tables), then copy the tables you need", m.id);
        }
        if exists {
            bail!("database {target} already exists: a clone restores only into a new database");
        }
        let clone = m
            .clone_database
            .clone()
            .ok_or_else(|| anyhow!("manifest of {} names no clone database", m.id))?;
        if !pg::database_exists(&admin, &clone).await? {
            bail!(
                "the clone database {clone} of snapshot {} is not on this server ({}): clones live in the source's cluster; connect with --url to that server",
                m.id,
                facts.server_key
            );
        }
        prog.phase(&format!("cloning {clone} into {target}"), 0);
        // The clone cannot be connected to: its size from here, its relations from the manifest
        // (a table is about four: heap, TOAST table and index, an index; plus the catalogs').
        let bytes: i64 = admin
            .query_one("SELECT pg_database_size($1::name)", &[&clone])
            .await
            .map(|r| r.get(0))
            .unwrap_or(i64::MAX);
        let shape = (!m.tables.is_empty()).then(|| pg_clone::Shape {
            bytes,
            relations: m.tables.len() as i64 * 4 + 400,
        });
        pg_clone::create_from_template(
            &admin,
            target,
            &clone,
            info.version_num,
            shape,
            &facts.user,
            pg::without_createdb::RESTORE_CLONE,
        )
        .await?;
        return Ok(Vec::new());
    }
    if !exists {
        admin
            .batch_execute(&format!("CREATE DATABASE {}", quote_ident(target)))
            .await
            .map_err(|e| {
                pg::create_db_error(
                    &e,
                    &format!("creating database {target}"),
                    &facts.user,
                    pg::without_createdb::RESTORE,
                )
            })?;
    }
    let target_url = pg::with_database(url, target)?;
    let result: anyhow::Result<Vec<String>> = async {
        match m.strategy {
            Strategy::Dump => {
                let major = info.major();
                let (tool, _, _) = pg::find_tool("pg_restore", major)?;
                if exists {
                    let c = pg_connect::connect(&target_url, pg_connect::DEFAULT_CONNECT_TIMEOUT).await?;
                    if has_user_tables(&c).await? {
                        bail!("database {target} is not empty: restoring a dump needs an empty or new database");
                    }
                }
                let (mut cmd, conn) = pg::tool_command(&tool, &target_url)?;
                cmd.args(["-j", "2", "--no-owner", "--no-privileges", "--exit-on-error", "-d"]).arg(conn);
                if let Some(sub) = subset {
                    for t in sub {
                        cmd.arg("-n").arg(&t.schema).arg("-t").arg(&t.name);
                    }
                }
                let list = guard_free_list(&tool, &dir.join(pg_dump::DUMP_DIR))?;
                if let Some(l) = &list {
                    cmd.arg("-L").arg(l.path());
                }
                cmd.arg(dir.join(pg_dump::DUMP_DIR));
                prog.phase(&format!("pg_restore -j2 into {target}"), 0);
                tokio::task::spawn_blocking(move || pg::run_tool(cmd, "pg_restore")).await.map_err(|e| anyhow!("pg_restore task: {e}"))??;
                drop(list);
                Ok(Vec::new())
            }
            Strategy::Copy => {
                let ddl = restore_copy::read_ddl(dir)?;
                let tables: Vec<TableEntry> = subset.map(|s| s.to_vec()).unwrap_or_else(|| m.tables.clone());
                let main = pg_connect::connect(&target_url, pg_connect::DEFAULT_CONNECT_TIMEOUT).await?;
                pg::prepare_session(&main).await?;
                if exists {
                    let schemas: Vec<&str> = tables.iter().map(|t| t.schema.as_str()).collect();
                    let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
                    let found = main
                        .query_opt(
                            "SELECT n.nspname::text || '.' || c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                             WHERE (n.nspname::text, c.relname::text) IN (SELECT * FROM unnest($1::text[], $2::text[])) LIMIT 1",
                            &[&schemas, &names],
                        )
                        .await
                        .map_err(|e| anyhow!("inspecting the target: {}", describe_pg_error(&e)))?;
                    if let Some(row) = found {
                        bail!("{} already exists in {target}: dbguard never overwrites a table. Restore into a new database, or drop it yourself first", row.get::<_, String>(0));
                    }
                }
                let second = pg_connect::connect(&target_url, pg_connect::DEFAULT_CONNECT_TIMEOUT).await?;
                pg::prepare_session(&second).await?;
                let whole = subset.is_none() && !exists;
                // An existing database would keep what a bad segment loaded: check first.
                let verify = if dest.verify_on_load && exists {
                    let files = restore_copy::data_files(&tables);
                    let problems = store::check_files(dir, &m.files, |p| files.iter().any(|f| f == p));
                    if !problems.is_empty() {
                        return Err(corrupted(m, &problems));
                    }
                    None
                } else {
                    dest.verify_on_load.then_some(m.files.as_slice())
                };
                let load = restore_copy::Load {
                    dir,
                    all: &m.tables,
                    tables: &tables,
                    ddl: &ddl,
                    use_pg_dump: whole,
                    verify,
                    txn: Transactions::Batched,
                };
                restore_copy::load_copy(&[&main, &second], &load, prog).await
            }
            _ => bail!("snapshot {} has strategy {} which PostgreSQL cannot restore", m.id, m.strategy.as_str()),
        }
    }
    .await;
    if result.is_err() && !exists {
        let _ = pg_clone::drop_database(&admin, target).await;
    }
    result
}
