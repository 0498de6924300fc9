//! The control plane on a global MySQL/MariaDB database: the conformance list (a fresh
//! database per case) and two replicas kept consistent by polling the version.
#![cfg(feature = "mysql")]

use hellojohn_store::conformance::global::mysql_global_fixture;

hellojohn_store::control_plane_conformance!(mysql_global_fixture);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_in_full_db_stay_consistent_through_polling() {
    let (db, ns) = hellojohn_store::conformance::global::fresh_mysql_global_db().await;
    hellojohn_store::conformance::global::two_replicas_stay_consistent_in_full_db(db).await;
    hellojohn_store::conformance::global::drop_mysql_global_db(&ns).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_stay_consistent_through_polling() {
    let (db, database) = hellojohn_store::conformance::global::fresh_mysql_global_db().await;
    hellojohn_store::conformance::global::two_replicas_stay_consistent(db).await;
    hellojohn_store::conformance::global::drop_mysql_global_db(&database).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_writes_from_two_replicas_lose_nothing() {
    let (db, database) = hellojohn_store::conformance::global::fresh_mysql_global_db().await;
    hellojohn_store::conformance::global::parallel_writes_from_two_replicas_lose_nothing(db).await;
    hellojohn_store::conformance::global::drop_mysql_global_db(&database).await;
}
