//! The MongoDB data plane: [`MongoAdapter`] (drivers `mongo` and `mongodb`, cargo feature
//! `mongo`) opens one database per tenant and implements every data-plane repository on it
//! with the `mongodb` crate.
//!
//! - One `mongodb::Client` per server, shared by every tenant on that server (and per tokio
//!   runtime: a client's background tasks live on the runtime that made it). The tenant's
//!   database comes from the DSN's path, already resolved from the `{tenant}` template.
//! - `migrations`: indexes are the schema, created by versioned steps recorded in
//!   `_migrations` when a tenant is first opened.
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

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use async_trait::async_trait;
use mongodb::bson::{Document, doc};
use mongodb::options::ClientOptions;
use mongodb::{Client, Collection, Database};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use self::error::BACKEND;
use crate::error::{StoreError, StoreResult};
use crate::registry::{Adapter, AdapterConnection, ConnectConfig, Registry};
use crate::repository::{
    ConsentRepository, EmailTokenRepository, IdentityRepository, MfaRepository, RbacRepository,
    SessionRepository, TokenRepository, UserRepository,
};

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

    async fn connect(&self, cfg: &ConnectConfig) -> StoreResult<Arc<dyn AdapterConnection>> {
        Ok(Arc::new(self.open(cfg).await.map_err(|e| e.scrub_dsn(&cfg.db.dsn))?))
    }

    async fn drop_namespace(&self, cfg: &ConnectConfig) -> StoreResult<()> {
        let dsn = dsn::parse(&cfg.db.dsn)?;
        if ["admin", "local", "config"].contains(&dsn.database.as_str()) {
            return Err(StoreError::invalid(
                "dsn",
                format!("{:?} is a system database and is never dropped", dsn.database),
            ));
        }
        let shared = shared_client(&dsn, cfg).await?;
        shared.client.database(&dsn.database).drop().await.map_err(error::on("database"))
    }
}

impl MongoAdapter {
    /// Opens the tenant database `cfg` names, as [`Adapter::connect`] does, keeping the
    /// concrete connection (the bench reaches the driver's client under it).
    ///
    /// Errors: `InvalidInput` for a bad DSN or a schema; `Unavailable` when the server is down.
    pub(crate) async fn open(&self, cfg: &ConnectConfig) -> StoreResult<MongoConnection> {
        if cfg.db.schema.as_deref().is_some_and(|s| !s.trim().is_empty()) {
            // Ignoring it could put every tenant of a template in one database.
            return Err(StoreError::invalid(
                "schema",
                "MongoDB has no schemas: name the tenant database in the DSN path, e.g. mongodb://host/hj_{tenant}",
            ));
        }
        let dsn = dsn::parse(&cfg.db.dsn)?;
        let shared = shared_client(&dsn, cfg).await?;
        let db = shared.client.database(&dsn.database);
        let hello = db.run_command(doc! { "hello": 1 }).await.map_err(error::on("database"))?;
        // Transactions need a replica set or a sharded cluster (and sessions).
        let transactions = hello.contains_key("logicalSessionTimeoutMinutes")
            && (hello.contains_key("setName") || hello.get_str("msg").is_ok_and(|m| m == "isdbgrid"));
        let ctx = Arc::new(MongoContext {
            client: shared.client.clone(),
            db,
            _shared: shared,
            tenant_id: cfg.tenant_id,
            tenant_slug: cfg.tenant_slug.clone(),
            transactions,
            rotations: Default::default(),
            closed: AtomicBool::new(false),
        });
        if cfg.migrate {
            migrations::apply(&ctx).await?;
        }
        tracing::debug!(
            tenant = %cfg.tenant_slug,
            backend = BACKEND,
            database = %dsn.database,
            transactions,
            "tenant database opened"
        );
        Ok(MongoConnection { ctx })
    }
}

/// A client shared by the tenants of one server (within one tokio runtime).
struct SharedClient {
    client: Client,
}

type ClientKey = (String, tokio::runtime::Id);

fn clients() -> &'static Mutex<HashMap<ClientKey, Weak<SharedClient>>> {
    static CLIENTS: OnceLock<Mutex<HashMap<ClientKey, Weak<SharedClient>>>> = OnceLock::new();
    CLIENTS.get_or_init(Default::default)
}

fn cached_client(key: &ClientKey) -> Option<Arc<SharedClient>> {
    let mut map = clients().lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    map.retain(|_, weak| weak.strong_count() > 0);
    map.get(key).and_then(Weak::upgrade)
}

/// The client of the server `dsn` names, made on first use and shared while any tenant of
/// that server is open.
async fn shared_client(dsn: &dsn::MongoDsn, cfg: &ConnectConfig) -> StoreResult<Arc<SharedClient>> {
    let runtime = tokio::runtime::Handle::try_current()
        .map_err(|_| StoreError::invalid("runtime", "the MongoDB adapter needs a tokio runtime"))?
        .id();
    let key = (dsn.server_uri.clone(), runtime);
    if let Some(shared) = cached_client(&key) {
        return Ok(shared);
    }
    let mut options = ClientOptions::parse(&dsn.server_uri).await.map_err(|e| {
        if error::is_unavailable(&e) {
            error::map("database", e)
        } else {
            StoreError::invalid("dsn", format!("{}: {}", crate::mode::redact_dsn(&cfg.db.dsn), e.kind))
        }
    })?;
    options.server_selection_timeout = Some(cfg.acquire_timeout);
    options.connect_timeout = Some(cfg.acquire_timeout);
    options.max_pool_size = Some(cfg.max_connections.max(1));
    if options.app_name.is_none() {
        options.app_name = Some("hellojohn-store".into());
    }
    let client = Client::with_options(options).map_err(|e| {
        StoreError::invalid("dsn", format!("{}: {}", crate::mode::redact_dsn(&cfg.db.dsn), e.kind))
    })?;
    let fresh = Arc::new(SharedClient { client });
    let mut map = clients().lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    // Another tenant of the same server may have made one meanwhile: use the first.
    if let Some(existing) = map.get(&key).and_then(Weak::upgrade) {
        return Ok(existing);
    }
    map.insert(key, Arc::downgrade(&fresh));
    Ok(fresh)
}

/// What every repository of one tenant's MongoDB data plane shares.
pub(crate) struct MongoContext {
    pub(crate) client: Client,
    pub(crate) db: Database,
    _shared: Arc<SharedClient>,
    /// The tenant (filled into `User::tenant_id`).
    pub(crate) tenant_id: Uuid,
    /// The tenant's slug (logs).
    pub(crate) tenant_slug: String,
    /// Whether the server runs multi-document transactions.
    pub(crate) transactions: bool,
    /// The refresh-token rotations this connection committed lately.
    pub(crate) rotations: crate::adapters::rotations::RecentRotations,
    closed: AtomicBool,
}

impl MongoContext {
    /// The collection `name`, typed as `T`.
    ///
    /// Errors: `Unavailable` once the connection is closed.
    pub(crate) fn coll<T>(&self, name: &str) -> StoreResult<Collection<T>>
    where
        T: Serialize + DeserializeOwned + Send + Sync,
    {
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::unavailable(
                BACKEND,
                format!("the connection of tenant {} is closed", self.tenant_slug),
            ));
        }
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

/// An open MongoDB data plane of one tenant.
pub struct MongoConnection {
    ctx: Arc<MongoContext>,
}

impl std::fmt::Debug for MongoConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MongoConnection")
            .field("tenant", &self.ctx.tenant_slug)
            .field("database", &self.ctx.db.name())
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
        if self.ctx.closed.load(Ordering::Acquire) {
            return Err(StoreError::unavailable(BACKEND, "the connection is closed"));
        }
        self.ctx.db.run_command(doc! { "ping": 1 }).await.map_err(error::on("database"))?;
        Ok(())
    }

    /// Marks the connection closed: later calls return `Unavailable`. The server's client is
    /// shared with other tenants and goes away with the last of them.
    async fn close(&self) -> StoreResult<()> {
        self.ctx.closed.store(true, Ordering::Release);
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
