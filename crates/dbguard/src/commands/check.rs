//! `dbguard check`: analyze one shell command (default) or SQL text and say what it
//! would destroy and where. Exit 0 when nothing destructive is found, 3 when something is.

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;
use dbguard_core::redact::Secrets;
use dbguard_core::{analyze, Dialect, Operation};
use serde::Serialize;

use crate::fs_lookup::FsLookup;
use crate::report;
use crate::target::{resolve, ResolveRequest, ResolvedTarget};

#[derive(clap::Args)]
pub struct Args {
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// The text is SQL, not a shell command.
    #[arg(long)]
    sql: bool,
    /// SQL dialect (with --sql).
    #[arg(long, value_enum, default_value = "postgres")]
    dialect: DialectArg,
    /// Working directory the command would run in (for .env files, package.json, psql -f).
    #[arg(long)]
    cwd: Option<PathBuf>,
    /// Database URL to assume when the command names none.
    #[arg(long)]
    url: Option<String>,
    /// The command (or SQL). Several words are joined with spaces; `-` reads stdin.
    #[arg(required = true, allow_hyphen_values = true, trailing_var_arg = true)]
    text: Vec<String>,
}

#[derive(clap::ValueEnum, Clone, Copy)]
pub enum DialectArg {
    Postgres,
    Sqlite,
    Mysql,
}

impl From<DialectArg> for Dialect {
    fn from(d: DialectArg) -> Dialect {
        match d {
            DialectArg::Postgres => Dialect::Postgres,
            DialectArg::Sqlite => Dialect::Sqlite,
            DialectArg::Mysql => Dialect::Mysql,
        }
    }
}

#[derive(Serialize)]
struct CheckReport<'a> {
    destructive: bool,
    input: String,
    findings: Vec<report::FindingJson<'a>>,
    target: Option<&'a ResolvedTarget>,
    environment: Option<&'static str>,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let text = if args.text.len() == 1 && args.text[0] == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).context("reading stdin")?;
        s
    } else {
        args.text.join(" ")
    };
    let cwd = match args.cwd {
        Some(c) => c,
        None => std::env::current_dir().context("reading the current directory")?,
    };
    let lookup = FsLookup::new(&cwd);
    let op = if args.sql {
        Operation::Sql {
            text: &text,
            dialect: args.dialect.into(),
        }
    } else {
        Operation::Shell(&text)
    };
    let analysis = analyze(&op, &lookup);
    let destructive = analysis.is_destructive();
    let secrets = if args.sql {
        Secrets::default()
    } else {
        Secrets::of(&text)
    };

    // Which database: only worth resolving when there is something to say about it.
    let target = if destructive || args.json {
        let hint = analysis.targets.first().cloned();
        resolve(&ResolveRequest::from_process(args.url.clone(), cwd.clone(), hint))
            .ok()
            .map(|mut t| {
                t.hide_secrets(&secrets);
                t
            })
    } else {
        None
    };

    if args.json {
        let rep = CheckReport {
            destructive,
            input: secrets.redact(&text),
            findings: analysis.findings.iter().map(report::FindingJson::from).collect(),
            environment: target.as_ref().map(|t| t.environment.as_str()),
            target: target.as_ref(),
        };
        crate::output::print_json(&rep)?;
    } else if destructive {
        print!("{}", report::render_findings(&analysis.findings, target.as_ref()));
        println!();
        let next = match target.as_ref().and_then(|t| t.resource.as_ref()) {
            Some(r) if !args.sql => report::next_step_without_snapshot(&text, args.url.as_deref(), &r.safeguard),
            _ => report::next_step_for_check(&text, args.url.as_deref(), args.sql),
        };
        println!("{}", secrets.mask(&next));
        if let Some(a) = crate::migrate::doors::alternative_for(&analysis.findings) {
            println!("Safe alternative: {a}.");
        }
    } else {
        println!("ok: nothing destructive found");
        if !args.sql && crate::migrate::doors::runs_prisma_migrate_dev(&text) {
            println!("note: {}", crate::migrate::doors::migrate_dev_advice());
        }
    }
    Ok(if destructive {
        crate::exit::BLOCKED
    } else {
        crate::exit::OK
    })
}
