//! Every integration test in one binary: one link instead of one per file (each would
//! carry the whole library and every driver, ~120 MB apiece in a debug build). nextest
//! still runs each test in its own process. One module per area; a backend's module only
//! says how to build a fresh, empty store and expands the shared conformance lists.

mod cache_memory;
mod cache_redis;
mod cli_secret;
mod cli_tenants;
mod cli_validate;
mod dsn_redaction;
mod fault_proxy;
mod fs_concurrency;
mod fs_control_plane;
mod fs_crash_safety;
mod fs_files;
mod fs_hostile_yaml;
mod fs_watch;
mod fuzz;
mod global_mysql;
mod global_postgres;
mod global_sync;
mod manager;
mod mode;
mod mongo;
mod mongo_adapter;
mod password;
mod pool;
mod registry;
mod review_e;
mod sql_connect;
mod sql_mysql;
mod sql_mysql_prepared;
mod sql_pgbouncer;
mod sql_postgres;
mod sql_sqlite;
mod support;
mod validate_corpus;
