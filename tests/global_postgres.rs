//! The control plane on a global PostgreSQL database: the conformance list (a fresh schema
//! per case), two replicas kept consistent by LISTEN/NOTIFY, and a replica whose listener
//! connection is cut converging once it is back.
#![cfg(feature = "postgres")]

use hellojohn_store::conformance::global::postgres_global_fixture;

hellojohn_store::control_plane_conformance!(postgres_global_fixture);
