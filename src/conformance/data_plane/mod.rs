//! Data-plane conformance cases: each is a `pub async fn(&DataPlane)` named for the
//! behaviour it proves, and each is listed once in [`data_plane_cases!`](crate::data_plane_cases).

mod consents;
mod email_tokens;
mod identities;
mod limits;
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
pub use limits::*;
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
            // users
            users_create_then_get_by_email,
            users_create_stores_every_field_and_get_by_id_reads_it_back,
            users_create_rejects_malformed_email_and_non_object_json,
            users_email_uniqueness_is_case_insensitive,
            users_unknown_user_is_not_found,
            users_update_writes_only_the_given_fields,
            users_list_pages_in_creation_order_and_searches_case_insensitively,
            users_disable_until_round_trips_the_instant_to_the_microsecond,
            users_set_email_verified_updates_user_and_password_identity,
            users_update_password_hash_replaces_or_creates_the_password_identity,
            users_emails_differing_by_an_accent_are_two_accounts,
            users_nfc_and_nfd_spellings_and_letter_case_are_one_account,
            users_email_limits_are_invalid_input_on_every_method,
            users_password_hashes_out_of_limits_or_unknown_are_refused,
            users_delete_removes_identities_and_refresh_tokens,
            // users (cascade)
            users_delete_cascades_to_mfa_consents_roles_and_sessions,
            // identities
            identities_upsert_creates_user_then_updates_the_same_identity,
            identities_upsert_links_to_the_user_with_the_same_email_in_any_case,
            identities_upsert_refuses_to_link_an_unverified_provider_email,
            identities_upsert_refuses_to_link_to_an_account_with_an_unverified_email,
            identities_existing_identity_logs_in_whatever_the_verification_flags,
            identities_provider_user_ids_differing_in_case_or_accents_are_distinct,
            identities_upsert_rejects_missing_provider_id_or_email,
            identities_concurrent_upserts_of_one_identity_create_one_user,
            identities_concurrent_first_logins_link_once_or_not_at_all,
            identities_link_attaches_updates_and_refuses_another_users_identity,
            identities_unlink_refuses_the_last_way_to_log_in,
            identities_update_claims_changes_only_that_identity,
            // tokens
            tokens_create_then_get_by_hash_and_id,
            tokens_expiry_in_2040_round_trips,
            tokens_create_refuses_unknown_user_duplicate_hash_and_bad_input,
            tokens_rotate_issues_the_next_token_of_the_family,
            tokens_reusing_a_rotated_token_revokes_the_whole_family,
            tokens_rotating_an_expired_or_unknown_token_fails,
            tokens_rotate_to_a_stored_hash_is_a_conflict_and_keeps_the_old_token,
            tokens_rotate_refuses_bad_input_and_changes_nothing,
            tokens_fifty_concurrent_rotations_have_one_winner_and_conflicts_only,
            tokens_replay_within_the_reuse_interval_returns_the_same_successor,
            tokens_replay_after_the_reuse_interval_is_reuse,
            tokens_revoke_one_leaves_the_others,
            tokens_bulk_revocations_count_only_active_tokens_in_scope,
            tokens_list_and_count_filter_and_page,
            tokens_stats_count_active_issued_and_revoked_today,
            tokens_purge_deletes_exactly_the_expired_whatever_the_offset,
            tokens_purge_keeps_rotated_tokens_of_live_families,
            tokens_rotation_racing_revoke_all_by_user_leaves_nothing_active,
            tokens_revoke_all_by_client_succeeds_while_logins_continue,
            tokens_rotation_racing_a_replay_of_its_parent_leaves_the_family_revoked,
            purge_expired_with_batch_size_u64_max_is_capped_on_every_repository,
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
            // limits
            limits_lists_past_the_last_possible_row_are_empty,
            limits_purges_at_extreme_times_are_ok_and_never_backend,
            limits_stored_times_outside_the_storable_range_are_invalid_input,
            limits_overlong_and_nul_strings_are_invalid_input_on_every_write,
            limits_lookups_by_hostile_keys_are_not_found_or_invalid_never_backend,
            limits_the_largest_user_the_limits_allow_round_trips,
        }
    };
}
