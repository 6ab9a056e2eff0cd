//! The snapshot store and restore.
