//! Tenant-namespace and tenant-lifecycle cases, through a [`Manager`] whose default tenant
//! database is one engine's `{tenant}` template: two tenants never share a namespace (not
//! even a slug crafted to collide with a long one's), a deleted tenant is unreachable at
//! once and a re-created slug starts empty, a purge drops what the retention allows and
//! never a tenant's own database, a tenant's own `user_db` cannot name another tenant's
//! namespace, and templates that would share a namespace are refused. Each case is listed
//! once in [`lifecycle_cases!`](crate::lifecycle_cases); a backend's test file only builds a
//! [`LifecycleFixture`].

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::TimeDelta;

use crate::crypto::SecretBox;
use crate::error::StoreError;
use crate::manager::{Manager, ManagerConfig, PurgeOutcome, TenantDataAccess, substitute};
use crate::mode::DbConfig;
use crate::model::{
    CreateRefreshTokenInput, CreateSessionInput, CreateUserInput, Secret, SessionFilter, Tenant,
    TenantDbSettings, TokenFilter, UserFilter,
};
use crate::registry::{ConnectConfig, Registry};
use crate::repository::ControlPlaneStore;

type Cleanup = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A manager over a fresh control plane whose default tenant database is `template`, and
/// what to remove after the case: every namespace a tenant of the case had (dropped through
/// the adapter), then the control plane's own cleanup.
pub struct LifecycleFixture {
    /// The manager under test.
    pub manager: Manager,
    /// The default tenant database template (with `{tenant}`).
    pub template: DbConfig,
    /// The key the manager seals secrets with.
    pub secrets: SecretBox,
    namespaces: Arc<Mutex<Vec<String>>>,
    _dir: Option<tempfile::TempDir>,
    cleanup: Option<Cleanup>,
}

fn key() -> SecretBox {
    SecretBox::from_base64(&SecretBox::generate_key_base64()).unwrap_or_else(|e| panic!("key: {e}"))
}

impl LifecycleFixture {
    /// A fixture on a fresh FS control plane (a temporary root).
    pub async fn on_fs(template: DbConfig) -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temporary FS root: {e}"));
        let secrets = key();
        let config = ManagerConfig::from_fs_root(dir.path())
            .default_tenant_db(template.clone())
            .secrets(secrets.clone());
        let manager = Manager::new(config).await.unwrap_or_else(|e| panic!("manager: {e}"));
        LifecycleFixture {
            manager,
            template,
            secrets,
            namespaces: Arc::default(),
            _dir: Some(dir),
            cleanup: None,
        }
    }

    /// A fixture on `control_plane` (a global database made for the case), sealed with
    /// `secrets`; `cleanup` removes the control plane after the case.
    pub async fn on_control_plane(
        template: DbConfig,
        control_plane: Arc<dyn ControlPlaneStore>,
        secrets: SecretBox,
        cleanup: impl Future<Output = ()> + Send + 'static,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temporary FS root: {e}"));
        let config = ManagerConfig::from_fs_root(dir.path())
            .default_tenant_db(template.clone())
            .secrets(secrets.clone())
            .control_plane(control_plane);
        let manager = Manager::new(config).await.unwrap_or_else(|e| panic!("manager: {e}"));
        LifecycleFixture {
            manager,
            template,
            secrets,
            namespaces: Arc::default(),
            _dir: Some(dir),
            cleanup: Some(Box::pin(cleanup)),
        }
    }

    /// Runs `cleanup` after the case too (after the namespaces are dropped).
    pub fn with_cleanup(mut self, cleanup: impl Future<Output = ()> + Send + 'static) -> Self {
        let before = self.cleanup.take();
        self.cleanup = Some(Box::pin(async move {
            if let Some(before) = before {
                before.await;
            }
            cleanup.await;
        }));
        self
    }

    /// Creates the tenant `slug` through the manager and remembers its namespace for the
    /// cleanup.
    pub async fn create(&self, slug: &str) -> Tenant {
        self.create_tenant(Tenant::new(slug, slug)).await
    }

    async fn create_tenant(&self, tenant: Tenant) -> Tenant {
        let slug = tenant.slug.clone();
        let created = self
            .manager
            .config()
            .tenants()
            .create(tenant)
            .await
            .unwrap_or_else(|e| panic!("creating tenant {slug}: {e}"));
        self.track(&created.effective_namespace());
        created
    }

    fn track(&self, namespace: &str) {
        self.namespaces.lock().unwrap_or_else(|p| p.into_inner()).push(namespace.to_string());
    }

    /// The access of `slug`, with a usable data plane.
    pub async fn access(&self, slug: &str) -> TenantDataAccess {
        let access = self.manager.for_tenant(slug).await.unwrap_or_else(|e| panic!("resolving {slug}: {e}"));
        if let Err(e) = access.users() {
            panic!("tenant {slug} has no usable data plane: {e}");
        }
        access
    }

    /// The template with `{tenant}` replaced by `namespace`.
    pub fn namespace_db(&self, namespace: &str) -> DbConfig {
        substitute(&self.template, namespace)
    }

    /// Drops every namespace the case's tenants had, closes the manager, runs the cleanup.
    pub async fn teardown(self) {
        self.manager.close().await;
        let namespaces = self.namespaces.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let registry = Registry::with_builtins();
        for ns in namespaces {
            let cfg = ConnectConfig::new("cleanup", crate::model::new_id(), substitute(&self.template, &ns));
            if let Err(e) = registry.drop_namespace(&cfg).await {
                eprintln!("cleanup: dropping namespace {ns}: {e}");
            }
        }
        if let Some(cleanup) = self.cleanup {
            cleanup.await;
        }
    }
}

/// A short random tag for the namespaces of one case (`hj_l<tag>_{tenant}`).
pub fn run_tag() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_string()
}

/// The lifecycle fixture on SQLite: a file per tenant in a temporary folder, FS control plane.
#[cfg(feature = "sqlite")]
pub async fn sqlite_lifecycle_fixture() -> LifecycleFixture {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temporary folder for SQLite files: {e}"));
    let template =
        DbConfig::new("sqlite", format!("sqlite://{}/{{tenant}}.db?mode=rwc", dir.path().display()));
    LifecycleFixture::on_fs(template).await.with_cleanup(async move { drop(dir) })
}

/// The lifecycle fixture on PostgreSQL: a schema per tenant (`hj_l<tag>_{tenant}`), FS
/// control plane.
#[cfg(feature = "postgres")]
pub async fn postgres_lifecycle_fixture() -> LifecycleFixture {
    let template = DbConfig::new("postgres", super::sql::postgres_url())
        .with_schema(format!("hj_l{}_{{tenant}}", run_tag()));
    LifecycleFixture::on_fs(template).await
}

/// The lifecycle fixture on MySQL/MariaDB: a database per tenant (`hj_l<tag>_{tenant}`), FS
/// control plane.
#[cfg(feature = "mysql")]
pub async fn mysql_lifecycle_fixture() -> LifecycleFixture {
    let url = super::sql::mysql_url();
    let template =
        DbConfig::new("mysql", crate::mode::with_database(&url, &format!("hj_l{}_{{tenant}}", run_tag())));
    LifecycleFixture::on_fs(template).await
}

/// Whether the namespace `db` names exists on its server, asked with a plain connection
/// (not through the store): a PostgreSQL schema (through PgBouncer, when the DSN says
/// `pgbouncer=true`, with the simple query protocol only), a MySQL database, a SQLite file, a
/// MongoDB database.
pub async fn namespace_exists(db: &DbConfig) -> bool {
    match db.driver.as_str() {
        #[cfg(feature = "sqlite")]
        "sqlite" => {
            let rest =
                db.dsn.strip_prefix("sqlite://").or_else(|| db.dsn.strip_prefix("sqlite:")).unwrap_or("");
            std::path::Path::new(rest.split('?').next().unwrap_or("")).exists()
        }
        #[cfg(feature = "postgres")]
        "postgres" | "postgresql" => {
            let schema = db.schema.clone().unwrap_or_else(|| "public".into());
            if super::pgbouncer::through_pgbouncer(&db.dsn) {
                return super::pgbouncer::schema_exists_simple_protocol(&db.dsn, &schema).await;
            }
            count_on(
                &db.dsn,
                "SELECT COUNT(*) AS n FROM information_schema.schemata WHERE schema_name = $1",
                schema,
            )
            .await
                > 0
        }
        #[cfg(feature = "mysql")]
        "mysql" | "mariadb" => {
            let database =
                db.dsn.rsplit('/').next().unwrap_or("").split('?').next().unwrap_or("").to_string();
            let server = crate::mode::with_database(&db.dsn, "information_schema");
            count_on(
                &server,
                "SELECT COUNT(*) AS n FROM information_schema.schemata WHERE schema_name = ?",
                database,
            )
            .await
                > 0
        }
        #[cfg(feature = "mongo")]
        "mongo" | "mongodb" => {
            let database =
                db.dsn.split("://").nth(1).and_then(|r| r.split_once('/')).map(|(_, p)| p).unwrap_or("");
            let database = database.split('?').next().unwrap_or("").to_string();
            let client = mongodb::Client::with_uri_str(&db.dsn)
                .await
                .unwrap_or_else(|e| panic!("connecting to MongoDB to look for {database}: {e}"));
            let names = client
                .list_database_names()
                .await
                .unwrap_or_else(|e| panic!("listing MongoDB databases: {e}"));
            names.contains(&database)
        }
        other => panic!("namespace_exists does not know driver {other}"),
    }
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
async fn count_on(url: &str, sql: &str, name: String) -> i64 {
    use sea_orm::{ConnectionTrait, Database, Statement};
    let db = Database::connect(url).await.unwrap_or_else(|e| panic!("connecting to look for {name}: {e}"));
    let row = db
        .query_one_raw(Statement::from_sql_and_values(db.get_database_backend(), sql, [name.clone().into()]))
        .await
        .unwrap_or_else(|e| panic!("looking for {name}: {e}"));
    let _ = db.close().await;
    row.and_then(|r| r.try_get::<i64>("", "n").ok()).unwrap_or(0)
}

#[track_caller]
fn assert_not_found<T: std::fmt::Debug>(result: Result<T, StoreError>, what: &str) {
    match result {
        Err(StoreError::NotFound { .. }) => {}
        other => panic!("{what}: expected NotFound, got {other:?}"),
    }
}

/// A user, a refresh token and a session in `access`; returns the token hash.
async fn seed(access: &TenantDataAccess, email: &str) -> String {
    let users = access.users().expect("users");
    let (user, _) = users.create(CreateUserInput::new(email)).await.expect("create user");
    let hash = format!("rt-{}", access.id().simple());
    let input = CreateRefreshTokenInput {
        user_id: user.id,
        client_id: "web".into(),
        token_hash: hash.clone(),
        ttl: TimeDelta::hours(1),
    };
    access.tokens().expect("tokens").create(input).await.expect("token");
    let session =
        CreateSessionInput::new(user.id, format!("sess-{hash}"), crate::model::now() + TimeDelta::hours(1));
    access.sessions().expect("sessions").create(session).await.expect("session");
    hash
}

/// `access` holds no users, tokens or sessions, and neither `email` nor `hash` is found.
async fn assert_empty(access: &TenantDataAccess, email: &str, hash: &str) {
    let users = access.users().expect("users");
    assert!(users.list(&UserFilter::default()).await.expect("list users").is_empty(), "users are visible");
    assert_not_found(users.get_by_email(email).await, "the other tenant's e-mail");
    let tokens = access.tokens().expect("tokens");
    assert_eq!(tokens.count(&TokenFilter::default()).await.expect("count tokens"), 0, "tokens are visible");
    assert_not_found(tokens.get_by_hash(hash).await, "the other tenant's refresh token");
    assert_not_found(tokens.rotate(hash, "rotated-elsewhere", TimeDelta::hours(1)).await, "rotating it");
    let (sessions, total) =
        access.sessions().expect("sessions").list(&SessionFilter::default()).await.expect("list");
    assert!(sessions.is_empty() && total == 0, "sessions are visible: {sessions:?}");
}

/// The namespace name the store gave long slugs before namespaces were recorded:
/// `prefix_<8 hex of SHA-256>` cut to fit `room` (the attack this case replays).
fn old_shortened_name(name: &str, room: usize) -> String {
    use sha2::{Digest, Sha256};
    let hash: String = Sha256::digest(name.as_bytes()).iter().take(4).map(|b| format!("{b:02x}")).collect();
    let keep = room.saturating_sub(hash.len() + 1).min(name.len());
    format!("{}_{hash}", &name[..keep])
}

/// The length of the fixed text around `{tenant}` in the template's namespace part, as
/// the old substitution measured it.
fn old_fixed_len(template: &DbConfig) -> usize {
    let part = |s: &str| {
        let pos = s.find("{tenant}").unwrap_or(0);
        let after = pos + "{tenant}".len();
        let start = s[..pos].rfind(['/', '?', '&', '=', ':']).map(|i| i + 1).unwrap_or(0);
        let end = s[after..].find(['/', '?', '&', '#']).map(|i| after + i).unwrap_or(s.len());
        (end - start).saturating_sub("{tenant}".len())
    };
    match template.schema.as_deref().filter(|s| s.contains("{tenant}")) {
        Some(schema) => part(schema),
        None => part(&template.dsn),
    }
}

/// The exact collision attack: a victim whose slug is long enough to have been shortened,
/// and attackers whose slugs map to the victim's old shortened name and to its recorded
/// namespace (`_` written as `-`). Each attacker gets a namespace of its own and sees none
/// of the victim's users, tokens or sessions.
pub async fn lifecycle_crafted_slug_never_shares_a_long_slugs_namespace(fx: &LifecycleFixture) {
    let victim_slug = format!("victim-{}", "v".repeat(56));
    let victim = fx.create(&victim_slug).await;
    let victim_ns = victim.namespace.clone().expect("recorded namespace");
    assert!(victim_ns.len() <= crate::model::NAMESPACE_MAX_LEN, "{victim_ns}");
    let hash = seed(&fx.access(&victim_slug).await, "victim@example.com").await;

    let old = old_shortened_name(&victim_slug.replace('-', "_"), 63 - old_fixed_len(&fx.template));
    let attackers = [old.replace('_', "-"), victim_ns.replace('_', "-")];
    for slug in &attackers {
        let attacker = fx.create(slug).await;
        assert_ne!(attacker.namespace, victim.namespace, "{slug} got the victim's namespace");
        let access = fx.access(slug).await;
        assert_empty(&access, "victim@example.com", &hash).await;
    }
    let users = fx.access(&victim_slug).await.users().expect("users");
    users.get_by_email("victim@example.com").await.expect("the victim still has its user");
}

/// Delete and re-create one slug: the deleted tenant is unreachable at once on the same
/// manager, the new one has a new id and namespace and starts empty (the old user's e-mail
/// not found, the old refresh token `NotFound`, no sessions).
pub async fn lifecycle_recreated_slug_starts_empty(fx: &LifecycleFixture) {
    let old = fx.create("reused").await;
    let old_access = fx.access("reused").await;
    let hash = seed(&old_access, "old@example.com").await;
    fx.manager.config().tenants().delete("reused").await.expect("delete");
    match fx.manager.for_tenant("reused").await {
        Err(StoreError::TenantNotFound { .. }) => {}
        other => panic!("a deleted tenant must be TenantNotFound at once, got {:?}", other.map(|a| a.id())),
    }
    match fx.manager.for_tenant(&old.id.to_string()).await {
        Err(StoreError::TenantNotFound { .. }) => {}
        other => panic!("a deleted tenant's id must be TenantNotFound, got {:?}", other.map(|a| a.id())),
    }
    let deleted = fx.manager.deleted_tenants().await.expect("tombstones");
    assert!(
        deleted.iter().any(|d| d.id == old.id && d.namespace == old.effective_namespace()),
        "{deleted:?}"
    );

    let new = fx.create("reused").await;
    assert_ne!(new.id, old.id);
    assert_ne!(new.namespace, old.namespace, "the new tenant got the deleted one's namespace");
    let access = fx.access("reused").await;
    assert_eq!(access.id(), new.id);
    assert_empty(&access, "old@example.com", &hash).await;
}

/// A purge leaves tenants younger than the retention alone, a dry run changes nothing, and
/// a purge after the retention drops the namespace (seen from outside the store) and the
/// tombstone; a tenant's own database is left in place.
pub async fn lifecycle_purge_drops_the_namespace_after_the_retention(fx: &LifecycleFixture) {
    let gone = fx.create("gone").await;
    seed(&fx.access("gone").await, "gone@example.com").await;
    let gone_db = fx.namespace_db(&gone.effective_namespace());
    assert!(namespace_exists(&gone_db).await, "the namespace exists before the purge");

    // A tenant with its own database: on the template's server it may only be its own
    // default namespace, which is what it names here.
    let mut own = Tenant::new("own-db", "Own");
    own.namespace = Some("own_db".into());
    let own_db = fx.namespace_db("own_db");
    own.settings.user_db = Some(TenantDbSettings {
        driver: own_db.driver.clone(),
        dsn: Secret::plain(own_db.dsn.clone()),
        schema: own_db.schema.clone(),
    });
    fx.create_tenant(own).await;
    seed(&fx.access("own-db").await, "own@example.com").await;

    let tenants = fx.manager.config().tenants();
    tenants.delete("gone").await.expect("delete gone");
    tenants.delete("own-db").await.expect("delete own-db");

    let kept = fx.manager.purge_deleted_tenants(Duration::from_secs(3600), false).await.expect("purge");
    assert!(kept.purged.is_empty() && kept.kept.len() == 2, "{kept:?}");
    let dry = fx.manager.purge_deleted_tenants(Duration::ZERO, true).await.expect("dry run");
    assert!(dry.dry_run && dry.purged.len() == 2, "{dry:?}");
    assert!(namespace_exists(&gone_db).await, "a dry run drops nothing");
    assert_eq!(
        fx.manager.deleted_tenants().await.expect("tombstones").len(),
        2,
        "a dry run keeps tombstones"
    );

    let report = fx.manager.purge_deleted_tenants(Duration::ZERO, false).await.expect("purge");
    let outcome = |slug: &str| {
        report
            .purged
            .iter()
            .find(|e| e.tenant.slug == slug)
            .map(|e| e.outcome.clone())
            .expect("in the report")
    };
    assert_eq!(outcome("gone"), PurgeOutcome::Dropped, "{report:?}");
    assert_eq!(outcome("own-db"), PurgeOutcome::OwnDatabaseLeft, "{report:?}");
    assert!(!namespace_exists(&gone_db).await, "the purged namespace still exists");
    assert!(
        !namespace_exists(&own_db).await,
        "an own database that is the tenant's template namespace must be dropped with it"
    );
    assert!(fx.manager.deleted_tenants().await.expect("tombstones").is_empty());
}

/// A tenant whose own `user_db` is its own template namespace is deleted and purged: the
/// purge drops that namespace (the store allocated it), so a re-created slug, given the
/// freed namespace, starts empty. A tenant that moved from the template to an own database
/// leaves its old template namespace; the purge drops it too.
pub async fn lifecycle_purge_leaves_no_data_for_the_next_holder_of_a_namespace(fx: &LifecycleFixture) {
    let own_settings = |db: &DbConfig| TenantDbSettings {
        driver: db.driver.clone(),
        dsn: Secret::plain(db.dsn.clone()),
        schema: db.schema.clone(),
    };
    let mut own = Tenant::new("own-db", "Own");
    own.namespace = Some("own_db".into());
    own.settings.user_db = Some(own_settings(&fx.namespace_db("own_db")));
    fx.create_tenant(own).await;
    let hash = seed(&fx.access("own-db").await, "old-customer@example.com").await;

    // Moved: starts on the template with data, then gets an own `user_db` (on the
    // template's server the only one allowed is its own template namespace). Its tombstone
    // says own_db; the data written before the move is in the template namespace.
    let moved = fx.create("moved").await;
    let moved_hash = seed(&fx.access("moved").await, "moved-old@example.com").await;
    let moved_db = fx.namespace_db(&moved.effective_namespace());
    let mut settings = moved.settings.clone();
    settings.user_db = Some(own_settings(&moved_db));
    fx.manager.config().tenants().update_settings("moved", settings).await.expect("move to an own database");

    let tenants = fx.manager.config().tenants();
    tenants.delete("own-db").await.expect("delete own-db");
    tenants.delete("moved").await.expect("delete moved");
    let report = fx.manager.purge_deleted_tenants(Duration::ZERO, false).await.expect("purge");
    assert!(report.purged.iter().all(|e| e.outcome == PurgeOutcome::OwnDatabaseLeft), "{report:?}");
    assert!(!namespace_exists(&fx.namespace_db("own_db")).await, "own_db survived the purge");
    assert!(!namespace_exists(&moved_db).await, "the moved tenant's template namespace survived");
    assert!(fx.manager.deleted_tenants().await.expect("tombstones").is_empty());

    let mut again = Tenant::new("own-db", "Own again");
    again.namespace = Some("own_db".into());
    let again = fx.create_tenant(again).await;
    assert_eq!(again.namespace.as_deref(), Some("own_db"), "the freed namespace is given out again");
    assert_empty(&fx.access("own-db").await, "old-customer@example.com", &hash).await;
    let mut moved_again = Tenant::new("moved", "Moved again");
    moved_again.namespace = moved.namespace.clone();
    fx.create_tenant(moved_again).await;
    assert_empty(&fx.access("moved").await, "moved-old@example.com", &moved_hash).await;
}

/// A tenant's own `user_db` on the template's server naming another tenant's namespace is
/// refused (`InvalidInput`) on create and on update, and never opened; two tenants' own
/// databases naming one (server, namespace) elsewhere is a `Conflict`.
pub async fn lifecycle_own_db_cannot_name_another_tenants_namespace(fx: &LifecycleFixture) {
    let victim = fx.create("victim").await;
    seed(&fx.access("victim").await, "victim@example.com").await;
    let theirs = fx.namespace_db(&victim.effective_namespace());
    let own = |db: &DbConfig| TenantDbSettings {
        driver: db.driver.clone(),
        dsn: Secret::plain(db.dsn.clone()),
        schema: db.schema.clone(),
    };
    let tenants = fx.manager.config().tenants();
    let mut mallory = Tenant::new("mallory", "Mallory");
    mallory.settings.user_db = Some(own(&theirs));
    match tenants.create(mallory).await {
        Err(StoreError::InvalidInput { .. }) => {}
        other => panic!("create with another tenant's namespace: {other:?}"),
    }
    let eve = fx.create("eve").await;
    let mut settings = eve.settings.clone();
    settings.user_db = Some(own(&theirs));
    match tenants.update_settings("eve", settings).await {
        Err(StoreError::InvalidInput { .. }) => {}
        other => panic!("update to another tenant's namespace: {other:?}"),
    }

    // The victim's namespace in disguise: any-address host, a port with leading zeros, a
    // percent-encoded socket path, a host list with one more host, a query parameter that
    // moves the connection (PostgreSQL, MySQL), a relative path (SQLite).
    for disguised in disguises(&theirs) {
        let mut mallory = Tenant::new("mallory", "Mallory");
        mallory.settings.user_db = Some(own(&disguised));
        match tenants.create(mallory).await {
            Err(StoreError::InvalidInput { .. }) => {}
            other => panic!("create with {:?}: {other:?}", disguised.redacted_dsn()),
        }
    }

    // An own database whose DSN carries a value the driver writes into SQL at connect time
    // (MySQL `timezone`, `charset`, `collation`: statements of its own, run outside every
    // namespace) or a character set the store cannot read back: refused.
    for hostile in hostile_params(&substitute(&fx.template, "mallory_own")) {
        let mut mallory = Tenant::new("mallory", "Mallory");
        mallory.settings.user_db = Some(own(&hostile));
        match tenants.create(mallory).await {
            Err(StoreError::InvalidInput { .. }) => {}
            other => panic!("create with {:?}: {other:?}", hostile.redacted_dsn()),
        }
    }

    // Elsewhere (another server or folder): allowed once, a Conflict the second time.
    let elsewhere = elsewhere(&fx.template);
    for (slug, expect_ok) in [("far-one", true), ("far-two", false)] {
        let mut t = Tenant::new(slug, slug);
        t.settings.user_db = Some(own(&elsewhere));
        match (tenants.create(t).await, expect_ok) {
            (Ok(_), true) | (Err(StoreError::Conflict { .. }), false) => {}
            (other, _) => panic!("{slug} with an own database elsewhere: {other:?}"),
        }
    }
}

/// `db` (a tenant's namespace) written so that a naive comparison misses it.
fn disguises(db: &DbConfig) -> Vec<DbConfig> {
    let with = |dsn: String, schema: Option<String>| DbConfig { dsn, schema, ..db.clone() };
    let join = join_query;
    let far =
        db.dsn.replace("127.0.0.1", "db.elsewhere.invalid").replace("localhost", "db.elsewhere.invalid");
    let schema = db.schema.clone().unwrap_or_default();
    match db.driver.as_str() {
        "sqlite" => {
            let abs = db.dsn.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
            let ups =
                std::env::current_dir().map(|c| "../".repeat(c.components().count())).unwrap_or_default();
            vec![with(format!("sqlite://{ups}{}", abs.trim_start_matches('/')), None)]
        }
        "postgres" => {
            let (base, database) = db.dsn.rsplit_once('/').unwrap_or((&db.dsn, ""));
            vec![
                with(db.dsn.replace("127.0.0.1", "0.0.0.0"), db.schema.clone()),
                with(db.dsn.replace(":5432", ":05432"), db.schema.clone()),
                with(db.dsn.replace("127.0.0.1:5432", "%2Fvar%2Frun%2Fpostgresql"), db.schema.clone()),
                with(join(&far, "host=127.0.0.1"), db.schema.clone()),
                // URL parsers delete tabs and line breaks: `ho\tst` is `host` to the driver.
                with(join(&far, "ho\tst=127.0.0.1"), db.schema.clone()),
                with(format!("{base}/other?dbname={database}"), db.schema.clone()),
                with(join(&db.dsn, &format!("options[search_path]={schema}")), None),
                with(join(&db.dsn, &format!("%6Fptions=-csearch_path%3D{schema}")), None),
                with(join(&db.dsn, &format!("options=-csearch-path%3D{schema}")), None),
                // Path spellings URL parsers resolve to the same database.
                with(format!("{base}/x/../{database}"), db.schema.clone()),
                with(format!("{base}/./{database}"), db.schema.clone()),
                with(format!("{base}//{database}"), db.schema.clone()),
                with(format!("{base}/x/%2e%2E/{database}"), db.schema.clone()),
                with(format!("{base}/x@db.elsewhere.invalid/../{database}"), db.schema.clone()),
            ]
        }
        "mysql" => vec![
            with(db.dsn.rsplit_once('/').map(|(b, d)| format!("{b}/x/../{d}")).unwrap_or_default(), None),
            with(db.dsn.replace("127.0.0.1", "0.0.0.0"), None),
            with(db.dsn.replace(":3306", ":03306"), None),
            with(join(&far, "socket=/run/mysqld/mysqld.sock"), None),
            with(join(&far, "soc\tket=/run/mysqld/mysqld.sock"), None),
        ],
        _ => vec![
            with(db.dsn.replace("127.0.0.1", "0.0.0.0"), None),
            with(db.dsn.replace(":27017", ":027017"), None),
            with(db.dsn.replace("127.0.0.1:27017", "127.0.0.1:27017,127.0.0.1:1"), None),
        ],
    }
}

/// `db` (a namespace of its own) with query parameters the driver writes into SQL at
/// connect time (MySQL/MariaDB; none elsewhere).
fn hostile_params(db: &DbConfig) -> Vec<DbConfig> {
    let with = |param: &str| DbConfig { dsn: join_query(&db.dsn, param), ..db.clone() };
    match db.driver.as_str() {
        "mysql" => vec![
            with("timezone=%2B00%3A00%27%3BDROP%20DATABASE%20hj_victim%3BSET%20%40a%3D%27"),
            with("time-zone=+00:00';CREATE TABLE x.y (z int);SET @a='"),
            with("charset=utf8mb4;CREATE TABLE x.y (z int)"),
            with("collation=utf8mb4_bin;DO 1"),
            with("charset=latin1"),
            with("time\tzone=%2B00:00%27;DO%201;SET%20@a=%27"),
            with("char\nset=latin1"),
            with("colla\rtion=utf8mb4_bin;DO%201"),
        ],
        _ => Vec::new(),
    }
}

/// The template with its server moved elsewhere (a host that is never contacted, or a
/// sibling folder for SQLite) and `{tenant}` fixed to one name.
fn elsewhere(template: &DbConfig) -> DbConfig {
    let mut db = substitute(template, "shared_elsewhere");
    if db.driver == "sqlite" {
        db.dsn = db.dsn.replace("/shared_elsewhere", "/elsewhere/shared_elsewhere");
    } else {
        db.dsn =
            db.dsn.replace("127.0.0.1", "db.elsewhere.invalid").replace("localhost", "db.elsewhere.invalid");
    }
    db
}

/// Templates under which tenants would share a namespace are refused by `Manager::new`:
/// `{tenant}` only in the query string (both probes give one namespace), and a namespace
/// part that would pass the engine's limit.
pub async fn lifecycle_templates_that_share_a_namespace_are_refused(fx: &LifecycleFixture) {
    let fixed = substitute(&fx.template, "shared");
    let separator = if fixed.dsn.contains('?') { '&' } else { '?' };
    let query_only =
        DbConfig { dsn: format!("{}{separator}application_name={{tenant}}", fixed.dsn), ..fixed.clone() };
    let long = DbConfig {
        dsn: fx.template.dsn.replace("{tenant}", &format!("{}{{tenant}}", "x".repeat(300))),
        schema: fx
            .template
            .schema
            .as_ref()
            .map(|s| s.replace("{tenant}", &format!("{}{{tenant}}", "x".repeat(30)))),
        ..fx.template.clone()
    };
    for (what, db) in [("{tenant} only in the query", query_only), ("a name over the limit", long)] {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temporary FS root: {e}"));
        match Manager::new(ManagerConfig::from_fs_root(dir.path()).default_tenant_db(db)).await {
            Err(StoreError::InvalidInput { message, .. }) => {
                assert!(message.contains("{tenant}"), "{message}")
            }
            Err(other) => panic!("{what}: expected InvalidInput, got {other}"),
            Ok(_) => panic!("{what}: the template was accepted"),
        }
    } // A parameter that overrides the database (all tenants would share `x`).
    if fx.template.driver == "postgres" {
        let db = DbConfig { dsn: join_query(&fx.template.dsn, "dbname=x"), ..fx.template.clone() };
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temporary FS root: {e}"));
        match Manager::new(ManagerConfig::from_fs_root(dir.path()).default_tenant_db(db)).await {
            Err(StoreError::InvalidInput { message, .. }) => assert!(message.contains("dbname"), "{message}"),
            Err(other) => panic!("?dbname=: expected InvalidInput, got {other}"),
            Ok(_) => panic!("?dbname=: the template was accepted"),
        }
    }
}

fn join_query(dsn: &str, param: &str) -> String {
    format!("{dsn}{}{param}", if dsn.contains('?') { '&' } else { '?' })
}

/// The one list of lifecycle cases.
#[macro_export]
macro_rules! lifecycle_cases {
    ($cb:ident $(, $arg:path)?) => {
        $crate::$cb! {$($arg,)?
            lifecycle_crafted_slug_never_shares_a_long_slugs_namespace,
            lifecycle_recreated_slug_starts_empty,
            lifecycle_purge_drops_the_namespace_after_the_retention,
            lifecycle_purge_leaves_no_data_for_the_next_holder_of_a_namespace,
            lifecycle_own_db_cannot_name_another_tenants_namespace,
            lifecycle_templates_that_share_a_namespace_are_refused,
        }
    };
}

/// Expands to one `#[tokio::test]` per lifecycle case, each building its fixture with
/// `$fixture().await` (an `async fn() -> LifecycleFixture`).
#[macro_export]
macro_rules! lifecycle_conformance {
    ($fixture:path) => {
        $crate::lifecycle_cases!(__lifecycle_test, $fixture);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __lifecycle_test {
    ($fixture:path, $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let fixture = $fixture().await;
                $crate::conformance::lifecycle::$case(&fixture).await;
                fixture.teardown().await;
            }
        )*
    };
}
