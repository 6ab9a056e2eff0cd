//! Table-driven corpus for shell-command analysis: every `tests/corpus/commands/*.toml`.
//!
//! Format, one `[[case]]` per command:
//! ```toml
//! [[case]]
//! cmd = "npx prisma migrate reset --force"
//! expect = ["reset_database"]          # kinds found, as a set (order and repeats ignored); [] = none
//! files = { "schema.sql" = "DROP TABLE x;" }   # optional: what Lookup::read_file/file_head see
//! scripts = { "db:reset" = "prisma migrate reset --force" }  # optional: package.json scripts
//! data_dirs = ["pgdata"]               # optional: paths Lookup::is_data_dir says yes to
//! target = { url = "...", dbname = "...", host = "...", port = "...", user = "...", file = "...", tool = "...",
//!            resource = "AWS RDS DB instance shop (profile prod)" }   # resource: as `Resource::describe` says it
//! env = { DATABASE_URL = "..." }       # optional: expected inline variables of the first target
//! project = "node-pg"                  # optional: the files of tests/corpus/projects/node-pg/
//! environment = { PROD_URL = "..." }   # optional: the process environment (Lookup::env_var)
//! workspace = { "packages/api" = "@shop/api" }  # optional: workspace packages (dir = name)
//! note = "why this case exists"
//! ```
//! More target keys: `unknown` (a text the reason contains, or "none"), `place`
//! (`ssh (host prod-db)`), `dir`, `origin.VAR` (where VAR's value came from).
//! All failing cases are reported at once, with file and index.

mod command_cases;

use std::collections::BTreeSet;

use dbguard_core::shell::analyze_command;

#[test]
fn command_corpus() {
    let mut failures = Vec::new();
    let mut total = 0;
    for (name, cases) in command_cases::load() {
        for (i, c) in cases.iter().enumerate() {
            total += 1;
            let lookup = c.lookup();
            let a = analyze_command(&c.cmd, &lookup);
            let got: BTreeSet<String> = a.findings.iter().map(|f| f.kind.as_str().to_string()).collect();
            let want: BTreeSet<String> = c.expect.iter().cloned().collect();
            let mut problems = Vec::new();
            if got != want {
                let details: Vec<String> = a
                    .findings
                    .iter()
                    .map(|f| format!("{}: {}", f.kind.as_str(), f.detail))
                    .collect();
                problems.push(format!("expected {want:?}, got {got:?} {details:?}"));
            }
            for f in &a.findings {
                if f.detail.trim().is_empty() || (f.statement.is_none()) {
                    problems.push(format!("finding {} lacks detail or statement", f.kind.as_str()));
                }
            }
            if !c.target.is_empty() || !c.env.is_empty() {
                match a.targets.first() {
                    None => problems.push("expected a target hint, got none".into()),
                    Some(h) => {
                        for (k, v) in &c.target {
                            let got = match k.as_str() {
                                "url" => h.url.clone(),
                                "dbname" => h.dbname.clone(),
                                "host" => h.host.clone(),
                                "port" => h.port.clone(),
                                "user" => h.user.clone(),
                                "file" => h.file.clone(),
                                "tool" => h.tool.clone(),
                                "engine" => h.engine.map(|e| format!("{e:?}").to_lowercase()),
                                "resource" => h.resource.as_ref().map(|r| r.describe()),
                                "unknown" => match (&h.unknown, v.as_str()) {
                                    (None, "none") => Some(v.clone()),
                                    (Some(why), want) if why.contains(want) => Some(v.clone()),
                                    (other, _) => other.clone().or(Some("none".into())),
                                },
                                "place" => h.place.as_ref().map(|p| p.describe()),
                                "dir" => h.dir.clone(),
                                k if k.starts_with("origin.") => h.vars.origin(&k[7..]).map(str::to_string),
                                other => Some(format!("<unknown target key {other}>")),
                            };
                            if got.as_deref() != Some(v.as_str()) {
                                problems.push(format!("target.{k}: expected {v:?}, got {got:?}"));
                            }
                        }
                        for (k, v) in &c.env {
                            if h.env_var(k) != Some(v.as_str()) {
                                problems.push(format!("env {k}: expected {v:?}, got {:?}", h.env_var(k)));
                            }
                        }
                    }
                }
            }
            if !problems.is_empty() {
                failures.push(format!("{name}[{i}] `{}`:\n    {}", c.cmd, problems.join("\n    ")));
            }
        }
    }
    assert!(total >= 220, "corpus has only {total} command cases");
    assert!(
        failures.is_empty(),
        "{} of {total} command cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    println!("{total} command cases passed");
}
