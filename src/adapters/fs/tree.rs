//! Validation of a whole control-plane tree: every file against its schema and rules, and
//! built as the typed value the store loads, plus the rules across files. This is what
//! `hellojohn-store validate <fs-root>` runs.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use super::document::{Parsed, Report, check_text};
use super::positions::Positions;
use super::rules;
use super::schema::FileKind;
use super::storage;
use crate::crypto::{SecretBox, fields};
use crate::error::{ConfigProblem, StoreError, StoreResult};

fn missing(path: &Path, message: &str) -> ConfigProblem {
    ConfigProblem {
        file: path.display().to_string(),
        line: 0,
        column: 0,
        pointer: String::new(),
        message: message.to_string(),
    }
}

/// Checks one file; its problems go to `out`. `None` when it is missing or invalid.
fn check_file(
    kind: FileKind,
    path: &Path,
    folder_slug: Option<&str>,
    required: bool,
    out: &mut Vec<ConfigProblem>,
) -> Option<(Parsed, String)> {
    let file = path.display().to_string();
    match storage::read_optional(path) {
        Ok(Some(text)) => match check_text(kind, &file, &text, folder_slug) {
            Ok(parsed) => Some((parsed, file)),
            Err(problems) => {
                out.extend(problems);
                None
            }
        },
        Ok(None) => {
            if required {
                out.push(missing(path, &format!("missing {}", kind.file_name())));
            }
            None
        }
        Err(StoreError::InvalidConfig { problems }) => {
            out.extend(problems);
            None
        }
        Err(e) => {
            out.push(missing(path, &e.to_string()));
            None
        }
    }
}

fn strings_at(json: &Value, list: &str, field: &str) -> Vec<String> {
    json.get(list)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|item| item.get(field).and_then(Value::as_str).map(str::to_string))
        .collect()
}

/// Every problem of the tree under `root`, in file order, then line and column. An empty
/// list means the tree is valid.
///
/// Errors: `InvalidInput` when `root` is not a folder.
pub fn validate_tree(root: &Path) -> StoreResult<Vec<ConfigProblem>> {
    validate_tree_with_key(root, None)
}

/// Like [`validate_tree`]; with a key, also checks that every secret decrypts for its own
/// tenant and field (a ciphertext made under another key, or copied from another tenant or
/// field, is a problem at its position).
///
/// Errors: `InvalidInput` when `root` is not a folder.
pub fn validate_tree_with_key(root: &Path, secrets: Option<&SecretBox>) -> StoreResult<Vec<ConfigProblem>> {
    if !root.is_dir() {
        return Err(StoreError::invalid("fs_root", format!("{} is not a folder", root.display())));
    }
    let mut out = Vec::new();
    let known: Vec<&str> =
        [FileKind::Tenant, FileKind::Clients, FileKind::Scopes].map(|k| k.file_name()).to_vec();

    let tenants_dir = root.join("tenants");
    let mut tenant_ids: HashMap<String, (String, usize)> = HashMap::new();
    // Namespace → who holds it (file:line), tombstones first.
    let mut namespaces: HashMap<String, String> = HashMap::new();
    check_tombstones(root, &mut namespaces, &mut out);
    let mut slugs: Vec<String> = match std::fs::read_dir(&tenants_dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect(),
        Err(_) => Vec::new(),
    };
    slugs.sort();
    // Whether every tenant file loaded: only then is an admin's unknown tenant a problem.
    let mut tenants_ok = true;
    for slug in &slugs {
        let dir = tenants_dir.join(slug);
        if let Ok(entries) = std::fs::read_dir(&dir) {
            let mut names: Vec<String> = entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            for name in names {
                if !name.starts_with('.') && !known.contains(&name.as_str()) {
                    out.push(missing(
                        &dir.join(&name),
                        "unknown file in a tenant folder (expected tenant.yaml, clients.yaml, scopes.yaml)",
                    ));
                }
            }
        }
        let tenant = check_file(FileKind::Tenant, &dir.join("tenant.yaml"), Some(slug), true, &mut out);
        tenants_ok &= tenant.is_some();
        if let (Some((tenant, file)), Some(key)) = (&tenant, secrets) {
            let mut report = Report::new(file, &tenant.text);
            check_tenant_secrets(&tenant.json, slug, key, &mut report);
            out.extend(report.problems);
        }
        if let Some((tenant, file)) = &tenant {
            let namespace = match tenant.json.get("namespace").and_then(Value::as_str) {
                Some(ns) => ns.to_string(),
                None => crate::model::default_namespace(slug),
            };
            let pointer = if tenant.json.get("namespace").is_some() { "/namespace" } else { "/slug" };
            let line = Positions::of(&tenant.text).value(pointer).map_or(0, |p| p.line);
            match namespaces.get(&namespace) {
                Some(first) => {
                    let mut report = Report::new(file, &tenant.text);
                    report.value(pointer, format!("namespace {namespace:?} is also held by {first}"));
                    out.extend(report.problems);
                }
                None => {
                    namespaces.insert(namespace, format!("{file}:{line}"));
                }
            }
        }
        if let Some((tenant, file)) = tenant
            && let Some(id) = tenant.json.get("id").and_then(Value::as_str)
        {
            let line = Positions::of(&tenant.text).value("/id").map_or(0, |p| p.line);
            match tenant_ids.get(id) {
                Some((first_file, first_line)) => {
                    let mut report = Report::new(&file, &tenant.text);
                    report.value("/id", format!("tenant id {id} is also used by {first_file}:{first_line}"));
                    out.extend(report.problems);
                }
                None => {
                    tenant_ids.insert(id.to_string(), (file.clone(), line));
                }
            }
        }
        let scopes = check_file(FileKind::Scopes, &dir.join("scopes.yaml"), None, false, &mut out);
        let clients = check_file(FileKind::Clients, &dir.join("clients.yaml"), None, false, &mut out);
        let scopes_ok = scopes.is_some() || !dir.join("scopes.yaml").exists();
        if let (Some((clients, file)), true) = (clients, scopes_ok) {
            let names =
                scopes.as_ref().map(|(s, _)| strings_at(&s.json, "scopes", "name")).unwrap_or_default();
            let mut report = Report::new(&file, &clients.text);
            rules::check_client_scopes(&clients.json, &names, &mut report);
            if let Some(key) = secrets {
                check_client_secrets(&clients.json, slug, key, &mut report);
            }
            out.extend(report.problems);
        }
    }

    let admins_dir = root.join("admins");
    let admins = check_file(FileKind::Admins, &admins_dir.join("admins.yaml"), None, false, &mut out);
    let tokens = check_file(
        FileKind::AdminRefreshTokens,
        &admins_dir.join("refresh_tokens.yaml"),
        None,
        false,
        &mut out,
    );
    if let (Some((admins, file)), true) = (&admins, tenants_ok) {
        let ids: Vec<uuid::Uuid> =
            tenant_ids.keys().filter_map(|id| uuid::Uuid::parse_str(id).ok()).collect();
        let mut report = Report::new(file, &admins.text);
        rules::check_admin_tenants(&admins.json, &ids, &mut report);
        out.extend(report.problems);
    }
    let admins_ok = admins.is_some() || !admins_dir.join("admins.yaml").exists();
    if let (Some((tokens, file)), true) = (tokens, admins_ok) {
        let ids = admins.as_ref().map(|(a, _)| strings_at(&a.json, "admins", "id")).unwrap_or_default();
        let mut report = Report::new(&file, &tokens.text);
        rules::check_token_admins(&tokens.json, &ids, &mut report);
        out.extend(report.problems);
    }
    Ok(out)
}

/// Reads the tombstones under `<root>/deleted/` (each `<id>.yaml` a deleted tenant whose
/// namespace is not purged yet), recording their namespaces; an unreadable one is a problem.
fn check_tombstones(root: &Path, namespaces: &mut HashMap<String, String>, out: &mut Vec<ConfigProblem>) {
    let dir = root.join("deleted");
    let Ok(entries) = std::fs::read_dir(&dir) else { return };
    let mut paths: Vec<std::path::PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .filter(|p| !p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.')))
        .collect();
    paths.sort();
    for path in paths {
        let parsed = storage::read_optional(&path).ok().flatten().map(|text| {
            serde_yaml::from_str::<crate::model::DeletedTenant>(&text).map_err(|e| e.to_string())
        });
        match parsed {
            Some(Ok(tomb)) => {
                let file = path.display().to_string();
                if let Some(first) = namespaces.get(&tomb.namespace) {
                    out.push(missing(
                        &path,
                        &format!("namespace {:?} is also held by {first}", tomb.namespace),
                    ));
                } else {
                    namespaces.insert(tomb.namespace, format!("{file} (deleted tenant {})", tomb.slug));
                }
            }
            Some(Err(e)) => out.push(missing(&path, &format!("not a deleted-tenant record: {e}"))),
            None => out.push(missing(&path, "unreadable deleted-tenant record")),
        }
    }
}

/// Checks one file's text as a file of `kind` (schema and per-file rules), without
/// cross-file rules. `file` names it in the problems.
pub fn validate_text(kind: FileKind, file: &str, text: &str) -> Vec<ConfigProblem> {
    match check_text(kind, file, text, None) {
        Ok(_) => Vec::new(),
        Err(problems) => problems,
    }
}

/// Positions of the values of a YAML text (exposed for tools and tests).
pub fn positions_of(text: &str) -> Positions {
    Positions::of(text)
}

fn check_secret_opens(
    json: &Value,
    pointer: &str,
    tenant: &str,
    field: &str,
    key: &SecretBox,
    report: &mut Report<'_>,
) {
    if let Some(ct) = json.pointer(pointer).and_then(Value::as_str)
        && key.decrypt_str(tenant, field, ct).is_err()
    {
        report.value(
            pointer,
            format!("does not decrypt as {field} of tenant {tenant}: another key, or copied from another tenant or field"),
        );
    }
}

fn check_tenant_secrets(json: &Value, slug: &str, key: &SecretBox, report: &mut Report<'_>) {
    check_secret_opens(json, "/settings/user_db/dsn", slug, fields::USER_DB_DSN, key, report);
    check_secret_opens(json, "/settings/cache/password", slug, fields::CACHE_PASSWORD, key, report);
    check_secret_opens(json, "/settings/smtp/password", slug, fields::SMTP_PASSWORD, key, report);
    if let Some(providers) = json.pointer("/settings/social_providers").and_then(Value::as_object) {
        for name in providers.keys() {
            let pointer =
                format!("/settings/social_providers/{}/client_secret", super::positions::escape_token(name));
            check_secret_opens(json, &pointer, slug, &fields::social_provider_secret(name), key, report);
        }
    }
}

fn check_client_secrets(json: &Value, slug: &str, key: &SecretBox, report: &mut Report<'_>) {
    let clients = json.get("clients").and_then(Value::as_array).into_iter().flatten().enumerate();
    for (i, client) in clients {
        if let Some(id) = client.get("client_id").and_then(Value::as_str) {
            let pointer = format!("/clients/{i}/secret");
            check_secret_opens(json, &pointer, slug, &fields::client_secret(id), key, report);
        }
    }
}
