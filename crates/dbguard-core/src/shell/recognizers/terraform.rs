//! Terraform, OpenTofu and Terragrunt: `destroy`, `apply -destroy`, `apply -replace=ADDR`
//! and an `apply` of a saved plan, when the configuration manages databases.
//!
//! The configuration is read as Terraform reads it: every `*.tf` (HCL, with the hcl-rs
//! parser) and `*.tf.json` file of the working directory (or `-chdir=DIR`), and the modules
//! it calls: local sources, and remote ones that `terraform init` downloaded (found through
//! `.terraform/modules/modules.json`). A resource whose type holds data (RDS, Cloud SQL,
//! Azure database servers, Neon, Supabase, PlanetScale, DynamoDB, volumes...; see
//! [`data_type`]) is a database. With `-target`, what goes is the target and everything
//! that refers to it, directly or through other resources (references are read from each
//! block's text); a module whose source cannot be read is a database when its name or
//! source says so, and `unknown` otherwise, as is a configuration that cannot be read at
//! all. The state is never read: resources that exist only in the state (removed from
//! the files) cannot be seen, which the finding says.
//!
//! Not flagged: `plan` (even `plan -destroy`), `state rm`, `output`, `validate`, and a
//! plain `apply` (it can replace a database when the configuration changed; that shows
//! only in `terraform plan`).

use std::collections::{BTreeMap, BTreeSet};

use crate::finding::{Finding, FindingKind};
use crate::lookup::{Lookup, WalkLimits};

use super::cloud::{self, db_like};
use super::{Invocation, Outcome, Recognizer};

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "terraform",
    programs: &["terraform", "tofu", "terragrunt"],
    engine: None,
    destructive_potential: false,
    recognize,
};

/// Resource types that hold data: deleting one deletes a database (or the disk it lives on).
pub fn data_type(ty: &str) -> bool {
    const EXACT: &[&str] = &[
        "aws_db_instance",
        "aws_rds_cluster",
        "aws_rds_cluster_instance",
        "aws_rds_global_cluster",
        "aws_dynamodb_table",
        "aws_redshift_cluster",
        "aws_redshiftserverless_namespace",
        "aws_docdb_cluster",
        "aws_neptune_cluster",
        "aws_elasticache_cluster",
        "aws_elasticache_replication_group",
        "aws_memorydb_cluster",
        "aws_lightsail_database",
        "aws_timestreamwrite_database",
        "aws_ebs_volume",
        "aws_efs_file_system",
        "google_sql_database_instance",
        "google_sql_database",
        "google_spanner_instance",
        "google_spanner_database",
        "google_alloydb_cluster",
        "google_firestore_database",
        "google_bigtable_instance",
        "google_bigtable_table",
        "google_redis_instance",
        "google_compute_disk",
        "azurerm_managed_disk",
        "azurerm_redis_cache",
        "digitalocean_database_cluster",
        "digitalocean_database_db",
        "digitalocean_volume",
        "heroku_addon",
        "render_postgres",
        "cloudflare_d1_database",
        "mongodbatlas_cluster",
        "mongodbatlas_advanced_cluster",
        "scaleway_rdb_instance",
        "hcloud_volume",
        "docker_volume",
        "kubernetes_persistent_volume_claim",
        "kubernetes_persistent_volume_claim_v1",
        "kubernetes_persistent_volume",
        "kubernetes_persistent_volume_v1",
    ];
    const PREFIXES: &[&str] = &[
        "neon_project",
        "neon_branch",
        "neon_database",
        "supabase_project",
        "supabase_branch",
        "planetscale_database",
        "planetscale_branch",
        "turso_database",
        "aiven_pg",
        "aiven_mysql",
        "aiven_redis",
        "linode_database_",
        "vultr_database",
        "upcloud_managed_database_",
        "ovh_cloud_project_database",
    ];
    if EXACT.contains(&ty) || PREFIXES.iter().any(|p| ty.starts_with(p)) {
        return true;
    }
    ty.strip_prefix("azurerm_").is_some_and(|r| {
        r.ends_with("_server")
            || r.ends_with("_database")
            || ["postgresql", "mysql", "mariadb", "mssql", "cosmosdb", "sql_"]
                .iter()
                .any(|k| r.starts_with(k))
    })
}

fn is_volume(ty: &str) -> bool {
    ["volume", "_disk", "file_system"].iter().any(|k| ty.contains(k))
}

/// Bounds on what is read: modules nested this deep, this many files, this many bytes.
const MAX_MODULE_DEPTH: usize = 5;
const MAX_FILES: usize = 200;
const MAX_BYTES: usize = 8 * 1024 * 1024;
const LIST: WalkLimits = WalkLimits {
    max_entries: 2_000,
    max_depth: 1,
    skip: &[],
};

/// One resource or module call of the configuration.
#[derive(Debug, Clone, Default)]
struct Node {
    /// `aws_db_instance.main`, `module.db.aws_db_instance.this`, `module.db` for a call.
    addr: String,
    ty: String,
    /// Addresses (in the same module) its block mentions.
    refs: BTreeSet<String>,
    /// For a resource: `identifier`/`name` literal, and literal safety settings.
    named: Option<String>,
    skip_final_snapshot: bool,
    deletion_protection: bool,
    /// For a module call whose source could not be read: the source.
    unseen_source: Option<String>,
}

#[derive(Default)]
struct Config {
    /// The root module's directory (`modules.json` paths are relative to it).
    root: String,
    nodes: Vec<Node>,
    files: usize,
    bytes: usize,
    /// Files that do not parse or could not be read.
    problems: Vec<String>,
}

impl Config {
    fn load(&mut self, dir: &str, prefix: &str, lookup: &dyn Lookup, depth: usize, modules: &BTreeMap<String, String>) {
        let Some(listing) = lookup.walk_dir(dir, &LIST) else {
            return;
        };
        let mut names: Vec<String> = listing
            .entries
            .iter()
            .filter(|e| !e.dir && (e.path.ends_with(".tf") || e.path.ends_with(".tf.json")))
            .map(|e| e.path.clone())
            .collect();
        names.sort();
        let first = self.nodes.len();
        for path in names {
            if self.files >= MAX_FILES || self.bytes >= MAX_BYTES {
                self.problems.push(format!("{dir}: more files than dbguard reads"));
                break;
            }
            self.files += 1;
            let Some(text) = lookup.read_file(&path) else {
                self.problems.push(format!("{path} could not be read"));
                continue;
            };
            self.bytes += text.len();
            let ok = if path.ends_with(".json") {
                self.json(&text, prefix)
            } else {
                self.hcl(&text, prefix)
            };
            if !ok {
                self.problems.push(format!("{path} does not parse"));
            }
        }
        // References only count within one module: keep those naming a node of this one.
        let local: BTreeSet<String> = self.nodes[first..]
            .iter()
            .map(|n| n.addr[prefix.len()..].to_string())
            .collect();
        for n in &mut self.nodes[first..] {
            n.refs = n
                .refs
                .iter()
                .filter(|r| local.contains(*r))
                .map(|r| format!("{prefix}{r}"))
                .collect();
        }
        // Module calls: read their sources.
        let calls: Vec<(usize, String)> = self.nodes[first..]
            .iter()
            .enumerate()
            .filter(|(_, n)| n.ty == "module")
            .map(|(i, n)| (first + i, n.unseen_source.clone().unwrap_or_default()))
            .collect();
        for (i, source) in calls {
            let name = self.nodes[i].addr.clone();
            let key = name.split('.').skip(1).step_by(2).collect::<Vec<_>>().join(".");
            let local_dir = if source.starts_with("./") || source.starts_with("../") {
                Some(join(dir, &source))
            } else {
                modules.get(&key).map(|d| join(&self.root, d))
            };
            match local_dir {
                Some(d) if depth < MAX_MODULE_DEPTH && lookup.walk_dir(&d, &LIST).is_some() => {
                    self.nodes[i].unseen_source = None;
                    self.load(&d, &format!("{name}."), lookup, depth + 1, modules);
                }
                _ => {}
            }
        }
    }

    fn push_resource(&mut self, prefix: &str, ty: &str, name: &str, body_text: String, attrs: Attrs) {
        self.nodes.push(Node {
            addr: format!("{prefix}{ty}.{name}"),
            ty: ty.to_string(),
            refs: references(&body_text),
            named: attrs.named,
            skip_final_snapshot: attrs.skip_final_snapshot,
            deletion_protection: attrs.deletion_protection,
            unseen_source: None,
        });
    }

    fn push_module(&mut self, prefix: &str, name: &str, source: String, body_text: String) {
        self.nodes.push(Node {
            addr: format!("{prefix}module.{name}"),
            ty: "module".into(),
            refs: references(&body_text),
            unseen_source: Some(source),
            ..Node::default()
        });
    }

    fn hcl(&mut self, text: &str, prefix: &str) -> bool {
        let Ok(body) = hcl_edit::parser::parse_body(text) else {
            return false;
        };
        for block in body.blocks() {
            let labels: Vec<&str> = block.labels.iter().map(|l| l.as_str()).collect();
            match (block.ident.as_str(), labels.as_slice()) {
                ("resource", [ty, name]) => {
                    let lit = |k: &str| {
                        block
                            .body
                            .get_attribute(k)
                            .and_then(|a| a.value.as_str().map(str::to_string))
                    };
                    let flag = |k: &str| block.body.get_attribute(k).and_then(|a| a.value.as_bool()) == Some(true);
                    let attrs = Attrs {
                        named: lit("identifier")
                            .or_else(|| lit("name"))
                            .or_else(|| lit("cluster_identifier")),
                        skip_final_snapshot: flag("skip_final_snapshot"),
                        deletion_protection: flag("deletion_protection"),
                    };
                    self.push_resource(prefix, ty, name, block.body.to_string(), attrs);
                }
                ("module", [name]) => {
                    let source = block
                        .body
                        .get_attribute("source")
                        .and_then(|a| a.value.as_str().map(str::to_string))
                        .unwrap_or_default();
                    self.push_module(prefix, name, source, block.body.to_string());
                }
                _ => {}
            }
        }
        true
    }

    fn json(&mut self, text: &str, prefix: &str) -> bool {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else {
            return false;
        };
        if let Some(types) = v.get("resource").and_then(|r| r.as_object()) {
            for (ty, named) in types {
                for (name, body) in named.as_object().into_iter().flatten() {
                    let s = |k: &str| body.get(k).and_then(|x| x.as_str()).map(str::to_string);
                    let b = |k: &str| body.get(k).and_then(|x| x.as_bool()) == Some(true);
                    let attrs = Attrs {
                        named: s("identifier").or_else(|| s("name")),
                        skip_final_snapshot: b("skip_final_snapshot"),
                        deletion_protection: b("deletion_protection"),
                    };
                    self.push_resource(prefix, ty, name, body.to_string(), attrs);
                }
            }
        }
        if let Some(mods) = v.get("module").and_then(|r| r.as_object()) {
            for (name, body) in mods {
                let source = body
                    .get("source")
                    .and_then(|x| x.as_str())
                    .unwrap_or_default()
                    .to_string();
                self.push_module(prefix, name, source, body.to_string());
            }
        }
        true
    }
}

struct Attrs {
    named: Option<String>,
    skip_final_snapshot: bool,
    deletion_protection: bool,
}

fn join(dir: &str, rel: &str) -> String {
    let mut parts: Vec<&str> = if dir == "." || dir.is_empty() {
        Vec::new()
    } else {
        dir.split('/').collect()
    };
    for p in rel.split('/') {
        match p {
            "" | "." => {}
            ".." if parts.last().is_some_and(|l| *l != "..") => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

/// `TYPE.NAME` and `module.NAME` words in a block's text: what it may refer to.
fn references(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let bytes = text.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'-';
    let mut i = 0;
    while i < bytes.len() {
        if !word(bytes[i]) || (i > 0 && (word(bytes[i - 1]) || bytes[i - 1] == b'.')) {
            i += 1;
            continue;
        }
        let s = i;
        while i < bytes.len() && word(bytes[i]) {
            i += 1;
        }
        if i + 1 < bytes.len() && bytes[i] == b'.' && word(bytes[i + 1]) {
            let mut j = i + 1;
            while j < bytes.len() && word(bytes[j]) {
                j += 1;
            }
            out.insert(text[s..j].to_string());
        }
    }
    out
}

/// What `destroy` (with these targets) removes: the targets, then everything referring
/// to something removed; without targets, everything.
fn destroyed<'c>(cfg: &'c Config, targets: &[String]) -> Vec<&'c Node> {
    let matches =
        |addr: &str, t: &str| addr == t || addr.starts_with(&format!("{t}.")) || addr.starts_with(&format!("{t}["));
    let mut gone: BTreeSet<&str> = BTreeSet::new();
    for n in &cfg.nodes {
        if targets.is_empty() || targets.iter().any(|t| matches(&n.addr, t)) {
            gone.insert(&n.addr);
        }
    }
    loop {
        let before = gone.len();
        for n in &cfg.nodes {
            let inside_gone_module = gone
                .iter()
                .any(|g| g.contains("module.") && n.addr.starts_with(&format!("{g}.")));
            if inside_gone_module || n.refs.iter().any(|r| gone.contains(r.as_str())) {
                gone.insert(&n.addr);
            }
        }
        if gone.len() == before {
            break;
        }
    }
    cfg.nodes.iter().filter(|n| gone.contains(n.addr.as_str())).collect()
}

fn recognize(inv: &Invocation) -> Outcome {
    let mut chdir: Option<String> = None;
    let mut words: Vec<&str> = Vec::new();
    for w in inv.args {
        words.push(w.text.as_str());
    }
    let mut i = 0;
    while let Some(w) = words.get(i) {
        if let Some(d) = w.strip_prefix("-chdir=") {
            chdir = Some(d.to_string());
        } else if !w.starts_with('-') {
            break;
        }
        i += 1;
    }
    let tool = if inv.program == "terragrunt" {
        "terragrunt"
    } else {
        "terraform"
    };
    // `terragrunt run-all destroy`, `terragrunt run --all destroy`, `terragrunt run -- destroy`.
    let mut sub_at = i;
    if inv.program == "terragrunt" && matches!(words.get(sub_at).copied(), Some("run-all" | "run")) {
        sub_at += 1;
        while words.get(sub_at).is_some_and(|w| w.starts_with('-')) {
            sub_at += 1;
        }
    }
    let sub = words.get(sub_at).copied().unwrap_or("");
    let rest = words.get(sub_at + 1..).unwrap_or(&[]);
    let opt = |name: &str| -> Vec<String> {
        let mut out = Vec::new();
        let mut it = rest.iter().peekable();
        while let Some(w) = it.next() {
            let w = w.strip_prefix('-').unwrap_or(w);
            let w = w.strip_prefix('-').unwrap_or(w);
            if let Some(v) = w.strip_prefix(name).and_then(|r| r.strip_prefix('=')) {
                out.push(v.trim_matches(['"', '\'']).to_string());
            } else if w == name {
                if let Some(v) = it.next() {
                    out.push(v.to_string());
                }
            }
        }
        out
    };
    let flag = |name: &str| {
        rest.iter().any(|w| {
            w.trim_start_matches('-') == name || w.trim_start_matches('-').starts_with(&format!("{name}=true"))
        })
    };
    if rest.iter().any(|w| matches!(*w, "-help" | "--help" | "-h")) {
        return Outcome::default();
    }
    let replace = opt("replace");
    let saved_plan = sub == "apply" && rest.iter().any(|w| !w.starts_with('-') && !w.contains('='));
    let action = match sub {
        "destroy" => "destroy",
        "apply" if flag("destroy") => "apply -destroy",
        "apply" if !replace.is_empty() => "apply -replace",
        "apply" if saved_plan => "apply PLANFILE",
        _ => return Outcome::default(),
    };
    let dir = chdir.clone().unwrap_or_else(|| ".".to_string());
    let modules = read_modules_json(&dir, inv.lookup);
    let mut cfg = Config {
        root: dir.clone(),
        ..Config::default()
    };
    cfg.load(&dir, "", inv.lookup, 0, &modules);
    let targets = if action == "apply -replace" {
        replace.clone()
    } else {
        opt("target")
    };
    let mut ctx = Vec::new();
    if let Some(d) = &chdir {
        ctx.push(format!("directory {d}"));
    }
    if let Some(w) = inv.env_var("TF_WORKSPACE") {
        ctx.push(format!("workspace {w}"));
    }
    ctx.extend(opt("var-file").into_iter().map(|f| format!("var file {f}")));
    let safeguard = "run `terraform plan -destroy` to see exactly what would go; protect the databases in the \
configuration (`deletion_protection = true`, `lifecycle { prevent_destroy = true }`) and take a snapshot with the \
provider's own tool (for RDS: `aws rds create-db-snapshot`), which outlives the resource"
        .to_string();
    let mut findings = Vec::new();
    let mut names = Vec::new();
    let statement = format!("{tool} {action}");
    if action == "apply PLANFILE" {
        let dbs: Vec<&Node> = cfg
            .nodes
            .iter()
            .filter(|n| data_type(&n.ty) || n.unseen_source.is_some())
            .collect();
        if dbs.is_empty() && cfg.problems.is_empty() && !cfg.nodes.is_empty() {
            return Outcome::default();
        }
        let list = dbs
            .iter()
            .take(5)
            .map(|n| n.addr.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        findings.push(inv.unknown(
            tool,
            format!(
                "{tool} apply of a saved plan: the plan file cannot be read, and it may destroy or replace the databases this \
configuration manages{}",
                if list.is_empty() { String::new() } else { format!(" ({list})") }
            ),
        ));
    } else if cfg.nodes.is_empty() {
        // Nothing readable: only targets that name a database type say something.
        for t in &targets {
            if t.split('.').any(data_type) {
                names.push(t.clone());
                findings.push(db_finding(
                    inv,
                    tool,
                    &statement,
                    t,
                    t.split('.').find(|p| data_type(p)).unwrap_or(""),
                    None,
                ));
            }
        }
        if findings.is_empty() {
            findings.push(inv.unknown(
                tool,
                format!(
                    "{statement} in {dir}: no Terraform configuration could be read there{}, so what it destroys cannot be seen",
                    problems(&cfg)
                ),
            ));
        }
    } else {
        // A database target that the files do not declare (perhaps only in the state).
        for t in targets.iter().filter(|t| {
            !cfg.nodes
                .iter()
                .any(|n| n.addr == **t || n.addr.starts_with(&format!("{t}[")))
        }) {
            if let Some(ty) = t.split('.').find(|p| data_type(p)) {
                names.push(t.clone());
                findings.push(db_finding(inv, tool, &statement, t, ty, None));
            }
        }
        for n in destroyed(&cfg, &targets) {
            if let Some(src) = &n.unseen_source {
                if db_like(&n.addr)
                    || db_like(src)
                    || ["rds", "sql", "aurora", "dynamo", "redis"]
                        .iter()
                        .any(|k| src.contains(k))
                {
                    names.push(n.addr.clone());
                    findings.push(inv.finding(
                        tool,
                        FindingKind::DeleteCloudDatabase,
                        Some(n.addr.clone()),
                        format!(
                            "{statement} destroys {} (source {src}), a database module whose files are not downloaded \
(`terraform init` has not run), so its resources cannot be listed",
                            n.addr
                        ),
                        crate::finding::Scope::External,
                    ));
                } else {
                    findings.push(inv.unknown(
                        tool,
                        format!(
                            "{statement} destroys {} (source {src}), a module whose files cannot be read: whether it holds \
databases cannot be seen",
                            n.addr
                        ),
                    ));
                }
            } else if data_type(&n.ty) {
                names.extend(n.named.clone());
                names.push(n.addr.clone());
                findings.push(db_finding(inv, tool, &statement, &n.addr, &n.ty, Some(n)));
            }
        }
        if !cfg.problems.is_empty() && findings.is_empty() {
            findings.push(inv.unknown(
                tool,
                format!(
                    "{statement}: part of the configuration cannot be read{}",
                    problems(&cfg)
                ),
            ));
        }
    }
    if findings.is_empty() {
        return Outcome::default();
    }
    if findings.len() > 12 {
        let more = findings.len() - 10;
        findings.truncate(10);
        findings.push(inv.finding(
            tool,
            FindingKind::DeleteCloudDatabase,
            None,
            format!("{statement} destroys {more} more database resources"),
            crate::finding::Scope::External,
        ));
    }
    let resources: Vec<&str> = names
        .iter()
        .filter(|n| n.contains('.'))
        .map(String::as_str)
        .take(3)
        .collect();
    ctx.extend(names.iter().filter(|n| !n.contains('.')).map(|n| format!("named {n}")));
    let label = if resources.is_empty() {
        None
    } else {
        Some(resources.join(", "))
    };
    let res = cloud::resource("Terraform", "resources", label.as_deref(), ctx, safeguard);
    cloud::on(findings, res, None)
}

fn db_finding(inv: &Invocation, tool: &str, statement: &str, addr: &str, ty: &str, node: Option<&Node>) -> Finding {
    let mut detail = format!("{statement} destroys {addr}, a {ty} resource, and the data in it");
    if let Some(n) = node {
        if let Some(name) = &n.named {
            detail.push_str(&format!(" (named {name})"));
        }
        if n.skip_final_snapshot {
            detail.push_str("; skip_final_snapshot = true: no final snapshot is kept");
        }
        if n.deletion_protection {
            detail.push_str("; deletion_protection = true: the provider refuses until it is turned off");
        }
    }
    let kind = if is_volume(ty) {
        FindingKind::DeleteVolume
    } else {
        FindingKind::DeleteCloudDatabase
    };
    inv.finding(
        tool,
        kind,
        Some(addr.to_string()),
        detail,
        crate::finding::Scope::External,
    )
}

fn problems(cfg: &Config) -> String {
    if cfg.problems.is_empty() {
        String::new()
    } else {
        format!(
            " ({})",
            cfg.problems.iter().take(3).cloned().collect::<Vec<_>>().join("; ")
        )
    }
}

/// `.terraform/modules/modules.json`: module key (`db`, `db.inner`) -> downloaded directory.
fn read_modules_json(dir: &str, lookup: &dyn Lookup) -> BTreeMap<String, String> {
    let path = if dir == "." {
        ".terraform/modules/modules.json".to_string()
    } else {
        format!("{}/.terraform/modules/modules.json", dir.trim_end_matches('/'))
    };
    let Some(text) = lookup.read_file(&path) else {
        return BTreeMap::new();
    };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
        return BTreeMap::new();
    };
    v.get("Modules")
        .and_then(|m| m.as_array())
        .into_iter()
        .flatten()
        .filter_map(|m| Some((m.get("Key")?.as_str()?.to_string(), m.get("Dir")?.as_str()?.to_string())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::test_support::run_with;
    use super::super::Input;
    use super::*;
    use crate::lookup::MapLookup;

    fn project() -> MapLookup {
        let mut l = MapLookup::default();
        l.files.insert(
            "main.tf".into(),
            br#"
resource "aws_vpc" "main" { cidr_block = "10.0.0.0/16" }
resource "aws_subnet" "a" { vpc_id = aws_vpc.main.id }
resource "aws_db_subnet_group" "db" { subnet_ids = [aws_subnet.a.id] }
resource "aws_db_instance" "main" {
  identifier           = "shop-prod"
  db_subnet_group_name = aws_db_subnet_group.db.name
  skip_final_snapshot  = true
}
resource "aws_s3_bucket" "assets" { bucket = "assets" }
module "cache" { source = "./modules/cache" }
"#
            .to_vec(),
        );
        l.files.insert(
            "modules/cache/main.tf".into(),
            br#"resource "aws_elasticache_cluster" "this" { cluster_id = "c" }"#.to_vec(),
        );
        l
    }

    fn kinds(line: &str, l: &MapLookup) -> Vec<FindingKind> {
        run_with(&RECOGNIZER, line, l, &Input::Terminal)
            .findings
            .iter()
            .map(|f| f.kind)
            .collect()
    }

    #[test]
    fn destroy_reads_the_configuration() {
        let l = project();
        let o = run_with(&RECOGNIZER, "terraform destroy -auto-approve", &l, &Input::Terminal);
        let objects: Vec<&str> = o.findings.iter().filter_map(|f| f.object.as_deref()).collect();
        assert_eq!(
            objects,
            ["aws_db_instance.main", "module.cache.aws_elasticache_cluster.this"]
        );
        assert!(o.findings[0].detail.contains("skip_final_snapshot"));
        let res = o.hint.and_then(|h| h.resource).unwrap_or_default();
        assert!(res.context.iter().any(|c| c.contains("shop-prod")), "{res:?}");
        // A target the database depends on takes the database with it.
        assert_eq!(
            kinds("terraform destroy -target=aws_vpc.main", &l),
            [FindingKind::DeleteCloudDatabase]
        );
        assert!(kinds("terraform destroy -target=aws_s3_bucket.assets", &l).is_empty());
        assert_eq!(
            kinds("terraform apply -replace=aws_db_instance.main", &l),
            [FindingKind::DeleteCloudDatabase]
        );
        for c in [
            "terraform plan -destroy",
            "terraform apply",
            "terraform state rm aws_db_instance.main",
            "terraform -chdir=. plan",
        ] {
            assert!(kinds(c, &l).is_empty(), "{c}");
        }
    }

    #[test]
    fn what_cannot_be_seen_is_said() {
        let empty = MapLookup::default();
        assert_eq!(kinds("terraform destroy", &empty), [FindingKind::Unknown]);
        assert_eq!(
            kinds("terraform destroy -target=aws_rds_cluster.main", &empty),
            [FindingKind::DeleteCloudDatabase]
        );
        let mut l = MapLookup::default();
        l.files.insert(
            "main.tf".into(),
            br#"module "vpc" { source = "terraform-aws-modules/vpc/aws" }
module "db" { source = "terraform-aws-modules/rds/aws" }"#
                .to_vec(),
        );
        let mut k = kinds("terraform destroy", &l);
        k.sort();
        assert_eq!(k, [FindingKind::Unknown, FindingKind::DeleteCloudDatabase]);
        l.files.insert("broken.tf".into(), b"resource \"x\" {".to_vec());
        assert!(kinds("terraform destroy", &l).contains(&FindingKind::DeleteCloudDatabase));
    }

    #[test]
    fn types_and_references() {
        for t in [
            "aws_db_instance",
            "google_sql_database_instance",
            "azurerm_postgresql_flexible_server",
            "azurerm_mssql_database",
            "neon_project",
            "supabase_project",
            "planetscale_database",
        ] {
            assert!(data_type(t), "{t}");
        }
        for t in [
            "aws_s3_bucket",
            "aws_vpc",
            "azurerm_resource_group",
            "aws_db_subnet_group",
        ] {
            assert!(!data_type(t), "{t}");
        }
        let r = references("vpc_id = aws_vpc.main.id\nx = \"${module.net.id}\"");
        assert!(r.contains("aws_vpc.main") && r.contains("module.net"), "{r:?}");
        assert_eq!(join("infra", "../modules/db"), "modules/db");
    }
}
