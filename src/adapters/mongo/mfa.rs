//! `MfaRepository` on `mfa_totp` (`_id` = user id), `mfa_recovery_codes` and
//! `mfa_trusted_devices`.
//!
//! A recovery code is used by one `find_one_and_update` that sets `used_at` only where it
//! is still null: of concurrent uses exactly one matches. Replacing the codes is one
//! transaction (bump the user's `mfa_recovery_sets` document, delete all, insert the new
//! set); the first write makes concurrent replacements conflict, so they serialise.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use mongodb::bson::{Bson, doc};
use uuid::Uuid;

use super::docs::{self, RecoveryCodeDoc, TotpDoc};
use super::txn;
use super::{MongoContext, error, purge_in_batches, upsert_with_retry};
use crate::error::{StoreError, StoreResult};
use crate::model::{MfaTotp, Timestamp, new_id};
use crate::repository::MfaRepository;

/// MFA records of one tenant.
pub(crate) struct MongoMfa {
    ctx: Arc<MongoContext>,
}

impl MongoMfa {
    pub(crate) fn new(ctx: Arc<MongoContext>) -> Self {
        MongoMfa { ctx }
    }

    /// `$set`s `fields` on the user's TOTP enrolment.
    ///
    /// Errors: `NotFound` when there is none.
    async fn set_totp(&self, user_id: Uuid, fields: mongodb::bson::Document) -> StoreResult<()> {
        let res = self
            .ctx
            .raw(docs::MFA_TOTP)?
            .update_one(doc! { "_id": docs::id(user_id) }, doc! { "$set": fields })
            .await
            .map_err(error::on("mfa_totp"))?;
        if res.matched_count == 0 {
            return Err(StoreError::not_found("mfa_totp", user_id));
        }
        Ok(())
    }
}

#[async_trait]
impl MfaRepository for MongoMfa {
    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "mfa.upsert_totp")
    )]
    async fn upsert_totp(&self, user_id: Uuid, secret_encrypted: &str) -> StoreResult<()> {
        crate::model::limits::check_text("secret_encrypted", secret_encrypted, crate::model::limits::TEXT)?;
        self.ctx.require_user(user_id).await?;
        let now = docs::ts(crate::model::now());
        let coll = self.ctx.raw(docs::MFA_TOTP)?;
        upsert_with_retry("mfa_totp", || {
            coll.update_one(
                doc! { "_id": docs::id(user_id) },
                doc! {
                    "$set": {
                        "secret_encrypted": secret_encrypted,
                        "confirmed_at": Bson::Null,
                        "last_used_at": Bson::Null,
                        "updated_at": now.clone(),
                    },
                    "$setOnInsert": { "created_at": now.clone() },
                },
            )
            .upsert(true)
        })
        .await?;
        Ok(())
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "mfa.confirm_totp")
    )]
    async fn confirm_totp(&self, user_id: Uuid) -> StoreResult<()> {
        let now = docs::ts(crate::model::now());
        self.set_totp(user_id, doc! { "confirmed_at": now.clone(), "updated_at": now }).await
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "mfa.get_totp")
    )]
    async fn get_totp(&self, user_id: Uuid) -> StoreResult<MfaTotp> {
        let d = self
            .ctx
            .coll::<TotpDoc>(docs::MFA_TOTP)?
            .find_one(doc! { "_id": docs::id(user_id) })
            .await
            .map_err(error::on("mfa_totp"))?
            .ok_or_else(|| StoreError::not_found("mfa_totp", user_id))?;
        Ok(MfaTotp {
            user_id: d.user_id,
            secret_encrypted: d.secret_encrypted,
            confirmed_at: d.confirmed_at,
            last_used_at: d.last_used_at,
            created_at: d.created_at,
            updated_at: d.updated_at,
        })
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "mfa.touch_totp")
    )]
    async fn touch_totp(&self, user_id: Uuid) -> StoreResult<()> {
        let now = docs::ts(crate::model::now());
        self.set_totp(user_id, doc! { "last_used_at": now.clone(), "updated_at": now }).await
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "mfa.disable_totp")
    )]
    async fn disable_totp(&self, user_id: Uuid) -> StoreResult<()> {
        self.ctx
            .raw(docs::MFA_TOTP)?
            .delete_one(doc! { "_id": docs::id(user_id) })
            .await
            .map_err(error::on("mfa_totp"))?;
        Ok(())
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "mfa.set_recovery_codes")
    )]
    async fn set_recovery_codes(&self, user_id: Uuid, hashes: &[String]) -> StoreResult<()> {
        crate::model::limits::check_texts("hashes", hashes, crate::model::limits::len::NAME)?;
        if hashes.iter().any(|h| h.trim().is_empty()) {
            return Err(StoreError::invalid("code_hash", "is empty"));
        }
        self.ctx.require_user(user_id).await?;
        let unique: BTreeSet<&String> = hashes.iter().collect();
        let now = crate::model::now();
        let codes: Vec<RecoveryCodeDoc> = unique
            .into_iter()
            .map(|h| RecoveryCodeDoc {
                id: new_id(),
                user_id,
                code_hash: h.clone(),
                used_at: None,
                created_at: now,
            })
            .collect();
        let ctx = self.ctx.clone();
        txn::run(&self.ctx, "mfa_recovery_code", move |s| {
            let (ctx, codes) = (ctx.clone(), codes.clone());
            Box::pin(async move {
                // Write the user's set document first: concurrent replacements conflict on
                // it (a transient error: the loser runs again after the winner), so one
                // complete set survives, never a mix.
                ctx.raw(docs::MFA_RECOVERY_SETS)?
                    .update_one(
                        doc! { "_id": docs::id(user_id) },
                        doc! { "$inc": { "generation": 1i64 }, "$set": { "updated_at": docs::ts(now) } },
                    )
                    .upsert(true)
                    .session(&mut *s)
                    .await?;
                let coll = ctx.coll::<RecoveryCodeDoc>(docs::MFA_RECOVERY_CODES)?;
                coll.delete_many(doc! { "user_id": docs::id(user_id) }).session(&mut *s).await?;
                if !codes.is_empty() {
                    coll.insert_many(&codes).session(&mut *s).await?;
                }
                Ok(())
            })
        })
        .await
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "mfa.delete_recovery_codes")
    )]
    async fn delete_recovery_codes(&self, user_id: Uuid) -> StoreResult<()> {
        self.ctx
            .raw(docs::MFA_RECOVERY_CODES)?
            .delete_many(doc! { "user_id": docs::id(user_id) })
            .await
            .map_err(error::on("mfa_recovery_code"))?;
        Ok(())
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "mfa.use_recovery_code")
    )]
    async fn use_recovery_code(&self, user_id: Uuid, code_hash: &str) -> StoreResult<bool> {
        let used = self
            .ctx
            .raw(docs::MFA_RECOVERY_CODES)?
            .find_one_and_update(
                doc! { "user_id": docs::id(user_id), "code_hash": code_hash, "used_at": Bson::Null },
                doc! { "$set": { "used_at": docs::ts(crate::model::now()) } },
            )
            .await
            .map_err(error::on("mfa_recovery_code"))?;
        Ok(used.is_some())
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "mfa.add_trusted_device")
    )]
    async fn add_trusted_device(
        &self,
        user_id: Uuid,
        device_hash: &str,
        expires_at: Timestamp,
    ) -> StoreResult<()> {
        crate::model::limits::check_text("device_hash", device_hash, crate::model::limits::len::NAME)?;
        crate::model::limits::check_time("expires_at", expires_at)?;
        crate::model::check_non_empty("device_hash", device_hash)?;
        self.ctx.require_user(user_id).await?;
        let now = docs::ts(crate::model::now());
        let coll = self.ctx.raw(docs::MFA_TRUSTED_DEVICES)?;
        upsert_with_retry("mfa_trusted_device", || {
            coll.update_one(
                doc! { "user_id": docs::id(user_id), "device_hash": device_hash },
                doc! {
                    "$set": { "expires_at": docs::ts(expires_at), "updated_at": now.clone() },
                    "$setOnInsert": { "_id": docs::id(new_id()), "created_at": now.clone() },
                },
            )
            .upsert(true)
        })
        .await?;
        Ok(())
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "mfa.is_trusted_device")
    )]
    async fn is_trusted_device(&self, user_id: Uuid, device_hash: &str) -> StoreResult<bool> {
        let n = self
            .ctx
            .raw(docs::MFA_TRUSTED_DEVICES)?
            .count_documents(doc! {
                "user_id": docs::id(user_id),
                "device_hash": device_hash,
                "expires_at": { "$gt": docs::ts(crate::model::now()) },
            })
            .await
            .map_err(error::on("mfa_trusted_device"))?;
        Ok(n > 0)
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "mfa.purge_expired")
    )]
    async fn purge_expired(&self, now: Timestamp, batch_size: u64) -> StoreResult<u64> {
        let now = crate::model::limits::clamp_time(now);
        purge_in_batches(
            &self.ctx,
            docs::MFA_TRUSTED_DEVICES,
            "mfa_trusted_device",
            doc! { "expires_at": { "$lt": docs::ts(now) } },
            batch_size,
        )
        .await
    }
}
