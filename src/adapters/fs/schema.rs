//! The control-plane file types and their JSON Schemas, generated from the Rust types with
//! schemars. `schemas/*.schema.json` in the repository are these, exported by
//! `hellojohn-store schema export`; CI fails when they drift.
//!
//! Every schema is draft 2020-12 with a versioned `$id` under [`SCHEMA_ID_BASE`], and uses
//! only the formats the specification defines: the [`StandardFormats`] transform replaces
//! schemars' own integer formats (`uint16`, `uint64`, `int64`, …) by the type's `minimum`
//! and `maximum`, so strict validators (ajv) compile the schemas.

use std::sync::OnceLock;

use schemars::generate::SchemaSettings;
use schemars::transform::{Transform, transform_subschemas};
use schemars::{JsonSchema, Schema};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{Admin, AdminRefreshToken, Client, Scope, Tenant};

/// `tenants/<slug>/clients.yaml`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "HelloJohn clients",
    description = "OAuth/OIDC clients of a tenant: tenants/<slug>/clients.yaml"
)]
pub struct ClientsFile {
    /// The tenant's OAuth clients, one entry each, kept sorted by `client_id`.
    #[serde(default)]
    pub clients: Vec<Client>,
}

/// `tenants/<slug>/scopes.yaml`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "HelloJohn scopes", description = "OAuth scopes of a tenant: tenants/<slug>/scopes.yaml")]
pub struct ScopesFile {
    /// The tenant's scopes, one entry each. System scopes (`openid`, `profile`,
    /// `email`, `offline_access`) may be listed; they exist even when they are not.
    #[serde(default)]
    pub scopes: Vec<Scope>,
}

/// `admins/admins.yaml`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "HelloJohn admins", description = "Administrators of the deployment: admins/admins.yaml")]
pub struct AdminsFile {
    /// The deployment's administrators, kept sorted by e-mail.
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
    /// Refresh tokens of the admin console (hashes only), oldest first.
    #[serde(default)]
    pub refresh_tokens: Vec<AdminRefreshToken>,
}

/// Base of every schema's `$id`: `<base><file name>`, e.g.
/// `https://hellojohn.dev/schemas/store/v1/tenant.schema.json`. The `v1` changes when a
/// schema would refuse files an earlier one accepted; a pipeline pins a version by the
/// `$id`, or by the files `hellojohn-store schema export` writes at a pinned release.
pub const SCHEMA_ID_BASE: &str = "https://hellojohn.dev/schemas/store/v1/";

/// The `format` values the JSON Schema specification defines (draft 2020-12), the only ones
/// the exported schemas may use.
pub const STANDARD_FORMATS: [&str; 19] = [
    "date-time",
    "date",
    "time",
    "duration",
    "email",
    "idn-email",
    "hostname",
    "idn-hostname",
    "ipv4",
    "ipv6",
    "uri",
    "uri-reference",
    "iri",
    "iri-reference",
    "uuid",
    "uri-template",
    "json-pointer",
    "relative-json-pointer",
    "regex",
];

/// The schemars transform that keeps the schemas to [`STANDARD_FORMATS`]: an integer
/// `format` schemars writes for a Rust type (`uint8` … `uint64`, `int8` … `int64`, `uint`,
/// `int`) is removed and the type's range written as `minimum`/`maximum` instead (a
/// narrower bound a field already has is kept); `float`/`double` are removed. It walks
/// every subschema, so every current and future field is covered.
#[derive(Debug, Clone, Copy, Default)]
pub struct StandardFormats;

impl StandardFormats {
    /// The range of a schemars integer format, `None` for any other format.
    fn integer_range(format: &str) -> Option<(i128, i128)> {
        Some(match format {
            "int8" => (i8::MIN.into(), i8::MAX.into()),
            "int16" => (i16::MIN.into(), i16::MAX.into()),
            "int32" => (i32::MIN.into(), i32::MAX.into()),
            "int64" | "int" => (i64::MIN.into(), i64::MAX.into()),
            "uint8" => (0, u8::MAX.into()),
            "uint16" => (0, u16::MAX.into()),
            "uint32" => (0, u32::MAX.into()),
            "uint64" | "uint" => (0, u64::MAX.into()),
            _ => return None,
        })
    }

    fn number(n: i128) -> Value {
        match (i64::try_from(n), u64::try_from(n)) {
            (Ok(i), _) => Value::from(i),
            (_, Ok(u)) => Value::from(u),
            _ => Value::Null,
        }
    }

    /// `existing` as an integer bound, when it is one.
    fn bound(existing: Option<&Value>) -> Option<i128> {
        let n = existing?.as_number()?;
        n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from))
    }
}

/// An id as the store writes it: a UUID in lower case.
pub const LOWER_CASE_UUID: &str = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";

impl Transform for StandardFormats {
    fn transform(&mut self, schema: &mut Schema) {
        let format = schema.get("format").and_then(Value::as_str).map(str::to_string);
        if let Some(format) = format {
            if let Some((min, max)) = Self::integer_range(&format) {
                schema.remove("format");
                let min = Self::bound(schema.get("minimum")).map_or(min, |m| m.max(min));
                let max = Self::bound(schema.get("maximum")).map_or(max, |m| m.min(max));
                schema.insert("minimum".into(), Self::number(min));
                schema.insert("maximum".into(), Self::number(max));
            } else if matches!(format.as_str(), "float" | "double") {
                schema.remove("format");
            } else if format == "uuid" && schema.get("pattern").is_none() {
                // The store writes ids in lower case; two spellings of one id would pass a
                // uniqueness check that compares text (and did: `sync import` lost a tenant).
                schema.insert("pattern".into(), Value::from(LOWER_CASE_UUID));
            }
        }
        transform_subschemas(self, schema);
    }
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

    /// The schema's `$id`: [`SCHEMA_ID_BASE`] and [`FileKind::schema_file_name`].
    pub fn schema_id(self) -> String {
        format!("{SCHEMA_ID_BASE}{}", self.schema_file_name())
    }

    /// The JSON Schema of this kind of file, generated from its Rust type (draft 2020-12,
    /// standard formats only, `$id` [`FileKind::schema_id`]).
    pub fn schema(self) -> serde_json::Value {
        let generator = SchemaSettings::draft2020_12().with_transform(StandardFormats).into_generator();
        let mut schema = match self {
            FileKind::Tenant => generator.into_root_schema_for::<Tenant>(),
            FileKind::Clients => generator.into_root_schema_for::<ClientsFile>(),
            FileKind::Scopes => generator.into_root_schema_for::<ScopesFile>(),
            FileKind::Admins => generator.into_root_schema_for::<AdminsFile>(),
            FileKind::AdminRefreshTokens => generator.into_root_schema_for::<AdminRefreshTokensFile>(),
        };
        schema.insert("$id".into(), Value::String(self.schema_id()));
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every subschema of `node` with its JSON pointer.
    fn walk<'v>(node: &'v Value, pointer: String, out: &mut Vec<(String, &'v Value)>) {
        match node {
            Value::Object(map) => {
                out.push((pointer.clone(), node));
                for (k, v) in map {
                    walk(v, format!("{pointer}/{k}"), out);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(v, format!("{pointer}/{i}"), out);
                }
            }
            _ => {}
        }
    }

    fn every_exported_schema() -> Vec<(FileKind, Value)> {
        FileKind::ALL.iter().map(|k| (*k, k.schema())).collect()
    }

    #[test]
    fn every_schema_uses_standard_formats_only() {
        for (kind, schema) in every_exported_schema() {
            let mut nodes = Vec::new();
            walk(&schema, String::new(), &mut nodes);
            for (pointer, node) in nodes {
                // `examples` hold data, not schemas.
                if pointer.contains("/examples") {
                    continue;
                }
                if let Some(format) = node.get("format").and_then(Value::as_str) {
                    assert!(STANDARD_FORMATS.contains(&format), "{kind:?} {pointer}: format {format:?}");
                    // Tools that skip formats (check-jsonschema without `rfc3987`, editors for
                    // `idn-email`) must refuse what the store refuses: a pattern says it.
                    if matches!(format, "uri" | "idn-email") {
                        assert!(
                            node.get("pattern").is_some(),
                            "{kind:?} {pointer}: format {format:?} without a pattern"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn integer_formats_become_the_types_range() {
        let tenant = FileKind::Tenant.schema();
        let port = &tenant["$defs"]["SmtpSettings"]["properties"]["port"];
        assert_eq!((port["minimum"].as_u64(), port["maximum"].as_u64()), (Some(1), Some(65_535)), "{port}");
        let db = &tenant["$defs"]["TenantCacheSettings"]["properties"]["db"];
        assert_eq!((db["minimum"].as_i64(), db["maximum"].as_i64()), (Some(0), Some(i64::MAX)), "{db}");
        let reuse = &tenant["$defs"]["TenantSettings"]["properties"]["refresh_token_reuse_interval_secs"];
        assert_eq!((reuse["minimum"].as_u64(), reuse["maximum"].as_u64()), (Some(0), Some(300)), "{reuse}");
        let attempts = &tenant["$defs"]["SecurityPolicy"]["properties"]["max_login_attempts"];
        assert_eq!(attempts["maximum"].as_u64(), Some(u64::from(u32::MAX)), "{attempts}");
        let clients = FileKind::Clients.schema();
        let ttl = &clients["$defs"]["Client"]["properties"]["access_token_ttl_secs"];
        assert_eq!((ttl["minimum"].as_u64(), ttl["maximum"].as_u64()), (Some(1), Some(u64::MAX)), "{ttl}");
    }

    #[test]
    fn every_schema_has_a_versioned_id_and_draft_2020_12() {
        for (kind, schema) in every_exported_schema() {
            assert_eq!(
                schema["$id"],
                format!("https://hellojohn.dev/schemas/store/v1/{}", kind.schema_file_name())
            );
            assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
        }
    }

    /// Hover text is written for the person editing the file: every property says what it
    /// is in at least three words, without rustdoc link syntax.
    #[test]
    fn every_property_has_a_description_of_three_words_or_more() {
        let mut short = Vec::new();
        for (kind, schema) in every_exported_schema() {
            let mut nodes = Vec::new();
            walk(&schema, String::new(), &mut nodes);
            for (pointer, node) in nodes {
                if let Some(description) = node.get("description").and_then(Value::as_str)
                    && description.contains("[`")
                {
                    short.push(format!("{kind:?} {pointer}: rustdoc link in {description:?}"));
                }
                let Some(properties) = node.get("properties").and_then(Value::as_object) else { continue };
                if pointer.contains("/examples") {
                    continue;
                }
                for (name, property) in properties {
                    // `false` (a property a rule forbids) has nothing to describe.
                    if property.is_boolean() || pointer.ends_with("/then") || pointer.ends_with("/if") {
                        continue;
                    }
                    let description = property.get("description").and_then(Value::as_str).unwrap_or("");
                    if description.split_whitespace().count() < 3 {
                        short.push(format!("{kind:?} {pointer}/properties/{name}: {description:?}"));
                    }
                }
            }
        }
        assert!(short.is_empty(), "descriptions to write:\n{}", short.join("\n"));
    }

    #[test]
    fn every_secret_field_says_how_to_seal_its_value() {
        for (kind, schema) in every_exported_schema() {
            let mut nodes = Vec::new();
            walk(&schema, String::new(), &mut nodes);
            for (pointer, node) in nodes {
                let holds_secret = node.get("pattern").and_then(Value::as_str)
                    == Some(crate::model::SECRET_PATTERN)
                    || node.get("anyOf").and_then(Value::as_array).is_some_and(|branches| {
                        branches.iter().any(|b| {
                            b.get("pattern").and_then(Value::as_str) == Some(crate::model::SECRET_PATTERN)
                        })
                    });
                if !holds_secret || pointer.ends_with("/anyOf/0") {
                    continue;
                }
                let description = node.get("description").and_then(Value::as_str).unwrap_or("");
                assert!(
                    description.contains("enc:v1:") && description.contains("hellojohn-store secret seal"),
                    "{kind:?} {pointer}: {description:?}"
                );
            }
        }
    }
}
