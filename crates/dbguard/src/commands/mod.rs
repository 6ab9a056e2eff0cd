//! One module per subcommand.

pub mod check;
pub mod lint;
pub mod snapshot;
pub mod status;
