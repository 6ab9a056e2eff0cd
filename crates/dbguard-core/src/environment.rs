//! Environments (production, staging, development, unknown) and the pure rules that
//! guess one from a URL or an `*_ENV` value. The edge decides the order of rules
//! (dbguard.toml first) and records which one decided.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    Production,
    Staging,
    Development,
    #[default]
    Unknown,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Production => "production",
            Environment::Staging => "staging",
            Environment::Development => "development",
            Environment::Unknown => "unknown",
        }
    }

    /// `prod`, `production`, `live` -> Production; `stage`, `staging`, `preprod` -> Staging;
    /// `dev`, `development`, `local`, `test` -> Development.
    pub fn from_name(name: &str) -> Option<Environment> {
        match name.trim().to_ascii_lowercase().as_str() {
            "prod" | "production" | "live" => Some(Environment::Production),
            "stage" | "staging" | "preprod" | "pre-production" | "uat" => Some(Environment::Staging),
            "dev" | "development" | "local" | "test" | "testing" => Some(Environment::Development),
            "unknown" => Some(Environment::Unknown),
            _ => None,
        }
    }
}

/// Variables that name the running environment, in the order they are consulted.
/// `ENV` is last-but-two because POSIX shells use it for an rc file path; values that
/// are not an environment name are skipped by [`Environment::from_name`].
pub const ENV_VARS: &[&str] = &[
    "NODE_ENV",
    "RAILS_ENV",
    "RACK_ENV",
    "APP_ENV",
    "DJANGO_ENV",
    "FLASK_ENV",
    "MIX_ENV",
    "ASPNETCORE_ENVIRONMENT",
    "DOTNET_ENVIRONMENT",
    "ENVIRONMENT",
    "ENV",
    "STAGE",
];

/// Why a host was put in an environment: the environment and a human reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostClass {
    pub environment: Environment,
    /// e.g. "managed host: AWS RDS (*.rds.amazonaws.com)", "local host", "docker compose service name".
    pub reason: String,
}

/// Managed database services: (host suffix or exact host, provider). A suffix starts with '.'.
const MANAGED_HOSTS: &[(&str, &str)] = &[
    (".rds.amazonaws.com", "AWS RDS"),
    (".neon.tech", "Neon"),
    (".supabase.co", "Supabase"),
    (".supabase.com", "Supabase"),
    (".psdb.cloud", "PlanetScale"),
    ("db.prisma.io", "Prisma Postgres"),
    ("accelerate.prisma-data.net", "Prisma Accelerate"),
    (".compute-1.amazonaws.com", "Heroku (AWS EC2)"),
    (".compute.amazonaws.com", "Heroku (AWS EC2)"),
    (".postgres.database.azure.com", "Azure Database for PostgreSQL"),
    (".mysql.database.azure.com", "Azure Database for MySQL"),
    (".database.windows.net", "Azure SQL"),
    (".cloudsql.google.com", "Google Cloud SQL"),
    (".sql.goog", "Google Cloud SQL"),
    (".db.ondigitalocean.com", "DigitalOcean"),
    (".render.com", "Render"),
    (".railway.app", "Railway"),
    (".rlwy.net", "Railway"),
    (".aivencloud.com", "Aiven"),
    (".cockroachlabs.cloud", "CockroachDB Cloud"),
    (".timescale.com", "Timescale Cloud"),
    (".tsdb.cloud.timescale.com", "Timescale Cloud"),
    (".xata.sh", "Xata"),
    (".turso.io", "Turso"),
    (".nile.dev", "Nile"),
    (".crunchybridge.com", "Crunchy Bridge"),
    (".elephantsql.com", "ElephantSQL"),
    (".tidbcloud.com", "TiDB Cloud"),
];

/// The managed service a host belongs to, if any ("AWS RDS", "Neon", ...).
pub fn managed_provider(host: &str) -> Option<&'static str> {
    let h = normalize_host(host);
    MANAGED_HOSTS.iter().find_map(|(pat, name)| {
        let hit = if pat.starts_with('.') {
            h.ends_with(pat)
        } else {
            h == *pat || h.ends_with(&format!(".{pat}"))
        };
        hit.then_some(*name)
    })
}

fn normalize_host(host: &str) -> String {
    host.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

/// Labels of a name split on anything that is not a letter or digit
/// (`my-prod-db.internal` -> my, prod, db, internal).
fn labels(name: &str) -> impl Iterator<Item = String> + '_ {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|s| !s.is_empty())
        .map(|s| s.to_ascii_lowercase())
}

/// Does a host or database name say production (`prod`, `production`, `prd`, `live`
/// as a word, or a word starting with `prod`)?
pub fn name_says_production(name: &str) -> bool {
    labels(name).any(|l| l == "prd" || l == "live" || l.starts_with("prod"))
}

/// Does a host or database name say staging (`staging`, `stage`, `stg`, `preprod`, `uat`)?
pub fn name_says_staging(name: &str) -> bool {
    labels(name).any(|l| matches!(l.as_str(), "staging" | "stage" | "stg" | "preprod" | "uat"))
}

/// Is this host the local machine (or a Unix socket directory)?
pub fn is_local_host(host: &str) -> bool {
    let h = normalize_host(host);
    h.is_empty()
        || h.starts_with('/')
        || h.starts_with('@')
        || h == "localhost"
        || h.ends_with(".localhost")
        || h == "::1"
        || h == "0.0.0.0"
        || h.starts_with("127.")
        || h == "host.docker.internal"
}

/// A bare name such as `db` or `postgres`: a docker compose service or /etc/hosts alias.
pub fn is_service_name(host: &str) -> bool {
    let h = normalize_host(host);
    !h.is_empty()
        && !h.contains('.')
        && !h.contains(':')
        && h.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Classify a host by the URL rule: managed services and names saying prod are
/// production, names saying staging are staging, local hosts and compose service
/// names are development; anything else is unknown (`None`).
///
/// A name that says production wins over the local/service rule, so a compose service
/// called `prod-db` is not taken for development.
pub fn classify_host(host: &str) -> Option<HostClass> {
    let h = normalize_host(host);
    if let Some(provider) = managed_provider(&h) {
        return Some(HostClass {
            environment: Environment::Production,
            reason: format!("managed host ({provider})"),
        });
    }
    if !h.starts_with('/') && name_says_production(&h) {
        return Some(HostClass {
            environment: Environment::Production,
            reason: "host name says prod".into(),
        });
    }
    if !h.starts_with('/') && name_says_staging(&h) {
        return Some(HostClass {
            environment: Environment::Staging,
            reason: "host name says staging".into(),
        });
    }
    if is_local_host(&h) {
        let reason = if h.is_empty() || h.starts_with('/') {
            "local Unix socket"
        } else {
            "local host"
        };
        return Some(HostClass {
            environment: Environment::Development,
            reason: reason.into(),
        });
    }
    if is_service_name(&h) {
        return Some(HostClass {
            environment: Environment::Development,
            reason: "host without dots (docker compose service)".into(),
        });
    }
    None
}

/// Does this host look like production (managed service or a name saying prod)?
/// Used for the "development database on a production-looking host" warning.
pub fn host_looks_production(host: &str) -> bool {
    matches!(
        classify_host(host),
        Some(HostClass {
            environment: Environment::Production,
            ..
        })
    )
}

/// Match `text` against a glob where `*` is any run of characters and `?` one
/// character; case-insensitive (host names and database names rarely differ by case).
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    // Iterative matcher with backtracking to the last star: linear memory, no recursion.
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(host: &str) -> Environment {
        classify_host(host)
            .map(|c| c.environment)
            .unwrap_or(Environment::Unknown)
    }

    #[test]
    fn managed_hosts_are_production() {
        for h in [
            "mydb.abc123.eu-west-1.rds.amazonaws.com",
            "ep-cool-darkness-123456.us-east-2.aws.neon.tech",
            "db.abcdefgh.supabase.co",
            "aws-0-eu-central-1.pooler.supabase.com",
            "aws.connect.psdb.cloud",
            "db.prisma.io",
            "accelerate.prisma-data.net",
            "ec2-1-2-3-4.compute-1.amazonaws.com",
            "ec2-1-2-3-4.eu-west-1.compute.amazonaws.com",
            "srv.postgres.database.azure.com",
            "db-postgresql-fra1-123.b.db.ondigitalocean.com",
            "dpg-abc.oregon-postgres.render.com",
            "containers-us-west-1.railway.app",
            "roundhouse.proxy.rlwy.net",
            "pg-1.aivencloud.com",
            "free-tier.gcp-us-central1.cockroachlabs.cloud",
            "DB.PRISMA.IO.",
        ] {
            assert_eq!(env_of(h), Environment::Production, "{h}");
            assert!(host_looks_production(h), "{h}");
        }
    }

    #[test]
    fn names_and_local_hosts() {
        assert_eq!(env_of("prod-db.internal"), Environment::Production);
        assert_eq!(env_of("db.production.example.com"), Environment::Production);
        assert_eq!(env_of("staging.db.example.com"), Environment::Staging);
        assert_eq!(env_of("db-stage.example.com"), Environment::Staging);
        assert_eq!(env_of("localhost"), Environment::Development);
        assert_eq!(env_of("127.0.0.1"), Environment::Development);
        assert_eq!(env_of("::1"), Environment::Development);
        assert_eq!(env_of("[::1]"), Environment::Development);
        assert_eq!(env_of("/var/run/postgresql"), Environment::Development);
        assert_eq!(env_of(""), Environment::Development);
        assert_eq!(env_of("db"), Environment::Development);
        assert_eq!(env_of("postgres"), Environment::Development);
        assert_eq!(env_of("mysql"), Environment::Development);
        assert_eq!(
            env_of("prod"),
            Environment::Production,
            "a service called prod is not taken for development"
        );
        assert_eq!(env_of("db.example.com"), Environment::Unknown);
        assert_eq!(env_of("10.0.0.5"), Environment::Unknown);
        // "product" is a word starting with prod: better a false production than a false development.
        assert_eq!(env_of("products.example.com"), Environment::Production);
        assert_eq!(
            env_of("/tmp/prod"),
            Environment::Development,
            "socket paths are local whatever their name"
        );
    }

    #[test]
    fn names_saying_production() {
        assert!(name_says_production("app_prod"));
        assert!(name_says_production("production"));
        assert!(name_says_production("shop-live"));
        assert!(!name_says_production("app_dev"));
        assert!(!name_says_production("reproduce"));
        assert!(name_says_staging("app_staging"));
        assert!(!name_says_staging("app"));
    }

    #[test]
    fn env_names() {
        assert_eq!(Environment::from_name("Production"), Some(Environment::Production));
        assert_eq!(Environment::from_name("~/.shrc"), None);
    }

    #[test]
    fn globs() {
        assert!(glob_match("*.prod.internal", "db1.prod.internal"));
        assert!(!glob_match("*.prod.internal", "db1.staging.internal"));
        assert!(glob_match("app_?", "app_1"));
        assert!(glob_match("*", ""));
        assert!(glob_match(
            "postgres://*@db.example.com*/app",
            "postgres://u@db.example.com:5432/app"
        ));
        assert!(glob_match("MAIN", "main"));
        assert!(!glob_match("a*b*c", "abx"));
        assert!(glob_match("a*b*c", "axxbyyc"));
    }
}
