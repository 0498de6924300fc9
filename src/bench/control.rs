//! The control plane at scale: a tree of N tenants (10,000 in a full run), each with a
//! `tenant.yaml`, a `clients.yaml` (two clients) and a `scopes.yaml` (five scopes), written
//! straight in the FS format (generation is timed apart). Then, timed:
//! - `tenants().list()` — every `tenant.yaml` read, parsed and schema-validated;
//! - a full load — the tenant list plus every tenant's clients and scopes, on a fresh
//!   control plane (its cache of validated documents empty, as in a process that starts);
//!   the same with that cache turned off (what every read cost before it existed); and the
//!   same again on the warm control plane (files unchanged);
//! - `validate_tree` — what `hellojohn-store validate` runs.
//!
//! The baseline of each is the I/O and YAML floor: the same files read and parsed into a
//! `serde_json::Value` by `serde_yaml`, with no schema and no rules.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{BenchOptions, Check, Row, Unit, nanos, progress};
use crate::adapters::fs::FsControlPlane;
use crate::adapters::fs::tree::validate_tree;
use crate::error::{StoreError, StoreResult};

fn io(e: std::io::Error) -> StoreError {
    StoreError::invalid("fs_root", e.to_string())
}

const STAMP: &str = "2026-11-27T21:19:04.380570Z";

/// Writes `n` tenants (`bench-00000` …) under `root/tenants`.
///
/// Errors: I/O.
pub fn generate(root: &Path, n: usize) -> StoreResult<()> {
    let tenants = root.join("tenants");
    std::fs::create_dir_all(&tenants).map_err(io)?;
    for i in 0..n {
        let slug = format!("bench-{i:05}");
        let dir = tenants.join(&slug);
        std::fs::create_dir_all(&dir).map_err(io)?;
        let id = |k: u32| {
            uuid::Uuid::from_u64_pair(0x0193_0000_0000_7000 | u64::from(k), i as u64 | 0x8000_0000_0000_0000)
        };
        let tenant = format!(
            "id: {}\nslug: {slug}\nname: Tenant {i}\nlanguage: en\nsettings:\n  brand_color: '#2e7d32'\n  mfa_enabled: false\n  social_login_enabled: false\n  session_lifetime_secs: 86400\n  refresh_token_lifetime_secs: 2592000\n  access_token_lifetime_secs: 900\ncreated_at: {STAMP}\nupdated_at: {STAMP}\n",
            id(0)
        );
        let clients = format!(
            "clients:\n\
             - id: {}\n  client_id: {slug}-web\n  name: Web app\n  type: public\n  redirect_uris:\n  - https://{slug}.example/callback\n  providers:\n  - password\n  scopes:\n  - openid\n  - email\n  - profile\n  grant_types:\n  - authorization_code\n  - refresh_token\n  require_email_verification: true\n  created_at: {STAMP}\n  updated_at: {STAMP}\n\
             - id: {}\n  client_id: {slug}-api\n  name: API\n  type: public\n  redirect_uris:\n  - https://api.{slug}.example/callback\n  scopes:\n  - openid\n  - orders:write\n  grant_types:\n  - authorization_code\n  require_email_verification: false\n  created_at: {STAMP}\n  updated_at: {STAMP}\n",
            id(1),
            id(2)
        );
        let scope = |k: u32, name: &str, system: bool, claims: &str| {
            format!(
                "- id: {}\n  name: {name}\n  description: {name} scope\n{claims}  system: {system}\n  created_at: {STAMP}\n  updated_at: {STAMP}\n",
                id(k)
            )
        };
        let scopes = format!(
            "scopes:\n{}{}{}{}{}",
            scope(3, "email", true, "  claims:\n  - email\n  - email_verified\n"),
            scope(4, "offline_access", true, ""),
            scope(5, "openid", true, "  claims:\n  - sub\n"),
            scope(6, "orders:write", false, ""),
            scope(7, "profile", true, "  claims:\n  - name\n  - picture\n"),
        );
        std::fs::write(dir.join("tenant.yaml"), tenant).map_err(io)?;
        std::fs::write(dir.join("clients.yaml"), clients).map_err(io)?;
        std::fs::write(dir.join("scopes.yaml"), scopes).map_err(io)?;
    }
    Ok(())
}

/// The files of the tree, in order.
fn files(root: &Path, names: &[&str]) -> StoreResult<Vec<PathBuf>> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root.join("tenants"))
        .map_err(io)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    dirs.sort();
    Ok(dirs.iter().flat_map(|d| names.iter().map(move |n| d.join(n))).collect())
}

/// The baseline: read and parse `paths` as YAML into JSON values.
///
/// Errors: I/O or YAML.
pub fn read_and_parse(paths: &[PathBuf]) -> StoreResult<usize> {
    let mut n = 0;
    for p in paths {
        let text = std::fs::read_to_string(p).map_err(io)?;
        let v: serde_json::Value =
            serde_yaml::from_str(&text).map_err(|e| StoreError::invalid("yaml", e.to_string()))?;
        n += usize::from(!v.is_null());
    }
    Ok(n)
}

/// Loads the whole tree through the FS control plane: tenants, then each one's clients
/// and scopes. Returns the number of tenants.
///
/// Errors: those of the control plane.
pub async fn load_all(cp: &FsControlPlane) -> StoreResult<usize> {
    let tenants = cp.tenants().list().await?;
    for t in &tenants {
        std::hint::black_box(cp.clients(&t.slug)?.list("").await?);
        std::hint::black_box(cp.scopes(&t.slug)?.list().await?);
    }
    Ok(tenants.len())
}

/// The control-plane rows.
///
/// Errors: generating the tree; a load or validation that fails or finds problems.
pub async fn run(opts: &BenchOptions) -> StoreResult<Vec<Row>> {
    let n = if opts.quick { 300 } else { 10_000 };
    let dir = tempfile::tempdir().map_err(io)?;
    let root = dir.path();
    let start = Instant::now();
    generate(root, n)?;
    let generation = nanos(start.elapsed());
    progress(format!("control plane: {n} tenants generated"));
    let tenant_files = files(root, &["tenant.yaml"])?;
    let all_files = files(root, &["tenant.yaml", "clients.yaml", "scopes.yaml"])?;
    // Warm the page cache once, so that every figure below reads from memory alike.
    read_and_parse(&all_files)?;

    let cp = FsControlPlane::new(root, None);
    let start = Instant::now();
    let listed = cp.tenants().list().await?.len();
    let list = nanos(start.elapsed());
    let start = Instant::now();
    read_and_parse(&tenant_files)?;
    let list_base = nanos(start.elapsed());
    if listed != n {
        return Err(StoreError::invalid("fs_root", format!("listed {listed} tenants of {n}")));
    }

    let timed_load = |cp: FsControlPlane| async move {
        let start = Instant::now();
        load_all(&cp).await?;
        Ok::<_, StoreError>((nanos(start.elapsed()), cp))
    };
    let (rss_before, _) = super::resident_memory();
    let (load, warm) = timed_load(FsControlPlane::new(root, None)).await?;
    let start = Instant::now();
    read_and_parse(&all_files)?;
    let load_base = nanos(start.elapsed());
    let (load_uncached, _) = timed_load(FsControlPlane::with_document_cache(root, None, 0)).await?;
    let (load_again, warm) = timed_load(warm).await?;
    let (documents, cache_bytes) = warm.document_cache_usage();
    let rss_growth = super::resident_memory().0.saturating_sub(rss_before);

    let start = Instant::now();
    let problems = validate_tree(root)?;
    let validate = nanos(start.elapsed());
    if let Some(p) = problems.first() {
        return Err(StoreError::invalid("fs_root", format!("{} problem(s), first: {p}", problems.len())));
    }
    let start = Instant::now();
    read_and_parse(&all_files)?;
    let validate_base = nanos(start.elapsed());

    let label = |what: &str| format!("control {what} ({n} tenants)");
    Ok(vec![
        Row::new(label("generate tree"), "fs", Unit::Nanos, generation)
            .note("files written directly, not timed against a budget"),
        Row::new(label("tenants.list"), "fs", Unit::Nanos, list)
            .baseline(list_base)
            .check(Check::AtMost(2e9), "≤2 s")
            .note("baseline: read + serde_yaml parse of the same files"),
        Row::new(label("load all (tenants+clients+scopes)"), "fs", Unit::Nanos, load)
            .baseline(load_base)
            .check(Check::AtMost(2e9), "≤2 s")
            .note("fresh control plane; baseline: read + serde_yaml parse of the same files"),
        Row::new(label("load all, document cache off"), "fs", Unit::Nanos, load_uncached)
            .baseline(load_base)
            .note("every read parses and checks again (the cost before the cache)"),
        Row::new(label("load all again, files unchanged"), "fs", Unit::Nanos, load_again)
            .baseline(load_base)
            .note("warm control plane: files read, parse and checks skipped"),
        Row::new(label("document cache after the loads"), "fs", Unit::Bytes, cache_bytes as f64).note(
            format!(
                "{documents} documents (estimated text + JSON; bound {} MiB); VmRSS grew {:.1} MiB over the loads",
                crate::adapters::fs::DEFAULT_DOCUMENT_CACHE_BYTES / (1024 * 1024),
                rss_growth as f64 / (1024.0 * 1024.0)
            ),
        ),
        Row::new(label("validate_tree"), "fs", Unit::Nanos, validate)
            .baseline(validate_base)
            .check(Check::AtMost(5e9), "≤5 s")
            .note("baseline: read + serde_yaml parse of the same files"),
    ])
}
