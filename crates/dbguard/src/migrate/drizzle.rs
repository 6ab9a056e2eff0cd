//! drizzle-kit: `<out>/<tag>.sql` listed in `<out>/meta/_journal.json` (`out` from
//! drizzle.config.*, default `drizzle`), the history table `drizzle.__drizzle_migrations`
//! (`hash` = SHA-256 of the file, `created_at` = the journal's `when`), and the commands:
//! `drizzle-kit generate --name` (no terminal: a rename question becomes an error that
//! dbguard reports, with nothing written) and `drizzle-kit migrate`.
//!
//! drizzle-kit's migrator applies a journal entry only when its `when` is after the
//! newest `created_at` in the table, so an entry merged from another branch with an older
//! `when` is skipped without a word: `status` reports those.
//!
//! To point drizzle-kit at a database (a scratch copy, or the target `--url` named),
//! dbguard runs it with a small config file of its own next to the project's, which
//! imports the project's config and replaces only `dbCredentials.url` with a variable:
//! whatever variable the project's config reads, the tool connects where dbguard says.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};

use super::{tool, HistoryTable, Migration, Project, ToolKind};
use crate::target::jsscan::{self, Tok};

pub const HISTORY: &str = "__drizzle_migrations";
/// The variable dbguard's config wrapper reads the URL from.
pub const URL_VAR: &str = "DBGUARD_MIGRATE_URL";

/// The drizzle-kit project in `cwd`, if there is one.
pub fn project(cwd: &Path) -> anyhow::Result<Option<Project>> {
    let Some(config) = crate::target::drizzle::NAMES
        .iter()
        .map(|n| cwd.join(n))
        .find(|f| f.is_file())
    else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(&config).with_context(|| format!("reading {}", config.display()))?;
    let loaded = crate::target::drizzle::load(cwd).unwrap_or_default();
    let (out, schema_path, table, hist_schema) = if config.extension().is_some_and(|x| x == "json") {
        let v: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| anyhow!("{} is not valid JSON: {e}", config.display()))?;
        let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
        let m = v.get("migrations");
        let ms = |k: &str| m.and_then(|m| m.get(k)).and_then(|x| x.as_str()).map(str::to_string);
        (s("out"), s("schema"), ms("table"), ms("schema"))
    } else {
        let toks = jsscan::tokenize(&text);
        let lit = |key: &str, from: usize, to: usize| match jsscan::find_property(&toks, key, from, to) {
            Some(i) => match toks.get(i) {
                Some(Tok::Str(s)) => Some(s.clone()),
                _ => None,
            },
            None => None,
        };
        let (table, hist_schema) = match jsscan::find_property(&toks, "migrations", 0, toks.len()) {
            Some(m) => {
                let end = jsscan::object_end(&toks, m).unwrap_or(m);
                (lit("table", m, end), lit("schema", m, end))
            }
            None => (None, None),
        };
        // The top-level `schema` (the schema file), not `migrations.schema`.
        let top_schema = jsscan::find_property(&toks, "schema", 0, toks.len()).and_then(|i| match toks.get(i) {
            Some(Tok::Str(s)) if hist_schema.as_deref() != Some(s.as_str()) => Some(s.clone()),
            _ => None,
        });
        (lit("out", 0, toks.len()), top_schema, table, hist_schema)
    };
    let dialect = loaded.dialect.clone();
    let sqlite = dialect.as_deref().is_some_and(|d| d.contains("sqlite") || d == "turso");
    let out_dir = cwd.join(out.unwrap_or_else(|| "drizzle".into()));
    Ok(Some(Project {
        tool: ToolKind::Drizzle,
        root: cwd.to_path_buf(),
        dir: crate::target::normalize(&out_dir),
        schema: schema_path.map(|s| cwd.join(s)),
        config_file: Some(config),
        provider: dialect,
        adapter: false,
        history: HistoryTable {
            schema: if sqlite {
                None
            } else {
                Some(hist_schema.unwrap_or_else(|| "drizzle".into()))
            },
            table: table.unwrap_or_else(|| HISTORY.into()),
            column: "hash".into(),
        },
        apply_command: None,
        dbmate: false,
    }))
}

#[derive(serde::Deserialize)]
struct Journal {
    #[serde(default)]
    entries: Vec<JournalEntry>,
}

#[derive(serde::Deserialize)]
struct JournalEntry {
    tag: String,
    when: i64,
}

/// The journal's migrations, in journal order.
pub fn migrations(project: &Project) -> anyhow::Result<Vec<Migration>> {
    let journal = project.dir.join("meta").join("_journal.json");
    let text = match std::fs::read_to_string(&journal) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(anyhow!("cannot read {}: {e}", journal.display())),
    };
    let j: Journal =
        serde_json::from_str(&text).map_err(|e| anyhow!("{} is not a drizzle journal: {e}", journal.display()))?;
    let mut out = Vec::new();
    for e in j.entries {
        let path = project.dir.join(format!("{}.sql", e.tag));
        let context = format!("{} lists {}, but it cannot be read", journal.display(), e.tag);
        let mut m = Migration::read(path, e.tag, e.when.to_string(), str::to_string).context(context)?;
        m.when = Some(e.when);
        out.push(m);
    }
    Ok(out)
}

/// A config file of dbguard's own next to the project's: the project's config with
/// `dbCredentials.url` read from [`URL_VAR`]. Removed when dropped.
pub struct ConfigWrapper {
    pub path: PathBuf,
}

impl ConfigWrapper {
    pub fn new(project: &Project) -> anyhow::Result<ConfigWrapper> {
        let config = project
            .config_file
            .as_ref()
            .ok_or_else(|| anyhow!("no drizzle config"))?;
        let name = config
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let import = if name.ends_with(".json") {
            format!("./{name}")
        } else {
            format!("./{}", name.trim_end_matches(".ts").trim_end_matches(".mts"))
        };
        let mut rnd = [0u8; 4];
        crate::audit::fill_random(&mut rnd);
        let tag: String = rnd.iter().map(|b| format!("{b:02x}")).collect();
        let path = project.root.join(format!(".dbguard-drizzle-{tag}.config.ts"));
        let body = format!(
            "// Written by dbguard migrate for one drizzle-kit run, removed right after: the project's config\n\
             // with the database URL taken from {URL_VAR}.\n\
             import base from '{import}'\n\
             const b: any = (base as any)?.default ?? base\n\
             export default {{ ...b, dbCredentials: {{ ...(b.dbCredentials ?? {{}}), url: process.env.{URL_VAR} }} }}\n"
        );
        std::fs::write(&path, body).with_context(|| format!("writing {}", path.display()))?;
        Ok(ConfigWrapper { path })
    }
}

impl Drop for ConfigWrapper {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// `drizzle-kit migrate` pointed at `url`.
pub fn migrate(
    project: &Project,
    url: &str,
    extra_env: &[(String, String)],
    echo: bool,
) -> anyhow::Result<tool::Output> {
    let wrapper = ConfigWrapper::new(project)?;
    let cfg = wrapper.path.display().to_string();
    let argv = tool::node_argv(&project.root, "drizzle-kit", &["migrate", "--config", &cfg]);
    let mut env = vec![(URL_VAR.to_string(), url.to_string())];
    env.extend(extra_env.iter().cloned());
    let out = tool::run(&argv, &project.root, &env, echo);
    drop(wrapper);
    out
}

/// What `drizzle-kit generate` did.
pub enum Generated {
    /// New migration files (paths).
    Written(Vec<PathBuf>),
    /// Nothing to generate.
    NoChanges,
    /// It needed to ask (a rename); nothing was written.
    Question { what: String },
}

/// Run `drizzle-kit generate --name NAME` with no terminal; anything it wrote when it
/// then failed is removed (the journal and snapshots restored).
pub fn generate(project: &Project, name: &str) -> anyhow::Result<Generated> {
    let before = snapshot_files(&project.dir);
    let journal = project.dir.join("meta").join("_journal.json");
    let journal_before = std::fs::read(&journal).ok();
    let argv = tool::node_argv(&project.root, "drizzle-kit", &["generate", "--name", name]);
    let out = tool::run(&argv, &project.root, &[], false)?;
    let after = snapshot_files(&project.dir);
    let new: Vec<PathBuf> = after.iter().filter(|p| !before.contains(p)).cloned().collect();
    let text = out.text();
    let asked = text.contains("Interactive prompts require a TTY") || text.contains("isTTY");
    if asked || !out.ok() {
        // Put things back: a half-written migration is worse than none.
        for p in &new {
            let _ = std::fs::remove_file(p);
        }
        match &journal_before {
            Some(b) => {
                let _ = std::fs::write(&journal, b);
            }
            None => {
                let _ = std::fs::remove_file(&journal);
            }
        }
        if asked {
            let what = if text.contains("promptColumnsConflicts") || text.contains("columnsResolver") {
                "whether a column was renamed or dropped and another created"
            } else if text.contains("Enum") || text.contains("enum") {
                "whether an enum was renamed or dropped and another created"
            } else {
                "whether a table (or schema) was renamed or dropped and another created"
            };
            return Ok(Generated::Question { what: what.into() });
        }
        bail!(
            "`drizzle-kit generate` failed (exit {}):\n{}",
            out.exit.code,
            out.error_tail(15)
        );
    }
    let sql: Vec<PathBuf> = new
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    if sql.is_empty() {
        return Ok(Generated::NoChanges);
    }
    Ok(Generated::Written(sql))
}

fn snapshot_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for d in [dir.to_path_buf(), dir.join("meta")] {
        if let Ok(rd) = std::fs::read_dir(&d) {
            out.extend(rd.flatten().map(|e| e.path()).filter(|p| p.is_file()));
        }
    }
    out
}
