//! `AdminRepository` and `AdminRefreshTokenRepository` over `admins/admins.yaml` and
//! `admins/refresh_tokens.yaml`. Both files are written under one lock (`admins`).

use std::path::PathBuf;

use async_trait::async_trait;
use uuid::Uuid;

use super::FsControlPlane;
use super::schema::{AdminRefreshTokensFile, AdminsFile, FileKind};
use crate::error::{StoreError, StoreResult};
use crate::model::{
    Admin, AdminFilter, AdminInput, AdminRefreshToken, AdminType, AdminUpdate, Timestamp, new_id, now,
};
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
        file.admins.sort_by_key(|a| a.email.to_lowercase());
        self.store(FileKind::Admins, &self.admins_path(), &file, None)
    }

    fn load_tokens(&self) -> StoreResult<AdminRefreshTokensFile> {
        Ok(self.load(FileKind::AdminRefreshTokens, &self.tokens_path(), None)?.unwrap_or_default())
    }

    fn save_tokens(&self, mut file: AdminRefreshTokensFile) -> StoreResult<()> {
        super::storage::create_dir_private(&self.admins_dir())?;
        file.refresh_tokens.sort_by(|a, b| (a.created_at, &a.token_hash).cmp(&(b.created_at, &b.token_hash)));
        self.store(FileKind::AdminRefreshTokens, &self.tokens_path(), &file, None)
    }
}

fn validate_email(email: &str) -> StoreResult<()> {
    let ok = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    };
    if ok { Ok(()) } else { Err(StoreError::invalid("email", format!("{email:?} is not an e-mail address"))) }
}

fn validate_hash(hash: &str) -> StoreResult<()> {
    let argon =
        ["$argon2id$", "$argon2i$", "$argon2d$"].iter().any(|p| hash.starts_with(p) && hash.len() > p.len());
    let bcrypt = ["$2a$", "$2b$", "$2y$"].iter().any(|p| hash.starts_with(p)) && hash.len() == 60;
    if (argon || bcrypt) && !hash.chars().any(char::is_whitespace) {
        Ok(())
    } else {
        Err(StoreError::invalid("password_hash", "expected an argon2 PHC string or a bcrypt hash"))
    }
}

fn validate_token_hash(hash: &str) -> StoreResult<()> {
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
        let admin =
            file.admins.iter_mut().find(|a| a.id == id).ok_or_else(|| StoreError::not_found("admin", id))?;
        change(admin);
        let updated = admin.clone();
        self.cp.save_admins(file)?;
        Ok(updated)
    }
}

#[async_trait]
impl AdminRepository for FsAdminRepository {
    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs"))]
    async fn list(&self, filter: &AdminFilter) -> StoreResult<Vec<Admin>> {
        let mut admins: Vec<Admin> = self
            .cp
            .load_admins()?
            .admins
            .into_iter()
            .filter(|a| filter.admin_type.is_none_or(|t| a.admin_type == t))
            .filter(|a| filter.disabled.is_none_or(|d| a.disabled_at.is_some() == d))
            .collect();
        admins.sort_by_key(|a| a.email.to_lowercase());
        let offset = usize::try_from(filter.offset).unwrap_or(usize::MAX);
        let limit =
            if filter.limit == 0 { usize::MAX } else { usize::try_from(filter.limit).unwrap_or(usize::MAX) };
        Ok(admins.into_iter().skip(offset).take(limit).collect())
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
        let wanted = input.email.to_lowercase();
        if file.admins.iter().any(|a| a.email.to_lowercase() == wanted) {
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
        file.admins.push(admin.clone());
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
        if let Some(email) = &input.email {
            let wanted = email.to_lowercase();
            if file.admins.iter().any(|a| a.id != id && a.email.to_lowercase() == wanted) {
                return Err(StoreError::conflict("admin", format!("e-mail {email:?} exists")));
            }
        }
        let admin =
            file.admins.iter_mut().find(|a| a.id == id).ok_or_else(|| StoreError::not_found("admin", id))?;
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
        let mut ids = tenant_ids.to_vec();
        ids.sort();
        ids.dedup();
        self.modify(id, move |a| {
            a.assigned_tenants = ids;
            a.updated_at = now();
        })
        .await
        .map(|_| ())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs"))]
    async fn has_access_to_tenant(&self, id: Uuid, tenant_id: Uuid) -> StoreResult<bool> {
        let admin = self.get_by_id(id).await?;
        if admin.disabled_at.is_some() {
            return Ok(false);
        }
        Ok(match admin.admin_type {
            AdminType::Global => true,
            AdminType::Tenant => admin.assigned_tenants.contains(&tenant_id),
        })
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
        if !self.cp.load_admins()?.admins.iter().any(|a| a.id == admin_id) {
            return Err(StoreError::not_found("admin", admin_id));
        }
        let mut file = self.cp.load_tokens()?;
        if file.refresh_tokens.iter().any(|t| t.token_hash == token_hash) {
            return Err(StoreError::conflict("admin_refresh_token", "token hash exists"));
        }
        let token = AdminRefreshToken {
            token_hash: token_hash.to_string(),
            admin_id,
            created_at: now(),
            expires_at: crate::model::truncate_micros(expires_at),
        };
        file.refresh_tokens.push(token.clone());
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
