//! [`ConsentRepository`] over SeaORM: the `consents` table, one row per (user, client),
//! scopes as a sorted JSON array. Owns that table and nothing else.
//!
//! `upsert` is one `INSERT … ON CONFLICT (user_id, client_id) DO UPDATE` (`ON DUPLICATE KEY
//! UPDATE` on MySQL): concurrent grants to different clients never touch the same row, and
//! concurrent grants to the same client end in one row; a deadlock or busy database is
//! retried.

use std::collections::BTreeSet;

use std::sync::Arc;

use async_trait::async_trait;
use entity::consents;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};
use tracing::Instrument;
use uuid::Uuid;

use super::SqlContext;
use super::error::ErrCtx;
use super::time::{from_db, from_db_opt, now_db};
use crate::error::{StoreError, StoreResult};
use crate::model::{Consent, new_id};
use crate::repository::ConsentRepository;

/// The consent repository of one tenant's SQL database.
pub(crate) struct SqlConsents {
    ctx: Arc<SqlContext>,
}

impl SqlConsents {
    /// The repository over the tenant's pool.
    pub(crate) fn new(ctx: Arc<SqlContext>) -> Self {
        SqlConsents { ctx }
    }

    fn err(&self) -> ErrCtx {
        self.ctx.err("consent")
    }

    async fn find(&self, user_id: Uuid, client_id: &str) -> StoreResult<Option<consents::Model>> {
        consents::Entity::find()
            .filter(consents::Column::UserId.eq(user_id))
            .filter(consents::Column::ClientId.eq(client_id))
            .one(&self.ctx.db)
            .await
            .map_err(|e| self.err().map(e))
    }

    fn to_domain(&self, row: consents::Model) -> StoreResult<Consent> {
        let scopes: BTreeSet<String> =
            serde_json::from_value(row.scopes).map_err(|e| StoreError::Backend {
                backend: self.ctx.backend.name().to_string(),
                message: format!("consent {}: scopes are not a JSON list of strings", row.id),
                source: Some(Box::new(e)),
            })?;
        Ok(Consent {
            id: row.id,
            user_id: row.user_id,
            client_id: row.client_id,
            scopes,
            granted_at: from_db(row.granted_at),
            updated_at: from_db(row.updated_at),
            revoked_at: from_db_opt(row.revoked_at),
        })
    }

    fn to_domain_all(&self, rows: Vec<consents::Model>) -> StoreResult<Vec<Consent>> {
        rows.into_iter().map(|row| self.to_domain(row)).collect()
    }
}

fn oldest_first(select: Select<consents::Entity>) -> Select<consents::Entity> {
    select.order_by_asc(consents::Column::GrantedAt).order_by_asc(consents::Column::Id)
}

fn active_only_if(select: Select<consents::Entity>, active_only: bool) -> Select<consents::Entity> {
    if active_only { select.filter(consents::Column::RevokedAt.is_null()) } else { select }
}

#[async_trait]
impl ConsentRepository for SqlConsents {
    async fn upsert(
        &self,
        user_id: Uuid,
        client_id: &str,
        scopes: &BTreeSet<String>,
    ) -> StoreResult<Consent> {
        async move {
            crate::model::limits::check_text("client_id", client_id, crate::model::limits::len::NAME)?;
            crate::model::limits::check_texts("scopes", scopes, crate::model::limits::len::NAME)?;
            crate::model::check_non_empty("client_id", client_id)?;
            let ctx = self.err().parent("user", user_id);
            let now = now_db();
            let row = consents::ActiveModel {
                id: Set(new_id()),
                user_id: Set(user_id),
                client_id: Set(client_id.to_string()),
                scopes: Set(serde_json::json!(scopes)),
                granted_at: Set(now),
                updated_at: Set(now),
                revoked_at: Set(None),
            };
            self.ctx
                .write("consents.upsert", &ctx, |db| {
                    consents::Entity::insert(row.clone())
                        .on_conflict(
                            OnConflict::columns([consents::Column::UserId, consents::Column::ClientId])
                                .update_columns([
                                    consents::Column::Scopes,
                                    consents::Column::UpdatedAt,
                                    consents::Column::RevokedAt,
                                ])
                                .to_owned(),
                        )
                        .exec_without_returning(db)
                })
                .await?;
            let stored = self.find(user_id, client_id).await?;
            // Only a concurrent user deletion can remove the row between the two statements.
            let stored = stored.ok_or_else(|| StoreError::not_found("user", user_id))?;
            self.to_domain(stored)
        }
        .instrument(self.ctx.span("consents.upsert"))
        .await
    }

    async fn get(&self, user_id: Uuid, client_id: &str) -> StoreResult<Consent> {
        async move {
            match self.find(user_id, client_id).await? {
                Some(row) => self.to_domain(row),
                None => Err(StoreError::not_found("consent", format!("{user_id}/{client_id}"))),
            }
        }
        .instrument(self.ctx.span("consents.get"))
        .await
    }

    async fn list_by_user(&self, user_id: Uuid, active_only: bool) -> StoreResult<Vec<Consent>> {
        async move {
            let select = consents::Entity::find().filter(consents::Column::UserId.eq(user_id));
            let rows = oldest_first(active_only_if(select, active_only))
                .all(&self.ctx.db)
                .await
                .map_err(|e| self.err().map(e))?;
            self.to_domain_all(rows)
        }
        .instrument(self.ctx.span("consents.list_by_user"))
        .await
    }

    async fn list_all(&self, limit: u64, offset: u64, active_only: bool) -> StoreResult<(Vec<Consent>, u64)> {
        async move {
            let limit = crate::model::page_size(limit);
            let select = active_only_if(consents::Entity::find(), active_only);
            let total = select.clone().count(&self.ctx.db).await.map_err(|e| self.err().map(e))?;
            let Some(offset) = crate::model::limits::list_offset(offset) else {
                return Ok((Vec::new(), total));
            };
            let rows = oldest_first(select)
                .limit(limit)
                .offset(offset)
                .all(&self.ctx.db)
                .await
                .map_err(|e| self.err().map(e))?;
            Ok((self.to_domain_all(rows)?, total))
        }
        .instrument(self.ctx.span("consents.list_all"))
        .await
    }

    async fn revoke(&self, user_id: Uuid, client_id: &str) -> StoreResult<()> {
        async move {
            let now = now_db();
            let result = self
                .ctx
                .write("consents.revoke", &self.err(), |db| {
                    consents::Entity::update_many()
                        .col_expr(consents::Column::RevokedAt, now.into())
                        .col_expr(consents::Column::UpdatedAt, now.into())
                        .filter(consents::Column::UserId.eq(user_id))
                        .filter(consents::Column::ClientId.eq(client_id))
                        .filter(consents::Column::RevokedAt.is_null())
                        .exec(db)
                })
                .await?;
            if result.rows_affected == 0 && self.find(user_id, client_id).await?.is_none() {
                return Err(StoreError::not_found("consent", format!("{user_id}/{client_id}")));
            }
            Ok(())
        }
        .instrument(self.ctx.span("consents.revoke"))
        .await
    }
}
