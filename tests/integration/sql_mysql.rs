//! The data-plane conformance suite on MySQL/MariaDB (`HJ_TEST_MYSQL_URL`, default
//! `mysql://root@127.0.0.1:3306/test`): a fresh database `hj_t_<uuid>` per case, dropped
//! afterwards.
#![cfg(feature = "mysql")]

async fn fresh() -> hellojohn_store::conformance::Fixture {
    hellojohn_store::conformance::sql::mysql_fixture().await
}

hellojohn_store::data_plane_conformance!(fresh);

hellojohn_store::isolation_conformance!(hellojohn_store::conformance::sql::mysql_isolation_fixture);

hellojohn_store::lifecycle_conformance!(hellojohn_store::conformance::lifecycle::mysql_lifecycle_fixture);
