//! `dbguard lint`: SQL files and migration folders (Prisma, Drizzle, plain) checked
//! for data-losing statements, with row counts from a live database when `--url`
//! is given. Exit 3 when a destructive finding remains that no
//! `-- dbguard:allow <kind> <reason>` comment accepts.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;
use dbguard_core::redact::redact_text;
use dbguard_core::sql::{accepted, analyze_sql};
use dbguard_core::{Dialect, Finding};
use serde::Serialize;

use crate::commands::check::DialectArg;
use crate::impact::{self, Impact};
use crate::report::{self, FindingJson};

#[derive(clap::Args)]
pub struct Args {
    /// Print JSON (same as --format json).
    #[arg(long)]
    json: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Measure each finding's impact on this live database (row estimates).
    #[arg(long)]
    url: Option<String>,
    /// Exact row counts instead of estimates (under a statement timeout).
    #[arg(long)]
    exact: bool,
    /// SQL dialect of the files.
    #[arg(long, value_enum, default_value = "postgres")]
    dialect: DialectArg,
    /// SQL files and folders (searched recursively for *.sql).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
}

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
enum Format {
    Text,
    Json,
    Github,
    Sarif,
}

struct FileFinding {
    file: String,
    finding: Finding,
    accepted: Option<String>,
    impact: Option<Impact>,
}

#[derive(Serialize)]
struct LintJson<'a> {
    files: usize,
    destructive: bool,
    findings: Vec<LintFindingJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    database: Option<String>,
}

#[derive(Serialize)]
struct LintFindingJson<'a> {
    file: &'a str,
    #[serde(flatten)]
    finding: FindingJson<'a>,
    accepted: bool,
    accepted_reason: Option<&'a str>,
    impact: Option<&'a Impact>,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let format = if args.json { Format::Json } else { args.format };
    let dialect: Dialect = args.dialect.into();
    let files = collect_files(&args.paths)?;
    let mut results: Vec<FileFinding> = Vec::new();
    for (file, found) in files.iter().zip(analyze_files(&files, dialect)?) {
        let name = file.display().to_string();
        for (finding, reason) in found {
            results.push(FileFinding {
                file: name.clone(),
                finding,
                accepted: reason,
                impact: None,
            });
        }
    }

    let mut database = None;
    if let Some(url) = &args.url {
        let measured = impact::measure_findings(url, results.iter().map(|r| &r.finding), args.exact)?;
        database = Some(measured.database_display.clone());
        for (r, imp) in results.iter_mut().zip(measured.impacts) {
            r.impact = imp;
        }
    }

    let destructive = results.iter().any(|r| r.accepted.is_none());
    match format {
        Format::Text => print_text(&files, &results, database.as_deref()),
        Format::Json => {
            let out = LintJson {
                files: files.len(),
                destructive,
                database,
                findings: results
                    .iter()
                    .map(|r| LintFindingJson {
                        file: &r.file,
                        finding: FindingJson::from(&r.finding),
                        accepted: r.accepted.is_some(),
                        accepted_reason: r.accepted.as_deref(),
                        impact: r.impact.as_ref(),
                    })
                    .collect(),
            };
            crate::output::print_json(&out)?;
        }
        Format::Github => print_github(&results),
        Format::Sarif => crate::output::print_json(&sarif(&results))?,
    }
    Ok(if destructive {
        crate::exit::BLOCKED
    } else {
        crate::exit::OK
    })
}

/// One file's findings, each with the reason of the directive that accepts it.
type FileResult = Vec<(Finding, Option<String>)>;

fn analyze_file(file: &Path, dialect: Dialect) -> anyhow::Result<FileResult> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let findings = analyze_sql(&text, dialect);
    let reasons = accepted(&text, dialect, &findings);
    Ok(findings.into_iter().zip(reasons).collect())
}

/// Every file analyzed, in the order given, spread over the machine's cores: files are
/// independent and the analysis is pure, so a migration folder lints in about 1/cores of the
/// time. The first error in file order is the one reported.
fn analyze_files(files: &[PathBuf], dialect: Dialect) -> anyhow::Result<Vec<FileResult>> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(files.len());
    if workers <= 1 {
        return files.iter().map(|f| analyze_file(f, dialect)).collect();
    }
    let next = AtomicUsize::new(0);
    let mut slots: Vec<Option<anyhow::Result<FileResult>>> = files.iter().map(|_| None).collect();
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let mut handles = Vec::with_capacity(workers);
        for _ in 0..workers {
            let work = || {
                let mut done = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(file) = files.get(i) else { break };
                    done.push((i, analyze_file(file, dialect)));
                }
                done
            };
            // The main thread's stack size: deeply nested SQL recurses in the parser and analyzer.
            let spawned = std::thread::Builder::new()
                .stack_size(8 << 20)
                .spawn_scoped(scope, work);
            handles.push(spawned.context("starting a lint worker thread")?);
        }
        for h in handles {
            let done = h
                .join()
                .map_err(|_| anyhow::anyhow!("a lint worker stopped unexpectedly"))?;
            for (i, result) in done {
                slots[i] = Some(result);
            }
        }
        Ok(())
    })?;
    slots
        .into_iter()
        .map(|s| s.unwrap_or_else(|| Err(anyhow::anyhow!("a file was left unanalyzed"))))
        .collect()
}

/// Every `*.sql` under the given paths, sorted, skipping dependency and VCS folders.
fn collect_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).with_context(|| format!("cannot read {}", p.display()))?;
        if meta.is_dir() {
            walk(p, &mut out)?;
        } else {
            out.push(p.clone());
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok())
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let name = e.file_name();
        let name = name.to_string_lossy();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            if matches!(name.as_ref(), "node_modules" | ".git" | "target" | "vendor") {
                continue;
            }
            walk(&path, out)?;
        } else if name.ends_with(".sql") {
            out.push(path);
        }
    }
    Ok(())
}

fn location(r: &FileFinding) -> String {
    match r.finding.location {
        Some(l) => format!("{}:{}:{}", r.file, l.line, l.column),
        None => r.file.clone(),
    }
}

fn print_text(files: &[PathBuf], results: &[FileFinding], database: Option<&str>) {
    let open = results.iter().filter(|r| r.accepted.is_none()).count();
    let acc = results.len() - open;
    if let Some(db) = database {
        println!("impact measured on {db}");
    }
    for r in results {
        let f = &r.finding;
        let status = if r.accepted.is_some() {
            "accepted"
        } else {
            "destructive"
        };
        let object = f
            .object
            .as_deref()
            .map(|o| format!(" {}", redact_text(o)))
            .unwrap_or_default();
        let cascade = if f.cascade { " (CASCADE)" } else { "" };
        println!(
            "{}: {status}: {}{object}{cascade}",
            location(r),
            report::kind_label(f.kind)
        );
        println!("    {}", redact_text(&f.detail));
        if let Some(imp) = &r.impact {
            println!("    impact: {}", imp.describe());
        }
        if let Some(reason) = &r.accepted {
            println!("    accepted: {reason}");
        }
    }
    println!(
        "{} file{} checked: {open} destructive finding{}, {acc} accepted.",
        files.len(),
        if files.len() == 1 { "" } else { "s" },
        if open == 1 { "" } else { "s" }
    );
    if open > 0 {
        println!(
            "Next step: keep the data (rename instead of drop, copy before changing a type), or, if the loss is \
intended, add `-- dbguard:allow <kind> <reason>` above the statement so reviewers see why."
        );
    }
}

/// GitHub Actions workflow commands: one annotation per finding.
fn print_github(results: &[FileFinding]) {
    for r in results {
        let f = &r.finding;
        let level = if r.accepted.is_some() { "notice" } else { "error" };
        let (line, col) = f.location.map(|l| (l.line, l.column)).unwrap_or((1, 1));
        let mut msg = redact_text(&f.detail);
        if let Some(imp) = &r.impact {
            msg.push_str(&format!(" Impact: {}.", imp.describe()));
        }
        if let Some(reason) = &r.accepted {
            msg.push_str(&format!(" Accepted: {reason}"));
        }
        println!(
            "::{level} file={},line={line},col={col},title=dbguard {}::{}",
            gh_escape_prop(&r.file),
            f.kind.as_str(),
            gh_escape_data(&msg)
        );
    }
}

fn gh_escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn gh_escape_prop(s: &str) -> String {
    gh_escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// SARIF 2.1.0, for code-scanning uploads.
fn sarif(results: &[FileFinding]) -> serde_json::Value {
    let mut kinds: Vec<&'static str> = results.iter().map(|r| r.finding.kind.as_str()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    let rules: Vec<_> = kinds
        .iter()
        .map(|k| {
            serde_json::json!({
                "id": k,
                "name": k,
                "shortDescription": { "text": format!("dbguard: {k}") },
            })
        })
        .collect();
    let res: Vec<_> = results
        .iter()
        .map(|r| {
            let f = &r.finding;
            let (line, col) = f.location.map(|l| (l.line, l.column)).unwrap_or((1, 1));
            let mut text = redact_text(&f.detail);
            if let Some(imp) = &r.impact {
                text.push_str(&format!(" Impact: {}.", imp.describe()));
            }
            let mut v = serde_json::json!({
                "ruleId": f.kind.as_str(),
                "level": if r.accepted.is_some() { "note" } else { "error" },
                "message": { "text": text },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": r.file },
                        "region": { "startLine": line, "startColumn": col }
                    }
                }]
            });
            if let Some(reason) = &r.accepted {
                v["suppressions"] = serde_json::json!([{ "kind": "inSource", "justification": reason }]);
            }
            v
        })
        .collect();
    serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": { "name": "dbguard", "version": env!("CARGO_PKG_VERSION"), "rules": rules } },
            "results": res
        }]
    })
}
