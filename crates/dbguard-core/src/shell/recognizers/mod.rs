//! The registry of tool recognizers. Each tool lives in its own file and exports one
//! `RECOGNIZER`; adding a tool means adding a file and a line in [`REGISTRY`].
//!
//! A recognizer sees one simple command after wrappers were peeled off (`npx`, `sudo`,
//! `bundle exec`...): its program name, its operands, the inline environment, and what
//! its standard input carries. Its decision is a pure function of those; the only outside
//! facts (a file named by `-f`, the header of a file `rm` would delete) come through the
//! [`Lookup`] it is handed.

use crate::finding::{Finding, FindingKind, Scope};
use crate::lookup::Lookup;
use crate::sql::{analyze_sql, Dialect};
use crate::target::{Engine, TargetHint};

use super::parse::Word;
use super::words::{Args, Spec};

pub mod alembic;
pub mod atlas;
pub mod aws;
pub mod azure;
pub mod cloud;
pub mod convex;
pub mod data_tree;
pub mod diesel;
pub mod django;
pub mod docker;
pub mod doctl;
pub mod dotnet_ef;
pub mod drizzle;
pub mod ecto;
pub mod files;
pub mod firebase;
pub mod fly;
pub mod flyway;
pub mod gcloud;
pub mod git;
pub mod go_migrations;
pub mod guard_settings;
pub mod heroku;
pub mod http_api;
pub mod inline_code;
pub mod jvm_build;
pub mod knex;
pub mod kubernetes;
pub mod laravel;
pub mod liquibase;
pub mod mikroorm;
pub mod mongo;
pub mod mysql_cli;
pub mod neon;
pub mod pg_cluster;
pub mod postgres_cli;
pub mod prisma;
pub mod pscale;
pub mod pulumi;
pub mod rails;
pub mod railway;
pub mod redis;
pub mod rsync;
pub mod script_file;
pub mod seeds;
pub mod sequelize;
pub mod sqlite_cli;
pub mod sqlx;
pub mod supabase;
pub mod terraform;
pub mod turso;
pub mod typeorm;
pub mod wrangler;

/// What a command's standard input carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Nothing redirected: an interactive terminal (a human at a prompt).
    Terminal,
    /// Known text: a heredoc, a here-string, a readable file, `echo ... |`.
    Text(String),
    /// The output of `pg_dump` (with `--clean`: it drops what it restores).
    PgDump { clean: bool },
    /// Something we cannot know: why (e.g. "the output of `curl ...`").
    Unknown(String),
}

/// One simple command as a recognizer sees it.
pub struct Invocation<'a> {
    /// The program's base name as typed (`psql`, `rails`, `manage.py`...).
    pub program: &'a str,
    /// Words after the program.
    pub args: &'a [Word],
    /// Inline `VAR=value` assignments in force for this command, outermost first.
    pub env: &'a [(String, String)],
    pub stdin: &'a Input,
    /// The simple command as written.
    pub statement: &'a str,
    pub lookup: &'a dyn Lookup,
    /// Run by `xargs`: its operands are partly unknown.
    pub via_xargs: bool,
}

impl Invocation<'_> {
    pub fn args(&self, spec: &Spec) -> Args {
        Args::parse(self.args, spec)
    }

    /// A finding attributed to this command.
    pub fn finding(
        &self,
        tool: &str,
        kind: FindingKind,
        object: Option<String>,
        detail: String,
        scope: Scope,
    ) -> Finding {
        Finding::new(kind, object, detail, scope)
            .with_tool(tool)
            .with_statement(self.statement, None)
    }

    pub fn env_var(&self, name: &str) -> Option<&str> {
        self.env.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Findings for SQL this command would run. SQL findings keep their own statement
    /// and location; they are attributed to the tool.
    pub fn sql(&self, tool: &str, text: &str, dialect: Dialect) -> Vec<Finding> {
        analyze_sql(text, dialect)
            .into_iter()
            .map(|mut f| {
                if f.tool.is_none() {
                    f.tool = Some(tool.to_string());
                }
                if f.statement.is_none() {
                    f.statement = Some(self.statement.to_string());
                }
                f.detail = format!("{} (via {tool})", f.detail.trim_end_matches('.'));
                f
            })
            .collect()
    }

    /// SQL that comes from a source we cannot read.
    pub fn unknown(&self, tool: &str, why: String) -> Finding {
        self.finding(tool, FindingKind::Unknown, None, why, Scope::Database)
    }

    /// SQL findings for what the command reads on standard input.
    /// `prepare` turns client text into SQL (psql meta-commands, sqlite dot-commands) and
    /// may add findings of its own.
    pub fn stdin_sql(&self, tool: &str, dialect: Dialect, prepare: Prepare) -> Vec<Finding> {
        match self.stdin {
            Input::Terminal => Vec::new(),
            Input::Text(t) => self.client_sql(tool, t, dialect, prepare),
            Input::PgDump { clean: false } => Vec::new(),
            Input::PgDump { clean: true } => vec![self.finding(
                tool,
                FindingKind::ResetDatabase,
                None,
                format!("{tool} replays a pg_dump --clean script, which drops every object it restores"),
                Scope::Database,
            )],
            Input::Unknown(why) => {
                vec![self.unknown(
                    tool,
                    format!("{tool} runs SQL from {why}, which cannot be known in advance"),
                )]
            }
        }
    }

    /// Findings for client input text (SQL plus client commands).
    pub fn client_sql(&self, tool: &str, text: &str, dialect: Dialect, prepare: Prepare) -> Vec<Finding> {
        let (sql, mut extra) = prepare(self, tool, text);
        let mut out = self.sql(tool, &sql, dialect);
        out.append(&mut extra);
        out
    }

    /// Read a file named on the command line; `Err` is an Unknown finding.
    pub fn read(&self, tool: &str, path: &str, dynamic: bool) -> Result<String, Box<Finding>> {
        if dynamic {
            return Err(Box::new(self.unknown(
                tool,
                format!("{tool} runs SQL from a file named at run time ({path})"),
            )));
        }
        self.lookup.read_file(path).ok_or_else(|| {
            Box::new(self.unknown(tool, format!("{tool} runs SQL from {path}, which could not be read")))
        })
    }
}

/// Client text -> (SQL, findings about client commands such as `\\!`).
pub type Prepare = fn(&Invocation, &str, &str) -> (String, Vec<Finding>);

/// For clients whose input is plain SQL.
pub fn plain_sql(_: &Invocation, _: &str, text: &str) -> (String, Vec<Finding>) {
    (text.to_string(), Vec::new())
}

/// What a recognizer decided about one command.
#[derive(Debug, Default)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    /// The target the command names itself; `None` when the command is not a database
    /// command at all (`rm notes.txt`). Tool, engine and env are filled in by the caller.
    pub hint: Option<TargetHint>,
}

impl Outcome {
    pub fn db(findings: Vec<Finding>, hint: TargetHint) -> Outcome {
        Outcome {
            findings,
            hint: Some(hint),
        }
    }
}

pub type RecognizeFn = fn(&Invocation) -> Outcome;

pub struct Recognizer {
    /// Tool name used in findings and hints.
    pub tool: &'static str,
    /// Program names (base names) this recognizer handles.
    pub programs: &'static [&'static str],
    pub engine: Option<Engine>,
    /// Whether running it with operands we cannot see (`xargs`) may destroy data.
    pub destructive_potential: bool,
    pub recognize: RecognizeFn,
}

/// Program name -> recognizer. One line per tool.
pub static REGISTRY: &[&Recognizer] = &[
    &prisma::RECOGNIZER,
    &drizzle::RECOGNIZER,
    &typeorm::RECOGNIZER,
    &sequelize::RECOGNIZER,
    &knex::RECOGNIZER,
    &mikroorm::RECOGNIZER,
    &rails::RECOGNIZER,
    &django::RECOGNIZER,
    &alembic::RECOGNIZER,
    &laravel::RECOGNIZER,
    &supabase::RECOGNIZER,
    &flyway::RECOGNIZER,
    &jvm_build::RECOGNIZER,
    &liquibase::RECOGNIZER,
    &diesel::RECOGNIZER,
    &sqlx::RECOGNIZER,
    &atlas::RECOGNIZER,
    &postgres_cli::RECOGNIZER,
    &postgres_cli::DROPDB,
    &postgres_cli::PG_RESTORE,
    &mysql_cli::RECOGNIZER,
    &mysql_cli::MYSQLADMIN,
    &sqlite_cli::RECOGNIZER,
    &files::RECOGNIZER,
    &docker::RECOGNIZER,
    &mongo::RECOGNIZER,
    &redis::RECOGNIZER,
    &inline_code::RECOGNIZER,
    // Cloud and infrastructure tools, files and volumes, more migration tools.
    &aws::RECOGNIZER,
    &gcloud::RECOGNIZER,
    &azure::RECOGNIZER,
    &terraform::RECOGNIZER,
    &pulumi::RECOGNIZER,
    &heroku::RECOGNIZER,
    &fly::RECOGNIZER,
    &railway::RECOGNIZER,
    &http_api::RECOGNIZER,
    &neon::RECOGNIZER,
    &firebase::RECOGNIZER,
    &convex::RECOGNIZER,
    &doctl::RECOGNIZER,
    &turso::RECOGNIZER,
    &wrangler::RECOGNIZER,
    &pscale::RECOGNIZER,
    &kubernetes::KUBECTL,
    &kubernetes::HELM,
    &rsync::RECOGNIZER,
    &git::RECOGNIZER,
    &pg_cluster::RECOGNIZER,
    &ecto::RECOGNIZER,
    &dotnet_ef::RECOGNIZER,
    &go_migrations::GOOSE,
    &go_migrations::DBMATE,
    &go_migrations::MIGRATE,
];

pub fn find(program: &str) -> Option<&'static Recognizer> {
    // `python3`, `python3.12`, `pypy3`: one recognizer for every Python.
    let program = if program.starts_with("python") || program.starts_with("pypy") || program == "py" {
        "python"
    } else {
        program
    };
    REGISTRY.iter().copied().find(|r| r.programs.contains(&program))
}

/// A program name that belongs to a database tool (used to fail closed on text that does
/// not parse, or on commands whose name is computed at run time). File tools, docker,
/// build tools and interpreters are general-purpose, not database tools.
pub fn is_db_program(name: &str) -> bool {
    find(name)
        .is_some_and(|r| !matches!(r.tool, "rm" | "docker" | "code" | "build") && !GENERAL_TOOLS.contains(&r.tool))
}

/// Recognized tools that are not database tools (cloud CLIs, infrastructure, file
/// syncing, version control): mentioning them is no reason to fail closed.
const GENERAL_TOOLS: &[&str] = &[
    "aws",
    "gcloud",
    "az",
    "terraform",
    "pulumi",
    "heroku",
    "fly",
    "railway",
    "wrangler",
    "kubectl",
    "helm",
    "curl",
    "git",
    "rsync",
    "mix",
    "dotnet",
];

/// Shared shape for hints from `-h -p -U -d` style flags.
pub fn hint_from(args: &Args, host: &[&str], port: &[&str], user: &[&str], db: &[&str]) -> TargetHint {
    TargetHint {
        host: args.value(host).map(str::to_string),
        port: args.value(port).map(str::to_string),
        user: args.value(user).map(str::to_string),
        dbname: args.value(db).map(str::to_string),
        ..TargetHint::default()
    }
}

/// Whether a string looks like a connection URL.
pub fn is_url(s: &str) -> bool {
    s.split_once("://").is_some_and(|(scheme, _)| {
        !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == ':')
    })
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;
    use crate::lookup::MapLookup;
    use crate::shell::parse::parse;

    /// Run one recognizer on a command line (program first) with no stdin.
    pub fn run(r: &Recognizer, line: &str) -> Vec<FindingKind> {
        run_with(r, line, &MapLookup::default(), &Input::Terminal)
            .findings
            .iter()
            .map(|f| f.kind)
            .collect()
    }

    /// The finding kinds of one recognizer on a command line, with these files.
    pub fn kinds_with(r: &Recognizer, line: &str, lookup: &MapLookup) -> Vec<FindingKind> {
        run_with(r, line, lookup, &Input::Terminal)
            .findings
            .iter()
            .map(|f| f.kind)
            .collect()
    }

    /// The bytes of a small SQLite file: its header, padded to one page.
    pub fn sqlite_bytes() -> Vec<u8> {
        let mut b = b"SQLite format 3\0".to_vec();
        b.resize(4096, 0);
        b
    }

    pub fn run_with(r: &Recognizer, line: &str, lookup: &MapLookup, stdin: &Input) -> Outcome {
        let parsed = parse(line);
        let Some(crate::shell::parse::Command::Simple(sc)) =
            parsed.script.pipelines.first().and_then(|p| p.commands.first())
        else {
            return Outcome::default();
        };
        let program = crate::shell::words::basename(&sc.words[0].text).to_string();
        let inv = Invocation {
            program: &program,
            args: &sc.words[1..],
            env: &[],
            stdin,
            statement: &sc.text,
            lookup,
            via_xargs: false,
        };
        (r.recognize)(&inv)
    }
}
