//! The MongoDB data plane: [`MongoAdapter`] (drivers `mongo` and `mongodb`, cargo feature
//! `mongo`) puts each tenant in a database of its own and implements every data-plane
//! repository on it with the `mongodb` crate.
//!
//! - [`MongoAdapter::locate`] splits a resolved DSN into the server (the DSN without its
//!   database path, see `dsn`) and the namespace (the database).
//!   [`open_server`](Adapter::open_server) makes one [`MongoServer`]: one `mongodb::Client`
//!   (its own connection pool, connected lazily by the driver, so no I/O), the record of
//!   recent refresh-token rotations and whether the server runs transactions (asked with
//!   `hello` on first need). The manager's pool keeps one `MongoServer` per server and binds
//!   every tenant on it to its database ([`ServerPool::bind`], no I/O); sharing is the
//!   manager's doing, the adapter keeps no process-wide state. A client's background tasks
//!   live on the tokio runtime that made it: use a `MongoServer` on that runtime.
//! - `migrations`: indexes are the schema, created by versioned steps recorded in
//!   `_migrations` when a tenant's database is provisioned ([`ServerPool::provision`]).
//! - `error`: the one mapping from driver errors to [`StoreError`].
//! - `txn`: multi-document transactions, run again on `TransientTransactionError`.
//! - `docs`: collection names and document shapes (UUID strings, microsecond integers).
//! - one file per repository.
//!
//! Owns only MongoDB documents of the tenant's database; never touches the control plane.

mod docs;
mod dsn;
pub(crate) mod error;
mod migrations;
mod txn;

mod consents;
mod email_tokens;
mod identities;
mod mfa;
mod rbac;
mod sessions;
mod tokens;
mod users;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use async_trait::async_trait;
use mongodb::bson::{Document, doc};
use mongodb::event::EventHandler;
use mongodb::event::cmap::CmapEvent;
use mongodb::options::ClientOptions;
use mongodb::{Client, Collection, Database};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::OnceCell;
use uuid::Uuid;

use self::error::BACKEND;
use crate::adapters::rotations::RecentRotations;
use crate::error::{StoreError, StoreResult};
use crate::mode::DbConfig;
use crate::registry::{
    Adapter, AdapterConnection, ConnectConfig, Location, Registry, ServerConfig, ServerPool,
    ServerPoolFigures, TenantRef,
};
use crate::repository::{
    ConsentRepository, EmailTokenRepository, IdentityRepository, MfaRepository, RbacRepository,
    SessionRepository, TokenRepository, UserRepository,
};

/// Databases of the server itself: never a tenant's to drop.
const SYSTEM_DATABASES: [&str; 3] = ["admin", "local", "config"];

/// The MongoDB adapter, registered as `mongo` and `mongodb`.
#[derive(Debug, Clone, Copy, Default)]
pub struct MongoAdapter;

impl MongoAdapter {
    /// The adapter.
    pub fn new() -> Self {
        MongoAdapter
    }
}

/// Registers the MongoDB adapter.
pub(crate) fn register(registry: &mut Registry) {
    registry.register(Arc::new(MongoAdapter));
}

#[async_trait]
impl Adapter for MongoAdapter {
    fn name(&self) -> &str {
        "mongo"
    }

    fn aliases(&self) -> &[&str] {
        &["mongodb"]
    }

    /// The server is the DSN without its database path (with `authSource` made explicit
    /// when it has credentials, so tenants with credentials of their own get a pool of their
    /// own); the namespace is the database.
    ///
    /// Errors: `InvalidInput` on `schema` when one is set (MongoDB has none: ignoring it
    /// could put every tenant of a template in one database), on `dsn` for a DSN that is not
    /// `mongodb://` / `mongodb+srv://` or names no valid database.
    fn locate(&self, db: &DbConfig) -> StoreResult<Location> {
        if db.schema.as_deref().is_some_and(|s| !s.trim().is_empty()) {
            return Err(StoreError::invalid(
                "schema",
                "MongoDB has no schemas: name the tenant database in the DSN path, e.g. mongodb://host/hj_{tenant}",
            ));
        }
        let dsn = dsn::parse(&db.dsn)?;
        Ok(Location { server: dsn.server_uri, namespace: Some(dsn.database) })
    }

    async fn open_server(&self, server: &ServerConfig) -> StoreResult<Arc<dyn ServerPool>> {
        Ok(Arc::new(MongoServer::open(server).await?))
    }
}

impl MongoAdapter {
    /// Opens the tenant database `cfg` names on a client of its own, as [`Adapter::connect`]
    /// does, keeping the concrete connection (the bench reaches the driver's database handle
    /// under it). Closing the connection shuts the client down.
    ///
    /// Errors: those of [`locate`](Adapter::locate), [`MongoServer::open`] and, with
    /// `cfg.migrate`, [`ServerPool::provision`].
    #[cfg_attr(
        not(all(feature = "bench", any(feature = "postgres", feature = "mysql", feature = "sqlite"))),
        allow(dead_code)
    )]
    pub(crate) async fn open(&self, cfg: &ConnectConfig) -> StoreResult<MongoConnection> {
        let location = self.locate(&cfg.db)?;
        let server = MongoServer::open(&cfg.server(&location)).await?;
        let database = location.namespace.as_deref();
        if cfg.migrate
            && let Err(e) = server.provision(database).await
        {
            server.close().await;
            return Err(e);
        }
        server.connection(&TenantRef { slug: cfg.tenant_slug.clone(), id: cfg.tenant_id }, database, true)
    }
}

/// What the pool of one server shares with every tenant bound to it.
struct ServerState {
    client: Client,
    /// The refresh-token rotations committed lately through this client, by old token id
    /// (ids are UUIDs, unique across tenants, so one record serves them all).
    rotations: Arc<RecentRotations>,
    /// Whether the server runs multi-document transactions: asked on first need.
    transactions: OnceCell<bool>,
    /// The driver's connection-pool events, counted.
    counters: Arc<PoolCounters>,
    /// `maxPoolSize` of the client.
    max_pool_size: u32,
    closed: AtomicBool,
}

impl ServerState {
    fn check_open(&self) -> StoreResult<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::unavailable(BACKEND, "the server's connection pool is closed"));
        }
        Ok(())
    }

    /// Whether the server runs multi-document transactions: a replica set or a sharded
    /// cluster with sessions, from `hello` (sent once, on the first call that needs it; a
    /// failed `hello` is asked again next time).
    ///
    /// Errors: `Unavailable` when the server cannot be reached.
    async fn transactions(&self) -> StoreResult<bool> {
        self.transactions
            .get_or_try_init(|| async {
                let hello = self
                    .client
                    .database("admin")
                    .run_command(doc! { "hello": 1 })
                    .await
                    .map_err(error::on("database"))?;
                let transactions = hello.contains_key("logicalSessionTimeoutMinutes")
                    && (hello.contains_key("setName") || hello.get_str("msg").is_ok_and(|m| m == "isdbgrid"));
                tracing::debug!(backend = BACKEND, transactions, "mongodb server described");
                Ok(transactions)
            })
            .await
            .copied()
    }
}

/// Gauges kept from the driver's connection-pool (CMAP) events, summed over the hosts the
/// client talks to. Only the driver's own monitoring connections (one per host) are not
/// counted: they are not in the pool.
#[derive(Debug, Default)]
struct PoolCounters {
    /// Connections created and not yet closed (including those still being established).
    open: AtomicI64,
    /// Connections checked out and not yet checked in.
    in_use: AtomicI64,
    /// Check-outs started and not yet ended (with a connection or a failure).
    waiting: AtomicI64,
}

impl PoolCounters {
    fn record(&self, event: &CmapEvent) {
        let (gauge, delta) = match event {
            CmapEvent::ConnectionCreated(_) => (&self.open, 1),
            CmapEvent::ConnectionClosed(_) => (&self.open, -1),
            CmapEvent::ConnectionCheckoutStarted(_) => (&self.waiting, 1),
            CmapEvent::ConnectionCheckoutFailed(_) => (&self.waiting, -1),
            CmapEvent::ConnectionCheckedOut(_) => {
                self.waiting.fetch_add(-1, Ordering::Relaxed);
                (&self.in_use, 1)
            }
            CmapEvent::ConnectionCheckedIn(_) => (&self.in_use, -1),
            _ => return,
        };
        gauge.fetch_add(delta, Ordering::Relaxed);
    }

    fn read(gauge: &AtomicI64) -> u64 {
        u64::try_from(gauge.load(Ordering::Relaxed)).unwrap_or(0)
    }
}

/// The pool of one MongoDB server: one `mongodb::Client`, shared by every tenant bound to
/// it (each on its own database). Made by [`Adapter::open_server`]; the manager's pool
/// keeps one per server.
pub struct MongoServer {
    state: Arc<ServerState>,
}

impl std::fmt::Debug for MongoServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MongoServer")
            .field("max_pool_size", &self.state.max_pool_size)
            .field("transactions", &self.state.transactions.get())
            .field("closed", &self.state.closed.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl MongoServer {
    /// Makes the client of `server` (no I/O, except the DNS look-ups of a `mongodb+srv://`
    /// DSN): `serverSelectionTimeout` and `connectTimeout` are `acquire_timeout`,
    /// `maxPoolSize` is `max_connections` (at least 1), `appName` `hellojohn-store` unless
    /// the DSN names one.
    ///
    /// Errors: `InvalidInput` on `dsn` for options the driver refuses; `Unavailable` when the
    /// SRV look-up of a `mongodb+srv://` DSN fails to reach DNS.
    pub async fn open(server: &ServerConfig) -> StoreResult<Self> {
        let invalid = |e: mongodb::error::Error| {
            StoreError::invalid("dsn", format!("{}: {}", crate::mode::redact_dsn(&server.dsn), e.kind))
        };
        let mut options = ClientOptions::parse(&server.dsn)
            .await
            .map_err(|e| if error::is_unavailable(&e) { error::map("database", e) } else { invalid(e) })?;
        let max_pool_size = server.max_connections.max(1);
        options.server_selection_timeout = Some(server.acquire_timeout);
        options.connect_timeout = Some(server.acquire_timeout);
        options.max_pool_size = Some(max_pool_size);
        if options.app_name.is_none() {
            options.app_name = Some("hellojohn-store".into());
        }
        let counters = Arc::new(PoolCounters::default());
        let recorder = counters.clone();
        options.cmap_event_handler =
            Some(EventHandler::callback(move |event: CmapEvent| recorder.record(&event)));
        let client = Client::with_options(options).map_err(invalid)?;
        Ok(MongoServer {
            state: Arc::new(ServerState {
                client,
                rotations: Default::default(),
                transactions: OnceCell::new(),
                counters,
                max_pool_size,
                closed: AtomicBool::new(false),
            }),
        })
    }

    /// [`ServerPool::bind`], keeping the concrete connection.
    ///
    /// Errors: `InvalidInput` on `database` for a missing or invalid database name.
    pub(crate) fn connection(
        &self,
        tenant: &TenantRef,
        namespace: Option<&str>,
        owns_pool: bool,
    ) -> StoreResult<MongoConnection> {
        let database = database_name(namespace)?;
        let state = self.state.clone();
        let ctx = Arc::new(MongoContext {
            client: state.client.clone(),
            db: state.client.database(database),
            rotations: state.rotations.clone(),
            tenant_id: tenant.id,
            tenant_slug: tenant.slug.clone(),
            server: state,
            owns_pool,
            closed: AtomicBool::new(false),
        });
        tracing::debug!(tenant = %tenant.slug, backend = BACKEND, database, owns_pool, "tenant database bound");
        Ok(MongoConnection { ctx })
    }
}

/// The database `namespace` names.
///
/// Errors: `InvalidInput` on `database` for none or a name outside `^[A-Za-z0-9_-]{1,63}$`.
fn database_name(namespace: Option<&str>) -> StoreResult<&str> {
    match namespace {
        Some(name) if dsn::is_valid_database_name(name) => Ok(name),
        Some(name) => Err(StoreError::invalid(
            "database",
            format!("MongoDB database {name:?} must match ^[A-Za-z0-9_-]{{1,63}}$"),
        )),
        None => Err(StoreError::invalid("database", "a MongoDB tenant needs a database")),
    }
}

#[async_trait]
impl ServerPool for MongoServer {
    fn driver(&self) -> &str {
        "mongo"
    }

    fn bind(
        &self,
        tenant: &TenantRef,
        namespace: Option<&str>,
        owns_pool: bool,
    ) -> StoreResult<Arc<dyn AdapterConnection>> {
        Ok(Arc::new(self.connection(tenant, namespace, owns_pool)?))
    }

    /// Creates the database's indexes and records the steps in `_migrations` (MongoDB
    /// creates a database on its first write). Takes no lock: every step is idempotent, so
    /// replicas provisioning one database at once may each run a step, with the same result,
    /// and it is recorded once.
    async fn provision(&self, namespace: Option<&str>) -> StoreResult<()> {
        let database = database_name(namespace)?;
        self.state.check_open()?;
        let db = self.state.client.database(database);
        let ran = migrations::apply(&db).await?;
        tracing::debug!(backend = BACKEND, database, steps = ran, "tenant database provisioned");
        Ok(())
    }

    /// Drops the database (a database that does not exist is not an error).
    ///
    /// Errors: `InvalidInput` on `dsn` for `admin`, `local` and `config`, on `database` for
    /// an invalid name; `Unavailable` when the server cannot be reached or the pool is closed.
    async fn drop_namespace(&self, namespace: Option<&str>) -> StoreResult<()> {
        let database = database_name(namespace)?;
        if SYSTEM_DATABASES.contains(&database) {
            return Err(StoreError::invalid(
                "dsn",
                format!("{database:?} is a system database and is never dropped"),
            ));
        }
        self.state.check_open()?;
        self.state.client.database(database).drop().await.map_err(error::on("database"))
    }

    /// `{ping: 1}` on the `admin` database.
    async fn ping(&self) -> StoreResult<()> {
        self.state.check_open()?;
        self.state
            .client
            .database("admin")
            .run_command(doc! { "ping": 1 })
            .await
            .map_err(error::on("database"))?;
        Ok(())
    }

    /// Marks the pool closed (later calls of its tenants return `Unavailable`) and shuts
    /// the client down, after the sessions and cursors of calls in flight are dropped.
    async fn close(&self) {
        if !self.state.closed.swap(true, Ordering::AcqRel) {
            self.state.client.clone().shutdown().await;
        }
    }

    /// From the driver's connection-pool events: `size` the connections open (or being
    /// established), `in_use` those checked out by an operation, `idle` the rest, `waiting`
    /// the operations waiting for a check-out. `max_size` is the client's `maxPoolSize`,
    /// which bounds the pool of each host: with a replica set or several `mongos` the
    /// counts are summed over hosts and may exceed it.
    fn figures(&self) -> ServerPoolFigures {
        let counters = &self.state.counters;
        let size = PoolCounters::read(&counters.open);
        let in_use = PoolCounters::read(&counters.in_use).min(size);
        let gauge = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        ServerPoolFigures {
            max_size: self.state.max_pool_size,
            size: gauge(size),
            in_use: gauge(in_use),
            idle: gauge(size - in_use),
            waiting: PoolCounters::read(&counters.waiting),
        }
    }
}

/// What every repository of one tenant's MongoDB data plane shares.
pub(crate) struct MongoContext {
    pub(crate) client: Client,
    pub(crate) db: Database,
    /// The server's record of recent rotations (shared by its tenants).
    pub(crate) rotations: Arc<RecentRotations>,
    /// The tenant (filled into `User::tenant_id`).
    pub(crate) tenant_id: Uuid,
    /// The tenant's slug (logs).
    pub(crate) tenant_slug: String,
    server: Arc<ServerState>,
    /// Whether closing this tenant's connection shuts the server's client down.
    owns_pool: bool,
    closed: AtomicBool,
}

impl MongoContext {
    /// `Ok` while both this tenant's connection and the server's pool are open.
    ///
    /// Errors: `Unavailable` once either is closed.
    fn check_open(&self) -> StoreResult<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::unavailable(
                BACKEND,
                format!("the connection of tenant {} is closed", self.tenant_slug),
            ));
        }
        self.server.check_open()
    }

    /// Whether the server runs multi-document transactions (asked once per server).
    ///
    /// Errors: `Unavailable` when the server cannot be reached to ask.
    pub(crate) async fn transactions(&self) -> StoreResult<bool> {
        self.server.transactions().await
    }

    /// The collection `name`, typed as `T`.
    ///
    /// Errors: `Unavailable` once the connection is closed.
    pub(crate) fn coll<T>(&self, name: &str) -> StoreResult<Collection<T>>
    where
        T: Serialize + DeserializeOwned + Send + Sync,
    {
        self.check_open()?;
        Ok(self.db.collection::<T>(name))
    }

    /// The collection `name` as raw documents.
    pub(crate) fn raw(&self, name: &str) -> StoreResult<Collection<Document>> {
        self.coll::<Document>(name)
    }

    /// Whether the user exists.
    pub(crate) async fn user_exists(&self, user_id: Uuid) -> StoreResult<bool> {
        let n = self
            .raw(docs::USERS)?
            .count_documents(doc! { "_id": docs::id(user_id) })
            .limit(1)
            .await
            .map_err(error::on("user"))?;
        Ok(n > 0)
    }

    /// `Ok` when the user exists.
    ///
    /// Errors: `NotFound` for an unknown user.
    pub(crate) async fn require_user(&self, user_id: Uuid) -> StoreResult<()> {
        if self.user_exists(user_id).await? { Ok(()) } else { Err(StoreError::not_found("user", user_id)) }
    }
}

/// An open MongoDB data plane of one tenant: its database on a [`MongoServer`]'s client.
pub struct MongoConnection {
    ctx: Arc<MongoContext>,
}

impl std::fmt::Debug for MongoConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MongoConnection")
            .field("tenant", &self.ctx.tenant_slug)
            .field("database", &self.ctx.db.name())
            .field("owns_pool", &self.ctx.owns_pool)
            .finish_non_exhaustive()
    }
}

impl MongoConnection {
    /// The tenant's database under this connection, on the repositories' own client (same
    /// connection pool): the bench runs its hand-written baselines on it.
    #[cfg(all(feature = "bench", any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
    pub(crate) fn database(&self) -> Database {
        self.ctx.db.clone()
    }
}

#[async_trait]
impl AdapterConnection for MongoConnection {
    fn name(&self) -> &str {
        "mongo"
    }

    async fn ping(&self) -> StoreResult<()> {
        self.ctx.check_open()?;
        self.ctx.db.run_command(doc! { "ping": 1 }).await.map_err(error::on("database"))?;
        Ok(())
    }

    /// Marks the connection closed: later calls return `Unavailable`. A connection that owns
    /// its server's pool (from [`Adapter::connect`]) also shuts the client down; otherwise the
    /// client stays with the other tenants bound to it.
    async fn close(&self) -> StoreResult<()> {
        self.ctx.closed.store(true, Ordering::Release);
        if self.ctx.owns_pool {
            MongoServer { state: self.ctx.server.clone() }.close().await;
        }
        Ok(())
    }

    fn users(&self) -> StoreResult<Arc<dyn UserRepository>> {
        Ok(Arc::new(users::MongoUsers::new(self.ctx.clone())))
    }
    fn identities(&self) -> StoreResult<Arc<dyn IdentityRepository>> {
        Ok(Arc::new(identities::MongoIdentities::new(self.ctx.clone())))
    }
    fn tokens(&self) -> StoreResult<Arc<dyn TokenRepository>> {
        Ok(Arc::new(tokens::MongoTokens::new(self.ctx.clone())))
    }
    fn mfa(&self) -> StoreResult<Arc<dyn MfaRepository>> {
        Ok(Arc::new(mfa::MongoMfa::new(self.ctx.clone())))
    }
    fn consents(&self) -> StoreResult<Arc<dyn ConsentRepository>> {
        Ok(Arc::new(consents::MongoConsents::new(self.ctx.clone())))
    }
    fn rbac(&self) -> StoreResult<Arc<dyn RbacRepository>> {
        Ok(Arc::new(rbac::MongoRbac::new(self.ctx.clone())))
    }
    fn sessions(&self) -> StoreResult<Arc<dyn SessionRepository>> {
        Ok(Arc::new(sessions::MongoSessions::new(self.ctx.clone())))
    }
    fn email_tokens(&self) -> StoreResult<Arc<dyn EmailTokenRepository>> {
        Ok(Arc::new(email_tokens::MongoEmailTokens::new(self.ctx.clone())))
    }
}

/// Effective page size (the model's, the same on every backend).
pub(crate) fn page_limit(limit: u64) -> u64 {
    crate::model::page_size(limit)
}

/// `u64` to the `i64` the driver takes for limits and skips (saturating).
pub(crate) fn as_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Deletes the documents of `collection` matching `filter`, `batch_size` (0:
/// [`crate::model::DEFAULT_PURGE_BATCH`]) at a time: select up to a batch of ids, delete those that still
/// match, repeat until a batch comes back short. Returns how many were deleted.
pub(crate) async fn purge_in_batches(
    ctx: &MongoContext,
    collection: &str,
    entity: &'static str,
    filter: Document,
    batch_size: u64,
) -> StoreResult<u64> {
    use futures_util::TryStreamExt;
    let batch = crate::model::purge_batch(batch_size);
    let coll = ctx.raw(collection)?;
    let mut total = 0;
    loop {
        let ids: Vec<mongodb::bson::Bson> = coll
            .find(filter.clone())
            .projection(doc! { "_id": 1 })
            .sort(doc! { "_id": 1 })
            .limit(as_i64(batch))
            .await
            .map_err(error::on(entity))?
            .try_collect::<Vec<Document>>()
            .await
            .map_err(error::on(entity))?
            .into_iter()
            .filter_map(|d| d.get("_id").cloned())
            .collect();
        let selected = ids.len() as u64;
        if selected == 0 {
            break;
        }
        let mut delete = filter.clone();
        delete.insert("_id", doc! { "$in": ids });
        total += coll.delete_many(delete).await.map_err(error::on(entity))?.deleted_count;
        if selected < batch {
            break;
        }
    }
    Ok(total)
}

/// Runs an upsert, and once more if it lost a race on a unique key: two first upserts of
/// one key may both try to insert; the loser's second attempt finds the document and
/// updates it.
pub(crate) async fn upsert_with_retry<T, A, F>(entity: &'static str, mut op: F) -> StoreResult<T>
where
    F: FnMut() -> A,
    A: std::future::IntoFuture<Output = mongodb::error::Result<T>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        match op().await {
            Ok(v) => return Ok(v),
            Err(e) if error::is_duplicate_key(&e) && attempt < 3 => continue,
            Err(e) => return Err(error::map(entity, e)),
        }
    }
}
