//! Splitting a tenant DSN into the server (whose pool every tenant on it shares) and the
//! tenant's database.
//!
//! `mongodb://user:pw@host:27017/hj_acme?directConnection=true` names the server
//! `mongodb://user:pw@host:27017/?directConnection=true` and the database `hj_acme`. The
//! database comes from the path (the caller has already substituted `{tenant}`) and must
//! match `^[A-Za-z0-9_-]{1,63}$`. When the DSN has credentials and no `authSource`, the
//! driver would authenticate against the path's database; that is kept explicit by adding
//! `authSource=<database>` to the server URI (tenants with their own credentials then get
//! a pool of their own).

use crate::error::{StoreError, StoreResult};

/// A parsed tenant DSN.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct MongoDsn {
    /// The server URI without a database path (`Location::server`: equal URIs share a pool).
    pub(crate) server_uri: String,
    /// The tenant's database.
    pub(crate) database: String,
}

impl std::fmt::Debug for MongoDsn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MongoDsn")
            .field("server_uri", &crate::mode::redact_dsn(&self.server_uri))
            .field("database", &self.database)
            .finish()
    }
}

/// Whether `name` is an acceptable tenant database name.
pub(crate) fn is_valid_database_name(name: &str) -> bool {
    (1..=63).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Parses a `mongodb://` or `mongodb+srv://` DSN that names a database.
///
/// Errors: `InvalidInput` on `dsn` for another scheme, a missing or invalid database name.
pub(crate) fn parse(dsn: &str) -> StoreResult<MongoDsn> {
    let dsn = dsn.trim();
    let redacted = crate::mode::redact_dsn(dsn);
    let bad = |why: String| StoreError::invalid("dsn", format!("{redacted}: {why}"));
    let (scheme, rest) = dsn
        .split_once("://")
        .filter(|(scheme, _)| matches!(*scheme, "mongodb" | "mongodb+srv"))
        .ok_or_else(|| bad("must start with mongodb:// or mongodb+srv://".into()))?;
    // The hosts follow the last `@` (a raw password may hold `/` or `?`).
    let hosts_start = rest.rfind('@').map_or(0, |at| at + 1);
    let authority_end = rest[hosts_start..].find(['/', '?']).map_or(rest.len(), |i| hosts_start + i);
    let authority = &rest[..authority_end];
    if authority.is_empty() {
        return Err(bad("names no host".into()));
    }
    let after = &rest[authority_end..];
    let (path, query) = match after.split_once('?') {
        Some((path, query)) => (path, query),
        None => (after, ""),
    };
    let database = path.strip_prefix('/').unwrap_or(path);
    if database.is_empty() {
        return Err(bad("names no database; use mongodb://host/hj_{tenant}".into()));
    }
    if !is_valid_database_name(database) {
        return Err(bad(format!("database {database:?} must match ^[A-Za-z0-9_-]{{1,63}}$")));
    }
    let mut params: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    let has_credentials = authority.contains('@');
    let has_auth_source =
        params.iter().any(|p| p.split('=').next().is_some_and(|k| k.eq_ignore_ascii_case("authSource")));
    let auth_source;
    if has_credentials && !has_auth_source {
        auth_source = format!("authSource={database}");
        params.push(&auth_source);
    }
    let query = if params.is_empty() { String::new() } else { format!("?{}", params.join("&")) };
    Ok(MongoDsn { server_uri: format!("{scheme}://{authority}/{query}"), database: database.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_is_split_from_the_server() {
        let dsn = parse("mongodb://127.0.0.1:27017/hj_acme?directConnection=true").expect("parse");
        assert_eq!(dsn.server_uri, "mongodb://127.0.0.1:27017/?directConnection=true");
        assert_eq!(dsn.database, "hj_acme");
        let dsn = parse("mongodb+srv://cluster.example.com/hj_globex").expect("srv");
        assert_eq!(dsn.server_uri, "mongodb+srv://cluster.example.com/");
        assert_eq!(dsn.database, "hj_globex");
    }

    #[test]
    fn tenants_of_one_server_share_the_server_uri() {
        let a = parse("mongodb://h1,h2/hj_a?replicaSet=rs0").expect("a");
        let b = parse("mongodb://h1,h2/hj_b?replicaSet=rs0").expect("b");
        assert_eq!(a.server_uri, b.server_uri);
        assert_ne!(a.database, b.database);
    }

    #[test]
    fn credentials_keep_authenticating_against_the_path_database() {
        let dsn = parse("mongodb://u:p@h/hj_a").expect("parse");
        assert_eq!(dsn.server_uri, "mongodb://u:p@h/?authSource=hj_a");
        let dsn = parse("mongodb://u:p@h/hj_a?authSource=admin&w=majority").expect("parse");
        assert_eq!(dsn.server_uri, "mongodb://u:p@h/?authSource=admin&w=majority");
    }

    #[test]
    fn bad_dsns_are_invalid_input() {
        for dsn in [
            "postgres://h/db",
            "mongodb:///db",
            "mongodb://h",
            "mongodb://h/",
            "mongodb://h/?x=1",
            "mongodb://h/hj_{tenant}",
            "mongodb://h/a.b",
            "mongodb://h/a/b",
            "mongodb://h/ space",
        ] {
            assert!(matches!(parse(dsn), Err(StoreError::InvalidInput { .. })), "{dsn} must be refused");
        }
        let long = format!("mongodb://h/{}", "a".repeat(64));
        assert!(parse(&long).is_err());
        assert!(parse(&format!("mongodb://h/{}", "a".repeat(63))).is_ok());
    }

    #[test]
    fn errors_do_not_show_the_password() {
        let Err(e) = parse("mongodb://u:secret@h/") else { panic!("must fail") };
        assert!(!e.to_string().contains("secret"), "{e}");
    }
}
