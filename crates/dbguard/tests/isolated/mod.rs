//! The real `dbguard` binary run with a cleared environment (PATH kept): HOME, XDG folders
//! and DBGUARD_HOME under `<cwd>/.home`, nothing else unless a test passes it. Shared by
//! the status and target-resolution tests, where any stray variable would change the answer.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Out {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", self.stdout, self.stderr))
    }
}

/// `dbguard ARGS` in `cwd` with only `env` set.
pub fn run(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Out {
    let home = cwd.join(".home");
    std::fs::create_dir_all(&home).unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_dbguard"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("DBGUARD_HOME", home.join("dbguard"))
        .current_dir(cwd)
        .args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    let start = Instant::now();
    let o = c.output().expect("run dbguard");
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        elapsed: start.elapsed(),
    }
}
