//! The data-plane conformance and isolation suites on MySQL/MariaDB with prepared statements
//! (`statement-cache-capacity=100` on the DSN), the mode a DSN chooses instead of the default
//! text protocol (`sql_mysql`): both ways of sending a statement must behave the same.
#![cfg(feature = "mysql")]

async fn fresh() -> hellojohn_store::conformance::Fixture {
    hellojohn_store::conformance::sql::mysql_prepared_fixture().await
}

hellojohn_store::data_plane_conformance!(fresh);

hellojohn_store::isolation_conformance!(hellojohn_store::conformance::sql::mysql_prepared_isolation_fixture);
