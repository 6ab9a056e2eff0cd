//! In-process timing of the script analysis: the prefilter over a 5 MB benign bundle, a
//! whole parse + rules of that bundle when it holds a strong marker, and typical scripts
//! (JavaScript with pg, TypeScript with Prisma, Python). `cargo bench -p dbguard-core --bench script`.

use criterion::{criterion_group, criterion_main, Criterion};
use dbguard_core::script::{prefilter, summarize, Lang};

fn bundle(destructive: bool) -> Vec<u8> {
    let mut s = String::from("\"use strict\";\n");
    let mut n = 0;
    while s.len() < 5 * 1024 * 1024 {
        s.push_str(&format!(
            "function f{n}(m,k,req,res){{const c=new Map();c.set(k,m);c.delete(k);delete m[k];\
             const r=/^\\/api\\/(\\d+)$/.exec(req.url);if(req.method===\"DELETE\"&&r){{res.end()}}\
             return JSON.stringify({{id:r?Number(r[1]):null,n:{n}}});}}\n"
        ));
        n += 1;
    }
    if destructive {
        s.push_str("new (require('pg').Pool)().query('TRUNCATE sessions');\n");
    }
    s.into_bytes()
}

fn project(rel: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus/projects")
        .join(rel);
    std::fs::read(p).expect("test project file")
}

fn benches(c: &mut Criterion) {
    let benign = bundle(false);
    let marked = bundle(true);
    c.bench_function("prefilter 5 MB benign bundle", |b| b.iter(|| prefilter::scan(&benign)));
    c.bench_function("summarize 5 MB benign bundle (prefilter only)", |b| {
        b.iter(|| summarize("dist/bundle.js", &benign, Lang::JavaScript, "node"))
    });
    let mut slow = c.benchmark_group("parse");
    slow.sample_size(10);
    slow.bench_function("summarize 5 MB bundle with a TRUNCATE (full parse)", |b| {
        b.iter(|| summarize("dist/bundle.js", &marked, Lang::JavaScript, "node"))
    });
    slow.finish();
    for (rel, lang) in [
        ("node-pg/scripts/cleanup.js", Lang::JavaScript),
        ("node-pg/scripts/report.js", Lang::JavaScript),
        ("prisma-ts/scripts/archive.ts", Lang::TypeScript),
        ("python/scripts/sa_query.py", Lang::Python),
        ("rails/db/seeds.rb", Lang::Ruby),
    ] {
        let bytes = project(rel);
        c.bench_function(&format!("summarize {rel}"), |b| {
            b.iter(|| summarize(rel, &bytes, lang, "node"))
        });
    }
}

criterion_group!(script, benches);
criterion_main!(script);
