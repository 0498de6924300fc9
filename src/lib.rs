//! hellojohn-store: the data-access layer of HelloJohn, a multi-tenant OAuth2/OpenID
//! Connect identity provider.
//!
//! - [`model`] and [`repository`]: the domain types and one trait per aggregate.
//! - [`mode`]: the four operational modes and their capabilities.
//! - [`registry`]: database adapters by driver name.
//! - [`manager`]: the entry point: [`manager::Manager`] resolves a tenant into its
//!   repositories and cache (cached per tenant) and reaches the control plane.
//! - [`pool`]: the open data-plane connections, one per tenant, bounded and evicted when idle.
//! - [`cache`]: the per-tenant caches behind [`repository::Cache`] (in-process moka, Redis).
//! - [`adapters`]: the backends (SQL through SeaORM, file-system control plane, no-op).
//! - [`crypto`]: encryption of control-plane secrets at rest ([`crypto::SecretBox`]).
//! - [`error`]: the one public error type, [`StoreError`].
//!
//! See `ARCHITECTURE.md` for the map.

#![warn(missing_docs)]

pub mod adapters;
#[cfg(all(feature = "bench", any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
pub mod bench;
pub mod cache;
#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod crypto;
pub mod error;
pub mod manager;
pub mod mode;
pub mod model;
pub mod password;
pub mod pool;
pub mod registry;
pub mod repository;

pub use error::{StoreError, StoreResult};
pub use mode::{Capabilities, DbConfig, ModeConfig, OperationalMode, detect_mode};
pub use registry::{
    Adapter, AdapterConnection, ConnectConfig, Location, Registry, ServerConfig, ServerPool, TenantRef,
};
