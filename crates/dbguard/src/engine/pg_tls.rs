//! TLS for PostgreSQL connections: libpq's `sslmode` and friends on rustls. The code lives
//! in the `dbguard-pg` crate, shared with the proxy (which opens TLS to its upstreams).

pub use dbguard_pg::tls::*;
