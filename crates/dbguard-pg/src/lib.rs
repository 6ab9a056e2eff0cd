//! PostgreSQL connection plumbing shared by the `dbguard` binary and `dbguard-proxy`, so that
//! neither imports the other for it: TLS with libpq's meaning of `sslmode`, `sslrootcert`,
//! `sslcert` and `sslkey` (see [`tls`]).

pub mod tls;
