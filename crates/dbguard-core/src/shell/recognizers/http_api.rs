//! Provider APIs called with curl: Railway's GraphQL mutations that delete volumes,
//! services, environments and projects (`volumeDelete`...; the body of `-d`/`--data*`/
//! `--json`, inline, from a file with `@FILE`, or from standard input with `@-`), and
//! `DELETE` requests to the REST APIs of database providers (Neon, Supabase, Heroku,
//! Render, Fly Machines, Turso, PlanetScale, Cloudflare D1, DigitalOcean).

use crate::finding::FindingKind;
use crate::shell::words::Spec;

use super::cloud;
use super::{Input, Invocation, Outcome, Recognizer};

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "curl",
    programs: &["curl"],
    engine: None,
    destructive_potential: false,
    recognize,
};

const SPEC: Spec = Spec {
    short: "XdHuoAeEFTbcKmrwxy",
    long: &[
        "request",
        "data",
        "data-raw",
        "data-binary",
        "data-ascii",
        "data-urlencode",
        "json",
        "header",
        "user",
        "output",
        "user-agent",
        "referer",
        "cert",
        "form",
        "upload-file",
        "cookie",
        "cookie-jar",
        "config",
        "max-time",
        "connect-timeout",
        "retry",
        "write-out",
        "proxy",
        "url",
        "oauth2-bearer",
        "resolve",
        "cacert",
    ],
    ..Spec::DEFAULT
};

/// Railway GraphQL mutations that delete data.
const RAILWAY_MUTATIONS: &[(&str, &str, FindingKind)] = &[
    ("volumeDelete", "volume", FindingKind::DeleteVolume),
    ("volumeInstanceDelete", "volume", FindingKind::DeleteVolume),
    ("serviceDelete", "service", FindingKind::DeleteCloudDatabase),
    ("environmentDelete", "environment", FindingKind::DeleteCloudDatabase),
    ("projectDelete", "project", FindingKind::DeleteCloudDatabase),
];

/// REST APIs: (host, path fragment, provider, kind of resource).
const DELETE_APIS: &[(&str, &str, &str, &str)] = &[
    ("console.neon.tech", "/branches/", "Neon", "branch"),
    ("console.neon.tech", "/databases/", "Neon", "database"),
    ("console.neon.tech", "/projects/", "Neon", "project"),
    ("api.supabase.com", "/branches/", "Supabase", "branch"),
    ("api.supabase.com", "/projects/", "Supabase", "project"),
    ("api.heroku.com", "/addons/", "Heroku", "add-on"),
    ("api.heroku.com", "/apps/", "Heroku", "app"),
    ("api.render.com", "/postgres/", "Render", "Postgres database"),
    ("api.render.com", "/redis/", "Render", "Redis instance"),
    ("api.machines.dev", "/volumes/", "Fly.io", "volume"),
    ("api.turso.tech", "/databases/", "Turso", "database"),
    ("api.planetscale.com", "/branches/", "PlanetScale", "branch"),
    ("api.planetscale.com", "/databases/", "PlanetScale", "database"),
    ("api.cloudflare.com", "/d1/database/", "Cloudflare D1", "database"),
    (
        "api.digitalocean.com",
        "/databases/",
        "DigitalOcean",
        "database cluster",
    ),
    ("api.digitalocean.com", "/volumes/", "DigitalOcean", "volume"),
];

fn recognize(inv: &Invocation) -> Outcome {
    let a = inv.args(&SPEC);
    let url = a
        .value(&["--url"])
        .map(str::to_string)
        .or_else(|| {
            a.pos
                .iter()
                .find(|w| w.text.contains("://") || w.text.contains('.'))
                .map(|w| w.text.clone())
        })
        .unwrap_or_default();
    let host = url
        .split("://")
        .nth(1)
        .unwrap_or(&url)
        .split(['/', '?', ':'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let method = a.value(&["-X", "--request"]).unwrap_or("").to_ascii_uppercase();
    let mut bodies = Vec::new();
    for o in a.values(&["-d", "--data", "--data-raw", "--data-binary", "--data-ascii", "--json"]) {
        let Some(v) = o.value.as_deref() else { continue };
        match v.strip_prefix('@').filter(|_| o.name != "--data-raw") {
            Some("-") => {
                if let Input::Text(t) = inv.stdin {
                    bodies.push(t.clone());
                }
            }
            Some(file) => bodies.extend(inv.lookup.read_file(file)),
            None => bodies.push(v.to_string()),
        }
    }
    for body in &bodies {
        if let Some((name, kind, finding)) = railway_mutation(body) {
            let id = argument_value(body);
            let res = cloud::resource(
                "Railway",
                kind,
                id.as_deref(),
                vec![format!("API {host}")],
                super::railway::SAFEGUARD.into(),
            );
            let detail =
                format!("curl sends Railway's GraphQL mutation {name}, which deletes the {kind} and the data in it");
            return cloud::delete(inv, "curl", finding, res, detail);
        }
    }
    if method != "DELETE" {
        return Outcome::default();
    }
    let path = url.split_once(&host).map_or("", |(_, p)| p);
    let Some((_, frag, provider, kind)) = DELETE_APIS
        .iter()
        .find(|(h, frag, _, _)| (host == *h || host.ends_with(&format!(".{h}"))) && path.contains(frag))
    else {
        return Outcome::default();
    };
    let id = path
        .split(frag)
        .nth(1)
        .and_then(|r| r.split(['/', '?']).next())
        .filter(|s| !s.is_empty());
    let res = cloud::resource(
        provider,
        kind,
        id,
        vec![format!("API {host}")],
        format!("take a backup or a copy with {provider}'s own tools first, and check how long {provider} keeps a deleted {kind} restorable"),
    );
    let detail = format!("curl -X DELETE {host}{path} deletes the {provider} {kind} and the data in it");
    cloud::delete(inv, "curl", FindingKind::DeleteCloudDatabase, res, detail)
}

/// The first Railway deleting mutation a GraphQL body (JSON, or the bare query) calls.
fn railway_mutation(body: &str) -> Option<(&'static str, &'static str, FindingKind)> {
    let query = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("query").and_then(|q| q.as_str()).map(str::to_string))
        .unwrap_or_else(|| body.to_string());
    if !query.contains("mutation") {
        return None;
    }
    let idents = query.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
    for w in idents {
        if let Some((name, kind, f)) = RAILWAY_MUTATIONS.iter().find(|(n, _, _)| *n == w) {
            return Some((name, kind, *f));
        }
    }
    None
}

/// The id the mutation names (`volumeDelete(volumeId: "...")`), when it is a literal.
fn argument_value(body: &str) -> Option<String> {
    let start = body.find("Id")?;
    let rest = &body[start..];
    let q = rest.find(['"', '\''])?;
    let rest = rest[q..].trim_start_matches(['"', '\'', '\\']);
    let end = rest.find(['"', '\'', '\\'])?;
    Some(rest[..end].to_string()).filter(|s| !s.is_empty() && !s.contains('$'))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::run;
    use super::*;

    #[test]
    fn recognizes() {
        assert_eq!(
            run(
                &RECOGNIZER,
                r#"curl -X POST https://backboard.railway.app/graphql/v2 -H 'Authorization: Bearer x' -H 'Content-Type: application/json' -d '{"query":"mutation { volumeDelete(volumeId: \"vol-1\") }"}'"#
            ),
            [FindingKind::DeleteVolume]
        );
        assert_eq!(
            run(&RECOGNIZER, "curl -X DELETE https://console.neon.tech/api/v2/projects/p-1/branches/br-2 -H 'Authorization: Bearer x'"),
            [FindingKind::DeleteCloudDatabase]
        );
        for c in [
            "curl https://backboard.railway.app/graphql/v2 -d '{\"query\":\"query { me { name } }\"}'",
            "curl -X GET https://console.neon.tech/api/v2/projects",
            "curl -X DELETE https://api.example.com/items/1",
            "curl -fsSL https://example.com/install.sh",
        ] {
            assert!(run(&RECOGNIZER, c).is_empty(), "{c}");
        }
    }
}
