//! Which database serves a tenant: its own `user_db`, else the default template with
//! `{tenant}` substituted. Pure functions, no I/O.

use crate::error::{StoreError, StoreResult};
use crate::mode::DbConfig;

/// The placeholder a default tenant DSN or schema must contain.
pub const TENANT_PLACEHOLDER: &str = "{tenant}";

/// Refuses a default tenant database that would make tenants share tables: its DSN must
/// contain `{tenant}`, or, on PostgreSQL (and on drivers a service registered, which may use
/// it), its schema. MySQL, SQLite and MongoDB ignore the schema (the namespace is the DSN's
/// database or file), so a `{tenant}` only there would still put every tenant in one place.
///
/// Errors: `InvalidInput` saying why.
pub fn check_default_template(db: &DbConfig) -> StoreResult<()> {
    let in_dsn = db.dsn.contains(TENANT_PLACEHOLDER);
    let in_schema = db.schema.as_deref().is_some_and(|s| s.contains(TENANT_PLACEHOLDER));
    let schema_ignored = matches!(db.driver.as_str(), "mysql" | "mariadb" | "sqlite" | "mongo" | "mongodb");
    if in_dsn || (in_schema && !schema_ignored) {
        return Ok(());
    }
    let why = if in_schema {
        format!(
            "the default tenant database {} has {TENANT_PLACEHOLDER} only in its schema, which the {} \
             driver ignores, so every tenant would share the same tables; put it in the database \
             (MySQL `…/hj_{{tenant}}`, MongoDB `…/hj_{{tenant}}`) or file name (SQLite `…/{{tenant}}.db`)",
            db.redacted_dsn(),
            db.driver
        )
    } else {
        format!(
            "the default tenant database {} has no {TENANT_PLACEHOLDER} in its DSN or schema, so every tenant \
             would share the same tables; use e.g. a schema `hj_{{tenant}}` (PostgreSQL), a database \
             `…/hj_{{tenant}}` (MySQL) or a file `…/{{tenant}}.db` (SQLite)",
            db.redacted_dsn()
        )
    };
    Err(StoreError::invalid("default_tenant_db", why))
}

/// The name a tenant's namespace gets in a template: the slug with `-` turned into `_`, so
/// that it is a valid unquoted schema or database name. Slugs never contain `_`, so two
/// slugs never map to one name.
pub fn namespace_name(slug: &str) -> String {
    slug.replace('-', "_")
}

/// Longest schema or database name the engines accept (PostgreSQL's and MySQL's limit).
pub const MAX_NAMESPACE_LEN: usize = 63;

/// `db` with every `{tenant}` in its DSN and schema replaced by the tenant's namespace name.
/// When the name with its template around it (`hj_{tenant}`, a database or file name) would
/// pass [`MAX_NAMESPACE_LEN`], the slug part is cut and suffixed with 8 hex digits of its
/// SHA-256, so long slugs still map to distinct, valid names.
pub fn substitute(db: &DbConfig, slug: &str) -> DbConfig {
    let name = namespace_name(slug);
    DbConfig {
        driver: db.driver.clone(),
        dsn: fill(&db.dsn, &name),
        schema: db.schema.as_ref().map(|s| fill(s, &name)),
    }
}

fn fill(template: &str, name: &str) -> String {
    let Some(pos) = template.find(TENANT_PLACEHOLDER) else {
        return template.to_string();
    };
    let after = pos + TENANT_PLACEHOLDER.len();
    let start = template[..pos].rfind(['/', '?', '&', '=', ':']).map(|i| i + 1).unwrap_or(0);
    let end = template[after..].find(['/', '?', '&', '#']).map(|i| after + i).unwrap_or(template.len());
    let fixed = (end - start) - TENANT_PLACEHOLDER.len();
    let fitted = if fixed + name.len() > MAX_NAMESPACE_LEN {
        shorten(name, MAX_NAMESPACE_LEN.saturating_sub(fixed))
    } else {
        name.to_string()
    };
    template.replace(TENANT_PLACEHOLDER, &fitted)
}

fn shorten(name: &str, room: usize) -> String {
    use sha2::{Digest, Sha256};
    let hash: String = Sha256::digest(name.as_bytes()).iter().take(4).map(|b| format!("{b:02x}")).collect();
    let keep = room.saturating_sub(hash.len() + 1).min(name.len());
    format!("{}_{hash}", &name[..keep])
}
