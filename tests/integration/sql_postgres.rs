//! The data-plane conformance suite on PostgreSQL (`HJ_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`): a fresh schema `hj_t_<uuid>` per case,
//! dropped afterwards.
#![cfg(feature = "postgres")]

async fn fresh() -> hellojohn_store::conformance::Fixture {
    hellojohn_store::conformance::sql::postgres_fixture().await
}

hellojohn_store::data_plane_conformance!(fresh);

hellojohn_store::isolation_conformance!(hellojohn_store::conformance::sql::postgres_isolation_fixture);

hellojohn_store::lifecycle_conformance!(hellojohn_store::conformance::lifecycle::postgres_lifecycle_fixture);
