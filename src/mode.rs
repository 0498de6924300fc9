//! The four operational modes, the configuration they are detected from, and what each mode
//! can do. Pure functions: nothing here opens a file or a connection.

use std::fmt;
use std::str::FromStr;

use crate::error::StoreError;

/// How the store is deployed: which of FS, global DB and tenant DB are present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OperationalMode {
    /// Control plane in YAML files only; no data plane unless a tenant names its own database.
    FsOnly,
    /// YAML files plus a global database shared by replicas for the control plane.
    FsGlobalDb,
    /// YAML control plane plus a default database (template) for every tenant's data plane.
    FsTenantDb,
    /// Global database and tenant databases.
    FullDb,
}

impl OperationalMode {
    /// All four modes, in order.
    pub const ALL: [OperationalMode; 4] = [
        OperationalMode::FsOnly,
        OperationalMode::FsGlobalDb,
        OperationalMode::FsTenantDb,
        OperationalMode::FullDb,
    ];

    /// The canonical name (`fs_only`, `fs_global_db`, `fs_tenant_db`, `full_db`).
    pub fn as_str(self) -> &'static str {
        match self {
            OperationalMode::FsOnly => "fs_only",
            OperationalMode::FsGlobalDb => "fs_global_db",
            OperationalMode::FsTenantDb => "fs_tenant_db",
            OperationalMode::FullDb => "full_db",
        }
    }
}

impl fmt::Display for OperationalMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OperationalMode {
    type Err = StoreError;

    /// Accepts the canonical names and their `-` spellings (`fs-only`), case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = s.trim().to_ascii_lowercase().replace('-', "_");
        OperationalMode::ALL.into_iter().find(|m| m.as_str() == norm).ok_or_else(|| {
            StoreError::invalid(
                "mode",
                format!("unknown mode {s:?}; expected one of fs_only, fs_global_db, fs_tenant_db, full_db"),
            )
        })
    }
}

/// Where a database is and how to reach it.
///
/// `Debug` never prints the password of the DSN.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct DbConfig {
    /// Driver name as known by the [`Registry`](crate::registry::Registry): `postgres`,
    /// `mysql`, `sqlite`, `mongo`, …
    pub driver: String,
    /// Connection string. For the default tenant DB it is a template containing `{tenant}`
    /// (in the DSN or in `schema`).
    pub dsn: String,
    /// PostgreSQL schema (may contain `{tenant}`).
    pub schema: Option<String>,
}

/// `url` with its database (the path after the authority) replaced by `database`, keeping
/// its query (`?directConnection=true`, …): the DSN of one namespace on a shared server.
pub fn with_database(url: &str, database: &str) -> String {
    let (head, query) = match url.find(['?', '#']) {
        Some(i) => url.split_at(i),
        None => (url, ""),
    };
    let authority_start = head.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match head[authority_start..].find('/') {
        Some(i) => &head[..authority_start + i],
        None => head,
    };
    format!("{base}/{database}{query}")
}

impl DbConfig {
    /// A config with a driver and a DSN, no schema.
    pub fn new(driver: impl Into<String>, dsn: impl Into<String>) -> Self {
        DbConfig { driver: driver.into(), dsn: dsn.into(), schema: None }
    }

    /// Sets the PostgreSQL schema.
    pub fn with_schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// A config counts only when both driver and DSN are non-blank.
    pub fn is_valid(&self) -> bool {
        !self.driver.trim().is_empty() && !self.dsn.trim().is_empty()
    }

    /// The DSN with its password replaced by `***`, safe to log.
    pub fn redacted_dsn(&self) -> String {
        redact_dsn(&self.dsn)
    }
}

impl fmt::Debug for DbConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DbConfig")
            .field("driver", &self.driver)
            .field("dsn", &self.redacted_dsn())
            .field("schema", &self.schema)
            .finish()
    }
}

/// Replaces every password of a DSN with `***`: the password of a URL-style DSN
/// (`scheme://user:password@host/…`) and the value of every `password=` / `pass=` / `pwd=` /
/// `passwd=` / `sslpassword=` / `authMechanismProperties=` parameter (in a query string or a
/// libpq keyword DSN, quoted or not; the name matched case-insensitively and percent-decoded,
/// so `%70assword=` counts).
///
/// The userinfo is everything between `://` and the **last** `@` of the DSN, so a raw
/// password holding `#`, `/`, `?`, `@` or `%` is redacted whole (a URL parser would take
/// `postgres://u:p#ss@db/x` as host `u`, port `p` and fragment `ss@db/x`). A DSN that is
/// not a URL is treated as keyword parameters only.
pub fn redact_dsn(dsn: &str) -> String {
    let mut out = String::with_capacity(dsn.len());
    let mut at = 0;
    for span in secret_spans(dsn) {
        out.push_str(&dsn[at..span.start]);
        out.push_str("***");
        at = span.end;
    }
    out.push_str(&dsn[at..]);
    out
}

/// `message` with the secrets of `dsn` removed: the whole DSN is replaced by its redacted
/// form, and each password (as written and percent-decoded) by `***`. For driver error
/// messages, which may quote the DSN or a part of it.
pub fn scrub_dsn(message: &str, dsn: &str) -> String {
    let dsn = dsn.trim();
    let mut out = message.to_string();
    if !dsn.is_empty() {
        out = out.replace(dsn, &redact_dsn(dsn));
    }
    for span in secret_spans(dsn) {
        let raw = &dsn[span];
        let decode = |text: &str| {
            url::form_urlencoded::parse(format!("x={text}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        // Form decoding (`+` is a space) and plain percent decoding (`+` stays); a quoted
        // keyword value without its quotes and escapes.
        let (form, percent) = (decode(raw), decode(&raw.replace('+', "%2B")));
        let unquoted = raw.strip_prefix('\'').map(|v| v.strip_suffix('\'').unwrap_or(v).replace("\\'", "'"));
        let mut secrets = vec![raw.to_string(), form, percent];
        secrets.extend(unquoted);
        // Drivers quote parts of a DSN they misread (a database name `b@host/db` of the
        // password `a/b`): every piece of four or more characters between non-alphanumeric
        // characters goes too.
        let pieces: Vec<String> = secrets
            .iter()
            .flat_map(|s| s.split(|c: char| !c.is_alphanumeric()))
            .filter(|p| p.chars().count() >= 4)
            .map(str::to_string)
            .collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        for secret in secrets.into_iter().chain(pieces) {
            if !secret.is_empty() {
                out = out.replace(&secret, "***");
            }
        }
    }
    out
}

/// The byte ranges of the passwords in `dsn`, in order, not overlapping.
fn secret_spans(dsn: &str) -> Vec<std::ops::Range<usize>> {
    let mut spans = Vec::new();
    if let Some(scheme_end) = dsn.find("://") {
        let rest = scheme_end + 3;
        if let Some(at) = dsn[rest..].rfind('@').map(|i| rest + i) {
            let userinfo = &dsn[rest..at];
            if let Some(colon) = userinfo.find(':') {
                spans.push(rest + colon + 1..at);
            }
        }
    }
    let is_url = dsn.contains("://");
    let lower = dsn.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut i = 0;
    while i < lower.len() {
        let boundary = i == 0 || matches!(bytes[i - 1], b'?' | b'&' | b' ' | b';' | b'\t' | b'\n');
        let start = if boundary { secret_key_end(&lower[i..]).map(|n| i + n) } else { None };
        let Some(start) = start else {
            i += lower[i..].chars().next().map_or(1, char::len_utf8);
            continue;
        };
        let end = value_end(dsn, start, is_url);
        if end > start {
            spans.push(start..end);
        }
        i = end.max(start);
    }
    // A `password=` inside what the last-`@` rule took for the userinfo (`…?password=a@b`):
    // merge overlapping spans, so the redaction covers both.
    spans.sort_by_key(|s| s.start);
    let mut merged: Vec<std::ops::Range<usize>> = Vec::with_capacity(spans.len());
    for span in spans {
        match merged.last_mut() {
            Some(last) if span.start <= last.end => last.end = last.end.max(span.end),
            _ => merged.push(span),
        }
    }
    merged
}

/// Names of the parameters whose value is a secret (compared lower-cased and
/// percent-decoded). MongoDB's `authMechanismProperties` may carry an
/// `AWS_SESSION_TOKEN:…`.
const SECRET_KEYS: &[&str] = &["password", "sslpassword", "passwd", "pass", "pwd", "authmechanismproperties"];

/// When `s` (lower-cased) starts with `key=` for a key of [`SECRET_KEYS`], written plainly
/// or percent-encoded (`%70assword=`), the length of `key=` as written.
fn secret_key_end(s: &str) -> Option<usize> {
    let eq = s.find('=')?;
    let raw = &s[..eq];
    if raw.is_empty() || raw.len() > 3 * 32 || raw.contains(['&', ';', '?', ' ', '\t', '\n']) {
        return None;
    }
    let decoded = url::form_urlencoded::parse(format!("{raw}=").as_bytes()).next()?.0.to_ascii_lowercase();
    SECRET_KEYS.contains(&decoded.trim()).then_some(eq + 1)
}

/// Where the parameter value starting at `start` ends: after its closing quote when quoted
/// (`'…'` with `\'` escapes, libpq style); else at the next separator that is followed by
/// another `key=` (`&` in a URL, whitespace in a keyword DSN), or at the end — a separator
/// inside a password does not end it early.
fn value_end(dsn: &str, start: usize, is_url: bool) -> usize {
    let bytes = dsn.as_bytes();
    if !is_url && bytes.get(start) == Some(&b'\'') {
        let mut j = start + 1;
        while j < bytes.len() {
            match bytes[j] {
                b'\\' => j += 2,
                b'\'' => return j + 1,
                _ => j += 1,
            }
        }
        return bytes.len();
    }
    let is_sep = |b: u8| if is_url { b == b'&' || b == b';' } else { b.is_ascii_whitespace() };
    let mut j = start;
    while j < bytes.len() {
        if is_sep(bytes[j]) && starts_parameter(&dsn[j + 1..]) {
            return j;
        }
        j += 1;
    }
    bytes.len()
}

/// Whether `s` starts with `key=` (a parameter name: letters, digits, `_`, `-`, `.`).
fn starts_parameter(s: &str) -> bool {
    let s = s.trim_start();
    let name_len =
        s.bytes().take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')).count();
    name_len > 0 && s.as_bytes().get(name_len) == Some(&b'=')
}

/// What the mode is detected from: the FS root and the optional databases.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModeConfig {
    /// Root folder of the control-plane YAML tree.
    pub fs_root: std::path::PathBuf,
    /// Global database (control plane shared by replicas).
    pub global_db: Option<DbConfig>,
    /// Default database for tenants' data planes (a `{tenant}` template).
    pub default_tenant_db: Option<DbConfig>,
}

impl ModeConfig {
    /// Reads `HJ_FS_ROOT`, `HJ_GLOBAL_DB_DRIVER`/`HJ_GLOBAL_DB_DSN`/`HJ_GLOBAL_DB_SCHEMA` and
    /// `HJ_TENANT_DB_DRIVER`/`HJ_TENANT_DB_DSN`/`HJ_TENANT_DB_SCHEMA` through `get`.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let db = |prefix: &str| {
            let driver = get(&format!("{prefix}_DRIVER")).unwrap_or_default();
            let dsn = get(&format!("{prefix}_DSN")).unwrap_or_default();
            let schema = get(&format!("{prefix}_SCHEMA")).filter(|s| !s.trim().is_empty());
            let cfg = DbConfig { driver, dsn, schema };
            cfg.is_valid().then_some(cfg)
        };
        ModeConfig {
            fs_root: get("HJ_FS_ROOT")
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| "./data".into())
                .into(),
            global_db: db("HJ_GLOBAL_DB"),
            default_tenant_db: db("HJ_TENANT_DB"),
        }
    }

    /// [`ModeConfig::from_lookup`] over the process environment.
    pub fn from_env() -> Self {
        Self::from_lookup(|k| std::env::var(k).ok())
    }
}

/// Detects the mode: global and tenant DB → `full_db`; only the tenant DB → `fs_tenant_db`;
/// only the global DB → `fs_global_db`; neither → `fs_only`. A DB config with a blank driver
/// or DSN counts as absent.
pub fn detect_mode(cfg: &ModeConfig) -> OperationalMode {
    let global = cfg.global_db.as_ref().is_some_and(DbConfig::is_valid);
    let tenant = cfg.default_tenant_db.as_ref().is_some_and(DbConfig::is_valid);
    match (global, tenant) {
        (true, true) => OperationalMode::FullDb,
        (false, true) => OperationalMode::FsTenantDb,
        (true, false) => OperationalMode::FsGlobalDb,
        (false, false) => OperationalMode::FsOnly,
    }
}

/// What a mode makes available. Data-plane flags describe the default tenant DB; a tenant
/// whose own settings name a database has a data plane in every mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// Tenants (control plane).
    pub tenants: bool,
    /// OAuth clients (control plane).
    pub clients: bool,
    /// Scopes (control plane).
    pub scopes: bool,
    /// Admins (control plane).
    pub admins: bool,
    /// Branding in tenant settings (control plane).
    pub branding: bool,
    /// Users and identities (data plane).
    pub users: bool,
    /// Refresh tokens (data plane).
    pub tokens: bool,
    /// MFA (data plane).
    pub mfa: bool,
    /// Consents (data plane).
    pub consents: bool,
    /// Roles and permissions (data plane).
    pub rbac: bool,
    /// Login sessions (data plane).
    pub sessions: bool,
    /// Control plane shared through a global database.
    pub global_sync: bool,
    /// Per-tenant cache.
    pub cache: bool,
}

impl Capabilities {
    /// The capabilities of `mode`.
    pub fn of(mode: OperationalMode) -> Self {
        let tenant_db = matches!(mode, OperationalMode::FsTenantDb | OperationalMode::FullDb);
        let global_db = matches!(mode, OperationalMode::FsGlobalDb | OperationalMode::FullDb);
        Capabilities {
            tenants: true,
            clients: true,
            scopes: true,
            admins: true,
            branding: true,
            users: tenant_db,
            tokens: tenant_db,
            mfa: tenant_db,
            consents: tenant_db,
            rbac: tenant_db,
            sessions: tenant_db,
            global_sync: global_db,
            cache: true,
        }
    }

    /// Every capability as `(name, available)`, in a fixed order (for tables and tests).
    pub fn table(&self) -> [(&'static str, bool); 13] {
        [
            ("tenants", self.tenants),
            ("clients", self.clients),
            ("scopes", self.scopes),
            ("admins", self.admins),
            ("branding", self.branding),
            ("users", self.users),
            ("tokens", self.tokens),
            ("mfa", self.mfa),
            ("consents", self.consents),
            ("rbac", self.rbac),
            ("sessions", self.sessions),
            ("global_sync", self.global_sync),
            ("cache", self.cache),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_and_aws_secret_parameters_are_redacted() {
        for dsn in [
            "postgres://u@h/db?%70assword=SECRET",
            "postgres://u@h/db?sslmode=disable&PASS%57ORD=SECRET",
            "mongodb://h/db?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:SECRET",
        ] {
            let redacted = redact_dsn(dsn);
            assert!(!redacted.contains("SECRET") && redacted.contains("***"), "{dsn}: {redacted}");
            let scrubbed = scrub_dsn(&format!("error connecting to {dsn}: bad token SECRET"), dsn);
            assert!(!scrubbed.contains("SECRET"), "{dsn}: {scrubbed}");
        }
        assert_eq!(redact_dsn("postgres://u@h/db?sslmode=disable"), "postgres://u@h/db?sslmode=disable");
    }
}
