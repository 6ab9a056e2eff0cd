//! `dbguard hook <agent>`: the pre-command hook for coding agents. Reads the agent's payload
//! on stdin, decides (see `crate::hooks`), and answers on stdout in the agent's protocol.
//! Always exits 0: every agent reads the answer from stdout, and a non-zero exit would be
//! treated as a hook failure (which most clients let pass).

use std::io::{Read, Write};
use std::sync::mpsc;
use std::time::Duration;

use crate::hooks::{self, Agent, Decision, Options, Payload};
use crate::plan::Measure;

#[derive(clap::Args)]
pub struct Args {
    /// Which agent's protocol to speak.
    #[arg(value_enum)]
    agent: Agent,
    /// Measure the impact on the live database (connect within 1 s, finish within 2 s;
    /// on timeout decide without the numbers, never allow).
    #[arg(long)]
    measure: bool,
    /// Never answer `ask`: always deny with the approval path (Claude Code in unattended runs).
    #[arg(long)]
    no_ask: bool,
    /// A probe from `dbguard doctor`: create no approval code, write no audit entry.
    #[arg(long, hide = true)]
    probe: bool,
}

/// Largest payload read; agents send a few kilobytes.
const MAX_PAYLOAD: u64 = 8 * 1024 * 1024;

pub fn run(args: Args) -> anyhow::Result<u8> {
    let agent = args.agent;
    let mut raw = Vec::new();
    let decision_and_payload = match std::io::stdin().take(MAX_PAYLOAD).read_to_end(&mut raw) {
        Err(e) => (hooks::unreadable(agent, &format!("cannot read stdin: {e}")), None),
        Ok(_) => match agent.parse(&raw) {
            Err(problem) => (hooks::unreadable(agent, &problem), None),
            Ok(Payload::OtherTool) => (Decision::Allow, None),
            Ok(Payload::FileEdit { tool, paths, cwd }) => {
                (hooks::edits::decide(agent, &tool, &paths, &cwd, args.probe), None)
            }
            Ok(p @ Payload::Shell { .. }) => {
                let opts = Options {
                    measure: if args.measure {
                        Measure::Within(hooks::MEASURE_DEADLINE)
                    } else {
                        Measure::Skip
                    },
                    no_ask: args.no_ask,
                    probe: args.probe,
                };
                (decide_within_deadline(agent, &p, opts), Some(p))
            }
        },
    };
    let (decision, payload) = decision_and_payload;
    if let Some(out) = agent.render(&decision, payload.as_ref()) {
        let mut stdout = std::io::stdout().lock();
        // A closed stdout cannot be reported anywhere useful; the agent then sees no answer.
        let _ = writeln!(stdout, "{out}");
        let _ = stdout.flush();
    }
    Ok(crate::exit::OK)
}

/// Decide on a worker thread; past the deadline answer as for a fault (deny when the command
/// may touch a database) rather than wait for the agent's own hook timeout.
fn decide_within_deadline(agent: Agent, payload: &Payload, opts: Options) -> Decision {
    let Payload::Shell { command, cwd, .. } = payload else {
        return Decision::Allow;
    };
    let deadline = match opts.measure {
        Measure::Skip => Duration::from_millis(2000),
        Measure::Within(d) => d + Duration::from_millis(1000),
    };
    let (tx, rx) = mpsc::channel();
    let (c, d) = (command.clone(), cwd.clone());
    let spawned = std::thread::Builder::new().name("dbguard-hook".into()).spawn(move || {
        let _ = tx.send(hooks::decide(agent, &c, &d, opts));
    });
    if let Err(e) = spawned {
        return hooks::fault(command, &format!("cannot start the decision thread: {e}"));
    }
    match rx.recv_timeout(deadline) {
        Ok(d) => d,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            hooks::fault(command, &format!("no decision within {} ms", deadline.as_millis()))
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => hooks::fault(command, "the decision thread stopped"),
    }
}
