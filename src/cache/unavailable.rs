//! The cache of a tenant whose cache server could not be reached when its access was built:
//! every call returns `Unavailable`, so the tenant still resolves (control plane and data
//! plane work) and the manager tries the server again on the next `for_tenant`.

use std::time::Duration;

use async_trait::async_trait;

use crate::error::{StoreError, StoreResult};
use crate::repository::{Cache, CacheStats};

/// A cache whose every call fails with `Unavailable`, naming the backend and why.
#[derive(Debug, Clone)]
pub struct UnavailableCache {
    backend: String,
    message: String,
}

impl UnavailableCache {
    /// A stand-in for the `backend` cache of a tenant, failing with `message`.
    pub fn new(backend: impl Into<String>, message: impl Into<String>) -> Self {
        UnavailableCache { backend: backend.into(), message: message.into() }
    }

    fn fail<T>(&self) -> StoreResult<T> {
        Err(StoreError::unavailable(self.backend.clone(), self.message.clone()))
    }
}

#[async_trait]
impl Cache for UnavailableCache {
    async fn get(&self, _key: &str) -> StoreResult<Option<Vec<u8>>> {
        self.fail()
    }
    async fn set(&self, _key: &str, _value: &[u8], _ttl: Option<Duration>) -> StoreResult<()> {
        self.fail()
    }
    async fn delete(&self, _key: &str) -> StoreResult<bool> {
        self.fail()
    }
    async fn exists(&self, _key: &str) -> StoreResult<bool> {
        self.fail()
    }
    async fn get_many(&self, _keys: &[String]) -> StoreResult<Vec<Option<Vec<u8>>>> {
        self.fail()
    }
    async fn set_many(&self, _entries: &[(String, Vec<u8>)], _ttl: Option<Duration>) -> StoreResult<()> {
        self.fail()
    }
    async fn delete_many(&self, _keys: &[String]) -> StoreResult<u64> {
        self.fail()
    }
    async fn delete_by_prefix(&self, _prefix: &str) -> StoreResult<u64> {
        self.fail()
    }
    async fn take(&self, _key: &str) -> StoreResult<Option<Vec<u8>>> {
        self.fail()
    }
    async fn set_if_absent(&self, _key: &str, _value: &[u8], _ttl: Option<Duration>) -> StoreResult<bool> {
        self.fail()
    }
    async fn ping(&self) -> StoreResult<()> {
        self.fail()
    }
    async fn stats(&self) -> StoreResult<CacheStats> {
        self.fail()
    }
}
