//! Criterion: the hot paths through the store, by hand with sqlx on the same pool, and the
//! `SELECT 1` floor, on every engine that answers (`HJ_BENCH_ENGINES`, default
//! `sqlite,postgres,mysql`). Same code as `hellojohn-store bench` (`hellojohn_store::bench::hot`).

use criterion::{Criterion, criterion_group, criterion_main};
use hellojohn_store::bench::hot::{HotPaths, Op, Side};
use hellojohn_store::bench::{BenchOptions, Engine};

fn engines() -> Vec<Engine> {
    std::env::var("HJ_BENCH_ENGINES")
        .unwrap_or_else(|_| "sqlite,postgres,mysql".into())
        .split(',')
        .filter_map(|e| Engine::parse(e).ok())
        .collect()
}

fn hot_paths(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let opts = BenchOptions::new(false);
    for engine in engines() {
        let hot = match rt.block_on(HotPaths::open(&opts, engine)) {
            Ok(hot) => hot,
            Err(e) => {
                eprintln!("skipping {}: {e}", engine.name());
                continue;
            }
        };
        for op in Op::ALL {
            let mut group = c.benchmark_group(format!("{}/{}", engine.name(), op.name()));
            for (label, side) in [("store", Side::Store), ("sqlx", Side::Baseline), ("select1", Side::Floor)]
            {
                group.bench_function(label, |b| {
                    b.to_async(&rt).iter(|| async { hot.once(op, side).await.expect("operation") })
                });
            }
            group.finish();
        }
        rt.block_on(hot.cleanup());
    }
}

criterion_group!(benches, hot_paths);
criterion_main!(benches);
