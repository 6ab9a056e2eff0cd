//! Progress reporting on stderr: an indicatif bar with rate and ETA on a terminal (shown
//! only once work has lasted a second), plain lines when stderr is not a terminal, and
//! nothing at all in --json mode.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Silent,
    Plain,
    Bar,
}

/// Cheap to clone; all clones drive the same bar.
#[derive(Clone)]
pub struct Progress {
    mode: Mode,
    bar: ProgressBar,
    started: Instant,
    shown: Arc<AtomicBool>,
}

impl Progress {
    /// `enabled` is false for --json and for callers that print nothing.
    pub fn new(enabled: bool) -> Progress {
        let mode = if !enabled {
            Mode::Silent
        } else if crate::output::stderr_is_terminal() {
            Mode::Bar
        } else {
            Mode::Plain
        };
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} {msg} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        Progress {
            mode,
            bar,
            started: Instant::now(),
            shown: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Start a phase of `total` bytes (0 when unknown).
    pub fn phase(&self, msg: &str, total: u64) {
        match self.mode {
            Mode::Silent => {}
            Mode::Plain => eprintln!("dbguard: {msg}"),
            Mode::Bar => {
                self.bar.set_message(msg.to_string());
                self.bar.set_length(total.max(1));
                self.bar.set_position(0);
            }
        }
    }

    pub fn inc(&self, n: u64) {
        if self.mode != Mode::Bar {
            return;
        }
        self.bar.inc(n);
        if !self.shown.load(Ordering::Relaxed) && self.started.elapsed() > Duration::from_secs(1) {
            self.shown.store(true, Ordering::Relaxed);
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.bar.enable_steady_tick(Duration::from_millis(200));
        }
    }

    /// A one-off note (plain mode and bar mode both print it).
    pub fn note(&self, msg: &str) {
        match self.mode {
            Mode::Silent => {}
            Mode::Plain => eprintln!("dbguard: {msg}"),
            Mode::Bar => self.bar.suspend(|| eprintln!("dbguard: {msg}")),
        }
    }

    pub fn finish(&self) {
        if self.mode == Mode::Bar {
            self.bar.finish_and_clear();
        }
    }
}
