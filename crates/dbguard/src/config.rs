//! `dbguard.toml`: dbguard's configuration, and the data directory.
//!
//! Where it is found, first hit wins:
//! 1. `DBGUARD_CONFIG=/path/to/dbguard.toml` (a missing file there is an error; `DBGUARD_CONFIG=none`
//!    disables configuration files altogether);
//! 2. `dbguard.toml` in the working directory or the nearest parent directory;
//! 3. the user's config directory: `~/.config/dbguard/dbguard.toml` on Linux
//!    (`dirs::config_dir()/dbguard/dbguard.toml`).
//!
//! No file means all defaults. A malformed file is an error naming the file, line and
//! column. Unknown keys are warnings (shown by `dbguard status`), never errors, so a
//! newer file keeps working with an older dbguard.
//!
//! Keys and defaults (README "Configuration"):
//!
//! ```toml
//! # One entry per database you want to name; the first entry that matches wins.
//! [[databases]]
//! match = "*.prod.internal"  # required. A glob (`*`, `?`, case-insensitive) matched against the
//!                            # URL without its password, the host, the database name, `host/dbname`,
//!                            # and for SQLite the file path and file name.
//! environment = "production" # production | staging | development | unknown. Default: unknown
//!                            # (the entry then only names/protects the database; later rules
//!                            # still decide the environment).
//! protected = true           # default false. Protected databases get the strictest policy.
//! name = "main"              # default none. A short name shown in reports.
//!
//! [snapshots]
//! keep = 10                  # default 10. Snapshots kept per database by retention (`dbguard prune`).
//! dir = "/backups/dbguard"   # default none: `<data dir>/snapshots`. Relative paths are relative to
//!                            # the directory holding dbguard.toml.
//!
//! [freshness]                # default: no requirement for any environment.
//! production = "1h"          # max age of the newest snapshot before a destructive operation,
//! staging = "1d"             # per environment (production, staging, development, unknown).
//!                            # Units: s, m, h, d, w (e.g. "90s", "30m", "1h", "2d", "1w").
//!
//! [policy]                   # per-environment policy, read by the policy module (raw table here).
//!
//! [mcp]
//! read_role = "reporting_ro" # default none. The role `dbguard mcp`'s db_query switches to
//!                            # (SET LOCAL ROLE) when the session user is not a member of
//!                            # `dbguard_reader`; it must be able to read only. Without either,
//!                            # db_query allows only side-effect-free built-in functions.
//! [proxy]                    # `dbguard proxy` (docs/proxy.md; raw table here).
//! [trash]                    # soft-dropped tables' retention (docs/proxy.md; raw table here).
//! ```
//!
//! The data directory (snapshots, audit log, approvals) is `DBGUARD_HOME` when set,
//! else `dirs::data_dir()/dbguard` (`~/.local/share/dbguard` on Linux).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use dbguard_core::Environment;
use serde::Deserialize;

/// Name of the project configuration file.
pub const FILE_NAME: &str = "dbguard.toml";

/// Default number of snapshots kept per database.
pub const DEFAULT_KEEP: usize = 10;

/// The whole `dbguard.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `[[databases]]`: named databases with their environment, first match wins.
    pub databases: Vec<DatabaseEntry>,
    /// `[snapshots]`.
    pub snapshots: Snapshots,
    /// `[freshness]`: environment name -> max snapshot age ("1h"). Validated at load.
    pub freshness: BTreeMap<String, String>,
    /// `[policy]`, raw: interpreted by the policy module.
    pub policy: toml::Table,
    /// `[mcp]`.
    pub mcp: Mcp,
    /// `[migrate]`: for `dbguard migrate` (see `migrate/config` in docs/migrate.md).
    pub migrate: MigrateConfig,
    /// `[proxy]`, raw: interpreted by `commands/proxy.rs` (docs/proxy.md).
    pub proxy: toml::Table,
    /// `[trash]`, raw: interpreted by `commands/trash.rs` (docs/proxy.md).
    pub trash: toml::Table,
    /// The file this came from (None: defaults, no file found).
    #[serde(skip)]
    pub path: Option<PathBuf>,
    /// Unknown keys and other non-fatal remarks, for `dbguard status`.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// One `[[databases]]` entry.
#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseEntry {
    /// Glob matched against the password-free URL, host, database name, `host/dbname`, SQLite path.
    #[serde(rename = "match")]
    pub pattern: String,
    /// The environment of matching databases; `unknown` (default) leaves the decision to later rules.
    #[serde(default, deserialize_with = "de_environment")]
    pub environment: Environment,
    #[serde(default)]
    pub protected: bool,
    #[serde(default)]
    pub name: Option<String>,
}

/// `[snapshots]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Snapshots {
    /// Snapshots kept per database (default 10).
    pub keep: usize,
    /// Where snapshots are stored (default `<data dir>/snapshots`).
    pub dir: Option<PathBuf>,
}

impl Default for Snapshots {
    fn default() -> Self {
        Snapshots {
            keep: DEFAULT_KEEP,
            dir: None,
        }
    }
}

/// `[mcp]`: the MCP server's settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Mcp {
    /// A role that can only read, for `db_query` (default: none; `dbguard_reader` is used first
    /// when the session user is a member of it).
    pub read_role: Option<String>,
}

/// `[migrate]`: how `dbguard migrate` finds and applies migrations when the project does
/// not say it itself (plain SQL folders), and where it may make scratch databases.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct MigrateConfig {
    /// `prisma`, `drizzle`, `sql` or `dbmate` (default: detected from the project).
    pub tool: Option<String>,
    /// The migrations folder of a plain SQL project, relative to the working directory
    /// (default `migrations`, else `db/migrations`).
    pub dir: Option<PathBuf>,
    /// The history table the apply command records versions in (default `schema_migrations`).
    pub table: Option<String>,
    /// Its version column (default `version`).
    pub column: Option<String>,
    /// The command that applies pending migrations (plain SQL); it gets the database URL in
    /// `DATABASE_URL`.
    pub apply: Option<String>,
}

fn de_environment<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Environment, D::Error> {
    let s = String::deserialize(d)?;
    Environment::from_name(&s).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "unknown environment {s:?} (expected production, staging, development or unknown)"
        ))
    })
}

const TOP_KEYS: &[&str] = &[
    "databases",
    "snapshots",
    "freshness",
    "policy",
    "mcp",
    "migrate",
    "proxy",
    "trash",
];
const DATABASE_KEYS: &[&str] = &["match", "environment", "protected", "name"];
const SNAPSHOT_KEYS: &[&str] = &["keep", "dir"];
const FRESHNESS_KEYS: &[&str] = &["production", "staging", "development", "unknown"];
const MCP_KEYS: &[&str] = &["read_role"];
const MIGRATE_KEYS: &[&str] = &["tool", "dir", "table", "column", "apply"];

/// The configuration for this process's working directory, loaded once. A file that
/// cannot be read counts as no file here; commands that resolve a target report the
/// error itself (`target::resolve` loads and fails on it).
pub fn current() -> &'static Config {
    static CURRENT: std::sync::OnceLock<Config> = std::sync::OnceLock::new();
    CURRENT.get_or_init(|| {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        Config::load(&cwd).unwrap_or_default()
    })
}

impl Config {
    /// Find and load the configuration for a working directory, using the process
    /// environment for `DBGUARD_CONFIG`.
    pub fn load(cwd: &Path) -> anyhow::Result<Config> {
        let env: BTreeMap<String, String> = std::env::vars().collect();
        Config::load_with(cwd, &env)
    }

    /// Like [`Config::load`], with an explicit environment (for the resolver and tests).
    pub fn load_with(cwd: &Path, env: &BTreeMap<String, String>) -> anyhow::Result<Config> {
        match find(cwd, env)? {
            Some(path) => Config::from_file(&path),
            None => Ok(Config::default()),
        }
    }

    /// Load one file.
    pub fn from_file(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let mut cfg = Config::parse(&text).map_err(|e| anyhow!("invalid {}: {e}", path.display()))?;
        if let Some(dir) = &cfg.snapshots.dir {
            if dir.is_relative() {
                let base = path.parent().unwrap_or(Path::new("."));
                cfg.snapshots.dir = Some(base.join(dir));
            }
        }
        cfg.path = Some(path.to_path_buf());
        for w in &mut cfg.warnings {
            *w = format!("{}: {w}", path.display());
        }
        Ok(cfg)
    }

    /// Parse configuration text. Errors carry toml's line and column.
    pub fn parse(text: &str) -> anyhow::Result<Config> {
        let table: toml::Table = toml::from_str(text).map_err(|e| toml_error(text, &e))?;
        let warnings = unknown_keys(&table);
        let mut cfg: Config = toml::from_str(text).map_err(|e| toml_error(text, &e))?;
        for (env, value) in &cfg.freshness {
            if FRESHNESS_KEYS.contains(&env.as_str()) {
                parse_duration(value).map_err(|e| anyhow!("[freshness] {env} = {value:?}: {e}"))?;
            }
        }
        cfg.warnings = warnings;
        Ok(cfg)
    }

    /// The first `[[databases]]` entry matching any of `candidates` (URL, host, name...).
    pub fn match_database<'a>(&'a self, candidates: &[String]) -> Option<&'a DatabaseEntry> {
        self.databases.iter().find(|d| {
            candidates
                .iter()
                .any(|c| !c.is_empty() && dbguard_core::environment::glob_match(&d.pattern, c))
        })
    }

    /// Max age of the newest snapshot required before destructive operations in `env`.
    pub fn freshness_for(&self, env: Environment) -> Option<Duration> {
        self.freshness.get(env.as_str()).and_then(|v| parse_duration(v).ok())
    }
}

/// One line: "line L, column C: message" (toml's own Display spans several lines).
fn toml_error(text: &str, e: &toml::de::Error) -> anyhow::Error {
    let msg = e.message().split_whitespace().collect::<Vec<_>>().join(" ");
    match e.span() {
        Some(span) => {
            let before = text.get(..span.start.min(text.len())).unwrap_or("");
            let line = before.matches('\n').count() + 1;
            let col = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
            anyhow!("line {line}, column {col}: {msg}")
        }
        None => anyhow!("{msg}"),
    }
}

/// Locate dbguard.toml (see the module comment for the order).
pub fn find(cwd: &Path, env: &BTreeMap<String, String>) -> anyhow::Result<Option<PathBuf>> {
    if let Some(p) = env.get("DBGUARD_CONFIG").filter(|p| !p.is_empty()) {
        if p == "none" {
            return Ok(None);
        }
        let path = PathBuf::from(p);
        if !path.is_file() {
            bail!("DBGUARD_CONFIG names {}, which does not exist", path.display());
        }
        return Ok(Some(path));
    }
    let start = if cwd.is_absolute() {
        cwd.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(cwd))
            .unwrap_or_else(|_| cwd.to_path_buf())
    };
    for dir in start.ancestors() {
        let candidate = dir.join(FILE_NAME);
        if candidate.is_file() {
            return Ok(Some(candidate));
        }
    }
    let user = env
        .get("XDG_CONFIG_HOME")
        .filter(|v| Path::new(v).is_absolute())
        .map(PathBuf::from)
        .or_else(dirs::config_dir)
        .map(|d| d.join("dbguard").join(FILE_NAME));
    Ok(user.filter(|p| p.is_file()))
}

fn unknown_keys(table: &toml::Table) -> Vec<String> {
    let mut out = Vec::new();
    for (k, v) in table {
        if !TOP_KEYS.contains(&k.as_str()) {
            out.push(format!("unknown key `{k}` ignored"));
            continue;
        }
        let nested = |section: &str, t: &toml::Table, known: &[&str], out: &mut Vec<String>| {
            for key in t.keys() {
                if !known.contains(&key.as_str()) {
                    out.push(format!("unknown key `{key}` in [{section}] ignored"));
                }
            }
        };
        match (k.as_str(), v) {
            ("databases", toml::Value::Array(items)) => {
                for item in items.iter().filter_map(|i| i.as_table()) {
                    nested("[databases]", item, DATABASE_KEYS, &mut out);
                }
            }
            ("snapshots", toml::Value::Table(t)) => nested("snapshots", t, SNAPSHOT_KEYS, &mut out),
            ("freshness", toml::Value::Table(t)) => nested("freshness", t, FRESHNESS_KEYS, &mut out),
            ("mcp", toml::Value::Table(t)) => nested("mcp", t, MCP_KEYS, &mut out),
            ("migrate", toml::Value::Table(t)) => nested("migrate", t, MIGRATE_KEYS, &mut out),
            _ => {}
        }
    }
    out
}

/// Parse "90s", "30m", "1h", "2d", "1w" (also "1h30m"; a bare number is seconds).
pub fn parse_duration(text: &str) -> anyhow::Result<Duration> {
    let t = text.trim();
    if t.is_empty() {
        bail!("empty duration");
    }
    if let Ok(secs) = t.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let mut total: u64 = 0;
    let mut num = String::new();
    for c in t.chars() {
        if c.is_ascii_digit() {
            num.push(c);
        } else if c.is_whitespace() {
            continue;
        } else {
            let n: u64 = num.parse().map_err(|_| anyhow!("expected a number before `{c}`"))?;
            let unit = match c {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86_400,
                'w' => 604_800,
                _ => bail!("unknown unit `{c}` (use s, m, h, d or w)"),
            };
            total = total.saturating_add(n.saturating_mul(unit));
            num.clear();
        }
    }
    if !num.is_empty() {
        bail!("missing unit after {num} (use s, m, h, d or w)");
    }
    Ok(Duration::from_secs(total))
}

/// The data directory: `DBGUARD_HOME`, else `dirs::data_dir()/dbguard`, else `~/.dbguard`.
pub fn data_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("DBGUARD_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(home);
    }
    if let Some(d) = dirs::data_dir() {
        return d.join("dbguard");
    }
    dirs::home_dir()
        .map(|h| h.join(".dbguard"))
        .unwrap_or_else(|| PathBuf::from(".dbguard"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let c = Config::parse("").unwrap();
        assert_eq!(c.snapshots.keep, 10);
        assert!(c.snapshots.dir.is_none());
        assert!(c.databases.is_empty());
        assert_eq!(c.freshness_for(Environment::Production), None);
    }

    #[test]
    fn full_file() {
        let c = Config::parse(
            r#"
[[databases]]
match = "*.prod.internal"
environment = "production"
protected = true
name = "main"

[[databases]]
match = "app_dev"
environment = "dev"

[snapshots]
keep = 3

[freshness]
production = "1h"

[policy.production]
destructive = "block"

[future]
x = 1
"#,
        )
        .unwrap();
        assert_eq!(c.databases.len(), 2);
        assert_eq!(c.databases[0].environment, Environment::Production);
        assert!(c.databases[0].protected);
        assert_eq!(c.databases[1].environment, Environment::Development);
        assert_eq!(c.snapshots.keep, 3);
        assert_eq!(
            c.freshness_for(Environment::Production),
            Some(Duration::from_secs(3600))
        );
        assert!(c.policy.contains_key("production"));
        assert_eq!(c.warnings, vec!["unknown key `future` ignored".to_string()]);
        let m = c.match_database(&["db1.prod.internal".into()]).unwrap();
        assert_eq!(m.name.as_deref(), Some("main"));
        assert!(c.match_database(&["other".into()]).is_none());
    }

    #[test]
    fn errors_have_lines() {
        let e = Config::parse("[snapshots]\nkeep = \"many\"\n").unwrap_err().to_string();
        assert!(e.contains("line 2"), "{e}");
        let e = Config::parse("[[databases]]\nmatch = \"x\"\nenvironment = \"prodd\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("prodd") && e.contains("line 3"), "{e}");
        let e = Config::parse("a = [\n").unwrap_err().to_string();
        assert!(e.contains("line"), "{e}");
        let e = Config::parse("[freshness]\nproduction = \"1 fortnight\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("freshness"), "{e}");
    }

    #[test]
    fn unknown_nested_keys_warn() {
        let c = Config::parse("[snapshots]\nkeepp = 3\n[[databases]]\nmatch = \"x\"\nenv = \"prod\"\n").unwrap();
        assert_eq!(c.warnings.len(), 2, "{:?}", c.warnings);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("2d").unwrap(), Duration::from_secs(172_800));
        assert_eq!(parse_duration("15").unwrap(), Duration::from_secs(15));
        assert!(parse_duration("1y").is_err());
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("5").is_ok());
    }

    #[test]
    fn finds_by_walking_up() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a/b");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(dir.path().join(FILE_NAME), "[snapshots]\nkeep = 4\n").unwrap();
        let env = BTreeMap::from([(
            "XDG_CONFIG_HOME".to_string(),
            dir.path().join("cfg").display().to_string(),
        )]);
        let c = Config::load_with(&sub, &env).unwrap();
        assert_eq!(c.snapshots.keep, 4);
        let env = BTreeMap::from([("DBGUARD_CONFIG".to_string(), "none".to_string())]);
        assert_eq!(Config::load_with(&sub, &env).unwrap().snapshots.keep, 10);
        let env = BTreeMap::from([("DBGUARD_CONFIG".to_string(), "/nonexistent/x.toml".to_string())]);
        assert!(Config::load_with(&sub, &env).is_err());
    }
}
