//! The data-plane conformance suite on SQLite: a fresh temporary file per case.
#![cfg(feature = "sqlite")]

async fn fresh() -> hellojohn_store::conformance::Fixture {
    let dir = tempfile::tempdir().expect("temporary directory");
    let conn =
        hellojohn_store::conformance::sql::sqlite_connection("conformance", &dir.path().join("tenant.db"))
            .await;
    // The cleanup owns the directory, so the file lives until the case is over.
    hellojohn_store::conformance::Fixture::with_cleanup(conn, async move { drop(dir) })
}

hellojohn_store::data_plane_conformance!(fresh);

hellojohn_store::isolation_conformance!(hellojohn_store::conformance::sql::sqlite_isolation_fixture);

hellojohn_store::lifecycle_conformance!(hellojohn_store::conformance::lifecycle::sqlite_lifecycle_fixture);
