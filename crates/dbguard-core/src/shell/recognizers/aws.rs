//! AWS CLI: deleting databases and their backups. RDS (`delete-db-instance`,
//! `delete-db-cluster`, snapshots and retained automated backups), Aurora-compatible
//! DocumentDB and Neptune clusters, DynamoDB tables and backups, Redshift clusters,
//! Lightsail databases, ElastiCache caches. `--skip-final-snapshot` and RDS's default of
//! deleting automated backups with the instance are said in the finding: then nothing is
//! left to restore from.
//!
//! Not flagged: `s3 rb --force` / `s3 rm --recursive` (object storage, not a database),
//! `modify-db-instance --no-deletion-protection` (it only removes a safeguard; the delete
//! that follows is flagged), every `describe-*` / `list-*`.

use crate::finding::FindingKind;

use super::cloud::{self, context};
use super::{Invocation, Outcome, Recognizer};
use crate::shell::words::Spec;

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "aws",
    programs: &["aws"],
    engine: None,
    destructive_potential: false,
    recognize,
};

/// Global options and the operations' options that take a value (so that the service
/// and the operation are the first two operands wherever the options stand).
const SPEC: Spec = Spec {
    short: "",
    long: &[
        "profile",
        "region",
        "output",
        "endpoint-url",
        "query",
        "color",
        "ca-bundle",
        "cli-read-timeout",
        "cli-connect-timeout",
        "cli-input-json",
        "cli-input-yaml",
        "db-instance-identifier",
        "db-cluster-identifier",
        "final-db-snapshot-identifier",
        "db-snapshot-identifier",
        "db-cluster-snapshot-identifier",
        "dbi-resource-id",
        "db-instance-automated-backups-arn",
        "table-name",
        "backup-arn",
        "cluster-identifier",
        "final-cluster-snapshot-identifier",
        "final-cluster-snapshot-retention-period",
        "relational-database-name",
        "final-relational-database-snapshot-name",
        "cache-cluster-id",
        "replication-group-id",
        "serverless-cache-name",
        "final-snapshot-identifier",
        "global-cluster-identifier",
    ],
    ..Spec::DEFAULT
};

fn recognize(inv: &Invocation) -> Outcome {
    let a = inv.args(&SPEC);
    if a.help() || a.p(2) == "help" {
        return Outcome::default();
    }
    let mut ctx = context(&a, &[(&["--profile"], "profile"), (&["--region"], "region")]);
    if let (None, Some(p)) = (a.value(&["--profile"]), inv.env_var("AWS_PROFILE")) {
        ctx.insert(0, format!("profile {p}"));
    }
    let op = a.p(1);
    let service = a.p(0);
    let (provider, kind, id, what, safeguard) = match (service, op) {
        ("rds" | "docdb" | "neptune", "delete-db-instance") => {
            let id = a.value(&["--db-instance-identifier"]);
            (
                service_name(service),
                "DB instance",
                id,
                "the DB instance and every database in it".to_string(),
                format!(
                    "check that deletion protection is on (`aws rds describe-db-instances --db-instance-identifier {0} \
--query 'DBInstances[0].DeletionProtection'`) and take a manual snapshot, which outlives the instance \
(`aws rds create-db-snapshot --db-instance-identifier {0} --db-snapshot-identifier {0}-before-delete`)",
                    id.unwrap_or("ID")
                ),
            )
        }
        ("rds" | "docdb" | "neptune", "delete-db-cluster") => {
            let id = a.value(&["--db-cluster-identifier"]);
            (
                service_name(service),
                "DB cluster",
                id,
                "the DB cluster and every database in it".to_string(),
                format!(
                    "check that deletion protection is on (`aws {1} describe-db-clusters --db-cluster-identifier {0} \
--query 'DBClusters[0].DeletionProtection'`) and take a manual cluster snapshot, which outlives the cluster \
(`aws {1} create-db-cluster-snapshot --db-cluster-identifier {0} --db-cluster-snapshot-identifier {0}-before-delete`)",
                    id.unwrap_or("ID"),
                    service
                ),
            )
        }
        ("rds" | "docdb" | "neptune", "delete-db-snapshot" | "delete-db-cluster-snapshot") => {
            let id = a.value(&["--db-snapshot-identifier", "--db-cluster-snapshot-identifier"]);
            (
                service_name(service),
                "snapshot",
                id,
                "the snapshot, a backup of a database (perhaps the last one)".to_string(),
                "copy it first if it may be the last backup (`aws rds copy-db-snapshot` / `copy-db-cluster-snapshot`)"
                    .to_string(),
            )
        }
        ("rds", "delete-db-instance-automated-backup" | "delete-db-cluster-automated-backup") => (
            "AWS RDS",
            "retained automated backups",
            a.value(&["--dbi-resource-id", "--db-instance-automated-backups-arn"]),
            "the automated backups kept after an instance was deleted".to_string(),
            "restore from them into a new instance first if they may be the last copy (`aws rds restore-db-instance-to-point-in-time`)"
                .to_string(),
        ),
        ("dynamodb", "delete-table") => {
            let id = a.value(&["--table-name"]);
            (
                "AWS DynamoDB",
                "table",
                id,
                "the table and every item in it".to_string(),
                format!(
                    "turn on deletion protection (`aws dynamodb update-table --table-name {0} --deletion-protection-enabled`) \
and take an on-demand backup (`aws dynamodb create-backup --table-name {0} --backup-name {0}-before-delete`)",
                    id.unwrap_or("NAME")
                ),
            )
        }
        ("dynamodb", "delete-backup") => (
            "AWS DynamoDB",
            "backup",
            a.value(&["--backup-arn"]),
            "a backup of a table (perhaps the last one)".to_string(),
            "restore it into a new table first if it may be the last copy (`aws dynamodb restore-table-from-backup`)"
                .to_string(),
        ),
        ("redshift", "delete-cluster") => {
            let id = a.value(&["--cluster-identifier"]);
            (
                "AWS Redshift",
                "cluster",
                id,
                "the cluster and every database in it".to_string(),
                format!(
                    "take a manual snapshot first (`aws redshift create-cluster-snapshot --cluster-identifier {0} \
--snapshot-identifier {0}-before-delete`)",
                    id.unwrap_or("ID")
                ),
            )
        }
        ("lightsail", "delete-relational-database") => {
            let id = a.value(&["--relational-database-name"]);
            (
                "AWS Lightsail",
                "database",
                id,
                "the database".to_string(),
                format!(
                    "take a snapshot first (`aws lightsail create-relational-database-snapshot --relational-database-name {0} \
--relational-database-snapshot-name {0}-before-delete`)",
                    id.unwrap_or("NAME")
                ),
            )
        }
        ("elasticache", "delete-cache-cluster" | "delete-replication-group" | "delete-serverless-cache") => (
            "AWS ElastiCache",
            "cache",
            a.value(&["--cache-cluster-id", "--replication-group-id", "--serverless-cache-name"]),
            "the cache and the data in it".to_string(),
            "take a backup first (`aws elasticache create-snapshot`), or give --final-snapshot-identifier".to_string(),
        ),
        _ => return Outcome::default(),
    };
    let mut detail = format!("aws {service} {op} deletes {what}");
    let final_snapshot = a.has(&[
        "--final-db-snapshot-identifier",
        "--final-cluster-snapshot-identifier",
        "--final-relational-database-snapshot-name",
        "--final-snapshot-identifier",
    ]);
    if a.has(&["--skip-final-snapshot", "--skip-final-cluster-snapshot"]) {
        detail.push_str("; --skip-final-snapshot: no final snapshot is kept");
    } else if final_snapshot {
        detail.push_str("; a final snapshot is requested, which the provider keeps");
    }
    if op == "delete-db-instance" {
        if a.has(&["--no-delete-automated-backups"]) {
            detail.push_str("; its automated backups are retained");
        } else {
            detail.push_str("; its automated backups are deleted with it (the default, or --delete-automated-backups)");
        }
    }
    let res = cloud::resource(provider, kind, id, ctx, safeguard);
    cloud::delete(inv, "aws", FindingKind::DeleteCloudDatabase, res, detail)
}

fn service_name(service: &str) -> &'static str {
    match service {
        "docdb" => "AWS DocumentDB",
        "neptune" => "AWS Neptune",
        _ => "AWS RDS",
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{run, run_with};
    use super::super::Input;
    use super::*;
    use crate::lookup::MapLookup;

    #[test]
    fn recognizes() {
        let o = run_with(
            &RECOGNIZER,
            "aws --profile prod rds delete-db-instance --db-instance-identifier shop --skip-final-snapshot",
            &MapLookup::default(),
            &Input::Terminal,
        );
        assert_eq!(o.findings[0].kind, FindingKind::DeleteCloudDatabase);
        assert!(
            o.findings[0].detail.contains("no final snapshot"),
            "{}",
            o.findings[0].detail
        );
        let res = o.hint.and_then(|h| h.resource).unwrap_or_default();
        assert_eq!(res.describe(), "AWS RDS DB instance shop (profile prod)");
        assert_eq!(
            run(&RECOGNIZER, "aws dynamodb delete-table --table-name Orders"),
            [FindingKind::DeleteCloudDatabase]
        );
        for c in [
            "aws rds describe-db-instances",
            "aws rds create-db-snapshot --db-instance-identifier shop --db-snapshot-identifier s1",
            "aws s3 rb s3://bucket --force",
            "aws rds delete-db-instance help",
        ] {
            assert!(run(&RECOGNIZER, c).is_empty(), "{c}");
        }
    }
}
