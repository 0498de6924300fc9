//! `TokenRepository` on `refresh_tokens`. Only hashes are stored; `user_email` is joined
//! from `users` when tokens are read.
//!
//! Rotation is one transaction ([`txn::run`]): a `find_one_and_update` claims the old token
//! (sets `revoked_at` only on a token that is unrevoked and unexpired), then the new token is
//! inserted; a taken new hash (the unique index's duplicate key) aborts both, so a crash or
//! an error between the steps never leaves the old token revoked without a successor, and
//! nobody sees the claim before the successor exists. Of concurrent rotations exactly one
//! claims the token: the others meet a write conflict and run again after it committed (or
//! after it aborted, finding the token still active). A rotation that does not claim reads
//! the token to tell why: missing → `NotFound`; revoked → reuse: the family is revoked,
//! committed, and the call returns `TokenReused`; else expired → `TokenExpired`.
//!
//! On a server without transactions (a standalone `mongod`) the same steps run once in a
//! plain session, each write atomic on its own: the claim still crowns exactly one winner,
//! and a failed insert gives the claim back by hand. There, a crash between claim and insert
//! leaves the old token revoked without a successor (the user logs in again: it fails
//! closed), and a concurrent loser can meet a claim that is then given back and answer
//! `TokenReused`, revoking the family. Deployments that need rotation all-or-nothing run a
//! replica set (a single-node one is enough).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::TimeDelta;
use futures_util::TryStreamExt;
use mongodb::ClientSession;
use mongodb::bson::{Bson, Document, doc};
use mongodb::options::ReturnDocument;
use uuid::Uuid;

use super::docs::{self, TokenDoc};
use super::txn::{self, TxnError};
use super::{MongoContext, as_i64, error, purge_in_batches};
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
    /// The old token was already rotated or revoked: its family was revoked (`revoked`
    /// tokens were still active).
    Reused { family_id: Uuid, revoked: u64 },
    /// The old token is past its expiry and was left as it was.
    Expired,
    /// No token has the old hash.
    Unknown,
}

/// One run of a rotation in the session `s` (see the module documentation): claim the old
/// token, then insert its successor; or tell why the claim failed, revoking the family on
/// reuse. Without transactions the claim is given back when the insert fails; inside one
/// the abort does that.
async fn rotate_in(
    ctx: &MongoContext,
    s: &mut ClientSession,
    old_hash: &str,
    new_hash: &str,
    ttl: TimeDelta,
) -> Result<Rotation, TxnError> {
    let now = crate::model::now();
    let coll = ctx.coll::<TokenDoc>(docs::REFRESH_TOKENS)?;
    let mut claim = doc! { "token_hash": old_hash };
    claim.extend(docs::active_at(now));
    let claimed = coll
        .find_one_and_update(claim, doc! { "$set": { "revoked_at": docs::ts(now) } })
        .return_document(ReturnDocument::Before)
        .session(&mut *s)
        .await?;
    let Some(old) = claimed else {
        let Some(old) = coll.find_one(doc! { "token_hash": old_hash }).session(&mut *s).await? else {
            return Ok(Rotation::Unknown);
        };
        if old.revoked_at.is_none() {
            return Ok(Rotation::Expired);
        }
        // Reuse of a rotated or revoked token: revoke the whole family, and keep that.
        let res = coll
            .update_many(
                doc! { "family_id": docs::id(old.family_id), "revoked_at": Bson::Null },
                doc! { "$set": { "revoked_at": docs::ts(now) } },
            )
            .session(&mut *s)
            .await?;
        return Ok(Rotation::Reused { family_id: old.family_id, revoked: res.modified_count });
    };
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
    };
    // A taken new hash is the unique index's duplicate key: no look-up before the insert.
    let Err(e) = coll.insert_one(&new).session(&mut *s).await else {
        return Ok(Rotation::Rotated(new));
    };
    if !ctx.transactions {
        // No transaction to abort: give the old token back by hand. Should that fail too,
        // the old token stays revoked without a successor (the caller logs in again).
        let undo = coll
            .update_one(
                doc! { "_id": docs::id(old.id), "revoked_at": docs::ts(now) },
                doc! { "$set": { "revoked_at": Bson::Null } },
            )
            .session(&mut *s)
            .await;
        if let Err(undo) = undo {
            tracing::warn!(token = %old.id, error = %undo.kind, "could not give back a claimed refresh token");
        }
    }
    if error::is_duplicate_key(&e) {
        return Err(StoreError::conflict(ENTITY, "the new token hash is already stored").into());
    }
    Err(e.into())
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
    async fn rotate(&self, old_hash: &str, new_hash: &str, ttl: TimeDelta) -> StoreResult<RefreshToken> {
        check_rotation(old_hash, new_hash, ttl)?;
        let ctx = self.ctx.clone();
        let (old_hash, new_hash) = (old_hash.to_string(), new_hash.to_string());
        let outcome = txn::run(&self.ctx, ENTITY, move |s| {
            let (ctx, old_hash, new_hash) = (ctx.clone(), old_hash.clone(), new_hash.clone());
            Box::pin(async move { rotate_in(&ctx, s, &old_hash, &new_hash, ttl).await })
        })
        .await?;
        match outcome {
            Rotation::Rotated(new) => {
                let email = self.emails([new.user_id]).await?.remove(&new.user_id);
                Ok(to_token(new, email))
            }
            Rotation::Reused { family_id, revoked } => {
                tracing::warn!(
                    tenant = %self.ctx.tenant_slug,
                    family = %family_id,
                    revoked,
                    "refresh token reused; family revoked"
                );
                Err(StoreError::TokenReused)
            }
            Rotation::Expired => Err(StoreError::TokenExpired),
            Rotation::Unknown => Err(StoreError::not_found(ENTITY, "hash")),
        }
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
        purge_in_batches(&self.ctx, docs::REFRESH_TOKENS, ENTITY, expired, batch_size).await
    }
}
