//! Which database serves a tenant: its own `user_db`, else the default template with
//! `{tenant}` replaced by the tenant's recorded namespace. Pure functions, no I/O.
//!
//! Two tenants never share a namespace because (1) each tenant records a namespace that
//! the control plane allocated unique among live and deleted-but-not-purged tenants, and
//! (2) [`check_default_template`] only accepts a template whose substitution is injective:
//! `{tenant}` chooses the namespace (schema, database or file) and nothing else decides it.
//! [`namespace_key`] is the one function that says which namespace a [`DbConfig`] names.

use std::path::{Component, Path, PathBuf};

use crate::error::{StoreError, StoreResult};
use crate::mode::DbConfig;
use crate::model::NAMESPACE_MAX_LEN;

/// The placeholder a default tenant DSN or schema must contain.
pub const TENANT_PLACEHOLDER: &str = "{tenant}";

/// Longest schema or database name the engines accept (PostgreSQL's identifier limit; MySQL
/// allows 64, MongoDB database names must be under 64 bytes). A template's namespace part
/// with a namespace of [`NAMESPACE_MAX_LEN`] characters in it must fit.
pub const MAX_NAMESPACE_LEN: usize = 63;

/// Longest SQLite file name the template may produce (common file-system limit).
const MAX_FILE_NAME_LEN: usize = 255;

/// The name a slug's namespace gets when it is free and fits: the slug with `-` turned into
/// `_`, so that it is a valid unquoted schema or database name. Only a proposal: the control
/// plane records the namespace it allocates (see [`crate::model::Tenant::namespace`]).
pub fn namespace_name(slug: &str) -> String {
    slug.replace('-', "_")
}

/// Names of system schemas and databases (PostgreSQL, MySQL/MariaDB, MongoDB): never
/// allocated to a tenant and never dropped by a purge. Every name starting with `pg_` is
/// reserved too (see [`is_reserved_namespace`]).
pub const RESERVED_NAMESPACES: &[&str] =
    &["public", "information_schema", "mysql", "performance_schema", "sys", "admin", "local", "config"];

/// Whether `name` is a system namespace: one of [`RESERVED_NAMESPACES`] or starting with
/// `pg_` (case-insensitive).
pub fn is_reserved_namespace(name: &str) -> bool {
    let name = name.trim().to_ascii_lowercase();
    RESERVED_NAMESPACES.contains(&name.as_str()) || name.starts_with("pg_")
}

/// Query-string parameters that choose where a connection goes (server, database, user or
/// search path) behind the URL's back; a DSN carrying one is refused.
fn target_params(engine: &str) -> &'static [&'static str] {
    match engine {
        "postgres" => &["host", "hostaddr", "port", "dbname", "user", "options", "service"],
        "mysql" => &["socket"],
        _ => &[],
    }
}

/// Where a [`DbConfig`] puts a tenant's tables: the server (engine, host and port, or a
/// SQLite folder) and the namespace on it (PostgreSQL `database.schema`, a MySQL or MongoDB
/// database, a SQLite file name). Two configs with the same key share tables.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NamespaceKey {
    /// The server identity: `postgres://host:port`, `mysql://host:port`,
    /// `mongodb://host:port,…`, or `sqlite:<folder>` (lexically normalised). Loopback names
    /// (`localhost`, `127.x.y.z`, `::1`, and `0.0.0.0`, `::`) are folded into `localhost`; other aliases of one
    /// server (another DNS name, another address) are not recognised.
    pub server: String,
    /// The namespace on that server.
    pub namespace: String,
}

fn engine_of(driver: &str) -> Option<&'static str> {
    match driver.trim().to_ascii_lowercase().as_str() {
        "postgres" | "postgresql" => Some("postgres"),
        "mysql" | "mariadb" => Some("mysql"),
        "mongo" | "mongodb" => Some("mongodb"),
        "sqlite" => Some("sqlite"),
        _ => None,
    }
}

/// The parts of a URL-like DSN: authority (without user info), path (without the leading
/// `/`), query.
struct DsnParts<'a> {
    user: &'a str,
    hosts: &'a str,
    path: &'a str,
    query: &'a str,
}

fn split_dsn(dsn: &str) -> Option<DsnParts<'_>> {
    let rest = &dsn[dsn.find("://")? + 3..];
    let (before_query, query) = match rest.find(['?', '#']) {
        Some(i) => (&rest[..i], rest[i + 1..].split('#').next().unwrap_or("")),
        None => (rest, ""),
    };
    // The authority ends at the first '/' (as URL parsers read it: an '@' after that is part
    // of the path); user info ends at the last '@' inside it.
    let (authority, path) = match before_query.find('/') {
        Some(i) => (&before_query[..i], &before_query[i + 1..]),
        None => (before_query, ""),
    };
    let (user, hosts) = match authority.rfind('@') {
        Some(i) => (authority[..i].split(':').next().unwrap_or(""), &authority[i + 1..]),
        None => ("", authority),
    };
    Some(DsnParts { user, hosts, path, query })
}

/// The name of each parameter of a query string: percent-decoded (`+` as a space),
/// lower-cased, without a `[sub]` part (`options[search_path]` is `options`).
fn query_keys(query: &str) -> impl Iterator<Item = String> + '_ {
    query.split(['&', ';']).filter(|kv| !kv.is_empty()).map(|kv| {
        let key = kv.split_once('=').map_or(kv, |(k, _)| k);
        let key = percent_decode(&key.replace('+', " ")).trim().to_ascii_lowercase();
        match key.find('[') {
            Some(i) => key[..i].trim().to_string(),
            None => key,
        }
    })
}

/// Refuses a DSN holding a control character or whitespace inside it (after trimming its
/// ends): URL parsers (the drivers use WHATWG's) delete tabs and line breaks before reading
/// a URL, so `time\tzone=…` or `ho\tst=…` would be a parameter to the driver and not to the
/// checks here. No valid DSN needs one (a space is `%20`).
///
/// Errors: `InvalidInput` (field `dsn`).
fn refuse_control_characters(redacted: &str, dsn: &str) -> StoreResult<()> {
    if dsn.trim().chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(StoreError::invalid(
            "dsn",
            format!("{redacted} holds a control character or whitespace (write a space as %20)"),
        ));
    }
    Ok(())
}

/// Refuses a MySQL/MariaDB DSN whose query string carries a value the driver writes into
/// SQL at connect time (`charset` and `collation` into `SET NAMES`, `timezone` into `SET
/// time_zone='…'`, unescaped, with multi-statements on): such a value could run statements
/// of its own on every connection, outside every tenant's namespace. `charset` must be
/// `utf8mb4` (the store's columns and literals are utf8mb4: another character set reads
/// some values back as `?` or not at all), `collation` a `utf8mb4_` name, `timezone` a
/// zone name or offset (letters, digits, `_ + - : /`). Values are read percent-decoded, as
/// the driver reads them.
///
/// Errors: `InvalidInput` (field `dsn`) naming the parameter.
fn refuse_unsafe_mysql_params(redacted: &str, query: &str) -> StoreResult<()> {
    for kv in query.split('&').filter(|kv| !kv.is_empty()) {
        let (key, value) = kv.split_once('=').unwrap_or((kv, ""));
        let key = percent_decode(&key.replace('+', " ")).trim().to_ascii_lowercase();
        let value = percent_decode(&value.replace('+', " "));
        let word = |extra: &str| {
            !value.is_empty()
                && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || extra.contains(c))
        };
        let ok = match key.as_str() {
            "charset" => value.eq_ignore_ascii_case("utf8mb4"),
            "collation" => word("") && value.to_ascii_lowercase().starts_with("utf8mb4_"),
            "timezone" | "time-zone" => word("+-:/"),
            _ => true,
        };
        if !ok {
            return Err(StoreError::invalid(
                "dsn",
                format!(
                    "{redacted}: the query parameter `{key}` must be {}",
                    match key.as_str() {
                        "charset" => "utf8mb4 (the store reads and writes utf8mb4)",
                        "collation" => "a utf8mb4_ collation name (letters, digits, _)",
                        _ => "a time-zone name or offset (letters, digits, _ + - : /)",
                    }
                ),
            ));
        }
    }
    Ok(())
}

/// The checks every DSN the store connects with passes, whoever wrote it (a tenant's own
/// `user_db`, the default template, the global database): no control character or
/// whitespace ([`refuse_control_characters`]) and, on MySQL/MariaDB (`mysql` driver, or a
/// `mysql://`/`mariadb://` DSN), no value the driver writes into SQL at connect
/// ([`refuse_unsafe_mysql_params`]). `redacted` names the DSN in the error.
///
/// Errors: `InvalidInput` (field `dsn`).
pub(crate) fn check_dsn_text(mysql: bool, redacted: &str, dsn: &str) -> StoreResult<()> {
    refuse_control_characters(redacted, dsn)?;
    if mysql {
        let query = dsn.split_once('?').map_or("", |(_, q)| q);
        let query = query.split('#').next().unwrap_or_default();
        refuse_unsafe_mysql_params(redacted, query)?;
    }
    Ok(())
}

/// Refuses a DSN whose query string carries a parameter of [`target_params`].
fn refuse_target_params(db: &DbConfig, engine: &str, query: &str) -> StoreResult<()> {
    let forbidden = target_params(engine);
    for key in query_keys(query) {
        if forbidden.contains(&key.as_str()) {
            return Err(StoreError::invalid(
                "dsn",
                format!(
                    "{} carries the query parameter `{key}`, which chooses the server, database, user \
                     or search path behind the URL's back (so the namespace would not be the one the \
                     URL names); put the host, port, database and user in the URL and the schema in \
                     the schema field",
                    db.redacted_dsn()
                ),
            ));
        }
    }
    Ok(())
}

fn fold_host(host: &str, default_port: u16) -> String {
    // Drivers percent-decode the host (`%2Fvar%2Frun%2Fpostgresql` is a Unix socket).
    let host = percent_decode(host.trim()).to_ascii_lowercase();
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        match rest.split_once(']') {
            Some((name, tail)) => (name.to_string(), tail.strip_prefix(':').map(str::to_string)),
            None => (host.clone(), None),
        }
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) if !name.contains(':') => (name.to_string(), Some(port.to_string())),
            _ => (host.clone(), None),
        }
    };
    // `0.0.0.0` and `::` reach the local server too.
    let loopback = name.is_empty()
        || name == "localhost"
        || name == "::1"
        || name == "::"
        || name == "0.0.0.0"
        || name.starts_with("127.")
        || name.starts_with('/');
    let name = if loopback { "localhost".to_string() } else { name };
    // Drivers read the port as a number: `05432` is 5432.
    let port = port
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<u16>().map_or(p, |n| n.to_string()))
        .unwrap_or_else(|| default_port.to_string());
    format!("{name}:{port}")
}

/// Whether two [`NamespaceKey::server`]s can reach one server: the same engine and at least
/// one host in common (a driver given a host list uses whichever host it reaches).
pub fn same_server(a: &str, b: &str) -> bool {
    let split = |s: &str| -> Option<(String, Vec<String>)> {
        let (scheme, hosts) = s.split_once("://")?;
        Some((scheme.to_string(), hosts.split(',').map(str::to_string).collect()))
    };
    match (split(a), split(b)) {
        (Some((sa, ha)), Some((sb, hb))) => sa == sb && ha.iter().any(|h| hb.contains(h)),
        _ => a == b,
    }
}

/// Whether two [`NamespaceKey::server`]s share a host whatever the ports: a pooler such as
/// PgBouncer on another port of the same host usually leads to the same database server.
/// SQLite folders compare whole.
pub fn same_host(a: &str, b: &str) -> bool {
    let hosts = |s: &str| -> Option<(String, Vec<String>)> {
        let (scheme, hosts) = s.split_once("://")?;
        let strip = |h: &str| match h.rsplit_once(':') {
            Some((host, port)) if port.bytes().all(|c| c.is_ascii_digit()) => host.to_string(),
            _ => h.to_string(),
        };
        Some((scheme.to_string(), hosts.split(',').map(strip).collect()))
    };
    match (hosts(a), hosts(b)) {
        (Some((sa, ha)), Some((sb, hb))) => sa == sb && ha.iter().any(|h| hb.contains(h)),
        _ => a == b,
    }
}

fn server_of(scheme: &str, hosts: &str, default_port: u16) -> String {
    let mut hosts: Vec<String> = hosts.split(',').map(|h| fold_host(h, default_port)).collect();
    hosts.sort();
    hosts.dedup();
    format!("{scheme}://{}", hosts.join(","))
}

fn decode(s: &str) -> String {
    percent_decode(s).to_ascii_lowercase()
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// Lexical normalisation of `.` and `..` (no file-system access, symbolic links not seen).
fn normalise_path(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            // `/..` is `/`; a relative path keeps its leading `..`s.
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The SQLite file of a DSN (`None` for an in-memory database), made absolute against the
/// process's current directory ([`std::env::current_dir`], the directory SQLite resolves a
/// relative path against) and then lexically normalised, so a relative and an absolute
/// spelling of one file give one key.
fn sqlite_file(dsn: &str) -> Option<PathBuf> {
    let rest = dsn.strip_prefix("sqlite://").or_else(|| dsn.strip_prefix("sqlite:"))?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" || query.split('&').any(|kv| kv == "mode=memory") {
        return None;
    }
    let path = PathBuf::from(percent_decode(path));
    let path = match std::env::current_dir() {
        Ok(cwd) if path.is_relative() => cwd.join(path),
        _ => path,
    };
    Some(normalise_path(&path))
}

/// Which namespace `db` names: see [`NamespaceKey`]. `None` for a driver this module does
/// not know (a service's own adapter) and for a SQLite in-memory database.
///
/// Errors: `InvalidInput` (field `dsn`) when the DSN's query string carries a parameter that
/// chooses the server, database, user or search path (PostgreSQL `host`, `hostaddr`, `port`,
/// `dbname`, `user`, `options`, `service`; MySQL `socket`), matched case-insensitively after percent-decoding
/// and with a `[sub]` part ignored: the driver would connect elsewhere than the key says.
pub fn namespace_key(db: &DbConfig) -> StoreResult<Option<NamespaceKey>> {
    let Some(engine) = engine_of(&db.driver) else { return Ok(None) };
    let dsn = db.dsn.trim();
    if engine == "sqlite" {
        return Ok(sqlite_file(dsn).map(|file| NamespaceKey {
            server: format!("sqlite:{}", file.parent().map(|p| p.display().to_string()).unwrap_or_default()),
            namespace: file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        }));
    }
    check_dsn_text(engine == "mysql", &db.redacted_dsn(), dsn)?;
    let Some(parts) = split_dsn(dsn) else {
        return Err(StoreError::invalid("dsn", format!("{} is not a URL", db.redacted_dsn())));
    };
    refuse_target_params(db, engine, parts.query)?;
    // The database is one path segment. URL parsers (the drivers') resolve `.` and `..`
    // segments and drop a leading `/`, so `/x/../victim`, `/./victim` and `//victim` all
    // reach `victim` while naming something else here.
    let database = decode(parts.path);
    if database.contains('/') || database == "." || database == ".." {
        return Err(StoreError::invalid(
            "dsn",
            format!("{}: the database must be one path segment (no `/`, `.` or `..`)", db.redacted_dsn()),
        ));
    }
    Ok(Some(match engine {
        "postgres" => {
            let hosts = parts.hosts;
            // No database in the path: PostgreSQL takes the one named after the user.
            let database = match decode(parts.path) {
                path if path.is_empty() && !parts.user.is_empty() => decode(parts.user),
                path if path.is_empty() => {
                    return Err(StoreError::invalid(
                        "dsn",
                        format!("{} names no database and no user; name the database", db.redacted_dsn()),
                    ));
                }
                path => path,
            };
            let schema = db.schema.as_deref().map(str::trim).filter(|s| !s.is_empty()).unwrap_or("public");
            NamespaceKey {
                server: server_of("postgres", hosts, 5432),
                namespace: format!("{database}.{}", schema.to_ascii_lowercase()),
            }
        }
        "mysql" => {
            NamespaceKey { server: server_of("mysql", parts.hosts, 3306), namespace: decode(parts.path) }
        }
        _ => NamespaceKey { server: server_of("mongodb", parts.hosts, 27017), namespace: decode(parts.path) },
    }))
}

/// `db` with every `{tenant}` in its DSN and schema replaced by `namespace` (a tenant's
/// recorded namespace, see [`crate::model::Tenant::effective_namespace`]). Plain
/// replacement: no shortening, so distinct namespaces give distinct configs.
pub fn substitute(db: &DbConfig, namespace: &str) -> DbConfig {
    DbConfig {
        driver: db.driver.clone(),
        dsn: db.dsn.replace(TENANT_PLACEHOLDER, namespace),
        schema: db.schema.as_ref().map(|s| s.replace(TENANT_PLACEHOLDER, namespace)),
    }
}

/// Refuses a default tenant database under which two tenants could share tables:
///
/// - `{tenant}` must be in the part that chooses the namespace — PostgreSQL: the schema or
///   the DSN's database; MySQL/MariaDB and MongoDB: the DSN's database; SQLite: the file
///   name — never only in the query string, host, user or options (where it changes nothing
///   about where the tables are);
/// - that part with a namespace of [`NAMESPACE_MAX_LEN`] characters must fit the engine's
///   limit ([`MAX_NAMESPACE_LEN`]; 255 bytes for a SQLite file name);
/// - two different namespaces must give two different [`namespace_key`]s on one server.
///
/// A driver this module does not know (a service's own adapter) only needs a `{tenant}` in
/// its DSN or schema.
///
/// Errors: `InvalidInput` saying why.
pub fn check_default_template(db: &DbConfig) -> StoreResult<()> {
    let refuse = |why: String| {
        Err(StoreError::invalid(
            "default_tenant_db",
            format!("the default tenant database {} is refused: {why}", db.redacted_dsn()),
        ))
    };
    let in_dsn = db.dsn.contains(TENANT_PLACEHOLDER);
    let in_schema = db.schema.as_deref().is_some_and(|s| s.contains(TENANT_PLACEHOLDER));
    if !in_dsn && !in_schema {
        return refuse(format!(
            "it has no {TENANT_PLACEHOLDER} in its DSN or schema, so every tenant would share the same \
             tables; use e.g. a schema `hj_{{tenant}}` (PostgreSQL), a database `…/hj_{{tenant}}` (MySQL, \
             MongoDB) or a file `…/{{tenant}}.db` (SQLite)"
        ));
    }
    let Some(engine) = engine_of(&db.driver) else { return Ok(()) };
    // Two probes of the longest namespace, differing in every character.
    let probe_a = "a".repeat(NAMESPACE_MAX_LEN);
    let probe_b = "b".repeat(NAMESPACE_MAX_LEN);
    let (Some(a), Some(b)) =
        (namespace_key(&substitute(db, &probe_a))?, namespace_key(&substitute(db, &probe_b))?)
    else {
        return refuse("it names no file (an in-memory SQLite database is one for everyone)".into());
    };
    let chooser = match engine {
        "postgres" => "the schema or the DSN's database",
        "sqlite" => "the file name",
        _ => "the DSN's database",
    };
    if a.server != b.server {
        return refuse(format!(
            "{TENANT_PLACEHOLDER} changes the server (host, port or folder); it must be in {chooser} only"
        ));
    }
    if !a.namespace.contains(&probe_a) || a == b {
        return refuse(format!(
            "{TENANT_PLACEHOLDER} is not in {chooser}, where the {} driver takes the namespace from (it \
             ignores the rest), so every tenant would share the same tables",
            db.driver
        ));
    }
    let (part, limit) = match engine {
        // `database.schema`: the part with the probe in it must fit.
        "postgres" => (
            a.namespace.split('.').find(|p| p.contains(&probe_a)).unwrap_or(&a.namespace).to_string(),
            MAX_NAMESPACE_LEN,
        ),
        "sqlite" => (a.namespace.clone(), MAX_FILE_NAME_LEN),
        _ => (a.namespace.clone(), MAX_NAMESPACE_LEN),
    };
    if part.len() > limit {
        return refuse(format!(
            "with a namespace of {NAMESPACE_MAX_LEN} characters the name would be {} bytes, over the \
             engine's limit of {limit}; shorten the text around {TENANT_PLACEHOLDER}",
            part.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_at_sign_after_the_authority_is_path_not_user_info() {
        // URL parsers end the authority at the first '/': the host is 127.0.0.1 and the
        // database `x@far.invalid/../test` (refused as more than one segment), not a host
        // `far.invalid` with a user `postgres@127.0.0.1:5432/x`.
        let db = DbConfig::new("postgres", "postgres://postgres@127.0.0.1:5432/x@far.invalid/../test");
        assert!(namespace_key(&db).is_err());
        let db = DbConfig::new("postgres", "postgres://u:p%40ss@127.0.0.1:5432/test");
        let k = namespace_key(&db).expect("key").expect("some");
        assert_eq!(k.server, "postgres://localhost:5432");
    }

    #[test]
    fn mysql_parameters_written_into_sql_at_connect_are_refused() {
        for bad in [
            "timezone=%2B00%3A00%27%3BDROP%20DATABASE%20x%3BSET%20%40a%3D%27",
            "time-zone=+00:00';DO 1;SET @a='",
            "charset=utf8mb4;DO 1",
            "charset=latin1",
            "charset=utf8",
            "collation=utf8mb4_bin;DO 1",
            "collation=latin1_swedish_ci",
            "%63harset=latin1",
            "timezone=",
        ] {
            assert!(refuse_unsafe_mysql_params("dsn", bad).is_err(), "{bad} accepted");
        }
        for bad in [
            "mysql://root@h:3306/x?time\tzone=%2B00:00%27;DO%201;SET%20@a=%27",
            "mysql://root@h:3306/x?char\nset=latin1",
            "mysql://root@h:3306/x?colla\rtion=utf8mb4_bin;DO%201",
            "mysql://root@db.elsewhere.invalid:3306/x?soc\tket=/run/mysqld/mysqld.sock",
            "postgres://postgres@db.elsewhere.invalid:5432/test?ho\tst=127.0.0.1",
            "postgres://postgres@127.0.0.1:5432/x/../test",
            "postgres://postgres@127.0.0.1:5432/./test",
            "postgres://postgres@127.0.0.1:5432//test",
            "postgres://postgres@127.0.0.1:5432/x/%2e%2E/test",
            "postgres://postgres@127.0.0.1:5432/%2e%2e",
            "mysql://root@127.0.0.1:3306/x/../test",
            "mysql://root@h:3306/x?timezone=UTC x",
        ] {
            let driver = if bad.starts_with("mysql") { "mysql" } else { "postgres" };
            let db = DbConfig::new(driver, bad);
            assert!(namespace_key(&db).is_err(), "{bad:?} accepted");
        }
        for good in [
            "timezone=%2B00%3A00",
            "timezone=UTC&charset=UTF8MB4",
            "time-zone=Europe/Madrid",
            "collation=utf8mb4_unicode_ci&ssl-mode=required",
            "statement-cache-capacity=100",
            "",
        ] {
            assert!(refuse_unsafe_mysql_params("dsn", good).is_ok(), "{good} refused");
        }
    }

    fn key(driver: &str, dsn: &str, schema: Option<&str>) -> NamespaceKey {
        let mut db = DbConfig::new(driver, dsn);
        db.schema = schema.map(str::to_string);
        namespace_key(&db).expect("key").expect("known driver")
    }

    #[test]
    fn keys_fold_loopback_and_default_ports() {
        assert_eq!(
            key("postgres", "postgres://u:p@127.0.0.1/test", Some("hj_a")),
            key("postgresql", "postgresql://other@localhost:5432/test?sslmode=disable", Some("HJ_A"))
        );
        assert_eq!(
            key("mysql", "mysql://root@127.0.0.1:3306/hj_a", None).server,
            key("mariadb", "mariadb://x:y@[::1]/hj_b", None).server
        );
        let k = key("mongodb", "mongodb://h2:1,h1:1/hj_a?replicaSet=x", None);
        assert_eq!(k, NamespaceKey { server: "mongodb://h1:1,h2:1".into(), namespace: "hj_a".into() });
        let s = key("sqlite", "sqlite:///tmp/x/./y/../a.db?mode=rwc", None);
        assert_eq!(s, NamespaceKey { server: "sqlite:/tmp/x".into(), namespace: "a.db".into() });
    }

    #[test]
    fn search_path_in_options_is_refused() {
        let db = DbConfig::new("postgres", "postgres://h/db?options=-c%20search_path%3Dhj_victim");
        assert!(matches!(namespace_key(&db), Err(StoreError::InvalidInput { .. })));
    }

    #[test]
    fn query_parameters_that_choose_the_target_are_refused() {
        let refused = [
            ("postgres", "postgres://elsewhere.invalid/db?host=127.0.0.1", "host"),
            ("postgres", "postgres://h/db?hostaddr=127.0.0.1", "hostaddr"),
            ("postgres", "postgres://127.0.0.1:1/db?port=5432", "port"),
            ("postgres", "postgres://h/other?dbname=victim", "dbname"),
            ("postgres", "postgres://h/db?USER=victim", "user"),
            ("postgres", "postgres://h/db?service=victim", "service"),
            ("postgres", "postgres://h/db?options[search_path]=hj_victim", "options"),
            ("postgres", "postgres://h/db?%6Fptions=-csearch_path%3Dhj_victim", "options"),
            (
                "postgres",
                "postgres://h/db?options=-cstatement_timeout%3D0&options=-csearch_path%3Dx",
                "options",
            ),
            ("postgres", "postgres://h/db?options=-csearch-path%3Dhj_victim", "options"),
            ("postgres", "postgres://h/db?sslmode=disable&%68ost=127.0.0.1", "host"),
            ("mysql", "mysql://root@elsewhere.invalid/hj_a?socket=/run/mysqld/mysqld.sock", "socket"),
            ("mariadb", "mysql://root@h/hj_a?SoCkEt%5Bx%5D=/tmp/s", "socket"),
        ];
        for (driver, dsn, param) in refused {
            let db = DbConfig::new(driver, format!("{dsn}&password=SECRET"));
            match namespace_key(&db) {
                Err(StoreError::InvalidInput { field, message }) => {
                    assert_eq!(field, "dsn", "{dsn}");
                    assert!(message.contains(&format!("`{param}`")), "{dsn}: {message}");
                    assert!(!message.contains("SECRET"), "{dsn}: {message}");
                }
                other => panic!("{dsn}: {other:?}"),
            }
        }
        // Other parameters stay allowed.
        key("postgres", "postgres://h/db?sslmode=disable&application_name=x", None);
        key("mysql", "mysql://root@h/hj_a?ssl-mode=disabled", None);
    }

    #[test]
    fn a_template_with_a_dbname_parameter_is_refused() {
        let db = DbConfig::new("postgres", "postgres://h/hj_{tenant}?dbname=shared");
        assert!(matches!(check_default_template(&db), Err(StoreError::InvalidInput { .. })));
    }

    #[test]
    fn any_address_hosts_fold_with_loopback() {
        let local = key("postgres", "postgres://127.0.0.1/test", Some("hj_a"));
        assert_eq!(key("postgres", "postgres://0.0.0.0:5432/test", Some("hj_a")), local);
        assert_eq!(key("postgres", "postgres://[::]/test", Some("hj_a")), local);
        let mongo = key("mongodb", "mongodb://127.0.0.1/hj_a", None);
        assert_eq!(key("mongodb", "mongodb://0.0.0.0:27017/hj_a", None), mongo);
    }

    #[test]
    fn sqlite_relative_and_absolute_paths_of_one_file_are_one_key() {
        let cwd = std::env::current_dir().expect("cwd");
        let abs = cwd.join("x").join("victim.db");
        let absolute = key("sqlite", &format!("sqlite://{}", abs.display()), None);
        assert_eq!(key("sqlite", "sqlite://x/victim.db", None), absolute);
        assert_eq!(key("sqlite", "sqlite:./x/../x/victim.db?mode=rwc", None), absolute);
        let ups = "../".repeat(cwd.components().count());
        let tmp = key("sqlite", &format!("sqlite://{ups}tmp/x/victim.db"), None);
        assert_eq!(tmp, key("sqlite", "sqlite:///tmp/x/victim.db", None));
    }

    #[test]
    fn reserved_namespaces() {
        for name in ["public", "MySQL", "information_schema", "performance_schema", "sys", "admin", "local"] {
            assert!(is_reserved_namespace(name), "{name}");
        }
        assert!(is_reserved_namespace("config") && is_reserved_namespace("pg_catalog"));
        assert!(!is_reserved_namespace("acme") && !is_reserved_namespace("tpg_x"));
    }

    #[test]
    fn templates_must_choose_the_namespace() {
        let ok = [
            DbConfig::new("postgres", "postgres://h/test").with_schema("hj_{tenant}"),
            DbConfig::new("postgres", "postgres://h/hj_{tenant}"),
            DbConfig::new("mysql", "mysql://root@h/hj_{tenant}?ssl-mode=disabled"),
            DbConfig::new("mongodb", "mongodb://h/hj_{tenant}?directConnection=true"),
            DbConfig::new("sqlite", "sqlite:///tmp/d/{tenant}.db?mode=rwc"),
        ];
        for db in ok {
            check_default_template(&db).unwrap_or_else(|e| panic!("{db:?}: {e}"));
        }
        let refused = [
            DbConfig::new("postgres", "postgres://h/test?application_name={tenant}"),
            DbConfig::new("postgres", "postgres://{tenant}@h/test"),
            DbConfig::new("postgres", "postgres://h/test"),
            DbConfig::new("mysql", "mysql://root@h/test").with_schema("hj_{tenant}"),
            DbConfig::new("mysql", "mysql://root@{tenant}.h/test"),
            DbConfig::new("mongodb", "mongodb://h/hj?appName={tenant}"),
            DbConfig::new("sqlite", "sqlite:///tmp/{tenant}/x.db?mode=rwc"),
            DbConfig::new("sqlite", "sqlite::memory:?x={tenant}"),
            DbConfig::new("postgres", "postgres://h/test")
                .with_schema(format!("{}{{tenant}}", "x".repeat(24))),
        ];
        for db in refused {
            assert!(
                matches!(check_default_template(&db), Err(StoreError::InvalidInput { .. })),
                "{db:?} was accepted"
            );
        }
    }

    #[test]
    fn substitution_is_plain_replacement() {
        let pg = DbConfig::new("postgres", "postgres://h/test").with_schema("hj_{tenant}");
        assert_eq!(substitute(&pg, "acme_eu").schema.as_deref(), Some("hj_acme_eu"));
        let long = "x".repeat(NAMESPACE_MAX_LEN);
        assert_eq!(substitute(&pg, &long).schema.map(|s| s.len()), Some(3 + NAMESPACE_MAX_LEN));
    }

    #[test]
    fn ports_sockets_host_lists_and_default_databases_resolve_as_the_drivers_do() {
        let pg = |dsn: &str| key("postgres", dsn, Some("hj_v"));
        let base = pg("postgres://postgres@127.0.0.1:5432/test");
        assert_eq!(pg("postgres://postgres@127.0.0.1:05432/test"), base, "leading zeros");
        assert_eq!(pg("postgres://postgres@%2Fvar%2Frun%2Fpostgresql/test"), base, "encoded socket");
        let named = pg("postgres://postgres@127.0.0.1:5432/postgres");
        assert_eq!(pg("postgres://postgres@127.0.0.1:5432"), named, "no database: the user's");
        assert!(namespace_key(&DbConfig::new("postgres", "postgres://127.0.0.1:5432")).is_err());
        let mongo = key("mongodb", "mongodb://127.0.0.1:27017/hj_v", None);
        let listed = key("mongodb", "mongodb://127.0.0.1:027017,127.0.0.1:1/hj_v", None);
        assert!(same_server(&mongo.server, &listed.server), "a host list shares a host");
        assert!(!same_server(&mongo.server, &key("mongodb", "mongodb://10.9.9.9:27017/hj_v", None).server));
    }
}
