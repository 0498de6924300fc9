//! `UserRepository` on the `users` and `identities` tables.

use std::sync::Arc;

use async_trait::async_trait;
use uuid::Uuid;

use super::SqlContext;
use crate::error::{StoreError, StoreResult};
use crate::model::{CreateUserInput, Identity, Timestamp, UpdateUserInput, User, UserFilter};
use crate::repository::UserRepository;

/// Users of one tenant.
pub(crate) struct SqlUsers {
    ctx: Arc<SqlContext>,
}

impl SqlUsers {
    pub(crate) fn new(ctx: Arc<SqlContext>) -> Self {
        SqlUsers { ctx }
    }

    fn pending(&self, op: &str) -> StoreError {
        StoreError::NotSupported {
            operation: format!("users.{op} (in progress)"),
            backend: self.ctx.backend.name().into(),
        }
    }
}

#[async_trait]
impl UserRepository for SqlUsers {
    async fn get_by_email(&self, _email: &str) -> StoreResult<(User, Option<Identity>)> {
        Err(self.pending("get_by_email"))
    }
    async fn get_by_id(&self, _user_id: Uuid) -> StoreResult<User> {
        Err(self.pending("get_by_id"))
    }
    async fn list(&self, _filter: &UserFilter) -> StoreResult<Vec<User>> {
        Err(self.pending("list"))
    }
    async fn count(&self, _search: Option<&str>) -> StoreResult<u64> {
        Err(self.pending("count"))
    }
    async fn create(&self, _input: CreateUserInput) -> StoreResult<(User, Identity)> {
        Err(self.pending("create"))
    }
    async fn update(&self, _user_id: Uuid, _input: UpdateUserInput) -> StoreResult<User> {
        Err(self.pending("update"))
    }
    async fn delete(&self, _user_id: Uuid) -> StoreResult<()> {
        Err(self.pending("delete"))
    }
    async fn disable(
        &self,
        _user_id: Uuid,
        _by: &str,
        _reason: Option<&str>,
        _until: Option<Timestamp>,
    ) -> StoreResult<()> {
        Err(self.pending("disable"))
    }
    async fn enable(&self, _user_id: Uuid, _by: &str) -> StoreResult<()> {
        Err(self.pending("enable"))
    }
    async fn set_email_verified(&self, _user_id: Uuid, _verified: bool) -> StoreResult<()> {
        Err(self.pending("set_email_verified"))
    }
    async fn update_password_hash(&self, _user_id: Uuid, _new_hash: &str) -> StoreResult<()> {
        Err(self.pending("update_password_hash"))
    }
}
