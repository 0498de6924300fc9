//! The data plane of a tenant without a database: every repository accessor returns
//! [`StoreError::NoDatabase`]. The same connection also stands for a tenant whose database
//! could not be reached when it was resolved ([`NoopConnection::unavailable`]): then every
//! accessor returns [`StoreError::Unavailable`]. Owns no state and touches nothing.

use std::sync::Arc;

use async_trait::async_trait;

use crate::error::{StoreError, StoreResult};
use crate::registry::AdapterConnection;
use crate::repository::{
    ConsentRepository, EmailTokenRepository, IdentityRepository, MfaRepository, RbacRepository,
    SessionRepository, TokenRepository, UserRepository,
};

/// A connection for a tenant with no data plane.
#[derive(Debug, Clone)]
pub struct NoopConnection {
    tenant: String,
    unavailable: Option<(String, String)>,
}

impl NoopConnection {
    /// The no-op data plane of `tenant` (a slug, used in the errors).
    pub fn new(tenant: impl Into<String>) -> Self {
        NoopConnection { tenant: tenant.into(), unavailable: None }
    }

    /// The data plane of `tenant` whose `backend` could not be reached: every accessor
    /// returns `Unavailable` with `message`.
    pub fn unavailable(
        tenant: impl Into<String>,
        backend: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        NoopConnection { tenant: tenant.into(), unavailable: Some((backend.into(), message.into())) }
    }

    fn no_db(&self) -> StoreError {
        match &self.unavailable {
            None => StoreError::NoDatabase { tenant: self.tenant.clone() },
            Some((backend, message)) => StoreError::unavailable(backend.clone(), message.clone()),
        }
    }
}

#[async_trait]
impl AdapterConnection for NoopConnection {
    /// `noop`, or the driver of the database that could not be reached.
    fn name(&self) -> &str {
        match &self.unavailable {
            None => "noop",
            Some((backend, _)) => backend,
        }
    }
    async fn ping(&self) -> StoreResult<()> {
        match self.unavailable {
            None => Ok(()),
            Some(_) => Err(self.no_db()),
        }
    }
    async fn close(&self) -> StoreResult<()> {
        Ok(())
    }
    fn users(&self) -> StoreResult<Arc<dyn UserRepository>> {
        Err(self.no_db())
    }
    fn identities(&self) -> StoreResult<Arc<dyn IdentityRepository>> {
        Err(self.no_db())
    }
    fn tokens(&self) -> StoreResult<Arc<dyn TokenRepository>> {
        Err(self.no_db())
    }
    fn mfa(&self) -> StoreResult<Arc<dyn MfaRepository>> {
        Err(self.no_db())
    }
    fn consents(&self) -> StoreResult<Arc<dyn ConsentRepository>> {
        Err(self.no_db())
    }
    fn rbac(&self) -> StoreResult<Arc<dyn RbacRepository>> {
        Err(self.no_db())
    }
    fn sessions(&self) -> StoreResult<Arc<dyn SessionRepository>> {
        Err(self.no_db())
    }
    fn email_tokens(&self) -> StoreResult<Arc<dyn EmailTokenRepository>> {
        Err(self.no_db())
    }
}
