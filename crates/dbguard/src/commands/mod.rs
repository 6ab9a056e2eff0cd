//! One module per subcommand.

pub mod approve;
pub mod check;
pub mod classify;
pub mod doctor;
pub mod hook;
pub mod init;
pub mod init_scripts;
pub mod lint;
pub mod log;
pub mod mcp;
pub mod migrate;
pub mod protect;
pub mod proxy;
pub mod run;
pub mod snapshot;
pub mod status;
pub mod trash;
