//! Commands that change dbguard's own settings or records (see `guard_files.rs` for which
//! paths): `sed -i`/`perl -i`/`gawk -i inplace`, `tee`, `sponge`, `yq -i`, `rm`/`unlink`/
//! `shred`/`truncate`, `mv`, `cp`/`install`/`rsync` onto them, `ln` to or onto them, `dd of=`,
//! `chmod`/`chown`/`chattr`, `git rm/mv/checkout/restore`, editors started on them (`vim`,
//! `ed`, `emacs --batch`...), and output redirections (`>`, `>>`) into them.
//!
//! Unlike the tool recognizers this one is asked about every simple command (after
//! wrappers are peeled), whatever its program: `rm` of a database file and `rm` of
//! dbguard.toml are different findings of the same command. Reading them is fine: `cat`,
//! `grep`, `less`, `diff`, `cp dbguard.toml backup.toml`, `git add` find nothing.

use crate::finding::{Finding, FindingKind, Scope};
use crate::guard_files::{guarded, guarded_dir};
use crate::lookup::Lookup;
use crate::shell::parse::Word;
use crate::shell::words::basename;

/// The finding's tool name.
pub const TOOL: &str = "dbguard-settings";

const EDITORS: &[&str] = &[
    "vi", "vim", "nvim", "view", "ex", "ed", "red", "emacs", "nano", "pico", "micro", "kak", "hx", "joe", "mcedit",
];

/// Why a path is guarded: as written, and as resolved on disk (symlinks followed).
fn why(path: &str, lookup: &dyn Lookup, dir_too: bool) -> Option<&'static str> {
    let home = lookup.dbguard_home();
    let check = |p: &str| {
        if dir_too {
            guarded_dir(p, home.as_deref())
        } else {
            guarded(p, home.as_deref())
        }
    };
    check(path).or_else(|| lookup.resolve_path(path).and_then(|abs| check(&abs)))
}

fn finding(program: &str, path: &str, verb: &str, why: &str, statement: &str) -> Finding {
    Finding::new(
        FindingKind::GuardSettings,
        Some(path.to_string()),
        format!("{program} {verb} {path}, {why}: dbguard's own settings are changed by a person, never by an agent"),
        Scope::External,
    )
    .with_tool(TOOL)
    .with_statement(statement, None)
}

/// Operands (not options), `--` ending the options; `skip_values` lists options whose value
/// is the next word.
fn operands<'a>(args: &'a [Word], skip_values: &[&str]) -> Vec<&'a Word> {
    let mut out = Vec::new();
    let mut it = args.iter();
    let mut opts_done = false;
    while let Some(w) = it.next() {
        let t = w.text.as_str();
        if !opts_done && t == "--" {
            opts_done = true;
            continue;
        }
        if !opts_done && t.starts_with('-') && t.len() > 1 {
            if skip_values.contains(&t) {
                it.next();
            }
            continue;
        }
        out.push(w);
    }
    out
}

fn has_flag(args: &[Word], pred: impl Fn(&str) -> bool) -> bool {
    args.iter()
        .take_while(|w| w.text != "--")
        .any(|w| pred(w.text.as_str()))
}

/// A short-option cluster (`-Ei`, `-pi`, `-i.bak`) or long option that means "in place".
fn in_place(args: &[Word], letter: char) -> bool {
    has_flag(args, |t| {
        t.starts_with("--in-place")
            || (t.starts_with('-')
                && !t.starts_with("--")
                && t[1..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphabetic())
                    .any(|c| c == letter))
    })
}

/// Findings for one simple command (program base name and its words after it).
pub fn check(program: &str, args: &[Word], statement: &str, lookup: &dyn Lookup) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut flag = |path: &str, verb: &str, dir_too: bool| {
        if let Some(w) = why(path, lookup, dir_too) {
            out.push(finding(program, path, verb, w, statement));
        }
    };
    let each = |skip: &[&str]| -> Vec<String> { operands(args, skip).iter().map(|w| w.text.clone()).collect() };
    match program {
        "rm" | "unlink" | "shred" | "rmdir" => {
            for p in each(&[]) {
                flag(&p, "deletes", true);
            }
        }
        "truncate" => {
            for p in each(&["-s", "-r", "--size", "--reference"]) {
                flag(&p, "empties", false);
            }
        }
        "mv" => {
            for p in each(&["-t", "--target-directory", "-S", "--suffix"]) {
                flag(&p, "moves", true);
            }
        }
        "cp" | "install" | "rsync" | "ln" => {
            let ops = each(&[
                "-t",
                "--target-directory",
                "-S",
                "--suffix",
                "-m",
                "--mode",
                "-o",
                "-g",
                "-e",
            ]);
            let target_dir = args
                .iter()
                .position(|w| w.text == "-t" || w.text == "--target-directory")
                .and_then(|i| args.get(i + 1))
                .map(|w| w.text.clone())
                .or_else(|| {
                    args.iter()
                        .find_map(|w| w.text.strip_prefix("--target-directory=").map(str::to_string))
                });
            let (sources, dest): (Vec<String>, Option<String>) = match target_dir {
                Some(d) => (ops.clone(), Some(d)),
                None if ops.len() >= 2 => (ops[..ops.len() - 1].to_vec(), ops.last().cloned()),
                None => (ops.clone(), None),
            };
            if let Some(d) = &dest {
                flag(d, "writes", false);
                // Into a folder: the file keeps its name (`cp x.json .claude/` writes
                // `.claude/x.json`).
                let into_folder = d.ends_with('/') || why(d, lookup, true).is_some();
                for s in sources.iter().filter(|_| into_folder) {
                    flag(&format!("{}/{}", d.trim_end_matches('/'), basename(s)), "writes", false);
                }
            }
            if program == "ln" {
                // A link to a guarded file is a way to edit it under another name.
                for s in &sources {
                    flag(s, "links to", false);
                }
            }
        }
        "tee" | "sponge" => {
            for p in each(&[]) {
                flag(&p, "writes", false);
            }
        }
        "sed" if in_place(args, 'i') => {
            for p in each(&["-e", "-f", "--expression", "--file", "-l", "--line-length"]) {
                flag(&p, "edits in place", false);
            }
        }
        "perl" if in_place(args, 'i') => {
            for p in each(&["-e", "-E", "-M", "-I"]) {
                flag(&p, "edits in place", false);
            }
        }
        "awk" | "gawk" if args.windows(2).any(|w| w[0].text == "-i" && w[1].text == "inplace") => {
            for p in each(&["-i", "-f", "-v", "-F"]) {
                flag(&p, "edits in place", false);
            }
        }
        "yq" if in_place(args, 'i') => {
            for p in each(&[]) {
                flag(&p, "edits in place", false);
            }
        }
        "dd" => {
            for w in args {
                if let Some(p) = w.text.strip_prefix("of=") {
                    flag(p, "writes", false);
                }
            }
        }
        "chmod" | "chown" | "chgrp" | "chattr" | "setfacl" => {
            for p in each(&["--reference"]).iter().skip(1) {
                flag(p, "changes the permissions of", true);
            }
        }
        "git" => {
            let ops = each(&["-C", "-c", "--git-dir", "--work-tree", "-s", "--source"]);
            if let Some(sub) = ops.first().map(String::as_str) {
                if matches!(sub, "rm" | "mv" | "checkout" | "restore") {
                    for p in &ops[1..] {
                        flag(p, "rewrites", true);
                    }
                }
            }
        }
        p if EDITORS.contains(&p) => {
            for f in each(&["-c", "-S", "-u", "-i", "-l", "--eval", "-f", "--cmd", "-s"]) {
                flag(&f, "opens for editing", false);
            }
        }
        _ => {}
    }
    out
}

/// A finding for an output redirection (`> path`, `>> path`) into a guarded file.
pub fn redirect(target: &str, statement: &str, lookup: &dyn Lookup) -> Option<Finding> {
    why(target, lookup, false).map(|w| finding("the shell", target, "writes", w, statement))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lookup::NoLookup;
    use crate::shell::parse::parse;

    fn kinds(line: &str) -> usize {
        let parsed = parse(line);
        let Some(crate::shell::parse::Command::Simple(sc)) =
            parsed.script.pipelines.first().and_then(|p| p.commands.first())
        else {
            return 0;
        };
        let program = basename(&sc.words[0].text).to_string();
        check(&program, &sc.words[1..], line, &NoLookup).len()
    }

    #[test]
    fn writes_are_found_reads_are_not() {
        for line in [
            "sed -i 's/production/development/' dbguard.toml",
            "sed -Ei.bak 's/x/y/' ./dbguard.toml",
            "perl -pi -e 's/x/y/' .claude/settings.json",
            "rm .cursor/hooks.json",
            "rm -rf .claude",
            "mv dbguard.toml dbguard.toml.off",
            "cp /tmp/evil.json .claude/settings.local.json",
            "cp /tmp/settings.json .claude/",
            "cp -t .gemini /tmp/settings.json",
            "ln -sf /dev/null dbguard.toml",
            "ln -s dbguard.toml notes.txt",
            "tee .codex/hooks.json",
            "truncate -s 0 dbguard.toml",
            "dd if=/dev/null of=dbguard.toml",
            "vim -c '%s/production/development/' -c wq dbguard.toml",
            "ed dbguard.toml",
            "emacs --batch dbguard.toml",
            "chmod 000 dbguard.toml",
            "git checkout -- dbguard.toml",
            "git rm .github/hooks/dbguard.json",
            "rm -rf ~/.local/share/dbguard",
            "rm $DBGUARD_HOME/approvals/AAA-222.json",
            "gawk -i inplace '{print}' dbguard.toml",
            "yq -i '.x = 1' .codex/config.toml",
        ] {
            assert!(kinds(line) > 0, "{line}");
        }
        for line in [
            "cat dbguard.toml",
            "grep production dbguard.toml",
            "sed -n '1,5p' dbguard.toml",
            "less .claude/settings.json",
            "cp dbguard.toml /tmp/dbguard.toml.bak",
            "diff dbguard.toml other.toml",
            "git add dbguard.toml",
            "git diff .claude/settings.json",
            "rm -rf node_modules",
            "mv notes.txt docs/",
            "vim src/main.rs",
            "perl -ne 'print' dbguard.toml",
            "chmod +x scripts/run.sh",
            "ls ~/.local/share/dbguard",
        ] {
            assert_eq!(kinds(line), 0, "{line}");
        }
    }
}
