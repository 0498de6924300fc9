//! `AdminRepository` and `AdminRefreshTokenRepository` over `admins/admins.yaml` and
//! `admins/refresh_tokens.yaml`. Both files are written under one lock (`admins`).

use std::path::PathBuf;

use async_trait::async_trait;
use uuid::Uuid;

use super::FsControlPlane;
use super::schema::{AdminRefreshTokensFile, AdminsFile, FileKind};
use crate::adapters::control;
use crate::error::{StoreError, StoreResult};
use crate::model::{Admin, AdminFilter, AdminInput, AdminRefreshToken, AdminUpdate, Timestamp, now};
use crate::repository::{AdminRefreshTokenRepository, AdminRepository};

impl FsControlPlane {
    fn admins_path(&self) -> PathBuf {
        self.admins_dir().join(FileKind::Admins.file_name())
    }

    fn tokens_path(&self) -> PathBuf {
        self.admins_dir().join(FileKind::AdminRefreshTokens.file_name())
    }

    fn load_admins(&self) -> StoreResult<AdminsFile> {
        Ok(self.load(FileKind::Admins, &self.admins_path(), None)?.unwrap_or_default())
    }

    fn save_admins(&self, mut file: AdminsFile) -> StoreResult<()> {
        super::storage::create_dir_private(&self.admins_dir())?;
        control::sort_admins(&mut file.admins);
        self.store(FileKind::Admins, &self.admins_path(), &file, None)
    }

    /// The ids of the live tenants, for the rule that an admin's tenants exist.
    fn tenant_ids(&self) -> StoreResult<Vec<Uuid>> {
        Ok(self.all_tenants()?.into_iter().map(|t| t.id).collect())
    }

    /// Removes the tenant `tenant_id` from every admin's assigned tenants (the tenant was
    /// deleted), under the `admins` lock.
    pub(crate) async fn unassign_tenant(&self, tenant_id: Uuid) -> StoreResult<()> {
        let _guard = self.lock("admins").await?;
        let mut file = self.load_admins()?;
        if control::unassign_tenant(&mut file.admins, tenant_id) {
            self.save_admins(file)?;
        }
        Ok(())
    }

    fn load_tokens(&self) -> StoreResult<AdminRefreshTokensFile> {
        Ok(self.load(FileKind::AdminRefreshTokens, &self.tokens_path(), None)?.unwrap_or_default())
    }

    fn save_tokens(&self, mut file: AdminRefreshTokensFile) -> StoreResult<()> {
        super::storage::create_dir_private(&self.admins_dir())?;
        control::sort_tokens(&mut file.refresh_tokens);
        self.store(FileKind::AdminRefreshTokens, &self.tokens_path(), &file, None)
    }
}

/// Input check shared by the control-plane backends: the schemas' definition of an
/// address ([`validate_email_address`](crate::model::validate_email_address)).
pub(crate) fn validate_email(email: &str) -> StoreResult<()> {
    crate::model::validate_email_address("email", email)
}

/// Input check shared by the control-plane backends: the data plane's
/// [`validate_password_hash`](crate::password::validate_password_hash) (known format, cost
/// parameters within limits).
pub(crate) fn validate_hash(hash: &str) -> StoreResult<()> {
    crate::password::validate_password_hash(hash)
}

/// Input check shared by the control-plane backends.
pub(crate) fn validate_token_hash(hash: &str) -> StoreResult<()> {
    let ok = (16..=256).contains(&hash.len())
        && hash.bytes().all(|b| b.is_ascii_alphanumeric() || b"_=+/-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(StoreError::invalid("token_hash", "expected 16 to 256 hex or base64 characters"))
    }
}

/// Admins in `admins/admins.yaml`.
#[derive(Debug, Clone)]
pub struct FsAdminRepository {
    cp: FsControlPlane,
}

impl FsAdminRepository {
    /// The repository of `cp`.
    pub fn new(cp: FsControlPlane) -> Self {
        FsAdminRepository { cp }
    }

    /// Runs `change` on the admin `id` under the lock and writes the file.
    async fn modify(&self, id: Uuid, change: impl FnOnce(&mut Admin) + Send) -> StoreResult<Admin> {
        let _guard = self.cp.lock("admins").await?;
        let mut file = self.cp.load_admins()?;
        let updated = control::modify_admin(&mut file.admins, id, change)?;
        self.cp.save_admins(file)?;
        Ok(updated)
    }
}

#[async_trait]
impl AdminRepository for FsAdminRepository {
    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs"))]
    async fn list(&self, filter: &AdminFilter) -> StoreResult<Vec<Admin>> {
        Ok(control::list_admins(self.cp.load_admins()?.admins, filter))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs"))]
    async fn get_by_id(&self, id: Uuid) -> StoreResult<Admin> {
        self.cp
            .load_admins()?
            .admins
            .into_iter()
            .find(|a| a.id == id)
            .ok_or_else(|| StoreError::not_found("admin", id))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs"))]
    async fn get_by_email(&self, email: &str) -> StoreResult<Admin> {
        let wanted = email.to_lowercase();
        self.cp
            .load_admins()?
            .admins
            .into_iter()
            .find(|a| a.email.to_lowercase() == wanted)
            .ok_or_else(|| StoreError::not_found("admin", email))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs"))]
    async fn create(&self, input: AdminInput) -> StoreResult<Admin> {
        validate_email(&input.email)?;
        validate_hash(&input.password_hash)?;
        let _guard = self.cp.lock("admins").await?;
        let mut file = self.cp.load_admins()?;
        let tenants = if input.assigned_tenants.is_empty() { Vec::new() } else { self.cp.tenant_ids()? };
        let admin = control::create_admin(&mut file.admins, input, &tenants)?;
        self.cp.save_admins(file)?;
        Ok(admin)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs"))]
    async fn update(&self, id: Uuid, input: AdminUpdate) -> StoreResult<Admin> {
        if let Some(email) = &input.email {
            validate_email(email)?;
        }
        if let Some(hash) = &input.password_hash {
            validate_hash(hash)?;
        }
        let _guard = self.cp.lock("admins").await?;
        let mut file = self.cp.load_admins()?;
        let updated = control::update_admin(&mut file.admins, id, input)?;
        self.cp.save_admins(file)?;
        Ok(updated)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs"))]
    async fn delete(&self, id: Uuid) -> StoreResult<()> {
        let _guard = self.cp.lock("admins").await?;
        let mut file = self.cp.load_admins()?;
        let before = file.admins.len();
        file.admins.retain(|a| a.id != id);
        if file.admins.len() == before {
            return Err(StoreError::not_found("admin", id));
        }
        // Tokens first: a crash in between leaves an admin without tokens, never tokens
        // without an admin.
        let mut tokens = self.cp.load_tokens()?;
        let count = tokens.refresh_tokens.len();
        tokens.refresh_tokens.retain(|t| t.admin_id != id);
        if tokens.refresh_tokens.len() != count {
            self.cp.save_tokens(tokens)?;
        }
        self.cp.save_admins(file)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs"))]
    async fn touch_last_seen(&self, id: Uuid) -> StoreResult<()> {
        self.modify(id, |a| a.last_seen_at = Some(now())).await.map(|_| ())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs"))]
    async fn assign_tenants(&self, id: Uuid, tenant_ids: &[Uuid]) -> StoreResult<()> {
        let _guard = self.cp.lock("admins").await?;
        let mut file = self.cp.load_admins()?;
        let tenants = if tenant_ids.is_empty() { Vec::new() } else { self.cp.tenant_ids()? };
        control::assign_tenants(&mut file.admins, id, tenant_ids, &tenants)?;
        self.cp.save_admins(file)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs"))]
    async fn has_access_to_tenant(&self, id: Uuid, tenant_id: Uuid) -> StoreResult<bool> {
        Ok(control::admin_has_access(&self.get_by_id(id).await?, tenant_id))
    }
}

/// Admin refresh tokens in `admins/refresh_tokens.yaml`.
#[derive(Debug, Clone)]
pub struct FsAdminRefreshTokenRepository {
    cp: FsControlPlane,
}

impl FsAdminRefreshTokenRepository {
    /// The repository of `cp`.
    pub fn new(cp: FsControlPlane) -> Self {
        FsAdminRefreshTokenRepository { cp }
    }

    async fn remove_where(&self, pred: impl Fn(&AdminRefreshToken) -> bool + Send) -> StoreResult<u64> {
        let _guard = self.cp.lock("admins").await?;
        let mut file = self.cp.load_tokens()?;
        let before = file.refresh_tokens.len();
        file.refresh_tokens.retain(|t| !pred(t));
        let removed = before - file.refresh_tokens.len();
        if removed > 0 {
            self.cp.save_tokens(file)?;
        }
        Ok(removed as u64)
    }
}

#[async_trait]
impl AdminRefreshTokenRepository for FsAdminRefreshTokenRepository {
    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs"))]
    async fn create(
        &self,
        admin_id: Uuid,
        token_hash: &str,
        expires_at: Timestamp,
    ) -> StoreResult<AdminRefreshToken> {
        validate_token_hash(token_hash)?;
        let _guard = self.cp.lock("admins").await?;
        let admins = self.cp.load_admins()?;
        let mut file = self.cp.load_tokens()?;
        let token = control::create_token(
            &admins.admins,
            &mut file.refresh_tokens,
            admin_id,
            token_hash,
            expires_at,
        )?;
        self.cp.save_tokens(file)?;
        Ok(token)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs"))]
    async fn get_by_hash(&self, token_hash: &str) -> StoreResult<AdminRefreshToken> {
        self.cp
            .load_tokens()?
            .refresh_tokens
            .into_iter()
            .find(|t| t.token_hash == token_hash)
            .ok_or_else(|| StoreError::not_found("admin_refresh_token", "<hash>"))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs"))]
    async fn list_by_admin(&self, admin_id: Uuid) -> StoreResult<Vec<AdminRefreshToken>> {
        let mut tokens: Vec<AdminRefreshToken> =
            self.cp.load_tokens()?.refresh_tokens.into_iter().filter(|t| t.admin_id == admin_id).collect();
        tokens.sort_by(|a, b| (a.created_at, &a.token_hash).cmp(&(b.created_at, &b.token_hash)));
        Ok(tokens)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs"))]
    async fn delete(&self, token_hash: &str) -> StoreResult<()> {
        let hash = token_hash.to_string();
        match self.remove_where(move |t| t.token_hash == hash).await? {
            0 => Err(StoreError::not_found("admin_refresh_token", "<hash>")),
            _ => Ok(()),
        }
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs"))]
    async fn delete_by_admin(&self, admin_id: Uuid) -> StoreResult<u64> {
        self.remove_where(move |t| t.admin_id == admin_id).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs"))]
    async fn purge_expired(&self, now: Timestamp) -> StoreResult<u64> {
        self.remove_where(move |t| t.expires_at < now).await
    }
}
