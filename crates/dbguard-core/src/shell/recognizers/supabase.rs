//! Supabase CLI: `db reset` (local by default, the remote project with `--linked`, whose
//! reference is read from `supabase/.temp/project-ref`), `migration down`,
//! `stop --no-backup` (deletes the local stack's volumes), `projects delete` and
//! `branches delete`.

use crate::finding::{FindingKind, Scope};
use crate::target::{Engine, TargetHint};

use super::{cloud, Invocation, Outcome, Recognizer};
use crate::shell::words::Spec;

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "supabase",
    programs: &["supabase"],
    engine: Some(Engine::Postgres),
    destructive_potential: true,
    recognize,
};

const SPEC: Spec = Spec {
    short: "p",
    long: &["db-url", "workdir", "version", "password", "last", "project-ref"],
    ..Spec::DEFAULT
};

fn recognize(inv: &Invocation) -> Outcome {
    let a = inv.args(&SPEC);
    let hint = TargetHint {
        url: a.value(&["--db-url"]).map(str::to_string),
        ..TargetHint::default()
    };
    if a.help() || a.has(&["-h", "--dry-run"]) {
        return Outcome::db(Vec::new(), hint);
    }
    let where_ = if a.has(&["--linked"]) {
        "the linked remote project's database"
    } else if a.has(&["--db-url"]) {
        "the database at --db-url"
    } else {
        "the local database"
    };
    let dump = |where_: &str| {
        format!("dump it first (`supabase db dump {where_} -f schema.sql` and `supabase db dump {where_} --data-only -f data.sql`)")
    };
    match (a.p(0), a.p(1)) {
        ("stop", _) if a.has(&["--no-backup"]) => {
            let mut res = cloud::resource("Supabase", "local stack", None, Vec::new(), dump("--local"));
            res.local = true;
            let detail =
                "supabase stop --no-backup deletes the local stack's Docker volumes: the local database and its data"
                    .to_string();
            return cloud::delete(inv, "supabase", FindingKind::DeleteVolume, res, detail);
        }
        ("projects", "delete") | ("branches", "delete") => {
            let kind = if a.p(0) == "projects" { "project" } else { "branch" };
            let id = Some(a.p(2)).filter(|s| !s.is_empty()).or(a.value(&["--project-ref"]));
            let res = cloud::resource("Supabase", kind, id, Vec::new(), dump("--db-url URL"));
            let detail = format!(
                "supabase {} delete deletes the {kind} with its database and storage",
                a.p(0)
            );
            return cloud::delete(inv, "supabase", FindingKind::DeleteCloudDatabase, res, detail);
        }
        _ => {}
    }
    let (kind, detail) = match (a.p(0), a.p(1)) {
        ("db", "reset") => (
            FindingKind::ResetDatabase,
            format!("supabase db reset drops and recreates {where_}, re-applying migrations and seeds"),
        ),
        ("migration", "down") => (
            FindingKind::MigrationRollback,
            format!("supabase migration down reverts migrations on {where_}"),
        ),
        _ => return Outcome::db(Vec::new(), hint),
    };
    let finding = inv.finding("supabase", kind, None, detail, Scope::Database);
    if a.has(&["--linked"]) {
        let project = inv
            .lookup
            .read_file("supabase/.temp/project-ref")
            .map(|r| r.trim().to_string());
        let res = cloud::resource(
            "Supabase",
            "linked project",
            project.as_deref().filter(|p| !p.is_empty()),
            Vec::new(),
            format!(
                "{}; the project's daily backups (and point-in-time recovery where enabled) are in the dashboard",
                dump("--linked")
            ),
        );
        return cloud::on(vec![finding], res, Some(Engine::Postgres));
    }
    Outcome::db(vec![finding], hint)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::run;
    use super::*;

    #[test]
    fn recognizes() {
        assert_eq!(run(&RECOGNIZER, "supabase db reset"), [FindingKind::ResetDatabase]);
        assert_eq!(
            run(&RECOGNIZER, "supabase db reset --linked"),
            [FindingKind::ResetDatabase]
        );
        assert_eq!(
            run(&RECOGNIZER, "supabase stop --no-backup"),
            [FindingKind::DeleteVolume]
        );
        assert_eq!(
            run(&RECOGNIZER, "supabase projects delete abcd"),
            [FindingKind::DeleteCloudDatabase]
        );
        assert!(run(&RECOGNIZER, "supabase stop").is_empty());
        assert!(run(&RECOGNIZER, "supabase db push").is_empty());
        assert!(run(&RECOGNIZER, "supabase start").is_empty());
    }
}
