//! The rules between the fields of a control-plane value that its type (and so its JSON
//! Schema) cannot say: a confidential client has a secret, a public one uses no
//! `client_credentials`, user-field names are unique and a `select` field has options, a
//! logo is an absolute http(s) URL, a token does not expire before it was created.
//!
//! Each rule is written once, here, on the typed value, and every path runs it: the
//! repositories' writes on both control-plane backends (the FS files and the global
//! database), the FS store's load of a file and `hellojohn-store validate`. The cross-file
//! rules (a client's scopes exist, an admin's tenants exist) need more than one value and
//! live with the callers that hold them.

use super::{AdminRefreshToken, Client, ClientType, GrantType, Tenant, TenantSettings, UserFieldType};
use crate::error::{StoreError, StoreResult};

/// A rule a value breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Violation {
    /// The field as `InvalidInput` names it (`secret`, `grant_types`, `user_fields`, …).
    pub field: &'static str,
    /// JSON pointer of the value to point at, relative to the checked value.
    pub pointer: String,
    /// Why.
    pub message: String,
}

impl Violation {
    fn new(field: &'static str, pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Violation { field, pointer: pointer.into(), message: message.into() }
    }

    /// The same violation of the value at `prefix` (a JSON pointer) in a larger document.
    pub(crate) fn under(mut self, prefix: &str) -> Self {
        self.pointer = format!("{prefix}{}", self.pointer);
        self
    }
}

/// `Ok` without violations, else `InvalidInput` naming the first one's field.
fn first_as_error(violations: Vec<Violation>) -> StoreResult<()> {
    match violations.into_iter().next() {
        None => Ok(()),
        Some(v) => Err(StoreError::invalid(v.field, v.message)),
    }
}

/// Why `value` is not an absolute `http` or `https` URL with a host, `None` when it is.
fn http_url_problem(what: &str, value: &str) -> Option<String> {
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some(format!("{what} {value:?} contains whitespace or a control character"));
    }
    match url::Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
            // The parser reads `https:host/x` and `https:///host/x` as `https://host/x`.
            let authority = value.split_once("://").map(|(_, rest)| rest);
            if authority.is_none_or(|a| a.is_empty() || a.starts_with('/')) {
                Some(format!("{what} {value:?} has no host after {}://", url.scheme()))
            } else {
                None
            }
        }
        Ok(url) if matches!(url.scheme(), "http" | "https") => Some(format!("{what} {value:?} has no host")),
        Ok(url) => Some(format!("{what} {value:?} must be an http(s) URL, not {}:", url.scheme())),
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            Some(format!("{what} {value:?} is not an absolute URL (https://…)"))
        }
        Err(e) => Some(format!("{what} {value:?} is not a URL: {e}")),
    }
}

impl Client {
    /// The rules between the client's fields, with pointers relative to the client.
    pub(crate) fn violations(&self) -> Vec<Violation> {
        let mut out = Vec::new();
        match self.client_type {
            ClientType::Confidential if self.secret.is_none() => {
                out.push(Violation::new("secret", "/type", CONFIDENTIAL_WITHOUT_SECRET))
            }
            ClientType::Public => {
                if self.secret.is_some() {
                    out.push(Violation::new("secret", "/secret", "a public client cannot have a secret"));
                }
                for (i, grant) in self.grant_types.iter().enumerate() {
                    if *grant == GrantType::ClientCredentials {
                        out.push(Violation::new(
                            "grant_types",
                            format!("/grant_types/{i}"),
                            "a public client cannot use the client_credentials grant (it has no secret to authenticate with)",
                        ));
                    }
                }
            }
            ClientType::Confidential => {}
        }
        out
    }

    /// Checks the rules between the client's fields: a confidential client has a secret; a
    /// public one has none and does not use `client_credentials`.
    ///
    /// Errors: `InvalidInput` naming the field (`secret`, `grant_types`).
    pub fn validate(&self) -> StoreResult<()> {
        first_as_error(self.violations())
    }
}

/// What a confidential client without a secret is told (here and by the schema's check).
pub(crate) const CONFIDENTIAL_WITHOUT_SECRET: &str =
    "a confidential client needs a secret (or make it public)";

/// What a `select` user field without options is told (here and by the schema's check).
pub(crate) fn select_without_options(name: &str) -> String {
    format!("user field {name:?} is a select field without options")
}

impl TenantSettings {
    /// The rules between the settings' fields, with pointers relative to the settings.
    pub(crate) fn violations(&self) -> Vec<Violation> {
        self.violations_for(None)
    }

    /// [`violations`](Self::violations), with `{tenant}` in `user_db.schema` read as the
    /// tenant's `namespace` when the tenant is known (else as a one-letter name).
    fn violations_for(&self, namespace: Option<&str>) -> Vec<Violation> {
        let mut out = Vec::new();
        if let Some(schema) = self.user_db.as_ref().and_then(|db| db.schema.as_deref()) {
            // The name the store connects to (`{tenant}` is the tenant's namespace), refused
            // when the value is written or read. `public` is a dedicated database's usual
            // schema; system ones never are.
            let named = schema.replace(crate::manager::TENANT_PLACEHOLDER, namespace.unwrap_or("t"));
            let problem = if !migration::is_valid_namespace(&named) {
                Some(format!(
                    "{schema:?} is not a schema name ({named:?}: 1-63 of a-z, 0-9, _ and -; may hold {{tenant}})"
                ))
            } else if named != "public" && crate::manager::is_reserved_namespace(&named) {
                Some(format!("{schema:?} names the system schema {named:?}"))
            } else {
                None
            };
            if let Some(problem) = problem {
                out.push(Violation::new("user_db.schema", "/user_db/schema", problem));
            }
        }
        for (field, value) in [("logo_url", &self.logo_url), ("favicon_url", &self.favicon_url)] {
            if let Some(problem) = value.as_deref().and_then(|v| http_url_problem(field, v)) {
                out.push(Violation::new(field, format!("/{field}"), problem));
            }
        }
        for (i, f) in self.user_fields.iter().enumerate() {
            if let Some(first) = self.user_fields[..i].iter().position(|g| g.name == f.name) {
                out.push(Violation::new(
                    "user_fields",
                    format!("/user_fields/{i}/name"),
                    format!("duplicate user field name {:?} (also user field {first})", f.name),
                ));
            }
            if f.field_type == UserFieldType::Select && f.options.is_empty() {
                out.push(Violation::new(
                    "user_fields",
                    format!("/user_fields/{i}/type"),
                    select_without_options(&f.name),
                ));
            }
        }
        out
    }

    /// Checks the rules between the settings' fields: `logo_url` and `favicon_url` are
    /// absolute http(s) URLs; user-field names are unique; a `select` field has options.
    ///
    /// Errors: `InvalidInput` naming the field (`logo_url`, `favicon_url`, `user_fields`).
    pub fn validate(&self) -> StoreResult<()> {
        first_as_error(self.violations())
    }
}

impl Tenant {
    /// The rules between the tenant's fields, with pointers relative to the tenant.
    pub(crate) fn violations(&self) -> Vec<Violation> {
        let mut out: Vec<Violation> = self
            .settings
            .violations_for(Some(&self.effective_namespace()))
            .into_iter()
            .map(|v| v.under("/settings"))
            .collect();
        if let Some(ns) = self.namespace.as_deref()
            && crate::manager::is_reserved_namespace(ns)
        {
            out.push(Violation::new(
                "namespace",
                "/namespace",
                format!("{ns:?} is a system schema or database, never a tenant's"),
            ));
        }
        out
    }
}

impl AdminRefreshToken {
    /// The rules between the token's fields, with pointers relative to the token.
    pub(crate) fn violations(&self) -> Vec<Violation> {
        let mut out = Vec::new();
        if self.expires_at < self.created_at {
            out.push(Violation::new(
                "expires_at",
                "/expires_at",
                format!(
                    "expires_at {} is before created_at {}",
                    self.expires_at.to_rfc3339(),
                    self.created_at.to_rfc3339()
                ),
            ));
        }
        out
    }

    /// Checks that the token does not expire before it was created.
    ///
    /// Errors: `InvalidInput` naming `expires_at`.
    pub fn validate(&self) -> StoreResult<()> {
        first_as_error(self.violations())
    }
}

#[cfg(test)]
mod tests {
    use super::http_url_problem;

    #[test]
    fn only_absolute_http_urls_with_a_host_are_urls() {
        for ok in ["https://cdn.example.com/logo.png", "http://localhost:8080/l.svg", "https://[::1]/x"] {
            assert_eq!(http_url_problem("logo_url", ok), None, "{ok}");
        }
        for bad in [
            "logo.png",
            "/static/logo.png",
            "//cdn.example.com/logo.png",
            "ftp://cdn.example.com/logo.png",
            "javascript:alert(1)",
            "data:image/png;base64,AAAA",
            "https:cdn.example.com/logo.png",
            "https:///cdn.example.com/logo.png",
            "https://",
            "https://cdn.example.com/a b.png",
            " https://cdn.example.com/logo.png",
            "",
        ] {
            assert!(http_url_problem("logo_url", bad).is_some(), "{bad:?} was accepted");
        }
    }
}
