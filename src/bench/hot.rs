//! Hot paths: `users.get_by_email`, `tokens.get_by_hash`, `tokens.create`, `tokens.rotate`,
//! `rbac.get_user_permissions` through the store's repositories, against the same
//! statements written by hand with sqlx (prepared, on the repositories' own pool, decoding
//! the same columns and doing the same in-memory work) and against the round-trip floor
//! (`SELECT 1` on the same pool). Samples are interleaved store / baseline / floor, in an
//! order that rotates every iteration, so that drift on a shared machine cancels out.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::sqlx::types::Json;
use sea_orm::sqlx::{self, AssertSqlSafe, Row as _};
use tokio::sync::Mutex;
use uuid::Uuid;

use super::{BenchOptions, Check, Engine, Row, Unit, median, nanos};
use crate::adapters::sql::{SqlBackend, open_with_pool};
use crate::error::{StoreError, StoreResult};
use crate::mode::{DbConfig, with_database};
use crate::model::{CreateRefreshTokenInput, CreateUserInput, RoleInput};
use crate::registry::{AdapterConnection, ConnectConfig};
use crate::repository::{RbacRepository, TokenRepository, UserRepository};

/// A hot path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `users.get_by_email` (user joined with its password identity).
    GetByEmail,
    /// `tokens.get_by_hash` (token joined with its user).
    GetByHash,
    /// `tokens.create` (one insert in a transaction).
    TokenCreate,
    /// `tokens.rotate` (read, insert, claim in a transaction; then the user).
    TokenRotate,
    /// `rbac.get_user_permissions` (every role with the user's assignment, then the walk up
    /// the parents in memory).
    Permissions,
}

impl Op {
    /// Every hot path, reads first.
    pub const ALL: [Op; 5] =
        [Op::GetByEmail, Op::GetByHash, Op::Permissions, Op::TokenCreate, Op::TokenRotate];

    /// The repository method's name.
    pub fn name(self) -> &'static str {
        match self {
            Op::GetByEmail => "users.get_by_email",
            Op::GetByHash => "tokens.get_by_hash",
            Op::TokenCreate => "tokens.create",
            Op::TokenRotate => "tokens.rotate",
            Op::Permissions => "rbac.get_user_permissions",
        }
    }

    /// Whether it only reads (the budget applies to reads).
    pub fn is_read(self) -> bool {
        matches!(self, Op::GetByEmail | Op::GetByHash | Op::Permissions)
    }
}

/// Who runs an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The store's repository.
    Store,
    /// The same statements by hand with sqlx, on the same pool.
    Baseline,
    /// `SELECT 1` on the same pool.
    Floor,
}

/// The sqlx pool under the repositories' SeaORM connection.
#[derive(Clone)]
pub(crate) enum Raw {
    #[cfg(feature = "postgres")]
    Pg(sqlx::PgPool),
    #[cfg(feature = "mysql")]
    My(sqlx::MySqlPool),
    #[cfg(feature = "sqlite")]
    Lite(sqlx::SqlitePool),
}

/// Runs `$body` with `$p` bound to the sqlx pool, whatever its engine.
macro_rules! on_raw {
    ($raw:expr, $p:ident => $body:expr) => {
        match $raw {
            #[cfg(feature = "postgres")]
            Raw::Pg($p) => $body,
            #[cfg(feature = "mysql")]
            Raw::My($p) => $body,
            #[cfg(feature = "sqlite")]
            Raw::Lite($p) => $body,
        }
    };
}

const USER_COLS: &[&str] = &[
    "id",
    "email",
    "email_normalized",
    "email_verified",
    "name",
    "given_name",
    "family_name",
    "picture",
    "locale",
    "language",
    "metadata",
    "custom_fields",
    "created_at",
    "updated_at",
    "disabled_at",
    "disabled_until",
    "disabled_reason",
    "disabled_by",
    "source_client_id",
];
const IDENTITY_COLS: &[&str] = &[
    "id",
    "user_id",
    "provider",
    "provider_user_id",
    "email",
    "email_verified",
    "password_hash",
    "name",
    "picture",
    "raw_claims",
    "created_at",
    "updated_at",
];
const TOKEN_COLS: &[&str] = &[
    "id",
    "user_id",
    "client_id",
    "token_hash",
    "issued_at",
    "expires_at",
    "rotated_from",
    "revoked_at",
    "family_id",
];
const ROLE_COLS: &[&str] =
    &["id", "name", "description", "permissions", "inherits_from", "system", "created_at", "updated_at"];

#[allow(dead_code)]
struct UserRow {
    id: Uuid,
    email: String,
    email_normalized: String,
    email_verified: bool,
    name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    picture: Option<String>,
    locale: Option<String>,
    language: Option<String>,
    metadata: Json<serde_json::Value>,
    custom_fields: Json<serde_json::Value>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    disabled_at: Option<DateTime<Utc>>,
    disabled_until: Option<DateTime<Utc>>,
    disabled_reason: Option<String>,
    disabled_by: Option<String>,
    source_client_id: Option<String>,
}

#[allow(dead_code)]
struct IdentityRow {
    id: Uuid,
    user_id: Uuid,
    provider: String,
    provider_user_id: String,
    email: Option<String>,
    email_verified: bool,
    password_hash: Option<String>,
    name: Option<String>,
    picture: Option<String>,
    raw_claims: Json<serde_json::Value>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[allow(dead_code)]
struct TokenRow {
    id: Uuid,
    user_id: Uuid,
    client_id: String,
    token_hash: String,
    issued_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    rotated_from: Option<Uuid>,
    revoked_at: Option<DateTime<Utc>>,
    family_id: Uuid,
}

#[allow(dead_code)]
struct RoleRow {
    id: Uuid,
    name: String,
    description: Option<String>,
    permissions: Json<serde_json::Value>,
    inherits_from: Option<String>,
    system: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// Decodes the columns `$o..` of `$r` into the struct literal's fields (in order).
macro_rules! decode {
    ($r:expr, $o:expr, $ty:ident { $($f:ident),* $(,)? }) => {{
        let mut _i: usize = $o;
        (|| -> Result<$ty, sqlx::Error> {
            Ok($ty { $($f: { let v = $r.try_get_unchecked(_i)?; _i += 1; v },)* })
        })()
    }};
}

macro_rules! user_row {
    ($r:expr, $o:expr) => {
        decode!(
            $r,
            $o,
            UserRow {
                id,
                email,
                email_normalized,
                email_verified,
                name,
                given_name,
                family_name,
                picture,
                locale,
                language,
                metadata,
                custom_fields,
                created_at,
                updated_at,
                disabled_at,
                disabled_until,
                disabled_reason,
                disabled_by,
                source_client_id
            }
        )
    };
}
macro_rules! identity_row {
    ($r:expr, $o:expr) => {
        decode!(
            $r,
            $o,
            IdentityRow {
                id,
                user_id,
                provider,
                provider_user_id,
                email,
                email_verified,
                password_hash,
                name,
                picture,
                raw_claims,
                created_at,
                updated_at
            }
        )
    };
}
macro_rules! token_row {
    ($r:expr) => {
        decode!(
            $r,
            0,
            TokenRow {
                id,
                user_id,
                client_id,
                token_hash,
                issued_at,
                expires_at,
                rotated_from,
                revoked_at,
                family_id
            }
        )
    };
}
macro_rules! role_row {
    ($r:expr) => {
        decode!(
            $r,
            0,
            RoleRow { id, name, description, permissions, inherits_from, system, created_at, updated_at }
        )
    };
}

/// The hand-written statements, in the engine's dialect.
struct Stmts {
    user_with_identity: Arc<str>,
    token_by_hash: Arc<str>,
    insert_token: Arc<str>,
    claim_token: Arc<str>,
    token_row_by_hash: Arc<str>,
    user_by_id: Arc<str>,
    roles_with_assignment: Arc<str>,
    floor: Arc<str>,
}

fn cols(table: Option<&str>, list: &[&str]) -> String {
    list.iter()
        .map(|c| match table {
            Some(t) => format!("\"{t}\".\"{c}\""),
            None => format!("\"{c}\""),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl Stmts {
    fn new(engine: Engine, namespace: Option<&str>) -> Self {
        // Written with `"` quotes and `?` placeholders, then put in the engine's dialect.
        // Tables are named in the tenant's namespace, as the store's statements name them.
        let ns = namespace.map(|n| format!("\"{n}\".")).unwrap_or_default();
        let dialect = |sql: String| -> Arc<str> {
            let sql = match engine {
                Engine::MySql => sql.replace('"', "`"),
                _ => sql,
            };
            if engine != Engine::Postgres {
                return sql.into();
            }
            let mut out = String::with_capacity(sql.len() + 8);
            let mut n = 0;
            for ch in sql.chars() {
                if ch == '?' {
                    n += 1;
                    out.push_str(&format!("${n}"));
                } else {
                    out.push(ch);
                }
            }
            out.into()
        };
        let user_cols = cols(Some("users"), USER_COLS);
        let token_cols = cols(Some("refresh_tokens"), TOKEN_COLS);
        Stmts {
            user_with_identity: dialect(format!(
                "SELECT {user_cols}, {} FROM {ns}\"users\" LEFT JOIN {ns}\"identities\" ON \"users\".\"id\" = \"identities\".\"user_id\" AND \"identities\".\"provider\" = ? WHERE \"users\".\"email_normalized\" = ? LIMIT 1",
                cols(Some("identities"), IDENTITY_COLS)
            )),
            token_by_hash: dialect(format!(
                "SELECT {token_cols}, {user_cols} FROM {ns}\"refresh_tokens\" LEFT JOIN {ns}\"users\" ON \"refresh_tokens\".\"user_id\" = \"users\".\"id\" WHERE \"refresh_tokens\".\"token_hash\" = ? LIMIT 1"
            )),
            insert_token: dialect(format!(
                "INSERT INTO {ns}\"refresh_tokens\" ({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                cols(None, TOKEN_COLS)
            )),
            claim_token: dialect(format!(
                "UPDATE {ns}\"refresh_tokens\" SET \"revoked_at\" = ? WHERE \"refresh_tokens\".\"id\" = ? AND (\"refresh_tokens\".\"revoked_at\" IS NULL AND \"refresh_tokens\".\"expires_at\" > ?)"
            )),
            token_row_by_hash: dialect(format!(
                "SELECT {token_cols} FROM {ns}\"refresh_tokens\" WHERE \"refresh_tokens\".\"token_hash\" = ? LIMIT 1"
            )),
            user_by_id: dialect(format!(
                "SELECT {user_cols} FROM {ns}\"users\" WHERE \"users\".\"id\" = ? LIMIT 1"
            )),
            roles_with_assignment: dialect(format!(
                "SELECT {}, \"user_roles\".\"user_id\", \"user_roles\".\"role_id\", \"user_roles\".\"assigned_at\" FROM {ns}\"roles\" LEFT JOIN {ns}\"user_roles\" ON \"roles\".\"id\" = \"user_roles\".\"role_id\" AND \"user_roles\".\"user_id\" = ?",
                cols(Some("roles"), ROLE_COLS)
            )),
            floor: dialect("SELECT 1".into()),
        }
    }
}

impl Raw {
    /// The sqlx pool under `db`.
    ///
    /// Errors: `NotSupported` when the engine's feature is off.
    pub(crate) fn of(engine: Engine, db: &sea_orm::DatabaseConnection) -> StoreResult<Self> {
        Ok(match engine {
            #[cfg(feature = "postgres")]
            Engine::Postgres => Raw::Pg(db.get_postgres_connection_pool().clone()),
            #[cfg(feature = "mysql")]
            Engine::MySql => Raw::My(db.get_mysql_connection_pool().clone()),
            #[cfg(feature = "sqlite")]
            Engine::Sqlite => Raw::Lite(db.get_sqlite_connection_pool().clone()),
            #[allow(unreachable_patterns)]
            other => {
                return Err(StoreError::NotSupported {
                    operation: "bench".into(),
                    backend: format!("{} (feature off)", other.name()),
                });
            }
        })
    }

    /// Closes the pool.
    pub(crate) async fn close(&self) {
        on_raw!(self, p => p.close().await)
    }
}

/// The hand-written `users.get_by_id` of a user of `namespace` (the text, in the engine's
/// dialect, naming the namespace's table as the store's statements do).
pub(crate) fn user_by_id_sql(engine: Engine, namespace: &str) -> Arc<str> {
    Stmts::new(engine, Some(namespace)).user_by_id
}

/// Runs [`user_by_id_sql`]'s text for `id` by hand with sqlx and decodes the row as the
/// store does.
///
/// Errors: `NotFound` when no such user; the driver's errors.
pub(crate) async fn raw_user_by_id(raw: &Raw, sql: Arc<str>, id: Uuid) -> StoreResult<()> {
    on_raw!(raw, p => {
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(p)
            .await
            .map_err(raw_err)?
            .ok_or_else(|| StoreError::not_found("user", id.to_string()))?;
        black_box(user_row!(row, 0).map_err(raw_err)?);
    });
    Ok(())
}

fn raw_err(e: sqlx::Error) -> StoreError {
    StoreError::Backend { backend: "sqlx (bench baseline)".into(), message: e.to_string(), source: None }
}

/// Where the bench's namespace lives, to drop it afterwards.
enum Place {
    Server,
    #[allow(dead_code)]
    Dir(tempfile::TempDir),
}

pub(crate) const READ_HASH: &str = "bench-read-token";
pub(crate) const CLIENT: &str = "bench-web";
pub(crate) const PHC: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$YmVuY2hzYWx0$0000000000000000000000000000000000000000000";

/// What the hot-path groups of every backend share: the repositories under test, the user
/// they read, and the token chains the write paths rotate along (one for the store, one for
/// the hand-written baseline), all seeded through the store.
pub(crate) struct Seeded {
    pub(crate) users: Arc<dyn UserRepository>,
    pub(crate) tokens: Arc<dyn TokenRepository>,
    pub(crate) rbac: Arc<dyn RbacRepository>,
    pub(crate) email: String,
    pub(crate) user_id: Uuid,
    pub(crate) counter: AtomicU64,
    pub(crate) store_chain: Mutex<String>,
    pub(crate) baseline_chain: Mutex<String>,
}

impl Seeded {
    /// Seeds `conn` through its repositories: a user with a password identity, the refresh
    /// tokens the reads and both chains start from, three roles in a chain with the top one
    /// assigned.
    ///
    /// Errors: those of the repositories.
    pub(crate) async fn seed(conn: &dyn AdapterConnection) -> StoreResult<Self> {
        let users = conn.users()?;
        let tokens = conn.tokens()?;
        let rbac = conn.rbac()?;
        let email = "Ana.Bench@Example.com".to_string();
        let (user, _) = users.create(CreateUserInput::new(email.clone()).password_hash(PHC)).await?;
        let ttl = TimeDelta::days(30);
        for hash in [READ_HASH, "s-0", "b-0"] {
            tokens
                .create(CreateRefreshTokenInput {
                    user_id: user.id,
                    client_id: CLIENT.into(),
                    token_hash: hash.into(),
                    ttl,
                })
                .await?;
        }
        let mut parent: Option<String> = None;
        for (name, perms) in [
            ("viewer", ["users:read", "clients:read"]),
            ("editor", ["users:write", "clients:write"]),
            ("admin", ["tenants:admin", "roles:write"]),
        ] {
            let mut input = RoleInput::new(name, perms);
            input.inherits_from = parent.clone();
            rbac.create_role(input).await?;
            parent = Some(name.to_string());
        }
        rbac.assign_role(user.id, "admin").await?;
        Ok(Seeded {
            users,
            tokens,
            rbac,
            email,
            user_id: user.id,
            counter: AtomicU64::new(1),
            store_chain: Mutex::new("s-0".into()),
            baseline_chain: Mutex::new("b-0".into()),
        })
    }

    /// Runs `op` once through the store's repositories.
    ///
    /// Errors: whatever the repository returns (none expected).
    pub(crate) async fn store(&self, op: Op) -> StoreResult<()> {
        let ttl = TimeDelta::days(30);
        match op {
            Op::GetByEmail => {
                black_box(self.users.get_by_email(&self.email).await?);
            }
            Op::GetByHash => {
                black_box(self.tokens.get_by_hash(READ_HASH).await?);
            }
            Op::Permissions => {
                black_box(self.rbac.get_user_permissions(self.user_id).await?);
            }
            Op::TokenCreate => {
                let n = self.counter.fetch_add(1, Ordering::Relaxed);
                let input = CreateRefreshTokenInput {
                    user_id: self.user_id,
                    client_id: CLIENT.into(),
                    token_hash: format!("sc-{n}"),
                    ttl,
                };
                black_box(self.tokens.create(input).await?);
            }
            Op::TokenRotate => {
                let n = self.counter.fetch_add(1, Ordering::Relaxed);
                let mut chain = self.store_chain.lock().await;
                let new = format!("s-{n}");
                black_box(self.tokens.rotate(&chain, &new, ttl).await?);
                *chain = new;
            }
        }
        Ok(())
    }
}

/// Medians of `once` on store, baseline and floor: `warmup` rounds unmeasured, then `iters`
/// rounds whose order rotates every round, so that drift on a shared machine cancels out.
///
/// Errors: the first error of `once`.
pub(crate) async fn measure_interleaved<F, Fut>(warmup: usize, iters: usize, once: F) -> StoreResult<[f64; 3]>
where
    F: Fn(Side) -> Fut,
    Fut: std::future::Future<Output = StoreResult<()>>,
{
    const SIDES: [Side; 3] = [Side::Store, Side::Baseline, Side::Floor];
    for _ in 0..warmup {
        for side in SIDES {
            once(side).await?;
        }
    }
    let mut samples: [Vec<f64>; 3] =
        [Vec::with_capacity(iters), Vec::with_capacity(iters), Vec::with_capacity(iters)];
    for i in 0..iters {
        for k in 0..3 {
            let idx = (i + k) % 3;
            let start = Instant::now();
            once(SIDES[idx]).await?;
            samples[idx].push(nanos(start.elapsed()));
        }
    }
    let [a, b, c] = &mut samples;
    Ok([median(a), median(b), median(c)])
}

/// One engine's fresh namespace, seeded, with the store's repositories and the sqlx pool
/// under them.
pub struct HotPaths {
    engine: Engine,
    namespace: String,
    place: Place,
    conn: Arc<dyn AdapterConnection>,
    raw: Raw,
    sql: Stmts,
    seeded: Seeded,
}

impl HotPaths {
    /// Opens a fresh namespace on `engine` (a PostgreSQL schema, a MySQL database, a SQLite
    /// file) through the SQL adapter, migrates and seeds it: a user with a password
    /// identity, a refresh token, three roles in a chain with the top one assigned.
    ///
    /// Errors: those of the adapter (`Unavailable` when the server is down).
    pub async fn open(opts: &BenchOptions, engine: Engine) -> StoreResult<Self> {
        let namespace = format!("hj_bench_{}", &Uuid::new_v4().simple().to_string()[..12]);
        let (backend, db, place) = match engine {
            Engine::Postgres => (
                SqlBackend::Postgres,
                DbConfig::new("postgres", opts.postgres_url.clone()).with_schema(namespace.clone()),
                Place::Server,
            ),
            Engine::MySql => (
                SqlBackend::MySql,
                DbConfig::new("mysql", with_database(&opts.mysql_url, &namespace)),
                Place::Server,
            ),
            Engine::Sqlite => {
                let dir = tempfile::tempdir()
                    .map_err(|e| StoreError::unavailable("sqlite", format!("temporary folder: {e}")))?;
                let dsn = format!("sqlite://{}/bench.db?mode=rwc", dir.path().display());
                (SqlBackend::Sqlite, DbConfig::new("sqlite", dsn), Place::Dir(dir))
            }
        };
        let mut cfg = ConnectConfig::new("bench", crate::model::new_id(), db);
        cfg.max_connections = 10;
        cfg.acquire_timeout = std::time::Duration::from_secs(30);
        let (conn, db, ns) = open_with_pool(backend, &cfg).await?;
        let raw = Raw::of(engine, &db)?;
        let seeded = Seeded::seed(conn.as_ref()).await?;
        Ok(HotPaths { engine, namespace, place, conn, raw, sql: Stmts::new(engine, ns.as_deref()), seeded })
    }

    /// The engine.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Runs `op` once on `side`.
    ///
    /// Errors: whatever the operation returns (none expected).
    pub async fn once(&self, op: Op, side: Side) -> StoreResult<()> {
        match side {
            Side::Store => self.seeded.store(op).await,
            Side::Baseline => self.baseline(op).await,
            Side::Floor => {
                let sql = self.sql.floor.clone();
                on_raw!(&self.raw, p => {
                    let row = sqlx::query(AssertSqlSafe(sql)).fetch_one(p).await.map_err(raw_err)?;
                    black_box(row);
                });
                Ok(())
            }
        }
    }

    async fn baseline(&self, op: Op) -> StoreResult<()> {
        let ttl = TimeDelta::days(30);
        let sql = &self.sql;
        let immediate = self.engine == Engine::Sqlite;
        match op {
            Op::GetByEmail => on_raw!(&self.raw, p => {
                let normalized = self.seeded.email.trim().to_lowercase();
                let row = sqlx::query(AssertSqlSafe(sql.user_with_identity.clone()))
                    .bind("password")
                    .bind(normalized.as_str())
                    .fetch_optional(p)
                    .await
                    .map_err(raw_err)?
                    .ok_or_else(|| StoreError::not_found("user", &self.seeded.email))?;
                let user = user_row!(row, 0).map_err(raw_err)?;
                let identity_id: Option<Uuid> = row.try_get_unchecked(USER_COLS.len()).map_err(raw_err)?;
                let identity = match identity_id {
                    Some(_) => Some(identity_row!(row, USER_COLS.len()).map_err(raw_err)?),
                    None => None,
                };
                black_box((user, identity));
            }),
            Op::GetByHash => on_raw!(&self.raw, p => {
                let row = sqlx::query(AssertSqlSafe(sql.token_by_hash.clone()))
                    .bind(READ_HASH)
                    .fetch_optional(p)
                    .await
                    .map_err(raw_err)?
                    .ok_or_else(|| StoreError::not_found("refresh_token", "hash"))?;
                let token = token_row!(row).map_err(raw_err)?;
                let user_id: Option<Uuid> = row.try_get_unchecked(TOKEN_COLS.len()).map_err(raw_err)?;
                let user = match user_id {
                    Some(_) => Some(user_row!(row, TOKEN_COLS.len()).map_err(raw_err)?),
                    None => None,
                };
                black_box((token, user));
            }),
            Op::Permissions => on_raw!(&self.raw, p => {
                let rows = sqlx::query(AssertSqlSafe(sql.roles_with_assignment.clone()))
                    .bind(self.seeded.user_id)
                    .fetch_all(p)
                    .await
                    .map_err(raw_err)?;
                let mut assigned = Vec::new();
                let mut by_name = BTreeMap::new();
                for r in &rows {
                    let role = role_row!(r).map_err(raw_err)?;
                    let assignment: Option<Uuid> = r.try_get_unchecked(ROLE_COLS.len()).map_err(raw_err)?;
                    if assignment.is_some() {
                        assigned.push(role.name.clone());
                    }
                    by_name.insert(role.name.clone(), role);
                }
                if assigned.is_empty() {
                    return Ok(());
                }
                assigned.sort();
                let mut visited: HashSet<&str> = HashSet::new();
                let mut effective = BTreeSet::new();
                for start in &assigned {
                    let mut next = Some(start.as_str());
                    while let Some(name) = next {
                        if !visited.insert(name) {
                            break;
                        }
                        let Some(role) = by_name.get(name) else { break };
                        let perms: BTreeSet<String> = serde_json::from_value(role.permissions.0.clone())
                            .map_err(|e| StoreError::invalid("permissions", e.to_string()))?;
                        effective.extend(perms);
                        next = role.inherits_from.as_deref();
                    }
                }
                black_box(effective.into_iter().collect::<Vec<String>>());
            }),
            Op::TokenCreate => on_raw!(&self.raw, p => {
                let n = self.seeded.counter.fetch_add(1, Ordering::Relaxed);
                let now = crate::model::now();
                let mut tx = if immediate { p.begin_with("BEGIN IMMEDIATE").await } else { p.begin().await }
                    .map_err(raw_err)?;
                sqlx::query(AssertSqlSafe(sql.insert_token.clone()))
                    .bind(crate::model::new_id())
                    .bind(self.seeded.user_id)
                    .bind(CLIENT)
                    .bind(format!("bc-{n}"))
                    .bind(now)
                    .bind(now + ttl)
                    .bind(None::<Uuid>)
                    .bind(None::<DateTime<Utc>>)
                    .bind(crate::model::new_id())
                    .execute(&mut *tx)
                    .await
                    .map_err(raw_err)?;
                tx.commit().await.map_err(raw_err)?;
            }),
            Op::TokenRotate => on_raw!(&self.raw, p => {
                let n = self.seeded.counter.fetch_add(1, Ordering::Relaxed);
                let mut chain = self.seeded.baseline_chain.lock().await;
                let new = format!("b-{n}");
                let now = crate::model::now();
                let mut tx = if immediate { p.begin_with("BEGIN IMMEDIATE").await } else { p.begin().await }
                    .map_err(raw_err)?;
                let old = sqlx::query(AssertSqlSafe(sql.token_row_by_hash.clone()))
                    .bind(chain.as_str())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(raw_err)?
                    .ok_or_else(|| StoreError::not_found("refresh_token", "hash"))?;
                let old = token_row!(old).map_err(raw_err)?;
                if old.revoked_at.is_some() || old.expires_at <= now {
                    return Err(StoreError::TokenReused);
                }
                sqlx::query(AssertSqlSafe(sql.insert_token.clone()))
                    .bind(crate::model::new_id())
                    .bind(old.user_id)
                    .bind(old.client_id.as_str())
                    .bind(new.as_str())
                    .bind(now)
                    .bind(now + ttl)
                    .bind(Some(old.id))
                    .bind(None::<DateTime<Utc>>)
                    .bind(old.family_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(raw_err)?;
                let stamp = crate::model::now();
                let claimed = sqlx::query(AssertSqlSafe(sql.claim_token.clone()))
                    .bind(Some(stamp))
                    .bind(old.id)
                    .bind(stamp)
                    .execute(&mut *tx)
                    .await
                    .map_err(raw_err)?
                    .rows_affected();
                if claimed != 1 {
                    return Err(StoreError::TokenReused);
                }
                tx.commit().await.map_err(raw_err)?;
                let user = sqlx::query(AssertSqlSafe(sql.user_by_id.clone()))
                    .bind(old.user_id)
                    .fetch_optional(p)
                    .await
                    .map_err(raw_err)?;
                let user = match user {
                    Some(r) => Some(user_row!(r, 0).map_err(raw_err)?),
                    None => None,
                };
                black_box(user);
                *chain = new;
            }),
        }
        Ok(())
    }

    /// Median nanoseconds of store, baseline and floor over `iters` interleaved rounds
    /// (after `warmup` unmeasured ones); the order of the three rotates every round.
    ///
    /// Errors: the first failing operation's.
    pub async fn measure(&self, op: Op, warmup: usize, iters: usize) -> StoreResult<[f64; 3]> {
        measure_interleaved(warmup, iters, |side| self.once(op, side)).await
    }

    /// Closes the pool and drops the namespace.
    pub async fn cleanup(self) {
        let drop_sql = match self.engine {
            Engine::Postgres => Some(format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.namespace)),
            Engine::MySql => Some(format!("DROP DATABASE IF EXISTS `{}`", self.namespace)),
            Engine::Sqlite => None,
        };
        if let Some(drop_sql) = drop_sql {
            on_raw!(&self.raw, p => {
                if let Err(e) = sqlx::query(AssertSqlSafe(drop_sql)).execute(p).await {
                    super::progress(format!("dropping {} failed: {e}", self.namespace));
                }
            });
        }
        let _ = self.conn.close().await;
        drop(self.place);
    }
}

/// The hot-path rows of `engine`.
///
/// Errors: opening or seeding the namespace; a failing operation.
pub async fn run(opts: &BenchOptions, engine: Engine) -> StoreResult<Vec<Row>> {
    let hot = HotPaths::open(opts, engine).await?;
    let result = measure_all(&hot, opts).await;
    hot.cleanup().await;
    result
}

/// Warm-up and measured rounds of `op` (shared with the MongoDB group).
pub(crate) fn counts(quick: bool, op: Op) -> (usize, usize) {
    match (quick, op.is_read()) {
        (true, _) => (10, 40),
        (false, true) => (200, 3000),
        (false, false) => (50, 600),
    }
}

async fn measure_all(hot: &HotPaths, opts: &BenchOptions) -> StoreResult<Vec<Row>> {
    let mut rows = Vec::new();
    for op in Op::ALL {
        let (warmup, iters) = counts(opts.quick, op);
        let [store, baseline, floor] = hot.measure(op, warmup, iters).await?;
        let mut row = Row::new(format!("hot {}", op.name()), hot.engine().name(), Unit::Nanos, store)
            .baseline(baseline)
            .floor(floor)
            .note(format!("median of {iters}, interleaved"));
        if op.is_read() && hot.engine() == Engine::Postgres {
            row =
                row.check(Check::VsBaseline(1.15), "≤1.15× sqlx").check(Check::VsFloor(2.0), "≤2× SELECT 1");
        }
        rows.push(row);
    }
    Ok(rows)
}
