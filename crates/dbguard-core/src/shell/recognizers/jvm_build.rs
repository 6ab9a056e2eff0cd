//! Flyway and Liquibase through the JVM build tools: `mvn flyway:clean`,
//! `./gradlew flywayClean`, `mvn liquibase:dropAll`, `gradle dropAll`...

use crate::finding::{FindingKind, Scope};
use crate::target::TargetHint;

use super::{Invocation, Outcome, Recognizer};

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "build",
    programs: &["mvn", "mvnw", "mvnd", "gradle", "gradlew"],
    engine: None,
    destructive_potential: true,
    recognize,
};

fn goal(name: &str) -> Option<(FindingKind, &'static str)> {
    use FindingKind::*;
    // Gradle tasks may be project-qualified (`:app:flywayClean`); Maven goals may name a
    // plugin version (`org.flywaydb:flyway-maven-plugin:10.0.0:clean`).
    let task = name.rsplit(':').next().unwrap_or(name);
    let maven_flyway = name.starts_with("flyway:") || name.contains("flyway-maven-plugin");
    let maven_liquibase = name.starts_with("liquibase:") || name.contains("liquibase-maven-plugin");
    Some(match task {
        "clean" if maven_flyway => (
            ResetDatabase,
            "drops every object in the configured schemas (Flyway clean)",
        ),
        "undo" if maven_flyway => (MigrationRollback, "reverts the last versioned migration (Flyway undo)"),
        "dropAll" if maven_liquibase => (ResetDatabase, "drops every object in the schema (Liquibase dropAll)"),
        "rollback" | "rollbackCount" | "rollbackToDate" if maven_liquibase => {
            (MigrationRollback, "rolls back Liquibase changesets")
        }
        "flywayClean" => (
            ResetDatabase,
            "drops every object in the configured schemas (Flyway clean)",
        ),
        "flywayUndo" => (MigrationRollback, "reverts the last versioned migration (Flyway undo)"),
        "dropAll" if !name.contains("liquibase:") => {
            (ResetDatabase, "drops every object in the schema (Liquibase dropAll)")
        }
        _ => return None,
    })
}

fn recognize(inv: &Invocation) -> Outcome {
    let mut findings = Vec::new();
    let maven = inv.program.starts_with("mvn");
    for w in inv.args.iter().filter(|w| !w.text.starts_with('-')) {
        // Gradle's Liquibase plugin names tasks plainly (`dropAll`); Maven needs the prefix.
        if maven && w.text == "dropAll" {
            continue;
        }
        if let Some((kind, what)) = goal(&w.text) {
            let detail = format!("{} {} {what}", inv.program, w.text);
            findings.push(inv.finding(inv.program, kind, None, detail, Scope::Database));
        }
    }
    if findings.is_empty() {
        return Outcome::default();
    }
    Outcome::db(findings, TargetHint::default())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::run;
    use super::*;

    #[test]
    fn recognizes() {
        assert_eq!(run(&RECOGNIZER, "mvn flyway:clean"), [FindingKind::ResetDatabase]);
        assert_eq!(
            run(&RECOGNIZER, "./gradlew :db:flywayClean"),
            [FindingKind::ResetDatabase]
        );
        assert_eq!(run(&RECOGNIZER, "mvn liquibase:dropAll"), [FindingKind::ResetDatabase]);
        assert!(run(&RECOGNIZER, "mvn clean install").is_empty());
        assert!(run(&RECOGNIZER, "gradle clean build").is_empty());
        assert!(run(&RECOGNIZER, "mvn flyway:migrate").is_empty());
    }
}
