//! `TokenRepository` on the `refresh_tokens` table (hashes only).
//!
//! Rotation is one write transaction whose claim is its last write: read the old token,
//! insert the successor, then the conditional
//! `UPDATE … SET revoked_at = stamp WHERE id = old AND revoked_at IS NULL AND expires_at >
//! stamp`, `stamp` taken right before it, and commit. Exactly one of any number of
//! concurrent rotations updates the row (PostgreSQL and MySQL re-check the condition on the
//! row lock the winner held; SQLite runs writers one at a time with `BEGIN IMMEDIATE`); a
//! loser rolls its successor back. Claiming last puts the winner's `revoked_at` as close to
//! its commit as one statement allows, which is what tells a concurrent loser from a replay;
//! the connection also records when its own commits returned
//! ([`RecentRotations`](crate::adapters::rotations::RecentRotations)), which closes the gap
//! between the stamp and the commit for calls on the same replica.
//!
//! A call that did not claim then reads the committed state ([`SqlTokens::settle`]):
//! unknown → `NotFound`; not revoked → `TokenExpired`; rotated (a successor with
//! `rotated_from` = old id) and the call started no later than the rotation's `revoked_at`
//! (or, on this replica, than its commit), or saw the token active in its own attempt →
//! `Conflict`, nothing written; rotated,
//! within the reuse interval and the successor still active → that successor; else reuse:
//! the whole family is revoked (like every bulk revocation, by [`SqlTokens::revoke_settled`],
//! which leaves no successor of a concurrently committing rotation active) and the call returns
//! `TokenReused`. Deadlocks and busy errors run the transaction again ([`with_retry`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{TimeDelta, Utc};
use entity::{refresh_tokens, users};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};
use tracing::Instrument;
use uuid::Uuid;

use super::SqlContext;
use super::retry::with_retry;
use super::template::{Template, TokenByHash, TokenById};
use super::time::{from_db, from_db_opt, now_db, to_db};
use super::users::like_contains;
use crate::error::{StoreError, StoreResult};
use crate::model::{
    CreateRefreshTokenInput, RefreshToken, Timestamp, TokenFilter, TokenStats, TokenStatus, check_non_empty,
    check_rotation, check_ttl, expiry, new_id,
};
use crate::repository::TokenRepository;

/// Refresh tokens of one tenant.
pub(crate) struct SqlTokens {
    ctx: Arc<SqlContext>,
}

fn to_token(m: refresh_tokens::Model, user: Option<users::Model>) -> RefreshToken {
    RefreshToken {
        id: m.id,
        user_id: m.user_id,
        user_email: user.map(|u| u.email),
        client_id: m.client_id,
        token_hash: m.token_hash,
        issued_at: from_db(m.issued_at),
        expires_at: from_db(m.expires_at),
        rotated_from: m.rotated_from,
        revoked_at: from_db_opt(m.revoked_at),
        family_id: m.family_id,
    }
}

/// Active: not revoked, not expired at `now`.
fn active_at(now: Timestamp) -> Condition {
    Condition::all()
        .add(refresh_tokens::Column::RevokedAt.is_null())
        .add(refresh_tokens::Column::ExpiresAt.gt(to_db(now)))
}

/// What the outcome of a rotation's transaction was.
enum Rotation {
    /// Claimed and committed, with this successor.
    Rotated(refresh_tokens::Model),
    /// Not claimed: the token was not active, or another call claimed it first
    /// (`saw_active`: this call saw it active in its own attempt).
    NotClaimed { saw_active: bool },
    /// No token has the old hash.
    Unknown,
}

/// Why a rotation that did not claim the token failed (or what it returns).
enum Settled {
    /// A replay within the reuse interval: this still-active successor.
    Successor(refresh_tokens::Model),
    /// Revoked or replayed: the family was revoked.
    Reused,
    /// A concurrent rotation won.
    Concurrent,
    /// Past its expiry.
    Expired,
    /// Gone.
    Unknown,
}

impl SqlTokens {
    pub(crate) fn new(ctx: Arc<SqlContext>) -> Self {
        SqlTokens { ctx }
    }

    fn err(&self) -> super::error::ErrCtx {
        self.ctx.err("refresh_token")
    }

    fn filtered(filter: &TokenFilter, now: Timestamp) -> Select<refresh_tokens::Entity> {
        let mut cond = Condition::all();
        if let Some(user_id) = filter.user_id {
            cond = cond.add(refresh_tokens::Column::UserId.eq(user_id));
        }
        if let Some(client_id) = &filter.client_id {
            cond = cond.add(refresh_tokens::Column::ClientId.eq(client_id.clone()));
        }
        match filter.status {
            None => {}
            Some(TokenStatus::Active) => cond = cond.add(active_at(now)),
            Some(TokenStatus::Expired) => {
                cond = cond
                    .add(refresh_tokens::Column::RevokedAt.is_null())
                    .add(refresh_tokens::Column::ExpiresAt.lte(to_db(now)))
            }
            Some(TokenStatus::Revoked) => cond = cond.add(refresh_tokens::Column::RevokedAt.is_not_null()),
        }
        if let Some(search) = filter.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            cond = cond.add(
                refresh_tokens::Column::UserId.in_subquery(
                    Query::select()
                        .column(users::Column::Id)
                        .from(users::Entity)
                        .and_where(Expr::col(users::Column::EmailNormalized).like(like_contains(search)))
                        .to_owned(),
                ),
            );
        }
        refresh_tokens::Entity::find().filter(cond)
    }

    /// The token template `T` finds for `args`, with its user's e-mail.
    async fn find_one<T: Template<Row = (refresh_tokens::Model, Option<users::Model>)>>(
        &self,
        args: T::Args<'_>,
        key: impl std::fmt::Display,
    ) -> StoreResult<RefreshToken> {
        let row = self.ctx.db.one::<T>(args).await;
        match row.map_err(|e| self.err().map(e))? {
            Some((token, user)) => Ok(to_token(token, user)),
            None => Err(StoreError::not_found("refresh_token", key)),
        }
    }

    async fn create_once(&self, row: &refresh_tokens::ActiveModel, user_id: Uuid) -> StoreResult<()> {
        let err = |e| self.err().parent("user", user_id).map(e);
        let txn = self.ctx.begin_write().await.map_err(err)?;
        refresh_tokens::Entity::insert(row.clone()).exec_without_returning(&*txn).await.map_err(err)?;
        txn.commit().await.map_err(err)
    }

    async fn rotate_once(&self, old_hash: &str, new_hash: &str, ttl: TimeDelta) -> StoreResult<Rotation> {
        let err = |e| self.err().map(e);
        let txn = self.ctx.begin_write().await.map_err(err)?;
        let old = refresh_tokens::Entity::find()
            .filter(refresh_tokens::Column::TokenHash.eq(old_hash))
            .one(&*txn)
            .await
            .map_err(err)?;
        let Some(old) = old else {
            txn.rollback().await.map_err(err)?;
            return Ok(Rotation::Unknown);
        };
        let now = crate::model::now();
        if old.revoked_at.is_some() || from_db(old.expires_at) <= now {
            txn.rollback().await.map_err(err)?;
            return Ok(Rotation::NotClaimed { saw_active: false });
        }
        let new = refresh_tokens::Model {
            id: new_id(),
            user_id: old.user_id,
            client_id: old.client_id.clone(),
            token_hash: new_hash.to_string(),
            issued_at: to_db(now),
            expires_at: to_db(expiry(now, ttl)?),
            rotated_from: Some(old.id),
            revoked_at: None,
            family_id: old.family_id,
        };
        refresh_tokens::Entity::insert(refresh_tokens::ActiveModel::from(new.clone()))
            .exec_without_returning(&*txn)
            .await
            .map_err(|e| match err(e) {
                StoreError::Conflict { entity, .. } => {
                    StoreError::Conflict { entity, message: "the new token hash is already stored".into() }
                }
                other => other,
            })?;
        // The claim, last: its stamp is the rotation's time, as late as one statement allows.
        let stamp = crate::model::now();
        let claimed = refresh_tokens::Entity::update_many()
            .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(Some(to_db(stamp))))
            .filter(refresh_tokens::Column::Id.eq(old.id))
            .filter(active_at(stamp))
            .exec(&*txn)
            .await
            .map_err(err)?;
        if claimed.rows_affected != 1 {
            // Another call claimed it (or it expired meanwhile): drop the successor.
            txn.rollback().await.map_err(err)?;
            return Ok(Rotation::NotClaimed { saw_active: true });
        }
        let rotations = &self.ctx.rotations();
        rotations.committing(old.id);
        if let Err(e) = txn.commit().await {
            rotations.abandoned(old.id);
            return Err(err(e));
        }
        rotations.committed(old.id);
        Ok(Rotation::Rotated(new))
    }

    /// Why a rotation that started at `start` did not claim `old_hash`, read from the
    /// committed state (see the module documentation); revokes the family on reuse.
    async fn settle(
        &self,
        old_hash: &str,
        start: Timestamp,
        saw_active: bool,
        reuse_interval: TimeDelta,
    ) -> StoreResult<Settled> {
        let err = |e| self.err().map(e);
        let db = &self.ctx.db;
        let Some(old) = refresh_tokens::Entity::find()
            .filter(refresh_tokens::Column::TokenHash.eq(old_hash))
            .one(db)
            .await
            .map_err(err)?
        else {
            return Ok(Settled::Unknown);
        };
        let now = crate::model::now();
        let Some(revoked_at) = from_db_opt(old.revoked_at) else {
            // Not revoked and not claimed: expired (or, were it still active, a claim that
            // lost to an expiry race; the caller may try again).
            return Ok(if from_db(old.expires_at) <= now { Settled::Expired } else { Settled::Concurrent });
        };
        let successor = refresh_tokens::Entity::find()
            .filter(refresh_tokens::Column::FamilyId.eq(old.family_id))
            .filter(refresh_tokens::Column::RotatedFrom.eq(old.id))
            .order_by_asc(refresh_tokens::Column::IssuedAt)
            .one(db)
            .await
            .map_err(err)?;
        if let Some(successor) = successor {
            if saw_active || start <= revoked_at || self.ctx.rotations().started_before_commit(old.id, start)
            {
                return Ok(Settled::Concurrent);
            }
            let active = successor.revoked_at.is_none() && from_db(successor.expires_at) > now;
            if active && !reuse_interval.is_zero() && now - revoked_at <= reuse_interval {
                return Ok(Settled::Successor(successor));
            }
        }
        // Reuse of a rotated or revoked token: revoke the whole family.
        let family = Condition::all()
            .add(refresh_tokens::Column::FamilyId.eq(old.family_id))
            .add(refresh_tokens::Column::RevokedAt.is_null());
        self.revoke_settled("tokens.rotate", &family).await?;
        Ok(Settled::Reused)
    }

    async fn revoke_where_once(&self, cond: &Condition) -> StoreResult<u64> {
        let err = |e| self.err().map(e);
        let txn = self.ctx.begin_write().await.map_err(err)?;
        let res = refresh_tokens::Entity::update_many()
            .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(Some(now_db())))
            .filter(cond.clone())
            .exec(&*txn)
            .await
            .map_err(err)?;
        txn.commit().await.map_err(err)?;
        Ok(res.rows_affected)
    }

    async fn revoke_active_where(&self, operation: &str, cond: Condition) -> StoreResult<u64> {
        let cond = cond.add(active_at(crate::model::now()));
        self.revoke_settled(operation, &cond).await
    }

    /// A bulk revocation (by user, by client, all, a family on reuse) that leaves no
    /// successor of a concurrently committing rotation active: revoking `UPDATE`s until a
    /// fresh read finds no row matching `cond`; the count of all passes.
    ///
    /// Why more than one statement: under READ COMMITTED (PostgreSQL) the `UPDATE`'s
    /// snapshot is taken when it starts; when it then waits on the lock of a token a
    /// rotation has claimed, it re-checks that row only once the rotation commits (now
    /// revoked: skipped) and never sees the successor the rotation inserted, which was not
    /// in its snapshot. Every statement takes a new snapshot, so a read after the `UPDATE`
    /// returned sees every rotation it waited on as committed, successor included. Locking
    /// first (`SELECT … FOR UPDATE`) has the same blind spot; a second `UPDATE` alone
    /// would miss a rotation of the successor it waited on in turn. The read runs on the
    /// pool (not in a transaction) so MySQL's REPEATABLE READ snapshot cannot hide rows
    /// from it; MySQL's `UPDATE` (a locking read) and SQLite (one writer at a time) need
    /// the second pass only as a check: one cheap indexed count. A rotation whose claim
    /// comes after that read finds its token revoked and loses. Tokens that new logins
    /// issue after the call began are left alone. Bounded: rotations that keep adding
    /// successors through every pass give `Conflict`.
    async fn revoke_settled(&self, operation: &str, cond: &Condition) -> StoreResult<u64> {
        const MAX_PASSES: usize = 8;
        // Tokens a new login issues after this call began are not its business (else a steady
        // stream of logins to a busy client would keep every pass busy): a pass takes the
        // tokens issued before the start, and the successors of rotations (`rotated_from`
        // set), which is what a concurrent rotation of an older token leaves.
        let start = to_db(crate::model::now());
        let cond = cond.clone().add(
            Condition::any()
                .add(refresh_tokens::Column::IssuedAt.lte(start))
                .add(refresh_tokens::Column::RotatedFrom.is_not_null()),
        );
        let cond = &cond;
        let mut total = 0;
        for _ in 0..MAX_PASSES {
            total += with_retry(operation, || self.revoke_where_once(cond)).await?;
            let left = refresh_tokens::Entity::find()
                .filter(cond.clone())
                .count(&self.ctx.db)
                .await
                .map_err(|e| self.err().map(e))?;
            if left == 0 {
                return Ok(total);
            }
        }
        Err(StoreError::conflict(
            "refresh_token",
            "tokens kept being issued during the revocation; try again",
        ))
    }

    async fn delete_ids_once(&self, ids: &[Uuid], expired: &Condition) -> StoreResult<u64> {
        let err = |e| self.err().map(e);
        let txn = self.ctx.begin_write().await.map_err(err)?;
        let res = refresh_tokens::Entity::delete_many()
            .filter(refresh_tokens::Column::Id.is_in(ids.iter().copied()))
            .filter(expired.clone())
            .exec(&*txn)
            .await
            .map_err(err)?;
        txn.commit().await.map_err(err)?;
        Ok(res.rows_affected)
    }
}

#[async_trait]
impl TokenRepository for SqlTokens {
    async fn create(&self, input: CreateRefreshTokenInput) -> StoreResult<Uuid> {
        async move {
            crate::model::limits::check_refresh_token(&input)?;
            check_non_empty("token_hash", &input.token_hash)?;
            check_non_empty("client_id", &input.client_id)?;
            check_ttl(input.ttl)?;
            let now = crate::model::now();
            let id = new_id();
            let row = refresh_tokens::ActiveModel::from(refresh_tokens::Model {
                id,
                user_id: input.user_id,
                client_id: input.client_id,
                token_hash: input.token_hash,
                issued_at: to_db(now),
                expires_at: to_db(expiry(now, input.ttl)?),
                rotated_from: None,
                revoked_at: None,
                family_id: new_id(),
            });
            with_retry("tokens.create", || self.create_once(&row, input.user_id)).await?;
            Ok(id)
        }
        .instrument(self.ctx.span("tokens.create"))
        .await
    }

    async fn get_by_hash(&self, token_hash: &str) -> StoreResult<RefreshToken> {
        async move { self.find_one::<TokenByHash>(token_hash, "hash").await }
            .instrument(self.ctx.span("tokens.get_by_hash"))
            .await
    }

    async fn get_by_id(&self, id: Uuid) -> StoreResult<RefreshToken> {
        async move { self.find_one::<TokenById>(id, id).await }
            .instrument(self.ctx.span("tokens.get_by_id"))
            .await
    }

    async fn rotate_with_reuse_interval(
        &self,
        old_hash: &str,
        new_hash: &str,
        ttl: TimeDelta,
        reuse_interval: TimeDelta,
    ) -> StoreResult<RefreshToken> {
        // The call's start, before any I/O: what tells a concurrent loser from a replay.
        let start = crate::model::now();
        async move {
            check_rotation(old_hash, new_hash, ttl, reuse_interval)?;
            // Let callers already woken on this thread take their start first: an embedded
            // SQLite answers so fast that a rotation can commit within one poll, before
            // calls released at the same moment have even started (and would be replays).
            tokio::task::yield_now().await;
            let new = match with_retry("tokens.rotate", || self.rotate_once(old_hash, new_hash, ttl)).await? {
                Rotation::Rotated(new) => new,
                Rotation::Unknown => return Err(StoreError::not_found("refresh_token", "hash")),
                Rotation::NotClaimed { saw_active } => {
                    match self.settle(old_hash, start, saw_active, reuse_interval).await? {
                        Settled::Successor(successor) => successor,
                        Settled::Reused => {
                            tracing::warn!(tenant = %self.ctx.tenant_slug, "refresh token reuse detected; family revoked");
                            return Err(StoreError::TokenReused);
                        }
                        Settled::Concurrent => {
                            return Err(StoreError::conflict(
                                "refresh_token",
                                "a concurrent rotation of this token won",
                            ));
                        }
                        Settled::Expired => return Err(StoreError::TokenExpired),
                        Settled::Unknown => return Err(StoreError::not_found("refresh_token", "hash")),
                    }
                }
            };
            let email =
                users::Entity::find_by_id(new.user_id).one(&self.ctx.db).await.map_err(|e| self.err().map(e))?;
            Ok(to_token(new, email))
        }
        .instrument(self.ctx.span("tokens.rotate"))
        .await
    }

    async fn revoke(&self, id: Uuid) -> StoreResult<()> {
        async move {
            let cond = Condition::all()
                .add(refresh_tokens::Column::Id.eq(id))
                .add(refresh_tokens::Column::RevokedAt.is_null());
            let revoked = with_retry("tokens.revoke", || self.revoke_where_once(&cond)).await?;
            if revoked == 0 {
                // Idempotent for a known token; NotFound for an unknown one.
                let exists = refresh_tokens::Entity::find_by_id(id)
                    .count(&self.ctx.db)
                    .await
                    .map_err(|e| self.err().map(e))?;
                if exists == 0 {
                    return Err(StoreError::not_found("refresh_token", id));
                }
            }
            Ok(())
        }
        .instrument(self.ctx.span("tokens.revoke"))
        .await
    }

    async fn revoke_all_by_user(&self, user_id: Uuid, client_id: Option<&str>) -> StoreResult<u64> {
        async move {
            let mut cond = Condition::all().add(refresh_tokens::Column::UserId.eq(user_id));
            if let Some(client_id) = client_id {
                cond = cond.add(refresh_tokens::Column::ClientId.eq(client_id));
            }
            self.revoke_active_where("tokens.revoke_all_by_user", cond).await
        }
        .instrument(self.ctx.span("tokens.revoke_all_by_user"))
        .await
    }

    async fn revoke_all_by_client(&self, client_id: &str) -> StoreResult<u64> {
        async move {
            let cond = Condition::all().add(refresh_tokens::Column::ClientId.eq(client_id));
            self.revoke_active_where("tokens.revoke_all_by_client", cond).await
        }
        .instrument(self.ctx.span("tokens.revoke_all_by_client"))
        .await
    }

    async fn revoke_all(&self) -> StoreResult<u64> {
        async move { self.revoke_active_where("tokens.revoke_all", Condition::all()).await }
            .instrument(self.ctx.span("tokens.revoke_all"))
            .await
    }

    async fn list(&self, filter: &TokenFilter) -> StoreResult<Vec<RefreshToken>> {
        async move {
            crate::model::limits::check_search(filter.search.as_deref())?;
            let Some((limit, offset)) = crate::model::limits::page_window(filter.page, filter.page_size)
            else {
                return Ok(Vec::new());
            };
            let rows = Self::filtered(filter, crate::model::now())
                .order_by_desc(refresh_tokens::Column::IssuedAt)
                .order_by_desc(refresh_tokens::Column::Id)
                .limit(limit)
                .offset(offset)
                .find_also_related(users::Entity)
                .all(&self.ctx.db)
                .await
                .map_err(|e| self.err().map(e))?;
            Ok(rows.into_iter().map(|(t, u)| to_token(t, u)).collect())
        }
        .instrument(self.ctx.span("tokens.list"))
        .await
    }

    async fn count(&self, filter: &TokenFilter) -> StoreResult<u64> {
        async move {
            crate::model::limits::check_search(filter.search.as_deref())?;
            Self::filtered(filter, crate::model::now())
                .count(&self.ctx.db)
                .await
                .map_err(|e| self.err().map(e))
        }
        .instrument(self.ctx.span("tokens.count"))
        .await
    }

    async fn stats(&self) -> StoreResult<TokenStats> {
        async move {
            let err = |e| self.err().map(e);
            let now = crate::model::now();
            let midnight = now.date_naive().and_hms_opt(0, 0, 0).map(|t| t.and_utc()).unwrap_or(now);
            let db = &self.ctx.db;
            let issued_today = refresh_tokens::Entity::find()
                .filter(refresh_tokens::Column::IssuedAt.gte(to_db(midnight)))
                .count(db)
                .await
                .map_err(err)?;
            let revoked_today = refresh_tokens::Entity::find()
                .filter(refresh_tokens::Column::RevokedAt.gte(to_db(midnight)))
                .count(db)
                .await
                .map_err(err)?;
            // Lifetimes of the active tokens, summed here: date arithmetic differs per engine.
            let active: Vec<(
                String,
                sea_orm::prelude::DateTimeWithTimeZone,
                sea_orm::prelude::DateTimeWithTimeZone,
            )> = refresh_tokens::Entity::find()
                .select_only()
                .column(refresh_tokens::Column::ClientId)
                .column(refresh_tokens::Column::IssuedAt)
                .column(refresh_tokens::Column::ExpiresAt)
                .filter(active_at(now))
                .into_tuple()
                .all(db)
                .await
                .map_err(err)?;
            let mut by_client: BTreeMap<String, u64> = BTreeMap::new();
            let mut total_seconds = 0f64;
            for (client, issued, expires) in &active {
                *by_client.entry(client.clone()).or_default() += 1;
                total_seconds += (from_db(*expires) - from_db(*issued)).num_milliseconds() as f64 / 1000.0;
            }
            let total_active = active.len() as u64;
            let avg_lifetime_hours =
                if total_active == 0 { 0.0 } else { total_seconds / total_active as f64 / 3600.0 };
            Ok(TokenStats { total_active, issued_today, revoked_today, avg_lifetime_hours, by_client })
        }
        .instrument(self.ctx.span("tokens.stats"))
        .await
    }

    async fn purge_expired(&self, now: Timestamp, batch_size: u64) -> StoreResult<u64> {
        async move {
            let now = crate::model::limits::clamp_time(now);
            let now = now.with_timezone(&Utc);
            let revoked_before = crate::model::limits::clamp_time(now - TimeDelta::days(1));
            let expired = Condition::any()
                .add(refresh_tokens::Column::ExpiresAt.lt(to_db(now)))
                .add(refresh_tokens::Column::RevokedAt.lt(to_db(revoked_before)));
            // A family with a token active at `now` keeps all its tokens (reuse detection).
            let other = Alias::new("family_member");
            let family_alive = Query::select()
                .expr(Expr::val(1))
                .from_as(refresh_tokens::Entity, other.clone())
                .and_where(
                    Expr::col((other.clone(), refresh_tokens::Column::FamilyId))
                        .equals((refresh_tokens::Entity, refresh_tokens::Column::FamilyId)),
                )
                .and_where(Expr::col((other.clone(), refresh_tokens::Column::RevokedAt)).is_null())
                .and_where(Expr::col((other, refresh_tokens::Column::ExpiresAt)).gt(to_db(now)))
                .to_owned();
            let candidates = Condition::all().add(expired.clone()).add(Expr::exists(family_alive).not());
            let batch = crate::model::purge_batch(batch_size);
            let mut total = 0;
            loop {
                let rows: Vec<(Uuid, Uuid)> = refresh_tokens::Entity::find()
                    .select_only()
                    .column(refresh_tokens::Column::Id)
                    .column(refresh_tokens::Column::FamilyId)
                    .filter(candidates.clone())
                    .order_by_asc(refresh_tokens::Column::Id)
                    .limit(batch)
                    .into_tuple()
                    .all(&self.ctx.db)
                    .await
                    .map_err(|e| self.err().map(e))?;
                if rows.is_empty() {
                    break;
                }
                let selected = rows.len() as u64;
                let ids: Vec<Uuid> = rows.iter().map(|(id, _)| *id).collect();
                let mut families: Vec<Uuid> = rows.iter().map(|(_, family)| *family).collect();
                families.sort_unstable();
                families.dedup();
                // The delete checks again that the families are dead. MySQL refuses a
                // subquery on the table a DELETE deletes from (error 1093) unless it is a
                // derived table, which it materialises (DISTINCT keeps it from being merged).
                let alive = Query::select()
                    .distinct()
                    .column(refresh_tokens::Column::FamilyId)
                    .from(refresh_tokens::Entity)
                    .and_where(refresh_tokens::Column::FamilyId.is_in(families))
                    .and_where(refresh_tokens::Column::RevokedAt.is_null())
                    .and_where(refresh_tokens::Column::ExpiresAt.gt(to_db(now)))
                    .to_owned();
                let alive_families = Alias::new("alive_families");
                let alive = Query::select()
                    .column((alive_families.clone(), refresh_tokens::Column::FamilyId))
                    .from_subquery(alive, alive_families)
                    .to_owned();
                let delete = Condition::all()
                    .add(expired.clone())
                    .add(refresh_tokens::Column::FamilyId.not_in_subquery(alive));
                total += with_retry("tokens.purge_expired", || self.delete_ids_once(&ids, &delete)).await?;
                if selected < batch {
                    break;
                }
            }
            Ok(total)
        }
        .instrument(self.ctx.span("tokens.purge_expired"))
        .await
    }
}
