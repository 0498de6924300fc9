//! `TenantRepository` over `tenants/<slug>/tenant.yaml`.

use async_trait::async_trait;
use uuid::Uuid;

use super::schema::{ClientsFile, FileKind, ScopesFile};
use super::{FsControlPlane, render_for_write, storage, validate_slug};
use crate::adapters::control;
use crate::crypto::{SecretBox, fields, seal_optional};
use crate::error::{StoreError, StoreResult};
use crate::model::{DeletedTenant, SYSTEM_SCOPES, Scope, Tenant, TenantSettings, Timestamp, now};
use crate::repository::TenantRepository;

/// Tenants as folders under `<root>/tenants/`.
#[derive(Debug, Clone)]
pub struct FsTenantRepository {
    cp: FsControlPlane,
}

impl FsTenantRepository {
    /// The repository of `cp`.
    pub fn new(cp: FsControlPlane) -> Self {
        FsTenantRepository { cp }
    }
}

/// Seals every plain secret of `settings` for tenant `slug`.
pub(crate) fn seal_settings(
    secrets: Option<&SecretBox>,
    slug: &str,
    settings: &mut TenantSettings,
) -> StoreResult<()> {
    if let Some(db) = settings.user_db.as_mut() {
        db.dsn = seal_optional(secrets, slug, fields::USER_DB_DSN, &db.dsn)?;
    }
    if let Some(pw) = settings.cache.as_mut().and_then(|c| c.password.as_mut()) {
        *pw = seal_optional(secrets, slug, fields::CACHE_PASSWORD, pw)?;
    }
    if let Some(pw) = settings.smtp.as_mut().and_then(|c| c.password.as_mut()) {
        *pw = seal_optional(secrets, slug, fields::SMTP_PASSWORD, pw)?;
    }
    for (name, provider) in settings.social_providers.iter_mut() {
        if let Some(s) = provider.client_secret.as_mut() {
            *s = seal_optional(secrets, slug, &fields::social_provider_secret(name), s)?;
        }
    }
    // No NUL in any string of the settings, and no absurd size (as on the data plane): the
    // global PostgreSQL database refuses a NUL, so the FS tree and MySQL must too.
    if let Ok(json) = serde_json::to_value(&*settings) {
        crate::model::limits::check_json("settings", &json)?;
    }
    Ok(())
}

/// The system scopes of a tenant, as written when it is created or synthesised when its
/// `scopes.yaml` lacks them. Their ids derive from the tenant id and the name.
pub(crate) fn system_scope(tenant_id: Uuid, name: &str, at: Timestamp) -> Scope {
    use sha2::Digest;
    let digest =
        sha2::Sha256::new().chain_update(tenant_id.as_bytes()).chain_update(name.as_bytes()).finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    let (description, claims): (&str, &[&str]) = match name {
        "openid" => ("Sign in with OpenID Connect", &["sub"]),
        "profile" => ("Basic profile", &["name", "given_name", "family_name", "picture", "locale"]),
        "email" => ("E-mail address", &["email", "email_verified"]),
        _ => ("Stay signed in (refresh tokens)", &[]),
    };
    Scope {
        id: uuid::Builder::from_custom_bytes(bytes).into_uuid(),
        name: name.to_string(),
        description: Some(description.to_string()),
        display_name: None,
        claims: claims.iter().map(|c| c.to_string()).collect(),
        depends_on: Vec::new(),
        system: true,
        created_at: at,
        updated_at: at,
    }
}

impl FsControlPlane {
    /// Loads the tenant `slug`; `NotFound` when its folder or `tenant.yaml` is missing.
    pub(crate) fn load_tenant(&self, slug: &str) -> StoreResult<Tenant> {
        let dir = self.tenant_dir(slug)?;
        self.load::<Tenant>(FileKind::Tenant, &dir.join(FileKind::Tenant.file_name()), Some(slug))?
            .ok_or_else(|| StoreError::not_found("tenant", slug))
    }

    /// Slugs of the tenant folders, sorted. Dot-folders are skipped: a create or delete in
    /// progress, or one that died (removed under the next `tenants` lock).
    pub(crate) fn tenant_slugs(&self) -> StoreResult<Vec<String>> {
        let dir = self.tenants_dir();
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(storage::io_error(format!("listing {}", dir.display()), e)),
        };
        let mut slugs = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| storage::io_error(format!("listing {}", dir.display()), e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !entry.path().is_dir() {
                continue;
            }
            slugs.push(name);
        }
        slugs.sort();
        Ok(slugs)
    }

    /// Every tenant, by slug.
    pub(crate) fn all_tenants(&self) -> StoreResult<Vec<Tenant>> {
        let mut tenants = Vec::new();
        for slug in self.tenant_slugs()? {
            if validate_slug(&slug).is_err() {
                return Err(StoreError::InvalidConfig {
                    problems: vec![crate::error::ConfigProblem {
                        file: self.tenants_dir().join(&slug).display().to_string(),
                        line: 0,
                        column: 0,
                        pointer: String::new(),
                        message: format!("folder name {slug:?} is not a valid slug"),
                    }],
                });
            }
            match self.load_tenant(&slug) {
                Ok(t) => tenants.push(t),
                Err(StoreError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(tenants)
    }

    /// Errors with `TenantNotFound` unless the tenant `slug` exists.
    pub(crate) fn require_tenant(&self, slug: &str) -> StoreResult<Tenant> {
        self.load_tenant(slug).map_err(|e| match e {
            StoreError::NotFound { .. } => StoreError::TenantNotFound { tenant: slug.to_string() },
            other => other,
        })
    }

    /// Takes the `tenants` lock, which every create and delete holds while its `.creating-*`
    /// or `.deleting-*` folder exists, so any such folder found then belongs to a writer that
    /// died: it is removed (a `.deleting-*` one still holds the deleted tenant's sealed data).
    async fn lock_tenants(&self) -> StoreResult<storage::LockGuard> {
        let guard = self.lock("tenants").await?;
        self.remove_stale_tenant_work();
        Ok(guard)
    }

    /// Removes the `.creating-*` and `.deleting-*` folders under `tenants/`, and the
    /// temporary files of tombstone writes under `deleted/`. Only call it while holding the
    /// `tenants` lock. Failures are logged; the next holder tries again.
    fn remove_stale_tenant_work(&self) {
        self.settle_pending_tombstones();
        if let Ok(entries) = std::fs::read_dir(self.deleted_dir()) {
            for entry in entries.flatten() {
                let temp =
                    entry.file_name().to_str().is_some_and(|n| n.starts_with('.') && n.contains(".tmp-"));
                if temp && entry.file_type().is_ok_and(|t| t.is_file()) {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        let dir = self.tenants_dir();
        let Ok(entries) = std::fs::read_dir(&dir) else { return };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let stale =
                name.to_str().is_some_and(|n| n.starts_with(".creating-") || n.starts_with(".deleting-"));
            // Never follow a link: the store makes only real folders.
            if !stale || !entry.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let path = entry.path();
            match std::fs::remove_dir_all(&path) {
                Ok(()) => tracing::info!(path = %path.display(), "removed a dead tenant create or delete"),
                Err(e) => {
                    let path = path.display();
                    tracing::warn!(%path, error = %e, "cannot remove a dead tenant create or delete");
                }
            }
        }
    }

    /// Settles the `deleted/.pending-<id>.yaml` tombstones of deletes that died: when the
    /// tenant's folder still holds that tenant the delete never happened and the pending
    /// record is removed; otherwise (the folder was renamed away, the commit point) it is
    /// promoted to `<id>.yaml`. Only call it while holding the `tenants` lock, before the
    /// `.deleting-*` folders are removed. Failures are logged; the next holder tries again.
    fn settle_pending_tombstones(&self) {
        let dir = self.deleted_dir();
        let Ok(entries) = std::fs::read_dir(&dir) else { return };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(id) = name.strip_prefix(".pending-").and_then(|n| n.strip_suffix(".yaml")) else {
                continue;
            };
            let path = entry.path();
            let tomb = storage::read_optional(&path)
                .ok()
                .flatten()
                .and_then(|text| serde_yaml::from_str::<DeletedTenant>(&text).ok());
            let Some(tomb) = tomb else {
                let _ = std::fs::remove_file(&path);
                continue;
            };
            let live = self.load_tenant(&tomb.slug).is_ok_and(|t| t.id == tomb.id);
            let result = if live {
                std::fs::remove_file(&path)
            } else {
                std::fs::rename(&path, dir.join(format!("{id}.yaml")))
            };
            match result {
                Ok(()) => {
                    let _ = storage::sync_dir(&dir);
                    tracing::info!(tenant = %tomb.slug, rolled_back = live, "settled a dead tenant delete");
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "cannot settle a dead tenant delete")
                }
            }
        }
    }

    /// `<root>/deleted/`: one `<id>.yaml` tombstone per deleted tenant not yet purged.
    pub(crate) fn deleted_dir(&self) -> std::path::PathBuf {
        self.root().join("deleted")
    }

    /// The tombstones under `<root>/deleted/`, oldest first.
    pub(crate) fn deleted_tenants(&self) -> StoreResult<Vec<DeletedTenant>> {
        let dir = self.deleted_dir();
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(storage::io_error(format!("listing {}", dir.display()), e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| storage::io_error(format!("listing {}", dir.display()), e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !name.ends_with(".yaml") {
                continue;
            }
            let path = entry.path();
            let Some(text) = storage::read_optional(&path)? else { continue };
            let tomb: DeletedTenant = serde_yaml::from_str(&text).map_err(|e| StoreError::InvalidConfig {
                problems: vec![crate::error::ConfigProblem {
                    file: path.display().to_string(),
                    line: e.location().map_or(0, |l| l.line()),
                    column: e.location().map_or(0, |l| l.column()),
                    pointer: String::new(),
                    message: format!("not a deleted-tenant record: {e}"),
                }],
            })?;
            out.push(tomb);
        }
        out.sort_by(|a, b| a.deleted_at.cmp(&b.deleted_at).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    fn write_tenant(&self, tenant: &Tenant) -> StoreResult<()> {
        let dir = self.tenant_dir(&tenant.slug)?;
        self.store(FileKind::Tenant, &dir.join(FileKind::Tenant.file_name()), tenant, Some(&tenant.slug))
    }
}

/// Checks a tenant before it is written: a valid slug and a name; no NUL and no name over
/// [`CONTROL_NAME`](crate::model::limits::CONTROL_NAME) characters; settings that pass
/// [`TenantSettings::validate`].
pub(crate) fn check_tenant_input(tenant: &Tenant) -> StoreResult<()> {
    validate_slug(&tenant.slug)?;
    if tenant.name.trim().is_empty() {
        return Err(StoreError::invalid("name", "a tenant needs a name"));
    }
    use crate::model::limits::{CONTROL_NAME, check_text, check_text_opt};
    check_text("name", &tenant.name, CONTROL_NAME)?;
    check_text_opt("display_name", tenant.display_name.as_deref(), CONTROL_NAME)?;
    check_text_opt("language", tenant.language.as_deref(), CONTROL_NAME)?;
    tenant.settings.validate()
}

#[async_trait]
impl TenantRepository for FsTenantRepository {
    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs"))]
    async fn list(&self) -> StoreResult<Vec<Tenant>> {
        self.cp.all_tenants()
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs"))]
    async fn get_by_slug(&self, slug: &str) -> StoreResult<Tenant> {
        self.cp.load_tenant(slug)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs"))]
    async fn get_by_id(&self, id: Uuid) -> StoreResult<Tenant> {
        self.cp
            .all_tenants()?
            .into_iter()
            .find(|t| t.id == id)
            .ok_or_else(|| StoreError::not_found("tenant", id))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs"))]
    async fn create(&self, mut tenant: Tenant) -> StoreResult<Tenant> {
        check_tenant_input(&tenant)?;
        seal_settings(self.cp.secrets(), &tenant.slug, &mut tenant.settings)?;
        let at = now();
        tenant.created_at = at;
        tenant.updated_at = at;
        let _guard = self.cp.lock_tenants().await?;
        let final_dir = self.cp.tenant_dir(&tenant.slug)?;
        if final_dir.exists() {
            return Err(StoreError::conflict("tenant", format!("slug {:?} exists", tenant.slug)));
        }
        let live = self.cp.all_tenants()?;
        if live.iter().any(|t| t.id == tenant.id) {
            return Err(StoreError::conflict("tenant", format!("id {} exists", tenant.id)));
        }
        let deleted = self.cp.deleted_tenants()?;
        if deleted.iter().any(|d| d.id == tenant.id) {
            return Err(StoreError::conflict(
                "tenant",
                format!("id {} belongs to a deleted tenant", tenant.id),
            ));
        }
        // Under the tenants lock: no other create can take the same namespace meanwhile.
        control::allocate_namespace(&mut tenant, &live, &deleted)?;
        // Render everything first, so nothing touches the disk unless it all validates.
        let tenant_text = render_for_write(
            FileKind::Tenant,
            &final_dir.join(FileKind::Tenant.file_name()),
            &tenant,
            Some(&tenant.slug),
        )?;
        let scopes =
            ScopesFile { scopes: SYSTEM_SCOPES.iter().map(|n| system_scope(tenant.id, n, at)).collect() };
        let scopes_text =
            render_for_write(FileKind::Scopes, &final_dir.join(FileKind::Scopes.file_name()), &scopes, None)?;
        let clients_text = render_for_write(
            FileKind::Clients,
            &final_dir.join(FileKind::Clients.file_name()),
            &ClientsFile::default(),
            None,
        )?;
        // Build the folder under a dot-name and rename it into place: a crash leaves no
        // half-created tenant.
        let tenants_dir = self.cp.tenants_dir();
        storage::create_dir_private(&tenants_dir)?;
        let tmp_dir = tenants_dir.join(format!(".creating-{}-{:016x}", tenant.slug, rand::random::<u64>()));
        storage::create_dir_private(&tmp_dir)?;
        let built = (|| {
            storage::write_atomic(&tmp_dir.join(FileKind::Tenant.file_name()), tenant_text.as_bytes())?;
            storage::write_atomic(&tmp_dir.join(FileKind::Scopes.file_name()), scopes_text.as_bytes())?;
            storage::write_atomic(&tmp_dir.join(FileKind::Clients.file_name()), clients_text.as_bytes())?;
            std::fs::rename(&tmp_dir, &final_dir)
                .map_err(|e| storage::io_error(format!("renaming onto {}", final_dir.display()), e))?;
            storage::sync_dir(&tenants_dir)
        })();
        if built.is_err() {
            let _ = std::fs::remove_dir_all(&tmp_dir);
        }
        built?;
        tracing::debug!(tenant = %tenant.slug, backend = "fs", "tenant created");
        Ok(tenant)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs"))]
    async fn update(&self, tenant: Tenant) -> StoreResult<Tenant> {
        check_tenant_input(&tenant)?;
        let _guard = self.cp.lock(&format!("tenant-{}", tenant.slug)).await?;
        let mut current = self.cp.load_tenant(&tenant.slug)?;
        control::check_namespace_unchanged(&current, tenant.namespace.as_deref())?;
        let mut settings = tenant.settings;
        seal_settings(self.cp.secrets(), &current.slug, &mut settings)?;
        current.name = tenant.name;
        current.display_name = tenant.display_name;
        current.language = tenant.language;
        current.settings = settings;
        current.updated_at = now();
        self.cp.write_tenant(&current)?;
        Ok(current)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs"))]
    async fn update_settings(&self, slug: &str, mut settings: TenantSettings) -> StoreResult<Tenant> {
        validate_slug(slug)?;
        settings.validate()?;
        let _guard = self.cp.lock(&format!("tenant-{slug}")).await?;
        let mut current = self.cp.load_tenant(slug)?;
        seal_settings(self.cp.secrets(), slug, &mut settings)?;
        current.settings = settings;
        current.updated_at = now();
        self.cp.write_tenant(&current)?;
        Ok(current)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs"))]
    async fn record_provisioning(
        &self,
        slug: &str,
        provisioning: crate::model::Provisioning,
    ) -> StoreResult<Tenant> {
        validate_slug(slug)?;
        let _guard = self.cp.lock(&format!("tenant-{slug}")).await?;
        let mut current = self.cp.load_tenant(slug)?;
        current.provisioning = Some(provisioning);
        self.cp.write_tenant(&current)?;
        Ok(current)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs"))]
    async fn delete(&self, slug: &str) -> StoreResult<()> {
        validate_slug(slug)?;
        let _all = self.cp.lock_tenants().await?;
        let _one = self.cp.lock(&format!("tenant-{slug}")).await?;
        let dir = self.cp.tenant_dir(slug)?;
        if !dir.join(FileKind::Tenant.file_name()).exists() {
            return Err(StoreError::not_found("tenant", slug));
        }
        // The tombstone is written pending first; the rename of the folder below is the
        // commit point, after which it is promoted. A crash in between is settled by the next
        // holder of the tenants lock (`settle_pending_tombstones`) before anything else.
        let tenant = self.cp.load_tenant(slug)?;
        let tomb = control::tombstone(&tenant);
        let deleted_dir = self.cp.deleted_dir();
        storage::create_dir_private(&deleted_dir)?;
        let text = super::yaml::to_string(&tomb).map_err(|e| {
            StoreError::invalid("tenant", format!("rendering the deleted-tenant record: {e}"))
        })?;
        let pending = deleted_dir.join(format!(".pending-{}.yaml", tomb.id));
        storage::write_atomic(&pending, text.as_bytes())?;
        let tenants_dir = self.cp.tenants_dir();
        let trash = tenants_dir.join(format!(".deleting-{slug}-{:016x}", rand::random::<u64>()));
        if let Err(e) = std::fs::rename(&dir, &trash) {
            let _ = std::fs::remove_file(&pending);
            return Err(storage::io_error(format!("removing {}", dir.display()), e));
        }
        storage::sync_dir(&tenants_dir)?;
        let record = deleted_dir.join(format!("{}.yaml", tomb.id));
        std::fs::rename(&pending, &record)
            .map_err(|e| storage::io_error(format!("renaming onto {}", record.display()), e))?;
        storage::sync_dir(&deleted_dir)?;
        std::fs::remove_dir_all(&trash)
            .map_err(|e| storage::io_error(format!("removing {}", trash.display()), e))?;
        // After the commit point: no admin keeps a tenant that no longer exists. A failure
        // here does not undo the delete (logged; `validate` reports what is left).
        if let Err(e) = self.cp.unassign_tenant(tomb.id).await {
            tracing::warn!(tenant = %slug, error = %e, "tenant deleted, but not removed from its admins");
        }
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs"))]
    async fn list_deleted(&self) -> StoreResult<Vec<DeletedTenant>> {
        self.cp.deleted_tenants()
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs"))]
    async fn forget_deleted(&self, id: Uuid) -> StoreResult<()> {
        let _all = self.cp.lock_tenants().await?;
        let dir = self.cp.deleted_dir();
        let path = dir.join(format!("{id}.yaml"));
        match std::fs::remove_file(&path) {
            Ok(()) => storage::sync_dir(&dir),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(StoreError::not_found("deleted tenant", id))
            }
            Err(e) => Err(storage::io_error(format!("removing {}", path.display()), e)),
        }
    }
}
