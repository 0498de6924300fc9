//! The control-plane conformance suite on the file-system backend: each case gets a fresh
//! temporary root and a random key.

use std::sync::Arc;

use hellojohn_store::adapters::fs::FsControlPlane;
use hellojohn_store::conformance::ControlPlaneFixture;
use hellojohn_store::crypto::SecretBox;

async fn fresh() -> ControlPlaneFixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = SecretBox::from_base64(&SecretBox::generate_key_base64()).expect("key");
    let store = FsControlPlane::new(dir.path(), Some(key.clone()));
    ControlPlaneFixture::with_cleanup(Arc::new(store), key, async move {
        drop(dir);
    })
}

hellojohn_store::control_plane_conformance!(fresh);
