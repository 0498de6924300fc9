//! Criterion: the FS control plane on a generated tree (`HJ_BENCH_TENANTS`, default 1,000
//! tenants; the CLI's full run uses 10,000): list, full load and `validate_tree`, against
//! reading and parsing the same files. Same code as `hellojohn-store bench`
//! (`hellojohn_store::bench::control`).

use criterion::{Criterion, criterion_group, criterion_main};
use hellojohn_store::adapters::fs::FsControlPlane;
use hellojohn_store::adapters::fs::tree::validate_tree;
use hellojohn_store::bench::control::{generate, load_all};

fn control_plane(c: &mut Criterion) {
    let n: usize = std::env::var("HJ_BENCH_TENANTS").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("temporary folder");
    generate(dir.path(), n).expect("tree");
    let cp = FsControlPlane::new(dir.path(), None);
    let mut group = c.benchmark_group(format!("control_plane/{n}"));
    group.sample_size(10);
    group.bench_function("tenants.list", |b| {
        b.to_async(&rt).iter(|| async { cp.tenants().list().await.expect("list") })
    });
    group.bench_function("load all", |b| {
        b.to_async(&rt).iter(|| async { load_all(&cp).await.expect("load") })
    });
    group.bench_function("validate_tree", |b| b.iter(|| validate_tree(dir.path()).expect("validate")));
    group.finish();
}

criterion_group!(benches, control_plane);
criterion_main!(benches);
