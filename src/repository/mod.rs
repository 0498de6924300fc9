//! One `#[async_trait]` trait per aggregate: the contract every backend implements and the
//! conformance suite checks. Traits are `Send + Sync` and used as `Arc<dyn …>`.
//!
//! Data-plane repositories are already scoped to one tenant by the connection they came
//! from; no method takes a tenant argument. Every method returns
//! [`StoreResult`](crate::error::StoreResult), but for the few that cannot fail (their docs
//! say "Never fails"); a backend that cannot be reached returns
//! [`StoreError::Unavailable`](crate::error::StoreError::Unavailable) from any method.
//! Each method's `Errors:` line names what it returns by design; any call may also return
//! `Backend` for a driver failure with no better name.

mod admin;
mod cache;
mod client;
mod consent;
mod control_plane;
mod email_token;
mod identity;
mod mfa;
mod rbac;
mod scope;
mod session;
mod tenant;
mod token;
mod user;

pub use admin::*;
pub use cache::*;
pub use client::*;
pub use consent::*;
pub use control_plane::*;
pub use email_token::*;
pub use identity::*;
pub use mfa::*;
pub use rbac::*;
pub use scope::*;
pub use session::*;
pub use tenant::*;
pub use token::*;
pub use user::*;
