//! [`EmailTokenRepository`] over SeaORM: the `email_tokens` table (hashes only). Owns that
//! table and nothing else.
//!
//! `consume` is one conditional `UPDATE … SET used_at = now WHERE kind = ? AND token_hash = ?
//! AND used_at IS NULL AND expires_at > now`: of many concurrent callers exactly one sees a
//! row affected. The others (and callers of an expired token) then read the row to tell
//! `NotFound` from `TokenExpired`.

use std::sync::Arc;

use async_trait::async_trait;
use entity::email_tokens;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter};
use tracing::Instrument;
use uuid::Uuid;

use super::SqlContext;
use super::error::ErrCtx;
use super::purge::purge_in_batches;
use super::time::{from_db, from_db_opt, now_db, to_db};
use crate::error::{StoreError, StoreResult};
use crate::model::{EmailToken, EmailTokenKind, Timestamp, new_id};
use crate::repository::EmailTokenRepository;

/// The e-mail token repository of one tenant's SQL database.
pub(crate) struct SqlEmailTokens {
    ctx: Arc<SqlContext>,
}

impl SqlEmailTokens {
    /// The repository over the tenant's pool.
    pub(crate) fn new(ctx: Arc<SqlContext>) -> Self {
        SqlEmailTokens { ctx }
    }

    fn err(&self) -> ErrCtx {
        self.ctx.err("email_token")
    }

    fn to_domain(&self, row: email_tokens::Model) -> StoreResult<EmailToken> {
        let kind = EmailTokenKind::parse(&row.kind).ok_or_else(|| StoreError::Backend {
            backend: self.ctx.backend.name().to_string(),
            message: format!("email token {} has an unknown kind {:?}", row.id, row.kind),
            source: None,
        })?;
        Ok(EmailToken {
            id: row.id,
            kind,
            user_id: row.user_id,
            token_hash: row.token_hash,
            sent_to: row.sent_to,
            created_at: from_db(row.created_at),
            expires_at: from_db(row.expires_at),
            used_at: from_db_opt(row.used_at),
        })
    }
}

#[async_trait]
impl EmailTokenRepository for SqlEmailTokens {
    async fn create(
        &self,
        kind: EmailTokenKind,
        user_id: Uuid,
        token_hash: &str,
        sent_to: &str,
        ttl: chrono::TimeDelta,
    ) -> StoreResult<Uuid> {
        async move {
            crate::model::limits::check_text("token_hash", token_hash, crate::model::limits::len::NAME)?;
            crate::model::limits::check_text("sent_to", sent_to, crate::model::limits::len::EMAIL)?;
            crate::model::check_non_empty("token_hash", token_hash)?;
            let (sent_to, _) = crate::model::validate_email_field("sent_to", sent_to)?;
            if ttl <= chrono::TimeDelta::zero() {
                return Err(StoreError::invalid("ttl", "must be positive"));
            }
            let now = crate::model::now();
            let expires_at = crate::model::expiry(now, ttl)?;
            let id = new_id();
            let row = email_tokens::ActiveModel {
                id: Set(id),
                kind: Set(kind.as_str().to_string()),
                user_id: Set(user_id),
                token_hash: Set(token_hash.to_string()),
                sent_to: Set(sent_to.clone()),
                created_at: Set(to_db(now)),
                expires_at: Set(to_db(expires_at)),
                used_at: Set(None),
            };
            let err = self.err().parent("user", user_id);
            self.ctx
                .write("email_tokens.create", &err, |db| {
                    email_tokens::Entity::insert(row.clone()).exec_without_returning(db)
                })
                .await?;
            Ok(id)
        }
        .instrument(self.ctx.span("email_tokens.create"))
        .await
    }

    async fn consume(&self, kind: EmailTokenKind, token_hash: &str) -> StoreResult<EmailToken> {
        async move {
            let now = now_db();
            let result = self
                .ctx
                .write("email_tokens.consume", &self.err(), |db| {
                    email_tokens::Entity::update_many()
                        .col_expr(email_tokens::Column::UsedAt, Expr::value(now))
                        .filter(email_tokens::Column::Kind.eq(kind.as_str()))
                        .filter(email_tokens::Column::TokenHash.eq(token_hash))
                        .filter(email_tokens::Column::UsedAt.is_null())
                        .filter(email_tokens::Column::ExpiresAt.gt(now))
                        .exec(db)
                })
                .await?;
            let row = email_tokens::Entity::find()
                .filter(email_tokens::Column::Kind.eq(kind.as_str()))
                .filter(email_tokens::Column::TokenHash.eq(token_hash))
                .one(&self.ctx.db)
                .await
                .map_err(|e| self.err().map(e))?;
            let not_found = || StoreError::not_found("email_token", kind.as_str());
            let row = row.ok_or_else(not_found)?;
            if result.rows_affected == 1 {
                return self.to_domain(row);
            }
            if row.used_at.is_none() && row.expires_at <= now {
                return Err(StoreError::TokenExpired);
            }
            Err(not_found())
        }
        .instrument(self.ctx.span("email_tokens.consume"))
        .await
    }

    async fn purge_expired(&self, now: Timestamp, batch_size: u64) -> StoreResult<u64> {
        async move {
            let now = crate::model::limits::clamp_time(now);
            let expired = Condition::all().add(email_tokens::Column::ExpiresAt.lt(to_db(now)));
            purge_in_batches::<email_tokens::Entity>(
                &self.ctx,
                "email_tokens.purge_expired",
                &self.err(),
                email_tokens::Column::Id,
                expired,
                batch_size,
            )
            .await
        }
        .instrument(self.ctx.span("email_tokens.purge_expired"))
        .await
    }
}
