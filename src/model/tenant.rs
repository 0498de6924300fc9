use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::limits::{CONTROL_DESCRIPTION, CONTROL_NAME};
use super::{Secret, Timestamp};

/// Pattern of a tenant slug; the slug is also the tenant's folder name.
pub const SLUG_PATTERN: &str = "^[a-z0-9][a-z0-9-]{0,62}$";

/// Pattern of a tenant namespace: the name `{tenant}` stands for in the default tenant
/// database template.
pub const NAMESPACE_PATTERN: &str = "^[a-z0-9_]{1,40}$";

/// Longest tenant namespace ([`NAMESPACE_PATTERN`]).
pub const NAMESPACE_MAX_LEN: usize = 40;

/// Whether `name` matches [`NAMESPACE_PATTERN`].
pub fn is_valid_tenant_namespace(name: &str) -> bool {
    (1..=NAMESPACE_MAX_LEN).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// The namespace `slug` gets when nothing else is recorded: the slug with `-` turned into
/// `_` when that fits [`NAMESPACE_MAX_LEN`]; a longer slug (a tenant written before
/// namespaces were recorded) keeps its first 31 characters and `_` plus 8 hex digits of the
/// SHA-256 of the slug. The store never creates a tenant without recording its namespace, so
/// this only names the namespace of older tenant files; whether it is free is checked like
/// any other (see [`Tenant::namespace`]).
pub fn default_namespace(slug: &str) -> String {
    let name = slug.replace('-', "_");
    if name.len() <= NAMESPACE_MAX_LEN {
        return name;
    }
    use sha2::{Digest, Sha256};
    let hash: String = Sha256::digest(slug.as_bytes()).iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("{}_{hash}", &name[..NAMESPACE_MAX_LEN - 9])
}

/// A tenant of the identity provider (control plane). Stored as `tenants/<slug>/tenant.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "HelloJohn tenant", description = "A tenant of HelloJohn: tenants/<slug>/tenant.yaml")]
pub struct Tenant {
    /// The tenant's UUID, given by the store when it creates the tenant. Never change it:
    /// admins' `assigned_tenants` and the tenant's cache keys refer to it.
    #[schemars(example = &"01a21ee0-4678-721b-97f6-7e5b19376bb1")]
    pub id: Uuid,
    /// URL-safe unique name of the tenant: lower-case letters, digits and `-`, at most 63
    /// (`^[a-z0-9][a-z0-9-]{0,62}$`). It must equal the name of the tenant's folder under
    /// `tenants/`.
    #[schemars(regex(pattern = "^[a-z0-9][a-z0-9-]{0,62}$"), length(max = 63), example = &"acme")]
    pub slug: String,
    /// The tenant's full name, as the admin console shows it (at least one character).
    #[schemars(length(min = 1, max = CONTROL_NAME), example = &"Acme Corporation")]
    pub name: String,
    /// A shorter name shown to the tenant's users, e.g. on its login page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = CONTROL_NAME), example = &"Acme")]
    pub display_name: Option<String>,
    /// Default language of the tenant's pages and e-mails: a BCP 47 tag such as `en` or
    /// `es-AR`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"), example = &"en", example = &"es-AR")]
    pub language: Option<String>,
    /// The name `{tenant}` stands for in the default tenant database template: the
    /// tenant's PostgreSQL schema, MySQL or MongoDB database, or SQLite file name
    /// (`^[a-z0-9_]{1,40}$`). The store chooses it when it creates the tenant, unique among
    /// live tenants and deleted tenants not yet purged; never change it. Absent in files
    /// written before namespaces were recorded: the slug with `-` as `_` is used then (a
    /// slug longer than 40 after that: its first 31 characters, `_` and 8 hex digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^[a-z0-9_]{1,40}$"), example = &"acme")]
    pub namespace: Option<String>,
    /// The tenant's settings: branding, token lifetimes, mail server, own database, cache,
    /// password policy, custom user fields, mail templates, issuer, social login, consent.
    #[serde(default)]
    pub settings: TenantSettings,
    /// Written by the store, do not edit: how the last creation and migration of the
    /// tenant's database namespace ended (`tenants().create` through a manager,
    /// `hellojohn-store tenant provision`, `migrate`, through
    /// `TenantRepository::record_provisioning`; `update` leaves it as it is). Absent until
    /// the first attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning: Option<Provisioning>,
    /// When the tenant was created: an RFC 3339 date-time in UTC, written by the store.
    #[schemars(example = &"2026-11-27T21:19:04.313320Z")]
    pub created_at: Timestamp,
    /// When the tenant was last changed: an RFC 3339 date-time in UTC, written by the store.
    #[schemars(example = &"2026-11-27T21:19:04.313320Z")]
    pub updated_at: Timestamp,
}

/// The outcome of the last attempt to create and migrate a tenant's namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Provisioning {
    /// `ready` (created and migrated) or `failed` (see `error`; retry with `hellojohn-store
    /// tenant provision <slug>`).
    pub state: ProvisioningState,
    /// When the attempt ended: an RFC 3339 date-time in UTC.
    pub at: Timestamp,
    /// The database the attempt was for: a digest of driver, server and namespace (no
    /// secret), so a changed database is provisioned again.
    #[schemars(regex(pattern = "^[0-9a-f]{16}$"))]
    pub target: String,
    /// The schema version the namespace was migrated to (the last migration's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<String>,
    /// Why the attempt failed (no DSN or secret in it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Whether the last provisioning attempt of a tenant succeeded (`Provisioning::state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProvisioningState {
    /// Created and migrated.
    Ready,
    /// The last attempt failed.
    Failed,
}

impl Tenant {
    /// A new tenant with a fresh id, default settings and `now` as both timestamps.
    pub fn new(slug: impl Into<String>, name: impl Into<String>) -> Self {
        let now = super::now();
        Tenant {
            id: super::new_id(),
            slug: slug.into(),
            name: name.into(),
            display_name: None,
            language: None,
            namespace: None,
            settings: TenantSettings::default(),
            provisioning: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// The namespace `{tenant}` stands for: the recorded one, else [`default_namespace`] of
    /// the slug (tenant files written before namespaces were recorded).
    pub fn effective_namespace(&self) -> String {
        self.namespace.clone().unwrap_or_else(|| default_namespace(&self.slug))
    }
}

/// What a deleted tenant leaves behind until an operator purges it: enough to find (and
/// drop) its namespace and to keep that namespace from being given to a new tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeletedTenant {
    /// The deleted tenant's id.
    pub id: Uuid,
    /// Its slug (free again: a new tenant may take it, with a new id and namespace).
    pub slug: String,
    /// Its namespace, still holding its data until purged.
    pub namespace: String,
    /// Whether it had its own `user_db` (never dropped by a purge).
    #[serde(default)]
    pub own_db: bool,
    /// When it was deleted.
    pub deleted_at: Timestamp,
}

/// Settings of a tenant. Secret fields (the SMTP and Redis passwords, the own database's
/// DSN, social providers' client secrets) hold `enc:v1:` ciphertext in the file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend(
    "if" = { "properties": { "issuer_mode": { "const": "custom" } }, "required": ["issuer_mode"] },
    "then" = { "properties": { "issuer_override": { "type": "string" } }, "required": ["issuer_override"] }
))]
pub struct TenantSettings {
    /// Absolute URL of the tenant's logo, shown on its login and consent pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(url, regex(pattern = super::URL_PATTERN), length(max = CONTROL_DESCRIPTION), example = &"https://cdn.acme.example/logo.svg")]
    pub logo_url: Option<String>,
    /// Primary brand colour as `#rrggbb` hex, e.g. for buttons and links.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^#[0-9A-Fa-f]{6}$"), example = &"#0b5fff")]
    pub brand_color: Option<String>,
    /// Secondary brand colour as `#rrggbb` hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^#[0-9A-Fa-f]{6}$"), example = &"#0a2540")]
    pub secondary_color: Option<String>,
    /// Absolute URL of the tenant's favicon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(url, regex(pattern = super::URL_PATTERN), length(max = CONTROL_DESCRIPTION), example = &"https://cdn.acme.example/favicon.ico")]
    pub favicon_url: Option<String>,
    /// How long a login session lasts, in seconds (86400 = one day).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1), example = 86_400)]
    pub session_lifetime_secs: Option<u64>,
    /// How long a refresh token stays valid, in seconds (2592000 = 30 days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1), example = 2_592_000)]
    pub refresh_token_lifetime_secs: Option<u64>,
    /// Seconds after a rotation during which presenting the rotated refresh token again
    /// returns the same successor instead of revoking the family (a client's retry); 0 or
    /// absent: off. At most 300 (5 minutes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = MAX_REFRESH_TOKEN_REUSE_INTERVAL_SECS), example = 10)]
    pub refresh_token_reuse_interval_secs: Option<u64>,
    /// How long an access token stays valid, in seconds (900 = 15 minutes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1), example = 900)]
    pub access_token_lifetime_secs: Option<u64>,
    /// Whether the tenant's users can (and are offered to) use multi-factor authentication.
    #[serde(default)]
    pub mfa_enabled: bool,
    /// Whether the tenant offers login through the providers of `social_providers`.
    #[serde(default)]
    pub social_login_enabled: bool,
    /// The mail server the tenant's e-mails (verification, password reset) are sent through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp: Option<SmtpSettings>,
    /// The tenant's own database for its users and tokens, instead of the deployment's
    /// default tenant database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_db: Option<TenantDbSettings>,
    /// Where the tenant's cache lives: in the process (default) or on a Redis server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<TenantCacheSettings>,
    /// Password rules and lockout after failed logins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security: Option<SecurityPolicy>,
    /// Custom fields of the tenant's users, in the order forms show them; names are unique.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user_fields: Vec<UserFieldDefinition>,
    /// Mail templates by kind (`verify_email`, `reset_password`, …); each has a subject and
    /// an HTML and/or a plain-text body.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub mailing_templates: BTreeMap<String, MailTemplate>,
    /// How the issuer (`iss`) of the tenant's tokens is built: `global` (default), `path`
    /// or `custom` (then `issuer_override` is required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_mode: Option<IssuerMode>,
    /// The issuer URL of the tenant's tokens; required when `issuer_mode` is `custom`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(url, regex(pattern = super::URL_PATTERN), length(max = CONTROL_DESCRIPTION), example = &"https://login.acme.example")]
    pub issuer_override: Option<String>,
    /// Social login providers by name (`google`, `github`, …; lower-case letters, digits,
    /// `_` and `-`, at most 32).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("propertyNames" = { "pattern": "^[a-z0-9][a-z0-9_-]{0,31}$" }))]
    pub social_providers: BTreeMap<String, SocialProvider>,
    /// When and how users are asked to consent to the scopes a client asks for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent_policy: Option<ConsentPolicy>,
}

/// Largest refresh-token reuse interval a tenant can set, in seconds (5 minutes): longer,
/// and a stolen token replayed soon after the rotation would still be answered.
pub const MAX_REFRESH_TOKEN_REUSE_INTERVAL_SECS: u64 = 300;

impl TenantSettings {
    /// The refresh-token reuse interval (`refresh_token_reuse_interval_secs`, 0 when absent),
    /// capped at [`MAX_REFRESH_TOKEN_REUSE_INTERVAL_SECS`] whatever the stored value.
    pub fn refresh_token_reuse_interval(&self) -> chrono::TimeDelta {
        let secs =
            self.refresh_token_reuse_interval_secs.unwrap_or(0).min(MAX_REFRESH_TOKEN_REUSE_INTERVAL_SECS);
        chrono::TimeDelta::seconds(secs as i64)
    }
}

/// Outgoing mail server. The password is encrypted at rest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    /// Host name (or IP address) of the SMTP server.
    #[schemars(length(min = 1), example = &"smtp.acme.example")]
    pub host: String,
    /// TCP port of the SMTP server: usually 587 (STARTTLS), 465 (implicit TLS) or 25.
    #[schemars(range(min = 1), example = 587)]
    pub port: u16,
    /// User name to log in to the SMTP server with; no login when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"mailer")]
    pub username: Option<String>,
    /// Password of the SMTP login, as `enc:v1:` ciphertext, never plain text. Make it
    /// with `hellojohn-store secret seal --tenant <slug> --field smtp.password` (the
    /// password on standard input, the key in `HJ_SECRET_KEY`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// The address the tenant's e-mails are sent from.
    #[schemars(schema_with = "super::email::email_address_schema", example = &"no-reply@acme.example")]
    pub from_email: String,
    /// The sender name shown with `from_email` in mail clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"Acme Accounts")]
    pub from_name: Option<String>,
    /// Whether to use TLS (STARTTLS or implicit).
    #[serde(default)]
    pub use_tls: bool,
}

/// The tenant's own database. The DSN is encrypted at rest (field `user_db.dsn`; in Rust,
/// `SecretBox::decrypt` with `crypto::fields::USER_DB_DSN`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantDbSettings {
    /// Database engine of the DSN: `postgres`, `mysql`, `sqlite` or `mongo`.
    #[schemars(regex(pattern = "^[a-z0-9_-]{1,32}$"), example = &"postgres")]
    pub driver: String,
    /// Connection string of the tenant's database (its password included), as `enc:v1:`
    /// ciphertext, never plain text. Make it with `hellojohn-store secret seal --tenant
    /// <slug> --field user_db.dsn` (the DSN on standard input, the key in `HJ_SECRET_KEY`).
    pub dsn: Secret,
    /// PostgreSQL schema holding the tenant's tables in that database (PostgreSQL only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"acme")]
    pub schema: Option<String>,
}

impl TenantDbSettings {
    /// As a [`DbConfig`](crate::mode::DbConfig) with the DSN decrypted for `tenant` (its slug).
    ///
    /// Errors: `Crypto` when the DSN does not decrypt.
    pub fn to_db_config(
        &self,
        tenant: &str,
        secrets: &crate::crypto::SecretBox,
    ) -> crate::error::StoreResult<crate::mode::DbConfig> {
        let dsn = secrets.decrypt(tenant, crate::crypto::fields::USER_DB_DSN, &self.dsn)?;
        Ok(crate::mode::DbConfig { driver: self.driver.clone(), dsn, schema: self.schema.clone() })
    }
}

/// Which cache a tenant uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CacheDriver {
    /// In-process cache (default).
    #[default]
    Memory,
    /// Redis.
    Redis,
}

/// Where the tenant's cache lives. The password is encrypted at rest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantCacheSettings {
    /// `memory` (in the process, the default) or `redis`.
    #[serde(default)]
    pub driver: CacheDriver,
    /// Host name (or IP address) of the Redis server, for the `redis` driver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"redis.acme.example")]
    pub host: Option<String>,
    /// TCP port of the Redis server (6379 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = 6379)]
    pub port: Option<u16>,
    /// Password of the Redis server, as `enc:v1:` ciphertext, never plain text. Make it
    /// with `hellojohn-store secret seal --tenant <slug> --field cache.password` (the
    /// password on standard input, the key in `HJ_SECRET_KEY`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// Redis logical database number (`SELECT`), 0 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0), example = 2)]
    pub db: Option<i64>,
    /// Key prefix inside the tenant's own namespace: keys are
    /// `hj:t:{tenant id}:{prefix}{key}`, so it can only subdivide the tenant's keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"acme:")]
    pub prefix: Option<String>,
}

/// Password and lockout rules of a tenant.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityPolicy {
    /// Shortest password accepted, in characters (1 to 1024).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1024), example = 12)]
    pub password_min_length: Option<u32>,
    /// Whether a password must hold an upper-case letter.
    #[serde(default)]
    pub require_uppercase: bool,
    /// Whether a password must hold a lower-case letter.
    #[serde(default)]
    pub require_lowercase: bool,
    /// Whether a password must hold a digit.
    #[serde(default)]
    pub require_number: bool,
    /// Whether a password must hold a symbol (neither letter nor digit).
    #[serde(default)]
    pub require_special: bool,
    /// Failed logins in a row after which the account is locked; no lockout when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1), example = 5)]
    pub max_login_attempts: Option<u32>,
    /// How long a locked account stays locked, in seconds (900 = 15 minutes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = 900)]
    pub lockout_duration_secs: Option<u64>,
}

/// Type of a custom user field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserFieldType {
    /// Free text.
    Text,
    /// A number.
    Number,
    /// True or false.
    Boolean,
    /// A date (`YYYY-MM-DD`).
    Date,
    /// A phone number.
    Phone,
    /// One of `options`.
    Select,
}

/// A custom field of the tenant's users. A `select` field has `options`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend(
    "if" = { "properties": { "type": { "const": "select" } }, "required": ["type"] },
    "then" = { "properties": { "options": { "type": "array", "minItems": 1 } }, "required": ["options"] }
))]
pub struct UserFieldDefinition {
    /// The field's key in a user's `custom_fields`: a lower-case letter, then lower-case
    /// letters, digits and `_` (at most 64).
    #[schemars(regex(pattern = "^[a-z][a-z0-9_]{0,63}$"), example = &"employee_id")]
    pub name: String,
    /// What the field holds: `text`, `number`, `boolean`, `date`, `phone` or `select`
    /// (one of `options`).
    #[serde(rename = "type")]
    pub field_type: UserFieldType,
    /// Label shown next to the field in forms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"Employee ID")]
    pub label: Option<String>,
    /// Whether a value is required.
    #[serde(default)]
    pub required: bool,
    /// Whether values are unique in the tenant.
    #[serde(default)]
    pub unique: bool,
    /// Whether the field is indexed for search.
    #[serde(default)]
    pub indexed: bool,
    /// Allowed values of a `select` field, each once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("uniqueItems" = true), example = ["engineering", "sales"])]
    pub options: Vec<String>,
}

/// A mail template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MailTemplate {
    /// Subject line of the e-mail (at least one character).
    #[schemars(length(min = 1), example = &"Confirm your Acme account")]
    pub subject: String,
    /// HTML body of the e-mail; `{{name}}`, `{{link}}` and the like are filled in when it
    /// is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"<p>Hello {{name}}, <a href=\"{{link}}\">confirm your e-mail</a>.</p>")]
    pub body_html: Option<String>,
    /// Plain-text body of the e-mail, for mail clients that do not show HTML.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"Hello {{name}}, confirm your e-mail: {{link}}")]
    pub body_text: Option<String>,
}

/// How the issuer of a tenant's tokens is built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IssuerMode {
    /// One issuer for the whole deployment.
    #[default]
    Global,
    /// `<base>/t/<slug>`.
    Path,
    /// `issuer_override`.
    Custom,
}

/// A social login provider of a tenant. The client secret is encrypted at rest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SocialProvider {
    /// Whether the provider is offered on the login page.
    #[serde(default)]
    pub enabled: bool,
    /// The OAuth client id the provider gave the tenant.
    #[schemars(length(min = 1), example = &"1234567890-abc.apps.googleusercontent.com")]
    pub client_id: String,
    /// The OAuth client secret the provider gave the tenant, as `enc:v1:` ciphertext,
    /// never plain text. Make it with `hellojohn-store secret seal --tenant <slug> --field
    /// social_providers.<name>.client_secret` (the secret on standard input, the key in
    /// `HJ_SECRET_KEY`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<Secret>,
    /// Scopes asked of the provider at login, each once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("uniqueItems" = true), example = ["openid", "email", "profile"])]
    pub scopes: Vec<String>,
    /// Authorization endpoint URL of a generic OpenID Connect provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(url, regex(pattern = super::URL_PATTERN), length(max = CONTROL_DESCRIPTION), example = &"https://idp.example/authorize")]
    pub auth_url: Option<String>,
    /// Token endpoint URL of a generic OpenID Connect provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(url, regex(pattern = super::URL_PATTERN), length(max = CONTROL_DESCRIPTION), example = &"https://idp.example/token")]
    pub token_url: Option<String>,
}

/// How consent is asked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConsentMode {
    /// One screen for all scopes.
    #[default]
    Single,
    /// A decision per scope.
    PerScope,
}

/// When users are asked for consent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentPolicy {
    /// `single` (one screen for all scopes, the default) or `per_scope` (a decision per
    /// scope).
    #[serde(default)]
    pub consent_mode: ConsentMode,
    /// Days a consent stays valid; forever when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1), example = 365)]
    pub expiration_days: Option<u32>,
    /// Whether a user's per-scope decisions are remembered.
    #[serde(default)]
    pub remember_scope_decisions: bool,
    /// Whether the consent screen is shown at all.
    #[serde(default = "default_true")]
    pub show_consent_screen: bool,
    /// Whether first-party clients skip consent.
    #[serde(default)]
    pub skip_for_first_party: bool,
}

fn default_true() -> bool {
    true
}

#[cfg(test)]
mod reuse_interval_tests {
    use super::*;

    #[test]
    fn the_reuse_interval_is_off_by_default_and_capped_whatever_is_stored() {
        let mut settings = TenantSettings::default();
        assert!(settings.refresh_token_reuse_interval().is_zero());
        settings.refresh_token_reuse_interval_secs = Some(30);
        assert_eq!(settings.refresh_token_reuse_interval(), chrono::TimeDelta::seconds(30));
        settings.refresh_token_reuse_interval_secs = Some(u64::MAX);
        assert_eq!(
            settings.refresh_token_reuse_interval(),
            chrono::TimeDelta::seconds(MAX_REFRESH_TOKEN_REUSE_INTERVAL_SECS as i64)
        );
    }
}
