//! What the other doors (hook, check, run) say about schema changes: every "no" to
//! `prisma migrate reset`, `db push`, `migrate dev` without a terminal or `drizzle-kit
//! push` names the one safe way forward an agent can run.

use dbguard_core::shell::parse::{self, Command, Script};
use dbguard_core::Finding;

/// The workflow, in one line an agent can follow.
pub const WORKFLOW: &str = "`dbguard migrate new <name>` then `dbguard migrate apply`";

/// The safe alternative for a Prisma or drizzle-kit finding, when one is among `findings`.
pub fn alternative_for(findings: &[Finding]) -> Option<String> {
    let tools: Vec<&str> = findings.iter().filter_map(|f| f.tool.as_deref()).collect();
    if tools.contains(&"prisma") {
        Some(format!(
            "{WORKFLOW}: it writes the migration from schema.prisma without a prompt (no reset, no shadow on your \
database), shows what it would destroy, takes a snapshot and applies it with `prisma migrate deploy`"
        ))
    } else if tools.contains(&"drizzle-kit") || tools.contains(&"drizzle") {
        Some(format!(
            "{WORKFLOW}: it writes the migration with `drizzle-kit generate` (no push), shows what it would destroy, takes \
a snapshot and applies it with `drizzle-kit migrate`"
        ))
    } else {
        None
    }
}

/// What to say about `prisma migrate dev` where no person can answer its prompts.
pub fn migrate_dev_advice() -> String {
    format!(
        "`prisma migrate dev` needs an interactive terminal (Prisma refuses to run it for agents and in CI, and it may \
want to reset the database). Instead run {WORKFLOW}: the migration is written from schema.prisma without a prompt, \
checked, snapshotted and applied with `prisma migrate deploy`."
    )
}

/// Whether the command line runs `prisma migrate dev` (through npx, pnpm, a path...).
pub fn runs_prisma_migrate_dev(command: &str) -> bool {
    let parsed = parse::parse(command);
    script_has(&parsed.script, 0)
}

fn script_has(s: &Script, depth: usize) -> bool {
    if depth > 8 {
        return false;
    }
    s.pipelines.iter().flat_map(|p| &p.commands).any(|c| match c {
        Command::Simple(sc) => {
            let words: Vec<&str> = sc.words.iter().map(|w| w.text.as_str()).collect();
            words_have(&words) || sc.nested.iter().any(|n| script_has(n, depth + 1))
        }
        Command::Compound(inner, _) => script_has(inner, depth + 1),
    })
}

fn words_have(words: &[&str]) -> bool {
    words.iter().enumerate().any(|(i, w)| {
        let base = w.rsplit('/').next().unwrap_or(w);
        if base != "prisma" {
            return false;
        }
        let rest: Vec<&&str> = words[i + 1..].iter().filter(|x| !x.starts_with('-')).take(2).collect();
        rest.len() == 2 && *rest[0] == "migrate" && *rest[1] == "dev"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrate_dev_is_recognized() {
        for c in [
            "npx prisma migrate dev",
            "npx prisma migrate dev --name x",
            "cd app && pnpm prisma migrate dev --create-only",
            "./node_modules/.bin/prisma migrate dev",
        ] {
            assert!(runs_prisma_migrate_dev(c), "{c}");
        }
        for c in [
            "echo 'npx prisma migrate dev'",
            "npx prisma migrate deploy",
            "git commit -m 'prisma migrate dev'",
            "prisma generate",
        ] {
            assert!(!runs_prisma_migrate_dev(c), "{c}");
        }
    }
}
