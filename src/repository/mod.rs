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
//!
//! Every data-plane method also checks the caller's values before any I/O, the same on
//! every backend (the limits of [`crate::model`]: `MAX_OFFSET`, `min_storable_time`,
//! `max_storable_time`, `MAX_TEXT_BYTES`): a string longer than its column or holding a NUL,
//! a JSON value with a NUL, a search term over 320 characters, and a time to be stored
//! outside the years 1000–9999 (also an expiry computed from a ttl) are `InvalidInput`; an
//! offset or page past every row is an empty page; the `now` of `purge_expired` is clamped
//! into the storable range.

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
