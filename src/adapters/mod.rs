//! Backends, one folder each. SQL (SeaORM) and MongoDB implement the data plane; `fs`
//! implements the control plane; `noop` stands for a tenant without a database.

pub(crate) mod control;
pub mod fs;
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub mod global;
pub mod noop;
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
pub mod sql;

use crate::registry::Registry;

/// Registers the adapters compiled in by cargo features.
pub(crate) fn register_builtins(registry: &mut Registry) {
    #[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
    sql::register(registry);
    let _ = registry;
}
