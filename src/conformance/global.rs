//! Fixtures for the control plane on the global database: a fresh PostgreSQL schema or
//! MySQL database per case, dropped after it (helpers of [`super::sql`]).

use std::sync::Arc;
use std::time::Duration;

use super::ControlPlaneFixture;
use super::sql::{execute_on, mysql_url, postgres_url, unique_namespace, with_database};
use crate::adapters::global::{GlobalConfig, GlobalControlPlane};
use crate::crypto::SecretBox;
use crate::mode::DbConfig;

/// Poll interval the MySQL fixtures use.
pub const TEST_POLL_INTERVAL: Duration = Duration::from_millis(100);

/// A fresh, empty PostgreSQL schema for a global database: its config and its name.
pub async fn fresh_postgres_global_db() -> (DbConfig, String) {
    let url = postgres_url();
    let schema = unique_namespace();
    execute_on(&url, &format!("CREATE SCHEMA \"{schema}\"")).await;
    (DbConfig::new("postgres", url).with_schema(schema.clone()), schema)
}

/// Drops a schema made by [`fresh_postgres_global_db`].
pub async fn drop_postgres_global_db(schema: &str) {
    execute_on(&postgres_url(), &format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE")).await;
}

/// A fresh, empty MySQL database for a global database: its config and its name.
pub async fn fresh_mysql_global_db() -> (DbConfig, String) {
    let url = mysql_url();
    let database = unique_namespace();
    execute_on(&url, &format!("CREATE DATABASE `{database}`")).await;
    (DbConfig::new("mysql", with_database(&url, &database)), database)
}

/// Drops a database made by [`fresh_mysql_global_db`].
pub async fn drop_mysql_global_db(database: &str) {
    execute_on(&mysql_url(), &format!("DROP DATABASE IF EXISTS `{database}`")).await;
}

/// A random key.
pub fn random_key() -> SecretBox {
    SecretBox::from_base64(&SecretBox::generate_key_base64()).unwrap_or_else(|e| panic!("key: {e}"))
}

/// Opens a replica of the control plane on `db`.
pub async fn open_global(db: &DbConfig, key: &SecretBox) -> GlobalControlPlane {
    let config = GlobalConfig::new(db.clone(), Some(key.clone())).poll_interval(TEST_POLL_INTERVAL);
    GlobalControlPlane::open(config)
        .await
        .unwrap_or_else(|e| panic!("opening the global control plane on {}: {e}", db.driver))
}

/// A control-plane fixture on a fresh PostgreSQL schema.
pub async fn postgres_global_fixture() -> ControlPlaneFixture {
    let (db, schema) = fresh_postgres_global_db().await;
    let key = random_key();
    let store = open_global(&db, &key).await;
    ControlPlaneFixture::with_cleanup(Arc::new(store), key, async move {
        drop_postgres_global_db(&schema).await;
    })
}

/// A control-plane fixture on a fresh MySQL/MariaDB database.
pub async fn mysql_global_fixture() -> ControlPlaneFixture {
    let (db, database) = fresh_mysql_global_db().await;
    let key = random_key();
    let store = open_global(&db, &key).await;
    ControlPlaneFixture::with_cleanup(Arc::new(store), key, async move {
        drop_mysql_global_db(&database).await;
    })
}
