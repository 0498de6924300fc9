use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Timestamp;
use crate::mode::DbConfig;

/// A tenant of the identity provider (control plane).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tenant {
    /// UUID.
    pub id: Uuid,
    /// URL-safe unique name, `^[a-z0-9][a-z0-9-]{0,62}$`; also its folder name.
    pub slug: String,
    /// Name.
    pub name: String,
    /// Display name.
    pub display_name: Option<String>,
    /// Default language.
    pub language: Option<String>,
    /// Settings (branding, lifetimes, databases, …).
    pub settings: TenantSettings,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last update time.
    pub updated_at: Timestamp,
}

/// Settings of a tenant. Secret fields hold ciphertext once stored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TenantSettings {
    /// Logo URL.
    pub logo_url: Option<String>,
    /// Primary brand color (`#rrggbb`).
    pub brand_color: Option<String>,
    /// Secondary color.
    pub secondary_color: Option<String>,
    /// Favicon URL.
    pub favicon_url: Option<String>,
    /// Session lifetime in seconds.
    pub session_lifetime_secs: Option<u64>,
    /// Refresh-token lifetime in seconds.
    pub refresh_token_lifetime_secs: Option<u64>,
    /// Whether MFA is enabled.
    pub mfa_enabled: bool,
    /// Whether social login is enabled.
    pub social_login_enabled: bool,
    /// The tenant's own data-plane database (overrides the default tenant DB).
    pub user_db: Option<TenantDbSettings>,
    /// Cache of the tenant.
    pub cache: Option<TenantCacheSettings>,
}

/// The tenant's own database. The DSN is encrypted at rest.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct TenantDbSettings {
    /// Driver name (`postgres`, `mysql`, `sqlite`, `mongo`).
    pub driver: String,
    /// DSN (ciphertext once stored).
    pub dsn: String,
    /// PostgreSQL schema.
    pub schema: Option<String>,
}

impl TenantDbSettings {
    /// As a [`DbConfig`] (with the DSN as stored).
    pub fn to_db_config(&self) -> DbConfig {
        DbConfig { driver: self.driver.clone(), dsn: self.dsn.clone(), schema: self.schema.clone() }
    }
}

impl std::fmt::Debug for TenantDbSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.to_db_config(), f)
    }
}

/// Where the tenant's cache lives.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TenantCacheSettings {
    /// `memory` (default) or `redis`.
    pub driver: String,
    /// Redis host.
    pub host: Option<String>,
    /// Redis port.
    pub port: Option<u16>,
    /// Redis password (ciphertext once stored).
    pub password: Option<String>,
    /// Redis database number.
    pub db: Option<i64>,
    /// Key prefix.
    pub prefix: Option<String>,
}

impl std::fmt::Debug for TenantCacheSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantCacheSettings")
            .field("driver", &self.driver)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("db", &self.db)
            .field("prefix", &self.prefix)
            .finish()
    }
}
