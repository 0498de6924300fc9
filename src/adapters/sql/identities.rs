//! `IdentityRepository` on the `identities` table (social rows: `provider <> 'password'`).

use std::sync::Arc;

use async_trait::async_trait;
use uuid::Uuid;

use super::SqlContext;
use crate::error::{StoreError, StoreResult};
use crate::model::{SocialIdentity, SocialIdentityInput};
use crate::repository::IdentityRepository;

/// Social identities of one tenant.
pub(crate) struct SqlIdentities {
    ctx: Arc<SqlContext>,
}

impl SqlIdentities {
    pub(crate) fn new(ctx: Arc<SqlContext>) -> Self {
        SqlIdentities { ctx }
    }

    fn pending(&self, op: &str) -> StoreError {
        StoreError::NotSupported {
            operation: format!("identities.{op} (in progress)"),
            backend: self.ctx.backend.name().into(),
        }
    }
}

#[async_trait]
impl IdentityRepository for SqlIdentities {
    async fn get_by_provider(&self, _provider: &str, _provider_user_id: &str) -> StoreResult<SocialIdentity> {
        Err(self.pending("get_by_provider"))
    }
    async fn list_by_user(&self, _user_id: Uuid) -> StoreResult<Vec<SocialIdentity>> {
        Err(self.pending("list_by_user"))
    }
    async fn upsert(&self, _input: SocialIdentityInput) -> StoreResult<(Uuid, bool)> {
        Err(self.pending("upsert"))
    }
    async fn link(&self, _user_id: Uuid, _input: SocialIdentityInput) -> StoreResult<SocialIdentity> {
        Err(self.pending("link"))
    }
    async fn unlink(&self, _user_id: Uuid, _provider: &str) -> StoreResult<()> {
        Err(self.pending("unlink"))
    }
    async fn update_claims(&self, _identity_id: Uuid, _claims: serde_json::Value) -> StoreResult<()> {
        Err(self.pending("update_claims"))
    }
}
