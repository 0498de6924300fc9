//! Tenant-isolation cases: two tenants resolved through one [`Manager`](crate::manager::Manager)
//! on the same database server. What tenant A writes, tenant B cannot read, list, update or
//! delete — even with identical e-mails, token hashes or ids. Each case is listed once in
//! [`isolation_cases!`](crate::isolation_cases).

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;

use chrono::TimeDelta;
use uuid::Uuid;

use crate::error::StoreError;
use crate::manager::TenantDataAccess;
use crate::model::{
    CreateRefreshTokenInput, CreateSessionInput, CreateUserInput, EmailTokenKind, RoleInput, SessionFilter,
    SocialIdentityInput, TokenFilter, UpdateUserInput, UserFilter,
};

type Cleanup = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Two tenants of one manager, on the same server, and how to remove them.
pub struct IsolationFixture {
    /// Tenant A.
    pub a: TenantDataAccess,
    /// Tenant B.
    pub b: TenantDataAccess,
    cleanup: Option<Cleanup>,
}

impl IsolationFixture {
    /// Two tenants' accesses; `cleanup` runs after the case.
    pub fn new(
        a: TenantDataAccess,
        b: TenantDataAccess,
        cleanup: impl Future<Output = ()> + Send + 'static,
    ) -> Self {
        IsolationFixture { a, b, cleanup: Some(Box::pin(cleanup)) }
    }

    /// Runs the cleanup.
    pub async fn teardown(self) {
        if let Some(cleanup) = self.cleanup {
            cleanup.await;
        }
    }
}

#[track_caller]
fn assert_not_found<T: std::fmt::Debug>(result: Result<T, StoreError>, what: &str) {
    match result {
        Err(StoreError::NotFound { .. }) => {}
        other => panic!("{what}: expected NotFound from the other tenant, got {other:?}"),
    }
}

/// Creates a user with the same `email` in A and in B; returns both ids.
async fn same_user_in_both(fx: &IsolationFixture, email: &str) -> (Uuid, Uuid) {
    let mut ids = Vec::new();
    for tenant in [&fx.a, &fx.b] {
        let users = tenant.users().expect("users");
        ids.push(users.create(CreateUserInput::new(email)).await.expect("create user").0.id);
    }
    (ids[0], ids[1])
}

fn scopes<const N: usize>(names: [&str; N]) -> BTreeSet<String> {
    names.into_iter().map(String::from).collect()
}

/// The two tenants resolve to different namespaces of the same backend.
pub async fn isolation_tenants_have_distinct_data_planes(fx: &IsolationFixture) {
    assert_ne!(fx.a.slug(), fx.b.slug());
    assert_ne!(fx.a.id(), fx.b.id());
    assert!(fx.a.has_db() && fx.b.has_db());
    assert_eq!(fx.a.backend(), fx.b.backend());
    fx.a.ping().await.expect("a ping");
    fx.b.ping().await.expect("b ping");
}

/// Users: the same e-mail exists independently in both tenants; B cannot read, list,
/// count, update, disable or delete A's user by id.
pub async fn isolation_users_are_invisible_across_tenants(fx: &IsolationFixture) {
    let (ua, _) =
        fx.a.users().expect("a").create(CreateUserInput::new("same@example.com").name("A")).await.expect("a");
    let users_b = fx.b.users().expect("b");
    assert_not_found(users_b.get_by_email("same@example.com").await, "get_by_email");
    assert_not_found(users_b.get_by_id(ua.id).await, "get_by_id");
    assert!(users_b.list(&UserFilter::default()).await.expect("list").is_empty());
    assert_eq!(users_b.count(None).await.expect("count"), 0);
    let update = UpdateUserInput { name: Some(Some("hijacked".into())), ..Default::default() };
    assert_not_found(users_b.update(ua.id, update).await, "update");
    assert_not_found(users_b.disable(ua.id, "b", None, None).await, "disable");
    assert_not_found(users_b.delete(ua.id).await, "delete");
    let (ub, _) =
        users_b.create(CreateUserInput::new("SAME@example.com").name("B")).await.expect("same e-mail in B");
    assert_ne!(ua.id, ub.id);
    let still = fx.a.users().expect("a").get_by_id(ua.id).await.expect("A's user intact");
    assert_eq!(still.name.as_deref(), Some("A"));
    assert!(still.disabled_at.is_none());
}

/// Refresh tokens: the same hash lives in both tenants; B cannot read, rotate, revoke, list
/// or count A's token, and B's mass revocations leave A's token as it was.
pub async fn isolation_tokens_are_invisible_across_tenants(fx: &IsolationFixture) {
    let (ua, ub) = same_user_in_both(fx, "t@example.com").await;
    let input = |user_id| CreateRefreshTokenInput {
        user_id,
        client_id: "web".into(),
        token_hash: "same-hash".into(),
        ttl: TimeDelta::hours(1),
    };
    let (tokens_a, tokens_b) = (fx.a.tokens().expect("a"), fx.b.tokens().expect("b"));
    let ta = tokens_a.create(input(ua)).await.expect("a token");
    let before = tokens_a.get_by_id(ta).await.expect("A's token");
    let tb = tokens_b.create(input(ub)).await.expect("same hash in B");
    assert_ne!(ta, tb);
    assert_not_found(tokens_b.get_by_id(ta).await, "get_by_id");
    assert_not_found(tokens_b.revoke(ta).await, "revoke");
    let of_a = TokenFilter { user_id: Some(ua), ..Default::default() };
    assert!(tokens_b.list(&of_a).await.expect("list A's user").is_empty());
    assert_eq!(tokens_b.count(&of_a).await.expect("count A's user"), 0);
    assert_eq!(tokens_b.get_by_hash("same-hash").await.expect("own").id, tb);
    tokens_b.rotate("same-hash", "b-next", TimeDelta::hours(1)).await.expect("B rotates its own");
    let listed = tokens_b.list(&TokenFilter::default()).await.expect("list");
    assert!(listed.iter().all(|t| t.user_id == ub), "B lists only its own tokens: {listed:?}");
    assert_eq!(tokens_b.count(&TokenFilter::default()).await.expect("count"), 2);
    assert_eq!(tokens_b.revoke_all().await.expect("revoke_all"), 1);
    assert_eq!(tokens_b.revoke_all_by_user(ua, None).await.expect("by A's user id"), 0);
    let foreign = CreateRefreshTokenInput { token_hash: "fresh-hash".into(), ..input(ua) };
    assert_not_found(tokens_b.create(foreign).await, "create for A's user id");
    assert_eq!(tokens_a.get_by_hash("same-hash").await.expect("A's token after"), before);
}

/// Identities: B cannot find, list, unlink or update the claims of A's identity through A's
/// ids; B's upsert of the same provider identity and e-mail lands on B's own user; A's
/// identity is unchanged.
pub async fn isolation_identities_are_invisible_across_tenants(fx: &IsolationFixture) {
    let (ua, ub) = same_user_in_both(fx, "o@example.com").await;
    // Verified on both sides, so that B's upsert may link to B's user (see `upsert`).
    fx.b.users().expect("b").set_email_verified(ub, true).await.expect("verify B's user");
    let social = SocialIdentityInput {
        provider: "github".into(),
        provider_user_id: "42".into(),
        email: Some("o@example.com".into()),
        email_verified: true,
        name: Some("A".into()),
        ..Default::default()
    };
    let (ids_a, ids_b) = (fx.a.identities().expect("a"), fx.b.identities().expect("b"));
    let before = ids_a.link(ua, social.clone()).await.expect("a link");
    assert_not_found(ids_b.get_by_provider("github", "42").await, "get_by_provider");
    assert!(ids_b.list_by_user(ua).await.expect("list").is_empty());
    assert_not_found(ids_b.unlink(ua, "github").await, "unlink");
    assert_not_found(ids_b.update_claims(before.id, serde_json::json!({ "b": true })).await, "update_claims");
    let upsert = SocialIdentityInput { name: Some("B".into()), ..social };
    assert_eq!(ids_b.upsert(upsert).await.expect("upsert in B"), (ub, false), "B's own user");
    assert_eq!(ids_a.get_by_provider("github", "42").await.expect("A's identity"), before);
}

/// MFA: B cannot read, confirm, touch, disable or use A's TOTP, recovery codes or trusted
/// devices through A's user id; A's enrolment, code and device are unchanged.
pub async fn isolation_mfa_is_invisible_across_tenants(fx: &IsolationFixture) {
    let (ua, _) = same_user_in_both(fx, "m@example.com").await;
    let (mfa_a, mfa_b) = (fx.a.mfa().expect("a"), fx.b.mfa().expect("b"));
    mfa_a.upsert_totp(ua, "sealed").await.expect("totp");
    mfa_a.set_recovery_codes(ua, &["code-hash".to_string()]).await.expect("codes");
    mfa_a.add_trusted_device(ua, "device", crate::model::now() + TimeDelta::days(1)).await.expect("device");
    let totp = mfa_a.get_totp(ua).await.expect("A's totp");
    assert_not_found(mfa_b.get_totp(ua).await, "get_totp");
    assert_not_found(mfa_b.confirm_totp(ua).await, "confirm_totp");
    assert_not_found(mfa_b.touch_totp(ua).await, "touch_totp");
    mfa_b.disable_totp(ua).await.expect("disable_totp in B: nothing to disable");
    mfa_b.delete_recovery_codes(ua).await.expect("delete_recovery_codes in B: nothing to delete");
    assert!(!mfa_b.use_recovery_code(ua, "code-hash").await.expect("use in B"));
    assert!(!mfa_b.is_trusted_device(ua, "device").await.expect("device in B"));
    let later = crate::model::now() + TimeDelta::days(2);
    assert_eq!(mfa_b.purge_expired(later, 0).await.expect("purge in B"), 0);
    assert_eq!(mfa_a.get_totp(ua).await.expect("A's totp after"), totp, "still unconfirmed, untouched");
    assert!(mfa_a.is_trusted_device(ua, "device").await.expect("A's device still trusted"));
    assert!(mfa_a.use_recovery_code(ua, "code-hash").await.expect("A's code still unused"));
}

/// Consents: B cannot read, list, grant for or revoke A's user's consent; A's is unchanged.
pub async fn isolation_consents_are_invisible_across_tenants(fx: &IsolationFixture) {
    let (ua, _) = same_user_in_both(fx, "c@example.com").await;
    let (consents_a, consents_b) = (fx.a.consents().expect("a"), fx.b.consents().expect("b"));
    let before = consents_a.upsert(ua, "web", &scopes(["openid"])).await.expect("consent");
    assert_not_found(consents_b.get(ua, "web").await, "get");
    assert!(consents_b.list_by_user(ua, false).await.expect("list_by_user").is_empty());
    assert_not_found(consents_b.upsert(ua, "web", &scopes(["openid", "admin"])).await, "upsert for A's user");
    assert_not_found(consents_b.revoke(ua, "web").await, "revoke");
    assert_eq!(consents_b.list_all(50, 0, false).await.expect("list_all").1, 0, "nothing stored in B");
    assert_eq!(consents_a.get(ua, "web").await.expect("A's consent"), before);
}

/// Sessions: B cannot read, list, touch or revoke A's session, by hash or by A's user id;
/// A's session is unchanged.
pub async fn isolation_sessions_are_invisible_across_tenants(fx: &IsolationFixture) {
    let (ua, _) = same_user_in_both(fx, "s@example.com").await;
    let (sessions_a, sessions_b) = (fx.a.sessions().expect("a"), fx.b.sessions().expect("b"));
    let expires = crate::model::now() + TimeDelta::hours(1);
    let before = sessions_a.create(CreateSessionInput::new(ua, "sess-hash", expires)).await.expect("session");
    assert_not_found(sessions_b.get("sess-hash").await, "get");
    for filter in [SessionFilter::default(), SessionFilter { user_id: Some(ua), ..Default::default() }] {
        let (listed, total) = sessions_b.list(&filter).await.expect("list");
        assert!(listed.is_empty() && total == 0, "B lists {listed:?} ({total}) with {filter:?}");
    }
    assert_not_found(sessions_b.touch("sess-hash", crate::model::now()).await, "touch");
    assert_not_found(sessions_b.revoke("sess-hash", "b", None).await, "revoke");
    assert_eq!(sessions_b.revoke_all_by_user(ua, "b", None).await.expect("revoke_all_by_user"), 0);
    assert_eq!(sessions_b.revoke_all("b", None).await.expect("revoke_all"), 0);
    assert_eq!(sessions_b.purge_expired(expires + TimeDelta::days(1), 0).await.expect("purge"), 0);
    assert_eq!(sessions_a.get("sess-hash").await.expect("A's session"), before);
}

/// E-mail tokens: B cannot consume A's token by its hash; A still can.
pub async fn isolation_email_tokens_are_invisible_across_tenants(fx: &IsolationFixture) {
    let (ua, _) = same_user_in_both(fx, "e@example.com").await;
    let kind = EmailTokenKind::Verification;
    let (mail_a, mail_b) = (fx.a.email_tokens().expect("a"), fx.b.email_tokens().expect("b"));
    mail_a.create(kind, ua, "mail-hash", "e@example.com", TimeDelta::hours(1)).await.expect("email token");
    assert_not_found(mail_b.consume(kind, "mail-hash").await, "consume");
    mail_a.consume(kind, "mail-hash").await.expect("A consumes");
}

/// RBAC: B cannot read, update or delete A's role, nor read A's user's roles; with a role
/// of the same name of its own, B still cannot assign it to A's user id. A's role and
/// assignment are unchanged.
pub async fn isolation_rbac_is_invisible_across_tenants(fx: &IsolationFixture) {
    let (ua, _) = same_user_in_both(fx, "r@example.com").await;
    let (rbac_a, rbac_b) = (fx.a.rbac().expect("a"), fx.b.rbac().expect("b"));
    rbac_a.create_role(RoleInput::new("auditor", ["audit:read"])).await.expect("role");
    rbac_a.assign_role(ua, "auditor").await.expect("assign");
    let role = rbac_a.get_role("auditor").await.expect("A's role");
    assert_not_found(rbac_b.get_role("auditor").await, "get_role");
    assert!(rbac_b.list_roles().await.expect("roles").iter().all(|r| r.name != "auditor"));
    let takeover = RoleInput::new("auditor", ["everything"]);
    assert_not_found(rbac_b.update_role("auditor", takeover.clone()).await, "update_role");
    assert_not_found(rbac_b.delete_role("auditor").await, "delete_role");
    assert!(rbac_b.get_user_roles(ua).await.expect("get_user_roles").is_empty());
    assert!(rbac_b.get_user_permissions(ua).await.expect("get_user_permissions").is_empty());
    rbac_b.create_role(takeover).await.expect("same role name in B");
    assert_not_found(rbac_b.assign_role(ua, "auditor").await, "assign_role to A's user");
    rbac_b.remove_role(ua, "auditor").await.expect("remove_role in B: nothing to remove");
    assert_eq!(rbac_b.role_user_count("auditor").await.expect("count in B"), 0);
    assert_eq!(rbac_a.get_role("auditor").await.expect("A's role after"), role);
    assert_eq!(rbac_a.get_user_roles(ua).await.expect("A's roles"), ["auditor"]);
    assert_eq!(rbac_a.get_user_permissions(ua).await.expect("A's permissions"), ["audit:read"]);
}

/// Caches: the cache suite's isolation case on the two tenants' caches as the manager
/// builds them (same key, two values; B's reads, checks and deletes never reach A's key).
pub async fn isolation_caches_are_namespaced_by_tenant(fx: &IsolationFixture) {
    let caches =
        crate::conformance::cache::CacheFixture { a: fx.a.cache(), b: fx.b.cache(), hostile: Vec::new() };
    crate::conformance::cache::cache_tenants_never_see_each_others_keys(&caches).await;
}

/// Both tenants' statements interleaved on one pooled connection (the suite's pool has one
/// connection per server): 20 concurrent rounds in each tenant, each creating a user with
/// the same e-mail, a refresh token with the same hash, and reading them back, inside and
/// outside transactions. Each tenant sees exactly its own rows, never the other's.
pub async fn isolation_interleaved_statements_on_one_pooled_connection(fx: &IsolationFixture) {
    const ROUNDS: usize = 20;
    let mut tasks = Vec::new();
    for (tag, tenant) in [("a", fx.a.clone()), ("b", fx.b.clone())] {
        for round in 0..ROUNDS {
            let tenant = tenant.clone();
            tasks.push(tokio::spawn(async move {
                let users = tenant.users().expect("users");
                let tokens = tenant.tokens().expect("tokens");
                let email = format!("shared{round}@example.com");
                let (user, _) = users.create(CreateUserInput::new(&email)).await.expect("create");
                let input = CreateRefreshTokenInput {
                    user_id: user.id,
                    client_id: "web".into(),
                    token_hash: format!("interleaved-hash-{round}"),
                    ttl: TimeDelta::hours(1),
                };
                tokens.create(input).await.expect("token");
                let found = users.get_by_email(&email).await.expect("read back");
                assert_eq!(found.0.id, user.id, "tenant {tag} read another tenant's user");
                let token =
                    tokens.get_by_hash(&format!("interleaved-hash-{round}")).await.expect("token back");
                assert_eq!(token.user_id, user.id, "tenant {tag} read another tenant's token");
                (tag, user.id)
            }));
        }
    }
    let mut ids = std::collections::HashMap::<&str, BTreeSet<Uuid>>::new();
    for task in tasks {
        let (tag, id) = task.await.expect("join");
        ids.entry(tag).or_default().insert(id);
    }
    for (tag, tenant) in [("a", &fx.a), ("b", &fx.b)] {
        let listed: BTreeSet<Uuid> = tenant
            .users()
            .expect("users")
            .list(&UserFilter { limit: 200, ..UserFilter::default() })
            .await
            .expect("list")
            .into_iter()
            .map(|u| u.id)
            .collect();
        assert_eq!(listed.len(), ROUNDS, "tenant {tag} lists {} users", listed.len());
        assert_eq!(Some(&listed), ids.get(tag), "tenant {tag} lists exactly its own users");
    }
}

/// Values that look like SQL — quotes, backticks, `"."`, comments, dollar quotes, MySQL
/// backslash escapes, placeholders (`?`, which MySQL's values written into the statement
/// must not confuse with their own), control characters, `FROM <other tenant>` — stored as
/// user fields and metadata and used as search strings in both tenants: every call
/// succeeds, each value is read back unchanged, and each tenant's searches find only its
/// own users.
pub async fn isolation_hostile_values_stay_values(fx: &IsolationFixture) {
    const HOSTILE: [&str; 15] = [
        "? ' ? \\' ?",
        "\u{1a}\r\n\t' ?)",
        "é 😀 ' X'27' _utf8mb4 X'",
        "x' FROM users --",
        "x\" FROM \"users\" --",
        "x` FROM `users` #",
        "a\\' FROM users; --",
        "E'\\'' FROM users",
        "$$ FROM users $$",
        "$t$ ' FROM users $t$",
        "/* FROM users */ '",
        "\".\"",
        "`.`",
        "%_!\\",
        "FROM globex.users JOIN acme.users",
    ];
    for (tag, tenant) in [("a", &fx.a), ("b", &fx.b)] {
        let users = tenant.users().expect("users");
        for (i, hostile) in HOSTILE.iter().enumerate() {
            let mut input = CreateUserInput::new(format!("h{i}-{tag}@example.com"));
            input.name = Some(format!("{tag} {hostile}"));
            input.given_name = Some((*hostile).to_string());
            input.metadata = serde_json::json!({ "q": hostile, "k": [hostile] });
            let (user, _) = users.create(input).await.unwrap_or_else(|e| panic!("create {hostile:?}: {e}"));
            let back = users.get_by_id(user.id).await.unwrap_or_else(|e| panic!("read {hostile:?}: {e}"));
            assert_eq!(back.given_name.as_deref(), Some(*hostile), "value changed on the way");
            assert_eq!(back.metadata["q"], serde_json::json!(hostile), "metadata changed on the way");
        }
    }
    for (tag, tenant) in [("a", &fx.a), ("b", &fx.b)] {
        let users = tenant.users().expect("users");
        for hostile in HOSTILE {
            let found = users
                .list(&UserFilter { search: Some(hostile.to_string()), limit: 200, ..UserFilter::default() })
                .await
                .unwrap_or_else(|e| panic!("search {hostile:?}: {e}"));
            assert!(!found.is_empty(), "tenant {tag}: search {hostile:?} found nothing");
            for user in &found {
                assert!(
                    user.email.ends_with(&format!("-{tag}@example.com")),
                    "tenant {tag} found {}",
                    user.email
                );
            }
            tenant
                .sessions()
                .expect("sessions")
                .list(&SessionFilter { search: Some(hostile.to_string()), ..SessionFilter::default() })
                .await
                .unwrap_or_else(|e| panic!("session search {hostile:?}: {e}"));
        }
    }
}

/// The one list of isolation cases.
#[macro_export]
macro_rules! isolation_cases {
    ($cb:ident $(, $arg:path)?) => {
        $crate::$cb! {$($arg,)?
            isolation_tenants_have_distinct_data_planes,
            isolation_users_are_invisible_across_tenants,
            isolation_tokens_are_invisible_across_tenants,
            isolation_identities_are_invisible_across_tenants,
            isolation_mfa_is_invisible_across_tenants,
            isolation_consents_are_invisible_across_tenants,
            isolation_sessions_are_invisible_across_tenants,
            isolation_email_tokens_are_invisible_across_tenants,
            isolation_rbac_is_invisible_across_tenants,
            isolation_caches_are_namespaced_by_tenant,
            isolation_interleaved_statements_on_one_pooled_connection,
            isolation_hostile_values_stay_values,
        }
    };
}

/// Expands to one `#[tokio::test]` per isolation case, each building its two tenants with
/// `$fixture().await` (an `async fn() -> IsolationFixture`).
#[macro_export]
macro_rules! isolation_conformance {
    ($fixture:path) => {
        $crate::isolation_cases!(__isolation_test, $fixture);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __isolation_test {
    ($fixture:path, $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let fixture = $fixture().await;
                $crate::conformance::isolation::$case(&fixture).await;
                fixture.teardown().await;
            }
        )*
    };
}

/// Builds two tenants, `acme` and `globex`, through a [`Manager`](crate::manager::Manager)
/// over a temporary FS root whose default tenant database is `template` (a `{tenant}`
/// template). `cleanup` runs after the case (drop the namespaces the template produced).
pub async fn two_tenants(
    template: crate::mode::DbConfig,
    cleanup: impl Future<Output = ()> + Send + 'static,
) -> IsolationFixture {
    use crate::manager::{Manager, ManagerConfig};
    use crate::model::Tenant;
    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(e) => panic!("temporary FS root: {e}"),
    };
    // One connection per server: every statement of both tenants goes through the same
    // pooled connection (on engines where tenants share a server), so nothing a statement
    // leaves on a connection can carry over to the other tenant.
    let config = ManagerConfig::from_fs_root(dir.path())
        .default_tenant_db(template)
        .server_pool(1, std::time::Duration::from_secs(30));
    let manager = match Manager::new(config).await {
        Ok(m) => m,
        Err(e) => panic!("manager for the isolation suite: {e}"),
    };
    let mut accesses = Vec::new();
    for (slug, name) in [("acme", "Acme"), ("globex", "Globex")] {
        if let Err(e) = manager.config().tenants().create(Tenant::new(slug, name)).await {
            panic!("creating tenant {slug}: {e}");
        }
        match manager.for_tenant(slug).await {
            Ok(access) if access.users().is_ok() => accesses.push(access),
            Ok(access) => panic!("tenant {slug} has no usable data plane: {:?}", access.users().err()),
            Err(e) => panic!("resolving tenant {slug}: {e}"),
        }
    }
    let b = accesses.pop().unwrap_or_else(|| unreachable!("two tenants were pushed"));
    let a = accesses.pop().unwrap_or_else(|| unreachable!("two tenants were pushed"));
    IsolationFixture::new(a, b, async move {
        manager.close().await;
        cleanup.await;
        drop(dir);
    })
}
