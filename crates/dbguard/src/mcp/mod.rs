//! The MCP server behind `dbguard mcp`, built on the official Rust SDK (`rmcp`), stdio
//! transport. Tools: `db_status`, `db_query` (read only), `db_check`, `db_plan`,
//! `db_snapshot`, `db_snapshots`, `db_restore` (into a new database only) and `db_execute`
//! (writes; destructive statements only ever get a plan and an approval code that a human
//! approves with `dbguard approve`).
//!
//! The database comes from dbguard's own resolution (`--url`, else the project's
//! environment, `.env` files and ORM configuration, from `--cwd` or the server's working
//! directory); the agent never sees a connection string with its password, and every
//! answer is passed through redaction. Tool bodies do blocking work (database clients with
//! their own runtimes, snapshot files), so each runs on the blocking pool.

pub mod read_role;
pub mod tools;

use std::path::PathBuf;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig};
use rmcp::{schemars, tool, tool_handler, tool_router, ErrorData as McpError, ServerHandler, ServiceExt};
use serde::Deserialize;

/// Shared state: where the project is and an explicit URL, if one was given.
#[derive(Clone)]
pub struct DbGuardServer {
    ctx: tools::Ctx,
    tool_router: ToolRouter<Self>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct QueryArgs {
    /// One read-only SQL query (SELECT, WITH ... SELECT, VALUES or TABLE).
    pub sql: String,
    /// Maximum rows returned (default 100, at most 1000).
    pub limit: Option<u32>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct CheckArgs {
    /// A shell command (default) or SQL text.
    pub text: String,
    /// The text is SQL, not a shell command.
    pub sql: Option<bool>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct PlanArgs {
    /// A migration file (path relative to the project) to plan.
    pub file: Option<String>,
    /// SQL text to plan (when no file is given).
    pub sql: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct SnapshotArgs {
    /// Only these tables (default: the whole database).
    pub tables: Option<Vec<String>>,
    /// A label stored with the snapshot.
    pub label: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct RestoreArgs {
    /// The snapshot id (from db_snapshots).
    pub snapshot: String,
    /// Name of the new database to restore into (default: chosen by dbguard). Never the original.
    pub new_database: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ExecuteArgs {
    /// SQL to execute. Destructive statements are never executed here: they get a plan and an
    /// approval code for the user.
    pub sql: String,
    /// The approval code, once the user has approved it with `dbguard approve <code>`.
    pub approval_code: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct MigratePlanArgs {
    /// Rehearse the pending migrations on a throwaway copy (default true).
    pub rehearse: Option<bool>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct MigrateApplyArgs {
    /// The approval code, once the user has approved it with `dbguard approve <code>`.
    pub approval_code: Option<String>,
}

fn ok_json(v: serde_json::Value) -> Result<CallToolResult, McpError> {
    let text = serde_json::to_string_pretty(&v).unwrap_or_else(|_| v.to_string());
    Ok(CallToolResult::success(vec![ContentBlock::text(
        dbguard_core::redact::redact_text(&text),
    )]))
}

fn tool_error(msg: String) -> Result<CallToolResult, McpError> {
    Ok(CallToolResult::error(vec![ContentBlock::text(
        dbguard_core::redact::redact_text(&msg),
    )]))
}

/// Run a blocking tool body on the blocking pool and turn its result into a tool answer.
async fn blocking<F>(f: F) -> Result<CallToolResult, McpError>
where
    F: FnOnce() -> anyhow::Result<serde_json::Value> + Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => ok_json(v),
        Ok(Err(e)) => tool_error(format!("{e:#}")),
        Err(e) => tool_error(format!("internal error: {e}")),
    }
}

#[tool_router]
impl DbGuardServer {
    pub fn new(cwd: PathBuf, url: Option<String>) -> Self {
        DbGuardServer {
            ctx: tools::Ctx { cwd, url },
            tool_router: Self::tool_router(),
        }
    }

    #[tool(
        description = "Which database dbguard resolves for this project (password redacted), its environment \
and why, its tables with row estimates, and the newest snapshot."
    )]
    async fn db_status(&self) -> Result<CallToolResult, McpError> {
        let ctx = self.ctx.clone();
        blocking(move || tools::status(&ctx)).await
    }

    #[tool(
        description = "Run one read-only SQL query (SELECT / WITH / VALUES / TABLE) in a READ ONLY \
transaction with a statement timeout and a row limit, as a role that can only read (or, without one, with \
side-effect-free built-in functions only). Anything that writes, reaches another connection, the server's \
files or other sessions is refused: use db_execute for writes."
    )]
    async fn db_query(&self, Parameters(args): Parameters<QueryArgs>) -> Result<CallToolResult, McpError> {
        let ctx = self.ctx.clone();
        blocking(move || tools::query(&ctx, &args.sql, args.limit)).await
    }

    #[tool(
        description = "Analyze a shell command or SQL text: what it would destroy (findings), without \
running it."
    )]
    async fn db_check(&self, Parameters(args): Parameters<CheckArgs>) -> Result<CallToolResult, McpError> {
        let ctx = self.ctx.clone();
        blocking(move || tools::check(&ctx, &args.text, args.sql.unwrap_or(false))).await
    }

    #[tool(
        description = "Plan a migration file or SQL text: findings, the impact on the live database \
(tables, rows), and the policy verdict for this environment."
    )]
    async fn db_plan(&self, Parameters(args): Parameters<PlanArgs>) -> Result<CallToolResult, McpError> {
        let ctx = self.ctx.clone();
        blocking(move || tools::plan(&ctx, args.file.as_deref(), args.sql.as_deref())).await
    }

    #[tool(description = "Take a verified snapshot of the database (or some tables).")]
    async fn db_snapshot(&self, Parameters(args): Parameters<SnapshotArgs>) -> Result<CallToolResult, McpError> {
        let ctx = self.ctx.clone();
        blocking(move || tools::snapshot(&ctx, args.tables, args.label)).await
    }

    #[tool(description = "List the snapshots of this database, newest first.")]
    async fn db_snapshots(&self) -> Result<CallToolResult, McpError> {
        let ctx = self.ctx.clone();
        blocking(move || tools::snapshots(&ctx)).await
    }

    #[tool(description = "Restore a snapshot into a NEW database (never in place); the original is untouched.")]
    async fn db_restore(&self, Parameters(args): Parameters<RestoreArgs>) -> Result<CallToolResult, McpError> {
        let ctx = self.ctx.clone();
        blocking(move || tools::restore(&ctx, &args.snapshot, args.new_database)).await
    }

    #[tool(
        description = "Execute SQL that writes. Statements that destroy data are NOT executed: the answer \
holds the plan and an approval code; the user approves it with `dbguard approve <code>` in their terminal, \
then call db_execute again with the same SQL and approval_code (a snapshot is taken first)."
    )]
    async fn db_execute(&self, Parameters(args): Parameters<ExecuteArgs>) -> Result<CallToolResult, McpError> {
        let ctx = self.ctx.clone();
        blocking(move || tools::execute(&ctx, &args.sql, args.approval_code.as_deref())).await
    }

    #[tool(
        description = "Migration status of the project (Prisma, drizzle-kit, SQL folder): applied, pending, failed, \
edited, missing, out-of-order migrations and drift, each problem with the next step."
    )]
    async fn db_migrate_status(&self) -> Result<CallToolResult, McpError> {
        let ctx = self.ctx.clone();
        blocking(move || tools::migrate_status(&ctx)).await
    }

    #[tool(
        description = "The pending migrations: what they would destroy (rows measured on the live database) and a \
rehearsal on a throwaway copy. Create migrations with `dbguard migrate new <name>` (never prisma migrate dev/reset, \
db push or drizzle-kit push)."
    )]
    async fn db_migrate_plan(&self, Parameters(args): Parameters<MigratePlanArgs>) -> Result<CallToolResult, McpError> {
        let ctx = self.ctx.clone();
        blocking(move || tools::migrate_plan(&ctx, args.rehearse.unwrap_or(true))).await
    }

    #[tool(
        description = "Apply the pending migrations with the project's own tool, after a snapshot. Migrations that \
destroy data are NOT applied: the answer holds an approval code; the user approves with `dbguard approve <code>` in \
their terminal, then call db_migrate_apply again with approval_code."
    )]
    async fn db_migrate_apply(
        &self,
        Parameters(args): Parameters<MigrateApplyArgs>,
    ) -> Result<CallToolResult, McpError> {
        let ctx = self.ctx.clone();
        blocking(move || tools::migrate_apply(&ctx, args.approval_code.as_deref())).await
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for DbGuardServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("dbguard", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "dbguard's safe database tools. Use db_status to see which database you are on, db_query for \
reads, db_plan before a migration, and db_execute for writes. Destructive statements are never executed \
without the user's approval (dbguard approve <code>); do not try to work around that.",
            )
    }
}

/// Serve on stdin/stdout until the client disconnects.
pub fn serve(cwd: PathBuf, url: Option<String>) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("starting the async runtime: {e}"))?;
    rt.block_on(async move {
        let server = DbGuardServer::new(cwd, url);
        let service = server
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| anyhow::anyhow!("starting the MCP server: {e}"))?;
        service
            .waiting()
            .await
            .map_err(|e| anyhow::anyhow!("MCP server stopped: {e}"))?;
        Ok(())
    })
}
