//! Azure CLI: deleting PostgreSQL / MySQL / MariaDB servers and databases, Azure SQL
//! servers, databases and managed instances, Cosmos DB accounts and databases, Redis
//! caches, and resource groups (which take every database in them).

use crate::finding::FindingKind;

use super::cloud::{self, context};
use super::{Invocation, Outcome, Recognizer};
use crate::shell::words::Spec;

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "az",
    programs: &["az"],
    engine: None,
    destructive_potential: false,
    recognize,
};

const SPEC: Spec = Spec {
    short: "ngsdao",
    long: &[
        "name",
        "resource-group",
        "server-name",
        "server",
        "database-name",
        "account-name",
        "subscription",
        "output",
        "query",
        "ids",
        "managed-instance",
    ],
    ..Spec::DEFAULT
};

const LOCKS: &str = "a `CanNotDelete` resource lock prevents this (`az lock create --lock-type CanNotDelete`; \
`az lock list` shows existing ones)";

fn recognize(inv: &Invocation) -> Outcome {
    let a = inv.args(&SPEC);
    if a.help() || a.has(&["-h"]) {
        return Outcome::default();
    }
    let p: Vec<&str> = a.pos.iter().map(|w| w.text.as_str()).collect();
    let Some(last) = p.last().copied() else {
        return Outcome::default();
    };
    if !matches!(last, "delete" | "remove") {
        return Outcome::default();
    }
    let group = &p[..p.len() - 1];
    let name = a.value(&["--name", "-n"]);
    let db = a.value(&["--database-name", "-d"]).or(name);
    let server = a.value(&["--server-name", "-s", "--server"]);
    let ctx = context(
        &a,
        &[
            (&["--subscription"], "subscription"),
            (&["--resource-group", "-g"], "resource group"),
        ],
    );
    let flexible_backup = |engine: &str| {
        format!(
            "{LOCKS}; take an on-demand backup or dump first (`az {engine} flexible-server backup create` where \
available, else `pg_dump`/`mysqldump`): deleting a server deletes its automated backups"
        )
    };
    let (provider, kind, id, what, safeguard) = match group {
        [engine @ ("postgres" | "mysql" | "mariadb"), "flexible-server" | "server"] => (
            provider_of(engine),
            "server",
            name,
            "the server and every database in it, with its automated backups".to_string(),
            flexible_backup(engine),
        ),
        [engine @ ("postgres" | "mysql" | "mariadb"), "flexible-server", "db"] | [engine @ ("postgres" | "mysql" | "mariadb"), "db"] => (
            provider_of(engine),
            "database",
            db,
            format!("the database on server {}", server.unwrap_or("?")),
            format!("dump it first (`pg_dump`/`mysqldump`); {LOCKS}"),
        ),
        ["sql", "db"] => (
            "Azure SQL",
            "database",
            name,
            format!("the database on server {}", server.unwrap_or("?")),
            format!("{LOCKS}; export it first (`az sql db export`); a deleted database can be restored only within its backup retention"),
        ),
        ["sql", "server"] | ["sql", "mi"] => (
            "Azure SQL",
            if group[1] == "mi" { "managed instance" } else { "server" },
            name.or(a.value(&["--managed-instance"])),
            "the server and every database in it".to_string(),
            format!("{LOCKS}; export each database first (`az sql db export`)"),
        ),
        ["cosmosdb"] => (
            "Azure Cosmos DB",
            "account",
            name,
            "the account and every database in it".to_string(),
            format!("{LOCKS}; check the account's backup policy (`az cosmosdb show --query backupPolicy`)"),
        ),
        ["cosmosdb", _, kind @ ("database" | "container" | "collection" | "table" | "keyspace")] | ["cosmosdb", kind @ "table"] => (
            "Azure Cosmos DB",
            *kind,
            name,
            format!("the {kind} and its data (account {})", a.value(&["--account-name", "-a"]).unwrap_or("?")),
            format!("{LOCKS}; check the account's backup policy (`az cosmosdb show --query backupPolicy`)"),
        ),
        ["redis"] => (
            "Azure Cache for Redis",
            "cache",
            name,
            "the cache and its data".to_string(),
            format!("{LOCKS}; export it first (`az redis export`)"),
        ),
        ["group"] => (
            "Azure",
            "resource group",
            name,
            "every resource in the group, its databases included".to_string(),
            format!("{LOCKS}; list what it holds first (`az resource list --resource-group NAME`)"),
        ),
        _ => return Outcome::default(),
    };
    let detail = format!("az {} deletes {what}", p.join(" "));
    let res = cloud::resource(provider, kind, id, ctx, safeguard);
    cloud::delete(inv, "az", FindingKind::DeleteCloudDatabase, res, detail)
}

fn provider_of(engine: &str) -> &'static str {
    match engine {
        "postgres" => "Azure Database for PostgreSQL",
        "mysql" => "Azure Database for MySQL",
        _ => "Azure Database for MariaDB",
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::run;
    use super::*;

    #[test]
    fn recognizes() {
        for c in [
            "az postgres flexible-server delete -g rg -n shop-prod --yes",
            "az mysql flexible-server db delete -g rg -s srv -d app",
            "az sql db delete --name app --server srv -g rg",
            "az group delete --name prod-rg",
            "az cosmosdb sql database delete -a acct -n app",
        ] {
            assert_eq!(run(&RECOGNIZER, c), [FindingKind::DeleteCloudDatabase], "{c}");
        }
        for c in [
            "az postgres flexible-server list",
            "az postgres flexible-server show -g rg -n x",
            "az vm delete -n web -g rg",
            "az storage blob delete -c x -n y",
        ] {
            assert!(run(&RECOGNIZER, c).is_empty(), "{c}");
        }
    }
}
