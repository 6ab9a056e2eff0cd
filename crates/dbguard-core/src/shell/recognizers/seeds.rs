//! Seed commands run files of code: `knex seed:run` (the seed folder named by the knexfile,
//! each file's `seed` function), `sequelize db:seed:all` (the seeders folder, each file's
//! `up`; `down` for the undo commands), `prisma db seed` (the command in package.json's
//! `prisma.seed` or prisma.config.ts's `migrations.seed`), `rails db:seed` (db/seeds.rb).
//! The files go through [`crate::script`] like any script; a seed that empties a table
//! first (`await knex('users').del()`, `User.destroy_all`) is a `delete_all`.

use crate::finding::Finding;
use crate::script::{self, config_strings, follow::join, Lang};

use super::Invocation;

const SCRIPT_EXTS: &[&str] = &[".js", ".ts", ".mjs", ".cjs", ".mts", ".cts"];

/// Script files directly in `dir`, sorted.
fn script_files(inv: &Invocation, dir: &str) -> Vec<String> {
    let mut files: Vec<String> = inv
        .lookup
        .list_dir(dir)
        .unwrap_or_default()
        .into_iter()
        .filter(|n| SCRIPT_EXTS.iter().any(|e| n.ends_with(e)) && !n.ends_with(".d.ts"))
        .map(|n| join(dir, &n))
        .collect();
    files.sort();
    files.truncate(script::follow::MAX_FILES);
    files
}

/// What a config file exports under a key ending in `suffix`.
fn config_values(inv: &Invocation, files: &[&str], suffix: &str) -> Vec<String> {
    for f in files {
        if let Some(src) = inv.lookup.read_file(f) {
            let mut vals: Vec<String> = config_strings(&src, f)
                .into_iter()
                .filter(|(k, _)| k == suffix || k.ends_with(&format!(".{suffix}")))
                .map(|(_, v)| v)
                .collect();
            vals.dedup();
            return vals;
        }
    }
    Vec::new()
}

fn analyze(inv: &Invocation, files: Vec<(String, Vec<String>)>, runner: &str) -> Vec<Finding> {
    match script::nested(|| script::analyze_modules(&files, inv.lookup)) {
        Some(found) => found
            .into_iter()
            .map(|mut f| {
                f.detail = format!("{runner}: {}", f.detail);
                f
            })
            .collect(),
        None => vec![inv.unknown(
            runner,
            format!("{runner} runs code nested too deeply to follow (scripts that run commands that run scripts)"),
        )],
    }
}

/// `knex seed:run [--knexfile f] [--specific name]`.
pub fn knex(inv: &Invocation, knexfile: Option<&str>, specific: Option<&str>) -> Vec<Finding> {
    let candidates: Vec<&str> = match knexfile {
        Some(k) => vec![k],
        None => vec!["knexfile.js", "knexfile.ts", "knexfile.cjs", "knexfile.mjs"],
    };
    let base = knexfile.and_then(|k| k.rfind('/').map(|i| &k[..i])).unwrap_or("");
    let mut dirs = config_values(inv, &candidates, "seeds.directory");
    if dirs.is_empty() {
        dirs.push("./seeds".into());
    }
    let mut files = Vec::new();
    for d in &dirs {
        let dir = join(base, d);
        match specific {
            Some(s) => files.push(join(&dir, s)),
            None => files.extend(script_files(inv, &dir)),
        }
    }
    let files = files.into_iter().map(|f| (f, vec!["seed".to_string()])).collect();
    analyze(inv, files, "knex seed:run")
}

/// `sequelize db:seed:all`, `db:seed --seed name`, `db:seed:undo[:all]`.
pub fn sequelize(inv: &Invocation, seeders_path: Option<&str>, seed: Option<&str>, undo: bool) -> Vec<Finding> {
    let dir = match seeders_path {
        Some(p) => p.to_string(),
        None => config_values(inv, &[".sequelizerc"], "seeders-path")
            .into_iter()
            .next()
            .unwrap_or_else(|| "seeders".into()),
    };
    let dir = join("", &dir);
    let files: Vec<String> = match seed {
        Some(s) if SCRIPT_EXTS.iter().any(|e| s.ends_with(e)) => vec![join(&dir, s)],
        Some(s) => vec![join(&dir, &format!("{s}.js"))],
        None => script_files(inv, &dir),
    };
    let name = if undo { "down" } else { "up" };
    let runner = if undo {
        "sequelize db:seed:undo"
    } else {
        "sequelize db:seed"
    };
    analyze(
        inv,
        files.into_iter().map(|f| (f, vec![name.to_string()])).collect(),
        runner,
    )
}

/// `rails db:seed` (and `db:seed` inside other tasks): db/seeds.rb, run as a script.
pub fn rails(inv: &Invocation) -> Vec<Finding> {
    let file = "db/seeds.rb".to_string();
    if Lang::of_path(&file).is_none() {
        return Vec::new();
    }
    analyze(inv, vec![(file, Vec::new())], "rails db:seed")
}

/// `prisma db seed`: the seed command from package.json or prisma.config.ts, analyzed as a
/// command line.
pub fn prisma(inv: &Invocation) -> Vec<Finding> {
    let from_package = inv.lookup.read_file("package.json").and_then(|t| {
        let v: serde_json::Value = serde_json::from_str(&t).ok()?;
        v.get("prisma")?.get("seed")?.as_str().map(str::to_string)
    });
    let command = from_package.or_else(|| {
        config_values(
            inv,
            &["prisma.config.ts", "prisma.config.mts", "prisma.config.js"],
            "migrations.seed",
        )
        .into_iter()
        .next()
    });
    let Some(command) = command else {
        return Vec::new();
    };
    match script::nested(|| crate::shell::analyze_command(&command, inv.lookup)) {
        Some(a) => a
            .findings
            .into_iter()
            .map(|mut f| {
                f.detail = format!("prisma db seed runs `{command}`: {}", f.detail);
                f
            })
            .collect(),
        None => vec![inv.unknown(
            "prisma",
            format!("prisma db seed runs `{command}`, nested too deeply to follow"),
        )],
    }
}
