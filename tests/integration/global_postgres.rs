//! The control plane on a global PostgreSQL database: the conformance list (a fresh schema
//! per case), two replicas kept consistent by LISTEN/NOTIFY, and a replica whose listener
//! connection is cut converging once it is back.
#![cfg(feature = "postgres")]

use hellojohn_store::conformance::global::postgres_global_fixture;

hellojohn_store::control_plane_conformance!(postgres_global_fixture);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_in_full_db_stay_consistent_through_notify() {
    let (db, ns) = hellojohn_store::conformance::global::fresh_postgres_global_db().await;
    hellojohn_store::conformance::global::two_replicas_stay_consistent_in_full_db(db).await;
    hellojohn_store::conformance::global::drop_postgres_global_db(&ns).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_stay_consistent_through_notify() {
    let (db, schema) = hellojohn_store::conformance::global::fresh_postgres_global_db().await;
    hellojohn_store::conformance::global::two_replicas_stay_consistent(db).await;
    hellojohn_store::conformance::global::drop_postgres_global_db(&schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn listener_cut_and_restored_converges() {
    hellojohn_store::conformance::global::postgres_listener_cut_and_restored_converges().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_writes_from_two_replicas_lose_nothing() {
    let (db, schema) = hellojohn_store::conformance::global::fresh_postgres_global_db().await;
    hellojohn_store::conformance::global::parallel_writes_from_two_replicas_lose_nothing(db).await;
    hellojohn_store::conformance::global::drop_postgres_global_db(&schema).await;
}

/// The tenant lifecycle with this control plane: a re-created slug starts empty, a purge
/// drops the deleted tenant's namespace (the cases of `conformance::lifecycle`).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lifecycle_recreated_slug_starts_empty() {
    let fx = hellojohn_store::conformance::global::postgres_global_lifecycle_fixture().await;
    hellojohn_store::conformance::lifecycle::lifecycle_recreated_slug_starts_empty(&fx).await;
    fx.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lifecycle_purge_drops_the_namespace_after_the_retention() {
    let fx = hellojohn_store::conformance::global::postgres_global_lifecycle_fixture().await;
    hellojohn_store::conformance::lifecycle::lifecycle_purge_drops_the_namespace_after_the_retention(&fx)
        .await;
    fx.teardown().await;
}
