//! Data-plane conformance cases: each is a `pub async fn(&DataPlane)` named for the
//! behaviour it proves, and each is listed once in [`data_plane_cases!`](crate::data_plane_cases).

mod consents;
mod email_tokens;
mod identities;
mod mfa;
mod rbac;
mod sessions;
mod support;
mod tokens;
mod user_cascade;
mod users;

pub use consents::*;
pub use email_tokens::*;
pub use identities::*;
pub use mfa::*;
pub use rbac::*;
pub use sessions::*;
pub use tokens::*;
pub use user_cascade::*;
pub use users::*;

/// The one list of data-plane cases. Calls `$crate::$callback!($($arg,)? case, case, …)`.
#[macro_export]
macro_rules! data_plane_cases {
    ($cb:ident $(, $arg:path)?) => {
        $crate::$cb! {$($arg,)?
            users_create_then_get_by_email,
            // users (cascade)
            users_delete_cascades_to_mfa_consents_roles_and_sessions,
            // mfa
            mfa_totp_upsert_then_get_returns_unconfirmed_enrolment,
            mfa_totp_upsert_again_replaces_secret_and_requires_new_confirmation,
            mfa_totp_confirm_sets_confirmed_at_for_that_user_only,
            mfa_totp_touch_records_last_use_and_keeps_confirmation,
            mfa_totp_calls_without_enrolment_are_not_found,
            mfa_totp_disable_removes_enrolment_idempotently,
            mfa_recovery_code_is_true_once_then_false,
            mfa_recovery_codes_set_replaces_all_earlier_codes,
            mfa_recovery_codes_set_rejects_unknown_user_and_empty_hash,
            mfa_recovery_codes_delete_removes_all_idempotently,
            mfa_recovery_code_used_by_50_concurrent_tasks_is_true_exactly_once,
            mfa_recovery_codes_replaced_concurrently_leave_one_complete_set,
            mfa_trusted_device_is_trusted_until_it_expires,
            mfa_trusted_device_added_again_takes_the_new_expiry,
            mfa_trusted_device_purge_deletes_exactly_the_expired_whatever_the_offset,
            // consents
            consents_upsert_then_get_returns_granted_scopes,
            consents_upsert_again_replaces_scopes_and_keeps_grant_time,
            consents_scopes_are_an_order_free_set,
            consents_revoke_is_a_soft_delete,
            consents_upsert_after_revoke_reactivates_the_consent,
            consents_missing_consent_user_or_client_id_are_refused,
            consents_list_by_user_is_oldest_first_and_per_user,
            consents_list_all_pages_and_counts,
            consents_upserted_by_100_concurrent_tasks_for_different_clients_all_persist,
            consents_concurrent_upserts_of_one_client_leave_one_consent,
            // rbac
            rbac_create_role_then_get_and_list_by_name,
            rbac_create_role_rejects_duplicate_empty_name_and_unknown_parent,
            rbac_calls_on_unknown_role_are_not_found,
            rbac_update_role_replaces_fields_but_keeps_name_and_system_flag,
            rbac_update_role_with_unknown_parent_is_not_found,
            rbac_role_permissions_add_and_remove_idempotently,
            rbac_assign_role_is_idempotent_and_roles_are_sorted,
            rbac_assign_unknown_role_or_user_is_not_found,
            rbac_remove_role_is_idempotent_and_keeps_other_assignments,
            rbac_user_permissions_include_inherited_ones,
            rbac_user_permissions_tolerate_an_inheritance_cycle,
            rbac_delete_role_is_refused_for_a_system_role,
            rbac_delete_role_removes_role_and_its_assignments,
            rbac_role_user_count_counts_holders,
            rbac_concurrent_permission_additions_are_all_kept,
            // sessions
            sessions_create_then_get_returns_every_field,
            sessions_create_rejects_known_hash_and_unknown_user,
            sessions_calls_on_unknown_hash_are_not_found,
            sessions_touch_records_activity_on_that_session_only,
            sessions_revoke_records_who_and_why_and_keeps_the_first_revocation,
            sessions_revoke_all_by_user_revokes_only_that_users_active_sessions,
            sessions_revoke_all_revokes_every_active_session_once,
            sessions_list_filters_orders_and_pages,
            sessions_purge_deletes_exactly_the_expired_whatever_the_offset,
            sessions_stats_count_active_sessions_by_device_and_country,
            // email_tokens
            email_tokens_create_then_consume_returns_the_token,
            email_tokens_consume_is_single_use,
            email_tokens_consumed_by_20_concurrent_callers_succeed_exactly_once,
            email_tokens_expired_token_is_token_expired,
            email_tokens_consume_of_other_kind_or_unknown_hash_is_not_found,
            email_tokens_create_rejects_unknown_user_known_hash_and_bad_input,
            email_tokens_purge_deletes_exactly_the_expired_whatever_the_offset,
        }
    };
}
