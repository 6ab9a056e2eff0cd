//! Decision time in-process (criterion): what the proxy spends on one client message before
//! forwarding it. `cargo bench -p dbguard-proxy --bench decide`.
//!
//! - a SELECT (the prefilter clears it: no parse);
//! - an UPDATE with a WHERE clause, new text each time (full analysis), and the same text again
//!   (remembered as harmless);
//! - a TRUNCATE refused by the guard (analysis, the guard called off the I/O threads, the
//!   refusal's message and the failing statement built);
//! - a DROP TABLE soft-dropped (analysis, the guard, the soft-drop statement built).
//!
//! The guard here answers at once; the dbguard binary's guard also writes the audit log (an
//! fsync) and, for refusals, an approval file: bench/proxy_bench.sh measures that end to end.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use dbguard_proxy::decide::{Decider, Protocol, SessionState};
use dbguard_proxy::{ApprovalCode, DecisionRequest, Guard, Logger, Refusal, SessionInfo, Upstream, Verdict};

struct Fixed(bool);

impl Guard for Fixed {
    fn decide(&self, _: &DecisionRequest<'_>) -> Verdict {
        if self.0 {
            Verdict::Allow {
                approval: None,
                rule: "bench".into(),
            }
        } else {
            Verdict::Refuse(Refusal {
                blocked: false,
                reason: "destructive operations on a development database need a human's informed approval".into(),
                rule: "built-in default for development".into(),
                approval: Some(ApprovalCode {
                    code: "K7Q-4MZ".into(),
                    expires_at: "2026-01-01T00:15:00Z".into(),
                }),
            })
        }
    }
}

fn decider(allow: bool) -> Decider {
    let up = Upstream::from_url(
        None,
        "postgres://127.0.0.1:5432/shop?sslmode=disable",
        "development",
        0,
        |_| None,
    )
    .expect("upstream");
    let session = SessionInfo {
        user: "app".into(),
        database: "shop".into(),
        application_name: "bench".into(),
        client: "127.0.0.1:50000".into(),
    };
    Decider::new(
        Arc::new(Fixed(allow)),
        Arc::new(up),
        Arc::new(session),
        Logger::to(true, Box::new(std::io::sink())),
    )
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let state = SessionState::default();
    let mut g = c.benchmark_group("decide");
    let mut d = decider(true);
    g.bench_function("select_prefilter_only", |b| {
        b.iter(|| {
            rt.block_on(d.decide(
                b"SELECT abalance FROM pgbench_accounts WHERE aid = 42;",
                Protocol::Simple,
                &state,
            ))
        })
    });
    let n = AtomicU64::new(0);
    g.bench_function("update_where_new_text", |b| {
        b.iter(|| {
            let i = n.fetch_add(1, Ordering::Relaxed);
            let sql = format!("UPDATE pgbench_accounts SET abalance = abalance + {i} WHERE aid = {i};");
            rt.block_on(d.decide(sql.as_bytes(), Protocol::Simple, &state))
        })
    });
    g.bench_function("update_where_same_text", |b| {
        b.iter(|| {
            rt.block_on(d.decide(
                b"UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2",
                Protocol::Extended,
                &state,
            ))
        })
    });
    let mut refuse = decider(false);
    g.bench_function("truncate_refused", |b| {
        b.iter(|| rt.block_on(refuse.decide(b"TRUNCATE orders", Protocol::Simple, &state)))
    });
    g.bench_function("drop_table_soft_drop", |b| {
        b.iter(|| rt.block_on(d.decide(b"DROP TABLE \"Product\"", Protocol::Simple, &state)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
