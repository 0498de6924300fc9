//! `TokenRepository` on the `refresh_tokens` table.

use std::sync::Arc;

use async_trait::async_trait;
use uuid::Uuid;

use super::SqlContext;
use crate::error::{StoreError, StoreResult};
use crate::model::{CreateRefreshTokenInput, RefreshToken, Timestamp, TokenFilter, TokenStats};
use crate::repository::TokenRepository;

/// Refresh tokens of one tenant.
pub(crate) struct SqlTokens {
    ctx: Arc<SqlContext>,
}

impl SqlTokens {
    pub(crate) fn new(ctx: Arc<SqlContext>) -> Self {
        SqlTokens { ctx }
    }

    fn pending(&self, op: &str) -> StoreError {
        StoreError::NotSupported {
            operation: format!("tokens.{op} (in progress)"),
            backend: self.ctx.backend.name().into(),
        }
    }
}

#[async_trait]
impl TokenRepository for SqlTokens {
    async fn create(&self, _input: CreateRefreshTokenInput) -> StoreResult<Uuid> {
        Err(self.pending("create"))
    }
    async fn get_by_hash(&self, _token_hash: &str) -> StoreResult<RefreshToken> {
        Err(self.pending("get_by_hash"))
    }
    async fn get_by_id(&self, _id: Uuid) -> StoreResult<RefreshToken> {
        Err(self.pending("get_by_id"))
    }
    async fn rotate(
        &self,
        _old_hash: &str,
        _new_hash: &str,
        _ttl: chrono::TimeDelta,
    ) -> StoreResult<RefreshToken> {
        Err(self.pending("rotate"))
    }
    async fn revoke(&self, _id: Uuid) -> StoreResult<()> {
        Err(self.pending("revoke"))
    }
    async fn revoke_all_by_user(&self, _user_id: Uuid, _client_id: Option<&str>) -> StoreResult<u64> {
        Err(self.pending("revoke_all_by_user"))
    }
    async fn revoke_all_by_client(&self, _client_id: &str) -> StoreResult<u64> {
        Err(self.pending("revoke_all_by_client"))
    }
    async fn revoke_all(&self) -> StoreResult<u64> {
        Err(self.pending("revoke_all"))
    }
    async fn list(&self, _filter: &TokenFilter) -> StoreResult<Vec<RefreshToken>> {
        Err(self.pending("list"))
    }
    async fn count(&self, _filter: &TokenFilter) -> StoreResult<u64> {
        Err(self.pending("count"))
    }
    async fn stats(&self) -> StoreResult<TokenStats> {
        Err(self.pending("stats"))
    }
    async fn purge_expired(&self, _now: Timestamp, _batch_size: u64) -> StoreResult<u64> {
        Err(self.pending("purge_expired"))
    }
}
