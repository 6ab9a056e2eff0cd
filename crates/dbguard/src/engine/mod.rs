//! Database engines behind one small interface (PostgreSQL, SQLite; MySQL later).
//! `pg_connect` holds the one way dbguard opens a PostgreSQL connection.

pub mod pg_connect;
