//! Placeholder until `make entities` generates this crate.
