//! Entity Framework Core tools (`dotnet ef`, `dotnet-ef`): `database drop`,
//! `database update 0` (every migration reverted), `database update <Migration>` (may
//! move backwards: unknown), `migrations remove --force` (reverts the last migration on
//! the database). `--connection` names the target (an ADO.NET connection string).

use crate::finding::{FindingKind, Scope};
use crate::target::TargetHint;

use super::{Invocation, Outcome, Recognizer};
use crate::shell::words::{Args, Spec};

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "dotnet-ef",
    programs: &["dotnet", "dotnet-ef"],
    engine: None,
    destructive_potential: false,
    recognize,
};

const SPEC: Spec = Spec {
    short: "psco",
    long: &[
        "project",
        "startup-project",
        "context",
        "connection",
        "configuration",
        "framework",
        "runtime",
        "msbuildprojectextensionspath",
        "output-dir",
    ],
    ..Spec::DEFAULT
};

fn recognize(inv: &Invocation) -> Outcome {
    let args = if inv.program == "dotnet" {
        match inv.args.split_first() {
            Some((first, rest)) if first.text == "ef" => rest,
            _ => return Outcome::default(),
        }
    } else {
        inv.args
    };
    let a = Args::parse(args, &SPEC);
    let hint = a.value(&["--connection"]).map(connection_hint).unwrap_or_default();
    if a.help() || a.has(&["-h", "--dry-run"]) {
        return Outcome::db(Vec::new(), hint);
    }
    let f = |kind, detail: &str| inv.finding("dotnet-ef", kind, None, detail.to_string(), Scope::Database);
    let finding = match (a.p(0), a.p(1)) {
        ("database", "drop") => f(FindingKind::DropDatabase, "dotnet ef database drop drops the database"),
        ("database", "update") => match a.p(2) {
            "" => return Outcome::db(Vec::new(), hint),
            "0" => f(
                FindingKind::MigrationRollback,
                "dotnet ef database update 0 reverts every migration, dropping what they created",
            ),
            m => inv.unknown(
                "dotnet-ef",
                format!(
                    "dotnet ef database update {m} may revert migrations applied after {m}, dropping what they created"
                ),
            ),
        },
        ("migrations", "remove") if a.has(&["-f", "--force"]) => f(
            FindingKind::MigrationRollback,
            "dotnet ef migrations remove --force reverts the last migration on the database, dropping what it created",
        ),
        _ => return Outcome::db(Vec::new(), hint),
    };
    Outcome::db(vec![finding], hint)
}

/// `Host=db;Port=5432;Database=app;Username=u` / `Server=...;Initial Catalog=...`.
fn connection_hint(conn: &str) -> TargetHint {
    if super::is_url(conn) {
        return TargetHint {
            url: Some(conn.to_string()),
            ..TargetHint::default()
        };
    }
    let mut h = TargetHint::default();
    for part in conn.split(';') {
        let Some((k, v)) = part.split_once('=') else { continue };
        let v = v.trim().to_string();
        match k.trim().to_ascii_lowercase().as_str() {
            "host" | "server" | "data source" | "address" => h.host = Some(v),
            "port" => h.port = Some(v),
            "database" | "initial catalog" => h.dbname = Some(v),
            "username" | "user id" | "user" | "uid" => h.user = Some(v),
            _ => {}
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{run, run_with};
    use super::super::Input;
    use super::*;
    use crate::lookup::MapLookup;

    #[test]
    fn recognizes() {
        assert_eq!(
            run(&RECOGNIZER, "dotnet ef database drop --force"),
            [FindingKind::DropDatabase]
        );
        assert_eq!(
            run(&RECOGNIZER, "dotnet ef database update 0"),
            [FindingKind::MigrationRollback]
        );
        assert_eq!(
            run(&RECOGNIZER, "dotnet-ef database update AddUsers"),
            [FindingKind::Unknown]
        );
        for c in [
            "dotnet ef database update",
            "dotnet ef migrations add Init",
            "dotnet build",
            "dotnet ef migrations remove",
            "dotnet ef database drop --dry-run",
        ] {
            assert!(run(&RECOGNIZER, c).is_empty(), "{c}");
        }
        let o = run_with(
            &RECOGNIZER,
            "dotnet ef database drop -f --connection 'Host=db.prod.internal;Database=shop;Username=app'",
            &MapLookup::default(),
            &Input::Terminal,
        );
        let h = o.hint.unwrap_or_default();
        assert_eq!(
            (h.host.as_deref(), h.dbname.as_deref()),
            (Some("db.prod.internal"), Some("shop"))
        );
    }
}
