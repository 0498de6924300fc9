//! Backends, one folder each. SQL (SeaORM) and MongoDB implement the data plane; `fs`
//! implements the control plane; `noop` stands for a tenant without a database.

pub mod fs;
#[cfg(feature = "mongo")]
pub mod mongo;
pub mod noop;
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
