//! Which database serves a tenant: its own `user_db`, else the default template with
//! `{tenant}` substituted. Pure functions, no I/O.

use crate::error::{StoreError, StoreResult};
use crate::mode::DbConfig;

/// The placeholder a default tenant DSN or schema must contain.
pub const TENANT_PLACEHOLDER: &str = "{tenant}";

/// Refuses a default tenant database that would make tenants share tables: its DSN or its
/// schema must contain `{tenant}`.
///
/// Errors: `InvalidInput` saying why.
pub fn check_default_template(db: &DbConfig) -> StoreResult<()> {
    let in_dsn = db.dsn.contains(TENANT_PLACEHOLDER);
    let in_schema = db.schema.as_deref().is_some_and(|s| s.contains(TENANT_PLACEHOLDER));
    if in_dsn || in_schema {
        Ok(())
    } else {
        Err(StoreError::invalid(
            "default_tenant_db",
            format!(
                "the default tenant database {} has no {TENANT_PLACEHOLDER} in its DSN or schema, so every tenant \
                 would share the same tables; use e.g. a schema `hj_{{tenant}}` (PostgreSQL), a database \
                 `…/hj_{{tenant}}` (MySQL) or a file `…/{{tenant}}.db` (SQLite)",
                db.redacted_dsn()
            ),
        ))
    }
}

/// The name a tenant's namespace gets in a template: the slug with `-` turned into `_`, so
/// that it is a valid unquoted schema or database name. Slugs never contain `_`, so two
/// slugs never map to one name.
pub fn namespace_name(slug: &str) -> String {
    slug.replace('-', "_")
}

/// `db` with every `{tenant}` in its DSN and schema replaced by the tenant's namespace name.
pub fn substitute(db: &DbConfig, slug: &str) -> DbConfig {
    let name = namespace_name(slug);
    DbConfig {
        driver: db.driver.clone(),
        dsn: db.dsn.replace(TENANT_PLACEHOLDER, &name),
        schema: db.schema.as_ref().map(|s| s.replace(TENANT_PLACEHOLDER, &name)),
    }
}
