//! The workspace a working directory belongs to, read from disk for the core's
//! `Lookup::workspace_packages` (`pnpm --filter api db:reset`, `turbo run`, `nx run`).
//!
//! The root is the nearest directory, walking up, with `pnpm-workspace.yaml`, a
//! package.json `workspaces` field, `lerna.json` or `nx.json`. Its package globs
//! (`packages/*`, `apps/**`, exact paths; `!` exclusions are ignored, which can only add
//! packages) are expanded on disk; nx workspaces without globs use `apps/*`, `libs/*`,
//! `packages/*`. Every directory with a package.json or project.json is a package, named
//! by its `name` field (else its directory name). Paths are relative to the working
//! directory. Bounded: 8 levels up, 4 levels of `**`, 2,000 directories, 500 packages.

use std::path::{Path, PathBuf};

use dbguard_core::lookup::WorkspacePackage;
use serde_json::Value;

const MAX_UP: usize = 8;
const MAX_DIRS: usize = 2_000;
const MAX_PACKAGES: usize = 500;
const MAX_STAR_STAR: usize = 4;

fn read_json(p: &Path) -> Option<Value> {
    let meta = std::fs::metadata(p).ok()?;
    if meta.len() > 4 * 1024 * 1024 {
        return None;
    }
    serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// The globs a directory declares as its workspace, if it is a workspace root.
fn root_globs(dir: &Path) -> Option<Vec<String>> {
    if let Ok(text) = std::fs::read_to_string(dir.join("pnpm-workspace.yaml")) {
        let globs = dbguard_core::config::yaml::parse(&text)
            .ok()
            .and_then(|n| match n.get("packages") {
                Some(dbguard_core::config::yaml::Node::Seq(items)) => Some(
                    items
                        .iter()
                        .filter_map(|i| match i {
                            dbguard_core::config::yaml::Node::Scalar(s) => Some(s.clone()),
                            _ => None,
                        })
                        .collect(),
                ),
                _ => None,
            })
            .unwrap_or_default();
        return Some(globs);
    }
    if let Some(pkg) = read_json(&dir.join("package.json")) {
        let ws = pkg.get("workspaces");
        let globs = match ws {
            Some(Value::Array(_)) => strings(ws),
            Some(Value::Object(o)) => strings(o.get("packages")),
            _ => Vec::new(),
        };
        if !globs.is_empty() {
            return Some(globs);
        }
    }
    if let Some(lerna) = read_json(&dir.join("lerna.json")) {
        let globs = strings(lerna.get("packages"));
        return Some(if globs.is_empty() {
            vec!["packages/*".into()]
        } else {
            globs
        });
    }
    if dir.join("nx.json").is_file() {
        return Some(vec!["apps/*".into(), "libs/*".into(), "packages/*".into()]);
    }
    None
}

/// Directories under `root` matching a glob such as `packages/*` or `apps/**`.
fn expand(root: &Path, glob: &str, out: &mut Vec<PathBuf>, budget: &mut usize) {
    let parts: Vec<&str> = glob
        .trim_start_matches("./")
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    walk(root, &parts, out, budget, 0);
}

fn walk(dir: &Path, parts: &[&str], out: &mut Vec<PathBuf>, budget: &mut usize, stars: usize) {
    if *budget == 0 {
        return;
    }
    let Some((first, rest)) = parts.split_first() else {
        out.push(dir.to_path_buf());
        return;
    };
    if !first.contains('*') {
        let next = dir.join(first);
        if next.is_dir() {
            walk(&next, rest, out, budget, stars);
        }
        return;
    }
    if *first == "**" {
        walk(dir, rest, out, budget, stars);
        if stars >= MAX_STAR_STAR {
            return;
        }
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name == "node_modules" || !e.path().is_dir() {
            continue;
        }
        if *first == "**" {
            walk(&e.path(), parts, out, budget, stars + 1);
        } else if dbguard_core::environment::glob_match(first, &name) {
            walk(&e.path(), rest, out, budget, stars);
        }
    }
}

fn package_name(dir: &Path) -> Option<String> {
    let from = |f: &str| read_json(&dir.join(f)).and_then(|v| v.get("name")?.as_str().map(str::to_string));
    if dir.join("package.json").is_file() || dir.join("project.json").is_file() {
        return Some(
            from("project.json")
                .or_else(|| from("package.json"))
                .unwrap_or_else(|| {
                    dir.file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default()
                }),
        );
    }
    None
}

/// `to` relative to `from` (both absolute): `packages/api`, `../api`, `.`.
fn relative(from: &Path, to: &Path) -> String {
    let a: Vec<_> = from.components().collect();
    let b: Vec<_> = to.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<String> = std::iter::repeat_n("..".to_string(), a.len() - common).collect();
    parts.extend(b[common..].iter().map(|c| c.as_os_str().to_string_lossy().into_owned()));
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

/// The workspace packages seen from `cwd`, or `None` when it is in no workspace.
pub fn packages(cwd: &Path) -> Option<Vec<WorkspacePackage>> {
    let mut dir = Some(cwd);
    let mut root = None;
    for _ in 0..MAX_UP {
        let Some(d) = dir else { break };
        if let Some(globs) = root_globs(d) {
            root = Some((d.to_path_buf(), globs));
            break;
        }
        dir = d.parent();
    }
    let (root, globs) = root?;
    let mut dirs = vec![root.clone()];
    let mut budget = MAX_DIRS;
    for g in globs.iter().filter(|g| !g.starts_with('!')) {
        expand(&root, g, &mut dirs, &mut budget);
    }
    dirs.sort();
    dirs.dedup();
    let mut out = Vec::new();
    for d in dirs {
        if out.len() >= MAX_PACKAGES {
            break;
        }
        if let Some(name) = package_name(&d) {
            out.push(WorkspacePackage {
                dir: relative(cwd, &d),
                name,
            });
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_packages_from_a_subdirectory() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        std::fs::write(
            root.join("pnpm-workspace.yaml"),
            "packages:\n  - 'packages/*'\n  - apps/**\n",
        )
        .unwrap();
        std::fs::write(root.join("package.json"), r#"{"name": "root"}"#).unwrap();
        for (d, n) in [("packages/api", "@shop/api"), ("apps/web/site", "site")] {
            std::fs::create_dir_all(root.join(d)).unwrap();
            std::fs::write(root.join(d).join("package.json"), format!(r#"{{"name": "{n}"}}"#)).unwrap();
        }
        std::fs::create_dir_all(root.join("packages/api/node_modules/x")).unwrap();
        let p = packages(root).unwrap();
        let names: Vec<_> = p.iter().map(|p| (p.dir.as_str(), p.name.as_str())).collect();
        assert_eq!(
            names,
            [(".", "root"), ("apps/web/site", "site"), ("packages/api", "@shop/api")]
        );
        let p = packages(&root.join("packages/api")).unwrap();
        assert!(p.iter().any(|p| p.dir == "../../apps/web/site"), "{p:?}");
        assert!(packages(&tempfile::tempdir().unwrap().path().join("nope")).is_none());
    }
}
