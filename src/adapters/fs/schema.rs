//! The control-plane file types and their JSON Schemas, generated from the Rust types with
//! schemars. `schemas/*.schema.json` in the repository are these, exported by
//! `hellojohn-store schema export`; CI fails when they drift.

use std::sync::OnceLock;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::{Admin, AdminRefreshToken, Client, Scope, Tenant};

/// `tenants/<slug>/clients.yaml`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "HelloJohn clients",
    description = "OAuth/OIDC clients of a tenant: tenants/<slug>/clients.yaml"
)]
pub struct ClientsFile {
    /// The clients, by `client_id`.
    #[serde(default)]
    pub clients: Vec<Client>,
}

/// `tenants/<slug>/scopes.yaml`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "HelloJohn scopes", description = "OAuth scopes of a tenant: tenants/<slug>/scopes.yaml")]
pub struct ScopesFile {
    /// The scopes, by name. System scopes may be listed; they exist even when they are not.
    #[serde(default)]
    pub scopes: Vec<Scope>,
}

/// `admins/admins.yaml`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "HelloJohn admins", description = "Administrators of the deployment: admins/admins.yaml")]
pub struct AdminsFile {
    /// The admins, by e-mail.
    #[serde(default)]
    pub admins: Vec<Admin>,
}

/// `admins/refresh_tokens.yaml`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "HelloJohn admin refresh tokens",
    description = "Refresh tokens of the admin console (hashes only): admins/refresh_tokens.yaml"
)]
pub struct AdminRefreshTokensFile {
    /// The tokens, oldest first.
    #[serde(default)]
    pub refresh_tokens: Vec<AdminRefreshToken>,
}

/// The five kinds of control-plane file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// `tenants/<slug>/tenant.yaml`.
    Tenant,
    /// `tenants/<slug>/clients.yaml`.
    Clients,
    /// `tenants/<slug>/scopes.yaml`.
    Scopes,
    /// `admins/admins.yaml`.
    Admins,
    /// `admins/refresh_tokens.yaml`.
    AdminRefreshTokens,
}

impl FileKind {
    /// Every kind.
    pub const ALL: [FileKind; 5] = [
        FileKind::Tenant,
        FileKind::Clients,
        FileKind::Scopes,
        FileKind::Admins,
        FileKind::AdminRefreshTokens,
    ];

    /// The file name in its folder.
    pub fn file_name(self) -> &'static str {
        match self {
            FileKind::Tenant => "tenant.yaml",
            FileKind::Clients => "clients.yaml",
            FileKind::Scopes => "scopes.yaml",
            FileKind::Admins => "admins.yaml",
            FileKind::AdminRefreshTokens => "refresh_tokens.yaml",
        }
    }

    /// The schema's file name in `schemas/`.
    pub fn schema_file_name(self) -> &'static str {
        match self {
            FileKind::Tenant => "tenant.schema.json",
            FileKind::Clients => "clients.schema.json",
            FileKind::Scopes => "scopes.schema.json",
            FileKind::Admins => "admins.schema.json",
            FileKind::AdminRefreshTokens => "admin-refresh-tokens.schema.json",
        }
    }

    /// The JSON Schema of this kind of file, generated from its Rust type.
    pub fn schema(self) -> serde_json::Value {
        let schema = match self {
            FileKind::Tenant => schemars::schema_for!(Tenant),
            FileKind::Clients => schemars::schema_for!(ClientsFile),
            FileKind::Scopes => schemars::schema_for!(ScopesFile),
            FileKind::Admins => schemars::schema_for!(AdminsFile),
            FileKind::AdminRefreshTokens => schemars::schema_for!(AdminRefreshTokensFile),
        };
        schema.to_value()
    }

    /// The schema as the pretty-printed JSON text written to `schemas/` (ends with a newline).
    pub fn schema_text(self) -> String {
        let mut text = serde_json::to_string_pretty(&self.schema()).unwrap_or_default();
        text.push('\n');
        text
    }

    /// The compiled validator of this kind (built once per process).
    pub(crate) fn validator(self) -> Option<&'static jsonschema::Validator> {
        static VALIDATORS: OnceLock<Vec<Option<jsonschema::Validator>>> = OnceLock::new();
        let all = VALIDATORS.get_or_init(|| {
            FileKind::ALL
                .iter()
                .map(|k| {
                    let built = jsonschema::options().should_validate_formats(true).build(&k.schema());
                    match built {
                        Ok(v) => Some(v),
                        Err(e) => {
                            tracing::error!(kind = ?k, error = %e, "control-plane schema does not compile");
                            None
                        }
                    }
                })
                .collect()
        });
        let index = FileKind::ALL.iter().position(|k| *k == self)?;
        all.get(index)?.as_ref()
    }
}
