//! The end of a deleted tenant: [`Manager::purge_deleted_tenants`] drops the namespaces
//! that deleted tenants left behind once the operator's retention has passed.

use std::time::Duration;

use super::{Manager, substitute};
use crate::error::{StoreError, StoreResult};
use crate::model::DeletedTenant;
use crate::registry::ConnectConfig;

/// What a purge did (or, on a dry run, would do) with one deleted tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PurgeOutcome {
    /// Its namespace (made from the default template) was dropped and its tombstone
    /// removed; on a dry run, both would be.
    Dropped,
    /// It had its own database, which a purge never touches: left in place, tombstone
    /// removed (on a dry run, would be).
    OwnDatabaseLeft,
    /// Nothing was dropped and the tombstone is kept (so its namespace stays reserved); the
    /// message says why.
    Failed(String),
}

/// One deleted tenant a purge looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgeEntry {
    /// The tombstone.
    pub tenant: DeletedTenant,
    /// Where its data is (redacted DSN, and schema), when that is known.
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
    /// The deleted tenants whose tombstones are kept (their namespaces not yet purged),
    /// oldest first.
    ///
    /// Errors: `NotSupported` when the control plane keeps no tombstones; those of reading
    /// the control plane.
    pub async fn deleted_tenants(&self) -> StoreResult<Vec<DeletedTenant>> {
        self.inner.control.tenants()?.list_deleted().await
    }

    /// Purges the deleted tenants deleted at least `older_than` ago: for each, the
    /// namespace it had under the default template is dropped
    /// ([`Adapter::drop_namespace`](crate::registry::Adapter::drop_namespace)) and its
    /// tombstone removed, which frees the namespace for new tenants. A tenant that had its
    /// own `user_db` never has that database dropped: it is reported as
    /// [`PurgeOutcome::OwnDatabaseLeft`] and only its tombstone is removed. A failure
    /// (server down, a driver that cannot drop, a live tenant that uses the namespace) keeps
    /// the tombstone and is reported; the purge goes on with the next one. With `dry_run`,
    /// nothing is dropped or removed: the report says what would be.
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
            let target = template.as_ref().filter(|_| !tomb.own_db).map(|t| {
                let db = substitute(t, &tomb.namespace);
                match &db.schema {
                    Some(schema) => format!("{} schema {schema}", db.redacted_dsn()),
                    None => db.redacted_dsn(),
                }
            });
            let outcome = if let Some(user) = live.iter().find(|t| t.effective_namespace() == tomb.namespace)
            {
                PurgeOutcome::Failed(format!("live tenant {} uses namespace {}", user.slug, tomb.namespace))
            } else if tomb.own_db {
                PurgeOutcome::OwnDatabaseLeft
            } else if let Some(template) = &template {
                if dry_run {
                    PurgeOutcome::Dropped
                } else {
                    let cfg =
                        ConnectConfig::new(tomb.slug.clone(), tomb.id, substitute(template, &tomb.namespace));
                    match self.inner.registry.drop_namespace(&cfg).await {
                        Ok(()) => PurgeOutcome::Dropped,
                        Err(e) => PurgeOutcome::Failed(e.to_string()),
                    }
                }
            } else {
                PurgeOutcome::Failed("no default tenant database is configured".into())
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
