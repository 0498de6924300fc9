//! The whole control plane in memory (the snapshot), its rows in the global database, and
//! what changes between two states.

use std::collections::BTreeMap;
use std::path::Path;

use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use entity::{
    cp_admin_refresh_tokens, cp_admins, cp_clients, cp_deleted_tenants, cp_scopes, cp_tenants, cp_version,
};

use crate::adapters::fs::render_for_write;
use crate::adapters::fs::schema::{AdminRefreshTokensFile, AdminsFile, ClientsFile, FileKind, ScopesFile};
use crate::adapters::sql::time::to_db;
use crate::error::{StoreError, StoreResult};
use crate::model::{Admin, AdminRefreshToken, Client, DeletedTenant, Scope, Tenant};
use crate::repository::ControlPlaneChange;

/// The control plane as the FS files hold it: tenants by slug, each tenant's clients and
/// stored scopes (system scopes a tenant lacks are synthesised on read, as by the FS
/// store), the admins and the admin refresh tokens.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ControlPlaneState {
    /// Tenants by slug.
    pub tenants: BTreeMap<String, Tenant>,
    /// Clients of each tenant (`clients.yaml`), sorted by client_id.
    pub clients: BTreeMap<String, Vec<Client>>,
    /// Stored scopes of each tenant (`scopes.yaml`), sorted by name.
    pub scopes: BTreeMap<String, Vec<Scope>>,
    /// The admins (`admins.yaml`).
    pub admins: Vec<Admin>,
    /// The admin refresh tokens (`refresh_tokens.yaml`).
    pub tokens: Vec<AdminRefreshToken>,
    /// Tombstones of deleted tenants not yet purged, by id (`deleted/<id>.yaml`).
    pub deleted: BTreeMap<Uuid, DeletedTenant>,
}

fn json<T: Serialize>(value: &T) -> Result<serde_json::Value, DbErr> {
    serde_json::to_value(value)
        .map_err(|e| DbErr::Custom(format!("serializing a control-plane document: {e}")))
}

fn decode<T: DeserializeOwned>(what: &str, key: &str, value: serde_json::Value) -> StoreResult<T> {
    serde_json::from_value(value).map_err(|e| StoreError::Backend {
        backend: "global".into(),
        message: format!("corrupt {what} document {key:?} in the global database: {e}"),
        source: None,
    })
}

fn pseudo_path(rel: &str) -> std::path::PathBuf {
    Path::new("global:").join(rel)
}

impl ControlPlaneState {
    /// Validates every document that differs from `old` the way the FS store validates a
    /// file before writing it (JSON Schema and per-file rules).
    ///
    /// Errors: `InvalidInput` naming the JSON pointer of the first problem.
    pub(crate) fn validate_changes(&self, old: &ControlPlaneState) -> StoreResult<()> {
        if self.tenants != old.tenants || self.deleted != old.deleted {
            let deleted: Vec<DeletedTenant> = self.deleted.values().cloned().collect();
            crate::adapters::control::check_namespaces_unique(self.tenants.values(), &deleted)?;
        }
        for (slug, tenant) in &self.tenants {
            if old.tenants.get(slug) != Some(tenant) {
                let path = pseudo_path(&format!("tenants/{slug}/tenant.yaml"));
                render_for_write(FileKind::Tenant, &path, tenant, Some(slug))?;
            }
        }
        for (slug, clients) in &self.clients {
            if old.clients.get(slug) != Some(clients) {
                let path = pseudo_path(&format!("tenants/{slug}/clients.yaml"));
                render_for_write(FileKind::Clients, &path, &ClientsFile { clients: clients.clone() }, None)?;
            }
        }
        for (slug, scopes) in &self.scopes {
            if old.scopes.get(slug) != Some(scopes) {
                let path = pseudo_path(&format!("tenants/{slug}/scopes.yaml"));
                render_for_write(FileKind::Scopes, &path, &ScopesFile { scopes: scopes.clone() }, None)?;
            }
        }
        if self.admins != old.admins {
            let file = AdminsFile { admins: self.admins.clone() };
            render_for_write(FileKind::Admins, &pseudo_path("admins/admins.yaml"), &file, None)?;
        }
        if self.tokens != old.tokens {
            let file = AdminRefreshTokensFile { refresh_tokens: self.tokens.clone() };
            render_for_write(
                FileKind::AdminRefreshTokens,
                &pseudo_path("admins/refresh_tokens.yaml"),
                &file,
                None,
            )?;
        }
        Ok(())
    }

    /// The tenants whose documents (tenant, clients or scopes) differ in `new`: changed
    /// ones and removed ones.
    pub(crate) fn changes_to(&self, new: &ControlPlaneState) -> ControlPlaneChange {
        let mut change = ControlPlaneChange::default();
        for slug in super::slugs_differing(self, new) {
            if new.tenants.contains_key(&slug) {
                change.changed.push(slug);
            } else {
                change.removed.push(slug);
            }
        }
        change
    }

    fn tenant_id(&self, slug: &str) -> Option<Uuid> {
        self.tenants.get(slug).map(|t| t.id)
    }

    fn client_rows(&self) -> BTreeMap<(Uuid, String), &Client> {
        let mut out = BTreeMap::new();
        for (slug, clients) in &self.clients {
            if let Some(id) = self.tenant_id(slug) {
                for c in clients {
                    out.insert((id, c.client_id.clone()), c);
                }
            }
        }
        out
    }

    fn scope_rows(&self) -> BTreeMap<(Uuid, String), &Scope> {
        let mut out = BTreeMap::new();
        for (slug, scopes) in &self.scopes {
            if let Some(id) = self.tenant_id(slug) {
                for s in scopes {
                    out.insert((id, s.name.clone()), s);
                }
            }
        }
        out
    }
}

/// Keys of `old` missing from `new`, and entries of `new` that are new or differ.
fn diff<'a, K: Ord + Clone, V: PartialEq>(
    old: &BTreeMap<K, V>,
    new: &'a BTreeMap<K, V>,
) -> (Vec<K>, Vec<(&'a K, &'a V, bool)>) {
    let removed = old.keys().filter(|k| !new.contains_key(*k)).cloned().collect();
    let changed = new
        .iter()
        .filter_map(|(k, v)| match old.get(k) {
            Some(o) if o == v => None,
            Some(_) => Some((k, v, true)),
            None => Some((k, v, false)),
        })
        .collect();
    (removed, changed)
}

/// Loads the version and the whole state. The outer error is the database's, the inner one
/// a corrupt document.
pub(crate) async fn load<C: ConnectionTrait>(db: &C) -> Result<StoreResult<(u64, ControlPlaneState)>, DbErr> {
    let version = cp_version::Entity::find_by_id(1)
        .one(db)
        .await?
        .map(|r| u64::try_from(r.version).unwrap_or(0))
        .ok_or_else(|| DbErr::RecordNotFound("cp_version".into()))?;
    let tenants = cp_tenants::Entity::find().all(db).await?;
    let clients = cp_clients::Entity::find().all(db).await?;
    let scopes = cp_scopes::Entity::find().all(db).await?;
    let admins = cp_admins::Entity::find().all(db).await?;
    let tokens = cp_admin_refresh_tokens::Entity::find().all(db).await?;
    let deleted = cp_deleted_tenants::Entity::find().all(db).await?;
    Ok((|| {
        let mut state = ControlPlaneState::default();
        let mut slugs: BTreeMap<Uuid, String> = BTreeMap::new();
        for row in tenants {
            let tenant: Tenant = decode("tenant", &row.slug, row.document)?;
            slugs.insert(row.id, row.slug.clone());
            state.clients.insert(row.slug.clone(), Vec::new());
            state.scopes.insert(row.slug.clone(), Vec::new());
            state.tenants.insert(row.slug, tenant);
        }
        for row in clients {
            let Some(slug) = slugs.get(&row.tenant_id) else { continue };
            let client: Client = decode("client", &row.client_id, row.document)?;
            state.clients.entry(slug.clone()).or_default().push(client);
        }
        for row in scopes {
            let Some(slug) = slugs.get(&row.tenant_id) else { continue };
            let scope: Scope = decode("scope", &row.name, row.document)?;
            state.scopes.entry(slug.clone()).or_default().push(scope);
        }
        for v in state.clients.values_mut() {
            v.sort_by(|a, b| a.client_id.cmp(&b.client_id));
        }
        for v in state.scopes.values_mut() {
            v.sort_by(|a, b| a.name.cmp(&b.name));
        }
        for row in admins {
            state.admins.push(decode("admin", &row.id.to_string(), row.document)?);
        }
        crate::adapters::control::sort_admins(&mut state.admins);
        for row in tokens {
            state.tokens.push(decode("admin refresh token", "<hash>", row.document)?);
        }
        crate::adapters::control::sort_tokens(&mut state.tokens);
        for row in deleted {
            state.deleted.insert(row.id, decode("deleted tenant", &row.id.to_string(), row.document)?);
        }
        Ok((version, state))
    })())
}

/// Writes the rows that differ between `old` (what the database holds) and `new`.
pub(crate) async fn persist<C: ConnectionTrait>(
    db: &C,
    old: &ControlPlaneState,
    new: &ControlPlaneState,
) -> Result<(), DbErr> {
    // Deletions first, children before parents.
    let old_tokens: BTreeMap<String, &AdminRefreshToken> =
        old.tokens.iter().map(|t| (t.token_hash.clone(), t)).collect();
    let new_tokens: BTreeMap<String, &AdminRefreshToken> =
        new.tokens.iter().map(|t| (t.token_hash.clone(), t)).collect();
    let (tokens_removed, tokens_changed) = diff(&old_tokens, &new_tokens);
    for hash in tokens_removed.into_iter().chain(tokens_changed.iter().map(|(k, _, _)| (*k).clone())) {
        cp_admin_refresh_tokens::Entity::delete_by_id(hash).exec(db).await?;
    }
    let old_admins: BTreeMap<Uuid, &Admin> = old.admins.iter().map(|a| (a.id, a)).collect();
    let new_admins: BTreeMap<Uuid, &Admin> = new.admins.iter().map(|a| (a.id, a)).collect();
    let (admins_removed, admins_changed) = diff(&old_admins, &new_admins);
    for id in admins_removed {
        cp_admins::Entity::delete_by_id(id).exec(db).await?;
    }
    let old_clients = old.client_rows();
    let new_clients = new.client_rows();
    let (clients_removed, clients_changed) = diff(&old_clients, &new_clients);
    for key in clients_removed.into_iter().chain(clients_changed.iter().map(|(k, _, _)| (*k).clone())) {
        cp_clients::Entity::delete_by_id(key).exec(db).await?;
    }
    let old_scopes = old.scope_rows();
    let new_scopes = new.scope_rows();
    let (scopes_removed, scopes_changed) = diff(&old_scopes, &new_scopes);
    for key in scopes_removed.into_iter().chain(scopes_changed.iter().map(|(k, _, _)| (*k).clone())) {
        cp_scopes::Entity::delete_by_id(key).exec(db).await?;
    }
    let old_tenants: BTreeMap<Uuid, &Tenant> = old.tenants.values().map(|t| (t.id, t)).collect();
    let new_tenants: BTreeMap<Uuid, &Tenant> = new.tenants.values().map(|t| (t.id, t)).collect();
    let (tenants_removed, tenants_changed) = diff(&old_tenants, &new_tenants);
    for id in tenants_removed {
        cp_tenants::Entity::delete_by_id(id).exec(db).await?;
    }

    let (deleted_removed, deleted_changed) = diff(&old.deleted, &new.deleted);
    for id in deleted_removed.into_iter().chain(deleted_changed.iter().map(|(k, _, _)| **k)) {
        cp_deleted_tenants::Entity::delete_by_id(id).exec(db).await?;
    }

    // Then parents before children.
    for (id, tenant, existed) in tenants_changed {
        let row = cp_tenants::ActiveModel {
            id: Set(*id),
            slug: Set(tenant.slug.clone()),
            document: Set(json(*tenant)?),
            updated_at: Set(to_db(tenant.updated_at)),
        };
        if existed {
            cp_tenants::Entity::update(row).exec(db).await?;
        } else {
            cp_tenants::Entity::insert(row).exec_without_returning(db).await?;
        }
    }
    for ((tenant_id, client_id), client, _) in clients_changed {
        let row = cp_clients::ActiveModel {
            tenant_id: Set(*tenant_id),
            client_id: Set(client_id.clone()),
            document: Set(json(*client)?),
        };
        cp_clients::Entity::insert(row).exec_without_returning(db).await?;
    }
    for ((tenant_id, name), scope, _) in scopes_changed {
        let row = cp_scopes::ActiveModel {
            tenant_id: Set(*tenant_id),
            name: Set(name.clone()),
            document: Set(json(*scope)?),
        };
        cp_scopes::Entity::insert(row).exec_without_returning(db).await?;
    }
    for (id, admin, existed) in admins_changed {
        let row = cp_admins::ActiveModel {
            id: Set(*id),
            email_normalized: Set(admin.email.to_lowercase()),
            document: Set(json(*admin)?),
        };
        if existed {
            cp_admins::Entity::update(row).exec(db).await?;
        } else {
            cp_admins::Entity::insert(row).exec_without_returning(db).await?;
        }
    }
    for (id, tomb, _) in deleted_changed {
        let row = cp_deleted_tenants::ActiveModel {
            id: Set(*id),
            slug: Set(tomb.slug.clone()),
            namespace: Set(tomb.namespace.clone()),
            document: Set(json(tomb)?),
            deleted_at: Set(to_db(tomb.deleted_at)),
        };
        cp_deleted_tenants::Entity::insert(row).exec_without_returning(db).await?;
    }
    for (hash, token, _) in tokens_changed {
        let row = cp_admin_refresh_tokens::ActiveModel {
            token_hash: Set(hash.clone()),
            admin_id: Set(token.admin_id),
            expires_at: Set(to_db(token.expires_at)),
            document: Set(json(*token)?),
        };
        cp_admin_refresh_tokens::Entity::insert(row).exec_without_returning(db).await?;
    }
    Ok(())
}
