//! [`SessionRepository`] over SeaORM: the `sessions` table, keyed for callers by the hash of
//! the session id. Owns that table and nothing else.
//!
//! Revocations are conditional `UPDATE`s (`… WHERE revoked_at IS NULL`), so a session keeps
//! its first revocation; "active" means neither revoked nor past `expires_at`, the same
//! definition as [`SessionStatus::Active`].

use std::collections::BTreeMap;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{TimeZone, Utc};
use entity::sessions;
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};
use tracing::Instrument;
use uuid::Uuid;

use super::SqlContext;
use super::error::ErrCtx;
use super::purge::purge_in_batches;
use super::time::{from_db, from_db_opt, now_db, to_db};
use crate::error::{StoreError, StoreResult};
use crate::model::{
    CreateSessionInput, Session, SessionFilter, SessionStats, SessionStatus, Timestamp, new_id,
};
use crate::repository::SessionRepository;

/// The session repository of one tenant's SQL database.
pub(crate) struct SqlSessions {
    ctx: Arc<SqlContext>,
}

impl SqlSessions {
    /// The repository over the tenant's pool.
    pub(crate) fn new(ctx: Arc<SqlContext>) -> Self {
        SqlSessions { ctx }
    }

    fn err(&self) -> ErrCtx {
        self.ctx.err("session")
    }

    async fn find(&self, session_id_hash: &str) -> StoreResult<Option<sessions::Model>> {
        sessions::Entity::find()
            .filter(sessions::Column::SessionIdHash.eq(session_id_hash))
            .one(&self.ctx.db)
            .await
            .map_err(|e| self.err().map(e))
    }

    /// Revokes the active sessions matching `scope`; returns how many.
    async fn revoke_where(&self, scope: Condition, by: &str, reason: Option<&str>) -> StoreResult<u64> {
        let now = now_db();
        let result = self
            .ctx
            .write("sessions.revoke_where", &self.err(), |db| {
                sessions::Entity::update_many()
                    .col_expr(sessions::Column::RevokedAt, Expr::value(now))
                    .col_expr(sessions::Column::RevokedBy, Expr::value(by.to_string()))
                    .col_expr(sessions::Column::RevokeReason, Expr::value(reason.map(str::to_string)))
                    .filter(scope.clone())
                    .filter(active_at(now))
                    .exec(db)
            })
            .await?;
        Ok(result.rows_affected)
    }
}

fn from_row(row: sessions::Model) -> Session {
    Session {
        id: row.id,
        user_id: row.user_id,
        session_id_hash: row.session_id_hash,
        ip_address: row.ip_address,
        user_agent: row.user_agent,
        device_type: row.device_type,
        browser: row.browser,
        os: row.os,
        country_code: row.country_code,
        country: row.country,
        city: row.city,
        created_at: from_db(row.created_at),
        last_activity: from_db(row.last_activity),
        expires_at: from_db(row.expires_at),
        revoked_at: from_db_opt(row.revoked_at),
        revoked_by: row.revoked_by,
        revoke_reason: row.revoke_reason,
    }
}

/// Neither revoked nor expired at `now`.
fn active_at(now: sea_orm::prelude::DateTimeWithTimeZone) -> Condition {
    Condition::all().add(sessions::Column::RevokedAt.is_null()).add(sessions::Column::ExpiresAt.gt(now))
}

fn filtered(filter: &SessionFilter) -> Select<sessions::Entity> {
    let now = now_db();
    let mut select = sessions::Entity::find();
    if let Some(user_id) = filter.user_id {
        select = select.filter(sessions::Column::UserId.eq(user_id));
    }
    if let Some(device_type) = &filter.device_type {
        select = select.filter(sessions::Column::DeviceType.eq(device_type.as_str()));
    }
    select = match filter.status {
        None => select,
        Some(SessionStatus::Active) => select.filter(active_at(now)),
        Some(SessionStatus::Expired) => {
            select.filter(sessions::Column::RevokedAt.is_null()).filter(sessions::Column::ExpiresAt.lte(now))
        }
        Some(SessionStatus::Revoked) => select.filter(sessions::Column::RevokedAt.is_not_null()),
    };
    if let Some(search) = filter.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let mut any = Condition::any();
        for column in [
            sessions::Column::IpAddress,
            sessions::Column::UserAgent,
            sessions::Column::Browser,
            sessions::Column::Os,
            sessions::Column::Country,
            sessions::Column::City,
        ] {
            any =
                any.add(Expr::expr(Func::lower(Expr::col(column))).like(super::users::like_contains(search)));
        }
        select = select.filter(any);
    }
    select
}

fn bump(map: &mut BTreeMap<String, u64>, key: Option<String>, count: i64) {
    let key = key.filter(|k| !k.is_empty()).unwrap_or_else(|| "unknown".to_string());
    *map.entry(key).or_default() += u64::try_from(count).unwrap_or(0);
}

#[async_trait]
impl SessionRepository for SqlSessions {
    async fn create(&self, input: CreateSessionInput) -> StoreResult<Session> {
        async move {
            crate::model::limits::check_session(&input)?;
            crate::model::check_non_empty("session_id_hash", &input.session_id_hash)?;
            let now = now_db();
            let row = sessions::Model {
                id: new_id(),
                user_id: input.user_id,
                session_id_hash: input.session_id_hash,
                ip_address: input.ip_address,
                user_agent: input.user_agent,
                device_type: input.device_type,
                browser: input.browser,
                os: input.os,
                country_code: input.country_code,
                country: input.country,
                city: input.city,
                created_at: now,
                last_activity: now,
                expires_at: to_db(input.expires_at),
                revoked_at: None,
                revoked_by: None,
                revoke_reason: None,
            };
            let active: sessions::ActiveModel = row.clone().into();
            let err = self.err().parent("user", input.user_id);
            self.ctx
                .write("sessions.create", &err, |db| {
                    sessions::Entity::insert(active.clone()).exec_without_returning(db)
                })
                .await?;
            Ok(from_row(row))
        }
        .instrument(self.ctx.span("sessions.create"))
        .await
    }

    async fn get(&self, session_id_hash: &str) -> StoreResult<Session> {
        async move {
            self.find(session_id_hash)
                .await?
                .map(from_row)
                .ok_or_else(|| StoreError::not_found("session", session_id_hash))
        }
        .instrument(self.ctx.span("sessions.get"))
        .await
    }

    async fn touch(&self, session_id_hash: &str, at: Timestamp) -> StoreResult<()> {
        async move {
            crate::model::limits::check_time("at", at)?;
            let result = self
                .ctx
                .write("sessions.touch", &self.err(), |db| {
                    sessions::Entity::update_many()
                        .col_expr(sessions::Column::LastActivity, Expr::value(to_db(at)))
                        .filter(sessions::Column::SessionIdHash.eq(session_id_hash))
                        .exec(db)
                })
                .await?;
            if result.rows_affected == 0 {
                return Err(StoreError::not_found("session", session_id_hash));
            }
            Ok(())
        }
        .instrument(self.ctx.span("sessions.touch"))
        .await
    }

    async fn list(&self, filter: &SessionFilter) -> StoreResult<(Vec<Session>, u64)> {
        async move {
            crate::model::limits::check_search(filter.search.as_deref())?;
            let total = filtered(filter).count(&self.ctx.db).await.map_err(|e| self.err().map(e))?;
            let Some((page_size, offset)) = crate::model::limits::page_window(filter.page, filter.page_size)
            else {
                return Ok((Vec::new(), total));
            };
            let rows = filtered(filter)
                .order_by_desc(sessions::Column::LastActivity)
                .order_by_desc(sessions::Column::Id)
                .limit(page_size)
                .offset(offset)
                .all(&self.ctx.db)
                .await
                .map_err(|e| self.err().map(e))?;
            Ok((rows.into_iter().map(from_row).collect(), total))
        }
        .instrument(self.ctx.span("sessions.list"))
        .await
    }

    async fn revoke(&self, session_id_hash: &str, by: &str, reason: Option<&str>) -> StoreResult<()> {
        async move {
            crate::model::limits::check_actor(by, reason)?;
            let result = self
                .ctx
                .write("sessions.revoke", &self.err(), |db| {
                    sessions::Entity::update_many()
                        .col_expr(sessions::Column::RevokedAt, Expr::value(now_db()))
                        .col_expr(sessions::Column::RevokedBy, Expr::value(by.to_string()))
                        .col_expr(sessions::Column::RevokeReason, Expr::value(reason.map(str::to_string)))
                        .filter(sessions::Column::SessionIdHash.eq(session_id_hash))
                        .filter(sessions::Column::RevokedAt.is_null())
                        .exec(db)
                })
                .await?;
            if result.rows_affected == 0 && self.find(session_id_hash).await?.is_none() {
                return Err(StoreError::not_found("session", session_id_hash));
            }
            Ok(())
        }
        .instrument(self.ctx.span("sessions.revoke"))
        .await
    }

    async fn revoke_all_by_user(&self, user_id: Uuid, by: &str, reason: Option<&str>) -> StoreResult<u64> {
        async move {
            crate::model::limits::check_actor(by, reason)?;
            self.revoke_where(Condition::all().add(sessions::Column::UserId.eq(user_id)), by, reason).await
        }
        .instrument(self.ctx.span("sessions.revoke_all_by_user"))
        .await
    }

    async fn revoke_all(&self, by: &str, reason: Option<&str>) -> StoreResult<u64> {
        crate::model::limits::check_actor(by, reason)?;
        async move { self.revoke_where(Condition::all(), by, reason).await }
            .instrument(self.ctx.span("sessions.revoke_all"))
            .await
    }

    async fn purge_expired(&self, now: Timestamp, batch_size: u64) -> StoreResult<u64> {
        async move {
            let now = crate::model::limits::clamp_time(now);
            let expired = Condition::all().add(sessions::Column::ExpiresAt.lt(to_db(now)));
            purge_in_batches::<sessions::Entity>(
                &self.ctx,
                "sessions.purge_expired",
                &self.err(),
                sessions::Column::Id,
                expired,
                batch_size,
            )
            .await
        }
        .instrument(self.ctx.span("sessions.purge_expired"))
        .await
    }

    async fn stats(&self) -> StoreResult<SessionStats> {
        async move {
            let now = now_db();
            let ctx = self.err();
            let total_active = sessions::Entity::find()
                .filter(active_at(now))
                .count(&self.ctx.db)
                .await
                .map_err(|e| ctx.map(e))?;
            let today = crate::model::now().date_naive();
            let midnight = Utc.from_utc_datetime(&today.and_hms_opt(0, 0, 0).unwrap_or_default());
            let total_today = sessions::Entity::find()
                .filter(sessions::Column::CreatedAt.gte(to_db(midnight)))
                .count(&self.ctx.db)
                .await
                .map_err(|e| ctx.map(e))?;

            let mut stats = SessionStats { total_active, total_today, ..Default::default() };
            for (column, map) in [
                (sessions::Column::DeviceType, &mut stats.by_device),
                (sessions::Column::CountryCode, &mut stats.by_country),
            ] {
                let groups: Vec<(Option<String>, i64)> = sessions::Entity::find()
                    .select_only()
                    .column(column)
                    .column_as(Expr::col(sessions::Column::Id).count(), "n")
                    .filter(active_at(now))
                    .group_by(column)
                    .into_tuple()
                    .all(&self.ctx.db)
                    .await
                    .map_err(|e| ctx.map(e))?;
                for (key, count) in groups {
                    bump(map, key, count);
                }
            }
            Ok(stats)
        }
        .instrument(self.ctx.span("sessions.stats"))
        .await
    }
}
