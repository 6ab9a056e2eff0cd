//! `dbguard init --scripts`: the migration workflow as package.json scripts
//! (`npm run db:migrate:new -- add_status`, `db:migrate:plan`, `db:migrate:apply`,
//! `db:migrate:status`, `db:backup`), added next to the project's own scripts without
//! touching them. `init --uninstall` removes exactly the scripts init added, and only
//! while they still say what init wrote; the file comes back byte for byte when nothing
//! else changed.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The scripts, by name, for a `dbguard` command.
pub fn scripts(dbguard: &str) -> Vec<(&'static str, String)> {
    vec![
        ("db:migrate:new", format!("{dbguard} migrate new")),
        ("db:migrate:plan", format!("{dbguard} migrate plan")),
        ("db:migrate:apply", format!("{dbguard} migrate apply")),
        ("db:migrate:status", format!("{dbguard} migrate status")),
        ("db:backup", format!("{dbguard} snapshot")),
    ]
}

/// What init remembers about package.json.
#[derive(Serialize, Deserialize)]
struct State {
    path: PathBuf,
    original: String,
    installed: String,
    /// The scripts init added (name, command).
    added: Vec<(String, String)>,
    /// package.json had no `scripts` object before.
    #[serde(default)]
    created_scripts: bool,
}

fn state_path(pkg: &Path) -> PathBuf {
    let abs = std::path::absolute(pkg).unwrap_or_else(|_| pkg.to_path_buf());
    let key = blake3::hash(abs.to_string_lossy().as_bytes()).to_hex()[..24].to_string();
    crate::config::data_dir()
        .join("init")
        .join(format!("scripts-{key}.json"))
}

fn read(pkg: &Path) -> anyhow::Result<(String, Map<String, Value>)> {
    let text = std::fs::read_to_string(pkg).with_context(|| format!("reading {}", pkg.display()))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| {
        anyhow!(
            "{} is not valid JSON ({e}); fix it and run `dbguard init --scripts` again",
            pkg.display()
        )
    })?;
    match v {
        Value::Object(m) => Ok((text, m)),
        _ => Err(anyhow!("{} does not hold a JSON object", pkg.display())),
    }
}

fn render(m: &Map<String, Value>) -> anyhow::Result<String> {
    let mut s = serde_json::to_string_pretty(&Value::Object(m.clone()))?;
    s.push('\n');
    Ok(s)
}

/// Add the scripts to `<project>/package.json` where there is one. Lines for the report.
pub fn install(project: &Path, dbguard: &str, dry_run: bool) -> anyhow::Result<Vec<String>> {
    let pkg = project.join("package.json");
    if !pkg.is_file() {
        return Ok(vec!["no package.json: --scripts added nothing".into()]);
    }
    let (text, mut m) = read(&pkg)?;
    let created_scripts = !m.contains_key("scripts");
    let scripts = m
        .entry("scripts")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .ok_or_else(|| anyhow!("`scripts` in {} is not an object", pkg.display()))?;
    let mut added = Vec::new();
    let mut lines = Vec::new();
    for (name, cmd) in scripts_for(dbguard) {
        match scripts.get(&name) {
            None => {
                scripts.insert(name.clone(), Value::String(cmd.clone()));
                added.push((name, cmd));
            }
            Some(Value::String(s)) if *s == cmd => {}
            Some(_) => lines.push(format!(
                "package.json already has a `{name}` script of its own: left as it is"
            )),
        }
    }
    if added.is_empty() {
        return Ok(lines);
    }
    let installed = render(&m)?;
    lines.push(format!(
        "package.json: added {}",
        added.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
    ));
    if dry_run {
        return Ok(lines);
    }
    std::fs::write(&pkg, &installed).with_context(|| format!("writing {}", pkg.display()))?;
    // Keep the first original and everything added across repeated installs.
    let sp = state_path(&pkg);
    let (original, mut all_added, created_scripts) = match std::fs::read_to_string(&sp)
        .ok()
        .and_then(|t| serde_json::from_str::<State>(&t).ok())
    {
        Some(prev) => (prev.original, prev.added, prev.created_scripts),
        None => (text, Vec::new(), created_scripts),
    };
    all_added.extend(added);
    let st = State {
        path: pkg.clone(),
        original,
        installed,
        added: all_added,
        created_scripts,
    };
    crate::audit::private_dir(sp.parent().unwrap_or(Path::new(".")))?;
    std::fs::write(&sp, serde_json::to_string_pretty(&st)?).with_context(|| format!("writing {}", sp.display()))?;
    Ok(lines)
}

fn scripts_for(dbguard: &str) -> Vec<(String, String)> {
    scripts(dbguard).into_iter().map(|(n, c)| (n.to_string(), c)).collect()
}

/// Remove the scripts init added (those still unchanged).
pub fn uninstall(project: &Path, dry_run: bool) -> anyhow::Result<Option<String>> {
    let pkg = project.join("package.json");
    let sp = state_path(&pkg);
    let Some(st) = std::fs::read_to_string(&sp)
        .ok()
        .and_then(|t| serde_json::from_str::<State>(&t).ok())
    else {
        return Ok(None);
    };
    let Ok(current) = std::fs::read_to_string(&pkg) else {
        let _ = std::fs::remove_file(&sp);
        return Ok(None);
    };
    let msg = "package.json: removed the db:* scripts dbguard init added".to_string();
    if dry_run {
        return Ok(Some(msg));
    }
    if current == st.installed {
        std::fs::write(&pkg, &st.original).with_context(|| format!("writing {}", pkg.display()))?;
    } else {
        let (_, mut m) = read(&pkg)?;
        if let Some(Value::Object(scripts)) = m.get_mut("scripts") {
            for (name, cmd) in &st.added {
                if scripts.get(name).and_then(|v| v.as_str()) == Some(cmd.as_str()) {
                    scripts.remove(name);
                }
            }
            if scripts.is_empty() && st.created_scripts {
                m.remove("scripts");
            }
        }
        std::fs::write(&pkg, render(&m)?).with_context(|| format!("writing {}", pkg.display()))?;
    }
    let _ = std::fs::remove_file(&sp);
    Ok(Some(msg))
}
