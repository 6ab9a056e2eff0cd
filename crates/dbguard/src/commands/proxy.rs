//! `dbguard proxy [--listen 127.0.0.1:6432] [--upstream URL] [--json-log]`: the PostgreSQL
//! proxy (crate `dbguard-proxy`), with this binary's policy, approvals and audit log as its
//! guard. Upstreams come from `--upstream` or `[proxy]` in dbguard.toml; each is resolved like
//! `--url` (its environment from dbguard.toml, the environment variables, the URL).
//! Reference: docs/proxy.md.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use dbguard_core::policy::Action;
use dbguard_core::redact::redact_text;
use dbguard_core::{Environment, FindingKind};
use dbguard_proxy::{Ask, DecisionRequest, Guard, Refusal, Verdict};

use crate::approval;
use crate::audit::{self, door, outcome};
use crate::config::Config;
use crate::exit;
use crate::plan::{self, Plan};
use crate::target::{resolve, ResolveRequest, ResolvedTarget};

const DEFAULT_LISTEN: &str = "127.0.0.1:6432";

#[derive(clap::Args)]
pub struct Args {
    /// Where clients connect: HOST:PORT, or a Unix socket path (libpq finds DIR/.s.PGSQL.PORT).
    /// Default: [proxy] listen in dbguard.toml, else 127.0.0.1:6432.
    #[arg(long)]
    pub listen: Option<String>,
    /// The PostgreSQL server to relay to (a URL; its user and password are not used: clients
    /// log in as themselves). Default: [[proxy.upstreams]] in dbguard.toml.
    #[arg(long)]
    pub upstream: Option<String>,
    /// One JSON object per log line.
    #[arg(long)]
    pub json_log: bool,
}

/// One upstream as configured.
struct UpstreamConf {
    name: Option<String>,
    url: String,
    environment: Option<Environment>,
}

/// `[proxy]` in dbguard.toml.
struct ProxyConf {
    listen: Option<String>,
    upstreams: Vec<UpstreamConf>,
    max_clients: Option<usize>,
    shutdown_grace: Option<Duration>,
    max_statement_bytes: Option<usize>,
    threads: Option<usize>,
}

fn proxy_conf(cfg: &Config) -> anyhow::Result<ProxyConf> {
    let t = &cfg.proxy;
    let str_of = |v: &toml::Value, key: &str| {
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| anyhow!("[proxy] {key} must be a string"))
    };
    let int_of = |key: &str| -> anyhow::Result<Option<usize>> {
        t.get(key)
            .map(|v| {
                v.as_integer()
                    .and_then(|i| usize::try_from(i).ok())
                    .filter(|i| *i > 0)
                    .ok_or_else(|| anyhow!("[proxy] {key} must be a positive integer"))
            })
            .transpose()
    };
    let mut upstreams = Vec::new();
    if let Some(list) = t.get("upstreams") {
        let list = list
            .as_array()
            .ok_or_else(|| anyhow!("[[proxy.upstreams]] must be a list of tables"))?;
        for item in list {
            let item = item
                .as_table()
                .ok_or_else(|| anyhow!("[[proxy.upstreams]] must be a list of tables"))?;
            let url = item
                .get("url")
                .map(|v| str_of(v, "upstreams.url"))
                .transpose()?
                .ok_or_else(|| anyhow!("[[proxy.upstreams]] needs url = \"postgres://...\""))?;
            let name = item.get("name").map(|v| str_of(v, "upstreams.name")).transpose()?;
            let environment = match item.get("environment") {
                Some(v) => {
                    let s = str_of(v, "upstreams.environment")?;
                    Some(Environment::from_name(&s).ok_or_else(|| {
                        anyhow!("[[proxy.upstreams]] environment = {s:?}: expected production, staging, development or unknown")
                    })?)
                }
                None => None,
            };
            upstreams.push(UpstreamConf { name, url, environment });
        }
    }
    let duration = |key: &str| -> anyhow::Result<Option<Duration>> {
        t.get(key)
            .map(|v| crate::config::parse_duration(&str_of(v, key)?).with_context(|| format!("[proxy] {key}")))
            .transpose()
    };
    Ok(ProxyConf {
        listen: t.get("listen").map(|v| str_of(v, "listen")).transpose()?,
        upstreams,
        max_clients: int_of("max_clients")?,
        shutdown_grace: duration("shutdown_grace")?,
        max_statement_bytes: int_of("max_statement_bytes")?,
        threads: int_of("threads")?,
    })
}

/// The upstream URLs of dbguard.toml's `[proxy]` (for the trash commands).
pub fn configured_upstream_urls(cfg: &Config) -> Vec<(Option<String>, String)> {
    proxy_conf(cfg)
        .map(|p| p.upstreams.into_iter().map(|u| (u.name, u.url)).collect())
        .unwrap_or_default()
}

pub fn run(a: Args) -> anyhow::Result<u8> {
    let cwd = std::env::current_dir().context("reading the working directory")?;
    let cfg = Config::load(&cwd)?;
    let conf = proxy_conf(&cfg)?;
    let mut wanted = match &a.upstream {
        Some(url) => vec![UpstreamConf {
            name: None,
            url: url.clone(),
            environment: None,
        }],
        None => conf.upstreams,
    };
    if wanted.is_empty() {
        eprintln!(
            "dbguard proxy: no upstream: give --upstream postgres://HOST:PORT/DB, or add [[proxy.upstreams]] with url = ... to dbguard.toml"
        );
        return Ok(exit::USAGE);
    }
    let listen_text = a
        .listen
        .clone()
        .or(conf.listen)
        .unwrap_or_else(|| DEFAULT_LISTEN.to_string());
    let listen = dbguard_proxy::Listen::parse(&listen_text).map_err(|e| anyhow!(e))?;
    let mut targets = Vec::new();
    let mut upstreams = Vec::new();
    for (i, u) in wanted.drain(..).enumerate() {
        let mut target = resolve(&ResolveRequest::from_process(Some(u.url.clone()), cwd.clone(), None))
            .with_context(|| format!("upstream {}", redact_text(&u.url)))?;
        if let Some(env) = u.environment {
            target.environment = env;
            target.environment_rule = "[[proxy.upstreams]] environment in dbguard.toml".into();
        }
        let up = dbguard_proxy::Upstream::from_url(u.name.as_deref(), &u.url, target.environment.as_str(), i, |k| {
            std::env::var(k).ok()
        })
        .map_err(|e| anyhow!(e))?;
        if upstreams
            .iter()
            .any(|o: &Arc<dbguard_proxy::Upstream>| o.name == up.name)
        {
            bail!(
                "two upstreams answer to the database name {:?}: give each [[proxy.upstreams]] its own name",
                up.label()
            );
        }
        targets.push(target);
        upstreams.push(Arc::new(up));
    }
    let mut config = dbguard_proxy::Config::new(listen, upstreams);
    if let Some(n) = conf.max_clients {
        config.max_clients = n;
    }
    if let Some(d) = conf.shutdown_grace {
        config.shutdown_grace = d;
    }
    if let Some(n) = conf.max_statement_bytes {
        config.max_statement_bytes = n;
    }
    let log = dbguard_proxy::Logger::stdout(a.json_log);
    for (up, t) in config.upstreams.iter().zip(&targets) {
        log.event(
            "upstream",
            &format!(
                "{} ({} environment, {}): clients use {}",
                up.display,
                t.environment.as_str(),
                t.environment_rule,
                client_url(&config.listen, up, t)
            ),
            &[
                ("upstream", serde_json::json!(up.label())),
                ("environment", serde_json::json!(t.environment.as_str())),
                ("database_url", serde_json::json!(client_url(&config.listen, up, t))),
            ],
        );
    }
    log.event(
        "listening",
        &format!("dbguard proxy listening on {}", config.listen.describe()),
        &[("listen", serde_json::json!(config.listen.describe()))],
    );
    let guard = Arc::new(BinaryGuard { targets, cwd });
    let threads = conf
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .context("starting the proxy's runtime")?;
    rt.block_on(dbguard_proxy::serve(config, guard, log, stop_signal()))
        .context("dbguard proxy")?;
    Ok(exit::OK)
}

/// SIGTERM or SIGINT.
async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => std::future::pending::<()>().await,
    }
}

/// The URL an application uses to connect through the proxy (no password: its own).
fn client_url(listen: &dbguard_proxy::Listen, up: &dbguard_proxy::Upstream, t: &ResolvedTarget) -> String {
    let user = t.user.as_deref().filter(|u| !u.is_empty()).unwrap_or("USER");
    let db = up.name.as_deref().unwrap_or("DATABASE");
    match listen {
        dbguard_proxy::Listen::Tcp(addr) => format!("postgres://{user}@{addr}/{db}?sslmode=disable"),
        dbguard_proxy::Listen::Unix(path) => {
            let dir = path.parent().map(|d| d.display().to_string()).unwrap_or_default();
            let port = path
                .file_name()
                .and_then(|f| f.to_str())
                .and_then(|f| f.strip_prefix(".s.PGSQL."))
                .unwrap_or("5432");
            format!("postgres://{user}@/{db}?host={dir}&port={port}")
        }
    }
}

/// The proxy's guard: this binary's policy, approvals and audit log.
struct BinaryGuard {
    targets: Vec<ResolvedTarget>,
    cwd: PathBuf,
}

impl Guard for BinaryGuard {
    fn decide(&self, req: &DecisionRequest<'_>) -> Verdict {
        let Some(target) = self.targets.get(req.upstream.index) else {
            return refuse("no such upstream", "fail closed", true);
        };
        let plan = plan::for_target(
            req.text.to_string(),
            self.cwd.clone(),
            req.findings.to_vec(),
            target.clone(),
        );
        let session = format!(
            "proxy session: role {}, database {}, application {:?}, client {}",
            req.session.user, req.session.database, req.session.application_name, req.session.client
        );
        let (action, reason, rule) = match req.ask {
            Ask::Destructive => (
                plan.verdict.action,
                plan.verdict.reason.clone(),
                plan.verdict.rule.clone(),
            ),
            Ask::SoftDrop => soft_drop_rule(&plan, target),
        };
        let mut entry = audit::Entry::from_plan(&plan, door::PROXY);
        entry.verdict = action.as_str().to_string();
        entry.reason = redact_text(&reason);
        entry.rule = rule.clone();
        entry.detail = Some(session);
        let record = |e: &audit::Entry| audit::record(e).map_err(|err| format!("{err:#}"));
        match action {
            Action::Allow | Action::Snapshot => {
                entry.outcome = if req.ask == Ask::SoftDrop {
                    outcome::SOFT_DROPPED
                } else {
                    outcome::ALLOWED
                }
                .into();
                match record(&entry) {
                    Ok(()) => Verdict::Allow { approval: None, rule },
                    Err(e) => audit_failed(&e),
                }
            }
            Action::Approve => match approval::consume(&plan) {
                Ok(Some(a)) => {
                    entry.outcome = if req.ask == Ask::SoftDrop {
                        outcome::SOFT_DROPPED
                    } else {
                        outcome::ALLOWED
                    }
                    .into();
                    entry.approval = Some(a.code.clone());
                    match record(&entry) {
                        Ok(()) => Verdict::Allow {
                            rule: format!("approved by a person ({})", a.code),
                            approval: Some(a.code),
                        },
                        Err(e) => audit_failed(&e),
                    }
                }
                Ok(None) => {
                    let pending = approval::request(&plan);
                    entry.outcome = outcome::NEEDS_APPROVAL.into();
                    entry.approval = pending.as_ref().ok().map(|p| p.code.clone());
                    if let Err(e) = record(&entry) {
                        return audit_failed(&e);
                    }
                    Verdict::Refuse(Refusal {
                        blocked: false,
                        reason,
                        rule,
                        approval: pending.ok().map(|p| dbguard_proxy::ApprovalCode {
                            code: p.code,
                            expires_at: p.expires_at,
                        }),
                    })
                }
                Err(e) => audit_failed(&format!("approvals unreadable: {e:#}")),
            },
            Action::Block => {
                entry.outcome = outcome::BLOCKED.into();
                if let Err(e) = record(&entry) {
                    return audit_failed(&e);
                }
                refuse(&reason, &rule, true)
            }
        }
    }
}

/// A DROP TABLE that becomes a soft-drop loses nothing, so it passes everywhere, unless the
/// database is protected or dbguard.toml names `drop_table` for its environment explicitly
/// (e.g. `[policy.production] drop_table = "block"`), which then applies to the soft-drop too.
fn soft_drop_rule(plan: &Plan, target: &ResolvedTarget) -> (Action, String, String) {
    if target.protected {
        return (
            Action::Block,
            "the database is marked protected in dbguard.toml".into(),
            "protected = true".into(),
        );
    }
    let cfg = Config::load(&plan.cwd);
    let (policy, _) = plan::policy_with_notes(&cfg);
    let envp = match target.environment {
        Environment::Production => &policy.production,
        Environment::Staging => &policy.staging,
        Environment::Development => &policy.development,
        Environment::Unknown => &policy.unknown,
    };
    let kind = FindingKind::DropTable.as_str();
    match envp.kinds.get(kind) {
        Some(&action) if action > Action::Snapshot => (
            action,
            format!(
                "dbguard.toml sets {kind} = \"{}\" for {} databases, soft-drop or not",
                action.as_str(),
                target.environment.as_str()
            ),
            format!("policy.{}.{kind}", target.environment.as_str()),
        ),
        _ => (
            Action::Allow,
            "DROP TABLE moves the table to dbguard's trash: nothing is lost, `dbguard undrop` brings it back".into(),
            "soft-drop".into(),
        ),
    }
}

fn refuse(reason: &str, rule: &str, blocked: bool) -> Verdict {
    Verdict::Refuse(Refusal {
        blocked,
        reason: reason.to_string(),
        rule: rule.to_string(),
        approval: None,
    })
}

/// The audit log could not be written: the statement does not run.
fn audit_failed(e: &str) -> Verdict {
    refuse(
        &format!("the audit log could not be written ({e}), and nothing destructive runs unrecorded"),
        "fail closed",
        true,
    )
}
