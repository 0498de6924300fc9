//! Backends, one folder each. SQL (SeaORM) and MongoDB implement the data plane; `fs` (YAML
//! files) and `global` (the global database) implement the control plane, sharing the write
//! rules of `control`; `noop` stands for a tenant without a database.

pub(crate) mod control;
pub mod fs;
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub mod global;
#[cfg(feature = "mongo")]
pub mod mongo;
pub mod noop;
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite", feature = "mongo"))]
pub(crate) mod rotations;
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
pub mod sql;

use crate::registry::Registry;

/// Registers the adapters compiled in by cargo features.
pub(crate) fn register_builtins(registry: &mut Registry) {
    #[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
    sql::register(registry);
    #[cfg(feature = "mongo")]
    mongo::register(registry);
    let _ = registry;
}
