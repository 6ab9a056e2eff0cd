//! Launchers that load env files before the command runs, and so change its target:
//! `dotenv` (dotenv-cli), `dotenvx run`, `env-cmd` (with `.env-cmdrc`), `cross-env`,
//! `cross-env-shell`. Each follows its tool's precedence between files and the inherited
//! environment; a file that cannot be read makes every variable unknown.

use serde_json::Value;

use super::parse::Word;
use super::words::{arg, join_words, opt_value, shell_quote};
use super::wrappers::Step;
use crate::lookup::Lookup;

/// Variables a launcher loads before the command runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvLoad {
    /// Where they come from, for reports (`dotenv -e .env.production`).
    pub origin: String,
    /// `None`: the file cannot be read, so any variable may be set. A value may be
    /// unknown (`Err`: an encrypted dotenvx value, a `.js` env file).
    pub vars: Option<Vec<(String, Result<String, String>)>>,
    /// The loaded value replaces one the command already has.
    pub overwrite: bool,
}

fn known(vars: Vec<(String, String)>) -> Vec<(String, Result<String, String>)> {
    vars.into_iter().map(|(k, v)| (k, Ok(v))).collect()
}

fn file_load(lookup: &dyn Lookup, path: &str, origin: String, overwrite: bool) -> EnvLoad {
    let vars = if path.ends_with(".json") {
        lookup
            .read_file(path)
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .and_then(|v| json_vars(&v))
    } else if path.ends_with(".js") || path.ends_with(".cjs") || path.ends_with(".mjs") {
        None
    } else {
        lookup.env_file(path).map(known)
    };
    EnvLoad {
        origin,
        vars,
        overwrite,
    }
}

fn json_vars(v: &Value) -> Option<Vec<(String, Result<String, String>)>> {
    Some(
        v.as_object()?
            .iter()
            .map(|(k, v)| {
                let s = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), Ok(s))
            })
            .collect(),
    )
}

/// `dotenv [-e FILE]... [-c [ENV]] [-v K=V]... [-o] [-p VAR] [--] cmd` (dotenv-cli): the
/// first file defining a variable wins, the process environment wins over files unless
/// `-o`; `-v` values win over both.
pub fn dotenv_cli(words: &[Word], lookup: &dyn Lookup) -> Step {
    let mut files: Vec<String> = Vec::new();
    let mut vars: Vec<(String, String)> = Vec::new();
    let mut cascade: Option<Option<String>> = None;
    let mut overwrite = false;
    let mut i = 1;
    while i < words.len() {
        let t = arg(words, i);
        if t == "--" {
            i += 1;
            break;
        }
        if let Some((v, next)) = opt_value(words, i, "-e", "--env-file").filter(|_| t != "-c") {
            files.push(v);
            i = next;
            continue;
        }
        if let Some((v, next)) = opt_value(words, i, "-v", "--variable") {
            if let Some((k, val)) = v.split_once('=') {
                vars.push((k.to_string(), val.to_string()));
            }
            i = next;
            continue;
        }
        match t {
            "-p" => return Step::Nothing,
            "-o" | "--override" => overwrite = true,
            "--debug" | "--quiet" | "--no-expand" => {}
            "-c" => {
                // `-c` takes an optional environment name.
                let next = arg(words, i + 1);
                if !next.is_empty() && !next.starts_with('-') && words.len() > i + 2 {
                    cascade = Some(Some(next.to_string()));
                    i += 1;
                } else {
                    cascade = Some(None);
                }
            }
            _ if t.starts_with('-') => {}
            _ => break,
        }
        i += 1;
    }
    if i >= words.len() {
        return Step::Nothing;
    }
    if files.is_empty() {
        files.push(".env".into());
    }
    let paths: Vec<String> = match &cascade {
        None => files,
        Some(env) => files
            .iter()
            .flat_map(|f| match env {
                Some(e) => vec![
                    format!("{f}.{e}.local"),
                    format!("{f}.local"),
                    format!("{f}.{e}"),
                    f.clone(),
                ],
                None => vec![format!("{f}.local"), f.clone()],
            })
            .collect(),
    };
    let mut loads = Vec::new();
    if !vars.is_empty() {
        loads.push(EnvLoad {
            origin: "dotenv -v".into(),
            vars: Some(known(vars)),
            overwrite: true,
        });
    }
    for p in paths {
        let mut load = file_load(lookup, &p, format!("dotenv -e {p}"), overwrite);
        if cascade.is_some() && load.vars.is_none() {
            // Cascade files are optional: a missing one sets nothing.
            load.vars = Some(Vec::new());
        }
        loads.push(load);
    }
    Step::Env {
        at: i,
        loads,
        shell: None,
    }
}

/// `dotenvx run [-f FILE]... [--overload] [--env K=V] [--convention nextjs|flow] -- cmd`.
pub fn dotenvx(words: &[Word], lookup: &dyn Lookup) -> Step {
    if arg(words, 1) != "run" {
        return Step::Nothing;
    }
    let mut files = Vec::new();
    let mut vars = Vec::new();
    let mut overwrite = false;
    let mut convention = None;
    let mut i = 2;
    while i < words.len() {
        let t = arg(words, i);
        if t == "--" {
            i += 1;
            break;
        }
        if let Some((v, next)) = opt_value(words, i, "-f", "--env-file") {
            files.push(v);
            i = next;
            continue;
        }
        if let Some((v, next)) = opt_value(words, i, "-e", "--env") {
            if let Some((k, val)) = v.split_once('=') {
                vars.push((k.to_string(), val.to_string()));
            }
            i = next;
            continue;
        }
        if let Some((v, next)) = opt_value(words, i, "", "--convention") {
            convention = Some(v);
            i = next;
            continue;
        }
        if let Some((_, next)) = opt_value(words, i, "-fk", "--env-keys-file") {
            i = next;
            continue;
        }
        match t {
            "-o" | "--overload" => overwrite = true,
            _ if t.starts_with('-') => {}
            _ => break,
        }
        i += 1;
    }
    if i >= words.len() {
        return Step::Nothing;
    }
    if files.is_empty() {
        files = match convention.as_deref() {
            Some(_) => {
                let mode = lookup.env_var("NODE_ENV").unwrap_or_else(|| "development".into());
                vec![
                    format!(".env.{mode}.local"),
                    ".env.local".into(),
                    format!(".env.{mode}"),
                    ".env".into(),
                ]
            }
            None => vec![".env".into()],
        };
    }
    let mut loads = vec![EnvLoad {
        origin: "dotenvx run --env".into(),
        vars: Some(known(vars)),
        overwrite: true,
    }];
    for f in files {
        let mut load = file_load(lookup, &f, format!("dotenvx run -f {f}"), overwrite);
        if let Some(vars) = &mut load.vars {
            for (_, v) in vars.iter_mut() {
                if v.as_ref().is_ok_and(|s| s.starts_with("encrypted:")) {
                    *v = Err("encrypted with a key dbguard does not read".into());
                }
            }
        }
        if convention.is_some() && load.vars.is_none() {
            load.vars = Some(Vec::new());
        }
        loads.push(load);
    }
    Step::Env {
        at: i,
        loads,
        shell: None,
    }
}

/// `env-cmd [-f FILE | -r RC -e ENV[,ENV]] [--no-override] [--use-shell] [-x] cmd...`:
/// the file's values override the environment unless `--no-override`.
pub fn env_cmd(words: &[Word], lookup: &dyn Lookup) -> Step {
    let mut file: Option<String> = None;
    let mut rc: Option<String> = None;
    let mut envs: Vec<String> = Vec::new();
    let mut overwrite = true;
    let mut use_shell = false;
    let mut i = 1;
    while i < words.len() {
        let t = arg(words, i);
        if t == "--" {
            i += 1;
            break;
        }
        if let Some((v, next)) = opt_value(words, i, "-f", "--file") {
            file = Some(v);
            i = next;
            continue;
        }
        if let Some((v, next)) = opt_value(words, i, "-r", "--rc-file") {
            rc = Some(v);
            i = next;
            continue;
        }
        if let Some((v, next)) = opt_value(words, i, "-e", "--environments") {
            envs.extend(v.split(',').map(str::to_string));
            i = next;
            continue;
        }
        match t {
            "--no-override" => overwrite = false,
            "--use-shell" => use_shell = true,
            _ if t.starts_with('-') => {}
            _ => break,
        }
        i += 1;
    }
    if i >= words.len() {
        return Step::Nothing;
    }
    let load = if !envs.is_empty() || rc.is_some() {
        let candidates: Vec<String> = match rc {
            Some(r) => vec![r],
            None => vec![".env-cmdrc".into(), ".env-cmdrc.json".into()],
        };
        let parsed = candidates.iter().find_map(|p| {
            lookup
                .read_file(p)
                .map(|t| (p.clone(), serde_json::from_str::<Value>(&t).ok()))
        });
        let vars = match parsed {
            Some((_, Some(v))) => {
                let mut out = Vec::new();
                for e in &envs {
                    out.extend(v.get(e).and_then(json_vars).unwrap_or_default());
                }
                Some(out)
            }
            _ => None,
        };
        EnvLoad {
            origin: format!("env-cmd -e {}", envs.join(",")),
            vars,
            overwrite,
        }
    } else {
        let f = file.unwrap_or_else(|| ".env".into());
        file_load(lookup, &f, format!("env-cmd -f {f}"), overwrite)
    };
    let rest = &words[i..];
    Step::Env {
        at: i,
        loads: vec![load],
        shell: use_shell.then(|| (join_words(rest), rest.iter().any(|w| w.dynamic))),
    }
}

/// `cross-env A=1 cmd`, `cross-env-shell A=1 'cmd && cmd'`.
pub fn cross_env(words: &[Word], shell: bool) -> Step {
    let mut i = 1;
    let mut vars = Vec::new();
    while let Some((k, v)) = arg(words, i).split_once('=').filter(|(k, _)| is_name(k)) {
        vars.push((k.to_string(), v.to_string()));
        i += 1;
    }
    if !shell {
        return Step::Skip(i, vars);
    }
    let rest = &words[i.min(words.len())..];
    // The shell text sees the variables: they become assignments in front of it.
    let prefix: String = vars
        .iter()
        .map(|(k, v)| format!("export {k}={} ; ", shell_quote(v)))
        .collect();
    let text = rest.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ");
    Step::Shell(format!("{prefix}{text}"), rest.iter().any(|w| w.dynamic))
}

fn is_name(k: &str) -> bool {
    k.chars().next().is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && k.chars().all(|c| c == '_' || c.is_ascii_alphanumeric())
}
