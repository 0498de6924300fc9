//! The end of a deleted tenant: [`Manager::purge_deleted_tenants`] drops the namespaces
//! that deleted tenants left behind once the operator's retention has passed.

use std::time::Duration;

use super::{Manager, namespace_key, substitute};
use crate::error::{StoreError, StoreResult};
use crate::mode::DbConfig;
use crate::model::{DeletedTenant, Tenant};
use crate::registry::ConnectConfig;

/// What a purge did (or, on a dry run, would do) with one deleted tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PurgeOutcome {
    /// Its namespace (made from the default template) was dropped and its tombstone
    /// removed; on a dry run, both would be.
    Dropped,
    /// It had its own `user_db`: its template namespace (the default template with its
    /// namespace, which the store allocated to it: data from before it moved, or its own
    /// database when that was this namespace) was dropped and its tombstone removed; an own
    /// database anywhere else is never touched and is left in place. On a dry run, would be.
    OwnDatabaseLeft,
    /// Nothing was dropped and the tombstone is kept (so its namespace stays reserved and is
    /// never handed out again): no default template is configured, the drop failed or is not
    /// supported, a live tenant uses the namespace, or the tombstone's namespace does not
    /// match [`NAMESPACE_PATTERN`](crate::model::NAMESPACE_PATTERN). The message says why.
    Failed(String),
}

/// One deleted tenant a purge looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgeEntry {
    /// The tombstone.
    pub tenant: DeletedTenant,
    /// Its template namespace (redacted DSN, and schema), when a default template is
    /// configured and the tombstone's namespace is valid.
    pub target: Option<String>,
    /// What happened.
    pub outcome: PurgeOutcome,
}

/// The report of [`Manager::purge_deleted_tenants`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeReport {
    /// Whether this was a dry run (nothing dropped, no tombstone removed).
    pub dry_run: bool,
    /// The deleted tenants older than the retention, oldest first, with what happened.
    pub purged: Vec<PurgeEntry>,
    /// The deleted tenants younger than the retention, left alone.
    pub kept: Vec<DeletedTenant>,
}

impl Manager {
    /// The live tenant (its slug) whose namespace is `namespace`, or whose database (its
    /// own `user_db`, else the template's) resolves to the same [`namespace_key`] as
    /// `default_db` (the template with `namespace`): compared as resolved keys, not raw
    /// strings, so that no spelling of a live tenant's namespace is dropped. A key that
    /// cannot be computed for `default_db` counts as used (nothing is dropped).
    fn live_user_of(
        &self,
        live: &[Tenant],
        namespace: &str,
        default_db: Option<&DbConfig>,
    ) -> Option<String> {
        if let Some(user) = live.iter().find(|t| t.effective_namespace() == namespace) {
            return Some(user.slug.clone());
        }
        let default_db = default_db?;
        let key = match namespace_key(default_db) {
            Ok(Some(key)) => key,
            Ok(None) => return None,
            Err(e) => return Some(format!("(unknown: {e})")),
        };
        let template = self.inner.template()?;
        live.iter()
            .find(|t| {
                let theirs = namespace_key(&substitute(template, &t.effective_namespace()));
                let own = self.inner.own_db(t).ok().flatten().map(|db| namespace_key(&db));
                [Some(theirs), own].into_iter().flatten().any(|k| matches!(k, Ok(Some(k)) if k == key))
            })
            .map(|t| t.slug.clone())
    }

    /// The deleted tenants whose tombstones are kept (their namespaces not yet purged),
    /// oldest first.
    ///
    /// Errors: `NotSupported` when the control plane keeps no tombstones; those of reading
    /// the control plane.
    pub async fn deleted_tenants(&self) -> StoreResult<Vec<DeletedTenant>> {
        self.inner.control.tenants()?.list_deleted().await
    }

    /// Purges the deleted tenants deleted at least `older_than` ago: for each, its template
    /// namespace (the default template with the tombstone's namespace, which the store
    /// allocated to it) is dropped
    /// ([`Adapter::drop_namespace`](crate::registry::Adapter::drop_namespace)) and its
    /// tombstone removed, which frees the namespace for new tenants. This holds also for a
    /// tenant that had its own `user_db` ([`PurgeOutcome::OwnDatabaseLeft`]): its template
    /// namespace is dropped (it may hold data from before it moved, or be that own
    /// database); an own database anywhere else is never dropped and is left in place.
    /// When the template namespace cannot be dropped (no default template configured, the
    /// drop failed, `NotSupported`), when a live tenant uses it (compared as resolved
    /// [`namespace_key`]s of the live tenants' databases, not as strings), or when the
    /// tombstone's namespace does not match
    /// [`NAMESPACE_PATTERN`](crate::model::NAMESPACE_PATTERN) (a hand-edited file), nothing
    /// is dropped, the tombstone is kept (the namespace is never handed out again) and the
    /// report says why ([`PurgeOutcome::Failed`]); the purge goes on with the next one. With
    /// `dry_run`, nothing is dropped or removed: the report says what would be.
    ///
    /// Errors: those of listing the tombstones (`NotSupported` when the control plane keeps
    /// none); per-tenant failures are in the report, not errors.
    pub async fn purge_deleted_tenants(
        &self,
        older_than: Duration,
        dry_run: bool,
    ) -> StoreResult<PurgeReport> {
        let tenants = self.inner.control.tenants()?;
        let deleted = tenants.list_deleted().await?;
        let retention = chrono::TimeDelta::from_std(older_than).unwrap_or(chrono::TimeDelta::MAX);
        let cutoff = crate::model::now().checked_sub_signed(retention);
        let mut report = PurgeReport { dry_run, ..PurgeReport::default() };
        let live = tenants.list().await?;
        for tomb in deleted {
            if cutoff.is_none_or(|cutoff| tomb.deleted_at > cutoff) {
                report.kept.push(tomb);
                continue;
            }
            let template = self.inner.template().cloned();
            let valid = crate::model::is_valid_tenant_namespace(&tomb.namespace);
            let default_db = template.as_ref().filter(|_| valid).map(|t| substitute(t, &tomb.namespace));
            let target = default_db.as_ref().map(|db| match &db.schema {
                Some(schema) => format!("{} schema {schema}", db.redacted_dsn()),
                None => db.redacted_dsn(),
            });
            let outcome = if !valid {
                PurgeOutcome::Failed(format!(
                    "the tombstone's namespace {:?} does not match {}; refused (fix or remove the tombstone by hand)",
                    tomb.namespace,
                    crate::model::NAMESPACE_PATTERN
                ))
            } else if let Some(user) = self.live_user_of(&live, &tomb.namespace, default_db.as_ref()) {
                PurgeOutcome::Failed(format!("live tenant {user} uses namespace {}", tomb.namespace))
            } else if let Some(db) = default_db {
                let done = if tomb.own_db { PurgeOutcome::OwnDatabaseLeft } else { PurgeOutcome::Dropped };
                if dry_run {
                    done
                } else {
                    let cfg = ConnectConfig::new(tomb.slug.clone(), tomb.id, db);
                    match self.inner.drop_namespace(&cfg).await {
                        Ok(()) => done,
                        Err(e) => PurgeOutcome::Failed(format!("dropping the template namespace: {e}")),
                    }
                }
            } else {
                PurgeOutcome::Failed(
                    "no default tenant database is configured, so its template namespace cannot be dropped"
                        .into(),
                )
            };
            let outcome = match outcome {
                done @ (PurgeOutcome::Dropped | PurgeOutcome::OwnDatabaseLeft) if !dry_run => {
                    match tenants.forget_deleted(tomb.id).await {
                        Ok(()) | Err(StoreError::NotFound { .. }) => done,
                        Err(e) => PurgeOutcome::Failed(format!("dropped, but the tombstone stays: {e}")),
                    }
                }
                other => other,
            };
            tracing::info!(tenant = %tomb.slug, id = %tomb.id, namespace = %tomb.namespace, ?outcome, dry_run, "purge of a deleted tenant");
            report.purged.push(PurgeEntry { tenant: tomb, target, outcome });
        }
        Ok(report)
    }
}
