//! Target resolution: which database an operation would hit, why, and in which
//! environment. Does I/O (env files, ORM configs, dbguard.toml); never connects.
//!
//! Order for the connection (first hit wins; `source` records which):
//! 1. `--url` given to dbguard itself. It wins over everything, the command's own
//!    target included, because it is the human saying which database they mean; when
//!    the command names a different one, a warning says so.
//! 2. The command's own target (the core's `TargetHint`): a URL argument, a database
//!    file (sqlite3), psql/mysql `-h -p -U -d` flags (with `PG*` variables filling the
//!    gaps, inline first, then the process environment).
//! 3. By tool:
//!    - libpq tools (psql, pg_dump, dropdb...): `PGHOST`/`PGPORT`/`PGUSER`/`PGDATABASE`/
//!      `PGPASSWORD`, inline then process environment, else libpq's defaults (local
//!      socket, database named after the user). `DATABASE_URL` and `.env` are ignored,
//!      as psql ignores them.
//!    - Prisma: the variable named by the datasource `url = env("X")` (schema.prisma, or
//!      prisma.config.ts for Prisma 7), or its literal URL; looked up inline, then in
//!      the process environment, then in the env files Prisma loads (`.env`,
//!      `prisma/.env`; with a prisma.config.* only what it loads through dotenv).
//!      Relative SQLite `file:` URLs are relative to the schema's directory.
//!    - drizzle-kit: `dbCredentials.url` of drizzle.config.*: `process.env.X` looked up
//!      the same way (env files: what the config loads with dotenv, else `.env`), or
//!      the literal.
//!    - Rails: `config/database.yml`'s block for `RAILS_ENV`/`RACK_ENV`/development
//!      (its primary database when it names several; ERB `ENV[...]` lookups see inline,
//!      process and env-file variables), with `DATABASE_URL` merged over it: when set,
//!      its URL decides (see `rails.rs`). Without a database.yml, `DATABASE_URL` alone.
//!    - Laravel (artisan): `DB_URL`/`DATABASE_URL`, else `DB_CONNECTION` and `DB_*`
//!      (see `laravel.rs`), each inline, then process environment, then the env file.
//!    - everything else (Django, knex, TypeORM, sqlx, diesel...): `DATABASE_URL` inline,
//!      then process environment, then env files (see `envfiles.rs` for each tool's files).
//!    - `dbguard status` (no tool): the project decides (Prisma, then drizzle, then a
//!      Rails app, then a Laravel app, found in the working directory), since its CLI is
//!      what resets databases; otherwise the generic rule, and `PG*` variables as a last
//!      resort.
//! 4. ORM literals (a URL written in drizzle.config / schema.prisma).
//!
//! The command line's own variables (`source .env`, `export`, launchers' env files) arrive
//! in the hint as inline values with their origin; a database that cannot be known (a
//! variable set nowhere, a computed value, another machine) is an unknown target, decided
//! with the strictest environment the configuration knows (see `unknown.rs`).
//!
//! Then the environment (see `classify.rs`), and warnings for the traps seen in real
//! incidents. Everything kept for display is redacted; only `ResolvedTarget::url`
//! is raw, and it is never serialized.

pub mod classify;
pub mod conn;
pub mod drizzle;
pub mod envfiles;
pub mod jsscan;
pub mod laravel;
pub mod prisma;
pub mod rails;
pub mod resource;
pub mod unknown;
pub mod yaml;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use dbguard_core::redact::{redact_text, redact_url};
use dbguard_core::target::{Engine, TargetHint};
use dbguard_core::Environment;
use serde::Serialize;

use crate::config::Config;
use envfiles::EnvFileCache;
use jsscan::ConfigValue;
use prisma::Setting;

/// What to resolve.
#[derive(Debug, Clone, Default)]
pub struct ResolveRequest {
    /// `--url` given to dbguard itself.
    pub cli_url: Option<String>,
    /// Working directory of the command (where `.env` files and ORM configs are looked for).
    pub cwd: PathBuf,
    /// What the command says about its own target.
    pub hint: Option<TargetHint>,
    /// The process environment to use (normally `std::env::vars()`).
    pub env: BTreeMap<String, String>,
    /// Configuration to use; `None` loads dbguard.toml for `cwd` (a malformed file is an error).
    pub config: Option<Config>,
}

impl ResolveRequest {
    pub fn from_process(cli_url: Option<String>, cwd: PathBuf, hint: Option<TargetHint>) -> Self {
        ResolveRequest {
            cli_url,
            cwd,
            hint,
            env: std::env::vars().collect(),
            config: None,
        }
    }
}

/// A resolved database target. `url` is raw and must never be printed: use `display`.
#[derive(Debug, Clone, Serialize)]
pub struct ResolvedTarget {
    #[serde(skip)]
    pub url: Option<String>,
    /// Redacted URL, or the SQLite file path.
    pub display: Option<String>,
    pub engine: Option<Engine>,
    /// Host name, or a socket directory; None for SQLite and for libpq's default socket.
    pub host: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    /// Database name (SQLite: the file name).
    pub database: Option<String>,
    /// SQLite database file, absolute.
    pub file: Option<PathBuf>,
    /// The tool whose rules were followed (`prisma`, `psql`...), "(project)" when inferred.
    pub tool: Option<String>,
    /// Which rule found the URL ("--url", "inline DATABASE_URL", ".env.local: DATABASE_URL"...).
    pub source: String,
    pub environment: Environment,
    /// Which rule decided the environment.
    pub environment_rule: String,
    /// `protected = true` in dbguard.toml.
    pub protected: bool,
    /// `name` of the matching dbguard.toml entry.
    pub name: Option<String>,
    /// Other databases the tool will touch (Prisma's shadowDatabaseUrl, directUrl).
    pub related: Vec<RelatedTarget>,
    /// The dbguard.toml in effect.
    pub config_file: Option<PathBuf>,
    /// Traps noticed on the way (DATABASE_URL in the shell differs from .env, ...). Redacted.
    pub warnings: Vec<String>,
    /// When dbguard's remembered classification raised what the rules say (see `sticky.rs`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remembered: Option<crate::sticky::Override>,
    /// The command names a database held by a provider or a data directory, not a
    /// connection (see `resource.rs`): nothing dbguard can snapshot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<dbguard_core::target::Resource>,
    /// When nothing was found: where dbguard looked, in order (for errors that say so).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub looked_for: Vec<String>,
}

impl ResolvedTarget {
    /// The database as shown to people: its redacted URL or file, else why there is none.
    pub fn shown(&self) -> &str {
        match &self.display {
            Some(d) => d,
            None if self.source.starts_with("unknown:") => "unknown",
            None => "(no database found)",
        }
    }
}

/// A second database named by the same configuration.
#[derive(Debug, Clone, Serialize)]
pub struct RelatedTarget {
    /// `shadowDatabaseUrl`, `directUrl`.
    pub role: String,
    /// Redacted.
    pub display: String,
    pub source: String,
    /// Same database as the main target.
    pub same_as_target: bool,
    /// The raw URL (never serialized or printed), for checks that connect.
    #[serde(skip)]
    pub url: Option<String>,
}

/// The engine a URL (or a file path) implies.
pub fn engine_of(url: &str) -> Option<Engine> {
    let lower = url.trim().to_ascii_lowercase();
    if lower.starts_with("postgres://")
        || lower.starts_with("postgresql://")
        || lower.starts_with("prisma+postgres://")
        || (!lower.contains("://") && (lower.contains("dbname=") || lower.starts_with("host=")))
    {
        Some(Engine::Postgres)
    } else if lower.starts_with("mysql://") || lower.starts_with("mariadb://") {
        Some(Engine::Mysql)
    } else if lower.starts_with("sqlite:")
        || lower.starts_with("file:")
        || lower.ends_with(".db")
        || lower.ends_with(".sqlite")
        || lower.ends_with(".sqlite3")
        || lower.ends_with(".db3")
    {
        Some(Engine::Sqlite)
    } else if lower.starts_with("mongodb://") || lower.starts_with("mongodb+srv://") {
        Some(Engine::Mongo)
    } else if lower.starts_with("redis://") || lower.starts_with("rediss://") {
        Some(Engine::Redis)
    } else {
        None
    }
}

/// Resolve a target. Errors only for a malformed dbguard.toml; "nothing found" is a
/// target with `url: None` and `source: "none found"`.
pub fn resolve(req: &ResolveRequest) -> anyhow::Result<ResolvedTarget> {
    let config = match &req.config {
        Some(c) => c.clone(),
        None => Config::load_with(&req.cwd, &req.env)?,
    };
    let hint = req.hint.clone().unwrap_or_default();
    // The tool runs in another directory (`cd api && ...`, a workspace package).
    let cwd = match &hint.dir {
        Some(d) => normalize(&absolute(&req.cwd).join(d)),
        None => absolute(&req.cwd),
    };
    let mut r = Resolver {
        req,
        cwd: cwd.clone(),
        hint,
        cache: EnvFileCache::new(&cwd),
        warnings: config.warnings.clone(),
        prisma: prisma::load(&cwd),
        drizzle: drizzle::load(&cwd),
        unknown_var: None,
    };
    let mut t = r.run(&config);
    let expanded = &r.hint.vars.expanded;
    if !expanded.is_empty() && (t.source.starts_with("command line") || t.source.starts_with("libpq: -")) {
        // `psql "$DATABASE_URL"` after `source .env`: say where the value came from.
        let from: Vec<String> = expanded.iter().map(|(n, o)| format!("{n}: {o}")).collect();
        t.source = format!("{} ({})", t.source, from.join("; "));
    }
    t.config_file = config.path.clone();
    let mut remembered_warnings = Vec::new();
    // (Not in this crate's unit tests: they resolve with the real data directory.)
    if t.url.is_some() && !cfg!(test) {
        // A database once production or protected stays so until a person lowers it.
        crate::sticky::apply(&mut t);
        remembered_warnings = std::mem::take(&mut t.warnings);
    }
    t.warnings = std::mem::take(&mut r.warnings);
    t.warnings.extend(remembered_warnings);
    t.warnings.extend(r.cache.notes.iter().cloned());
    if let Some(p) = &r.prisma {
        t.warnings.extend(p.notes.iter().cloned());
    }
    if let Some(d) = &r.drizzle {
        t.warnings.extend(d.notes.iter().cloned());
    }
    // Belt and braces: nothing unredacted leaves the resolver except `url`.
    for w in &mut t.warnings {
        *w = redact_text(w);
    }
    t.source = redact_text(&t.source);
    t.environment_rule = redact_text(&t.environment_rule);
    let mut seen = std::collections::HashSet::new();
    t.warnings.retain(|w| seen.insert(w.clone()));
    Ok(t)
}

fn absolute(p: &Path) -> PathBuf {
    if p.as_os_str().is_empty() {
        return std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    }
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    }
}

/// A path as shown to the user: relative to `cwd` when inside it.
pub(crate) fn rel(cwd: &Path, p: &Path) -> String {
    p.strip_prefix(cwd)
        .map(|r| r.display().to_string())
        .unwrap_or_else(|_| p.display().to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Prisma,
    Drizzle,
    Libpq,
    Mysql,
    Sqlite3,
    Rails,
    /// `php artisan` (the shell layer names it `artisan`).
    Laravel,
    /// Tools reading only `.env` (python-dotenv, django-environ, sqlx, diesel).
    DotenvOnly,
    Generic,
}

fn family_of(tool: &str) -> Family {
    let t = tool.rsplit('/').next().unwrap_or(tool).to_ascii_lowercase();
    match t.as_str() {
        "prisma" => Family::Prisma,
        "drizzle-kit" | "drizzle" => Family::Drizzle,
        "psql" | "pg_dump" | "pg_dumpall" | "pg_restore" | "dropdb" | "createdb" | "pgbench" | "vacuumdb"
        | "reindexdb" | "clusterdb" | "pg_isready" | "pg_basebackup" | "pgcli" => Family::Libpq,
        "mysql" | "mariadb" | "mysqldump" | "mysqladmin" | "mariadb-dump" | "mariadb-admin" | "mycli" => Family::Mysql,
        "sqlite3" | "sqlite" | "litecli" => Family::Sqlite3,
        "rails" | "rake" | "bin/rails" => Family::Rails,
        "django" | "django-admin" | "manage.py" | "python" | "python3" | "alembic" | "flask" | "sqlx" | "diesel"
        | "php" => Family::DotenvOnly,
        "artisan" => Family::Laravel,
        _ => Family::Generic,
    }
}

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Layer {
    Inline,
    /// Set on the command line by a launcher or a sourced file (`dotenv -e FILE`).
    Loaded(String),
    Process,
    File(String),
    Fallback(String),
}

struct Found {
    value: String,
    source: String,
    /// Relative SQLite paths are resolved against this directory.
    base: PathBuf,
}

struct Resolver<'a> {
    req: &'a ResolveRequest,
    cwd: PathBuf,
    hint: TargetHint,
    cache: EnvFileCache,
    warnings: Vec<String>,
    prisma: Option<prisma::PrismaProject>,
    drizzle: Option<drizzle::DrizzleProject>,
    /// A variable the target depends on cannot be known (set to a computed value on the
    /// command line, or after something unreadable was sourced): why.
    unknown_var: Option<String>,
}

impl Resolver<'_> {
    fn var(&self, name: &str) -> Option<String> {
        self.hint
            .env_var(name)
            .map(str::to_string)
            .or_else(|| self.inherited(name))
    }

    /// The process environment's value, unless the command line removed it (`unset`,
    /// `env -i`, another machine).
    fn inherited(&self, name: &str) -> Option<String> {
        let v = &self.hint.vars;
        if v.clean || v.removed.iter().any(|r| r == name) {
            return None;
        }
        self.req.env.get(name).cloned()
    }

    /// Why `name` cannot be known, when the command line made it so.
    fn hidden(&self, name: &str) -> Option<String> {
        let v = &self.hint.vars;
        if self.hint.env_var(name).is_some() {
            return None;
        }
        v.unknown_reason(name)
            .map(|why| format!("{name} is set to {why}"))
            .or_else(|| v.opaque.as_ref().map(|o| format!("{name} may be set by {o}")))
    }

    fn run(&mut self, config: &Config) -> ResolvedTarget {
        if let Some(res) = self.hint.resource.clone() {
            if let Some(u) = self.req.cli_url.as_deref().filter(|u| !u.is_empty()) {
                self.warnings.push(format!(
                    "--url {} was given, but the command acts on {} itself, not through a connection",
                    redact_url(u),
                    res.describe()
                ));
            }
            return resource::resolve(&res, &self.hint, config, &self.req.env, &self.cwd);
        }
        let t = self.run_known(config);
        let place = self.hint.place.clone();
        // On another machine, only a URL or host naming the database itself means the same
        // there; the rest (libpq defaults, env files) is that machine's.
        let remote = place
            .as_ref()
            .filter(|p| p.remote && !unknown::names_remote_database(&self.hint))
            .map(|p| {
                format!(
                    "it runs on {}, whose environment and files dbguard cannot read",
                    p.describe()
                )
            });
        let why = self.hint.unknown.clone().or(remote).or_else(|| self.unknown_var.take());
        if let Some(why) = why {
            let mut u = unknown::target(config, &self.hint, &self.req.env, t.tool.clone(), &why, &self.cwd);
            self.warnings.append(&mut u.warnings);
            return u;
        }
        let mut t = t;
        // The names of the place (a container called prod-db) can only raise caution.
        if let Some(d) = place.as_ref().and_then(|p| unknown::place_environment(config, p)) {
            if unknown::rank(d.environment) > unknown::rank(t.environment) {
                t.environment = d.environment;
                t.environment_rule = d.rule;
                t.protected |= d.protected;
                t.name = t.name.or(d.name);
            }
        }
        t
    }

    fn run_known(&mut self, config: &Config) -> ResolvedTarget {
        let explicit_tool = self.hint.tool.clone().filter(|t| !t.is_empty());
        let (family, tool_label) = match &explicit_tool {
            Some(t) => (family_of(t), Some(t.clone())),
            None if self.prisma.is_some() => (Family::Prisma, Some("prisma (project)".to_string())),
            None if self.drizzle.is_some() => (Family::Drizzle, Some("drizzle-kit (project)".to_string())),
            None if rails::is_project(&self.cwd) => (Family::Rails, Some("rails (project)".to_string())),
            None if laravel::is_project(&self.cwd) => (Family::Laravel, Some("artisan (project)".to_string())),
            None => (Family::Generic, None),
        };
        let tool_name = explicit_tool.clone().unwrap_or_else(|| match family {
            Family::Prisma => "prisma".into(),
            Family::Drizzle => "drizzle-kit".into(),
            Family::Rails => "rails".into(),
            Family::Laravel => "artisan".into(),
            _ => "the app".into(),
        });
        let env_files = self.env_files_for(family);
        let orm_setting: Option<Setting> = match family {
            Family::Prisma => self.prisma.as_ref().and_then(|p| p.url.clone()),
            Family::Drizzle => self.drizzle.as_ref().and_then(|d| d.url.clone()),
            _ => None,
        };
        let orm_base = match family {
            Family::Prisma => self
                .prisma
                .as_ref()
                .map(|p| p.base_dir(&self.cwd))
                .unwrap_or_else(|| self.cwd.clone()),
            _ => self.cwd.clone(),
        };
        let var_name = match &orm_setting {
            Some(Setting {
                value: ConfigValue::Env { var, .. },
                ..
            }) => var.clone(),
            _ => "DATABASE_URL".to_string(),
        };
        if let Some(Setting {
            value: ConfigValue::Other,
            origin,
        }) = &orm_setting
        {
            self.warnings.push(format!(
                "{origin} is computed; dbguard cannot follow it and falls back to DATABASE_URL"
            ));
        }
        let var_based = !matches!(family, Family::Libpq | Family::Mysql | Family::Sqlite3);

        let found = self.pick(
            family,
            &env_files,
            orm_setting.as_ref(),
            &orm_base,
            &var_name,
            var_based,
        );
        // Laravel reads DB_* pieces, not one variable: its own warnings come from `pick_laravel`.
        if var_based && family != Family::Laravel {
            self.env_warnings(
                family,
                &tool_name,
                &env_files,
                &var_name,
                orm_setting.as_ref(),
                found.as_ref(),
            );
        }

        let mut t = ResolvedTarget {
            url: None,
            display: None,
            engine: None,
            host: None,
            port: None,
            user: None,
            database: None,
            file: None,
            tool: tool_label,
            source: "none found".into(),
            environment: Environment::Unknown,
            environment_rule: String::new(),
            protected: false,
            name: None,
            related: Vec::new(),
            config_file: None,
            warnings: Vec::new(),
            remembered: None,
            resource: None,
            looked_for: Vec::new(),
        };
        if found.is_none() {
            t.looked_for = self.looked_for(family, &env_files, orm_setting.as_ref(), &var_name, var_based);
        }
        if let Some(f) = &found {
            let parts = parse_parts(&f.value, &f.base, self.hint.engine);
            t.display = Some(match &parts.file {
                Some(p) => p.display().to_string(),
                None => redact_url(&f.value),
            });
            t.url = Some(f.value.clone());
            t.engine = parts.engine;
            t.host = parts.host.clone();
            t.port = parts.port;
            t.user = parts.user.clone();
            t.database = parts.database.clone();
            t.file = parts.file.clone();
            t.source = f.source.clone();
            if family == Family::Prisma {
                self.prisma_related(&mut t, &env_files, &parts);
            }
        }
        let file_str = t.file.as_ref().map(|p| p.display().to_string());
        // Laravel apps set APP_ENV in .env; inline and process values are classify's own rule.
        let app_env_file = if family == Family::Laravel && self.var("APP_ENV").is_none() {
            self.cache.lookup(&env_files, "APP_ENV")
        } else {
            None
        };
        let facts = classify::Facts {
            display: t.display.as_deref(),
            host: t.host.as_deref(),
            port: t.port,
            database: t.database.as_deref(),
            file: file_str.as_deref(),
            is_sqlite: t.engine == Some(Engine::Sqlite),
            found: found.is_some(),
            file_env: app_env_file
                .as_ref()
                .map(|(v, file)| ("APP_ENV", v.as_str(), file.as_str())),
        };
        let c = classify::classify(config, &facts, self.req.hint.as_ref(), &self.req.env);
        self.warnings.extend(classify::trap_warnings(&c, &facts));
        t.environment = c.environment;
        t.environment_rule = c.rule;
        t.protected = c.protected;
        t.name = c.name;
        t
    }

    /// Where `pick` looked, for a target that was not found.
    fn looked_for(
        &self,
        family: Family,
        env_files: &[PathBuf],
        orm: Option<&Setting>,
        var_name: &str,
        var_based: bool,
    ) -> Vec<String> {
        if !var_based {
            return vec!["the command's own connection arguments and flags".into()];
        }
        let mut out = Vec::new();
        if let Some(s) = orm {
            out.push(s.origin.clone());
        }
        match family {
            Family::Rails => out.push("config/database.yml".into()),
            Family::Laravel => out.push("DB_URL, DATABASE_URL and DB_CONNECTION".into()),
            _ => {}
        }
        out.push(format!("{var_name} in the environment"));
        let files: Vec<String> = env_files
            .iter()
            .map(|f| f.strip_prefix(&self.cwd).unwrap_or(f).display().to_string())
            .collect();
        if !files.is_empty() {
            out.push(format!("{var_name} in {} in {}", files.join(", "), self.cwd.display()));
        }
        if family == Family::Generic {
            out.push("PGHOST or PGDATABASE in the environment".into());
        }
        out
    }

    fn env_files_for(&self, family: Family) -> Vec<PathBuf> {
        match family {
            Family::Prisma => self
                .prisma
                .as_ref()
                .map(|p| p.env_files.clone())
                .unwrap_or_else(|| vec![self.cwd.join(".env")]),
            Family::Drizzle => self
                .drizzle
                .as_ref()
                .map(|d| d.env_files.clone())
                .unwrap_or_else(|| vec![self.cwd.join(".env")]),
            Family::Libpq | Family::Mysql | Family::Sqlite3 => Vec::new(),
            Family::Rails => envfiles::rails_order(&self.cwd, Some(&rails::rails_env(|n| self.var(n)).0)),
            Family::Laravel => envfiles::laravel_order(&self.cwd, self.var("APP_ENV").as_deref()),
            Family::DotenvOnly => vec![self.cwd.join(".env")],
            Family::Generic => envfiles::node_order(&self.cwd, self.var("NODE_ENV").as_deref()),
        }
    }

    /// Look a variable up: inline, process environment, env files.
    fn lookup(&mut self, name: &str, files: &[PathBuf]) -> Option<(String, Layer)> {
        if let Some(v) = self.hint.env_var(name) {
            return Some(match self.hint.vars.origin(name) {
                Some(o) => (v.to_string(), Layer::Loaded(o.to_string())),
                None => (v.to_string(), Layer::Inline),
            });
        }
        if let Some(why) = self.hidden(name) {
            self.unknown_var.get_or_insert(why);
            return None;
        }
        if let Some(v) = self.inherited(name) {
            return Some((v, Layer::Process));
        }
        self.cache.lookup(files, name).map(|(v, label)| (v, Layer::File(label)))
    }

    fn describe(name: &str, layer: &Layer, named_by: Option<&str>) -> String {
        let base = match layer {
            Layer::Inline => format!("inline {name}=... on the command line"),
            Layer::Loaded(origin) => format!("{name} from {origin} on the command line"),
            Layer::Process => format!("environment: {name}"),
            Layer::File(f) => format!("{f}: {name}"),
            Layer::Fallback(origin) => format!("{origin}: fallback value of {name}"),
        };
        match named_by {
            Some(o) => format!("{base} (named by {o})"),
            None => base,
        }
    }

    fn pick(
        &mut self,
        family: Family,
        env_files: &[PathBuf],
        orm: Option<&Setting>,
        orm_base: &Path,
        var_name: &str,
        var_based: bool,
    ) -> Option<Found> {
        let cwd = self.cwd.clone();
        let hint_url = self.hint.url.clone().filter(|u| !u.is_empty());
        if let Some(u) = self.req.cli_url.clone().filter(|u| !u.is_empty()) {
            if let Some(h) = hint_url.as_ref().filter(|h| !same_database(h, &u, &cwd)) {
                self.warnings.push(format!(
                    "the command names {} but --url {} was given; dbguard uses --url",
                    redact_url(h),
                    redact_url(&u)
                ));
            }
            return Some(Found {
                value: u,
                source: "--url".into(),
                base: cwd,
            });
        }
        if let Some(u) = hint_url {
            return Some(Found {
                value: u,
                source: "command line: connection URL argument".into(),
                base: cwd,
            });
        }
        if let Some(f) = self.hint.file.clone().filter(|f| !f.is_empty()) {
            return Some(Found {
                value: f,
                source: "command line: database file".into(),
                base: cwd,
            });
        }
        let has_flags = self.hint.host.is_some()
            || self.hint.port.is_some()
            || self.hint.user.is_some()
            || self.hint.dbname.is_some();
        match family {
            Family::Libpq => return Some(self.libpq_url()),
            Family::Mysql if has_flags => return Some(self.mysql_url()),
            Family::Mysql | Family::Sqlite3 => return None,
            _ if has_flags && self.hint.engine == Some(Engine::Postgres) => return Some(self.libpq_url()),
            _ => {}
        }
        if !var_based {
            return None;
        }
        match family {
            Family::Rails => {
                if let Some(decided) = self.pick_rails(env_files) {
                    return decided;
                }
            }
            Family::Laravel => return self.pick_laravel(env_files),
            _ => {}
        }
        let origin = orm.map(|s| s.origin.clone());
        if family == Family::Prisma {
            // Prisma uses a literal datasource URL whatever the environment says.
            if let Some(Setting {
                value: ConfigValue::Literal(u),
                origin,
            }) = orm
            {
                return Some(Found {
                    value: u.clone(),
                    source: format!("{origin} (literal)"),
                    base: orm_base.to_path_buf(),
                });
            }
        }
        if let Some((v, layer)) = self.lookup(var_name, env_files) {
            let source = Self::describe(var_name, &layer, origin.as_deref());
            return Some(Found {
                value: v,
                source,
                base: orm_base.to_path_buf(),
            });
        }
        match orm {
            Some(Setting {
                value: ConfigValue::Literal(u),
                origin,
            }) => {
                return Some(Found {
                    value: u.clone(),
                    source: format!("{origin} (literal)"),
                    base: orm_base.to_path_buf(),
                });
            }
            Some(Setting {
                value:
                    ConfigValue::Env {
                        var,
                        fallback: Some(fb),
                    },
                origin,
            }) => {
                let source = Self::describe(var, &Layer::Fallback(origin.clone()), None);
                return Some(Found {
                    value: fb.clone(),
                    source,
                    base: orm_base.to_path_buf(),
                });
            }
            _ => {}
        }
        if family == Family::Generic && (self.req.env.contains_key("PGHOST") || self.req.env.contains_key("PGDATABASE"))
        {
            return Some(self.libpq_url());
        }
        None
    }

    /// A URL from psql-style flags, `PG*` variables and libpq's defaults.
    fn libpq_url(&mut self) -> Found {
        let mut from = Vec::new();
        let mut hidden: Option<String> = None;
        let mut part = |flag: Option<&String>, flag_name: &str, var: &str| -> Option<String> {
            if let Some(v) = flag.filter(|v| !v.is_empty()) {
                from.push(flag_name.to_string());
                return Some(v.clone());
            }
            if let Some(v) = self.hint.env_var(var) {
                from.push(format!("inline {var}"));
                return Some(v.to_string());
            }
            if !matches!(var, "PGPASSWORD" | "PGUSER") && hidden.is_none() {
                hidden = self.hidden(var);
            }
            if let Some(v) = self.inherited(var) {
                from.push(format!("environment {var}"));
                return Some(v);
            }
            None
        };
        // `psql -d "postgres://..."` or `-d "host=... dbname=..."`: the dbname is a connection string.
        if let Some(d) = self
            .hint
            .dbname
            .as_ref()
            .filter(|d| d.contains("://") || d.contains('='))
        {
            return Found {
                value: d.clone(),
                source: "command line: -d connection string".into(),
                base: self.cwd.clone(),
            };
        }
        let host = part(self.hint.host.as_ref(), "-h", "PGHOST");
        let port = part(self.hint.port.as_ref(), "-p", "PGPORT");
        let user = part(self.hint.user.as_ref(), "-U", "PGUSER");
        let db = part(self.hint.dbname.as_ref(), "-d", "PGDATABASE");
        let password = part(None, "", "PGPASSWORD");
        if let Some(why) = hidden {
            // PGHOST, PGPORT or PGDATABASE may have been set where dbguard cannot see
            // (PGUSER and PGPASSWORD do not change which database it is).
            self.unknown_var.get_or_insert(why);
        }
        let user = user.or_else(|| self.inherited("USER"));
        let mut url = String::from("postgresql://");
        if let Some(u) = &user {
            url.push_str(&pct(u));
            if let Some(p) = &password {
                url.push(':');
                url.push_str(&pct(p));
            }
            url.push('@');
        }
        let socket = match host.as_deref() {
            Some(h) if h.starts_with('/') => Some(h.to_string()),
            Some(h) => {
                if h.contains(':') {
                    url.push_str(&format!("[{h}]"));
                } else {
                    url.push_str(&pct(h));
                }
                None
            }
            None => Some(default_pg_socket()),
        };
        if socket.is_none() {
            if let Some(p) = &port {
                url.push(':');
                url.push_str(p);
            }
        }
        url.push('/');
        if let Some(d) = db.as_ref().or(user.as_ref()) {
            url.push_str(&pct(d));
        }
        if let Some(s) = socket {
            url.push_str("?host=");
            url.push_str(&pct(&s));
            if let Some(p) = &port {
                url.push_str("&port=");
                url.push_str(&pct(p));
            }
        }
        let source = if from.is_empty() {
            "libpq defaults (local socket, database named after the user)".to_string()
        } else {
            format!("libpq: {}", from.join(", "))
        };
        Found {
            value: url,
            source,
            base: self.cwd.clone(),
        }
    }

    /// Rails: database.yml for the environment in effect, with `DATABASE_URL` (or
    /// `<NAME>_DATABASE_URL` for the config Rails names) merged over it. `None` when the
    /// app has no database.yml (the generic `DATABASE_URL` rule then applies);
    /// `Some(None)` when the file decides that nothing can be said.
    fn pick_rails(&mut self, env_files: &[PathBuf]) -> Option<Option<Found>> {
        let (env_name, _) = rails::rails_env(|n| self.var(n));
        let cwd = self.cwd.clone();
        let files = env_files.to_vec();
        let out = rails::read(&cwd, &env_name, &mut |n| self.lookup(n, &files).map(|(v, _)| v))?;
        self.warnings.extend(out.notes.iter().cloned());
        // Rails' environment_url_config: <NAME>_DATABASE_URL, and DATABASE_URL for primary.
        let mut vars = vec![format!("{}_DATABASE_URL", out.name.to_ascii_uppercase())];
        if out.name == "primary" {
            vars.push("DATABASE_URL".into());
        }
        let env_url = vars.iter().find_map(|v| {
            self.lookup(v, &files)
                .filter(|(u, _)| !u.trim().is_empty())
                .map(|(u, l)| (v, u, l))
        });
        if let Some((var, u, layer)) = env_url {
            let value = conn::fill_database(&conn::normalize_scheme(u.trim()), out.database.as_deref());
            match &out.target {
                rails::Target::Url(y) if !same_database(y, &value, &cwd) => self.warnings.push(format!(
                    "{var} ({}) overrides {}, which names {}: Rails uses {var}",
                    redact_url(&value),
                    out.label,
                    redact_url(y)
                )),
                rails::Target::Unknown(why) => self.warnings.push(format!("{why}; {var} decides the database")),
                _ => {}
            }
            return Some(Some(Found {
                value,
                source: format!("{} (merged over {})", Self::describe(var, &layer, None), out.label),
                base: cwd,
            }));
        }
        Some(match out.target {
            rails::Target::Url(u) => Some(Found {
                value: u,
                source: out.label,
                base: cwd,
            }),
            rails::Target::NoBlock => {
                self.warnings.push(format!(
                    "{} has no {env_name} block and DATABASE_URL is not set: Rails has no database for {env_name}",
                    rails::DATABASE_YML
                ));
                None
            }
            rails::Target::Memory => {
                self.warnings
                    .push(format!("{} is an in-memory SQLite database", out.label));
                None
            }
            rails::Target::Unknown(why) => {
                self.warnings
                    .push(format!("{why}; dbguard does not guess which database Rails uses"));
                None
            }
        })
    }

    /// Laravel: `DB_URL`/`DATABASE_URL`, else `DB_CONNECTION` + `DB_*` (see `laravel.rs`),
    /// with a warning for each variable the shell sets differently from the env file.
    fn pick_laravel(&mut self, env_files: &[PathBuf]) -> Option<Found> {
        let cwd = self.cwd.clone();
        let files = env_files.to_vec();
        let out = laravel::resolve(&cwd, &mut |n| self.lookup(n, &files));
        for var in laravel::VARS {
            let (Some(shell), Some((fv, label))) = (self.req.env.get(*var).cloned(), self.cache.lookup(&files, var))
            else {
                continue;
            };
            if shell == fv {
                continue;
            }
            let values = if *var == "DB_PASSWORD" {
                String::new()
            } else {
                format!(" ({} vs {})", redact_url(&shell), redact_url(&fv))
            };
            self.warnings.push(format!(
                "{var} in the shell differs from {label}{values}; artisan uses the shell's value (phpdotenv never overrides a variable already set)"
            ));
        }
        self.warnings.extend(out.notes);
        out.url.map(|value| Found {
            value,
            source: out.source,
            base: cwd,
        })
    }

    fn mysql_url(&self) -> Found {
        let h = &self.hint;
        let mut url = String::from("mysql://");
        if let Some(u) = &h.user {
            url.push_str(&pct(u));
            url.push('@');
        }
        url.push_str(h.host.as_deref().unwrap_or("localhost"));
        if let Some(p) = &h.port {
            url.push(':');
            url.push_str(p);
        }
        url.push('/');
        if let Some(d) = &h.dbname {
            url.push_str(&pct(d));
        }
        Found {
            value: url,
            source: "command line: mysql flags".into(),
            base: self.cwd.clone(),
        }
    }

    /// Warnings about the same variable disagreeing between the shell and env files.
    fn env_warnings(
        &mut self,
        family: Family,
        tool: &str,
        env_files: &[PathBuf],
        var: &str,
        orm: Option<&Setting>,
        found: Option<&Found>,
    ) {
        let cwd = self.cwd.clone();
        // An inline DATABASE_URL that the tool does not read.
        if var != "DATABASE_URL" && self.hint.env_var("DATABASE_URL").is_some() && self.hint.env_var(var).is_none() {
            if let Some(o) = orm {
                self.warnings.push(format!(
                    "the command sets DATABASE_URL inline, but {} reads {var}: the inline value is ignored",
                    o.origin
                ));
            }
        }
        let file_value = self.cache.lookup(env_files, var);
        if let (Some(shell), Some((fv, label))) = (self.req.env.get(var).cloned(), file_value.clone()) {
            if !same_database(&shell, &fv, &cwd) {
                let mut w = format!(
                    "{var} in the shell ({}) differs from {label} ({}); {tool} uses the shell's value (dotenv never overrides a variable already set)",
                    redact_url(&shell),
                    redact_url(&fv)
                );
                if self.hint.env_var(var).is_some() {
                    w.push_str("; this command sets it inline, which wins over both");
                }
                self.warnings.push(w);
            }
        }
        // `.env` not read by this tool but defining the variable differently.
        let dot_env = cwd.join(".env");
        if !env_files.contains(&dot_env) {
            if let (Some(f), Some(env_val)) = (
                found,
                self.cache.file(&dot_env).and_then(|e| e.get(var)).map(str::to_string),
            ) {
                if !same_database(&f.value, &env_val, &cwd) {
                    let why = match family {
                        Family::Prisma => "its prisma.config loads no .env",
                        Family::Drizzle => "its drizzle.config loads another env file",
                        _ => "it does not read .env",
                    };
                    self.warnings.push(format!(
                        "{var} in .env ({}) is not used: {tool} does not load .env here ({why})",
                        redact_url(&env_val)
                    ));
                }
            }
        }
        // `.env.local` vs `.env`.
        let local = self
            .cache
            .file(&cwd.join(".env.local"))
            .and_then(|e| e.get(var))
            .map(str::to_string);
        let plain = self.cache.file(&dot_env).and_then(|e| e.get(var)).map(str::to_string);
        if let (Some(l), Some(p)) = (local, plain) {
            if !same_database(&l, &p, &cwd) {
                let reads = match file_value.as_ref() {
                    Some((_, label)) => format!("{tool} reads {label}"),
                    None => format!("{tool} reads neither"),
                };
                let extra = if family == Family::Prisma {
                    " (the Prisma CLI never reads .env.local; Next.js and Vite apps read it first)"
                } else {
                    ""
                };
                self.warnings.push(format!(
                    "{var} in .env.local ({}) differs from .env ({}); {reads}{extra}",
                    redact_url(&l),
                    redact_url(&p)
                ));
            }
        }
        // Prisma refuses to run when both env files define the variable differently.
        if family == Family::Prisma && env_files.len() >= 2 {
            let a = self
                .cache
                .file(&env_files[0])
                .and_then(|e| e.get(var))
                .map(str::to_string);
            let b = self
                .cache
                .file(&env_files[1])
                .and_then(|e| e.get(var))
                .map(str::to_string);
            if let (Some(a), Some(b)) = (a, b) {
                if a != b {
                    self.warnings.push(format!(
                        "{var} is defined in both {} and {}: the Prisma CLI stops with an env conflict error",
                        rel(&cwd, &env_files[0]),
                        rel(&cwd, &env_files[1])
                    ));
                }
            }
        }
    }

    /// Prisma's shadowDatabaseUrl and directUrl, with the traps they carry.
    fn prisma_related(&mut self, t: &mut ResolvedTarget, env_files: &[PathBuf], main: &UrlParts) {
        let Some(p) = self.prisma.clone() else { return };
        let base = p.base_dir(&self.cwd);
        for (role, setting) in [("shadowDatabaseUrl", &p.shadow_url), ("directUrl", &p.direct_url)] {
            let Some(s) = setting else { continue };
            let (value, source) = match &s.value {
                ConfigValue::Literal(u) => (u.clone(), format!("{} (literal)", s.origin)),
                ConfigValue::Env { var, fallback } => match self.lookup(var, env_files) {
                    Some((v, layer)) => (v, Self::describe(var, &layer, Some(&s.origin))),
                    None => match fallback {
                        Some(fb) => (
                            fb.clone(),
                            Self::describe(var, &Layer::Fallback(s.origin.clone()), None),
                        ),
                        None => {
                            self.warnings
                                .push(format!("{} reads {var}, which is not set anywhere", s.origin));
                            continue;
                        }
                    },
                },
                ConfigValue::Other => continue,
            };
            let parts = parse_parts(&value, &base, None);
            let same = parts.same_database(main);
            let display = match &parts.file {
                Some(f) => f.display().to_string(),
                None => redact_url(&value),
            };
            if role == "shadowDatabaseUrl" && same {
                self.warnings.push(format!(
                    "prisma shadowDatabaseUrl ({source}) is the same database as url ({display}): `prisma migrate dev` resets the shadow database, which would wipe it"
                ));
            }
            if role == "directUrl" && !same {
                self.warnings.push(format!(
                    "prisma directUrl ({display}) is a different database from url: `prisma migrate` commands use directUrl"
                ));
            }
            t.related.push(RelatedTarget {
                role: role.into(),
                display,
                source,
                same_as_target: same,
                url: Some(value),
            });
        }
    }
}

/// The socket directory libpq uses when no host is given.
fn default_pg_socket() -> String {
    ["/var/run/postgresql", "/tmp"]
        .iter()
        .find(|d| Path::new(d).is_dir())
        .map(|d| d.to_string())
        .unwrap_or_else(|| "/tmp".into())
}

/// Percent-encode a URL component (unreserved characters pass).
fn pct(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The pieces of a connection URL that matter for display, matching and identity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UrlParts {
    pub engine: Option<Engine>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub database: Option<String>,
    /// SQLite: the absolute file path.
    pub file: Option<PathBuf>,
}

impl UrlParts {
    /// Same database (engine, host, port, name; SQLite: same file)?
    pub fn same_database(&self, other: &UrlParts) -> bool {
        if self.engine != other.engine {
            return false;
        }
        if let (Some(a), Some(b)) = (&self.file, &other.file) {
            let ca = std::fs::canonicalize(a).unwrap_or_else(|_| a.clone());
            let cb = std::fs::canonicalize(b).unwrap_or_else(|_| b.clone());
            return ca == cb;
        }
        let host = |p: &UrlParts| {
            let h = p.host.clone().unwrap_or_default().to_ascii_lowercase();
            if dbguard_core::environment::is_local_host(&h) {
                "local".to_string()
            } else {
                h
            }
        };
        let default_port = match self.engine {
            Some(Engine::Mysql) => 3306,
            _ => 5432,
        };
        let db = |p: &UrlParts| p.database.clone().or_else(|| p.user.clone()).unwrap_or_default();
        host(self) == host(other)
            && self.port.unwrap_or(default_port) == other.port.unwrap_or(default_port)
            && db(self) == db(other)
    }
}

fn same_database(a: &str, b: &str, base: &Path) -> bool {
    a == b || parse_parts(a, base, None).same_database(&parse_parts(b, base, None))
}

/// Split a connection string into its parts. Never fails: unknown parts stay None.
pub fn parse_parts(url: &str, base: &Path, engine_hint: Option<Engine>) -> UrlParts {
    let url = url.trim();
    let engine = engine_of(url).or(engine_hint);
    let mut parts = UrlParts {
        engine,
        ..Default::default()
    };
    match engine {
        Some(Engine::Sqlite) => {
            if let Some(p) = sqlite_path(url) {
                let path = if p.is_absolute() { p } else { base.join(p) };
                let path = normalize(&path);
                parts.database = path.file_name().map(|n| n.to_string_lossy().into_owned());
                parts.file = Some(path);
            }
        }
        Some(Engine::Postgres) if !url.to_ascii_lowercase().starts_with("prisma+") => {
            match crate::engine::pg_connect::parse_config(url) {
                Ok(c) => {
                    parts.host = c.get_hosts().first().map(|h| match h {
                        tokio_postgres::config::Host::Tcp(s) => s.clone(),
                        #[cfg(unix)]
                        tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
                    });
                    parts.port = c.get_ports().first().copied();
                    parts.user = c.get_user().map(str::to_string);
                    parts.database = c.get_dbname().map(str::to_string);
                }
                Err(_) => generic_url_parts(url, &mut parts),
            }
        }
        _ => generic_url_parts(url, &mut parts),
    }
    parts
}

fn generic_url_parts(url: &str, parts: &mut UrlParts) {
    if let Ok(u) = url::Url::parse(url) {
        parts.host = u.host_str().filter(|h| !h.is_empty()).map(str::to_string);
        parts.port = u.port();
        parts.user = Some(u.username().to_string()).filter(|s| !s.is_empty());
        let db = u.path().trim_start_matches('/');
        parts.database = (!db.is_empty()).then(|| db.to_string());
    }
}

/// The file named by an SQLite URL: `file:./dev.db`, `file:///abs.db`, `sqlite:///abs.db`,
/// `sqlite://rel.db`, `sqlite:rel.db`, or a bare path; query strings dropped.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let no_query = url.split('?').next().unwrap_or(url);
    let lower = no_query.to_ascii_lowercase();
    let rest = if lower.starts_with("sqlite3://") || lower.starts_with("sqlite://") {
        let r = &no_query[no_query.find("://")? + 3..];
        // sqlite:////abs and sqlite:///abs: absolute; sqlite://rel: relative.
        if let Some(abs) = r.strip_prefix('/') {
            if abs.starts_with('/') {
                abs
            } else {
                r
            }
        } else {
            r
        }
    } else if lower.starts_with("file://") {
        &no_query[7..]
    } else if lower.starts_with("sqlite:") || lower.starts_with("file:") {
        &no_query[no_query.find(':')? + 1..]
    } else {
        no_query
    };
    if rest.is_empty() || rest == ":memory:" {
        return None;
    }
    Some(PathBuf::from(rest))
}

/// Remove `.` and `..` components without touching the file system.
pub(crate) fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

impl ResolvedTarget {
    /// Mask an operation's command-line secrets wherever they landed in what is shown (a
    /// `mysql --password NAME` makes NAME the database); `url` keeps its raw value for connecting.
    pub fn hide_secrets(&mut self, secrets: &dbguard_core::redact::Secrets) {
        if secrets.is_empty() {
            return;
        }
        for f in [&mut self.display, &mut self.host, &mut self.user, &mut self.database] {
            if let Some(v) = f.as_mut() {
                *v = secrets.mask(v);
            }
        }
        self.source = secrets.mask(&self.source);
        self.environment_rule = secrets.mask(&self.environment_rule);
        for w in &mut self.warnings {
            *w = secrets.mask(w);
        }
        for r in &mut self.related {
            r.display = secrets.mask(&r.display);
            r.source = secrets.mask(&r.source);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(dir: &Path, env: &[(&str, &str)], hint: Option<TargetHint>) -> ResolveRequest {
        ResolveRequest {
            cli_url: None,
            cwd: dir.to_path_buf(),
            hint,
            env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            config: Some(Config::default()),
        }
    }

    fn tool(t: &str) -> TargetHint {
        TargetHint {
            tool: Some(t.into()),
            ..Default::default()
        }
    }

    #[test]
    fn parts() {
        let p = parse_parts(
            "postgres://app:pw@db.example.com:6543/shop?sslmode=require",
            Path::new("/"),
            None,
        );
        assert_eq!(p.host.as_deref(), Some("db.example.com"));
        assert_eq!(p.port, Some(6543));
        assert_eq!(p.user.as_deref(), Some("app"));
        assert_eq!(p.database.as_deref(), Some("shop"));
        let p = parse_parts("host=/tmp dbname=x user=u", Path::new("/"), None);
        assert_eq!((p.host.as_deref(), p.database.as_deref()), (Some("/tmp"), Some("x")));
        let p = parse_parts("file:./dev.db", Path::new("/proj/prisma"), None);
        assert_eq!(p.file, Some(PathBuf::from("/proj/prisma/dev.db")));
        assert_eq!(sqlite_path("sqlite:///abs/x.db"), Some(PathBuf::from("/abs/x.db")));
        assert_eq!(sqlite_path("sqlite://rel.db"), Some(PathBuf::from("rel.db")));
        assert_eq!(sqlite_path("file:x.db?mode=ro"), Some(PathBuf::from("x.db")));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        let p = parse_parts("mysql://root:pw@127.0.0.1:3307/app", Path::new("/"), None);
        assert_eq!(
            (p.engine, p.port, p.database.as_deref()),
            (Some(Engine::Mysql), Some(3307), Some("app"))
        );
        for junk in ["", "postgres://", "postgres://[::1", "://", "file:", "mysql://%zz@/"] {
            let _ = parse_parts(junk, Path::new("/"), None);
        }
        assert!(same_database(
            "postgres://a:x@localhost/app",
            "postgresql://b@127.0.0.1:5432/app",
            Path::new("/")
        ));
        assert!(!same_database(
            "postgres://localhost/app",
            "postgres://localhost/app_shadow",
            Path::new("/")
        ));
    }

    #[test]
    fn cli_url_wins_and_hint_url_next() {
        let dir = tempfile::tempdir().unwrap();
        let hint = TargetHint {
            url: Some("postgres://u:pw@h1/a".into()),
            ..tool("psql")
        };
        let mut r = req(dir.path(), &[("DATABASE_URL", "postgres://localhost/env")], Some(hint));
        let t = resolve(&r).unwrap();
        assert_eq!(t.source, "command line: connection URL argument");
        assert_eq!(t.display.as_deref(), Some("postgres://u:***@h1/a"));
        r.cli_url = Some("postgres://localhost/cli".into());
        let t = resolve(&r).unwrap();
        assert_eq!(t.source, "--url");
        assert_eq!(t.database.as_deref(), Some("cli"));
        assert!(
            t.warnings.iter().any(|w| w.contains("dbguard uses --url")),
            "{:?}",
            t.warnings
        );
        assert!(!t.warnings.iter().any(|w| w.contains("pw")));
    }

    #[test]
    fn psql_uses_flags_and_pg_vars_not_database_url() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".env"), "DATABASE_URL=postgres://x@envfile/db\n").unwrap();
        let hint = TargetHint {
            host: Some("db.prod.internal".into()),
            dbname: Some("shop".into()),
            env: vec![("PGPASSWORD".into(), "s3cret".into())],
            ..tool("psql")
        };
        let t = resolve(&req(
            dir.path(),
            &[("PGUSER", "alice"), ("DATABASE_URL", "postgres://localhost/x")],
            Some(hint),
        ))
        .unwrap();
        assert_eq!(t.host.as_deref(), Some("db.prod.internal"));
        assert_eq!(t.user.as_deref(), Some("alice"));
        assert_eq!(t.database.as_deref(), Some("shop"));
        assert!(t.url.as_deref().unwrap().contains("s3cret"));
        assert!(!t.display.as_deref().unwrap().contains("s3cret"));
        assert_eq!(t.source, "libpq: -h, environment PGUSER, -d, inline PGPASSWORD");
        assert_eq!(t.environment, Environment::Production);
        // Nothing at all: libpq defaults, a local socket, development.
        let t = resolve(&req(dir.path(), &[("USER", "bob")], Some(tool("psql")))).unwrap();
        assert!(t.source.starts_with("libpq defaults"), "{}", t.source);
        assert_eq!(t.database.as_deref(), Some("bob"));
        assert_eq!(t.environment, Environment::Development);
    }

    #[test]
    fn generic_env_file_precedence() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(".env"),
            "DATABASE_URL=postgres://u:p1@localhost/from_env\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join(".env.local"),
            "DATABASE_URL=postgres://u:p2@localhost/from_local\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join(".env.production"),
            "DATABASE_URL=postgres://u:p3@localhost/from_prod\n",
        )
        .unwrap();
        let t = resolve(&req(dir.path(), &[], None)).unwrap();
        assert_eq!(t.source, ".env.local: DATABASE_URL");
        assert!(
            t.warnings
                .iter()
                .any(|w| w.contains(".env.local") && w.contains("differs from .env")),
            "{:?}",
            t.warnings
        );
        assert!(
            t.warnings.iter().all(|w| !w.contains("p1") && !w.contains("p2")),
            "{:?}",
            t.warnings
        );
        let t = resolve(&req(dir.path(), &[("NODE_ENV", "test")], None)).unwrap();
        assert_eq!(t.source, ".env: DATABASE_URL");
        // Rails reads .env.<RAILS_ENV>.
        let t = resolve(&req(dir.path(), &[("RAILS_ENV", "production")], Some(tool("rails")))).unwrap();
        assert_eq!(t.source, ".env.local: DATABASE_URL");
        // The shell wins over files, with a warning.
        let t = resolve(&req(
            dir.path(),
            &[("DATABASE_URL", "postgres://localhost/shell")],
            Some(tool("django-admin")),
        ))
        .unwrap();
        assert_eq!(t.source, "environment: DATABASE_URL");
        assert!(
            t.warnings
                .iter()
                .any(|w| w.contains("in the shell") && w.contains("uses the shell's value")),
            "{:?}",
            t.warnings
        );
        // Inline wins over the shell.
        let hint = TargetHint {
            env: vec![("DATABASE_URL".into(), "postgres://localhost/inline".into())],
            ..tool("knex")
        };
        let t = resolve(&req(
            dir.path(),
            &[("DATABASE_URL", "postgres://localhost/shell")],
            Some(hint),
        ))
        .unwrap();
        assert_eq!(t.database.as_deref(), Some("inline"));
    }

    #[test]
    fn prisma_reads_only_dot_env_and_its_variable() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("prisma")).unwrap();
        std::fs::write(
            dir.path().join("prisma/schema.prisma"),
            "datasource db {\n provider = \"postgresql\"\n url = env(\"POSTGRES_URL\")\n shadowDatabaseUrl = env(\"SHADOW\")\n}\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join(".env"),
            "POSTGRES_URL=postgres://u:pw@localhost/app\nSHADOW=postgres://u:pw@127.0.0.1:5432/app\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join(".env.local"),
            "POSTGRES_URL=postgres://u:pw@localhost/other\n",
        )
        .unwrap();
        let hint = TargetHint {
            env: vec![("DATABASE_URL".into(), "postgres://localhost/ignored".into())],
            ..tool("prisma")
        };
        let t = resolve(&req(dir.path(), &[], Some(hint))).unwrap();
        assert_eq!(
            t.source,
            ".env: POSTGRES_URL (named by prisma/schema.prisma: datasource url)"
        );
        assert_eq!(t.database.as_deref(), Some("app"));
        let joined = t.warnings.join("\n");
        assert!(
            joined.contains("shadowDatabaseUrl") && joined.contains("same database"),
            "{joined}"
        );
        assert!(joined.contains("never reads .env.local"), "{joined}");
        assert!(joined.contains("inline value is ignored"), "{joined}");
        assert!(!joined.contains(":pw@"), "{joined}");
        assert_eq!(t.related.len(), 1);
        assert!(t.related[0].same_as_target);
        // Without a tool, status follows the project's ORM.
        let t = resolve(&req(dir.path(), &[], None)).unwrap();
        assert_eq!(t.tool.as_deref(), Some("prisma (project)"));
        assert_eq!(t.database.as_deref(), Some("app"));
    }

    #[test]
    fn prisma_sqlite_literal_is_relative_to_schema() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("prisma")).unwrap();
        std::fs::write(
            dir.path().join("prisma/schema.prisma"),
            "datasource db {\n provider = \"sqlite\"\n url = \"file:./dev.db\"\n}\n",
        )
        .unwrap();
        let t = resolve(&req(
            dir.path(),
            &[("DATABASE_URL", "postgres://localhost/x")],
            Some(tool("prisma")),
        ))
        .unwrap();
        assert_eq!(t.engine, Some(Engine::Sqlite));
        assert_eq!(t.file, Some(dir.path().join("prisma/dev.db")));
        assert_eq!(t.source, "prisma/schema.prisma: datasource url (literal)");
        assert_eq!(t.environment, Environment::Development);
    }

    #[test]
    fn drizzle_env_reference_and_sqlite_hint() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("drizzle.config.ts"),
            "import { config } from 'dotenv'; config({ path: '.env.local' });\nexport default { dialect: 'postgresql', dbCredentials: { url: process.env.DRIZZLE_DB! } }",
        )
        .unwrap();
        std::fs::write(
            dir.path().join(".env.local"),
            "DRIZZLE_DB=postgres://u@ep-x.aws.neon.tech/neondb\n",
        )
        .unwrap();
        let t = resolve(&req(dir.path(), &[], Some(tool("drizzle-kit")))).unwrap();
        assert_eq!(
            t.source,
            ".env.local: DRIZZLE_DB (named by drizzle.config.ts: dbCredentials.url)"
        );
        assert_eq!(t.environment, Environment::Production);
        let hint = TargetHint {
            file: Some("data/app.sqlite".into()),
            ..tool("sqlite3")
        };
        let t = resolve(&req(dir.path(), &[], Some(hint))).unwrap();
        assert_eq!(t.file, Some(dir.path().join("data/app.sqlite")));
        assert_eq!(t.source, "command line: database file");
    }

    #[test]
    fn nothing_found() {
        let dir = tempfile::tempdir().unwrap();
        let t = resolve(&req(dir.path(), &[], None)).unwrap();
        assert!(t.url.is_none());
        assert_eq!(t.source, "none found");
        assert_eq!(t.environment, Environment::Unknown);
        assert_eq!(
            t.looked_for,
            [
                "DATABASE_URL in the environment",
                format!("DATABASE_URL in .env.local, .env in {}", absolute(dir.path()).display()).as_str(),
                "PGHOST or PGDATABASE in the environment"
            ]
        );
    }

    #[test]
    fn dev_env_on_production_host_warns() {
        let dir = tempfile::tempdir().unwrap();
        let t = resolve(&req(
            dir.path(),
            &[
                ("NODE_ENV", "development"),
                ("DATABASE_URL", "postgres://u:pw@x.abc.eu-west-1.rds.amazonaws.com/app"),
            ],
            None,
        ))
        .unwrap();
        assert_eq!(t.environment, Environment::Development);
        assert!(
            t.warnings.iter().any(|w| w.contains("looks like production")),
            "{:?}",
            t.warnings
        );
    }
}
