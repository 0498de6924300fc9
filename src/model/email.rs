//! E-mail identity: the one normalisation and the one validation every data-plane backend
//! uses for `email_normalized`, uniqueness and look-ups.
//!
//! Two addresses are one account exactly when their normalised forms are byte-equal: the
//! address is trimmed of surrounding whitespace, put in Unicode NFC (so the precomposed
//! `é` and `e` + combining acute, which look the same, are one address) and lowercased with
//! Rust's `to_lowercase` (full Unicode case mapping, locale-independent). Nothing else is
//! folded: `jose@…` and `josé@…` are two accounts, and so are addresses that differ by
//! dots or `+tags`. Backends compare the normalised form byte for byte (MySQL/MariaDB
//! columns use `utf8mb4_bin`), never with a database collation.

use unicode_normalization::UnicodeNormalization;

use crate::error::{StoreError, StoreResult};

/// Longest local part (before the `@`), in UTF-8 octets (RFC 5321 §4.5.3.1.1).
pub const MAX_EMAIL_LOCAL_OCTETS: usize = 64;
/// Longest address, in UTF-8 octets (RFC 5321's 256-octet path minus the angle brackets).
pub const MAX_EMAIL_OCTETS: usize = 254;

/// The normalised form of an e-mail, the key of uniqueness and look-ups: trimmed, NFC,
/// lowercased (and NFC again, since lowercasing may decompose). Pure; does not validate.
pub fn normalize_email(email: &str) -> String {
    let nfc: String = email.trim().nfc().collect();
    nfc.to_lowercase().nfc().collect()
}

/// Checks an e-mail and returns it as given (trimmed of surrounding whitespace) with its
/// normalised form ([`normalize_email`]). Every data-plane method that takes an e-mail
/// checks it with this one function before any I/O.
///
/// Refused: an empty address; any whitespace, NUL or other control character inside it;
/// an invisible or text-direction character (zero-width space, bidi override, …);
/// anything but exactly one `@` between a non-empty local part and a non-empty domain; a
/// local part longer than [`MAX_EMAIL_LOCAL_OCTETS`] or an address longer than
/// [`MAX_EMAIL_OCTETS`] UTF-8 octets (both as given and once normalised). No other syntax
/// (quoting, IDNA) is judged here.
///
/// Errors: `InvalidInput` on the `email` field.
pub fn validate_email(email: &str) -> StoreResult<(String, String)> {
    validate_email_field("email", email)
}

/// [`validate_email`] naming `field` in its error (`sent_to`, …).
pub(crate) fn validate_email_field(field: &str, email: &str) -> StoreResult<(String, String)> {
    let email = email.trim();
    let shown: String = email.chars().take(80).collect();
    let bad = |why: &str| Err(StoreError::invalid(field, format!("{shown:?} {why}")));
    if email.is_empty() {
        return bad("is empty");
    }
    if email.chars().any(char::is_control) {
        return bad("contains a control character");
    }
    if email.chars().any(char::is_whitespace) {
        return bad("contains whitespace");
    }
    if email.chars().any(is_invisible) {
        return bad("contains an invisible or text-direction character");
    }
    let normalized = normalize_email(email);
    for form in [email, normalized.as_str()] {
        let Some((local, domain)) = form.split_once('@') else {
            return bad("must be local@domain with exactly one @");
        };
        if local.is_empty() || domain.is_empty() || domain.contains('@') {
            return bad("must be local@domain with exactly one @");
        }
        if local.len() > MAX_EMAIL_LOCAL_OCTETS {
            return bad(&format!("has a local part longer than {MAX_EMAIL_LOCAL_OCTETS} octets"));
        }
        if form.len() > MAX_EMAIL_OCTETS {
            return bad(&format!("is longer than {MAX_EMAIL_OCTETS} octets"));
        }
    }
    Ok((email.to_string(), normalized))
}

/// Characters that render as nothing or reorder the text around them (zero-width spaces and
/// joiners, bidirectional marks, embeddings, overrides and isolates, word joiner, invisible
/// operators, soft hyphen, byte-order mark): an address holding one looks like another
/// address, so it is refused rather than made a second account that reads the same.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{ad}'
            | '\u{61c}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206f}'
            | '\u{feff}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_validated_and_normalised() {
        assert_eq!(
            validate_email(" Ana@Example.COM ").ok(),
            Some(("Ana@Example.COM".to_string(), "ana@example.com".to_string()))
        );
        for bad in [
            "",
            "   ",
            "ana",
            "@example.com",
            "ana@",
            "a@b@c",
            "a na@example.com",
            "ana@exa\tmple.com",
            "ana\0@example.com",
            "ana\u{1b}@example.com",
            "ana\u{85}@example.com",
            "ana\u{a0}@example.com",
            "ana\u{200b}@example.com",
            "ana\u{202e}moc.elpmaxe@example.com",
            "an\u{ad}a@example.com",
            "\u{feff}ana@example.com",
        ] {
            assert!(validate_email(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn nfc_and_nfd_are_one_address_accents_are_not_folded() {
        let nfc = "jos\u{e9}@example.com";
        let nfd = "jose\u{301}@example.com";
        assert_ne!(nfc, nfd);
        assert_eq!(normalize_email(nfc), normalize_email(nfd));
        assert_eq!(normalize_email("JOS\u{c9}@Example.com"), normalize_email(nfd));
        assert_ne!(normalize_email("jose@example.com"), normalize_email(nfc));
        assert_eq!(normalize_email(nfd), nfc, "the normalised form is NFC");
    }

    #[test]
    fn rfc_5321_octet_limits() {
        let domain = "@example.com";
        let local64 = "a".repeat(64);
        assert!(validate_email(&format!("{local64}{domain}")).is_ok());
        assert!(validate_email(&format!("{local64}a{domain}")).is_err(), "65-octet local part");
        // Octets, not characters: 32 two-octet letters are 64 octets, 33 are 66.
        assert!(validate_email(&format!("{}{domain}", "é".repeat(32))).is_ok());
        assert!(validate_email(&format!("{}{domain}", "é".repeat(33))).is_err());
        let at_limit = format!("a@{}.com", "d".repeat(254 - 6));
        assert_eq!(at_limit.len(), 254);
        assert!(validate_email(&at_limit).is_ok());
        assert!(validate_email(&format!("a@d{}", &at_limit[2..])).is_err(), "255 octets");
        assert!(validate_email(&format!("a@{}", "d".repeat(400))).is_err(), "400 octets");
    }
}
