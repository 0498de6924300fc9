//! Registry lookups and the no-op connection.

use std::sync::Arc;

use async_trait::async_trait;
use hellojohn_store::adapters::noop::NoopConnection;
use hellojohn_store::{
    Adapter, AdapterConnection, ConnectConfig, DbConfig, Location, Registry, ServerConfig, ServerPool,
    StoreError, StoreResult, TenantRef,
};

struct CountingAdapter;

#[async_trait]
impl Adapter for CountingAdapter {
    fn name(&self) -> &str {
        "custom"
    }
    fn aliases(&self) -> &[&str] {
        &["custom-alias"]
    }
    fn locate(&self, db: &DbConfig) -> StoreResult<Location> {
        Ok(Location { server: db.dsn.clone(), namespace: None })
    }
    async fn open_server(&self, _server: &ServerConfig) -> StoreResult<Arc<dyn ServerPool>> {
        Ok(Arc::new(NoopServer))
    }
}

struct NoopServer;

#[async_trait]
impl ServerPool for NoopServer {
    fn driver(&self) -> &str {
        "custom"
    }
    fn bind(
        &self,
        tenant: &TenantRef,
        _ns: Option<&str>,
        _owns: bool,
    ) -> StoreResult<Arc<dyn AdapterConnection>> {
        Ok(Arc::new(NoopConnection::new(tenant.slug.clone())))
    }
    async fn provision(&self, _namespace: Option<&str>) -> StoreResult<()> {
        Ok(())
    }
    async fn ping(&self) -> StoreResult<()> {
        Ok(())
    }
    async fn close(&self) {}
    fn figures(&self) -> hellojohn_store::registry::ServerPoolFigures {
        Default::default()
    }
}

#[test]
fn builtins_are_registered_per_feature() {
    let registry = Registry::with_builtins();
    let drivers = registry.drivers();
    for (feature_on, names) in [
        (cfg!(feature = "postgres"), &["postgres", "postgresql"][..]),
        (cfg!(feature = "mysql"), &["mysql", "mariadb"][..]),
        (cfg!(feature = "sqlite"), &["sqlite"][..]),
        (cfg!(feature = "mongo"), &["mongo", "mongodb"][..]),
    ] {
        for name in names {
            assert_eq!(drivers.iter().any(|d| d == name), feature_on, "{name} in {drivers:?}");
            assert_eq!(registry.get(name).is_ok(), feature_on, "{name}");
        }
    }
}

#[test]
fn unknown_driver_error_lists_the_known_ones() {
    let mut registry = Registry::empty();
    registry.register(Arc::new(CountingAdapter));
    let err = registry.get("oracle").err().expect("unknown driver");
    assert!(matches!(err, StoreError::InvalidInput { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("oracle") && msg.contains("custom") && msg.contains("custom-alias"), "{msg}");
    let empty = Registry::empty().get("postgres").err().expect("empty registry");
    assert!(empty.to_string().contains("(none)"), "{empty}");
}

#[tokio::test]
async fn a_service_registered_adapter_is_found_by_name_and_alias_and_connects() {
    let mut registry = Registry::with_builtins();
    registry.register(Arc::new(CountingAdapter));
    assert_eq!(registry.get("CUSTOM").expect("case-insensitive").name(), "custom");
    assert_eq!(registry.get("custom-alias").expect("alias").name(), "custom");
    let cfg = ConnectConfig::new("acme", uuid::Uuid::now_v7(), DbConfig::new("custom-alias", "custom://x"));
    let conn = registry.connect(&cfg).await.expect("connect");
    assert_eq!(conn.name(), "noop");
}

#[tokio::test]
async fn noop_connection_returns_no_database_for_every_data_plane_repository() {
    let conn: Arc<dyn AdapterConnection> = Arc::new(NoopConnection::new("acme"));
    conn.ping().await.expect("noop ping");
    let results: Vec<(&str, Option<StoreError>)> = vec![
        ("users", conn.users().err()),
        ("identities", conn.identities().err()),
        ("tokens", conn.tokens().err()),
        ("mfa", conn.mfa().err()),
        ("consents", conn.consents().err()),
        ("rbac", conn.rbac().err()),
        ("sessions", conn.sessions().err()),
        ("email_tokens", conn.email_tokens().err()),
    ];
    for (name, err) in results {
        match err {
            Some(StoreError::NoDatabase { tenant }) => assert_eq!(tenant, "acme", "{name}"),
            other => panic!("{name}: expected NoDatabase, got {other:?}"),
        }
    }
}

#[test]
fn only_unavailable_is_retryable() {
    assert!(StoreError::unavailable("postgres", "connection refused").is_retryable());
    assert!(!StoreError::not_found("user", "x").is_retryable());
    assert!(!StoreError::conflict("user", "email").is_retryable());
    assert!(!StoreError::TokenReused.is_retryable());
    assert!(!StoreError::NoDatabase { tenant: "acme".into() }.is_retryable());
}
