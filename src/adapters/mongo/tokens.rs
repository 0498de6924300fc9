//! `TokenRepository` on `refresh_tokens`. Only hashes are stored; `user_email` is joined
//! from `users` when tokens are read.
//!
//! Rotation is one transaction ([`txn::run`]) whose claim is its last write: read the old
//! token, insert the successor, then a conditional `update_one` claims the old token (sets
//! `revoked_at`, stamped right before it, and `rotated_to`, the successor's id, only on a
//! token that is unrevoked and unexpired). A taken new hash (the unique index's duplicate
//! key) aborts before anything is claimed. Of concurrent rotations exactly one claims the
//! token: the others meet a write conflict and run again after it committed (having seen
//! the token active: they are concurrent losers). A rotation that does not claim reads the
//! committed token to tell why ([`MongoTokens::settle`], the same rules as the SQL
//! adapter's): missing → `NotFound`; not revoked → `TokenExpired`; rotated (`rotated_to`
//! set) and the call started no later than the rotation's `revoked_at` (or, on this
//! replica, than its commit: `RecentRotations`), or saw the token active → `Conflict`,
//! nothing written; rotated, within the reuse interval and the successor still active →
//! that successor; else reuse: the family is revoked and the call
//! returns `TokenReused`.
//!
//! On a server without transactions (a standalone `mongod`) the same steps run once in a
//! plain session, each write atomic on its own: the claim still crowns exactly one winner,
//! and a loser deletes the successor it inserted. The successor exists before the claim
//! names it, so a concurrent loser never meets a claim without a successor; a crash between
//! insert and claim leaves an unclaimed successor nobody was given (the old token still
//! rotates), and a loser's successor is visible until the loser deletes it — readers go by
//! `rotated_to`, never by `rotated_from`, to find the successor.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use chrono::TimeDelta;
use futures_util::TryStreamExt;
use mongodb::ClientSession;
use mongodb::bson::{Bson, Document, doc};
use uuid::Uuid;

use super::docs::{self, TokenDoc};
use super::txn::{self, TxnError};
use super::{MongoContext, as_i64, error};
use crate::error::{StoreError, StoreResult};
use crate::model::{
    CreateRefreshTokenInput, RefreshToken, Timestamp, TokenFilter, TokenStats, check_non_empty,
    check_rotation, check_ttl, expiry, new_id,
};
use crate::repository::TokenRepository;

const ENTITY: &str = "refresh_token";

/// Midnight UTC of `now`'s day.
fn midnight(now: Timestamp) -> Timestamp {
    now.date_naive().and_hms_opt(0, 0, 0).map(|t| t.and_utc()).unwrap_or(now)
}

/// Refresh tokens of one tenant.
pub(crate) struct MongoTokens {
    ctx: Arc<MongoContext>,
}

impl MongoTokens {
    pub(crate) fn new(ctx: Arc<MongoContext>) -> Self {
        MongoTokens { ctx }
    }

    fn coll(&self) -> StoreResult<mongodb::Collection<TokenDoc>> {
        self.ctx.coll(docs::REFRESH_TOKENS)
    }

    /// The e-mails of `user_ids`.
    async fn emails(&self, user_ids: impl IntoIterator<Item = Uuid>) -> StoreResult<HashMap<Uuid, String>> {
        let mut ids: Vec<Uuid> = user_ids.into_iter().collect();
        ids.sort();
        ids.dedup();
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let keys: Vec<Bson> = ids.into_iter().map(docs::id).collect();
        let rows: Vec<Document> = self
            .ctx
            .raw(docs::USERS)?
            .find(doc! { "_id": { "$in": keys } })
            .projection(doc! { "_id": 1, "email": 1 })
            .await
            .map_err(error::on("user"))?
            .try_collect()
            .await
            .map_err(error::on("user"))?;
        Ok(rows
            .into_iter()
            .filter_map(|d| {
                let id = Uuid::parse_str(d.get_str("_id").ok()?).ok()?;
                Some((id, d.get_str("email").ok()?.to_string()))
            })
            .collect())
    }

    async fn to_tokens(&self, rows: Vec<TokenDoc>) -> StoreResult<Vec<RefreshToken>> {
        let emails = self.emails(rows.iter().map(|d| d.user_id)).await?;
        Ok(rows
            .into_iter()
            .map(|d| {
                let email = emails.get(&d.user_id).cloned();
                to_token(d, email)
            })
            .collect())
    }

    async fn find_one(&self, filter: Document, key: impl std::fmt::Display) -> StoreResult<RefreshToken> {
        let Some(row) = self.coll()?.find_one(filter).await.map_err(error::on(ENTITY))? else {
            return Err(StoreError::not_found(ENTITY, key));
        };
        let mut tokens = self.to_tokens(vec![row]).await?;
        tokens.pop().ok_or_else(|| StoreError::not_found(ENTITY, "token"))
    }

    /// The filter of `list` and `count`.
    async fn filter(&self, filter: &TokenFilter, now: Timestamp) -> StoreResult<Document> {
        let mut f = Document::new();
        if let Some(user_id) = filter.user_id {
            f.insert("user_id", docs::id(user_id));
        }
        if let Some(client_id) = &filter.client_id {
            f.insert("client_id", client_id.as_str());
        }
        if let Some(status) = filter.status {
            f.extend(docs::lifecycle(status.into(), now));
        }
        if let Some(search) = filter.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            let owners: Vec<Bson> = self
                .ctx
                .raw(docs::USERS)?
                .find(docs::contains_ci("email_normalized", search))
                .projection(doc! { "_id": 1 })
                .await
                .map_err(error::on("user"))?
                .try_collect::<Vec<Document>>()
                .await
                .map_err(error::on("user"))?
                .into_iter()
                .filter_map(|d| d.get("_id").cloned())
                .collect();
            f.insert("$and", vec![Bson::Document(doc! { "user_id": { "$in": owners } })]);
        }
        Ok(f)
    }

    async fn revoke_where(&self, mut filter: Document) -> StoreResult<u64> {
        let now = crate::model::now();
        filter.extend(docs::active_at(now));
        let res = self
            .coll()?
            .update_many(filter, doc! { "$set": { "revoked_at": docs::ts(now) } })
            .await
            .map_err(error::on(ENTITY))?;
        Ok(res.modified_count)
    }
}

fn to_token(d: TokenDoc, user_email: Option<String>) -> RefreshToken {
    RefreshToken {
        id: d.id,
        user_id: d.user_id,
        user_email,
        client_id: d.client_id,
        token_hash: d.token_hash,
        issued_at: d.issued_at,
        expires_at: d.expires_at,
        rotated_from: d.rotated_from,
        revoked_at: d.revoked_at,
        family_id: d.family_id,
    }
}

/// What one run of a rotation's body found (and, inside a transaction, committed).
enum Rotation {
    /// The old token was claimed and this successor inserted.
    Rotated(TokenDoc),
    /// The old token was not claimed: not active, or another call claimed it.
    NotClaimed,
    /// No token has the old hash.
    Unknown,
}

/// Why a rotation that did not claim the token failed (or what it returns).
enum Settled {
    /// A replay within the reuse interval: this still-active successor.
    Successor(TokenDoc),
    /// Revoked or replayed: the family was revoked (`revoked` tokens were still active).
    Reused { family_id: Uuid, revoked: u64 },
    /// A concurrent rotation won.
    Concurrent,
    /// Past its expiry.
    Expired,
    /// Gone.
    Unknown,
}

/// One run of a rotation in the session `s` (see the module documentation): read the old
/// token, insert its successor, then claim the old token naming the successor, recording
/// in `seen` what it saw. Without transactions a lost claim deletes the successor by hand;
/// inside one the abort does that.
async fn rotate_in(
    ctx: &MongoContext,
    s: &mut ClientSession,
    old_hash: &str,
    new_hash: &str,
    ttl: TimeDelta,
    seen: &Seen,
) -> Result<Rotation, TxnError> {
    let coll = ctx.coll::<TokenDoc>(docs::REFRESH_TOKENS)?;
    let Some(old) = coll.find_one(doc! { "token_hash": old_hash }).session(&mut *s).await? else {
        return Ok(Rotation::Unknown);
    };
    let now = crate::model::now();
    if old.revoked_at.is_some() || old.expires_at <= now {
        return Ok(Rotation::NotClaimed);
    }
    seen.active.store(true, Ordering::Relaxed);
    let new = TokenDoc {
        id: new_id(),
        user_id: old.user_id,
        client_id: old.client_id.clone(),
        token_hash: new_hash.to_string(),
        issued_at: now,
        expires_at: expiry(now, ttl)?,
        rotated_from: Some(old.id),
        revoked_at: None,
        family_id: old.family_id,
        rotated_to: None,
    };
    // A taken new hash is the unique index's duplicate key: no look-up before the insert.
    if let Err(e) = coll.insert_one(&new).session(&mut *s).await {
        if error::is_duplicate_key(&e) {
            return Err(StoreError::conflict(ENTITY, "the new token hash is already stored").into());
        }
        return Err(e.into());
    }
    // The claim, last: its stamp is the rotation's time, as late as one write allows.
    let stamp = crate::model::now();
    let mut claim = doc! { "_id": docs::id(old.id) };
    claim.extend(docs::active_at(stamp));
    let claimed = coll
        .update_one(claim, doc! { "$set": { "revoked_at": docs::ts(stamp), "rotated_to": docs::id(new.id) } })
        .session(&mut *s)
        .await?;
    if claimed.modified_count == 1 {
        // Committed when the transaction is (or now, without one).
        ctx.rotations.committing(old.id);
        *seen.claimed.lock().unwrap_or_else(|p| p.into_inner()) = Some(old.id);
        return Ok(Rotation::Rotated(new));
    }
    if !ctx.transactions().await? {
        // No transaction to abort: take the successor back by hand. Should that fail, an
        // active token nobody was given stays behind until it expires.
        if let Err(undo) = coll.delete_one(doc! { "_id": docs::id(new.id) }).session(&mut *s).await {
            tracing::warn!(token = %new.id, error = %undo.kind, "could not delete the successor of a lost claim");
        }
        return Ok(Rotation::NotClaimed);
    }
    // Inside a transaction the successor must not be committed: abort (settle says why).
    seen.lost.store(true, Ordering::Relaxed);
    Err(StoreError::conflict(ENTITY, "a concurrent rotation of this token won").into())
}

/// What the runs of one rotation's body saw.
#[derive(Default)]
struct Seen {
    /// The old token was active in a run (so the call began before any rotation of it
    /// committed).
    active: AtomicBool,
    /// A run inside a transaction lost the claim and aborted.
    lost: AtomicBool,
    /// The old token a run claimed (marked committing in `RecentRotations`).
    claimed: std::sync::Mutex<Option<Uuid>>,
}

impl MongoTokens {
    /// Why a rotation that started at `start` did not claim `old_hash`, read from the
    /// committed state (see the module documentation); revokes the family on reuse.
    async fn settle(
        &self,
        old_hash: &str,
        start: Timestamp,
        saw_active: bool,
        reuse_interval: TimeDelta,
    ) -> StoreResult<Settled> {
        let coll = self.coll()?;
        let Some(old) = coll.find_one(doc! { "token_hash": old_hash }).await.map_err(error::on(ENTITY))?
        else {
            return Ok(Settled::Unknown);
        };
        let now = crate::model::now();
        let Some(revoked_at) = old.revoked_at else {
            return Ok(if old.expires_at <= now { Settled::Expired } else { Settled::Concurrent });
        };
        if let Some(successor_id) = old.rotated_to {
            if saw_active || start <= revoked_at || self.ctx.rotations.started_before_commit(old.id, start) {
                return Ok(Settled::Concurrent);
            }
            if !reuse_interval.is_zero() && now - revoked_at <= reuse_interval {
                let successor =
                    coll.find_one(doc! { "_id": docs::id(successor_id) }).await.map_err(error::on(ENTITY))?;
                if let Some(successor) = successor.filter(|t| t.revoked_at.is_none() && t.expires_at > now) {
                    return Ok(Settled::Successor(successor));
                }
            }
        }
        // Reuse of a rotated or revoked token: revoke the whole family.
        let res = coll
            .update_many(
                doc! { "family_id": docs::id(old.family_id), "revoked_at": Bson::Null },
                doc! { "$set": { "revoked_at": docs::ts(now) } },
            )
            .await
            .map_err(error::on(ENTITY))?;
        Ok(Settled::Reused { family_id: old.family_id, revoked: res.modified_count })
    }
}

#[async_trait]
impl TokenRepository for MongoTokens {
    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "tokens.create")
    )]
    async fn create(&self, input: CreateRefreshTokenInput) -> StoreResult<Uuid> {
        crate::model::limits::check_refresh_token(&input)?;
        check_non_empty("token_hash", &input.token_hash)?;
        check_non_empty("client_id", &input.client_id)?;
        check_ttl(input.ttl)?;
        let now = crate::model::now();
        let row = TokenDoc {
            id: new_id(),
            user_id: input.user_id,
            client_id: input.client_id,
            token_hash: input.token_hash,
            issued_at: now,
            expires_at: expiry(now, input.ttl)?,
            rotated_from: None,
            revoked_at: None,
            family_id: new_id(),
            rotated_to: None,
        };
        self.ctx.require_user(input.user_id).await?;
        self.coll()?.insert_one(&row).await.map_err(error::on(ENTITY))?;
        Ok(row.id)
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "tokens.get_by_hash")
    )]
    async fn get_by_hash(&self, token_hash: &str) -> StoreResult<RefreshToken> {
        self.find_one(doc! { "token_hash": token_hash }, "hash").await
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "tokens.get_by_id")
    )]
    async fn get_by_id(&self, id: Uuid) -> StoreResult<RefreshToken> {
        self.find_one(doc! { "_id": docs::id(id) }, id).await
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "tokens.rotate")
    )]
    async fn rotate_with_reuse_interval(
        &self,
        old_hash: &str,
        new_hash: &str,
        ttl: TimeDelta,
        reuse_interval: TimeDelta,
    ) -> StoreResult<RefreshToken> {
        // The call's start, before any I/O: what tells a concurrent loser from a replay.
        let start = crate::model::now();
        check_rotation(old_hash, new_hash, ttl, reuse_interval)?;
        let ctx = self.ctx.clone();
        let seen = Arc::new(Seen::default());
        let (old, new, runs) = (old_hash.to_string(), new_hash.to_string(), seen.clone());
        let outcome = txn::run(&self.ctx, ENTITY, move |s| {
            let (ctx, old, new, seen) = (ctx.clone(), old.clone(), new.clone(), runs.clone());
            Box::pin(async move { rotate_in(&ctx, s, &old, &new, ttl, &seen).await })
        })
        .await;
        let claimed = match outcome {
            Ok(Rotation::Rotated(new)) => {
                if let Some(old) = new.rotated_from {
                    self.ctx.rotations.committed(old);
                }
                Some(new)
            }
            Ok(Rotation::Unknown) => return Err(StoreError::not_found(ENTITY, "hash")),
            Ok(Rotation::NotClaimed) => None,
            Err(StoreError::Conflict { .. }) if seen.lost.load(Ordering::Relaxed) => None,
            Err(e) => {
                // A claim written in an attempt whose commit then failed.
                if let Some(old) = seen.claimed.lock().unwrap_or_else(|p| p.into_inner()).take() {
                    self.ctx.rotations.abandoned(old);
                }
                return Err(e);
            }
        };
        let new = match claimed {
            Some(new) => new,
            None => match self
                .settle(old_hash, start, seen.active.load(Ordering::Relaxed), reuse_interval)
                .await?
            {
                Settled::Successor(successor) => successor,
                Settled::Reused { family_id, revoked } => {
                    tracing::warn!(
                        tenant = %self.ctx.tenant_slug,
                        family = %family_id,
                        revoked,
                        "refresh token reused; family revoked"
                    );
                    return Err(StoreError::TokenReused);
                }
                Settled::Concurrent => {
                    return Err(StoreError::conflict(ENTITY, "a concurrent rotation of this token won"));
                }
                Settled::Expired => return Err(StoreError::TokenExpired),
                Settled::Unknown => return Err(StoreError::not_found(ENTITY, "hash")),
            },
        };
        let email = self.emails([new.user_id]).await?.remove(&new.user_id);
        Ok(to_token(new, email))
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "tokens.revoke")
    )]
    async fn revoke(&self, id: Uuid) -> StoreResult<()> {
        let res = self
            .coll()?
            .update_one(
                doc! { "_id": docs::id(id), "revoked_at": Bson::Null },
                doc! { "$set": { "revoked_at": docs::ts(crate::model::now()) } },
            )
            .await
            .map_err(error::on(ENTITY))?;
        if res.matched_count == 0 {
            let exists = self
                .coll()?
                .count_documents(doc! { "_id": docs::id(id) })
                .await
                .map_err(error::on(ENTITY))?;
            if exists == 0 {
                return Err(StoreError::not_found(ENTITY, id));
            }
        }
        Ok(())
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "tokens.revoke_all_by_user")
    )]
    async fn revoke_all_by_user(&self, user_id: Uuid, client_id: Option<&str>) -> StoreResult<u64> {
        let mut filter = doc! { "user_id": docs::id(user_id) };
        if let Some(client_id) = client_id {
            filter.insert("client_id", client_id);
        }
        self.revoke_where(filter).await
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "tokens.revoke_all_by_client")
    )]
    async fn revoke_all_by_client(&self, client_id: &str) -> StoreResult<u64> {
        self.revoke_where(doc! { "client_id": client_id }).await
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "tokens.revoke_all")
    )]
    async fn revoke_all(&self) -> StoreResult<u64> {
        self.revoke_where(doc! {}).await
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "tokens.list")
    )]
    async fn list(&self, filter: &TokenFilter) -> StoreResult<Vec<RefreshToken>> {
        crate::model::limits::check_search(filter.search.as_deref())?;
        let Some((limit, offset)) = crate::model::limits::page_window(filter.page, filter.page_size) else {
            return Ok(Vec::new());
        };
        let f = self.filter(filter, crate::model::now()).await?;
        let rows: Vec<TokenDoc> = self
            .coll()?
            .find(f)
            .sort(doc! { "issued_at": -1, "_id": -1 })
            .skip(offset)
            .limit(as_i64(limit))
            .await
            .map_err(error::on(ENTITY))?
            .try_collect()
            .await
            .map_err(error::on(ENTITY))?;
        self.to_tokens(rows).await
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "tokens.count")
    )]
    async fn count(&self, filter: &TokenFilter) -> StoreResult<u64> {
        crate::model::limits::check_search(filter.search.as_deref())?;
        let f = self.filter(filter, crate::model::now()).await?;
        self.coll()?.count_documents(f).await.map_err(error::on(ENTITY))
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "tokens.stats")
    )]
    async fn stats(&self) -> StoreResult<TokenStats> {
        let now = crate::model::now();
        let midnight = docs::ts(midnight(now));
        let coll = self.ctx.raw(docs::REFRESH_TOKENS)?;
        let issued_today = coll
            .count_documents(doc! { "issued_at": { "$gte": midnight.clone() } })
            .await
            .map_err(error::on(ENTITY))?;
        let revoked_today = coll
            .count_documents(doc! { "revoked_at": { "$ne": Bson::Null, "$gte": midnight } })
            .await
            .map_err(error::on(ENTITY))?;
        let active: Vec<Document> = coll
            .find(docs::active_at(now))
            .projection(doc! { "client_id": 1, "issued_at": 1, "expires_at": 1 })
            .await
            .map_err(error::on(ENTITY))?
            .try_collect()
            .await
            .map_err(error::on(ENTITY))?;
        let mut by_client: BTreeMap<String, u64> = BTreeMap::new();
        let mut total_micros = 0f64;
        for d in &active {
            let client = d.get_str("client_id").unwrap_or_default().to_string();
            *by_client.entry(client).or_default() += 1;
            let issued = d.get_i64("issued_at").unwrap_or_default();
            let expires = d.get_i64("expires_at").unwrap_or_default();
            total_micros += (expires - issued) as f64;
        }
        let total_active = active.len() as u64;
        let avg_lifetime_hours =
            if total_active == 0 { 0.0 } else { total_micros / 1e6 / total_active as f64 / 3600.0 };
        Ok(TokenStats { total_active, issued_today, revoked_today, avg_lifetime_hours, by_client })
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "tokens.purge_expired")
    )]
    async fn purge_expired(&self, now: Timestamp, batch_size: u64) -> StoreResult<u64> {
        let now = crate::model::limits::clamp_time(now);
        let revoked_before = crate::model::limits::clamp_time(now - TimeDelta::days(1));
        let expired = doc! { "$or": [
            { "expires_at": { "$lt": docs::ts(now) } },
            { "revoked_at": { "$ne": Bson::Null, "$lt": docs::ts(revoked_before) } },
        ] };
        let batch = crate::model::purge_batch(batch_size);
        let coll = self.ctx.raw(docs::REFRESH_TOKENS)?;
        let mut after: Option<Bson> = None;
        let mut total = 0;
        loop {
            // The next batch of candidates by `_id`; those of families alive at `now` stay
            // (reuse detection), and the walk goes past them.
            let mut page = expired.clone();
            if let Some(after) = &after {
                page.insert("_id", doc! { "$gt": after.clone() });
            }
            let rows: Vec<Document> = coll
                .find(page)
                .projection(doc! { "_id": 1, "family_id": 1 })
                .sort(doc! { "_id": 1 })
                .limit(as_i64(batch))
                .await
                .map_err(error::on(ENTITY))?
                .try_collect()
                .await
                .map_err(error::on(ENTITY))?;
            let selected = rows.len() as u64;
            let Some(last) = rows.last().and_then(|d| d.get("_id").cloned()) else {
                break;
            };
            after = Some(last);
            let mut families: Vec<Bson> = rows.iter().filter_map(|d| d.get("family_id").cloned()).collect();
            families.sort_by_key(|f| f.to_string());
            families.dedup();
            let mut alive_filter = doc! { "family_id": { "$in": families } };
            alive_filter.extend(docs::active_at(now));
            let alive: Vec<Bson> = coll
                .find(alive_filter)
                .projection(doc! { "family_id": 1 })
                .await
                .map_err(error::on(ENTITY))?
                .try_collect::<Vec<Document>>()
                .await
                .map_err(error::on(ENTITY))?
                .into_iter()
                .filter_map(|d| d.get("family_id").cloned())
                .collect();
            let dead: Vec<Bson> = rows
                .iter()
                .filter(|d| d.get("family_id").is_none_or(|f| !alive.contains(f)))
                .filter_map(|d| d.get("_id").cloned())
                .collect();
            if !dead.is_empty() {
                let mut delete = expired.clone();
                delete.insert("_id", doc! { "$in": dead });
                delete.insert("family_id", doc! { "$nin": alive });
                total += coll.delete_many(delete).await.map_err(error::on(ENTITY))?.deleted_count;
            }
            if selected < batch {
                break;
            }
        }
        Ok(total)
    }
}
