use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Secret, Timestamp};

/// Pattern of an OAuth `client_id`.
pub const CLIENT_ID_PATTERN: &str = "^[A-Za-z0-9._-]{3,128}$";

/// Whether a client can keep a secret.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClientType {
    /// Browser or native app: no secret.
    #[default]
    Public,
    /// Server-side app with a secret.
    Confidential,
}

/// An OAuth 2.0 grant type a client may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub enum GrantType {
    /// `authorization_code`.
    #[serde(rename = "authorization_code")]
    AuthorizationCode,
    /// `refresh_token`.
    #[serde(rename = "refresh_token")]
    RefreshToken,
    /// `client_credentials` (confidential clients).
    #[serde(rename = "client_credentials")]
    ClientCredentials,
    /// Device authorization grant.
    #[serde(rename = "urn:ietf:params:oauth:grant-type:device_code")]
    DeviceCode,
}

/// An OAuth/OIDC client of a tenant. Stored in `tenants/<slug>/clients.yaml`.
#[derive(Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Client {
    /// UUID.
    pub id: Uuid,
    /// OAuth `client_id`, `^[A-Za-z0-9._-]{3,128}$`.
    #[schemars(regex(pattern = "^[A-Za-z0-9._-]{3,128}$"))]
    pub client_id: String,
    /// Name.
    #[schemars(length(min = 1))]
    pub name: String,
    /// Public or confidential.
    #[serde(rename = "type")]
    pub client_type: ClientType,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Allowed redirect URIs (absolute, no fragment, https except loopback).
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Allowed post-logout redirect URIs (same rules as redirect URIs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post_logout_uris: Vec<String>,
    /// Allowed CORS origins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_origins: Vec<String>,
    /// Login providers offered (`password`, `google`, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub providers: Vec<String>,
    /// Scopes the client may ask for (each exists in the tenant).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Grant types the client may use.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grant_types: Vec<GrantType>,
    /// Secret, encrypted at rest (confidential clients only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
    /// Whether users must verify their e-mail before they can log in through this client.
    #[serde(default)]
    pub require_email_verification: bool,
    /// Page of the client where password resets land.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset_password_url: Option<String>,
    /// Page of the client where e-mail verifications land.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_email_url: Option<String>,
    /// JSON Schema of custom claims, by claim name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub claim_schema: BTreeMap<String, serde_json::Value>,
    /// Claim name → user attribute it is taken from.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub claim_mapping: BTreeMap<String, String>,
    /// Access-token lifetime in seconds (tenant default when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub access_token_ttl_secs: Option<u64>,
    /// Refresh-token lifetime in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub refresh_token_ttl_secs: Option<u64>,
    /// ID-token lifetime in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub id_token_ttl_secs: Option<u64>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last update time.
    pub updated_at: Timestamp,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id)
            .field("client_id", &self.client_id)
            .field("name", &self.name)
            .field("client_type", &self.client_type)
            .field("redirect_uris", &self.redirect_uris)
            .field("scopes", &self.scopes)
            .field("grant_types", &self.grant_types)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Whether the client may ask for `scope`.
    pub fn is_scope_allowed(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

/// What `ClientRepository::create` and `update` take. `secret` is plain text here; the
/// store encrypts it before writing.
#[derive(Clone, Default, PartialEq)]
pub struct ClientInput {
    /// OAuth `client_id`.
    pub client_id: String,
    /// Name.
    pub name: String,
    /// Public or confidential (`None`: public on create, unchanged on update).
    pub client_type: Option<ClientType>,
    /// Description.
    pub description: Option<String>,
    /// Redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Post-logout redirect URIs.
    pub post_logout_uris: Vec<String>,
    /// Allowed CORS origins.
    pub allowed_origins: Vec<String>,
    /// Login providers.
    pub providers: Vec<String>,
    /// Scopes.
    pub scopes: Vec<String>,
    /// Grant types.
    pub grant_types: Vec<GrantType>,
    /// Plain-text secret (confidential clients only).
    pub secret: Option<String>,
    /// Whether e-mail verification is required.
    pub require_email_verification: bool,
    /// Password-reset landing page.
    pub reset_password_url: Option<String>,
    /// E-mail-verification landing page.
    pub verify_email_url: Option<String>,
    /// JSON Schema of custom claims.
    pub claim_schema: BTreeMap<String, serde_json::Value>,
    /// Claim mapping.
    pub claim_mapping: BTreeMap<String, String>,
    /// Access-token lifetime in seconds.
    pub access_token_ttl_secs: Option<u64>,
    /// Refresh-token lifetime in seconds.
    pub refresh_token_ttl_secs: Option<u64>,
    /// ID-token lifetime in seconds.
    pub id_token_ttl_secs: Option<u64>,
}

impl ClientInput {
    /// A public client with this id and name and nothing else.
    pub fn new(client_id: impl Into<String>, name: impl Into<String>) -> Self {
        ClientInput { client_id: client_id.into(), name: name.into(), ..Default::default() }
    }
}

impl std::fmt::Debug for ClientInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientInput")
            .field("client_id", &self.client_id)
            .field("name", &self.name)
            .field("client_type", &self.client_type)
            .field("redirect_uris", &self.redirect_uris)
            .field("scopes", &self.scopes)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// Checks an OAuth `client_id` against `^[A-Za-z0-9._-]{3,128}$`.
///
/// Errors: `InvalidInput`.
pub fn validate_client_id(client_id: &str) -> crate::error::StoreResult<()> {
    let ok = (3..=128).contains(&client_id.len())
        && client_id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(crate::error::StoreError::invalid(
            "client_id",
            format!("{client_id:?} does not match {CLIENT_ID_PATTERN}"),
        ))
    }
}

/// Checks a redirect URI: absolute, no fragment, `https` unless the host is loopback
/// (`localhost`, `127.0.0.0/8`, `[::1]`), where `http` is allowed too.
///
/// Errors: `InvalidInput` with the reason.
pub fn validate_redirect_uri(uri: &str) -> crate::error::StoreResult<()> {
    redirect_uri_problem(uri).map_or(Ok(()), |m| Err(crate::error::StoreError::invalid("redirect_uri", m)))
}

/// Why `uri` is not an acceptable redirect URI, `None` when it is.
pub fn redirect_uri_problem(uri: &str) -> Option<String> {
    if uri.is_empty() {
        return Some("redirect URI is empty".into());
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some(format!("redirect URI {uri:?} contains whitespace"));
    }
    if uri.contains('#') {
        return Some(format!("redirect URI {uri:?} must not contain a fragment"));
    }
    let Some((scheme, rest)) = uri.split_once("://") else {
        return Some(format!("redirect URI {uri:?} is not absolute"));
    };
    let scheme = scheme.to_ascii_lowercase();
    if scheme.is_empty() || !scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) {
        return Some(format!("redirect URI {uri:?} is not absolute"));
    }
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(stripped) = host_port.strip_prefix('[') {
        stripped.split(']').next().unwrap_or("")
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    if host.is_empty() {
        return Some(format!("redirect URI {uri:?} has no host"));
    }
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().map(|ip| ip.is_loopback()).unwrap_or(false);
    match scheme.as_str() {
        "https" => None,
        "http" if loopback => None,
        "http" => {
            Some(format!("redirect URI {uri:?} must use https (http is allowed only for loopback hosts)"))
        }
        other => Some(format!("redirect URI {uri:?} must use https, not {other}")),
    }
}
