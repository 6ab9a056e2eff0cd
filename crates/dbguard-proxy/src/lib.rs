//! dbguard-proxy: a PostgreSQL proxy that relays each client session 1:1 to its upstream
//! server and asks dbguard's analysis core about every statement on the way.
//!
//! - Bytes cross untouched unless a decision needs them: the proxy reads the startup packet,
//!   `Query` and `Parse` (the SQL), the names in `Bind`/`Execute`/`Describe`/`Close`, and from
//!   the server only message types, plus `ReadyForQuery`, `ErrorResponse` and `CommandComplete`
//!   where it rewrites them. Result rows, COPY data and notifications are streamed as they come.
//! - Statements that cannot destroy data pass after a scan of their bytes (no parse); others
//!   get the core's full analysis, and then:
//!   - `DROP TABLE` becomes a soft-drop: one `DO` statement in the client's own transaction that
//!     moves the tables into the `dbguard_trash` schema (see [`trash`]); the client gets the
//!     `DROP TABLE` completion it expects;
//!   - anything else destructive (TRUNCATE, DELETE/UPDATE of every row, DROP SCHEMA, unknown or
//!     unreadable SQL...) goes to the [`Guard`] (the dbguard binary: policy, approvals, audit
//!     log) and, when refused, is replaced by a statement that fails at the same place, so the
//!     server itself keeps the transaction and extended-protocol state exactly as an error there
//!     would; the client sees dbguard's error in place of the server's.
//!
//! This crate never imports the `dbguard` binary: the binary implements [`Guard`].

mod config;
pub mod decide;
mod guard;
mod log;
mod net;
mod server;
mod session;
pub mod trash;
pub mod wire;

pub use config::{Config, Listen, Upstream};
pub use guard::{ApprovalCode, Ask, DecisionRequest, Guard, Refusal, SessionInfo, Verdict};
pub use log::Logger;
pub use server::serve;
