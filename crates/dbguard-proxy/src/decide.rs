//! The decision on one client message (a `Query` or a `Parse`): forward it as sent, or send a
//! rewritten text where statements become soft-drops or fail with dbguard's error.
//!
//! Cost, in order: the prefilter (one pass over the bytes, no allocation) clears nearly every
//! statement an application sends; texts it cannot clear are remembered once the full analysis
//! found them harmless (per session); only what destroys data asks the guard.

use std::collections::HashSet;
use std::sync::Arc;

use dbguard_core::finding::{Finding, FindingKind, Scope};
use dbguard_core::redact::redact_text;
use dbguard_core::sql::{pg_statements, prefilter, Statement};
use postgres_protocol::escape::escape_literal;
use serde_json::{json, Value};

use crate::config::Upstream;
use crate::guard::{Ask, DecisionRequest, Guard, Refusal, SessionInfo, Verdict};
use crate::log::Logger;
use crate::trash::soft_drop;
use crate::wire::backend::ProxyError;

/// What the proxy did to a statement, which decides how its answer is treated.
#[derive(Debug, Clone, PartialEq)]
pub enum Tag {
    Plain,
    /// Replaced by the soft-drop `DO` statement: its `DO` completion becomes `DROP TABLE`,
    /// its errors and notices lose the PL/pgSQL context lines.
    SoftDrop,
    /// Replaced by a statement that fails: its error becomes dbguard's.
    Refused(Arc<ProxyError>),
    /// Creates these tables (quoted names): remembered once it completes.
    Creates(Arc<[String]>),
}

/// The schema soft-dropped tables go to.
pub const TRASH_SCHEMA: &str = "dbguard_trash";
/// What a refused `Parse` becomes: a syntax error at Parse, which the proxy answers with
/// dbguard's error; the server then skips to Sync as after any failed Parse.
const PARSE_POISON: &str = "dbguard refused this statement";
/// Harmless texts remembered per session.
const CACHE_ENTRIES: usize = 1024;
const CACHE_MAX_TEXT: usize = 8 * 1024;

/// SQLSTATE of a statement that needs a person's approval.
pub const SQLSTATE_NEEDS_APPROVAL: &str = "DGP01";
/// SQLSTATE of a statement the policy blocks on this database.
pub const SQLSTATE_BLOCKED: &str = "DGP02";

/// Which message the text came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Simple,
    Extended,
}

/// What the session knows that the decision depends on.
#[derive(Debug, Default, Clone)]
pub struct SessionState {
    /// The server said `standard_conforming_strings = off`: backslashes in strings are
    /// escapes, which the analysis (like the server's default) does not assume.
    pub scs_off: bool,
    /// Tables this session created (quoted names).
    pub created: Vec<String>,
}

/// The outcome for one message.
#[derive(Debug, Default)]
pub struct Decision {
    /// The text to send instead of the client's; None: the message goes as sent.
    pub text: Option<String>,
    /// Per statement (simple protocol) or one (Parse); empty when every statement is plain.
    pub tags: Vec<Tag>,
}

pub struct Decider {
    guard: Arc<dyn Guard>,
    upstream: Arc<Upstream>,
    session: Arc<SessionInfo>,
    log: Logger,
    harmless: HashSet<Box<[u8]>>,
}

enum Class {
    Plain,
    Creates(Arc<[String]>),
    SoftDrop,
    Destructive,
}

impl Decider {
    pub fn new(guard: Arc<dyn Guard>, upstream: Arc<Upstream>, session: Arc<SessionInfo>, log: Logger) -> Decider {
        Decider {
            guard,
            upstream,
            session,
            log,
            harmless: HashSet::new(),
        }
    }

    pub async fn decide(&mut self, sql: &[u8], protocol: Protocol, state: &SessionState) -> Decision {
        let pf = prefilter(sql);
        if !pf.may_destroy && !pf.may_create_table {
            return Decision::default();
        }
        if self.harmless.contains(sql) {
            return Decision::default();
        }
        let (text, stmts) = analyze(sql, pf.may_destroy, state.scs_off);
        let classes: Vec<Class> = stmts.iter().map(classify).collect();
        if classes.iter().all(|c| matches!(c, Class::Plain)) {
            if sql.len() <= CACHE_MAX_TEXT {
                if self.harmless.len() >= CACHE_ENTRIES {
                    self.harmless.clear();
                }
                self.harmless.insert(sql.into());
            }
            return Decision::default();
        }
        let destructive: Vec<Finding> = stmts
            .iter()
            .zip(&classes)
            .filter(|(_, c)| matches!(c, Class::Destructive))
            .flat_map(|(s, _)| s.findings.iter().cloned())
            .collect();
        let drops: Vec<Finding> = stmts
            .iter()
            .zip(&classes)
            .filter(|(_, c)| matches!(c, Class::SoftDrop))
            .flat_map(|(s, _)| s.findings.iter().cloned())
            .collect();
        let destructive_verdict = if destructive.is_empty() {
            None
        } else {
            Some(self.ask(Ask::Destructive, &text, destructive).await)
        };
        let drop_verdict = if classes.iter().any(|c| matches!(c, Class::SoftDrop)) {
            Some(self.ask(Ask::SoftDrop, &text, drops).await)
        } else {
            None
        };
        let refused = |v: &Option<(Verdict, Vec<Finding>)>| match v {
            Some((Verdict::Refuse(r), findings)) => Some(Arc::new(refusal_error(findings, r, &self.upstream, &text))),
            _ => None,
        };
        let destructive_refusal = refused(&destructive_verdict);
        let drop_refusal = refused(&drop_verdict);

        let mut tags = Vec::with_capacity(stmts.len());
        let mut rewritten = String::with_capacity(text.len() + 4096);
        let mut changed = false;
        let mut at = 0;
        for (s, class) in stmts.iter().zip(classes) {
            let (tag, replacement) = match class {
                Class::Plain => (Tag::Plain, None),
                Class::Creates(names) => (Tag::Creates(names), None),
                Class::Destructive => match &destructive_refusal {
                    Some(e) => (Tag::Refused(e.clone()), Some(poison(e))),
                    None => (Tag::Plain, None),
                },
                Class::SoftDrop => match &drop_refusal {
                    Some(e) => (Tag::Refused(e.clone()), Some(poison(e))),
                    None => {
                        let ctx = soft_drop::Context {
                            session_created: &state.created,
                            client: &self.session.client,
                        };
                        let drop = s.drop_table.as_ref().expect("classified as a soft-drop");
                        let original = text.get(s.span.clone()).unwrap_or_default();
                        (Tag::SoftDrop, Some(soft_drop::do_statement(drop, original, &ctx)))
                    }
                },
            };
            if let Some(r) = replacement {
                rewritten.push_str(text.get(at..s.span.start).unwrap_or_default());
                rewritten.push_str(&r);
                at = s.span.end;
                changed = true;
            }
            tags.push(tag);
        }
        rewritten.push_str(text.get(at..).unwrap_or_default());

        if protocol == Protocol::Extended {
            // One Parse is one statement (the server refuses more): one tag for the message.
            let refusal = tags.iter().find_map(|t| match t {
                Tag::Refused(e) => Some(e.clone()),
                _ => None,
            });
            if let Some(e) = refusal {
                return Decision {
                    text: Some(PARSE_POISON.to_string()),
                    tags: vec![Tag::Refused(e)],
                };
            }
            let tag = match tags.as_slice() {
                [one] => one.clone(),
                _ => Tag::Plain,
            };
            return Decision {
                text: changed.then_some(rewritten),
                tags: vec![tag],
            };
        }
        Decision {
            text: changed.then_some(rewritten),
            tags,
        }
    }

    /// Ask the guard (off the I/O threads), log the decision, and return it with its findings.
    async fn ask(&self, ask: Ask, text: &str, findings: Vec<Finding>) -> (Verdict, Vec<Finding>) {
        let guard = self.guard.clone();
        let upstream = self.upstream.clone();
        let session = self.session.clone();
        let owned_text = text.to_string();
        let owned = findings.clone();
        let verdict = tokio::task::spawn_blocking(move || {
            guard.decide(&DecisionRequest {
                ask,
                upstream: &upstream,
                session: &session,
                text: &owned_text,
                findings: &owned,
            })
        })
        .await
        .unwrap_or_else(|_| {
            Verdict::Refuse(Refusal {
                blocked: false,
                reason: "dbguard could not reach a decision (internal error), so it refuses".into(),
                rule: "fail closed".into(),
                approval: None,
            })
        });
        self.log_decision(ask, text, &findings, &verdict);
        (verdict, findings)
    }

    fn log_decision(&self, ask: Ask, text: &str, findings: &[Finding], verdict: &Verdict) {
        let kinds: Vec<&str> = findings.iter().map(|f| f.kind.as_str()).collect();
        let objects: Vec<String> = findings
            .iter()
            .filter_map(|f| f.object.as_deref().map(redact_text))
            .collect();
        let what = if objects.is_empty() {
            kinds.join(", ")
        } else {
            objects.join(", ")
        };
        let (action, message, rule, approval) = match (ask, verdict) {
            (Ask::SoftDrop, Verdict::Allow { approval, rule }) => (
                "soft_drop",
                format!("soft-drop of {what} (moved to {TRASH_SCHEMA})"),
                rule,
                approval.clone(),
            ),
            (Ask::Destructive, Verdict::Allow { approval, rule }) => (
                "allowed",
                format!("{} {what} allowed", kinds.join(", ")),
                rule,
                approval.clone(),
            ),
            (_, Verdict::Refuse(r)) if r.blocked => (
                "blocked",
                format!("{} {what} blocked: {}", kinds.join(", "), r.reason),
                &r.rule,
                None,
            ),
            (_, Verdict::Refuse(r)) => (
                "refused",
                format!(
                    "{} {what} refused: {}{}",
                    kinds.join(", "),
                    r.reason,
                    r.approval
                        .as_ref()
                        .map(|a| format!(" (approval code {})", a.code))
                        .unwrap_or_default()
                ),
                &r.rule,
                r.approval.as_ref().map(|a| a.code.clone()),
            ),
        };
        self.log.event(
            "decision",
            &message,
            &[
                ("action", json!(action)),
                ("upstream", json!(self.upstream.label())),
                ("environment", json!(self.upstream.environment)),
                ("user", json!(self.session.user)),
                ("application", json!(self.session.application_name)),
                ("client", json!(self.session.client)),
                ("kinds", json!(kinds)),
                ("objects", json!(objects)),
                ("rule", json!(rule)),
                ("approval", approval.map(Value::String).unwrap_or(Value::Null)),
                ("statement", json!(shown_statement(text))),
            ],
        );
    }
}

/// The statements of a text (see the module comment of the prefilter for why `may_destroy`
/// false needs no analysis of losses: only of the tables it creates).
fn analyze(sql: &[u8], may_destroy: bool, scs_off: bool) -> (String, Vec<Statement>) {
    let whole = |text: String, kind: FindingKind, detail: String| {
        let finding = Finding::new(kind, None, detail, Scope::Database);
        let len = text.len();
        (
            text,
            vec![Statement {
                span: 0..len,
                findings: vec![finding],
                drop_table: None,
                creates: Vec::new(),
            }],
        )
    };
    let text = match std::str::from_utf8(sql) {
        Ok(t) => t.to_string(),
        Err(_) if may_destroy => {
            return whole(
                String::from_utf8_lossy(sql).into_owned(),
                FindingKind::Unparseable,
                "The statement is not valid UTF-8, so dbguard cannot read it (set client_encoding to UTF8).".into(),
            )
        }
        Err(_) => return (String::new(), Vec::new()),
    };
    if may_destroy && scs_off && sql.contains(&b'\\') {
        return whole(
            text,
            FindingKind::Unknown,
            "standard_conforming_strings is off in this session, so backslashes in strings are escapes and dbguard cannot be sure where strings end."
                .into(),
        );
    }
    let mut stmts = pg_statements(&text);
    if !may_destroy {
        // Only the tables it creates matter: no statement here can destroy data.
        for s in &mut stmts {
            s.findings.retain(|f| f.kind != FindingKind::Unparseable);
        }
    }
    (text, stmts)
}

fn classify(s: &Statement) -> Class {
    if s.findings.is_empty() {
        if s.creates.is_empty() {
            return Class::Plain;
        }
        let names: Vec<String> = s.creates.iter().map(soft_drop::quoted_name).collect();
        return Class::Creates(names.into());
    }
    let soft = s.drop_table.as_ref().is_some_and(|d| {
        d.tables
            .iter()
            .all(|t| !t.schema.eq_ignore_ascii_case(TRASH_SCHEMA) && !t.name.is_empty())
    }) && s.findings.iter().all(|f| f.kind == FindingKind::DropTable);
    if soft {
        Class::SoftDrop
    } else {
        Class::Destructive
    }
}

/// The statement as logged: redacted, capped.
fn shown_statement(text: &str) -> String {
    let t = redact_text(text.trim());
    match t.char_indices().nth(300) {
        Some((i, _)) => format!("{}…", &t[..i]),
        None => t,
    }
}

/// A statement that fails with dbguard's error where the refused one stood (simple protocol):
/// the server runs the statements before it and keeps the transaction state an error there
/// leaves; the proxy shows the client `e` itself in place of the server's error.
fn poison(e: &ProxyError) -> String {
    let body = format!(
        "BEGIN RAISE EXCEPTION USING ERRCODE = {}, MESSAGE = {}; END",
        escape_literal(&e.code),
        escape_literal(&e.message)
    );
    format!("DO {}", escape_literal(&body))
}

/// What to do instead, by the kind of loss.
fn alternative(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::Truncate | FindingKind::DeleteAll | FindingKind::UpdateAll | FindingKind::DataModifyingCte => {
            "change only the rows you mean (a WHERE clause that names them), or take a snapshot first: `dbguard snapshot --tables TABLE`"
        }
        FindingKind::DropSchema | FindingKind::DropDatabase | FindingKind::DropOwned | FindingKind::DropExtension => {
            "drop the tables one at a time through the proxy: each DROP TABLE moves its table to dbguard's trash, and `dbguard undrop` brings it back"
        }
        FindingKind::DropColumn | FindingKind::AlterColumnType => {
            "add a new column and copy the values over instead of dropping or converting in place, or take a snapshot first: `dbguard snapshot --tables TABLE`"
        }
        FindingKind::DropTable => {
            "a DROP TABLE would have gone to dbguard's trash; this database's policy refuses even that"
        }
        FindingKind::Unknown | FindingKind::Unparseable => {
            "send SQL that dbguard can read: plain statements rather than dynamic SQL, EXECUTE of a statement prepared elsewhere, or text in another encoding"
        }
        _ => "take a snapshot first: `dbguard snapshot`",
    }
}

/// dbguard's error for a refused message: what would be destroyed, where, why, and the next step.
pub fn refusal_error(findings: &[Finding], r: &Refusal, up: &Upstream, text: &str) -> ProxyError {
    let mut what: Vec<String> = Vec::new();
    for f in findings {
        let d = redact_text(f.detail.trim());
        if !what.contains(&d) {
            what.push(d);
        }
    }
    let mut message = format!("dbguard stopped this statement: {}", what.join(" "));
    if message.chars().count() > 600 {
        message = message.chars().take(600).collect::<String>() + "…";
    }
    let detail = format!(
        "Database: {} ({} environment), through dbguard proxy.\nWhy: {} ({}).\nStatement: {}",
        up.display,
        up.environment,
        r.reason,
        r.rule,
        shown_statement(text)
    );
    let safer = alternative(findings.first().map(|f| f.kind).unwrap_or(FindingKind::Unknown));
    let (code, hint) = if r.blocked {
        (
            SQLSTATE_BLOCKED,
            format!("It does not run on this database, approved or not. Instead: {safer}."),
        )
    } else {
        match &r.approval {
            Some(a) => (
                SQLSTATE_NEEDS_APPROVAL,
                format!(
                    "To run it once, a person runs `dbguard approve {}` in a terminal (valid until {}); then send the same statement again. Instead: {safer}.",
                    a.code, a.expires_at
                ),
            ),
            None => (
                SQLSTATE_NEEDS_APPROVAL,
                format!("It needs a person's approval, and no approval code could be issued (see the proxy's log). Instead: {safer}."),
            ),
        }
    };
    ProxyError {
        severity: "ERROR",
        code: code.to_string(),
        message,
        detail: Some(detail),
        hint: Some(hint),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        let st =
            pg_statements("DROP TABLE a; DROP TABLE dbguard_trash.d1_a; TRUNCATE b; CREATE TABLE c (x int); SELECT 1");
        let c: Vec<&str> = st
            .iter()
            .map(|s| match classify(s) {
                Class::Plain => "plain",
                Class::Creates(_) => "creates",
                Class::SoftDrop => "soft",
                Class::Destructive => "destructive",
            })
            .collect();
        assert_eq!(c, ["soft", "destructive", "destructive", "creates", "plain"]);
    }

    #[test]
    fn unreadable_and_escapes_fail_closed() {
        let (_, s) = analyze(b"DROP TABLE \xff", true, false);
        assert_eq!(s[0].findings[0].kind, FindingKind::Unparseable);
        let (_, s) = analyze(b"SELECT 'a\\'; DROP TABLE t; --'", true, true);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].findings[0].kind, FindingKind::Unknown);
        let (_, s) = analyze(b"CREATE TABLE x (a int); SELEC 1", false, false);
        assert!(s.iter().all(|s| s.findings.is_empty()));
    }

    #[test]
    fn poison_is_one_do_statement() {
        let e = ProxyError::fatal("DGP01", "it's refused");
        let p = poison(&e);
        let st = pg_statements(&p);
        assert_eq!(st.len(), 1);
        assert!(p.starts_with("DO "));
    }
}
