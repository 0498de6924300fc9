//! The data-plane conformance, isolation and lifecycle suites on PostgreSQL through PgBouncer
//! in transaction pooling mode (`HJ_TEST_PGBOUNCER_URL`, default
//! `postgres://postgres@127.0.0.1:6432/test?pgbouncer=true`, started by
//! `scripts/test-services.sh`): the same cases as `sql_postgres`, with the store's DSN on
//! PgBouncer, so every statement may meet a server connection another client used last. A
//! fresh schema `hj_t_<uuid>` per case (`hj_b<run>_{tenant}` for isolation,
//! `hj_bl<tag>_{tenant}` for the lifecycle), dropped afterwards through the direct PostgreSQL
//! URL.
#![cfg(feature = "postgres")]

async fn fresh() -> hellojohn_store::conformance::Fixture {
    hellojohn_store::conformance::pgbouncer::pgbouncer_fixture().await
}

hellojohn_store::data_plane_conformance!(fresh);

hellojohn_store::isolation_conformance!(hellojohn_store::conformance::pgbouncer::pgbouncer_isolation_fixture);

hellojohn_store::lifecycle_conformance!(hellojohn_store::conformance::pgbouncer::pgbouncer_lifecycle_fixture);
