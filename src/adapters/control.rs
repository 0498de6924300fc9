//! Control-plane rules shared by the two control-plane backends — the YAML files
//! (`fs`) and the global database (`global`): the input checks and the changes each write
//! makes to a tenant's clients and scopes or to the admins and their tokens, on in-memory
//! lists. Each backend only loads the lists (files under a lock; rows in a transaction),
//! calls these, and stores the result (after validating it as the FS files are validated).

use uuid::Uuid;

use crate::crypto::{SecretBox, fields, seal_optional};
use crate::error::{StoreError, StoreResult};
use crate::model::{
    Admin, AdminInput, AdminRefreshToken, AdminUpdate, Client, ClientInput, ClientType, DeletedTenant,
    NAMESPACE_MAX_LEN, NAMESPACE_PATTERN, SYSTEM_SCOPES, Scope, ScopeInput, Secret, Tenant, Timestamp,
    is_system_scope, is_valid_tenant_namespace, new_id, now, validate_client_id, validate_redirect_uri,
    validate_scope_name,
};

pub(crate) use super::fs::tenant::system_scope;
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) use super::fs::tenant::{check_tenant_input, seal_settings};

/// The stored scopes of a tenant plus any system scope they lack, sorted by name.
use crate::model::limits::{CONTROL_DESCRIPTION, CONTROL_NAME, check_text, check_text_opt, check_texts};

pub(crate) fn scopes_with_system(tenant: &Tenant, mut scopes: Vec<Scope>) -> Vec<Scope> {
    for name in SYSTEM_SCOPES {
        if !scopes.iter().any(|s| s.name == name) {
            scopes.push(system_scope(tenant.id, name, tenant.created_at));
        }
    }
    scopes.sort_by(|a, b| a.name.cmp(&b.name));
    scopes
}

// ---- namespaces -------------------------------------------------------------------------

/// Gives `tenant` its namespace, or checks the one its caller chose: unique among `live`
/// tenants (their [`Tenant::effective_namespace`]) and the `deleted` tenants not yet purged.
/// A free [`crate::manager::namespace_name`] of the slug that fits and is not a system name
/// ([`crate::manager::is_reserved_namespace`]: `public`, `mysql`, `admin`, `pg_…`, …) is
/// taken as is; otherwise a
/// prefix of it plus `_` and 12 hex digits derived from the tenant id (and a counter, until
/// one is free). Call it inside the critical section of the create, so that two creates can
/// never both see a name free.
///
/// Errors: `InvalidInput` for a chosen namespace that does not match
/// [`crate::model::NAMESPACE_PATTERN`] or is a system name; `Conflict` for a chosen one that
/// is taken.
pub(crate) fn allocate_namespace<'t>(
    tenant: &mut Tenant,
    live: impl IntoIterator<Item = &'t Tenant>,
    deleted: &[DeletedTenant],
) -> StoreResult<()> {
    // A deleted tenant's id stays taken until its purge: caches (Redis keys under
    // `hj:t:{id}:`) and audit trails are keyed by it, so a new tenant may not reuse it.
    if deleted.iter().any(|d| d.id == tenant.id) {
        return Err(StoreError::conflict(
            "tenant",
            format!("id {} belongs to a deleted tenant not yet purged", tenant.id),
        ));
    }
    let taken: std::collections::BTreeSet<String> = live
        .into_iter()
        .filter(|t| t.id != tenant.id)
        .map(Tenant::effective_namespace)
        .chain(deleted.iter().map(|d| d.namespace.clone()))
        .collect();
    if let Some(chosen) = &tenant.namespace {
        if !is_valid_tenant_namespace(chosen) {
            return Err(StoreError::invalid(
                "namespace",
                format!("{chosen:?} does not match {NAMESPACE_PATTERN}"),
            ));
        }
        if crate::manager::is_reserved_namespace(chosen) {
            return Err(StoreError::invalid(
                "namespace",
                format!("{chosen:?} is a system schema or database name and is never given to a tenant"),
            ));
        }
        if taken.contains(chosen) {
            return Err(StoreError::conflict(
                "tenant",
                format!("namespace {chosen:?} belongs to another tenant (live, or deleted and not purged)"),
            ));
        }
        return Ok(());
    }
    let name = crate::manager::namespace_name(&tenant.slug);
    if name.len() <= NAMESPACE_MAX_LEN
        && is_valid_tenant_namespace(&name)
        && !crate::manager::is_reserved_namespace(&name)
        && !taken.contains(&name)
    {
        tenant.namespace = Some(name);
        return Ok(());
    }
    // A suffix does not make `pg_…` acceptable (PostgreSQL reserves the prefix): add a `t`.
    let base = if name.starts_with("pg_") { format!("t{name}") } else { name };
    let prefix: String = base.chars().take(NAMESPACE_MAX_LEN - 13).collect();
    let id = tenant.id.simple().to_string();
    for round in 0u32.. {
        let suffix = if round == 0 {
            id[id.len() - 12..].to_string()
        } else {
            use sha2::Digest;
            let digest = sha2::Sha256::new()
                .chain_update(tenant.id.as_bytes())
                .chain_update(round.to_be_bytes())
                .finalize();
            digest[..6].iter().map(|b| format!("{b:02x}")).collect()
        };
        let candidate = format!("{prefix}_{suffix}");
        if !taken.contains(&candidate) {
            tenant.namespace = Some(candidate);
            return Ok(());
        }
    }
    unreachable!("the loop above only ends by returning")
}

/// Refuses a change of a tenant's namespace: `incoming` (what an update carries) must be
/// absent or equal to `current`'s effective namespace.
///
/// Errors: `InvalidInput`.
pub(crate) fn check_namespace_unchanged(current: &Tenant, incoming: Option<&str>) -> StoreResult<()> {
    match incoming {
        Some(ns) if ns != current.effective_namespace() => Err(StoreError::invalid(
            "namespace",
            format!(
                "the namespace of tenant {} is {:?} and cannot change",
                current.slug,
                current.effective_namespace()
            ),
        )),
        _ => Ok(()),
    }
}

/// The tombstone `delete` leaves for `tenant`.
pub(crate) fn tombstone(tenant: &Tenant) -> DeletedTenant {
    DeletedTenant {
        id: tenant.id,
        slug: tenant.slug.clone(),
        namespace: tenant.effective_namespace(),
        own_db: tenant.settings.user_db.is_some(),
        deleted_at: now(),
    }
}

/// Refuses a set of tenants and tombstones in which two hold one namespace.
///
/// Errors: `InvalidInput` naming both.
pub(crate) fn check_namespaces_unique<'t>(
    live: impl IntoIterator<Item = &'t Tenant>,
    deleted: &[DeletedTenant],
) -> StoreResult<()> {
    let mut seen: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    let holders = live.into_iter().map(|t| (t.effective_namespace(), format!("tenant {}", t.slug))).chain(
        deleted.iter().map(|d| (d.namespace.clone(), format!("deleted tenant {} ({})", d.slug, d.id))),
    );
    for (ns, who) in holders {
        if let Some(first) = seen.get(&ns) {
            return Err(StoreError::invalid(
                "namespace",
                format!("{who} and {first} share namespace {ns:?}"),
            ));
        }
        seen.insert(ns, who);
    }
    Ok(())
}

// ---- clients ----------------------------------------------------------------------------

/// Checks everything about `input` (of effective type `client_type`): id, name, URIs, the
/// secret rule, and that its scopes exist among `scopes` (system scopes always do).
pub(crate) fn check_client_input(
    slug: &str,
    input: &ClientInput,
    client_type: ClientType,
    scopes: &[Scope],
) -> StoreResult<()> {
    validate_client_id(&input.client_id)?;
    if input.name.trim().is_empty() {
        return Err(StoreError::invalid("name", "a client needs a name"));
    }
    check_text("name", &input.name, CONTROL_NAME)?;
    check_text_opt("description", input.description.as_deref(), CONTROL_DESCRIPTION)?;
    check_texts("allowed_origins", &input.allowed_origins, CONTROL_NAME)?;
    check_texts("providers", &input.providers, CONTROL_NAME)?;
    check_text_opt("reset_password_url", input.reset_password_url.as_deref(), CONTROL_DESCRIPTION)?;
    check_text_opt("verify_email_url", input.verify_email_url.as_deref(), CONTROL_DESCRIPTION)?;
    if let Ok(json) = serde_json::to_value(&input.claim_schema) {
        crate::model::limits::check_json("claim_schema", &json)?;
    }
    for uri in input.redirect_uris.iter().chain(&input.post_logout_uris) {
        validate_redirect_uri(uri)?;
    }
    if client_type == ClientType::Public && input.secret.is_some() {
        return Err(StoreError::invalid("secret", "a public client cannot have a secret"));
    }
    if input.secret.as_deref().is_some_and(str::is_empty) {
        return Err(StoreError::invalid("secret", "the secret is empty"));
    }
    for s in &input.scopes {
        if !is_system_scope(s) && !scopes.iter().any(|x| &x.name == s) {
            return Err(StoreError::invalid(
                "scopes",
                format!("scope {s:?} does not exist in tenant {slug}"),
            ));
        }
    }
    Ok(())
}

fn seal_client_secret(
    secrets: Option<&SecretBox>,
    slug: &str,
    client_id: &str,
    plain: &str,
) -> StoreResult<Secret> {
    seal_optional(secrets, slug, &fields::client_secret(client_id), &Secret::plain(plain))
}

/// Copies the fields of `input` into `client` (not id, client_id, secret or times); a
/// `client_type` of `None` keeps the current type.
fn apply_client(client: &mut Client, input: ClientInput) {
    client.name = input.name;
    if let Some(t) = input.client_type {
        client.client_type = t;
    }
    client.description = input.description;
    client.redirect_uris = input.redirect_uris;
    client.post_logout_uris = input.post_logout_uris;
    client.allowed_origins = input.allowed_origins;
    client.providers = input.providers;
    client.scopes = input.scopes;
    client.grant_types = input.grant_types;
    client.require_email_verification = input.require_email_verification;
    client.reset_password_url = input.reset_password_url;
    client.verify_email_url = input.verify_email_url;
    client.claim_schema = input.claim_schema;
    client.claim_mapping = input.claim_mapping;
    client.access_token_ttl_secs = input.access_token_ttl_secs;
    client.refresh_token_ttl_secs = input.refresh_token_ttl_secs;
    client.id_token_ttl_secs = input.id_token_ttl_secs;
}

/// Adds a client to `clients` (the tenant's, with its stored `scopes`).
///
/// Errors: `Conflict` on an existing client_id; `InvalidInput` (also for a client breaking
/// [`Client::validate`]: a confidential one without a secret, a public one with
/// `client_credentials`); `Crypto` without a key for a secret.
pub(crate) fn create_client(
    clients: &mut Vec<Client>,
    scopes: &[Scope],
    slug: &str,
    secrets: Option<&SecretBox>,
    mut input: ClientInput,
) -> StoreResult<Client> {
    check_client_input(slug, &input, input.client_type.unwrap_or_default(), scopes)?;
    if clients.iter().any(|c| c.client_id == input.client_id) {
        return Err(StoreError::conflict("client", format!("client_id {:?} exists", input.client_id)));
    }
    let secret = match input.secret.take() {
        Some(plain) => Some(seal_client_secret(secrets, slug, &input.client_id, &plain)?),
        None => None,
    };
    let at = now();
    let mut client = Client {
        id: new_id(),
        client_id: input.client_id.clone(),
        name: String::new(),
        client_type: ClientType::Public,
        description: None,
        redirect_uris: Vec::new(),
        post_logout_uris: Vec::new(),
        allowed_origins: Vec::new(),
        providers: Vec::new(),
        scopes: Vec::new(),
        grant_types: Vec::new(),
        secret,
        require_email_verification: false,
        reset_password_url: None,
        verify_email_url: None,
        claim_schema: Default::default(),
        claim_mapping: Default::default(),
        access_token_ttl_secs: None,
        refresh_token_ttl_secs: None,
        id_token_ttl_secs: None,
        created_at: at,
        updated_at: at,
    };
    apply_client(&mut client, input);
    client.validate()?;
    clients.push(client.clone());
    clients.sort_by(|a, b| a.client_id.cmp(&b.client_id));
    Ok(client)
}

/// Updates the client `input.client_id` in `clients`; a new plain secret is sealed, a
/// public client loses its secret. Nothing changes unless the result passes
/// [`Client::validate`].
///
/// Errors: `NotFound`; `InvalidInput`; `Crypto`.
pub(crate) fn update_client(
    clients: &mut [Client],
    scopes: &[Scope],
    slug: &str,
    secrets: Option<&SecretBox>,
    mut input: ClientInput,
) -> StoreResult<Client> {
    validate_client_id(&input.client_id)?;
    let Some(index) = clients.iter().position(|c| c.client_id == input.client_id) else {
        return Err(StoreError::not_found("client", &input.client_id));
    };
    check_client_input(slug, &input, input.client_type.unwrap_or(clients[index].client_type), scopes)?;
    let new_secret = match input.secret.take() {
        Some(plain) => Some(seal_client_secret(secrets, slug, &input.client_id, &plain)?),
        None => None,
    };
    let mut client = clients[index].clone();
    apply_client(&mut client, input);
    if let Some(s) = new_secret {
        client.secret = Some(s);
    }
    if client.client_type == ClientType::Public {
        client.secret = None;
    }
    client.validate()?;
    client.updated_at = now();
    clients[index] = client.clone();
    Ok(client)
}

/// Removes the client `client_id`. Errors: `NotFound`.
pub(crate) fn delete_client(clients: &mut Vec<Client>, client_id: &str) -> StoreResult<()> {
    let before = clients.len();
    clients.retain(|c| c.client_id != client_id);
    if clients.len() == before { Err(StoreError::not_found("client", client_id)) } else { Ok(()) }
}

/// Filters and sorts clients as `ClientRepository::list` does.
pub(crate) fn list_clients(clients: Vec<Client>, query: &str) -> Vec<Client> {
    let q = query.to_lowercase();
    let mut clients: Vec<Client> = clients
        .into_iter()
        .filter(|c| {
            q.is_empty() || c.client_id.to_lowercase().contains(&q) || c.name.to_lowercase().contains(&q)
        })
        .collect();
    clients.sort_by(|a, b| a.client_id.cmp(&b.client_id));
    clients
}

/// Opens a client's secret. Errors: `NotFound` without one; `Crypto` without a key.
pub(crate) fn decrypt_client_secret(
    secrets: Option<&SecretBox>,
    slug: &str,
    client: Client,
) -> StoreResult<String> {
    let client_id = client.client_id;
    let secret = client.secret.ok_or_else(|| StoreError::not_found("client_secret", &client_id))?;
    let secrets = secrets.ok_or_else(|| StoreError::Crypto {
        message: format!(
            "cannot read the secret of client {client_id}: no secret key configured ({})",
            crate::crypto::SECRET_KEY_ENV
        ),
    })?;
    secrets.decrypt(slug, &fields::client_secret(&client_id), &secret)
}

// ---- scopes -----------------------------------------------------------------------------

fn check_depends_on(input: &ScopeInput, scopes: &[Scope]) -> StoreResult<()> {
    check_text_opt("description", input.description.as_deref(), CONTROL_DESCRIPTION)?;
    check_text_opt("display_name", input.display_name.as_deref(), CONTROL_NAME)?;
    check_texts("claims", &input.claims, CONTROL_NAME)?;
    for dep in &input.depends_on {
        if dep == &input.name {
            return Err(StoreError::invalid("depends_on", "a scope cannot depend on itself"));
        }
        if !scopes.iter().any(|s| &s.name == dep) {
            return Err(StoreError::invalid("depends_on", format!("scope {dep:?} does not exist")));
        }
    }
    Ok(())
}

fn insert_scope(scopes: &mut Vec<Scope>, input: ScopeInput) -> StoreResult<Scope> {
    check_depends_on(&input, scopes)?;
    let at = now();
    let scope = Scope {
        id: new_id(),
        name: input.name,
        description: input.description,
        display_name: input.display_name,
        claims: input.claims,
        depends_on: input.depends_on,
        system: false,
        created_at: at,
        updated_at: at,
    };
    scopes.push(scope.clone());
    scopes.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(scope)
}

fn replace_scope(scopes: &mut [Scope], index: usize, input: ScopeInput) -> StoreResult<Scope> {
    check_depends_on(&input, scopes)?;
    let scope = &mut scopes[index];
    scope.description = input.description;
    scope.display_name = input.display_name;
    scope.claims = input.claims;
    scope.depends_on = input.depends_on;
    scope.updated_at = now();
    Ok(scope.clone())
}

/// Adds a scope to `scopes` (with system scopes filled in). Errors: `Conflict`; `InvalidInput`.
pub(crate) fn create_scope(scopes: &mut Vec<Scope>, input: ScopeInput) -> StoreResult<Scope> {
    validate_scope_name(&input.name)?;
    if scopes.iter().any(|s| s.name == input.name) {
        return Err(StoreError::conflict("scope", format!("scope {:?} exists", input.name)));
    }
    insert_scope(scopes, input)
}

/// Updates the scope `input.name`. Errors: `NotFound`; `InvalidInput`.
pub(crate) fn update_scope(scopes: &mut [Scope], input: ScopeInput) -> StoreResult<Scope> {
    let index = scopes
        .iter()
        .position(|s| s.name == input.name)
        .ok_or_else(|| StoreError::not_found("scope", &input.name))?;
    replace_scope(scopes, index, input)
}

/// Creates or updates the scope `input.name`. Errors: `InvalidInput`.
pub(crate) fn upsert_scope(scopes: &mut Vec<Scope>, input: ScopeInput) -> StoreResult<Scope> {
    validate_scope_name(&input.name)?;
    match scopes.iter().position(|s| s.name == input.name) {
        Some(index) => replace_scope(scopes, index, input),
        None => insert_scope(scopes, input),
    }
}

/// Refuses to delete a system scope (`InvalidInput`).
pub(crate) fn check_scope_deletable_name(name: &str) -> StoreResult<()> {
    if is_system_scope(name) {
        return Err(StoreError::invalid(
            "scope",
            format!("{name:?} is a system scope and cannot be deleted"),
        ));
    }
    Ok(())
}

/// Removes the scope `name` unless a client or another scope uses it.
///
/// Errors: `NotFound`; `InvalidInput` while it is in use or a system scope.
pub(crate) fn delete_scope(scopes: &mut Vec<Scope>, clients: &[Client], name: &str) -> StoreResult<()> {
    check_scope_deletable_name(name)?;
    let Some(index) = scopes.iter().position(|s| s.name == name) else {
        return Err(StoreError::not_found("scope", name));
    };
    if let Some(c) = clients.iter().find(|c| c.is_scope_allowed(name)) {
        return Err(StoreError::invalid(
            "scope",
            format!("scope {name:?} is used by client {:?} and cannot be deleted", c.client_id),
        ));
    }
    if let Some(s) = scopes.iter().find(|s| s.depends_on.iter().any(|d| d == name)) {
        return Err(StoreError::invalid(
            "scope",
            format!("scope {name:?} is a dependency of scope {:?} and cannot be deleted", s.name),
        ));
    }
    scopes.remove(index);
    Ok(())
}

// ---- admins -----------------------------------------------------------------------------

pub(crate) use super::fs::admin::{validate_email, validate_hash, validate_token_hash};

/// Sorts admins as they are listed and stored (by e-mail, case-insensitively).
pub(crate) fn sort_admins(admins: &mut [Admin]) {
    admins.sort_by_key(|a| a.email.to_lowercase());
}

/// Refuses tenant ids that are not among `tenants` (the live tenants' ids): an admin is
/// never assigned a tenant that does not exist.
///
/// Errors: `InvalidInput` naming `assigned_tenants`.
pub(crate) fn check_assigned_tenants(ids: &[Uuid], tenants: &[Uuid]) -> StoreResult<()> {
    match ids.iter().find(|id| !tenants.contains(id)) {
        Some(id) => Err(StoreError::invalid("assigned_tenants", format!("tenant {id} does not exist"))),
        None => Ok(()),
    }
}

/// Adds an admin; `tenants` are the ids of the live tenants.
///
/// Errors: `Conflict` on the e-mail (case-insensitive); `InvalidInput` (also for an
/// assigned tenant that does not exist).
pub(crate) fn create_admin(
    admins: &mut Vec<Admin>,
    input: AdminInput,
    tenants: &[Uuid],
) -> StoreResult<Admin> {
    validate_email(&input.email)?;
    validate_hash(&input.password_hash)?;
    check_assigned_tenants(&input.assigned_tenants, tenants)?;
    let wanted = input.email.to_lowercase();
    if admins.iter().any(|a| a.email.to_lowercase() == wanted) {
        return Err(StoreError::conflict("admin", format!("e-mail {:?} exists", input.email)));
    }
    let at = now();
    let admin = Admin {
        id: new_id(),
        email: input.email,
        password_hash: input.password_hash,
        name: input.name,
        admin_type: input.admin_type,
        assigned_tenants: input.assigned_tenants,
        created_at: at,
        updated_at: at,
        last_seen_at: None,
        disabled_at: None,
        created_by: input.created_by,
    };
    admins.push(admin.clone());
    sort_admins(admins);
    Ok(admin)
}

/// Applies an update to the admin `id`. Errors: `NotFound`; `Conflict`; `InvalidInput`.
pub(crate) fn update_admin(admins: &mut [Admin], id: Uuid, input: AdminUpdate) -> StoreResult<Admin> {
    if let Some(email) = &input.email {
        validate_email(email)?;
        let wanted = email.to_lowercase();
        if admins.iter().any(|a| a.id != id && a.email.to_lowercase() == wanted) {
            return Err(StoreError::conflict("admin", format!("e-mail {email:?} exists")));
        }
    }
    if let Some(hash) = &input.password_hash {
        validate_hash(hash)?;
    }
    let admin = admins.iter_mut().find(|a| a.id == id).ok_or_else(|| StoreError::not_found("admin", id))?;
    let at = now();
    if let Some(email) = input.email {
        admin.email = email;
    }
    if let Some(hash) = input.password_hash {
        admin.password_hash = hash;
    }
    if let Some(name) = input.name {
        admin.name = name;
    }
    if let Some(t) = input.admin_type {
        admin.admin_type = t;
    }
    match input.disabled {
        Some(true) if admin.disabled_at.is_none() => admin.disabled_at = Some(at),
        Some(false) => admin.disabled_at = None,
        _ => {}
    }
    admin.updated_at = at;
    let updated = admin.clone();
    sort_admins(admins);
    Ok(updated)
}

/// Replaces the tenants the admin `id` may manage with `ids` (sorted, without repeats);
/// `tenants` are the ids of the live tenants.
///
/// Errors: `NotFound` for an unknown admin; `InvalidInput` for a tenant that does not exist.
pub(crate) fn assign_tenants(
    admins: &mut [Admin],
    id: Uuid,
    ids: &[Uuid],
    tenants: &[Uuid],
) -> StoreResult<()> {
    let admin = admins.iter_mut().find(|a| a.id == id).ok_or_else(|| StoreError::not_found("admin", id))?;
    check_assigned_tenants(ids, tenants)?;
    let mut ids = ids.to_vec();
    ids.sort();
    ids.dedup();
    admin.assigned_tenants = ids;
    admin.updated_at = now();
    Ok(())
}

/// Removes the tenant `tenant_id` (being deleted) from every admin's assigned tenants.
/// Returns whether an admin changed.
pub(crate) fn unassign_tenant(admins: &mut [Admin], tenant_id: Uuid) -> bool {
    let mut changed = false;
    for admin in admins.iter_mut().filter(|a| a.assigned_tenants.contains(&tenant_id)) {
        admin.assigned_tenants.retain(|t| *t != tenant_id);
        admin.updated_at = now();
        changed = true;
    }
    changed
}

/// Runs `change` on the admin `id`. Errors: `NotFound`.
pub(crate) fn modify_admin(
    admins: &mut [Admin],
    id: Uuid,
    change: impl FnOnce(&mut Admin),
) -> StoreResult<Admin> {
    let admin = admins.iter_mut().find(|a| a.id == id).ok_or_else(|| StoreError::not_found("admin", id))?;
    change(admin);
    Ok(admin.clone())
}

/// Sorts admin refresh tokens as they are stored (oldest first).
pub(crate) fn sort_tokens(tokens: &mut [AdminRefreshToken]) {
    tokens.sort_by(|a, b| (a.created_at, &a.token_hash).cmp(&(b.created_at, &b.token_hash)));
}

/// Adds an admin refresh token (created now).
///
/// Errors: `NotFound` for an unknown admin; `Conflict`; `InvalidInput` (also for an
/// `expires_at` before now, its creation time).
pub(crate) fn create_token(
    admins: &[Admin],
    tokens: &mut Vec<AdminRefreshToken>,
    admin_id: Uuid,
    token_hash: &str,
    expires_at: Timestamp,
) -> StoreResult<AdminRefreshToken> {
    validate_token_hash(token_hash)?;
    if !admins.iter().any(|a| a.id == admin_id) {
        return Err(StoreError::not_found("admin", admin_id));
    }
    if tokens.iter().any(|t| t.token_hash == token_hash) {
        return Err(StoreError::conflict("admin_refresh_token", "token hash exists"));
    }
    let token = AdminRefreshToken {
        token_hash: token_hash.to_string(),
        admin_id,
        created_at: now(),
        expires_at: crate::model::truncate_micros(expires_at),
    };
    token.validate()?;
    tokens.push(token.clone());
    sort_tokens(tokens);
    Ok(token)
}

/// Filters and pages admins as `AdminRepository::list` does.
pub(crate) fn list_admins(admins: Vec<Admin>, filter: &crate::model::AdminFilter) -> Vec<Admin> {
    let mut admins: Vec<Admin> = admins
        .into_iter()
        .filter(|a| filter.admin_type.is_none_or(|t| a.admin_type == t))
        .filter(|a| filter.disabled.is_none_or(|d| a.disabled_at.is_some() == d))
        .collect();
    sort_admins(&mut admins);
    let offset = usize::try_from(filter.offset).unwrap_or(usize::MAX);
    let limit =
        if filter.limit == 0 { usize::MAX } else { usize::try_from(filter.limit).unwrap_or(usize::MAX) };
    admins.into_iter().skip(offset).take(limit).collect()
}

/// Whether the admin may act on the tenant (`false` while disabled; global admins: always).
pub(crate) fn admin_has_access(admin: &Admin, tenant_id: Uuid) -> bool {
    if admin.disabled_at.is_some() {
        return false;
    }
    match admin.admin_type {
        crate::model::AdminType::Global => true,
        crate::model::AdminType::Tenant => admin.assigned_tenants.contains(&tenant_id),
    }
}
