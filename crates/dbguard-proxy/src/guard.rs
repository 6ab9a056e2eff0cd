//! What the proxy asks of the program that runs it: a verdict on statements that destroy data.
//! The dbguard binary implements [`Guard`] with its policy (per environment), its approvals
//! (a refused statement gets a code; after `dbguard approve CODE` the same statement passes
//! once) and its audit log (every decision is written there before it takes effect).

use dbguard_core::Finding;

use crate::config::Upstream;

/// Who is asking: one client session.
#[derive(Debug, Clone, Default)]
pub struct SessionInfo {
    /// The role the client logged in as.
    pub user: String,
    /// The database name the client asked for.
    pub database: String,
    pub application_name: String,
    /// The client's address (`127.0.0.1:51234`, or `unix`).
    pub client: String,
}

/// What kind of decision is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    /// Statements that would destroy data as written (TRUNCATE, DELETE of every row, DROP
    /// SCHEMA, unknown...): allowed, they run as sent; refused, they fail.
    Destructive,
    /// `DROP TABLE` statements the proxy would turn into soft-drops (nothing is lost: undrop
    /// brings the tables back): allowed, they are soft-dropped; refused, they fail.
    SoftDrop,
}

/// One decision: for one client message (a simple-protocol `Query`, which may hold several
/// statements, or one `Parse`).
#[derive(Debug)]
pub struct DecisionRequest<'a> {
    pub ask: Ask,
    pub upstream: &'a Upstream,
    pub session: &'a SessionInfo,
    /// The whole SQL text of the message; approvals are bound to it and to the upstream.
    pub text: &'a str,
    /// The findings to decide on, in text order.
    pub findings: &'a [Finding],
}

/// A code a person can approve (`dbguard approve CODE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalCode {
    pub code: String,
    /// RFC 3339.
    pub expires_at: String,
}

/// Why a statement may not run, and what to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The policy blocks it outright (production, a protected database): no approval helps.
    pub blocked: bool,
    /// Why, in one sentence.
    pub reason: String,
    /// Which rule decided (`built-in default for development`, `protected = true`...).
    pub rule: String,
    /// The code a person can approve, when approval is the way.
    pub approval: Option<ApprovalCode>,
}

/// The answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allow {
        /// The approval code that was used up, if one was.
        approval: Option<String>,
        /// Which rule allowed it.
        rule: String,
    },
    Refuse(Refusal),
}

/// The dbguard binary's side. `decide` may block (files, the audit log): the proxy calls it
/// off its I/O threads. It must write the decision to the audit log before returning and
/// return a refusal when it cannot (fail closed); it must not panic.
pub trait Guard: Send + Sync + 'static {
    fn decide(&self, req: &DecisionRequest<'_>) -> Verdict;
}
