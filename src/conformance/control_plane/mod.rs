//! Control-plane conformance: one list of cases over tenants, clients, scopes, admins and
//! admin refresh tokens, run by every control-plane backend (the file system now, the
//! global database later). A backend's test file only says how to build a fresh, empty
//! store:
//!
//! ```ignore
//! async fn fresh() -> hellojohn_store::conformance::ControlPlaneFixture { /* empty root */ }
//! hellojohn_store::control_plane_conformance!(fresh);
//! ```
//!
//! Each case is a `pub async fn(&ControlPlane)` named for the behaviour it proves and listed
//! once in [`control_plane_cases!`](crate::control_plane_cases).

mod admins;
mod clients;
mod scopes;
mod tenants;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub use admins::*;
pub use clients::*;
pub use scopes::*;
pub use tenants::*;

use crate::crypto::SecretBox;
use crate::repository::{
    AdminRefreshTokenRepository, AdminRepository, ClientRepository, ControlPlaneStore, ScopeRepository,
    TenantRepository,
};

/// The control plane as the cases see it: accessors that panic with the backend's error
/// when it lacks a repository (a conformance failure), and the key the store seals with.
#[derive(Clone)]
pub struct ControlPlane {
    store: Arc<dyn ControlPlaneStore>,
    secrets: SecretBox,
}

impl ControlPlane {
    /// Wraps a store that seals secrets with `secrets`.
    pub fn new(store: Arc<dyn ControlPlaneStore>, secrets: SecretBox) -> Self {
        ControlPlane { store, secrets }
    }

    /// The store under test.
    pub fn store(&self) -> &Arc<dyn ControlPlaneStore> {
        &self.store
    }

    /// The key the store under test seals secrets with.
    pub fn secrets(&self) -> &SecretBox {
        &self.secrets
    }

    /// The tenant repository.
    pub fn tenants(&self) -> Arc<dyn TenantRepository> {
        self.store
            .tenants()
            .unwrap_or_else(|e| panic!("backend {} has no tenants: {e}", self.store.backend()))
    }

    /// The client repository of `slug`.
    pub fn clients(&self, slug: &str) -> Arc<dyn ClientRepository> {
        self.store
            .clients(slug)
            .unwrap_or_else(|e| panic!("backend {} has no clients: {e}", self.store.backend()))
    }

    /// The scope repository of `slug`.
    pub fn scopes(&self, slug: &str) -> Arc<dyn ScopeRepository> {
        self.store
            .scopes(slug)
            .unwrap_or_else(|e| panic!("backend {} has no scopes: {e}", self.store.backend()))
    }

    /// The admin repository.
    pub fn admins(&self) -> Arc<dyn AdminRepository> {
        self.store.admins().unwrap_or_else(|e| panic!("backend {} has no admins: {e}", self.store.backend()))
    }

    /// The admin refresh-token repository.
    pub fn admin_refresh_tokens(&self) -> Arc<dyn AdminRefreshTokenRepository> {
        self.store
            .admin_refresh_tokens()
            .unwrap_or_else(|e| panic!("backend {} has no admin refresh tokens: {e}", self.store.backend()))
    }
}

type Cleanup = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A fresh, empty control plane and how to remove it after the case.
pub struct ControlPlaneFixture {
    /// The store under test.
    pub store: ControlPlane,
    cleanup: Option<Cleanup>,
}

impl ControlPlaneFixture {
    /// A fixture with nothing to clean up.
    pub fn new(store: Arc<dyn ControlPlaneStore>, secrets: SecretBox) -> Self {
        ControlPlaneFixture { store: ControlPlane::new(store, secrets), cleanup: None }
    }

    /// A fixture whose storage is removed by `cleanup` after the case passes.
    pub fn with_cleanup(
        store: Arc<dyn ControlPlaneStore>,
        secrets: SecretBox,
        cleanup: impl Future<Output = ()> + Send + 'static,
    ) -> Self {
        ControlPlaneFixture { store: ControlPlane::new(store, secrets), cleanup: Some(Box::pin(cleanup)) }
    }

    /// Runs the cleanup.
    pub async fn teardown(self) {
        if let Some(cleanup) = self.cleanup {
            cleanup.await;
        }
    }
}

/// The one list of control-plane cases. Calls `$crate::$callback!($($arg,)? case, case, …)`.
#[macro_export]
macro_rules! control_plane_cases {
    ($cb:ident $(, $arg:path)?) => {
        $crate::$cb! {$($arg,)?
            tenants_create_then_get_by_slug_and_id,
            tenants_list_is_sorted_by_slug,
            tenants_duplicate_slug_is_conflict,
            tenants_bad_slug_is_invalid_input_never_a_path,
            tenants_unknown_is_not_found,
            tenants_update_keeps_slug_id_and_created_at,
            tenants_update_settings_replaces_settings_only,
            tenants_secrets_are_sealed_and_bound_to_tenant_and_field,
            tenants_delete_removes_clients_and_scopes,
            tenants_namespaces_are_unique_immutable_and_outlive_delete,
            tenants_racing_creates_never_share_a_namespace,
            tenants_clients_and_scopes_refuse_nul_and_overlong_strings,
            tenants_never_get_a_system_namespace,
            tenants_settings_rules_are_invalid_input_naming_the_field,
            clients_create_get_list_delete,
            clients_duplicate_client_id_is_conflict,
            clients_unknown_is_not_found,
            clients_update_keeps_untouched_fields_and_secret,
            clients_bad_client_id_or_redirect_uri_is_invalid_input,
            clients_unknown_scope_is_invalid_input,
            clients_redirect_uris_follow_rfc_8252_and_the_security_bcp,
            clients_secret_is_sealed_and_decrypts,
            clients_public_client_cannot_have_a_secret,
            clients_confidential_client_needs_a_secret,
            clients_public_client_cannot_use_client_credentials,
            clients_of_one_tenant_are_invisible_to_another,
            clients_of_unknown_tenant_is_tenant_not_found,
            scopes_system_scopes_always_exist,
            scopes_system_scopes_cannot_be_deleted,
            scopes_create_get_update_delete,
            scopes_duplicate_name_is_conflict,
            scopes_upsert_creates_then_updates,
            scopes_in_use_by_a_client_cannot_be_deleted,
            admins_create_get_by_id_and_email_case_insensitive,
            admins_duplicate_email_is_conflict,
            admins_extreme_offsets_and_times_never_panic,
            admins_update_writes_only_given_fields,
            admins_list_filters_and_pages,
            admins_tenant_access_rules,
            admins_touch_last_seen,
            admins_delete_removes_refresh_tokens,
            admins_are_assigned_existing_tenants_only,
            admin_refresh_tokens_create_get_list_delete,
            admin_refresh_tokens_unknown_admin_is_not_found,
            admin_refresh_tokens_purge_expired,
            admin_refresh_tokens_cannot_expire_before_they_are_created,
        }
    };
}

/// Expands to one `#[tokio::test]` per control-plane case, each building its store with
/// `$fixture().await` (an `async fn() -> ControlPlaneFixture`).
#[macro_export]
macro_rules! control_plane_conformance {
    ($fixture:path) => {
        $crate::control_plane_cases!(__control_plane_test, $fixture);

        #[test]
        fn control_plane_conformance_case_count() {
            let cases: &[&str] = &$crate::control_plane_cases!(__case_name_list);
            // How many ran on each backend: `make test`'s closing table (scripts/case-counts.sh).
            assert!(!cases.is_empty(), "the control-plane conformance list is empty");
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __control_plane_test {
    ($fixture:path, $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let fixture = $fixture().await;
                $crate::conformance::control_plane::$case(&fixture.store).await;
                fixture.teardown().await;
            }
        )*
    };
}
