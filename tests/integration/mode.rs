//! Operational modes: detection table, capabilities, parse/display, DSN redaction.

use hellojohn_store::mode::redact_dsn;
use hellojohn_store::{Capabilities, DbConfig, ModeConfig, OperationalMode, detect_mode};

fn cfg(global: Option<(&str, &str)>, tenant: Option<(&str, &str)>) -> ModeConfig {
    ModeConfig {
        fs_root: "./data".into(),
        global_db: global.map(|(d, s)| DbConfig::new(d, s)),
        default_tenant_db: tenant.map(|(d, s)| DbConfig::new(d, s)),
    }
}

const PG: (&str, &str) = ("postgres", "postgres://u@h/db");
const PG_TENANT: (&str, &str) = ("postgres", "postgres://u@h/{tenant}");

#[test]
fn detection_table_covers_all_four_combinations() {
    assert_eq!(detect_mode(&cfg(None, None)), OperationalMode::FsOnly);
    assert_eq!(detect_mode(&cfg(Some(PG), None)), OperationalMode::FsGlobalDb);
    assert_eq!(detect_mode(&cfg(None, Some(PG_TENANT))), OperationalMode::FsTenantDb);
    assert_eq!(detect_mode(&cfg(Some(PG), Some(PG_TENANT))), OperationalMode::FullDb);
}

#[test]
fn blank_driver_or_dsn_counts_as_absent() {
    for blank in [("", "postgres://u@h/db"), ("postgres", ""), ("  ", "x"), ("postgres", "   ")] {
        assert_eq!(detect_mode(&cfg(Some(blank), None)), OperationalMode::FsOnly, "{blank:?}");
        assert_eq!(detect_mode(&cfg(None, Some(blank))), OperationalMode::FsOnly, "{blank:?}");
        assert_eq!(detect_mode(&cfg(Some(blank), Some(PG_TENANT))), OperationalMode::FsTenantDb, "{blank:?}");
        assert_eq!(detect_mode(&cfg(Some(PG), Some(blank))), OperationalMode::FsGlobalDb, "{blank:?}");
    }
}

#[test]
fn environment_lookup_detects_the_mode_and_ignores_blank_values() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |k: &str| pairs.iter().find(|(name, _)| *name == k).map(|(_, v)| v.to_string())
    };
    let only_tenant = ModeConfig::from_lookup(env(&[
        ("HJ_FS_ROOT", "/srv/hj"),
        ("HJ_TENANT_DB_DRIVER", "sqlite"),
        ("HJ_TENANT_DB_DSN", "sqlite://./data/{tenant}.db"),
        ("HJ_GLOBAL_DB_DRIVER", "postgres"),
        ("HJ_GLOBAL_DB_DSN", " "),
    ]));
    assert_eq!(only_tenant.fs_root, std::path::PathBuf::from("/srv/hj"));
    assert!(only_tenant.global_db.is_none());
    assert_eq!(detect_mode(&only_tenant), OperationalMode::FsTenantDb);
    let empty = ModeConfig::from_lookup(env(&[]));
    assert_eq!(empty.fs_root, std::path::PathBuf::from("./data"));
    assert_eq!(detect_mode(&empty), OperationalMode::FsOnly);
}

#[test]
fn every_capability_of_every_mode() {
    // (mode, data plane from the default tenant DB, global sync)
    let expected = [
        (OperationalMode::FsOnly, false, false),
        (OperationalMode::FsGlobalDb, false, true),
        (OperationalMode::FsTenantDb, true, false),
        (OperationalMode::FullDb, true, true),
    ];
    for (mode, data, sync) in expected {
        let caps = Capabilities::of(mode);
        for (name, available) in caps.table() {
            let want = match name {
                "tenants" | "clients" | "scopes" | "admins" | "branding" | "cache" => true,
                "users" | "tokens" | "mfa" | "consents" | "rbac" | "sessions" => data,
                "global_sync" => sync,
                other => panic!("capability {other} has no expectation"),
            };
            assert_eq!(available, want, "{mode}: {name}");
        }
    }
}

#[test]
fn mode_display_and_parse_round_trip_with_both_spellings() {
    let names = ["fs_only", "fs_global_db", "fs_tenant_db", "full_db"];
    for (mode, name) in OperationalMode::ALL.into_iter().zip(names) {
        assert_eq!(mode.to_string(), name);
        assert_eq!(name.parse::<OperationalMode>().expect("underscore"), mode);
        assert_eq!(name.replace('_', "-").parse::<OperationalMode>().expect("dash"), mode);
        assert_eq!(name.to_uppercase().parse::<OperationalMode>().expect("upper"), mode);
    }
    let err = "fs_cloud".parse::<OperationalMode>().expect_err("unknown mode");
    assert!(err.to_string().contains("fs_cloud"), "{err}");
}

#[test]
fn db_config_debug_hides_the_password() {
    let cfg = DbConfig::new("postgres", "postgres://u:secret@h/db");
    let debug = format!("{cfg:?}");
    assert!(!debug.contains("secret"), "{debug}");
    assert!(debug.contains("postgres://u:***@h/db"), "{debug}");
}

#[test]
fn redaction_covers_query_and_keyword_passwords() {
    assert_eq!(redact_dsn("mysql://root:pw@127.0.0.1:3306/test"), "mysql://root:***@127.0.0.1:3306/test");
    assert_eq!(
        redact_dsn("postgres://h/db?user=u&password=hunter2&ssl=1"),
        "postgres://h/db?user=u&password=***&ssl=1"
    );
    assert_eq!(redact_dsn("host=h user=u password=hunter2 dbname=d"), "host=h user=u password=*** dbname=d");
    assert_eq!(redact_dsn("postgres://u@h/db"), "postgres://u@h/db");
    assert_eq!(redact_dsn("sqlite://./data/acme.db?mode=rwc"), "sqlite://./data/acme.db?mode=rwc");
}
