//! Tenant-isolation cases: two tenants resolved through one [`Manager`](crate::manager::Manager)
//! on the same database server. What tenant A writes, tenant B cannot read, list, update or
//! delete — even with identical e-mails, token hashes or ids. Each case is listed once in
//! [`isolation_cases!`](crate::isolation_cases).

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;

use chrono::TimeDelta;

use crate::error::StoreError;
use crate::manager::TenantDataAccess;
use crate::model::{
    CreateRefreshTokenInput, CreateSessionInput, CreateUserInput, EmailTokenKind, RoleInput,
    SocialIdentityInput, UpdateUserInput, UserFilter,
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

fn assert_not_found<T: std::fmt::Debug>(result: Result<T, StoreError>, what: &str) {
    match result {
        Err(StoreError::NotFound { .. }) => {}
        other => panic!("{what}: expected NotFound from the other tenant, got {other:?}"),
    }
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

/// Refresh tokens: the same hash lives in both tenants; B cannot read, rotate, revoke or
/// list A's token, and B's mass revocations leave A's tokens active.
pub async fn isolation_tokens_are_invisible_across_tenants(fx: &IsolationFixture) {
    let (ua, _) =
        fx.a.users().expect("a").create(CreateUserInput::new("t@example.com")).await.expect("a user");
    let (ub, _) =
        fx.b.users().expect("b").create(CreateUserInput::new("t@example.com")).await.expect("b user");
    let input = |user_id| CreateRefreshTokenInput {
        user_id,
        client_id: "web".into(),
        token_hash: "same-hash".into(),
        ttl: TimeDelta::hours(1),
    };
    let ta = fx.a.tokens().expect("a").create(input(ua.id)).await.expect("a token");
    let tb = fx.b.tokens().expect("b").create(input(ub.id)).await.expect("same hash in B");
    assert_ne!(ta, tb);
    let tokens_b = fx.b.tokens().expect("b");
    assert_not_found(tokens_b.get_by_id(ta).await, "get_by_id");
    assert_not_found(tokens_b.revoke(ta).await, "revoke");
    assert_eq!(tokens_b.get_by_hash("same-hash").await.expect("own").id, tb);
    tokens_b.rotate("same-hash", "b-next", TimeDelta::hours(1)).await.expect("B rotates its own");
    assert_eq!(tokens_b.revoke_all().await.expect("revoke_all"), 1);
    assert_eq!(tokens_b.revoke_all_by_user(ua.id, None).await.expect("by A's user id"), 0);
    let a_token = fx.a.tokens().expect("a").get_by_hash("same-hash").await.expect("A's token");
    assert_eq!(a_token.id, ta);
    assert!(a_token.revoked_at.is_none(), "A's token was revoked by B");
    let foreign = CreateRefreshTokenInput { token_hash: "fresh-hash".into(), ..input(ua.id) };
    assert_not_found(tokens_b.create(foreign).await, "create for A's user id");
}

/// Identities, MFA, consents, sessions, e-mail tokens and roles written in A are not
/// visible or usable in B, whatever ids and hashes B presents.
pub async fn isolation_other_aggregates_are_invisible_across_tenants(fx: &IsolationFixture) {
    let (ua, _) =
        fx.a.users().expect("a").create(CreateUserInput::new("o@example.com")).await.expect("a user");
    fx.b.users().expect("b").create(CreateUserInput::new("o@example.com")).await.expect("b user");
    let social = SocialIdentityInput {
        provider: "github".into(),
        provider_user_id: "42".into(),
        email: Some("o@example.com".into()),
        ..Default::default()
    };
    fx.a.identities().expect("a").link(ua.id, social.clone()).await.expect("a link");
    assert_not_found(fx.b.identities().expect("b").get_by_provider("github", "42").await, "identity");
    assert!(fx.b.identities().expect("b").list_by_user(ua.id).await.expect("list").is_empty());

    let mfa_a = fx.a.mfa().expect("a");
    mfa_a.upsert_totp(ua.id, "sealed").await.expect("totp");
    mfa_a.set_recovery_codes(ua.id, &["code-hash".to_string()]).await.expect("codes");
    mfa_a
        .add_trusted_device(ua.id, "device", crate::model::now() + TimeDelta::days(1))
        .await
        .expect("device");
    let mfa_b = fx.b.mfa().expect("b");
    assert_not_found(mfa_b.get_totp(ua.id).await, "totp");
    assert!(!mfa_b.use_recovery_code(ua.id, "code-hash").await.expect("use in B"));
    assert!(!mfa_b.is_trusted_device(ua.id, "device").await.expect("device in B"));
    assert!(mfa_a.use_recovery_code(ua.id, "code-hash").await.expect("A's code still unused"));

    let scopes: BTreeSet<String> = ["openid".to_string()].into();
    fx.a.consents().expect("a").upsert(ua.id, "web", &scopes).await.expect("consent");
    assert_not_found(fx.b.consents().expect("b").get(ua.id, "web").await, "consent");
    assert_not_found(fx.b.consents().expect("b").revoke(ua.id, "web").await, "revoke consent");
    assert_eq!(fx.b.consents().expect("b").list_all(50, 0, false).await.expect("list").1, 0);

    let sessions_a = fx.a.sessions().expect("a");
    sessions_a
        .create(CreateSessionInput::new(ua.id, "sess-hash", crate::model::now() + TimeDelta::hours(1)))
        .await
        .expect("session");
    assert_not_found(fx.b.sessions().expect("b").get("sess-hash").await, "session");
    assert_not_found(fx.b.sessions().expect("b").revoke("sess-hash", "b", None).await, "revoke session");
    assert!(sessions_a.get("sess-hash").await.expect("A's session").revoked_at.is_none());

    fx.a.email_tokens()
        .expect("a")
        .create(EmailTokenKind::Verification, ua.id, "mail-hash", "o@example.com", TimeDelta::hours(1))
        .await
        .expect("email token");
    assert_not_found(
        fx.b.email_tokens().expect("b").consume(EmailTokenKind::Verification, "mail-hash").await,
        "consume",
    );
    fx.a.email_tokens()
        .expect("a")
        .consume(EmailTokenKind::Verification, "mail-hash")
        .await
        .expect("A consumes");

    fx.a.rbac().expect("a").create_role(RoleInput::new("auditor", ["audit:read"])).await.expect("role");
    assert_not_found(fx.b.rbac().expect("b").get_role("auditor").await, "role");
    assert!(fx.b.rbac().expect("b").list_roles().await.expect("roles").iter().all(|r| r.name != "auditor"));
}

/// Caches: the same key in both tenants holds two values; B's deletes leave A's keys.
pub async fn isolation_caches_are_namespaced_by_tenant(fx: &IsolationFixture) {
    let (ca, cb) = (fx.a.cache(), fx.b.cache());
    ca.set("otp:1", b"a", None).await.expect("a set");
    assert_eq!(cb.get("otp:1").await.expect("b get"), None);
    assert_eq!(cb.take("otp:1").await.expect("b take"), None);
    assert_eq!(cb.delete_by_prefix("otp:").await.expect("b prefix"), 0);
    cb.set("otp:1", b"b", None).await.expect("b set");
    assert_eq!(ca.get("otp:1").await.expect("a get").as_deref(), Some(&b"a"[..]));
    assert_eq!(cb.get("otp:1").await.expect("b get").as_deref(), Some(&b"b"[..]));
}

/// The one list of isolation cases.
#[macro_export]
macro_rules! isolation_cases {
    ($cb:ident $(, $arg:path)?) => {
        $crate::$cb! {$($arg,)?
            isolation_tenants_have_distinct_data_planes,
            isolation_users_are_invisible_across_tenants,
            isolation_tokens_are_invisible_across_tenants,
            isolation_other_aggregates_are_invisible_across_tenants,
            isolation_caches_are_namespaced_by_tenant,
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
    let manager =
        match Manager::new(ManagerConfig::from_fs_root(dir.path()).default_tenant_db(template)).await {
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
