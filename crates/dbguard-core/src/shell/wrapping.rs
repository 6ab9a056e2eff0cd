//! Ways to wrap a command line so that it still runs: nested shells with different
//! quoting (`sh -c` with `printf %q`, `bash -c '...'`, `eval`), wrapper and launcher chains,
//! base64 and process substitution, `at`, `tmux`. The property tests and the `wrap` fuzz
//! target apply them, many layers deep, to destructive commands and check that the result
//! is never "nothing found" (issue 12, class 5). Not used by the analysis itself.

use base64::Engine as _;

use super::output::quote_q;

/// How many layer kinds [`wrap`] knows.
pub const LAYERS: u8 = 24;

/// A command line with no `;`, `|`, `&&`, newline, group or redirection: prefix wrappers
/// (`nohup`, `sudo`) can only precede such a command.
fn simple(cmd: &str) -> bool {
    let parsed = super::parse::parse(cmd);
    parsed.error.is_none()
        && parsed.script.pipelines.len() == 1
        && parsed.script.pipelines[0].commands.len() == 1
        && matches!(&parsed.script.pipelines[0].commands[0], super::parse::Command::Simple(sc) if sc.redirects.is_empty() && sc.assigns.is_empty())
        && !cmd.trim_start().starts_with(['(', '{', '!'])
        && !["if ", "for ", "while ", "case ", "export ", "source ", ". ", "eval "]
            .iter()
            .any(|k| cmd.trim_start().starts_with(k))
}

/// `'...'` with embedded single quotes closed and reopened.
fn single(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// One layer around `cmd`: kind `layer % LAYERS`.
pub fn wrap(cmd: &str, layer: u8) -> String {
    let q = quote_q(cmd);
    let b64 = base64::engine::general_purpose::STANDARD.encode(cmd.as_bytes());
    // Prefix wrappers need a simple command: anything else goes through `sh -c` first.
    let simple_cmd = if simple(cmd) {
        cmd.to_string()
    } else {
        format!("sh -c {q}")
    };
    match layer % LAYERS {
        0 => format!("sh -c {q}"),
        1 => format!("bash -c {}", single(cmd)),
        2 => format!("eval {q}"),
        3 => format!("nohup {simple_cmd}"),
        4 => format!("setsid {simple_cmd}"),
        5 => format!("timeout 30 {simple_cmd}"),
        6 => format!("sudo -u postgres -E {simple_cmd}"),
        7 => format!("env A=1 {simple_cmd}"),
        8 => format!("nice -n 5 ionice -c3 stdbuf -oL {simple_cmd}"),
        9 => format!("dotenv -- {simple_cmd}"),
        10 => format!("cross-env NODE_ENV=production {simple_cmd}"),
        11 => format!("echo {b64} | base64 -d | sh"),
        12 => format!("bash -c \"$(echo {b64} | base64 --decode)\""),
        13 => format!("bash <(printf '%s\\n' {})", single(cmd)),
        14 => format!("source <(echo {q})"),
        15 => format!("echo {q} | at now"),
        16 => format!("tmux new-session -d {q}"),
        17 => format!("flock /tmp/x.lock -c {q}"),
        18 => format!("script -qc {q} /dev/null"),
        19 => format!("npx concurrently {}", single(cmd)),
        20 => format!("xargs -0 -I{{}} sh -c {q} <<< x"),
        21 => format!("$'\\x73\\x68' -c {q}"),
        22 => format!("watch -n 60 {q}"),
        _ => format!("nix-shell --run {q}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_layer_wraps_a_command_that_still_parses() {
        for l in 0..LAYERS {
            let w = wrap("dropdb 'shop'", l);
            assert!(super::super::parse::parse(&w).error.is_none(), "{l}: {w}");
        }
    }
}
