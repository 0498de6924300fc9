//! Criterion: a warm `Manager::for_tenant` against a `HashMap<String, Arc<_>>` lookup.
//! Same code as `hellojohn-store bench` (`hellojohn_store::bench::for_tenant`).

use criterion::{Criterion, criterion_group, criterion_main};
use hellojohn_store::bench::for_tenant::WarmTenant;

fn for_tenant(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let warm = rt.block_on(WarmTenant::new()).expect("manager");
    let mut group = c.benchmark_group("for_tenant");
    group.bench_function("manager (warm)", |b| {
        b.to_async(&rt).iter(|| async { warm.store_once().await.expect("for_tenant") })
    });
    group.bench_function("hashmap", |b| b.iter(|| warm.baseline_once()));
    group.finish();
}

criterion_group!(benches, for_tenant);
criterion_main!(benches);
