use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
    /// UUID.
    pub id: Uuid,
    /// URL-safe unique name, `^[a-z0-9][a-z0-9-]{0,62}$`; also its folder name.
    #[schemars(regex(pattern = "^[a-z0-9][a-z0-9-]{0,62}$"))]
    pub slug: String,
    /// Name.
    #[schemars(length(min = 1))]
    pub name: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Default language (BCP 47 tag, e.g. `en` or `es-AR`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"))]
    pub language: Option<String>,
    /// The tenant's namespace: the name `{tenant}` stands for in the default tenant
    /// database template (`^[a-z0-9_]{1,40}$`). Chosen once, when the tenant is created, and
    /// unique among live tenants and deleted tenants not yet purged; immutable afterwards.
    /// Absent in files written before namespaces were recorded: then
    /// [`default_namespace`] of the slug.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^[a-z0-9_]{1,40}$"))]
    pub namespace: Option<String>,
    /// Settings (branding, lifetimes, databases, …).
    #[serde(default)]
    pub settings: TenantSettings,
    /// Where the creation and migration of the tenant's database namespace stands. Written
    /// by the store (`tenants().create` through a manager, `hellojohn-store tenant
    /// provision`, `migrate`) through `TenantRepository::record_provisioning`; `update`
    /// leaves it as it is. Absent until the first attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning: Option<Provisioning>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last update time.
    pub updated_at: Timestamp,
}

/// The outcome of the last attempt to create and migrate a tenant's namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Provisioning {
    /// `ready` (created and migrated) or `failed` (see `error`; retry with `hellojohn-store
    /// tenant provision <slug>`).
    pub state: ProvisioningState,
    /// When the attempt ended.
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

/// [`Provisioning::state`].
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

/// Settings of a tenant. Secret fields are [`Secret`]s: plain when given by a caller,
/// ciphertext once stored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantSettings {
    /// Logo URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    /// Primary brand color (`#rrggbb`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^#[0-9A-Fa-f]{6}$"))]
    pub brand_color: Option<String>,
    /// Secondary color (`#rrggbb`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^#[0-9A-Fa-f]{6}$"))]
    pub secondary_color: Option<String>,
    /// Favicon URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub favicon_url: Option<String>,
    /// Session lifetime in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub session_lifetime_secs: Option<u64>,
    /// Refresh-token lifetime in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub refresh_token_lifetime_secs: Option<u64>,
    /// Seconds after a rotation during which presenting the rotated refresh token again
    /// returns the same successor instead of revoking the family (a client's retry); 0 or
    /// absent: off. At most 300 (5 minutes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 300))]
    pub refresh_token_reuse_interval_secs: Option<u64>,
    /// Access-token lifetime in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub access_token_lifetime_secs: Option<u64>,
    /// Whether MFA is enabled.
    #[serde(default)]
    pub mfa_enabled: bool,
    /// Whether social login is enabled.
    #[serde(default)]
    pub social_login_enabled: bool,
    /// Outgoing mail server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp: Option<SmtpSettings>,
    /// The tenant's own data-plane database (overrides the default tenant DB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_db: Option<TenantDbSettings>,
    /// Cache of the tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<TenantCacheSettings>,
    /// Password and lockout policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security: Option<SecurityPolicy>,
    /// Custom user fields, in display order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user_fields: Vec<UserFieldDefinition>,
    /// Mail templates by kind (`verify_email`, `reset_password`, …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub mailing_templates: BTreeMap<String, MailTemplate>,
    /// How the issuer (`iss`) of the tenant's tokens is built.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_mode: Option<IssuerMode>,
    /// Issuer URL used when `issuer_mode` is `custom`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_override: Option<String>,
    /// Social login providers by name (`google`, `github`, …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("propertyNames" = { "pattern": "^[a-z0-9][a-z0-9_-]{0,31}$" }))]
    pub social_providers: BTreeMap<String, SocialProvider>,
    /// When users are asked for consent.
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
    /// Host name.
    #[schemars(length(min = 1))]
    pub host: String,
    /// Port.
    #[schemars(range(min = 1))]
    pub port: u16,
    /// User name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// Sender address.
    #[schemars(email)]
    pub from_email: String,
    /// Sender name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_name: Option<String>,
    /// Whether to use TLS (STARTTLS or implicit).
    #[serde(default)]
    pub use_tls: bool,
}

/// The tenant's own database. The DSN is encrypted at rest: decrypt it with
/// [`SecretBox::decrypt`](crate::crypto::SecretBox::decrypt) and field
/// [`USER_DB_DSN`](crate::crypto::fields::USER_DB_DSN).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantDbSettings {
    /// Driver name (`postgres`, `mysql`, `sqlite`, `mongo`).
    #[schemars(regex(pattern = "^[a-z0-9_-]{1,32}$"))]
    pub driver: String,
    /// DSN.
    pub dsn: Secret,
    /// PostgreSQL schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
    /// `memory` (default) or `redis`.
    #[serde(default)]
    pub driver: CacheDriver,
    /// Redis host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Redis port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Redis password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// Redis database number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub db: Option<i64>,
    /// Key prefix inside the tenant's own namespace: keys are
    /// `hj:t:{tenant id}:{prefix}{key}`, so it can only subdivide the tenant's keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

/// Password and lockout rules of a tenant.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityPolicy {
    /// Shortest accepted password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1024))]
    pub password_min_length: Option<u32>,
    /// Require an upper-case letter.
    #[serde(default)]
    pub require_uppercase: bool,
    /// Require a lower-case letter.
    #[serde(default)]
    pub require_lowercase: bool,
    /// Require a digit.
    #[serde(default)]
    pub require_number: bool,
    /// Require a symbol.
    #[serde(default)]
    pub require_special: bool,
    /// Failed logins before the account is locked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_login_attempts: Option<u32>,
    /// How long a lockout lasts, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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

/// A custom field of the tenant's users.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserFieldDefinition {
    /// Key in `custom_fields`.
    #[schemars(regex(pattern = "^[a-z][a-z0-9_]{0,63}$"))]
    pub name: String,
    /// Type.
    #[serde(rename = "type")]
    pub field_type: UserFieldType,
    /// Label shown in forms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
    /// Allowed values of a `select` field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

/// A mail template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MailTemplate {
    /// Subject line.
    #[schemars(length(min = 1))]
    pub subject: String,
    /// HTML body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_html: Option<String>,
    /// Plain-text body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
    /// Whether the provider is offered.
    #[serde(default)]
    pub enabled: bool,
    /// OAuth client id at the provider.
    #[schemars(length(min = 1))]
    pub client_id: String,
    /// OAuth client secret at the provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<Secret>,
    /// Scopes asked of the provider.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// Authorization endpoint (generic OIDC providers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_url: Option<String>,
    /// Token endpoint (generic OIDC providers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
    /// Single screen or per scope.
    #[serde(default)]
    pub consent_mode: ConsentMode,
    /// Days a consent stays valid (none: forever).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
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
