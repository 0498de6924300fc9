//! Backends, one folder each. SQL (SeaORM) and MongoDB implement the data plane; `fs`
//! implements the control plane; `noop` stands for a tenant without a database.

pub mod fs;
pub mod noop;

use crate::registry::Registry;

/// Registers the adapters compiled in by cargo features.
pub(crate) fn register_builtins(_registry: &mut Registry) {}
