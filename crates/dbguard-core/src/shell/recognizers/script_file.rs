//! The script file an interpreter runs: `node scripts/cleanup.js`, `tsx reset.ts`,
//! `ts-node x.ts`, `bun [run] x.ts`, `deno run -A x.ts`, `python wipe.py`, `python -m
//! scripts.wipe` (when the module is a local file), `ruby x.rb`. The file and the local
//! modules it imports go through [`crate::script`].

use crate::finding::Finding;
use crate::script::{self, follow::join, Lang};

use super::Invocation;

/// Options whose value is the next word, per interpreter.
fn value_options(program: &str) -> &'static [&'static str] {
    match program {
        "ruby" => &["-r", "-I", "-C", "-E", "-F"],
        "deno" => &[
            "-c",
            "--config",
            "--import-map",
            "-L",
            "--log-level",
            "--cert",
            "--location",
            "--seed",
            "--lock",
            "--env-file",
        ],
        "bun" => &[
            "--cwd",
            "--env-file",
            "-r",
            "--preload",
            "--tsconfig-override",
            "--config",
            "-c",
            "--port",
        ],
        p if Lang::of_program(p) == Some(Lang::Python) => &["-W", "-X", "--check-hash-based-pycs"],
        _ => &[
            "-r",
            "--require",
            "--import",
            "--loader",
            "--experimental-loader",
            "-C",
            "--conditions",
            "--input-type",
            "--env-file",
            "--project",
            "-P",
            "-O",
            "--compiler-options",
            "--compiler",
            "--tsconfig",
            "--title",
            "--inspect-port",
            "--stack-size",
        ],
    }
}

/// Subcommands that come before the file (`deno run`, `bun run`, `tsx watch`).
fn is_subcommand(program: &str, word: &str) -> bool {
    matches!(
        (program, word),
        ("deno", "run") | ("bun", "run") | ("tsx", "watch") | ("vite-node", "watch")
    )
}

/// The file the interpreter runs and its language.
pub fn operand(inv: &Invocation) -> Option<(String, Lang)> {
    let program = inv.program;
    let values = value_options(program);
    let mut i = 0;
    let mut first = true;
    while let Some(w) = inv.args.get(i) {
        let t = w.text.as_str();
        i += 1;
        if first && is_subcommand(program, t) {
            first = false;
            continue;
        }
        first = false;
        if t == "--" {
            continue;
        }
        if t == "-m" && Lang::of_program(program) == Some(Lang::Python) {
            let module = inv.args.get(i)?;
            if module.dynamic {
                return None;
            }
            return python_module(inv, &module.text);
        }
        if t.starts_with('-') {
            if values.contains(&t) {
                i += 1;
            }
            continue;
        }
        if w.dynamic {
            return None;
        }
        let lang = Lang::of_path(t).or_else(|| Lang::of_program(program))?;
        return Some((join("", t), lang));
    }
    None
}

/// `python -m scripts.wipe`: a module that is a local file (an installed one is not read).
fn python_module(inv: &Invocation, module: &str) -> Option<(String, Lang)> {
    let rel = module.replace('.', "/");
    [format!("{rel}.py"), format!("{rel}/__main__.py")]
        .into_iter()
        .find(|p| inv.lookup.file_head(p).is_some())
        .map(|p| (p, Lang::Python))
}

pub fn findings(inv: &Invocation) -> Vec<Finding> {
    let Some((path, lang)) = operand(inv) else {
        return Vec::new();
    };
    script::nested(|| script::analyze_run(&path, lang, inv.lookup))
        .unwrap_or_default()
        .into_iter()
        .map(|mut f| {
            if !f.detail.contains(&path) {
                f.detail = format!("{} (running {path})", f.detail.trim_end_matches('.'));
            }
            f
        })
        .collect()
}
