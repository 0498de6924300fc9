//! MongoDB hot paths: `users.get_by_email`, `tokens.get_by_hash`, `tokens.create`,
//! `tokens.rotate`, `rbac.get_user_permissions` through the store's Mongo repositories,
//! against the same operations written directly with the `mongodb` driver (same filters, same
//! round trips, the same documents decoded into typed structs, the same in-memory work) on
//! the repositories' own client and database — one connection pool — and against the round
//! trip floor (`{ping: 1}` through `run_command` on that database). Samples are interleaved
//! store / baseline / floor in an order that rotates every iteration, as in [`super::hot`].
//!
//! What the repositories send, and so what the baselines send (only `tokens.rotate` uses
//! a transaction):
//! - `users.get_by_email`: the user by `email_normalized`, then its password identity (2);
//! - `tokens.get_by_hash`: the token by `token_hash`, then its user's e-mail (2);
//! - `rbac.get_user_permissions`: the user's assignments, then every role by name (2);
//! - `tokens.create`: a count of the user (no foreign keys in MongoDB), the insert (2);
//! - `tokens.rotate`: in a transaction the old token, the insert of its successor and the
//!   claim (a conditional `update_one`), then the commit; then the user's e-mail (5).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::{DateTime, TimeDelta, Utc};
use futures_util::TryStreamExt;
use mongodb::bson::{Bson, Document, doc};
use mongodb::{Collection, Database};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::hot::{CLIENT, Op, READ_HASH, Seeded, Side, counts, measure_interleaved};
use super::{BenchOptions, Row, Unit};
use crate::adapters::mongo::MongoAdapter;
use crate::error::{StoreError, StoreResult};
use crate::mode::DbConfig;
use crate::mode::with_database;
use crate::registry::{AdapterConnection, ConnectConfig};

/// Serde of the stored encodings, written here rather than borrowed from the adapter so the
/// baseline depends on the driver only: ids are hyphenated UUID strings, instants `i64`
/// microseconds since the epoch.
mod enc {
    pub(super) mod id {
        use serde::{Deserialize, Deserializer, Serializer, de::Error};
        use uuid::Uuid;

        pub(crate) fn serialize<S: Serializer>(id: &Uuid, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(id.hyphenated().encode_lower(&mut Uuid::encode_buffer()))
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Uuid, D::Error> {
            let s = String::deserialize(d)?;
            Uuid::parse_str(&s).map_err(D::Error::custom)
        }
    }

    pub(super) mod id_opt {
        use serde::{Deserialize, Deserializer, Serializer, de::Error};
        use uuid::Uuid;

        pub(crate) fn serialize<S: Serializer>(id: &Option<Uuid>, s: S) -> Result<S::Ok, S::Error> {
            match id {
                Some(id) => s.serialize_str(id.hyphenated().encode_lower(&mut Uuid::encode_buffer())),
                None => s.serialize_none(),
            }
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Uuid>, D::Error> {
            Option::<String>::deserialize(d)?
                .map(|s| Uuid::parse_str(&s).map_err(D::Error::custom))
                .transpose()
        }
    }

    pub(super) mod micros {
        use chrono::{DateTime, Utc};
        use serde::{Deserialize, Deserializer, Serializer, de::Error};

        pub(crate) fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_i64(t.timestamp_micros())
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
            let us = i64::deserialize(d)?;
            DateTime::from_timestamp_micros(us).ok_or_else(|| D::Error::custom("bad instant"))
        }
    }

    pub(super) mod micros_opt {
        use chrono::{DateTime, Utc};
        use serde::{Deserialize, Deserializer, Serializer, de::Error};

        pub(crate) fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => s.serialize_i64(t.timestamp_micros()),
                None => s.serialize_none(),
            }
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<DateTime<Utc>>, D::Error> {
            Option::<i64>::deserialize(d)?
                .map(|us| DateTime::from_timestamp_micros(us).ok_or_else(|| D::Error::custom("bad instant")))
                .transpose()
        }
    }
}

#[allow(dead_code)]
#[derive(Deserialize)]
struct UserDoc {
    #[serde(rename = "_id", with = "enc::id")]
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
    metadata: serde_json::Value,
    custom_fields: serde_json::Value,
    #[serde(with = "enc::micros")]
    created_at: DateTime<Utc>,
    #[serde(with = "enc::micros")]
    updated_at: DateTime<Utc>,
    #[serde(with = "enc::micros_opt")]
    disabled_at: Option<DateTime<Utc>>,
    #[serde(with = "enc::micros_opt")]
    disabled_until: Option<DateTime<Utc>>,
    disabled_reason: Option<String>,
    disabled_by: Option<String>,
    source_client_id: Option<String>,
}

#[allow(dead_code)]
#[derive(Deserialize)]
struct IdentityDoc {
    #[serde(rename = "_id", with = "enc::id")]
    id: Uuid,
    #[serde(with = "enc::id")]
    user_id: Uuid,
    provider: String,
    provider_user_id: String,
    email: Option<String>,
    email_verified: bool,
    password_hash: Option<String>,
    name: Option<String>,
    picture: Option<String>,
    raw_claims: serde_json::Value,
    #[serde(with = "enc::micros")]
    created_at: DateTime<Utc>,
    #[serde(with = "enc::micros")]
    updated_at: DateTime<Utc>,
}

#[allow(dead_code)]
#[derive(Serialize, Deserialize)]
struct TokenDoc {
    #[serde(rename = "_id", with = "enc::id")]
    id: Uuid,
    #[serde(with = "enc::id")]
    user_id: Uuid,
    client_id: String,
    token_hash: String,
    #[serde(with = "enc::micros")]
    issued_at: DateTime<Utc>,
    #[serde(with = "enc::micros")]
    expires_at: DateTime<Utc>,
    #[serde(with = "enc::id_opt")]
    rotated_from: Option<Uuid>,
    #[serde(with = "enc::micros_opt")]
    revoked_at: Option<DateTime<Utc>>,
    #[serde(with = "enc::id")]
    family_id: Uuid,
}

#[allow(dead_code)]
#[derive(Deserialize)]
struct RoleDoc {
    #[serde(rename = "_id", with = "enc::id")]
    id: Uuid,
    name: String,
    description: Option<String>,
    permissions: Vec<String>,
    inherits_from: Option<String>,
    system: bool,
    #[serde(with = "enc::micros")]
    created_at: DateTime<Utc>,
    #[serde(with = "enc::micros")]
    updated_at: DateTime<Utc>,
}

#[allow(dead_code)]
#[derive(Deserialize)]
struct UserRoleDoc {
    #[serde(rename = "_id", with = "enc::id")]
    id: Uuid,
    #[serde(with = "enc::id")]
    user_id: Uuid,
    #[serde(with = "enc::id")]
    role_id: Uuid,
    #[serde(with = "enc::micros")]
    assigned_at: DateTime<Utc>,
}

/// An id as stored.
fn sid(id: Uuid) -> Bson {
    Bson::String(id.hyphenated().to_string())
}

fn driver_err(e: mongodb::error::Error) -> StoreError {
    StoreError::Backend { backend: "mongodb (bench baseline)".into(), message: e.to_string(), source: None }
}

/// A fresh MongoDB database, seeded, with the store's repositories and the driver's client
/// and database under them.
pub struct MongoHotPaths {
    database: String,
    conn: Arc<dyn AdapterConnection>,
    db: Database,
    seeded: Seeded,
}

impl MongoHotPaths {
    /// Opens a fresh database `hj_bench_<id>` on `opts.mongo_url` through the Mongo adapter
    /// (which creates its indexes) and seeds it as [`super::hot::HotPaths::open`] does: a user
    /// with a password identity, a refresh token, three roles in a chain with the top one
    /// assigned.
    ///
    /// Errors: those of the adapter (`Unavailable` when the server is down).
    pub async fn open(opts: &BenchOptions) -> StoreResult<Self> {
        let database = format!("hj_bench_{}", &Uuid::new_v4().simple().to_string()[..12]);
        let mut cfg = ConnectConfig::new(
            "bench",
            crate::model::new_id(),
            DbConfig::new("mongodb", with_database(&opts.mongo_url, &database)),
        );
        cfg.max_connections = 10;
        cfg.acquire_timeout = std::time::Duration::from_secs(10);
        let opened = MongoAdapter::new().open(&cfg).await?;
        let db = opened.database();
        let conn: Arc<dyn AdapterConnection> = Arc::new(opened);
        let hot = match Self::seed(conn.clone(), db.clone(), database.clone()).await {
            Ok(hot) => hot,
            Err(e) => {
                if let Err(drop) = db.drop().await {
                    super::progress(format!("dropping {database} failed: {drop}"));
                }
                let _ = conn.close().await;
                return Err(e);
            }
        };
        Ok(hot)
    }

    async fn seed(conn: Arc<dyn AdapterConnection>, db: Database, database: String) -> StoreResult<Self> {
        let seeded = Seeded::seed(conn.as_ref()).await?;
        Ok(MongoHotPaths { database, conn, db, seeded })
    }

    /// Runs `op` once on `side`.
    ///
    /// Errors: whatever the operation returns (none expected).
    pub async fn once(&self, op: Op, side: Side) -> StoreResult<()> {
        match side {
            Side::Store => self.seeded.store(op).await,
            Side::Baseline => self.baseline(op).await,
            Side::Floor => {
                black_box(self.db.run_command(doc! { "ping": 1 }).await.map_err(driver_err)?);
                Ok(())
            }
        }
    }

    fn coll<T: Send + Sync>(&self, name: &str) -> Collection<T> {
        self.db.collection::<T>(name)
    }

    /// The e-mail of `user_id`, as the token repository reads it (an `$in` of the ids, `_id`
    /// and `email` projected, raw documents).
    async fn email_of(&self, user_id: Uuid) -> StoreResult<Option<String>> {
        let rows: Vec<Document> = self
            .coll::<Document>("users")
            .find(doc! { "_id": { "$in": [sid(user_id)] } })
            .projection(doc! { "_id": 1, "email": 1 })
            .await
            .map_err(driver_err)?
            .try_collect()
            .await
            .map_err(driver_err)?;
        let mut emails: HashMap<Uuid, String> = rows
            .into_iter()
            .filter_map(|d| {
                let id = Uuid::parse_str(d.get_str("_id").ok()?).ok()?;
                Some((id, d.get_str("email").ok()?.to_string()))
            })
            .collect();
        Ok(emails.remove(&user_id))
    }

    async fn baseline(&self, op: Op) -> StoreResult<()> {
        let ttl = TimeDelta::days(30);
        match op {
            Op::GetByEmail => {
                let normalized = self.seeded.email.trim().to_lowercase();
                let user = self
                    .coll::<UserDoc>("users")
                    .find_one(doc! { "email_normalized": normalized.as_str() })
                    .await
                    .map_err(driver_err)?
                    .ok_or_else(|| StoreError::not_found("user", &self.seeded.email))?;
                let identity = self
                    .coll::<IdentityDoc>("identities")
                    .find_one(doc! { "user_id": sid(user.id), "provider": "password" })
                    .await
                    .map_err(driver_err)?;
                black_box((user, identity));
            }
            Op::GetByHash => {
                let token = self
                    .coll::<TokenDoc>("refresh_tokens")
                    .find_one(doc! { "token_hash": READ_HASH })
                    .await
                    .map_err(driver_err)?
                    .ok_or_else(|| StoreError::not_found("refresh_token", "hash"))?;
                let email = self.email_of(token.user_id).await?;
                black_box((token, email));
            }
            Op::Permissions => {
                let assigned: HashSet<Uuid> = self
                    .coll::<UserRoleDoc>("user_roles")
                    .find(doc! { "user_id": sid(self.seeded.user_id) })
                    .await
                    .map_err(driver_err)?
                    .try_collect::<Vec<UserRoleDoc>>()
                    .await
                    .map_err(driver_err)?
                    .into_iter()
                    .map(|r| r.role_id)
                    .collect();
                if assigned.is_empty() {
                    return Ok(());
                }
                let roles: Vec<RoleDoc> = self
                    .coll::<RoleDoc>("roles")
                    .find(doc! {})
                    .sort(doc! { "name": 1 })
                    .await
                    .map_err(driver_err)?
                    .try_collect()
                    .await
                    .map_err(driver_err)?;
                let by_name: HashMap<&str, &RoleDoc> = roles.iter().map(|r| (r.name.as_str(), r)).collect();
                let mut effective = BTreeSet::new();
                let mut visited: HashSet<&str> = HashSet::new();
                for role in roles.iter().filter(|r| assigned.contains(&r.id)) {
                    let mut next = Some(role);
                    while let Some(current) = next {
                        if !visited.insert(current.name.as_str()) {
                            break;
                        }
                        effective.extend(current.permissions.iter().cloned());
                        next = current.inherits_from.as_deref().and_then(|p| by_name.get(p).copied());
                    }
                }
                black_box(effective.into_iter().collect::<Vec<String>>());
            }
            Op::TokenCreate => {
                let n = self.seeded.counter.fetch_add(1, Ordering::Relaxed);
                let now = crate::model::now();
                let row = TokenDoc {
                    id: crate::model::new_id(),
                    user_id: self.seeded.user_id,
                    client_id: CLIENT.into(),
                    token_hash: format!("bc-{n}"),
                    issued_at: now,
                    expires_at: now + ttl,
                    rotated_from: None,
                    revoked_at: None,
                    family_id: crate::model::new_id(),
                };
                let users = self
                    .coll::<Document>("users")
                    .count_documents(doc! { "_id": sid(self.seeded.user_id) })
                    .limit(1)
                    .await
                    .map_err(driver_err)?;
                if users == 0 {
                    return Err(StoreError::not_found("user", self.seeded.user_id));
                }
                self.coll::<TokenDoc>("refresh_tokens").insert_one(&row).await.map_err(driver_err)?;
                black_box(row.id);
            }
            Op::TokenRotate => {
                let n = self.seeded.counter.fetch_add(1, Ordering::Relaxed);
                let mut chain = self.seeded.baseline_chain.lock().await;
                let new_hash = format!("b-{n}");
                let now = crate::model::now();
                let tokens = self.coll::<TokenDoc>("refresh_tokens");
                // The store's transaction (the test server runs them; the store retries
                // transient errors, which a single-threaded baseline never meets).
                let mut session = self.db.client().start_session().await.map_err(driver_err)?;
                session.start_transaction().await.map_err(driver_err)?;
                let old = tokens
                    .find_one(doc! { "token_hash": chain.as_str() })
                    .session(&mut session)
                    .await
                    .map_err(driver_err)?
                    .filter(|t| t.revoked_at.is_none() && t.expires_at > now)
                    .ok_or(StoreError::TokenReused)?;
                let new = TokenDoc {
                    id: crate::model::new_id(),
                    user_id: old.user_id,
                    client_id: old.client_id.clone(),
                    token_hash: new_hash.clone(),
                    issued_at: now,
                    expires_at: now + ttl,
                    rotated_from: Some(old.id),
                    revoked_at: None,
                    family_id: old.family_id,
                };
                tokens.insert_one(&new).session(&mut session).await.map_err(driver_err)?;
                let stamp = crate::model::now();
                let claim = doc! {
                    "_id": sid(old.id),
                    "revoked_at": Bson::Null,
                    "expires_at": { "$gt": stamp.timestamp_micros() },
                };
                let claimed = tokens
                    .update_one(
                        claim,
                        doc! { "$set": { "revoked_at": stamp.timestamp_micros(), "rotated_to": sid(new.id) } },
                    )
                    .session(&mut session)
                    .await
                    .map_err(driver_err)?;
                if claimed.modified_count != 1 {
                    return Err(StoreError::TokenReused);
                }
                session.commit_transaction().await.map_err(driver_err)?;
                let email = self.email_of(new.user_id).await?;
                black_box((new, email));
                *chain = new_hash;
            }
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

    /// Drops the database and closes the connection.
    pub async fn cleanup(self) {
        if let Err(e) = self.db.drop().await {
            super::progress(format!("dropping {} failed: {e}", self.database));
        }
        let _ = self.conn.close().await;
    }
}

/// The Mongo hot-path rows (group `hot <op>`, engine `mongo`).
///
/// Errors: opening or seeding the database (`Unavailable` when the server is down); a
/// failing operation.
pub async fn run(opts: &BenchOptions) -> StoreResult<Vec<Row>> {
    let hot = MongoHotPaths::open(opts).await?;
    let result = measure_all(&hot, opts).await;
    hot.cleanup().await;
    result
}

/// How many round trips the operation takes (store and baseline alike).
fn round_trips(op: Op) -> &'static str {
    match op {
        Op::GetByEmail => "2 round trips (user, password identity)",
        Op::GetByHash => "2 round trips (token, user)",
        Op::Permissions => "2 round trips (assignments, roles)",
        Op::TokenCreate => "2 round trips (user exists, insert)",
        Op::TokenRotate => "5 round trips (read, insert, claim, commit, user)",
    }
}

async fn measure_all(hot: &MongoHotPaths, opts: &BenchOptions) -> StoreResult<Vec<Row>> {
    let mut rows = Vec::new();
    for op in Op::ALL {
        let (warmup, iters) = counts(opts.quick, op);
        let [store, baseline, floor] = hot.measure(op, warmup, iters).await?;
        // The budget lines of the issue are PostgreSQL's; like the SQLite and MariaDB rows,
        // these print their ratios without one.
        let row = Row::new(format!("hot {}", op.name()), "mongo", Unit::Nanos, store)
            .baseline(baseline)
            .floor(floor)
            .note(format!("median of {iters}, interleaved; {}", round_trips(op)));
        rows.push(row);
    }
    Ok(rows)
}
