//! `EmailTokenRepository` on `email_tokens`, unique on `token_hash` (across kinds).
//!
//! Consuming is one `find_one_and_update` that sets `used_at` only on an unused, unexpired
//! token of the right kind: of concurrent consumers exactly one gets it. A miss is then
//! told apart (unknown, used or other kind → `NotFound`; expired → `TokenExpired`).

use std::sync::Arc;

use async_trait::async_trait;
use chrono::TimeDelta;
use mongodb::bson::{Bson, doc};
use mongodb::options::ReturnDocument;
use uuid::Uuid;

use super::docs::{self, EmailTokenDoc};
use super::{MongoContext, error, purge_in_batches};
use crate::error::{StoreError, StoreResult};
use crate::model::{EmailToken, EmailTokenKind, Timestamp, new_id};
use crate::repository::EmailTokenRepository;

const ENTITY: &str = "email_token";

fn to_token(d: EmailTokenDoc) -> StoreResult<EmailToken> {
    let kind =
        EmailTokenKind::parse(&d.kind).ok_or_else(|| error::corrupt(ENTITY, format!("kind {:?}", d.kind)))?;
    Ok(EmailToken {
        id: d.id,
        kind,
        user_id: d.user_id,
        token_hash: d.token_hash,
        sent_to: d.sent_to,
        created_at: d.created_at,
        expires_at: d.expires_at,
        used_at: d.used_at,
    })
}

/// E-mail tokens of one tenant.
pub(crate) struct MongoEmailTokens {
    ctx: Arc<MongoContext>,
}

impl MongoEmailTokens {
    pub(crate) fn new(ctx: Arc<MongoContext>) -> Self {
        MongoEmailTokens { ctx }
    }

    fn coll(&self) -> StoreResult<mongodb::Collection<EmailTokenDoc>> {
        self.ctx.coll(docs::EMAIL_TOKENS)
    }
}

#[async_trait]
impl EmailTokenRepository for MongoEmailTokens {
    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "email_tokens.create")
    )]
    async fn create(
        &self,
        kind: EmailTokenKind,
        user_id: Uuid,
        token_hash: &str,
        sent_to: &str,
        ttl: TimeDelta,
    ) -> StoreResult<Uuid> {
        crate::model::limits::check_text("token_hash", token_hash, crate::model::limits::len::NAME)?;
        crate::model::limits::check_text("sent_to", sent_to, crate::model::limits::len::EMAIL)?;
        crate::model::check_non_empty("token_hash", token_hash)?;
        let (sent_to, _) = crate::model::validate_email_field("sent_to", sent_to)?;
        if ttl <= TimeDelta::zero() {
            return Err(StoreError::invalid("ttl", "must be positive"));
        }
        let now = crate::model::now();
        let expires_at = crate::model::expiry(now, ttl)?;
        self.ctx.require_user(user_id).await?;
        let row = EmailTokenDoc {
            id: new_id(),
            kind: kind.as_str().to_string(),
            user_id,
            token_hash: token_hash.to_string(),
            sent_to: sent_to.clone(),
            created_at: now,
            expires_at,
            used_at: None,
        };
        self.coll()?.insert_one(&row).await.map_err(error::on(ENTITY))?;
        Ok(row.id)
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "email_tokens.consume")
    )]
    async fn consume(&self, kind: EmailTokenKind, token_hash: &str) -> StoreResult<EmailToken> {
        let now = crate::model::now();
        let coll = self.coll()?;
        let claimed = coll
            .find_one_and_update(
                doc! {
                    "token_hash": token_hash,
                    "kind": kind.as_str(),
                    "used_at": Bson::Null,
                    "expires_at": { "$gt": docs::ts(now) },
                },
                doc! { "$set": { "used_at": docs::ts(now) } },
            )
            .return_document(ReturnDocument::After)
            .await
            .map_err(error::on(ENTITY))?;
        if let Some(token) = claimed {
            return to_token(token);
        }
        let found = coll
            .find_one(doc! { "token_hash": token_hash, "kind": kind.as_str() })
            .await
            .map_err(error::on(ENTITY))?;
        match found {
            Some(t) if t.used_at.is_none() => Err(StoreError::TokenExpired),
            _ => Err(StoreError::not_found(ENTITY, "hash")),
        }
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "email_tokens.purge_expired")
    )]
    async fn purge_expired(&self, now: Timestamp, batch_size: u64) -> StoreResult<u64> {
        let now = crate::model::limits::clamp_time(now);
        purge_in_batches(
            &self.ctx,
            docs::EMAIL_TOKENS,
            ENTITY,
            doc! { "expires_at": { "$lt": docs::ts(now) } },
            batch_size,
        )
        .await
    }
}
