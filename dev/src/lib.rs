//! Workspace-only, no code: see `dev/Cargo.toml`. Being a default member of the workspace
//! that depends on `hellojohn-store` with every feature makes the root's `cargo run`,
//! `cargo build` and `cargo test` build the CLI, the bench code, the conformance suite,
//! MongoDB and Redis, which the library's default features leave out.
