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

/// Waits up to `within` for `check` to hold, polling every 20 ms; returns how long it took.
///
/// Panics with `what` when it does not hold in time.
pub async fn eventually<F, Fut>(what: &str, within: Duration, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = std::time::Instant::now();
    loop {
        if check().await {
            return started.elapsed();
        }
        if started.elapsed() > within {
            panic!("{what}: not within {within:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Two `Manager`s (replicas A and B) on the global database `db`: a client created through
/// A is visible through B, a settings change (the tenant's own database) takes effect in B
/// without a restart, and a tenant deleted through A makes B's `for_tenant` return
/// `TenantNotFound` — each within one second. Mode `fs_global_db`: tenants start without a
/// database.
pub async fn two_replicas_stay_consistent(db: DbConfig) {
    two_replicas(db, false).await;
}

/// [`two_replicas_stay_consistent`] in mode `full_db`: tenants start on a default tenant
/// database (SQLite files shared by both replicas), and after the settings change B's
/// data-plane calls reach the tenant's new database, where A sees what B wrote.
pub async fn two_replicas_stay_consistent_in_full_db(db: DbConfig) {
    two_replicas(db, true).await;
}

async fn two_replicas(db: DbConfig, full_db: bool) {
    use crate::error::StoreError;
    use crate::manager::{Manager, ManagerConfig};
    use crate::mode::OperationalMode;
    use crate::model::{ClientInput, CreateUserInput, Secret, Tenant, TenantDbSettings, UserFilter};

    let key = random_key();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let default_db =
        DbConfig::new("sqlite", format!("sqlite://{}/{{tenant}}-default.db?mode=rwc", dir.path().display()));
    let config = |name: &str| {
        let cfg = ManagerConfig::from_fs_root(dir.path().join(name))
            .global_db(db.clone())
            .secrets(key.clone())
            .global_poll_interval(TEST_POLL_INTERVAL);
        if full_db { cfg.default_tenant_db(default_db.clone()) } else { cfg }
    };
    let a = Manager::new(config("a")).await.unwrap_or_else(|e| panic!("replica A: {e}"));
    let b = Manager::new(config("b")).await.unwrap_or_else(|e| panic!("replica B: {e}"));
    let expected = if full_db { OperationalMode::FullDb } else { OperationalMode::FsGlobalDb };
    assert_eq!(a.mode(), expected);
    assert!(b.capabilities().global_sync);
    assert!(format!("{a:?}").contains("\"global\""), "the global database holds the control plane: {a:?}");

    // A tenant created through A resolves through B.
    a.config().tenants().create(Tenant::new("acme", "Acme")).await.unwrap_or_else(|e| panic!("create: {e}"));
    let took = eventually("tenant created through A visible in B", Duration::from_secs(1), || async {
        b.for_tenant("acme").await.is_ok()
    })
    .await;
    println!("tenant visible in B after {took:?}");
    let before = b.for_tenant("acme").await.unwrap_or_else(|e| panic!("for_tenant: {e}"));
    assert_eq!(before.has_db(), full_db, "only full_db gives a tenant a database from the start");
    if full_db {
        let users = before.users().unwrap_or_else(|e| panic!("users: {e}"));
        users.create(CreateUserInput::new("old@example.com")).await.unwrap_or_else(|e| panic!("user: {e}"));
    }

    // A client created through A is visible through B.
    let clients_a = a.config().clients("acme").unwrap_or_else(|e| panic!("clients: {e}"));
    let mut input = ClientInput::new("web-app", "Web");
    input.redirect_uris = vec!["https://app.example.com/cb".into()];
    clients_a.create(input).await.unwrap_or_else(|e| panic!("create client: {e}"));
    let clients_b = b.config().clients("acme").unwrap_or_else(|e| panic!("clients: {e}"));
    let took = eventually("client created through A visible in B", Duration::from_secs(1), || async {
        clients_b.get("web-app").await.is_ok()
    })
    .await;
    println!("client visible in B after {took:?}");

    // A settings change (the tenant's own database) takes effect in B without a restart.
    let db_file = dir.path().join("acme.db");
    let mut settings = a.config().tenants().get_by_slug("acme").await.map(|t| t.settings).unwrap_or_default();
    settings.user_db = Some(TenantDbSettings {
        driver: "sqlite".into(),
        dsn: Secret::plain(format!("sqlite://{}?mode=rwc", db_file.display())),
        schema: None,
    });
    a.config().tenants().update_settings("acme", settings).await.unwrap_or_else(|e| panic!("settings: {e}"));
    // In effect means B's data-plane calls reach the new (empty) database.
    let took = eventually("settings change through A in effect in B", Duration::from_secs(1), || async {
        let Ok(access) = b.for_tenant("acme").await else { return false };
        let Ok(users) = access.users() else { return false };
        users.list(&UserFilter::default()).await.is_ok_and(|l| l.is_empty())
            && matches!(b.tenant_db("acme").await, Ok(Some(db)) if db.dsn.contains("acme.db"))
    })
    .await;
    println!("settings change in effect in B after {took:?}");
    let after = b.for_tenant("acme").await.unwrap_or_else(|e| panic!("for_tenant: {e}"));
    assert!(after.has_db(), "B uses the new database without a restart");
    let users_b = after.users().unwrap_or_else(|e| panic!("users: {e}"));
    let listed = users_b.list(&UserFilter::default()).await.unwrap_or_else(|e| panic!("list: {e}"));
    assert!(listed.is_empty(), "B's calls reach the new, empty database, not the old one: {listed:?}");
    users_b.create(CreateUserInput::new("new@example.com")).await.unwrap_or_else(|e| panic!("user: {e}"));
    let in_a = a.for_tenant("acme").await.unwrap_or_else(|e| panic!("for_tenant in A: {e}"));
    let users_a = in_a.users().unwrap_or_else(|e| panic!("users: {e}"));
    users_a.get_by_email("new@example.com").await.unwrap_or_else(|e| panic!("A sees B's write: {e}"));

    // A tenant deleted through A is gone from B.
    a.config().tenants().delete("acme").await.unwrap_or_else(|e| panic!("delete: {e}"));
    let took = eventually("tenant deleted through A gone from B", Duration::from_secs(1), || async {
        matches!(b.for_tenant("acme").await, Err(StoreError::TenantNotFound { .. }))
    })
    .await;
    println!("deletion in effect in B after {took:?}");
    assert_eq!(a.stats().await.control_plane_version, b.stats().await.control_plane_version);
    a.close().await;
    b.close().await;
}

async fn count_listeners(application_name: &str) -> i64 {
    use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
    let db = Database::connect(postgres_url()).await.unwrap_or_else(|e| panic!("connect: {e}"));
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1",
            [application_name.into()],
        ))
        .await
        .unwrap_or_else(|e| panic!("count listeners: {e}"))
        .unwrap_or_else(|| panic!("no row"));
    let n: i64 = row.try_get("", "n").unwrap_or_else(|e| panic!("count: {e}"));
    let _ = db.close().await;
    n
}

/// Two replicas on a fresh PostgreSQL schema; the listener sessions are terminated
/// (`pg_terminate_backend`) and writes go through A meanwhile: B reconnects, catches up by
/// version, and receives notifications again.
pub async fn postgres_listener_cut_and_restored_converges() {
    use crate::adapters::global::listener_application_name;
    use crate::model::{ClientInput, Tenant};
    use crate::repository::ControlPlaneStore;

    let (db, schema) = fresh_postgres_global_db().await;
    let key = random_key();
    let a = open_global(&db, &key).await;
    let b = open_global(&db, &key).await;
    let app = listener_application_name(Some(&schema));
    eventually("both listeners connected", Duration::from_secs(5), || async {
        count_listeners(&app).await == 2
    })
    .await;
    ControlPlaneStore::tenants(&a)
        .unwrap_or_else(|e| panic!("{e}"))
        .create(Tenant::new("acme", "Acme"))
        .await
        .unwrap_or_else(|e| panic!("create: {e}"));
    eventually("B sees acme", Duration::from_secs(1), || async { b.state().tenants.contains_key("acme") })
        .await;

    // Cut B's (and A's) notification connection, and write through A meanwhile.
    execute_on(
        &postgres_url(),
        &format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{app}'"),
    )
    .await;
    let mut input = ClientInput::new("web-app", "Web");
    input.redirect_uris = vec!["https://app.example.com/cb".into()];
    ControlPlaneStore::clients(&a, "acme")
        .unwrap_or_else(|e| panic!("{e}"))
        .create(input)
        .await
        .unwrap_or_else(|e| panic!("create client: {e}"));
    ControlPlaneStore::tenants(&a)
        .unwrap_or_else(|e| panic!("{e}"))
        .create(Tenant::new("globex", "Globex"))
        .await
        .unwrap_or_else(|e| panic!("create: {e}"));
    let took = eventually("B converges after its listener was cut", Duration::from_secs(1), || async {
        b.current_version() == a.current_version()
    })
    .await;
    println!("B converged {took:?} after the cut");
    let state = b.state();
    assert!(state.tenants.contains_key("globex"));
    assert!(state.clients.get("acme").is_some_and(|c| c.iter().any(|c| c.client_id == "web-app")));

    // Restored: the listeners are back and notifications flow again.
    eventually("listeners reconnected", Duration::from_secs(5), || async {
        count_listeners(&app).await == 2
    })
    .await;
    ControlPlaneStore::tenants(&a)
        .unwrap_or_else(|e| panic!("{e}"))
        .delete("globex")
        .await
        .unwrap_or_else(|e| panic!("delete: {e}"));
    eventually("B hears of writes again", Duration::from_secs(1), || async {
        !b.state().tenants.contains_key("globex")
    })
    .await;
    drop(a);
    drop(b);
    drop_postgres_global_db(&schema).await;
}

/// Two replicas on `db` create clients of one tenant in parallel: the version row
/// serialises the write transactions, so none is lost and both replicas end on the same
/// version with every client.
pub async fn parallel_writes_from_two_replicas_lose_nothing(db: DbConfig) {
    use crate::model::{ClientInput, Tenant};
    use crate::repository::ControlPlaneStore;

    let key = random_key();
    let a = open_global(&db, &key).await;
    let b = open_global(&db, &key).await;
    ControlPlaneStore::tenants(&a)
        .unwrap_or_else(|e| panic!("{e}"))
        .create(Tenant::new("acme", "Acme"))
        .await
        .unwrap_or_else(|e| panic!("create: {e}"));
    eventually("B sees acme", Duration::from_secs(1), || async { b.state().tenants.contains_key("acme") })
        .await;
    let mut tasks = Vec::new();
    for i in 0..16 {
        let replica = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            let clients = ControlPlaneStore::clients(&replica, "acme").unwrap_or_else(|e| panic!("{e}"));
            clients.create(ClientInput::new(format!("client-{i:02}"), "C")).await.map(|_| ())
        }));
    }
    for t in tasks {
        t.await.unwrap_or_else(|e| panic!("join: {e}")).unwrap_or_else(|e| panic!("create client: {e}"));
    }
    eventually("both replicas at the same version", Duration::from_secs(1), || async {
        a.current_version() == b.current_version()
    })
    .await;
    for replica in [&a, &b] {
        let clients = replica.state().clients.get("acme").cloned().unwrap_or_default();
        assert_eq!(clients.len(), 16, "every parallel write is kept");
    }
}

/// The lifecycle fixture on a global PostgreSQL control plane (a fresh schema), tenants'
/// namespaces as PostgreSQL schemas `hj_l<tag>_{tenant}`.
#[cfg(feature = "postgres")]
pub async fn postgres_global_lifecycle_fixture() -> super::lifecycle::LifecycleFixture {
    let (db, schema) = fresh_postgres_global_db().await;
    let key = random_key();
    let store = open_global(&db, &key).await;
    let template = DbConfig::new("postgres", postgres_url())
        .with_schema(format!("hj_l{}_{{tenant}}", super::lifecycle::run_tag()));
    super::lifecycle::LifecycleFixture::on_control_plane(template, Arc::new(store), key, async move {
        drop_postgres_global_db(&schema).await;
    })
    .await
}

/// The lifecycle fixture on a global MySQL/MariaDB control plane (a fresh database),
/// tenants' namespaces as MySQL databases `hj_l<tag>_{tenant}`.
#[cfg(feature = "mysql")]
pub async fn mysql_global_lifecycle_fixture() -> super::lifecycle::LifecycleFixture {
    let (db, database) = fresh_mysql_global_db().await;
    let key = random_key();
    let store = open_global(&db, &key).await;
    let template = DbConfig::new(
        "mysql",
        with_database(&mysql_url(), &format!("hj_l{}_{{tenant}}", super::lifecycle::run_tag())),
    );
    super::lifecycle::LifecycleFixture::on_control_plane(template, Arc::new(store), key, async move {
        drop_mysql_global_db(&database).await;
    })
    .await
}
