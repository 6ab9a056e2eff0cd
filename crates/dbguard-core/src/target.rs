//! What a command says about its own target, before any environment or file is read.

use serde::Serialize;

/// A database the operation names itself. The fields are raw (unredacted) for the
/// resolver; serializing redacts the URL and the values of inline assignments, so a
/// hint can never carry a password into JSON output, logs or approvals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TargetHint {
    /// The tool that will connect (`prisma`, `psql`, `sqlite3`, `rails`...).
    pub tool: Option<String>,
    /// A connection URL given on the command line (`--url`, a positional URL, `-d URL`).
    #[serde(serialize_with = "ser_redacted_opt")]
    pub url: Option<String>,
    /// Inline assignments in front of the command (`DATABASE_URL=... npx prisma ...`,
    /// `PGHOST=...`, `RAILS_ENV=production`), in order.
    #[serde(serialize_with = "ser_redacted_env")]
    pub env: Vec<(String, String)>,
    /// psql/pg_dump/mysql-style discrete flags.
    pub host: Option<String>,
    pub port: Option<String>,
    pub user: Option<String>,
    pub dbname: Option<String>,
    /// A database file (sqlite3 FILE, `rm FILE`).
    pub file: Option<String>,
    /// The engine the tool implies, when it does (`psql` -> postgres).
    pub engine: Option<Engine>,
    /// A database the command reaches through a provider or an infrastructure tool
    /// rather than a connection (an RDS instance, a Neon branch, a Kubernetes volume,
    /// a Terraform configuration): the edge then classifies this resource instead of
    /// looking for a URL, and knows that no snapshot of it can be taken.
    pub resource: Option<Resource>,
    /// Why the database cannot be known from the command line (a variable that is set
    /// nowhere, a value computed at run time): the edge then never guesses, and decides
    /// with the strictest environment the configuration knows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown: Option<String>,
    /// Where the command runs when that is not this machine's shell (`ssh HOST`,
    /// `kubectl exec`, `docker exec`): the names there say which environment it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place: Option<Place>,
    /// What the command line did to the environment the tool sees, beyond `env`.
    #[serde(skip_serializing_if = "VarFacts::is_empty")]
    pub vars: VarFacts,
    /// The directory the tool runs in, relative to the command's working directory
    /// (`cd api && ...`, a workspace package), when it is another one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dir: Option<String>,
}

/// A place that is not this machine's shell, and the names that say what it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Place {
    /// `ssh`, `kubectl exec`, `docker exec`, `heroku run`...
    pub via: String,
    /// (role, name): ("host", "prod-db"), ("context", "prod-eks"), ("container", "db").
    pub names: Vec<(String, String)>,
    /// Another machine (ssh, a cluster, a remote docker daemon): nothing of this
    /// machine's environment or files applies there.
    pub remote: bool,
}

impl Place {
    /// `ssh prod-db`, `kubectl exec (context prod, pod api-0)`.
    pub fn describe(&self) -> String {
        let names: Vec<String> = self.names.iter().map(|(r, n)| format!("{r} {n}")).collect();
        format!("{} ({})", self.via, names.join(", "))
    }
}

/// Variables the command line changed in ways `TargetHint::env` cannot say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VarFacts {
    /// Set to a value that cannot be known here: (name, why).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<(String, String)>,
    /// Removed (`unset X`, `env -u X`): the process environment's value does not reach the tool.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
    /// Nothing of the process environment is inherited (`env -i`, a container, another machine).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub clean: bool,
    /// Any variable may have been changed by something that cannot be read (`source` of an
    /// unreadable file): why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opaque: Option<String>,
    /// Where a value in `env` came from when it was not written inline: (name, origin),
    /// e.g. ("DATABASE_URL", "sourced from .env").
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub origins: Vec<(String, String)>,
    /// Expansions in the words that name the database, and where their value came from:
    /// ("$DATABASE_URL", "sourced from .env"), ("$DB_HOST", "the process environment").
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expanded: Vec<(String, String)>,
}

impl VarFacts {
    pub fn is_empty(&self) -> bool {
        self.unknown.is_empty()
            && self.removed.is_empty()
            && !self.clean
            && self.opaque.is_none()
            && self.origins.is_empty()
            && self.expanded.is_empty()
    }

    /// Why `name` cannot be known, when the command line made it unknowable.
    pub fn unknown_reason(&self, name: &str) -> Option<&str> {
        self.unknown
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, w)| w.as_str())
    }

    pub fn origin(&self, name: &str) -> Option<&str> {
        self.origins
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, o)| o.as_str())
    }
}

/// A database (or the volume or configuration holding one) named by a cloud or
/// infrastructure command.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Resource {
    /// Who holds it: `AWS RDS`, `Google Cloud SQL`, `Kubernetes`, `Terraform`.
    pub provider: String,
    /// What it is: `DB instance`, `branch`, `persistent volume claim`, `configuration`.
    pub kind: String,
    /// Its name as the command gives it (`--db-instance-identifier prod-db`), when it does.
    pub name: Option<String>,
    /// What else the command says about where it lives: `profile prod`, `project shop`,
    /// `namespace db`, `context prod-eu`, `stack production`.
    pub context: Vec<String>,
    /// It lives on this machine (a local Docker volume, a local Supabase stack).
    pub local: bool,
    /// The provider's own way back, to check before running: deletion protection, a
    /// final snapshot, a backup command. One or two sentences.
    pub safeguard: String,
}

impl Resource {
    /// "AWS RDS DB instance prod-db (profile prod)".
    pub fn describe(&self) -> String {
        let mut s = format!("{} {}", self.provider, self.kind);
        if let Some(n) = &self.name {
            s.push(' ');
            s.push_str(n);
        }
        if !self.context.is_empty() {
            s.push_str(&format!(" ({})", self.context.join(", ")));
        }
        s
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    Postgres,
    Sqlite,
    Mysql,
    Mongo,
    Redis,
}

impl TargetHint {
    pub fn env_var(&self, name: &str) -> Option<&str> {
        self.env.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Mask the command's secrets where they landed in a non-secret field (`mysql --password
    /// NAME` makes NAME the database): for a hint that is shown, once the resolver has used it.
    pub fn hide_secrets(&mut self, secrets: &crate::redact::Secrets) {
        for f in [
            &mut self.host,
            &mut self.port,
            &mut self.user,
            &mut self.dbname,
            &mut self.file,
        ] {
            if let Some(v) = f.as_mut() {
                *v = secrets.mask(v);
            }
        }
        for (_, v) in &mut self.env {
            *v = secrets.mask(v);
        }
    }
}

fn ser_redacted_opt<S: serde::Serializer>(v: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(u) => s.serialize_some(&crate::redact::redact_url(u)),
        None => s.serialize_none(),
    }
}

/// Values of secret-looking keys (`PGPASSWORD`, `*_PASSWORD`, `*_TOKEN`...) are masked
/// whole; other values go through URL/key=value redaction.
fn ser_redacted_env<S: serde::Serializer>(v: &[(String, String)], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(v.len()))?;
    for (k, val) in v {
        let shown = if crate::redact::is_secret_key(k) {
            "***".to_string()
        } else {
            crate::redact::redact_text(val)
        };
        seq.serialize_element(&(k, shown))?;
    }
    seq.end()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializing_a_hint_redacts_secrets() {
        let h = TargetHint {
            url: Some("postgres://u:topsecret@h/db".into()),
            env: vec![
                ("PGPASSWORD".into(), "topsecret".into()),
                ("DATABASE_URL".into(), "postgres://u:topsecret@h/db".into()),
                ("APP_DB_PASSWORD".into(), "topsecret".into()),
            ],
            ..Default::default()
        };
        let json = serde_json::to_string(&h).unwrap();
        assert!(!json.contains("topsecret"), "{json}");
        assert!(json.contains("u:***@h/db"), "{json}");
    }
}
