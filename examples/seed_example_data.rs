//! Writes the example control-plane tree (`examples/data`) through the public API, so every
//! file is exactly what the store writes and every secret is real ciphertext under the
//! documented example key (see `examples/README.md`).
//!
//! ```sh
//! HJ_SECRET_KEY=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8= \
//!   cargo run --example seed_example_data -- examples/data
//! ```

use std::collections::BTreeMap;

use hellojohn_store::StoreResult;
use hellojohn_store::adapters::fs::FsControlPlane;
use hellojohn_store::crypto::SecretBox;
use hellojohn_store::model::*;

#[tokio::main]
async fn main() -> StoreResult<()> {
    let root = std::env::args().nth(1).unwrap_or_else(|| "examples/data".into());
    let cp = FsControlPlane::new(&root, Some(SecretBox::from_env()?));
    let tenants = cp.tenants();

    let mut acme = Tenant::new("acme", "Acme Corporation");
    acme.display_name = Some("Acme".into());
    acme.language = Some("en".into());
    let s = &mut acme.settings;
    s.logo_url = Some("https://cdn.acme.example/logo.svg".into());
    s.brand_color = Some("#0b5fff".into());
    s.secondary_color = Some("#0a2540".into());
    s.favicon_url = Some("https://cdn.acme.example/favicon.ico".into());
    s.session_lifetime_secs = Some(86_400);
    s.refresh_token_lifetime_secs = Some(2_592_000);
    s.access_token_lifetime_secs = Some(900);
    s.mfa_enabled = true;
    s.smtp = Some(SmtpSettings {
        host: "smtp.acme.example".into(),
        port: 587,
        username: Some("mailer".into()),
        password: Some(Secret::plain("example-smtp-password")),
        from_email: "no-reply@acme.example".into(),
        from_name: Some("Acme Accounts".into()),
        use_tls: true,
    });
    s.user_db = Some(TenantDbSettings {
        driver: "postgres".into(),
        dsn: Secret::plain("postgres://acme:example@db.acme.example:5432/acme"),
        schema: Some("acme".into()),
    });
    s.cache = Some(TenantCacheSettings {
        driver: CacheDriver::Redis,
        host: Some("redis.acme.example".into()),
        port: Some(6379),
        password: Some(Secret::plain("example-redis-password")),
        db: Some(2),
        prefix: Some("acme:".into()),
    });
    s.security = Some(SecurityPolicy {
        password_min_length: Some(12),
        require_uppercase: true,
        require_lowercase: true,
        require_number: true,
        require_special: false,
        max_login_attempts: Some(5),
        lockout_duration_secs: Some(900),
    });
    s.user_fields = vec![
        UserFieldDefinition {
            name: "employee_id".into(),
            field_type: UserFieldType::Text,
            label: Some("Employee ID".into()),
            required: true,
            unique: true,
            indexed: true,
            options: vec![],
        },
        UserFieldDefinition {
            name: "department".into(),
            field_type: UserFieldType::Select,
            label: Some("Department".into()),
            required: false,
            unique: false,
            indexed: true,
            options: vec!["engineering".into(), "sales".into(), "support".into()],
        },
    ];
    s.mailing_templates = BTreeMap::from([(
        "verify_email".to_string(),
        MailTemplate {
            subject: "Confirm your Acme account".into(),
            body_html: Some("<p>Hello {{name}}, <a href=\"{{link}}\">confirm your e-mail</a>.</p>".into()),
            body_text: Some("Hello {{name}}, confirm your e-mail: {{link}}".into()),
        },
    )]);
    s.issuer_mode = Some(IssuerMode::Path);
    s.consent_policy = Some(ConsentPolicy {
        consent_mode: ConsentMode::PerScope,
        expiration_days: Some(365),
        remember_scope_decisions: true,
        show_consent_screen: true,
        skip_for_first_party: true,
    });
    let acme = tenants.create(acme).await?;

    let mut globex = Tenant::new("globex", "Globex");
    globex.language = Some("es-AR".into());
    globex.settings.brand_color = Some("#2e7d32".into());
    globex.settings.social_login_enabled = true;
    globex.settings.social_providers = BTreeMap::from([(
        "google".to_string(),
        SocialProvider {
            enabled: true,
            client_id: "1234567890-globex.apps.googleusercontent.com".into(),
            client_secret: Some(Secret::plain("example-google-client-secret")),
            scopes: vec!["openid".into(), "email".into(), "profile".into()],
            auth_url: None,
            token_url: None,
        },
    )]);
    let globex = tenants.create(globex).await?;

    let scopes = cp.scopes("acme")?;
    let mut billing = ScopeInput::new("billing:read", "Read invoices and the subscription plan");
    billing.display_name = Some("Billing (read)".into());
    billing.claims = vec!["plan".into(), "billing_email".into()];
    billing.depends_on = vec!["openid".into()];
    scopes.create(billing).await?;
    scopes.create(ScopeInput::new("reports", "Download usage reports")).await?;
    cp.scopes("globex")?.create(ScopeInput::new("orders:write", "Place orders")).await?;

    let clients = cp.clients("acme")?;
    let mut web = ClientInput::new("acme-web", "Acme web app");
    web.description = Some("Single-page app at app.acme.example".into());
    web.redirect_uris =
        vec!["https://app.acme.example/callback".into(), "http://localhost:5173/callback".into()];
    web.post_logout_uris = vec!["https://app.acme.example/".into()];
    web.allowed_origins = vec!["https://app.acme.example".into()];
    web.providers = vec!["password".into()];
    web.scopes = vec!["openid".into(), "profile".into(), "email".into(), "offline_access".into()];
    web.grant_types = vec![GrantType::AuthorizationCode, GrantType::RefreshToken];
    web.require_email_verification = true;
    web.reset_password_url = Some("https://app.acme.example/reset-password".into());
    web.verify_email_url = Some("https://app.acme.example/verify-email".into());
    clients.create(web).await?;
    let mut backend = ClientInput::new("acme-billing-api", "Billing API");
    backend.client_type = Some(ClientType::Confidential);
    backend.secret = Some("example-client-secret-acme-billing".into());
    backend.redirect_uris = vec!["https://billing.acme.example/oauth/callback".into()];
    backend.scopes = vec!["openid".into(), "billing:read".into(), "reports".into()];
    backend.grant_types = vec![GrantType::AuthorizationCode, GrantType::ClientCredentials];
    backend.claim_mapping =
        BTreeMap::from([("employee".to_string(), "custom_fields.employee_id".to_string())]);
    backend.claim_schema = BTreeMap::from([(
        "employee".to_string(),
        serde_json::json!({"type": "string", "pattern": "^E[0-9]{5}$"}),
    )]);
    backend.access_token_ttl_secs = Some(600);
    backend.id_token_ttl_secs = Some(300);
    clients.create(backend).await?;

    let mut shop = ClientInput::new("globex-shop", "Globex shop");
    shop.redirect_uris = vec!["https://shop.globex.example/auth/callback".into()];
    shop.providers = vec!["password".into(), "google".into()];
    shop.scopes = vec!["openid".into(), "email".into(), "orders:write".into()];
    shop.grant_types = vec![GrantType::AuthorizationCode];
    cp.clients("globex")?.create(shop).await?;

    let admins = cp.admins();
    let root_admin = admins
        .create(AdminInput {
            email: "ops@hellojohn.example".into(),
            password_hash: hellojohn_store::password::hash_password("example-admin-password")?,
            name: Some("Operations".into()),
            admin_type: AdminType::Global,
            assigned_tenants: vec![],
            created_by: Some("seed".into()),
        })
        .await?;
    admins
        .create(AdminInput {
            email: "it@acme.example".into(),
            password_hash: hellojohn_store::password::hash_password("example-acme-password")?,
            name: Some("Acme IT".into()),
            admin_type: AdminType::Tenant,
            assigned_tenants: vec![acme.id],
            created_by: Some(root_admin.email.clone()),
        })
        .await?;
    let _ = globex;
    cp.admin_refresh_tokens()
        .create(
            root_admin.id,
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            chrono::Utc::now() + chrono::TimeDelta::days(3650),
        )
        .await?;
    println!("wrote {root}");
    Ok(())
}
