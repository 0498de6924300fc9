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
    let email = email.trim();
    if email.is_ascii() {
        // NFC leaves ASCII as it is, and ASCII lowercases to ASCII: the same result, without
        // the two normalisation passes (every e-mail look-up runs this).
        return email.to_ascii_lowercase();
    }
    let nfc: String = email.nfc().collect();
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
    let bad = |why: &str| {
        let shown: String = email.chars().take(80).collect();
        Err(StoreError::invalid(field, format!("{shown:?} {why}")))
    };
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

/// The syntax of a control-plane e-mail address (an admin's `email`, a tenant's SMTP
/// `from_email`), as a JSON-Schema `pattern` that ECMA-262 (ajv, editors), Python (`re`,
/// check-jsonschema) and the store's own validator read alike:
///
/// - a dot-atom local part of at most 64 characters: ASCII letters, digits and
///   ``!#$%&'*+/=?^_`{|}~-``, and any non-ASCII character that is not a control, white
///   space, invisible or text-direction character (`josé`, `日本語`), in atoms joined by
///   single dots; no quoted local part (`"a b"@…`), no display name (`Ana <ana@x>`);
/// - `@`, then a domain of two or more ASCII labels (letters, digits, inner `-`, at most 63
///   each; IDNs in their `xn--` form) whose last label starts with a letter: so
///   `ops@localhost`, `a@b.c` and `a@1.2.3.4` are refused, `a@b.co` is accepted.
///
/// The schemas give it with `format: idn-email` and `maxLength: 254`
/// ([`email_address_schema`]); every address this pattern accepts is one that ajv-formats'
/// `idn-email` (ajv-formats-draft2019) and Python's format checker accept too.
pub const EMAIL_ADDRESS_PATTERN: &str = concat!(
    r"^(?=[^@]{1,64}@)",
    r"(?:[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]|[^\x00-\x9f\u00a0\u00ad\u061c\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064\u2066-\u206f\u3000\ufeff])+",
    r"(?:\.(?:[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]|[^\x00-\x9f\u00a0\u00ad\u061c\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064\u2066-\u206f\u3000\ufeff])+)*",
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])$",
);

/// Longest control-plane e-mail address, in characters (`maxLength` of the schema).
pub const MAX_EMAIL_ADDRESS_CHARS: usize = 254;

/// The JSON Schema of a control-plane e-mail address, used by the generated schemas and by
/// [`validate_email_address`]: one definition for the files, the editors and the code.
pub fn email_address_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "string",
        "format": "idn-email",
        "pattern": EMAIL_ADDRESS_PATTERN,
        "maxLength": MAX_EMAIL_ADDRESS_CHARS
    })
}

/// Checks a control-plane e-mail address (an admin's e-mail) against
/// [`email_address_schema`], with the same validator the store runs on its files, so the
/// code and the schema cannot disagree. The address is taken as given (not trimmed).
///
/// Errors: `InvalidInput` on `field`.
pub fn validate_email_address(field: &str, email: &str) -> StoreResult<()> {
    static VALIDATOR: std::sync::OnceLock<Option<jsonschema::Validator>> = std::sync::OnceLock::new();
    let validator = VALIDATOR.get_or_init(|| {
        let schema = email_address_schema(&mut schemars::SchemaGenerator::default()).to_value();
        jsonschema::options().should_validate_formats(true).build(&schema).ok()
    });
    let valid = validator.as_ref().is_some_and(|v| v.is_valid(&serde_json::Value::String(email.to_string())));
    if valid {
        Ok(())
    } else {
        let shown: String = email.chars().take(80).collect();
        Err(StoreError::invalid(
            field,
            format!("{shown:?} is not an e-mail address (local@domain.tld, no display name or quotes)"),
        ))
    }
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
    fn the_ascii_shortcut_normalises_as_the_unicode_path_does() {
        let unicode_path = |e: &str| -> String {
            let nfc: String = e.trim().nfc().collect();
            nfc.to_lowercase().nfc().collect()
        };
        // every printable ASCII character, in both cases, around an @
        let all: String = (0x20u8..0x7f).map(char::from).collect();
        for email in [
            all.as_str(),
            " Ana.Bench+Tag@Example.COM\t",
            "ZZ@QQ",
            "MiXeD-CaSe_09!#$%&'*+/=?^`{|}~@Sub.Example.Org",
        ] {
            assert_eq!(normalize_email(email), unicode_path(email), "{email:?}");
        }
        // not ASCII: the Unicode path itself (K → k-sign folding stays theirs)
        for email in ["\u{212a}elvin@Example.com", "JOSE\u{301}@example.com"] {
            assert_eq!(normalize_email(email), unicode_path(email), "{email:?}");
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

    /// The addresses issue 14 names, as ajv (+ ajv-formats-draft2019), check-jsonschema and
    /// the editor judge them with the schema's `format` and `pattern`.
    pub(crate) const CONTROL_PLANE_ADDRESSES: &[(&str, bool)] = &[
        ("ops@localhost", false),
        ("Ana <ana@x>", false),
        ("jos\u{e9}@example.com", true),
        ("ana@example.com", true),
        ("a@b.co", true),
        ("\"a b\"@x.com", false),
        ("a@b.c", false),
        ("a..b@x.com", false),
        (".a@x.com", false),
        ("a@1.2.3.4", false),
        ("a@-b.com", false),
        ("a\u{200b}@x.com", false),
        (" ana@example.com", false),
        ("ana@example.com\n", false),
        ("a'b{c}|~@x.com", true),
        ("\u{65e5}\u{672c}@x.jp", true),
        ("x@xn--p1ai.xn--p1ai", true),
    ];

    #[test]
    fn control_plane_addresses_follow_the_schema_definition() {
        for (email, ok) in CONTROL_PLANE_ADDRESSES {
            assert_eq!(validate_email_address("email", email).is_ok(), *ok, "{email:?}");
        }
        let local64 = "a".repeat(64);
        assert!(validate_email_address("email", &format!("{local64}@x.com")).is_ok());
        assert!(validate_email_address("email", &format!("{local64}a@x.com")).is_err(), "65 characters");
        let long = format!("ab@{}com", "d.".repeat(124));
        assert_eq!(long.chars().count(), 254);
        assert!(validate_email_address("email", &long).is_ok());
        assert!(validate_email_address("email", &format!("a{long}")).is_err(), "255 characters");
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
