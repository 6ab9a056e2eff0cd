//! `dbguard.toml`: found by walking up from the working directory, then the user's
//! config directory. Every key is documented in the README with its default.
