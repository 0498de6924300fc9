use crate::conformance::ControlPlane;
use crate::crypto::fields;
use crate::model::{
    ClientInput, Secret, SmtpSettings, SocialProvider, Tenant, TenantCacheSettings, TenantDbSettings,
    TenantSettings,
};

/// A tenant `slug` with branding set.
pub(crate) async fn make_tenant(cp: &ControlPlane, slug: &str) -> Tenant {
    let mut t = Tenant::new(slug, format!("Tenant {slug}"));
    t.settings.brand_color = Some("#112233".into());
    t.settings.mfa_enabled = true;
    cp.tenants().create(t).await.expect("create tenant")
}

/// A created tenant is found by slug and by id, equal to what `create` returned.
pub async fn tenants_create_then_get_by_slug_and_id(cp: &ControlPlane) {
    let created = make_tenant(cp, "acme").await;
    assert_eq!(created.slug, "acme");
    let by_slug = cp.tenants().get_by_slug("acme").await.expect("get_by_slug");
    assert_eq!(by_slug, created);
    let by_id = cp.tenants().get_by_id(created.id).await.expect("get_by_id");
    assert_eq!(by_id, created);
    assert_eq!(by_id.settings.brand_color.as_deref(), Some("#112233"));
}

/// `list` returns every tenant, by slug.
pub async fn tenants_list_is_sorted_by_slug(cp: &ControlPlane) {
    assert!(cp.tenants().list().await.expect("list").is_empty());
    for slug in ["zeta", "alpha", "mid-1"] {
        make_tenant(cp, slug).await;
    }
    let slugs: Vec<String> = cp.tenants().list().await.expect("list").into_iter().map(|t| t.slug).collect();
    assert_eq!(slugs, ["alpha", "mid-1", "zeta"]);
}

/// A second tenant with the same slug is a conflict, and the first is untouched.
pub async fn tenants_duplicate_slug_is_conflict(cp: &ControlPlane) {
    let first = make_tenant(cp, "acme").await;
    let err = cp.tenants().create(Tenant::new("acme", "Other")).await.expect_err("duplicate");
    assert!(err.is_conflict(), "{err}");
    assert_eq!(cp.tenants().get_by_slug("acme").await.expect("get"), first);
}

/// Malformed slugs (`../etc`, upper case, empty, too long) are `InvalidInput` everywhere.
pub async fn tenants_bad_slug_is_invalid_input_never_a_path(cp: &ControlPlane) {
    let long = "a".repeat(64);
    for bad in ["../etc", "..", "Acme", "", "-acme", "a/b", "a b", long.as_str()] {
        let err = cp.tenants().create(Tenant::new(bad, "x")).await.expect_err(bad);
        assert!(matches!(err, crate::StoreError::InvalidInput { .. }), "create {bad:?}: {err}");
        let err = cp.tenants().get_by_slug(bad).await.expect_err(bad);
        assert!(matches!(err, crate::StoreError::InvalidInput { .. }), "get {bad:?}: {err}");
        assert!(cp.store().clients(bad).is_err(), "clients({bad:?})");
        assert!(cp.store().scopes(bad).is_err(), "scopes({bad:?})");
    }
    assert!(cp.tenants().list().await.expect("list").is_empty());
}

/// Unknown slug or id: `NotFound`; deleting an unknown tenant too.
pub async fn tenants_unknown_is_not_found(cp: &ControlPlane) {
    assert!(cp.tenants().get_by_slug("nobody").await.expect_err("get").is_not_found());
    assert!(cp.tenants().get_by_id(crate::model::new_id()).await.expect_err("get").is_not_found());
    assert!(cp.tenants().delete("nobody").await.expect_err("delete").is_not_found());
    let err = cp.tenants().update(Tenant::new("nobody", "x")).await.expect_err("update");
    assert!(err.is_not_found(), "{err}");
    let err = cp.tenants().update_settings("nobody", TenantSettings::default()).await.expect_err("settings");
    assert!(err.is_not_found(), "{err}");
}

/// `update` replaces name, display name, language and settings; slug, id and creation
/// time stay.
pub async fn tenants_update_keeps_slug_id_and_created_at(cp: &ControlPlane) {
    let created = make_tenant(cp, "acme").await;
    let mut change = Tenant::new("acme", "Acme Corp");
    change.display_name = Some("ACME".into());
    change.language = Some("es".into());
    change.settings.logo_url = Some("https://cdn.example.com/logo.png".into());
    let updated = cp.tenants().update(change).await.expect("update");
    assert_eq!(updated.id, created.id);
    assert_eq!(updated.created_at, created.created_at);
    assert!(updated.updated_at >= created.updated_at);
    assert_eq!(updated.name, "Acme Corp");
    assert_eq!(updated.language.as_deref(), Some("es"));
    assert_eq!(cp.tenants().get_by_slug("acme").await.expect("get"), updated);
}

/// `update_settings` replaces the settings and nothing else.
pub async fn tenants_update_settings_replaces_settings_only(cp: &ControlPlane) {
    let created = make_tenant(cp, "acme").await;
    let settings = TenantSettings {
        session_lifetime_secs: Some(3600),
        social_login_enabled: true,
        ..Default::default()
    };
    let updated = cp.tenants().update_settings("acme", settings.clone()).await.expect("update_settings");
    assert_eq!(updated.settings, settings);
    assert_eq!(updated.name, created.name);
    assert_eq!(updated.id, created.id);
    assert_eq!(cp.tenants().get_by_slug("acme").await.expect("get").settings, settings);

    // Settings that break the schema are refused and nothing changes.
    let bad = TenantSettings { brand_color: Some("blue".into()), ..Default::default() };
    let err = cp.tenants().update_settings("acme", bad).await.expect_err("bad color");
    assert!(matches!(err, crate::StoreError::InvalidInput { .. }), "{err}");
    assert_eq!(cp.tenants().get_by_slug("acme").await.expect("get").settings, settings);
    // A refresh-token reuse interval above the maximum (300 s) is refused too.
    let bad = TenantSettings { refresh_token_reuse_interval_secs: Some(301), ..Default::default() };
    let err = cp.tenants().update_settings("acme", bad).await.expect_err("reuse interval too long");
    assert!(matches!(err, crate::StoreError::InvalidInput { .. }), "{err}");
    let most = TenantSettings { refresh_token_reuse_interval_secs: Some(300), ..Default::default() };
    let updated = cp.tenants().update_settings("acme", most).await.expect("the maximum");
    assert_eq!(updated.settings.refresh_token_reuse_interval(), chrono::TimeDelta::seconds(300));
}

/// Secrets in settings come back sealed; they open for their tenant and field only.
pub async fn tenants_secrets_are_sealed_and_bound_to_tenant_and_field(cp: &ControlPlane) {
    let mut t = Tenant::new("acme", "Acme");
    t.settings.user_db = Some(TenantDbSettings {
        driver: "postgres".into(),
        dsn: Secret::plain("postgres://acme:pw@db/acme"),
        schema: None,
    });
    t.settings.cache = Some(TenantCacheSettings {
        driver: crate::model::CacheDriver::Redis,
        host: Some("127.0.0.1".into()),
        port: Some(6379),
        password: Some(Secret::plain("redis-pw")),
        ..Default::default()
    });
    t.settings.smtp = Some(SmtpSettings {
        host: "smtp.example.com".into(),
        port: 587,
        username: Some("mailer".into()),
        password: Some(Secret::plain("smtp-pw")),
        from_email: "no-reply@example.com".into(),
        from_name: None,
        use_tls: true,
    });
    t.settings.social_providers.insert(
        "google".into(),
        SocialProvider {
            enabled: true,
            client_id: "g-id".into(),
            client_secret: Some(Secret::plain("g-secret")),
            scopes: vec![],
            auth_url: None,
            token_url: None,
        },
    );
    let created = cp.tenants().create(t).await.expect("create");
    let read = cp.tenants().get_by_slug("acme").await.expect("get");
    assert_eq!(read, created);
    let sb = cp.secrets();
    let db = read.settings.user_db.expect("user_db");
    assert!(db.dsn.is_sealed(), "the DSN is ciphertext as read");
    assert!(!format!("{db:?}").contains("postgres://"), "Debug redacts the DSN");
    assert_eq!(sb.decrypt("acme", fields::USER_DB_DSN, &db.dsn).expect("dsn"), "postgres://acme:pw@db/acme");
    assert!(sb.decrypt("other", fields::USER_DB_DSN, &db.dsn).is_err(), "bound to the tenant");
    assert!(sb.decrypt("acme", fields::SMTP_PASSWORD, &db.dsn).is_err(), "bound to the field");
    let cache_pw = read.settings.cache.and_then(|c| c.password).expect("cache password");
    assert_eq!(sb.decrypt("acme", fields::CACHE_PASSWORD, &cache_pw).expect("cache"), "redis-pw");
    let smtp_pw = read.settings.smtp.and_then(|s| s.password).expect("smtp password");
    assert_eq!(sb.decrypt("acme", fields::SMTP_PASSWORD, &smtp_pw).expect("smtp"), "smtp-pw");
    let g = read.settings.social_providers["google"].client_secret.clone().expect("google secret");
    assert_eq!(
        sb.decrypt("acme", &fields::social_provider_secret("google"), &g).expect("google"),
        "g-secret"
    );

    // A sealed value copied into another tenant does not pass.
    let mut other = Tenant::new("other", "Other");
    other.settings.user_db =
        Some(TenantDbSettings { driver: "postgres".into(), dsn: db.dsn.clone(), schema: None });
    let err = cp.tenants().create(other).await.expect_err("foreign ciphertext");
    assert!(matches!(err, crate::StoreError::Crypto { .. }), "{err}");
}

/// Deleting a tenant removes it with its clients and scopes; the slug can be reused.
pub async fn tenants_delete_removes_clients_and_scopes(cp: &ControlPlane) {
    make_tenant(cp, "acme").await;
    make_tenant(cp, "keep").await;
    cp.scopes("acme").create(crate::model::ScopeInput::new("billing", "Billing")).await.expect("scope");
    cp.clients("acme").create(ClientInput::new("web-app", "Web")).await.expect("client");
    cp.tenants().delete("acme").await.expect("delete");
    assert!(cp.tenants().get_by_slug("acme").await.expect_err("gone").is_not_found());
    assert_eq!(cp.tenants().list().await.expect("list").len(), 1);
    make_tenant(cp, "acme").await;
    assert!(cp.clients("acme").list("").await.expect("clients").is_empty());
    assert!(cp.scopes("acme").get_by_name("billing").await.expect_err("scope gone").is_not_found());
}

/// Namespaces: recorded at create, unique among live tenants and deleted ones not yet
/// forgotten (a slug crafted to map onto a long slug's namespace gets another one), a taken
/// caller-chosen one is `Conflict`, a malformed one `InvalidInput`, a change on update
/// `InvalidInput`; delete keeps a tombstone whose namespace a re-created slug does not get,
/// and forgetting the tombstone frees it.
pub async fn tenants_namespaces_are_unique_immutable_and_outlive_delete(cp: &ControlPlane) {
    use crate::StoreError;
    let long = format!("long-{}", "x".repeat(50));
    let victim = cp.tenants().create(Tenant::new(long.as_str(), "Long")).await.expect("create long");
    let ns = victim.namespace.clone().expect("namespace recorded");
    assert!(crate::model::is_valid_tenant_namespace(&ns), "{ns}");
    let crafted = cp.tenants().create(Tenant::new(ns.replace('_', "-"), "Crafted")).await.expect("crafted");
    assert_ne!(crafted.namespace, victim.namespace);

    let mut chosen = Tenant::new("chooser", "Chooser");
    chosen.namespace = Some(ns.clone());
    assert!(cp.tenants().create(chosen.clone()).await.expect_err("taken").is_conflict());
    chosen.namespace = Some("Bad-Name".into());
    let err = cp.tenants().create(chosen).await.expect_err("malformed");
    assert!(matches!(err, StoreError::InvalidInput { .. }), "{err}");

    let acme = make_tenant(cp, "acme").await;
    assert_eq!(acme.namespace.as_deref(), Some("acme"));
    let mut changed = acme.clone();
    changed.namespace = Some("other".into());
    let err = cp.tenants().update(changed).await.expect_err("namespace change");
    assert!(matches!(err, StoreError::InvalidInput { .. }), "{err}");
    let mut same = acme.clone();
    same.name = "Acme again".into();
    assert_eq!(cp.tenants().update(same).await.expect("update").namespace.as_deref(), Some("acme"));

    cp.tenants().delete("acme").await.expect("delete");
    let deleted = cp.tenants().list_deleted().await.expect("tombstones");
    let tomb = deleted.iter().find(|d| d.id == acme.id).expect("a tombstone for acme");
    assert_eq!((tomb.slug.as_str(), tomb.namespace.as_str(), tomb.own_db), ("acme", "acme", false));
    let again = make_tenant(cp, "acme").await;
    assert_ne!(again.id, acme.id);
    assert_ne!(again.namespace.as_deref(), Some("acme"), "a tombstoned namespace was given again");
    // The deleted tenant's id stays taken too (caches are keyed by it) until the purge.
    let mut same_id = Tenant::new("other", "Other");
    same_id.id = acme.id;
    let err = cp.tenants().create(same_id).await.expect_err("a tombstoned id");
    assert!(matches!(err, crate::StoreError::Conflict { .. }), "{err}");
    cp.tenants().forget_deleted(acme.id).await.expect("forget");
    assert!(cp.tenants().forget_deleted(acme.id).await.expect_err("twice").is_not_found());
    assert!(cp.tenants().list_deleted().await.expect("tombstones").iter().all(|d| d.id != acme.id));
    let mut reuse = Tenant::new("fresh", "Fresh");
    reuse.namespace = Some("acme".into());
    cp.tenants().create(reuse).await.expect("a forgotten namespace is free again");
}

/// A slug that maps to a system schema or database name (`mysql`, `public`, `pg-…`, …) gets
/// another, valid namespace; a caller choosing one is `InvalidInput`.
pub async fn tenants_never_get_a_system_namespace(cp: &ControlPlane) {
    use crate::StoreError;
    let slugs = [
        "mysql",
        "performance-schema",
        "public",
        "information-schema",
        "admin",
        "local",
        "config",
        "sys",
        "pg-catalog",
    ];
    for slug in slugs {
        let t = cp.tenants().create(Tenant::new(slug, slug)).await.unwrap_or_else(|e| panic!("{slug}: {e}"));
        let ns = t.effective_namespace();
        assert!(!crate::manager::is_reserved_namespace(&ns), "{slug} got the system namespace {ns:?}");
        assert!(crate::model::is_valid_tenant_namespace(&ns), "{slug}: {ns:?}");
    }
    for name in ["mysql", "public", "pg_toast"] {
        let mut chosen = Tenant::new(format!("chooses-{}", name.replace('_', "-")), "Chooser");
        chosen.namespace = Some(name.into());
        let err = cp.tenants().create(chosen).await.expect_err("a system namespace was accepted");
        assert!(matches!(err, StoreError::InvalidInput { .. }), "{name}: {err}");
    }
}

/// Racing creates that want one namespace — a slug that maps to it and a tenant that
/// chooses it — never both get it: each create that succeeds holds a namespace no other
/// tenant holds.
pub async fn tenants_racing_creates_never_share_a_namespace(cp: &ControlPlane) {
    let mut tasks = Vec::new();
    for i in 0..8 {
        let tenants = cp.tenants();
        tasks.push(tokio::spawn(
            async move { tenants.create(Tenant::new(format!("race-{i}"), "By slug")).await },
        ));
        let tenants = cp.tenants();
        tasks.push(tokio::spawn(async move {
            let mut t = Tenant::new(format!("chooser-{i}"), "By choice");
            t.namespace = Some(format!("race_{i}"));
            tenants.create(t).await
        }));
    }
    let mut namespaces = std::collections::BTreeSet::new();
    for task in tasks {
        match task.await.expect("join") {
            Ok(t) => assert!(namespaces.insert(t.effective_namespace()), "namespace given twice: {t:?}"),
            Err(e) => assert!(e.is_conflict(), "{e}"),
        }
    }
    let listed = cp.tenants().list().await.expect("list");
    let held: std::collections::BTreeSet<String> = listed.iter().map(Tenant::effective_namespace).collect();
    assert_eq!(held.len(), listed.len(), "two live tenants share a namespace: {listed:?}");
    assert_eq!(held, namespaces);
}

/// A NUL in any string of a tenant, client or scope, or a name longer than 1,024
/// characters, is `InvalidInput` on every control plane (the global PostgreSQL database
/// refused a NUL while the FS tree and MySQL stored it), and nothing is written.
pub async fn tenants_clients_and_scopes_refuse_nul_and_overlong_strings(cp: &ControlPlane) {
    fn invalid<T: std::fmt::Debug>(r: crate::StoreResult<T>, what: &str) {
        let err = r.expect_err(what);
        assert!(matches!(err, crate::StoreError::InvalidInput { .. }), "{what}: {err}");
    }
    let long = "n".repeat(1025);
    invalid(cp.tenants().create(Tenant::new("nul-name", "Ac\0me")).await, "NUL in a tenant name");
    invalid(cp.tenants().create(Tenant::new("long-name", long.as_str())).await, "over-long tenant name");
    let mut t = Tenant::new("nul-display", "Acme");
    t.display_name = Some("A\0".into());
    invalid(cp.tenants().create(t).await, "NUL in a display name");
    let mut t = Tenant::new("nul-settings", "Acme");
    t.settings.logo_url = Some("https://cdn.example.com/\0.png".into());
    invalid(cp.tenants().create(t).await, "NUL in a setting");
    assert!(cp.tenants().list().await.expect("list").is_empty(), "nothing was created");

    let created = make_tenant(cp, "acme").await;
    let mut renamed = created.clone();
    renamed.name = "x\0".into();
    invalid(cp.tenants().update(renamed).await, "NUL through update");
    let settings = TenantSettings { favicon_url: Some("\0".into()), ..Default::default() };
    invalid(cp.tenants().update_settings("acme", settings).await, "NUL through update_settings");
    assert_eq!(cp.tenants().get_by_slug("acme").await.expect("get"), created, "unchanged");

    let clients = cp.clients("acme");
    invalid(clients.create(ClientInput::new("nul-client", "We\0b")).await, "NUL in a client name");
    let mut c = ClientInput::new("nul-desc", "Web");
    c.description = Some("d\0".into());
    invalid(clients.create(c).await, "NUL in a client description");
    invalid(clients.create(ClientInput::new("long-client", long.as_str())).await, "over-long client name");
    assert!(clients.list("").await.expect("clients").is_empty(), "no client was created");

    let scopes = cp.scopes("acme");
    let before = scopes.list().await.expect("scopes").len();
    let input = crate::model::ScopeInput::new("nul-scope", "read\0all");
    invalid(scopes.create(input).await, "NUL in a scope description");
    assert_eq!(scopes.list().await.expect("scopes").len(), before, "no scope was created");
}

/// Tenant settings break no rule between their fields: user-field names are unique, a
/// `select` field has options, `logo_url` and `favicon_url` are absolute http(s) URLs, an own
/// database's `schema` is a schema name and not a system one.
/// Otherwise `InvalidInput` naming the field on create, update and update_settings, and
/// nothing is written.
pub async fn tenants_settings_rules_are_invalid_input_naming_the_field(cp: &ControlPlane) {
    use crate::model::{UserFieldDefinition, UserFieldType};
    fn field(name: &str, field_type: UserFieldType, options: &[&str]) -> UserFieldDefinition {
        UserFieldDefinition {
            name: name.into(),
            field_type,
            label: None,
            required: false,
            unique: false,
            indexed: false,
            options: options.iter().map(|o| o.to_string()).collect(),
        }
    }
    fn invalid_field<T: std::fmt::Debug>(r: crate::StoreResult<T>, what: &str) -> String {
        match r {
            Err(crate::StoreError::InvalidInput { field, .. }) => field,
            other => panic!("{what}: expected InvalidInput, got {other:?}"),
        }
    }
    let duplicate = TenantSettings {
        user_fields: vec![
            field("phone", UserFieldType::Phone, &[]),
            field("phone", UserFieldType::Text, &[]),
        ],
        ..Default::default()
    };
    let no_options =
        TenantSettings { user_fields: vec![field("plan", UserFieldType::Select, &[])], ..Default::default() };
    let relative_logo = TenantSettings { logo_url: Some("/static/logo.png".into()), ..Default::default() };
    let ftp_logo =
        TenantSettings { logo_url: Some("ftp://cdn.example.com/l.png".into()), ..Default::default() };
    let bad_favicon = TenantSettings { favicon_url: Some("favicon.ico".into()), ..Default::default() };
    let own_schema = |schema: &str| TenantSettings {
        user_db: Some(crate::model::TenantDbSettings {
            driver: "postgres".into(),
            dsn: crate::model::Secret::plain("postgres://db.example.com/acme"),
            schema: Some(schema.into()),
        }),
        ..Default::default()
    };
    let cases = [
        (duplicate, "user_fields"),
        (no_options, "user_fields"),
        (relative_logo, "logo_url"),
        (ftp_logo, "logo_url"),
        (bad_favicon, "favicon_url"),
        // The schema name the store checks when it connects, refused when it is written.
        (own_schema("acme\"; DROP TABLE users; --"), "user_db.schema"),
        (own_schema("pg_catalog"), "user_db.schema"),
    ];
    for (i, (settings, name)) in cases.iter().enumerate() {
        let mut t = Tenant::new(format!("bad-{i}"), "Bad");
        t.settings = settings.clone();
        assert_eq!(invalid_field(cp.tenants().create(t).await, name), *name, "create, case {i}");
    }
    assert!(cp.tenants().list().await.expect("list").is_empty(), "nothing was created");

    let created = make_tenant(cp, "acme").await;
    for (i, (settings, name)) in cases.iter().enumerate() {
        let mut changed = created.clone();
        changed.settings = settings.clone();
        assert_eq!(invalid_field(cp.tenants().update(changed).await, name), *name, "update, case {i}");
        let r = cp.tenants().update_settings("acme", settings.clone()).await;
        assert_eq!(invalid_field(r, name), *name, "update_settings, case {i}");
    }
    assert_eq!(cp.tenants().get_by_slug("acme").await.expect("get"), created, "unchanged");

    let good = TenantSettings {
        logo_url: Some("https://cdn.example.com/logo.png".into()),
        favicon_url: Some("http://localhost:8080/favicon.ico".into()),
        user_fields: vec![
            field("plan", UserFieldType::Select, &["free", "pro"]),
            field("phone", UserFieldType::Phone, &[]),
        ],
        ..Default::default()
    };
    let updated = cp.tenants().update_settings("acme", good.clone()).await.expect("valid settings");
    assert_eq!(updated.settings.user_fields, good.user_fields);
}
