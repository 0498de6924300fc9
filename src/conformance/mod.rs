//! The conformance suite: one list of test bodies over the repository traits, run by every
//! backend. A backend's test file only says how to build a fresh, empty store:
//!
//! ```ignore
//! async fn fresh() -> hellojohn_store::conformance::Fixture { /* connect to an empty namespace */ }
//! hellojohn_store::data_plane_conformance!(fresh);
//! ```
//!
//! The macro expands to one `#[tokio::test]` per case, named after the case, so a failure
//! names both the case and (through the test binary) the backend. Cases live in
//! [`data_plane`]; the list of names is [`data_plane_cases!`](crate::data_plane_cases).
//! The control plane has its own list in [`control_plane`]
//! ([`control_plane_conformance!`](crate::control_plane_conformance)).

pub mod cache;
pub mod control_plane;
pub mod data_plane;
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub mod global;
pub mod isolation;
pub mod lifecycle;
#[cfg(feature = "postgres")]
pub mod pgbouncer;
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
pub mod sql;

pub use control_plane::{ControlPlane, ControlPlaneFixture};

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::registry::AdapterConnection;
use crate::repository::{
    ConsentRepository, EmailTokenRepository, IdentityRepository, MfaRepository, RbacRepository,
    SessionRepository, TokenRepository, UserRepository,
};

/// The data plane of one tenant as the cases see it: repository accessors that panic with
/// the backend's error when the backend lacks a repository (a conformance failure).
#[derive(Clone)]
pub struct DataPlane {
    conn: Arc<dyn AdapterConnection>,
}

macro_rules! accessor {
    ($name:ident, $trait:ident) => {
        #[doc = concat!("The `", stringify!($trait), "` of the store under test.")]
        pub fn $name(&self) -> Arc<dyn $trait> {
            match self.conn.$name() {
                Ok(repo) => repo,
                Err(e) => panic!("backend {} has no {}: {e}", self.conn.name(), stringify!($name)),
            }
        }
    };
}

impl DataPlane {
    /// Wraps an open connection.
    pub fn new(conn: Arc<dyn AdapterConnection>) -> Self {
        DataPlane { conn }
    }
    /// The connection under test.
    pub fn connection(&self) -> &Arc<dyn AdapterConnection> {
        &self.conn
    }
    accessor!(users, UserRepository);
    accessor!(identities, IdentityRepository);
    accessor!(tokens, TokenRepository);
    accessor!(mfa, MfaRepository);
    accessor!(consents, ConsentRepository);
    accessor!(rbac, RbacRepository);
    accessor!(sessions, SessionRepository);
    accessor!(email_tokens, EmailTokenRepository);
}

type Cleanup = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A fresh, empty store and how to remove it after the case.
pub struct Fixture {
    /// The store under test.
    pub store: DataPlane,
    cleanup: Option<Cleanup>,
}

impl Fixture {
    /// A fixture with nothing to clean up (a temporary file that removes itself, …).
    pub fn new(conn: Arc<dyn AdapterConnection>) -> Self {
        Fixture { store: DataPlane::new(conn), cleanup: None }
    }

    /// A fixture whose namespace is dropped by `cleanup` after the case passes.
    pub fn with_cleanup(
        conn: Arc<dyn AdapterConnection>,
        cleanup: impl Future<Output = ()> + Send + 'static,
    ) -> Self {
        Fixture { store: DataPlane::new(conn), cleanup: Some(Box::pin(cleanup)) }
    }

    /// Closes the connection and runs the cleanup.
    pub async fn teardown(self) {
        let _ = self.store.conn.close().await;
        if let Some(cleanup) = self.cleanup {
            cleanup.await;
        }
    }
}

/// Expands to one `#[tokio::test]` per data-plane case, each building its store with
/// `$fixture().await` (an `async fn() -> Fixture`).
#[macro_export]
macro_rules! data_plane_conformance {
    ($fixture:path) => {
        $crate::data_plane_cases!(__data_plane_test, $fixture);

        #[test]
        fn conformance_case_count() {
            let cases: &[&str] = &$crate::data_plane_cases!(__case_name_list);
            // How many ran on each backend: `make test`'s closing table (scripts/case-counts.sh).
            assert!(!cases.is_empty(), "the data-plane conformance list is empty");
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __data_plane_test {
    ($fixture:path, $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let fixture = $fixture().await;
                $crate::conformance::data_plane::$case(&fixture.store).await;
                fixture.teardown().await;
            }
        )*
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __case_name_list {
    ($($case:ident),* $(,)?) => { [$(stringify!($case)),*] };
}
