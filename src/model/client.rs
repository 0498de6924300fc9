use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::limits::{CONTROL_DESCRIPTION, CONTROL_NAME};
use super::{Secret, Timestamp};

/// Pattern of an OAuth `client_id`.
pub const CLIENT_ID_PATTERN: &str = "^[A-Za-z0-9._-]{3,128}$";

/// The shape of a redirect URI as the schemas give it (ECMA-262 and Python read it alike):
/// `https://<host>…`, `http://` on `localhost`, `127.x.x.x` or `[::1]` (any port), or a
/// reverse-DNS private-use scheme (`com.example.app:/cb`); no whitespace, no fragment, no
/// userinfo in an `http(s)` URI. [`validate_redirect_uri`] checks this and the rest (a
/// WHATWG parse, refused schemes, userinfo of private-use URIs, control characters).
pub const REDIRECT_URI_PATTERN: &str = concat!(
    r"^(?:[Hh][Tt][Tt][Pp][Ss]://[^\s/?#@]+(?:[/?][^\s#]*)?",
    r"|[Hh][Tt][Tt][Pp]://(?:[Ll][Oo][Cc][Aa][Ll][Hh][Oo][Ss][Tt]|127(?:\.[0-9]{1,3}){3}|\[::1\])(?::[0-9]{1,5})?(?:[/?][^\s#]*)?",
    r"|[A-Za-z][A-Za-z0-9+-]*(?:\.[A-Za-z0-9+-]+)+:[^\s#]+)$",
);

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

/// An OAuth/OIDC client of a tenant. Stored in `tenants/<slug>/clients.yaml`. A `public`
/// client has no `secret` and may not use `client_credentials`; a `confidential` one has a
/// `secret`.
#[derive(Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("allOf" = [
    {
        "if": { "properties": { "type": { "const": "public" } }, "required": ["type"] },
        "then": { "properties": {
            "secret": false,
            "grant_types": { "type": "array", "items": { "not": { "const": "client_credentials" } } }
        } }
    },
    {
        "if": { "properties": { "type": { "const": "confidential" } }, "required": ["type"] },
        "then": { "required": ["secret"] }
    }
]))]
pub struct Client {
    /// The client's UUID, given by the store when it creates the client.
    #[schemars(example = &"01a21ee0-4a01-7f3c-9d2e-7c1b2a3d4e5f")]
    pub id: Uuid,
    /// The OAuth `client_id` apps send: 3 to 128 letters, digits, `.`, `_` or `-`, unique
    /// in the tenant.
    #[schemars(regex(pattern = "^[A-Za-z0-9._-]{3,128}$"), example = &"acme-web")]
    pub client_id: String,
    /// The client's name, as consent screens and the admin console show it.
    #[schemars(length(min = 1, max = CONTROL_NAME), example = &"Acme Web")]
    pub name: String,
    /// `public` (a browser or native app, which cannot keep a secret) or `confidential` (a
    /// server-side app with a `secret`).
    #[serde(rename = "type")]
    pub client_type: ClientType,
    /// What the client is, for the people who manage it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = CONTROL_DESCRIPTION), example = &"The customer portal")]
    pub description: Option<String>,
    /// Where the client may receive authorization responses, each once: `https://…`,
    /// `http://` only on a loopback host (`localhost`, `127.0.0.1`, `[::1]`, any port),
    /// or a native app's reverse-DNS scheme (`com.example.app:/cb`); no fragment, no
    /// userinfo.
    #[serde(default)]
    #[schemars(
        inner(regex(pattern = REDIRECT_URI_PATTERN)),
        extend("uniqueItems" = true),
        example = ["https://app.acme.example/callback", "com.acme.app:/oauth2redirect"]
    )]
    pub redirect_uris: Vec<String>,
    /// Where the client may send users after logout, each once (the rules of
    /// `redirect_uris`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(
        inner(regex(pattern = REDIRECT_URI_PATTERN)),
        extend("uniqueItems" = true),
        example = ["https://app.acme.example/"]
    )]
    pub post_logout_uris: Vec<String>,
    /// Web origins (`https://host[:port]`) allowed to call the token endpoints from a
    /// browser (CORS), each once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(
        inner(url, regex(pattern = super::ORIGIN_PATTERN), length(max = CONTROL_NAME)),
        extend("uniqueItems" = true),
        example = ["https://app.acme.example"]
    )]
    pub allowed_origins: Vec<String>,
    /// Login methods the client offers, each once: `password` or the name of one of the
    /// tenant's `social_providers`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(length(max = CONTROL_NAME)), extend("uniqueItems" = true), example = ["password", "google"])]
    pub providers: Vec<String>,
    /// Scopes the client may ask for, each once; each is a system scope or one of the
    /// tenant's `scopes.yaml`.
    #[serde(default)]
    #[schemars(extend("uniqueItems" = true), example = ["openid", "profile", "email"])]
    pub scopes: Vec<String>,
    /// OAuth grant types the client may use, each once; `client_credentials` only for a
    /// `confidential` client.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("uniqueItems" = true), example = ["authorization_code", "refresh_token"])]
    pub grant_types: Vec<GrantType>,
    /// The client secret of a `confidential` client, as `enc:v1:` ciphertext, never plain
    /// text; a `public` client has none. Make it with `hellojohn-store secret seal --tenant
    /// <slug> --field clients.<client_id>.secret` (the secret on standard input, the key in
    /// `HJ_SECRET_KEY`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
    /// Whether users must verify their e-mail before they can log in through this client.
    #[serde(default)]
    pub require_email_verification: bool,
    /// Absolute URL of the client's page where password-reset links land.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(url, regex(pattern = super::URL_PATTERN), length(max = CONTROL_DESCRIPTION), example = &"https://app.acme.example/reset")]
    pub reset_password_url: Option<String>,
    /// Absolute URL of the client's page where e-mail verification links land.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(url, regex(pattern = super::URL_PATTERN), length(max = CONTROL_DESCRIPTION), example = &"https://app.acme.example/verified")]
    pub verify_email_url: Option<String>,
    /// A JSON Schema for each custom claim the client's tokens carry, by claim name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub claim_schema: BTreeMap<String, serde_json::Value>,
    /// For each custom claim (the key), the user attribute its value is taken from.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub claim_mapping: BTreeMap<String, String>,
    /// How long the client's access tokens stay valid, in seconds; the tenant's
    /// `access_token_lifetime_secs` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1), example = 900)]
    pub access_token_ttl_secs: Option<u64>,
    /// How long the client's refresh tokens stay valid, in seconds; the tenant's
    /// `refresh_token_lifetime_secs` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1), example = 2_592_000)]
    pub refresh_token_ttl_secs: Option<u64>,
    /// How long the client's ID tokens stay valid, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1), example = 3600)]
    pub id_token_ttl_secs: Option<u64>,
    /// When the client was created: an RFC 3339 date-time in UTC, written by the store.
    pub created_at: Timestamp,
    /// When the client was last changed: an RFC 3339 date-time in UTC, written by the store.
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

/// Checks a redirect URI (RFC 8252, OAuth 2.0 Security BCP), parsed as a WHATWG URL:
///
/// - `https` with a host;
/// - `http` only on a loopback host (`localhost`, `127.0.0.0/8`, `[::1]`), on any port;
/// - a private-use scheme of a native app, reverse-DNS style (`com.example.app:/callback`:
///   labels joined by `.`), with something after the colon;
/// - never `javascript:`, `data:`, `file:`, `vbscript:` or any other scheme, a fragment,
///   userinfo (`user@`), a relative URI, whitespace or control characters.
///
/// Errors: `InvalidInput` with the reason.
pub fn validate_redirect_uri(uri: &str) -> crate::error::StoreResult<()> {
    redirect_uri_problem(uri).map_or(Ok(()), |m| Err(crate::error::StoreError::invalid("redirect_uri", m)))
}

/// [`REDIRECT_URI_PATTERN`], compiled once.
static REDIRECT_URI_SHAPE: super::PatternCell = super::PatternCell::new();

/// Schemes refused by name, whatever else the URI holds.
const REFUSED_SCHEMES: [&str; 6] = ["javascript", "data", "file", "vbscript", "blob", "about"];

/// Why `uri` is not an acceptable redirect URI (see [`validate_redirect_uri`]), `None` when it is.
/// Every URI it accepts matches [`REDIRECT_URI_PATTERN`], the schemas' shape of a redirect URI.
pub fn redirect_uri_problem(uri: &str) -> Option<String> {
    let problem = redirect_uri_rules(uri);
    if problem.is_none() && !super::matches_pattern(&REDIRECT_URI_SHAPE, REDIRECT_URI_PATTERN, uri) {
        return Some(format!(
            "redirect URI {uri:?} must be https://host…, http:// on localhost, 127.x.x.x or [::1], \
             or a reverse-DNS private-use scheme (com.example.app:/callback), without userinfo"
        ));
    }
    problem
}

fn redirect_uri_rules(uri: &str) -> Option<String> {
    if uri.is_empty() {
        return Some("redirect URI is empty".into());
    }
    // Checked on the text: the URL parser strips or percent-encodes these silently.
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some(format!("redirect URI {uri:?} contains whitespace or a control character"));
    }
    if uri.contains('#') {
        return Some(format!("redirect URI {uri:?} must not contain a fragment"));
    }
    let url = match url::Url::parse(uri) {
        Ok(url) => url,
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            return Some(format!("redirect URI {uri:?} is not absolute"));
        }
        Err(e) => return Some(format!("redirect URI {uri:?} is not a valid URI: {e}")),
    };
    let scheme = url.scheme();
    if REFUSED_SCHEMES.contains(&scheme) {
        return Some(format!("redirect URI {uri:?} must not use the {scheme}: scheme"));
    }
    // Userinfo, also an empty one (`https://@host/`), which the parser drops.
    let authority = uri.split_once("://").map(|(_, rest)| rest.split(['/', '?']).next().unwrap_or(""));
    if !url.username().is_empty() || url.password().is_some() || authority.is_some_and(|a| a.contains('@')) {
        return Some(format!("redirect URI {uri:?} must not contain userinfo"));
    }
    // The parser reads `https:host/x` and `https:///host/x` as `https://host/x`: refuse both.
    if matches!(scheme, "https" | "http") && authority.is_none_or(str::is_empty) {
        return Some(format!("redirect URI {uri:?} has no host after {scheme}://"));
    }
    match scheme {
        "https" if url.host().is_some() => None,
        "https" => Some(format!("redirect URI {uri:?} has no host")),
        "http" => {
            let loopback = match url.host() {
                Some(url::Host::Domain(host)) => host == "localhost",
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            };
            (!loopback).then(|| {
                format!("redirect URI {uri:?} must use https (http is allowed only for loopback hosts)")
            })
        }
        private if is_private_use_scheme(private) => {
            let rest = &uri[private.len() + 1..];
            rest.is_empty().then(|| format!("redirect URI {uri:?} names no path after its scheme"))
        }
        other => Some(format!(
            "redirect URI {uri:?} must use https, loopback http or a reverse-DNS private-use scheme \
             (com.example.app:/callback), not {other}"
        )),
    }
}

/// Whether `scheme` is reverse-DNS style: two or more non-empty labels joined by `.`.
fn is_private_use_scheme(scheme: &str) -> bool {
    let mut labels = scheme.split('.');
    scheme.contains('.') && labels.all(|l| !l.is_empty())
}

#[cfg(all(test, feature = "conformance"))]
mod redirect_uri_tests {
    use super::redirect_uri_problem;
    use crate::conformance::control_plane::{ACCEPTED_REDIRECT_URIS, REFUSED_REDIRECT_URIS};

    #[test]
    fn refused_and_accepted_redirect_uris() {
        for uri in REFUSED_REDIRECT_URIS {
            assert!(redirect_uri_problem(uri).is_some(), "{uri:?} was accepted");
        }
        for uri in ACCEPTED_REDIRECT_URIS {
            assert_eq!(redirect_uri_problem(uri), None, "{uri:?}");
        }
        for uri in ["https:app.example.com/cb", "https:///app.example.com/cb", "http:localhost/cb"] {
            assert!(redirect_uri_problem(uri).is_some(), "{uri:?} was accepted");
        }
    }
}
