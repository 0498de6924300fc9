use std::io::Write;
use std::process::ExitCode;

use super::args::StoreArgs;
use crate::mode::{Capabilities, DbConfig, detect_mode};

pub(crate) fn run(args: &StoreArgs) -> ExitCode {
    let cfg = args.mode_config();
    let mode = detect_mode(&cfg);
    let mut out = std::io::stdout().lock();
    let describe = |db: &Option<DbConfig>| match db {
        Some(db) => format!(
            "{} {}{}",
            db.driver,
            db.redacted_dsn(),
            db.schema.as_deref().map(|s| format!(" (schema {s})")).unwrap_or_default()
        ),
        None => "-".to_string(),
    };
    let _ = writeln!(out, "mode:       {mode}");
    let _ = writeln!(out, "fs root:    {}", cfg.fs_root.display());
    let _ = writeln!(out, "global db:  {}", describe(&cfg.global_db));
    let _ = writeln!(out, "tenant db:  {}", describe(&cfg.default_tenant_db));
    let _ = writeln!(out);
    let _ = writeln!(out, "{:<12} available", "capability");
    for (name, available) in Capabilities::of(mode).table() {
        let _ = writeln!(out, "{:<12} {}", name, if available { "yes" } else { "no" });
    }
    ExitCode::SUCCESS
}
