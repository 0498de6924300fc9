//! Rules a JSON Schema cannot say: per-file (unique ids, redirect URIs, ciphertext shape,
//! folder name equals slug) and across files (a client's scopes exist, an admin token's
//! admin exists, an admin's tenants exist). The rules between the fields of one value live
//! on the model types (`model/rules.rs`) and run on the typed value (`document.rs`). They run on the JSON value, so they locate problems by pointer even
//! when the schema already failed.

use std::collections::HashMap;

use serde_json::Value;

use super::document::Report;
use super::schema::FileKind;
use crate::model::{Secret, is_system_scope, redirect_uri_problem};

fn items<'v>(json: &'v Value, key: &str) -> impl Iterator<Item = (usize, &'v Value)> {
    json.get(key).and_then(Value::as_array).into_iter().flatten().enumerate()
}

fn check_secret(json: &Value, pointer: &str, report: &mut Report<'_>) {
    if let Some(Value::String(s)) = json.pointer(pointer)
        && s.starts_with(crate::model::SECRET_PREFIX)
        && !Secret::looks_sealed(s)
    {
        report.value(
            pointer,
            "malformed ciphertext: enc:v1: must be followed by the base64 of at least 40 bytes",
        );
    }
}

/// Reports repeated values of `field` among `json[list][*]`, each at its second and later
/// occurrence. `fold` normalises values before comparison.
fn unique(
    json: &Value,
    list: &str,
    field: &str,
    what: &str,
    fold: fn(&str) -> String,
    report: &mut Report<'_>,
) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, item) in items(json, list) {
        let Some(v) = item.get(field).and_then(Value::as_str) else { continue };
        let pointer = format!("/{list}/{i}/{field}");
        match seen.get(&fold(v)) {
            Some(first) => {
                let line =
                    report.positions().value(&format!("/{list}/{first}/{field}")).map_or(0, |p| p.line);
                report.value(&pointer, format!("duplicate {what} {v:?} (first defined at line {line})"));
            }
            None => {
                seen.insert(fold(v), i);
            }
        }
    }
}

fn same(s: &str) -> String {
    s.to_string()
}

fn lower(s: &str) -> String {
    s.to_lowercase()
}

/// Per-file rules of `kind`.
pub(crate) fn check_file(kind: FileKind, json: &Value, folder_slug: Option<&str>, report: &mut Report<'_>) {
    match kind {
        FileKind::Tenant => {
            if let (Some(folder), Some(slug)) = (folder_slug, json.get("slug").and_then(Value::as_str))
                && folder != slug
            {
                report.value("/slug", format!("slug {slug:?} does not match its folder name {folder:?}"));
            }
            for p in ["/settings/user_db/dsn", "/settings/cache/password", "/settings/smtp/password"] {
                check_secret(json, p, report);
            }
            if let Some(providers) = json.pointer("/settings/social_providers").and_then(Value::as_object) {
                for name in providers.keys() {
                    let p = format!(
                        "/settings/social_providers/{}/client_secret",
                        super::positions::escape_token(name)
                    );
                    check_secret(json, &p, report);
                }
            }
            if json.pointer("/settings/issuer_mode").and_then(Value::as_str) == Some("custom")
                && json.pointer("/settings/issuer_override").is_none()
            {
                report.value("/settings/issuer_mode", "issuer_mode custom needs issuer_override");
            }
        }
        FileKind::Clients => {
            unique(json, "clients", "client_id", "client_id", same, report);
            unique(json, "clients", "id", "client id (UUID)", same, report);
            for (i, client) in items(json, "clients") {
                for list in ["redirect_uris", "post_logout_uris"] {
                    for (j, uri) in
                        client.get(list).and_then(Value::as_array).into_iter().flatten().enumerate()
                    {
                        if let Some(problem) = uri.as_str().and_then(redirect_uri_problem) {
                            report.value(&format!("/clients/{i}/{list}/{j}"), problem);
                        }
                    }
                }
                check_secret(json, &format!("/clients/{i}/secret"), report);
            }
        }
        FileKind::Scopes => {
            unique(json, "scopes", "name", "scope", same, report);
            unique(json, "scopes", "id", "scope id (UUID)", same, report);
            let names: Vec<&str> =
                items(json, "scopes").filter_map(|(_, s)| s.get("name").and_then(Value::as_str)).collect();
            for (i, scope) in items(json, "scopes") {
                let name = scope.get("name").and_then(Value::as_str).unwrap_or("");
                let system = scope.get("system").and_then(Value::as_bool).unwrap_or(false);
                if system && !is_system_scope(name) {
                    report.value(&format!("/scopes/{i}/system"), format!("{name:?} is not a system scope"));
                }
                for (j, dep) in
                    scope.get("depends_on").and_then(Value::as_array).into_iter().flatten().enumerate()
                {
                    if let Some(dep) = dep.as_str()
                        && !is_system_scope(dep)
                        && !names.contains(&dep)
                    {
                        report.value(
                            &format!("/scopes/{i}/depends_on/{j}"),
                            format!("scope {dep:?} does not exist"),
                        );
                    }
                }
            }
        }
        FileKind::Admins => {
            unique(json, "admins", "email", "admin e-mail", lower, report);
            unique(json, "admins", "id", "admin id", same, report);
        }
        FileKind::AdminRefreshTokens => {
            unique(json, "refresh_tokens", "token_hash", "token hash", same, report);
        }
    }
}

/// Cross-file rule: every scope a client lists exists in the tenant (`scope_names` holds the
/// names in `scopes.yaml`; system scopes always exist).
pub(crate) fn check_client_scopes(clients: &Value, scope_names: &[String], report: &mut Report<'_>) {
    for (i, client) in items(clients, "clients") {
        for (j, scope) in client.get("scopes").and_then(Value::as_array).into_iter().flatten().enumerate() {
            if let Some(s) = scope.as_str()
                && !is_system_scope(s)
                && !scope_names.iter().any(|n| n == s)
            {
                report.value(
                    &format!("/clients/{i}/scopes/{j}"),
                    format!("scope {s:?} does not exist in this tenant"),
                );
            }
        }
    }
}

/// Cross-file rule: every admin refresh token belongs to an existing admin.
pub(crate) fn check_token_admins(tokens: &Value, admin_ids: &[String], report: &mut Report<'_>) {
    for (i, token) in items(tokens, "refresh_tokens") {
        if let Some(id) = token.get("admin_id").and_then(Value::as_str)
            && !admin_ids.iter().any(|a| a == id)
        {
            report.value(&format!("/refresh_tokens/{i}/admin_id"), format!("admin {id} does not exist"));
        }
    }
}

/// Cross-file rule: every tenant an admin is assigned exists (`tenant_ids` holds the ids in
/// the tree's `tenant.yaml` files).
pub(crate) fn check_admin_tenants(admins: &Value, tenant_ids: &[uuid::Uuid], report: &mut Report<'_>) {
    for (i, admin) in items(admins, "admins") {
        let assigned = admin.get("assigned_tenants").and_then(Value::as_array).into_iter().flatten();
        for (j, id) in assigned.enumerate() {
            if let Some(id) = id.as_str().and_then(|s| uuid::Uuid::parse_str(s).ok())
                && !tenant_ids.contains(&id)
            {
                report.value(
                    &format!("/admins/{i}/assigned_tenants/{j}"),
                    format!("tenant {id} does not exist"),
                );
            }
        }
    }
}
