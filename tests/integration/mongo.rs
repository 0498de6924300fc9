//! The data-plane conformance suite and the isolation suite on MongoDB (`HJ_TEST_MONGO_URL`,
//! default `mongodb://127.0.0.1:27017/?directConnection=true`; the test server is SecantusDB,
//! started by `scripts/mongo-service.sh`): a fresh database `hj_t_<uuid>` per conformance
//! case, two fresh tenant databases `hj_i<id>_acme`/`hj_i<id>_globex` per isolation case,
//! dropped afterwards. An unreachable server fails the case, naming the URL and the script.

#![cfg(feature = "mongo")]

use std::sync::Arc;

use hellojohn_store::conformance::Fixture;
use hellojohn_store::{AdapterConnection, ConnectConfig, DbConfig, Registry};

use crate::support::{DEFAULT_MONGO_URL, mongo_url};
use hellojohn_store::mode::with_database;

/// Opens the `mongodb` adapter on a fresh database for a tenant called `slug`.
async fn connection(slug: &str) -> (Arc<dyn AdapterConnection>, String) {
    let url = mongo_url();
    let database = format!("hj_t_{}", uuid::Uuid::new_v4().simple());
    let mut cfg = ConnectConfig::new(
        slug,
        uuid::Uuid::now_v7(),
        DbConfig::new("mongodb", with_database(&url, &database)),
    );
    cfg.acquire_timeout = std::time::Duration::from_secs(10);
    match Registry::with_builtins().connect(&cfg).await {
        Ok(conn) => (conn, database),
        Err(e) if e.is_retryable() => panic!(
            "the MongoDB test server at {url} is unreachable ({e}); start it with scripts/mongo-service.sh \
             or point HJ_TEST_MONGO_URL elsewhere"
        ),
        Err(e) => panic!("opening a fresh MongoDB database at {url} failed: {e}"),
    }
}

/// Drops a database made by [`connection`]. Failures are reported, not raised.
async fn drop_database(database: String) {
    let url = mongo_url();
    match mongodb::Client::with_uri_str(&url).await {
        Ok(client) => {
            if let Err(e) = client.database(&database).drop().await {
                eprintln!("cleanup: dropping {database} failed: {e}");
            }
        }
        Err(e) => eprintln!("cleanup: cannot connect to {url}: {e}"),
    }
}

async fn fresh() -> Fixture {
    let (conn, database) = connection("conformance").await;
    Fixture::with_cleanup(conn, drop_database(database))
}

/// Two tenants through a `Manager` whose default tenant database is a `{tenant}` template
/// on the test server.
async fn two_tenants() -> hellojohn_store::conformance::isolation::IsolationFixture {
    let prefix = format!("hj_i{}", &uuid::Uuid::new_v4().simple().to_string()[..16]);
    let template = DbConfig::new("mongodb", with_database(&mongo_url(), &format!("{prefix}_{{tenant}}")));
    hellojohn_store::conformance::isolation::two_tenants(template, async move {
        for slug in ["acme", "globex"] {
            drop_database(format!("{prefix}_{slug}")).await;
        }
    })
    .await
}

/// The lifecycle fixture: a database per tenant (`hj_l<tag>_{tenant}`), FS control plane.
async fn lifecycle() -> hellojohn_store::conformance::lifecycle::LifecycleFixture {
    let tag = hellojohn_store::conformance::lifecycle::run_tag();
    let template = DbConfig::new("mongodb", with_database(&mongo_url(), &format!("hj_l{tag}_{{tenant}}")));
    hellojohn_store::conformance::lifecycle::LifecycleFixture::on_fs(template).await
}

hellojohn_store::data_plane_conformance!(fresh);
hellojohn_store::isolation_conformance!(two_tenants);
hellojohn_store::lifecycle_conformance!(lifecycle);

#[test]
fn database_is_replaced_in_urls() {
    assert_eq!(with_database(DEFAULT_MONGO_URL, "x"), "mongodb://127.0.0.1:27017/x?directConnection=true");
    assert_eq!(with_database("mongodb://h:1/old", "x"), "mongodb://h:1/x");
    assert_eq!(with_database("mongodb://h:1", "x"), "mongodb://h:1/x");
}
