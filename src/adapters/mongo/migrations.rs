//! The schema of a tenant's MongoDB database: its indexes, created by versioned steps and
//! recorded in `_migrations` (`{_id: version, name, applied_at}`), applied when the tenant's
//! database is provisioned (`ServerPool::provision`), like the SQL migrations.
//!
//! Safe for many replicas provisioning one tenant at once without a lock: creating an index
//! that exists with the same name and keys is a no-op, and the version record is an upsert
//! on its `_id` (a duplicate key from a racing replica means the step is recorded). A step is
//! recorded only after all its indexes exist, so an interrupted step runs again.
//! Steps are append-only: change the schema with a new step, never by editing one.

use std::collections::BTreeSet;

use futures_util::TryStreamExt;
use mongodb::bson::{Document, doc};
use mongodb::options::IndexOptions;
use mongodb::{Database, IndexModel};

use super::docs::*;
use super::error;
use crate::error::StoreResult;

/// One index of a step.
struct IndexSpec {
    collection: &'static str,
    name: &'static str,
    keys: &'static [&'static str],
    unique: bool,
}

/// A versioned schema step.
struct Step {
    version: i32,
    name: &'static str,
    indexes: &'static [IndexSpec],
}

const fn unique(collection: &'static str, name: &'static str, keys: &'static [&'static str]) -> IndexSpec {
    IndexSpec { collection, name, keys, unique: true }
}

const fn index(collection: &'static str, name: &'static str, keys: &'static [&'static str]) -> IndexSpec {
    IndexSpec { collection, name, keys, unique: false }
}

/// Every step, oldest first.
const STEPS: &[Step] = &[Step {
    version: 1,
    name: "data plane: unique keys and expiry indexes",
    indexes: &[
        unique(USERS, "uq_users_email_normalized", &["email_normalized"]),
        index(USERS, "idx_users_created_at", &["created_at", "_id"]),
        unique(IDENTITIES, "uq_identities_provider_user", &["provider", "provider_user_id"]),
        index(IDENTITIES, "idx_identities_user_provider", &["user_id", "provider"]),
        unique(REFRESH_TOKENS, "uq_refresh_tokens_token_hash", &["token_hash"]),
        index(REFRESH_TOKENS, "idx_refresh_tokens_user_id", &["user_id"]),
        index(REFRESH_TOKENS, "idx_refresh_tokens_client_id", &["client_id"]),
        index(REFRESH_TOKENS, "idx_refresh_tokens_family_id", &["family_id"]),
        index(REFRESH_TOKENS, "idx_refresh_tokens_expires_at", &["expires_at"]),
        index(REFRESH_TOKENS, "idx_refresh_tokens_revoked_at", &["revoked_at"]),
        index(REFRESH_TOKENS, "idx_refresh_tokens_issued_at", &["issued_at", "_id"]),
        unique(MFA_RECOVERY_CODES, "uq_mfa_recovery_codes_user_code", &["user_id", "code_hash"]),
        unique(MFA_TRUSTED_DEVICES, "uq_mfa_trusted_devices_user_device", &["user_id", "device_hash"]),
        index(MFA_TRUSTED_DEVICES, "idx_mfa_trusted_devices_expires_at", &["expires_at"]),
        unique(CONSENTS, "uq_consents_user_client", &["user_id", "client_id"]),
        index(CONSENTS, "idx_consents_granted_at", &["granted_at", "_id"]),
        index(CONSENTS, "idx_consents_client_id", &["client_id"]),
        unique(ROLES, "uq_roles_name", &["name"]),
        unique(USER_ROLES, "uq_user_roles_user_role", &["user_id", "role_id"]),
        index(USER_ROLES, "idx_user_roles_role_id", &["role_id"]),
        unique(SESSIONS, "uq_sessions_session_id_hash", &["session_id_hash"]),
        index(SESSIONS, "idx_sessions_user_id", &["user_id"]),
        index(SESSIONS, "idx_sessions_expires_at", &["expires_at"]),
        index(SESSIONS, "idx_sessions_last_activity", &["last_activity", "_id"]),
        unique(EMAIL_TOKENS, "uq_email_tokens_token_hash", &["token_hash"]),
        index(EMAIL_TOKENS, "idx_email_tokens_user_id", &["user_id"]),
        index(EMAIL_TOKENS, "idx_email_tokens_expires_at", &["expires_at"]),
    ],
}];

/// The newest schema version this build knows.
#[cfg(test)]
fn latest_version() -> i32 {
    STEPS.iter().map(|s| s.version).max().unwrap_or(0)
}

/// Applies the steps not yet recorded in `_migrations`. Returns how many ran.
pub(crate) async fn apply(db: &Database) -> StoreResult<usize> {
    let migrations = db.collection::<Document>(MIGRATIONS);
    let applied: BTreeSet<i32> = migrations
        .find(doc! {})
        .projection(doc! { "_id": 1 })
        .await
        .map_err(error::on("migration"))?
        .try_collect::<Vec<Document>>()
        .await
        .map_err(error::on("migration"))?
        .iter()
        .filter_map(|d| d.get_i32("_id").ok())
        .collect();
    let mut ran = 0;
    for step in STEPS.iter().filter(|s| !applied.contains(&s.version)) {
        apply_step(db, step).await?;
        let record = migrations
            .update_one(
                doc! { "_id": step.version },
                doc! { "$setOnInsert": {
                    "name": step.name,
                    "applied_at": super::docs::ts(crate::model::now()),
                } },
            )
            .upsert(true)
            .await;
        match record {
            Ok(_) => {}
            Err(e) if error::is_duplicate_key(&e) => {} // a racing replica recorded it
            Err(e) => return Err(error::map("migration", e)),
        }
        tracing::info!(
            database = %db.name(),
            version = step.version,
            step = step.name,
            "mongodb migration applied"
        );
        ran += 1;
    }
    Ok(ran)
}

async fn apply_step(db: &Database, step: &Step) -> StoreResult<()> {
    let collections: BTreeSet<&str> = step.indexes.iter().map(|i| i.collection).collect();
    for collection in collections {
        let models: Vec<IndexModel> = step
            .indexes
            .iter()
            .filter(|i| i.collection == collection)
            .map(|i| {
                let mut keys = Document::new();
                for key in i.keys {
                    keys.insert(*key, 1i32);
                }
                let options =
                    IndexOptions::builder().name(i.name.to_string()).unique(i.unique.then_some(true)).build();
                IndexModel::builder().keys(keys).options(options).build()
            })
            .collect();
        db.collection::<Document>(collection).create_indexes(models).await.map_err(error::on("migration"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_increase_and_index_names_are_unique() {
        let mut last = 0;
        let mut names = BTreeSet::new();
        for step in STEPS {
            assert!(step.version > last, "step versions must increase");
            last = step.version;
            for index in step.indexes {
                assert!(names.insert((index.collection, index.name)), "{} repeats", index.name);
                assert!(!index.keys.is_empty());
            }
        }
        assert_eq!(latest_version(), last);
    }
}
