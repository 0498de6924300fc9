//! The control plane on a global MySQL/MariaDB database: the conformance list (a fresh
//! database per case) and two replicas kept consistent by polling the version.
#![cfg(feature = "mysql")]

use hellojohn_store::conformance::global::mysql_global_fixture;

hellojohn_store::control_plane_conformance!(mysql_global_fixture);
