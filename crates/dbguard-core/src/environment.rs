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
