//! FS tree ⇄ global database: what `hellojohn-store sync export|import <fs-root>` run.
//!
//! The database stores the same serde documents as the files, so a round trip is lossless
//! and secrets stay sealed (`enc:v1:`) both ways; no key is needed to move them. Import
//! validates the whole tree first (the FS validator, plus decryption checks when a key is
//! given), then replaces the database's control plane in one transaction. Export writes
//! every file through the FS adapter (validated, atomic, with its `$schema` line) and the
//! JSON Schemas under `<root>/schemas/` (as the FS store does before its first write,
//! [`write_schemas`]), and removes tenant folders the database lacks.

use std::path::Path;

use super::{ControlPlaneState, GlobalControlPlane};
use crate::adapters::fs::schema::{AdminRefreshTokensFile, AdminsFile, ClientsFile, FileKind, ScopesFile};
use crate::adapters::fs::tree::validate_tree_with_key;
use crate::adapters::fs::{FsControlPlane, storage, write_schemas};
use crate::crypto::SecretBox;
use crate::error::{StoreError, StoreResult};

/// Added, updated and removed objects of one kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncCounts {
    /// Present now, absent before.
    pub added: u64,
    /// Present in both, different.
    pub updated: u64,
    /// Present before, absent now.
    pub removed: u64,
}

/// What an import changed (or an export would write differently).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Tenants.
    pub tenants: SyncCounts,
    /// Clients.
    pub clients: SyncCounts,
    /// Scopes (as stored; synthesised system scopes are not counted).
    pub scopes: SyncCounts,
    /// Admins.
    pub admins: SyncCounts,
    /// Admin refresh tokens.
    pub admin_refresh_tokens: SyncCounts,
}

impl SyncReport {
    /// `true` when nothing changed.
    pub fn is_empty(&self) -> bool {
        *self == SyncReport::default()
    }
}

impl std::fmt::Display for SyncReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rows = [
            ("tenants", self.tenants),
            ("clients", self.clients),
            ("scopes", self.scopes),
            ("admins", self.admins),
            ("admin refresh tokens", self.admin_refresh_tokens),
        ];
        for (name, c) in rows {
            writeln!(f, "{name:<21} {} added, {} updated, {} removed", c.added, c.updated, c.removed)?;
        }
        Ok(())
    }
}

fn count<K: Ord, V: PartialEq>(
    old: impl IntoIterator<Item = (K, V)>,
    new: impl IntoIterator<Item = (K, V)>,
) -> SyncCounts {
    let old: std::collections::BTreeMap<K, V> = old.into_iter().collect();
    let new: std::collections::BTreeMap<K, V> = new.into_iter().collect();
    let mut c = SyncCounts::default();
    for (k, v) in &new {
        match old.get(k) {
            None => c.added += 1,
            Some(o) if o != v => c.updated += 1,
            Some(_) => {}
        }
    }
    c.removed = old.keys().filter(|k| !new.contains_key(*k)).count() as u64;
    c
}

/// The differences between two states.
pub fn compare(old: &ControlPlaneState, new: &ControlPlaneState) -> SyncReport {
    let per_tenant = |s: &ControlPlaneState, scopes: bool| -> Vec<((String, String), serde_json::Value)> {
        let mut out = Vec::new();
        if scopes {
            for (slug, list) in &s.scopes {
                for x in list {
                    out.push(((slug.clone(), x.name.clone()), serde_json::to_value(x).unwrap_or_default()));
                }
            }
        } else {
            for (slug, list) in &s.clients {
                for x in list {
                    out.push((
                        (slug.clone(), x.client_id.clone()),
                        serde_json::to_value(x).unwrap_or_default(),
                    ));
                }
            }
        }
        out
    };
    SyncReport {
        tenants: count(old.tenants.iter(), new.tenants.iter()),
        clients: count(per_tenant(old, false), per_tenant(new, false)),
        scopes: count(per_tenant(old, true), per_tenant(new, true)),
        admins: count(old.admins.iter().map(|a| (a.id, a)), new.admins.iter().map(|a| (a.id, a))),
        admin_refresh_tokens: count(
            old.tokens.iter().map(|t| (t.token_hash.clone(), t)),
            new.tokens.iter().map(|t| (t.token_hash.clone(), t)),
        ),
    }
}

/// Reads a whole FS tree after validating it.
///
/// Errors: `InvalidConfig` with every problem of the tree; `InvalidInput` when `root` is
/// not a folder.
pub fn read_tree(root: &Path, secrets: Option<&SecretBox>) -> StoreResult<ControlPlaneState> {
    let problems = validate_tree_with_key(root, secrets)?;
    if !problems.is_empty() {
        return Err(StoreError::InvalidConfig { problems });
    }
    let fs = FsControlPlane::new(root, secrets.cloned());
    let mut state = ControlPlaneState::default();
    for slug in fs.tenant_slugs()? {
        let dir = fs.tenant_dir(&slug)?;
        let tenant = fs.load_tenant(&slug)?;
        let mut clients: ClientsFile =
            fs.load(FileKind::Clients, &dir.join(FileKind::Clients.file_name()), None)?.unwrap_or_default();
        let mut scopes: ScopesFile =
            fs.load(FileKind::Scopes, &dir.join(FileKind::Scopes.file_name()), None)?.unwrap_or_default();
        clients.clients.sort_by(|a, b| a.client_id.cmp(&b.client_id));
        scopes.scopes.sort_by(|a, b| a.name.cmp(&b.name));
        state.clients.insert(slug.clone(), clients.clients);
        state.scopes.insert(slug.clone(), scopes.scopes);
        state.tenants.insert(slug, tenant);
    }
    let admins_dir = fs.admins_dir();
    let admins: AdminsFile =
        fs.load(FileKind::Admins, &admins_dir.join(FileKind::Admins.file_name()), None)?.unwrap_or_default();
    let tokens: AdminRefreshTokensFile = fs
        .load(FileKind::AdminRefreshTokens, &admins_dir.join(FileKind::AdminRefreshTokens.file_name()), None)?
        .unwrap_or_default();
    state.admins = admins.admins;
    crate::adapters::control::sort_admins(&mut state.admins);
    state.tokens = tokens.refresh_tokens;
    crate::adapters::control::sort_tokens(&mut state.tokens);
    Ok(state)
}

/// Writes `state` as an FS tree under `root` (created if missing): every file through the
/// FS adapter, the JSON Schemas under `schemas/` that are missing or differ
/// ([`write_schemas`]); tenant folders absent from `state` are removed (the export mirrors
/// the database; it is not a merge).
///
/// Takes the FS store's own locks (`tenants` for the whole export, each `tenant-<slug>`
/// while that tenant is written, then `admins`), so a process writing the same tree through
/// the FS store never interleaves with the export.
///
/// Errors: `InvalidInput` when a document would not validate; `Backend` for I/O.
pub async fn write_tree(state: &ControlPlaneState, root: &Path) -> StoreResult<()> {
    let fs = FsControlPlane::new(root, None);
    let _all = fs.lock("tenants").await?;
    {
        let _schemas = fs.lock("schemas").await?;
        write_schemas(root)?;
    }
    for slug in fs.tenant_slugs()? {
        if !state.tenants.contains_key(&slug) {
            let _one = fs.lock(&format!("tenant-{slug}")).await?;
            let dir = fs.tenant_dir(&slug)?;
            std::fs::remove_dir_all(&dir)
                .map_err(|e| storage::io_error(format!("removing {}", dir.display()), e))?;
        }
    }
    for (slug, tenant) in &state.tenants {
        let _one = fs.lock(&format!("tenant-{slug}")).await?;
        let dir = fs.tenant_dir(slug)?;
        storage::create_dir_private(&dir)?;
        fs.store(FileKind::Tenant, &dir.join(FileKind::Tenant.file_name()), tenant, Some(slug))?;
        let clients = ClientsFile { clients: state.clients.get(slug).cloned().unwrap_or_default() };
        fs.store(FileKind::Clients, &dir.join(FileKind::Clients.file_name()), &clients, None)?;
        let scopes = ScopesFile { scopes: state.scopes.get(slug).cloned().unwrap_or_default() };
        fs.store(FileKind::Scopes, &dir.join(FileKind::Scopes.file_name()), &scopes, None)?;
    }
    let _admins = fs.lock("admins").await?;
    let admins_dir = fs.admins_dir();
    storage::create_dir_private(&admins_dir)?;
    let admins = AdminsFile { admins: state.admins.clone() };
    fs.store(FileKind::Admins, &admins_dir.join(FileKind::Admins.file_name()), &admins, None)?;
    let tokens = AdminRefreshTokensFile { refresh_tokens: state.tokens.clone() };
    fs.store(
        FileKind::AdminRefreshTokens,
        &admins_dir.join(FileKind::AdminRefreshTokens.file_name()),
        &tokens,
        None,
    )?;
    Ok(())
}

/// Loads a validated FS tree into the global database, replacing its control plane in one
/// transaction, and reports what changed.
///
/// Errors: those of [`read_tree`]; the database's.
pub async fn import_tree(
    cp: &GlobalControlPlane,
    root: &Path,
    secrets: Option<&SecretBox>,
) -> StoreResult<SyncReport> {
    let state = read_tree(root, secrets)?;
    let old = cp.replace_all(state.clone()).await?;
    Ok(compare(&old, &state))
}

/// Writes the global database's control plane (as of the latest version) to `root`.
///
/// Errors: those of [`write_tree`]; the database's.
pub async fn export_tree(cp: &GlobalControlPlane, root: &Path) -> StoreResult<SyncReport> {
    cp.catch_up().await?;
    let state = cp.state();
    let before = if root.is_dir() { read_tree(root, None).unwrap_or_default() } else { Default::default() };
    write_tree(&state, root).await?;
    Ok(compare(&before, &state))
}
