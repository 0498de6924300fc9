//! [`MfaRepository`] over SeaORM: `mfa_totp`, `mfa_recovery_codes` and
//! `mfa_trusted_devices`. Owns those three tables and nothing else.
//!
//! Races are settled by the database: a recovery code is used by one conditional `UPDATE`
//! (`… WHERE used_at IS NULL`, exactly one caller sees a row affected), TOTP and trusted
//! devices are written with `INSERT … ON CONFLICT`/`ON DUPLICATE KEY UPDATE`, and the
//! recovery codes are replaced in one transaction.

use std::collections::BTreeSet;

use std::sync::Arc;

use async_trait::async_trait;
use entity::{mfa_recovery_codes, mfa_totp, mfa_trusted_devices, users};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
};
use tracing::Instrument;
use uuid::Uuid;

use super::SqlContext;
use super::error::ErrCtx;
use super::purge::purge_in_batches;
use super::retry::with_retry;
use super::time::{from_db, from_db_opt, now_db, to_db};
use crate::error::{StoreError, StoreResult};
use crate::model::{MfaTotp, Timestamp, new_id};
use crate::repository::MfaRepository;

/// The MFA repository of one tenant's SQL database.
pub(crate) struct SqlMfa {
    ctx: Arc<SqlContext>,
}

impl SqlMfa {
    /// The repository over the tenant's pool.
    pub(crate) fn new(ctx: Arc<SqlContext>) -> Self {
        SqlMfa { ctx }
    }

    fn err(&self, entity: &'static str) -> ErrCtx {
        self.ctx.err(entity)
    }

    /// Sets `column` (and `updated_at`) of the user's TOTP enrolment to now.
    /// Errors: `NotFound` when the user has no enrolment.
    async fn stamp_totp(&self, user_id: Uuid, column: mfa_totp::Column) -> StoreResult<()> {
        let now = now_db();
        let result = self
            .ctx
            .write("mfa.stamp_totp", &self.err("mfa_totp"), |db| {
                mfa_totp::Entity::update_many()
                    .col_expr(column, now.into())
                    .col_expr(mfa_totp::Column::UpdatedAt, now.into())
                    .filter(mfa_totp::Column::UserId.eq(user_id))
                    .exec(db)
            })
            .await?;
        if result.rows_affected == 0 {
            return Err(StoreError::not_found("mfa_totp", user_id));
        }
        Ok(())
    }
}

fn totp_from_row(row: mfa_totp::Model) -> MfaTotp {
    MfaTotp {
        user_id: row.user_id,
        secret_encrypted: row.secret_encrypted,
        confirmed_at: from_db_opt(row.confirmed_at),
        last_used_at: from_db_opt(row.last_used_at),
        created_at: from_db(row.created_at),
        updated_at: from_db(row.updated_at),
    }
}

#[async_trait]
impl MfaRepository for SqlMfa {
    async fn upsert_totp(&self, user_id: Uuid, secret_encrypted: &str) -> StoreResult<()> {
        async move {
            crate::model::limits::check_text(
                "secret_encrypted",
                secret_encrypted,
                crate::model::limits::TEXT,
            )?;
            let ctx = self.err("mfa_totp").parent("user", user_id);
            let now = now_db();
            let row = mfa_totp::ActiveModel {
                user_id: Set(user_id),
                secret_encrypted: Set(secret_encrypted.to_string()),
                confirmed_at: Set(None),
                last_used_at: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            };
            self.ctx
                .write("mfa.upsert_totp", &ctx, |db| {
                    mfa_totp::Entity::insert(row.clone())
                        .on_conflict(
                            OnConflict::column(mfa_totp::Column::UserId)
                                .update_columns([
                                    mfa_totp::Column::SecretEncrypted,
                                    mfa_totp::Column::ConfirmedAt,
                                    mfa_totp::Column::LastUsedAt,
                                    mfa_totp::Column::UpdatedAt,
                                ])
                                .to_owned(),
                        )
                        .exec_without_returning(db)
                })
                .await?;
            Ok(())
        }
        .instrument(self.ctx.span("mfa.upsert_totp"))
        .await
    }

    async fn confirm_totp(&self, user_id: Uuid) -> StoreResult<()> {
        self.stamp_totp(user_id, mfa_totp::Column::ConfirmedAt)
            .instrument(self.ctx.span("mfa.confirm_totp"))
            .await
    }

    async fn get_totp(&self, user_id: Uuid) -> StoreResult<MfaTotp> {
        async move {
            mfa_totp::Entity::find_by_id(user_id)
                .one(&self.ctx.db)
                .await
                .map_err(|e| self.err("mfa_totp").map(e))?
                .map(totp_from_row)
                .ok_or_else(|| StoreError::not_found("mfa_totp", user_id))
        }
        .instrument(self.ctx.span("mfa.get_totp"))
        .await
    }

    async fn touch_totp(&self, user_id: Uuid) -> StoreResult<()> {
        self.stamp_totp(user_id, mfa_totp::Column::LastUsedAt)
            .instrument(self.ctx.span("mfa.touch_totp"))
            .await
    }

    async fn disable_totp(&self, user_id: Uuid) -> StoreResult<()> {
        async move {
            self.ctx
                .write("mfa.disable_totp", &self.err("mfa_totp"), |db| {
                    mfa_totp::Entity::delete_many().filter(mfa_totp::Column::UserId.eq(user_id)).exec(db)
                })
                .await?;
            Ok(())
        }
        .instrument(self.ctx.span("mfa.disable_totp"))
        .await
    }

    async fn set_recovery_codes(&self, user_id: Uuid, hashes: &[String]) -> StoreResult<()> {
        async move {
            crate::model::limits::check_texts("hashes", hashes, crate::model::limits::len::NAME)?;
            if hashes.iter().any(|h| h.trim().is_empty()) {
                return Err(StoreError::invalid("hashes", "a recovery code hash is empty"));
            }
            // Duplicates in the input are one code (the table is unique per user and hash).
            let unique: BTreeSet<&str> = hashes.iter().map(String::as_str).collect();
            let ctx = self.err("mfa_recovery_code").parent("user", user_id);
            with_retry("mfa.set_recovery_codes", || {
                let ctx = ctx.clone();
                let unique = unique.clone();
                async move {
                    let txn = self.ctx.begin_write().await.map_err(|e| ctx.map(e))?;
                    // Locking the user row serialises concurrent replacements for one user
                    // (SQLite has one writer already and ignores the clause).
                    let user = users::Entity::find_by_id(user_id)
                        .select_only()
                        .column(users::Column::Id)
                        .lock_exclusive()
                        .into_tuple::<Uuid>()
                        .one(&*txn)
                        .await
                        .map_err(|e| ctx.map(e))?;
                    if user.is_none() {
                        return Err(StoreError::not_found("user", user_id));
                    }
                    mfa_recovery_codes::Entity::delete_many()
                        .filter(mfa_recovery_codes::Column::UserId.eq(user_id))
                        .exec(&*txn)
                        .await
                        .map_err(|e| ctx.map(e))?;
                    if !unique.is_empty() {
                        let now = now_db();
                        let rows = unique.iter().map(|hash| mfa_recovery_codes::ActiveModel {
                            id: Set(new_id()),
                            user_id: Set(user_id),
                            code_hash: Set((*hash).to_string()),
                            used_at: Set(None),
                            created_at: Set(now),
                        });
                        mfa_recovery_codes::Entity::insert_many(rows)
                            .exec_without_returning(&*txn)
                            .await
                            .map_err(|e| ctx.map(e))?;
                    }
                    txn.commit().await.map_err(|e| ctx.map(e))
                }
            })
            .await
        }
        .instrument(self.ctx.span("mfa.set_recovery_codes"))
        .await
    }

    async fn delete_recovery_codes(&self, user_id: Uuid) -> StoreResult<()> {
        async move {
            self.ctx
                .write("mfa.delete_recovery_codes", &self.err("mfa_recovery_code"), |db| {
                    mfa_recovery_codes::Entity::delete_many()
                        .filter(mfa_recovery_codes::Column::UserId.eq(user_id))
                        .exec(db)
                })
                .await?;
            Ok(())
        }
        .instrument(self.ctx.span("mfa.delete_recovery_codes"))
        .await
    }

    async fn use_recovery_code(&self, user_id: Uuid, code_hash: &str) -> StoreResult<bool> {
        async move {
            // One conditional UPDATE: of many concurrent callers, only one can turn `used_at`
            // from NULL to a time, so only one sees a row affected.
            // Retried only when the database refused it as a whole (deadlock, serialization
            // failure), so a code is still used once.
            let result = self
                .ctx
                .write("mfa.use_recovery_code", &self.err("mfa_recovery_code"), |db| {
                    mfa_recovery_codes::Entity::update_many()
                        .col_expr(mfa_recovery_codes::Column::UsedAt, now_db().into())
                        .filter(mfa_recovery_codes::Column::UserId.eq(user_id))
                        .filter(mfa_recovery_codes::Column::CodeHash.eq(code_hash))
                        .filter(mfa_recovery_codes::Column::UsedAt.is_null())
                        .exec(db)
                })
                .await?;
            Ok(result.rows_affected == 1)
        }
        .instrument(self.ctx.span("mfa.use_recovery_code"))
        .await
    }

    async fn add_trusted_device(
        &self,
        user_id: Uuid,
        device_hash: &str,
        expires_at: Timestamp,
    ) -> StoreResult<()> {
        async move {
            crate::model::limits::check_text("device_hash", device_hash, crate::model::limits::len::NAME)?;
            crate::model::limits::check_time("expires_at", expires_at)?;
            crate::model::check_non_empty("device_hash", device_hash)?;
            let ctx = self.err("mfa_trusted_device").parent("user", user_id);
            let now = now_db();
            let row = mfa_trusted_devices::ActiveModel {
                id: Set(new_id()),
                user_id: Set(user_id),
                device_hash: Set(device_hash.to_string()),
                expires_at: Set(to_db(expires_at)),
                created_at: Set(now),
                updated_at: Set(now),
            };
            self.ctx
                .write("mfa.add_trusted_device", &ctx, |db| {
                    mfa_trusted_devices::Entity::insert(row.clone())
                        .on_conflict(
                            OnConflict::columns([
                                mfa_trusted_devices::Column::UserId,
                                mfa_trusted_devices::Column::DeviceHash,
                            ])
                            .update_columns([
                                mfa_trusted_devices::Column::ExpiresAt,
                                mfa_trusted_devices::Column::UpdatedAt,
                            ])
                            .to_owned(),
                        )
                        .exec_without_returning(db)
                })
                .await?;
            Ok(())
        }
        .instrument(self.ctx.span("mfa.add_trusted_device"))
        .await
    }

    async fn is_trusted_device(&self, user_id: Uuid, device_hash: &str) -> StoreResult<bool> {
        async move {
            let live = mfa_trusted_devices::Entity::find()
                .filter(mfa_trusted_devices::Column::UserId.eq(user_id))
                .filter(mfa_trusted_devices::Column::DeviceHash.eq(device_hash))
                .filter(mfa_trusted_devices::Column::ExpiresAt.gt(now_db()))
                .count(&self.ctx.db)
                .await
                .map_err(|e| self.err("mfa_trusted_device").map(e))?;
            Ok(live > 0)
        }
        .instrument(self.ctx.span("mfa.is_trusted_device"))
        .await
    }

    async fn purge_expired(&self, now: Timestamp, batch_size: u64) -> StoreResult<u64> {
        async move {
            let now = crate::model::limits::clamp_time(now);
            let expired = Condition::all().add(mfa_trusted_devices::Column::ExpiresAt.lt(to_db(now)));
            purge_in_batches::<mfa_trusted_devices::Entity>(
                &self.ctx,
                "mfa.purge_expired",
                &self.err("mfa_trusted_device"),
                mfa_trusted_devices::Column::Id,
                expired,
                batch_size,
            )
            .await
        }
        .instrument(self.ctx.span("mfa.purge_expired"))
        .await
    }
}
