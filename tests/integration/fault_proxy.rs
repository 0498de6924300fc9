//! Fault test: a tenant's PostgreSQL database reached through a TCP proxy the test
//! controls. Cutting the proxy gives `Unavailable` within the acquire timeout while the
//! control plane answers; restoring it brings data-plane calls back without a restart.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hellojohn_store::manager::{Manager, ManagerConfig};
use hellojohn_store::model::{CreateUserInput, Tenant};
use hellojohn_store::{DbConfig, StoreError};
use tokio::net::TcpStream;

use crate::support::Proxy;

fn postgres_target() -> (String, String) {
    let url = std::env::var("HJ_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let rest = url.split("://").nth(1).expect("scheme");
    let authority = rest.split('/').next().expect("authority");
    let (user, host) = authority.rsplit_once('@').expect("user@host");
    (
        host.to_string(),
        format!(
            "postgres://{user}@127.0.0.1:{{port}}/{}",
            rest.split_once('/').map(|x| x.1).unwrap_or("test")
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cutting_the_database_gives_unavailable_and_restoring_it_brings_calls_back() {
    let (target, dsn_template) = postgres_target();
    if TcpStream::connect(&target).await.is_err() {
        panic!("PostgreSQL at {target} is not reachable; start it with scripts/test-services.sh");
    }
    let proxy = Arc::new(Proxy::start(target).await);
    let dsn = dsn_template.replace("{port}", &proxy.port.to_string());
    let schema_tag = uuid::Uuid::now_v7().simple().to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let acquire_timeout = Duration::from_secs(2);
    let manager = Manager::new(
        ManagerConfig::from_fs_root(dir.path())
            .default_tenant_db(
                DbConfig::new("postgres", dsn).with_schema(format!("hj_f{}_{{tenant}}", &schema_tag[..12])),
            )
            .server_pool(2, acquire_timeout),
    )
    .await
    .expect("manager");
    manager.config().tenants().create(Tenant::new("acme", "Acme")).await.expect("tenant");
    let acme = manager.for_tenant("acme").await.expect("resolve");
    let users = acme.users().expect("data plane");
    users.create(CreateUserInput::new("ana@example.com")).await.expect("create before the cut");

    proxy.cut();
    let started = Instant::now();
    let err = users.get_by_email("ana@example.com").await.expect_err("fails while cut");
    let took = started.elapsed();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert!(took < acquire_timeout + Duration::from_secs(3), "Unavailable took {took:?}");
    let again = users.count(None).await.expect_err("still cut");
    assert!(again.is_retryable(), "{again:?}");
    // The control plane does not depend on the tenant's database.
    assert!(manager.config().clients("acme").expect("clients").list("").await.is_ok());
    assert!(manager.for_tenant("acme").await.is_ok(), "the tenant still resolves");

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let access = manager.for_tenant("acme").await.expect("resolve after restore");
        match access.users().map(|u| async move { u.get_by_email("ana@example.com").await }) {
            Ok(fut) => match fut.await {
                Ok((user, _)) => {
                    assert_eq!(user.email, "ana@example.com");
                    break;
                }
                Err(e) if e.is_retryable() && Instant::now() < deadline => {}
                Err(e) => panic!("after restore: {e:?}"),
            },
            Err(e) if e.is_retryable() && Instant::now() < deadline => {}
            Err(e) => panic!("after restore: {e:?}"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let schema = format!("hj_f{}_acme", &schema_tag[..12]);
    manager.close().await;
    drop_schema(&schema).await;
}

async fn drop_schema(schema: &str) {
    use sea_orm::{ConnectionTrait, Database};
    let url = std::env::var("HJ_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    if let Ok(db) = Database::connect(&url).await {
        let _ = db.execute_unprepared(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE")).await;
        let _ = db.close().await;
    }
}
