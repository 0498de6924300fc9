//! Password checks: argon2id PHC strings and bcrypt hashes.

use hellojohn_store::password::{hash_password, verify_password};

#[test]
fn argon2id_hashes_verify_only_the_right_password() {
    let hash = hash_password("correct horse").expect("hash");
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(verify_password(Some(&hash), "correct horse"));
    assert!(!verify_password(Some(&hash), "correct horse "));
    assert!(!verify_password(Some(&hash), ""));
}

#[test]
fn bcrypt_hashes_from_the_go_service_verify() {
    let hash = bcrypt::hash("s3cret", 4).expect("bcrypt");
    for prefix in ["$2a$", "$2b$", "$2y$"] {
        let variant = format!("{prefix}{}", &hash[4..]);
        assert!(verify_password(Some(&variant), "s3cret"), "{prefix}");
        assert!(!verify_password(Some(&variant), "S3cret"), "{prefix}");
    }
}

#[test]
fn missing_empty_or_unknown_hashes_never_verify() {
    assert!(!verify_password(None, "x"));
    assert!(!verify_password(Some(""), ""));
    assert!(!verify_password(Some("plaintext"), "plaintext"));
    assert!(!verify_password(Some("$argon2id$garbage"), "x"));
    assert!(!verify_password(Some("$2b$garbage"), "x"));
}
