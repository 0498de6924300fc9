//! Cases of the `UserRepository`: creation and e-mail rules, look-ups, partial updates,
//! listing, disablement (with time zones and microseconds), e-mail verification, password
//! hashes and the delete cascade to identities and refresh tokens.

use chrono::{FixedOffset, TimeDelta, TimeZone, Utc};
use serde_json::json;

use super::support::{assert_conflict, assert_invalid, assert_not_found, bcrypt_hash, phc, via_offset};
use crate::conformance::DataPlane;
use crate::model::{
    CreateRefreshTokenInput, CreateUserInput, SocialIdentityInput, UpdateUserInput, UserFilter, new_id,
};

/// A created user is found by its e-mail, in any letter case, with its password identity.
pub async fn users_create_then_get_by_email(store: &DataPlane) {
    let users = store.users();
    let (user, identity) =
        users.create(CreateUserInput::new("Ana@Example.com").password_hash(phc('x'))).await.expect("create");
    assert_eq!(user.email, "Ana@Example.com");
    assert_eq!(identity.user_id, user.id);
    let (found, found_identity) = users.get_by_email("ana@example.COM").await.expect("get_by_email");
    assert_eq!(found, user);
    assert_eq!(found_identity.expect("password identity").password_hash.as_deref(), Some(phc('x').as_str()));
}

/// `create` stores every field it is given, returns what a later `get_by_id` reads, and
/// gives the user a password identity with provider `password`.
pub async fn users_create_stores_every_field_and_get_by_id_reads_it_back(store: &DataPlane) {
    let users = store.users();
    let mut input = CreateUserInput::new("bea@example.com")
        .name("Bea Ruiz")
        .email_verified(true)
        .metadata(json!({"plan": "pro", "n": 3}))
        .custom_fields(json!({"dept": "ops"}))
        .source_client_id("web-app");
    input.given_name = Some("Bea".into());
    input.family_name = Some("Ruiz".into());
    input.picture = Some("https://example.com/bea.png".into());
    input.locale = Some("es-AR".into());
    input.language = Some("es".into());
    let (user, identity) = users.create(input).await.expect("create");
    assert_eq!(user.name.as_deref(), Some("Bea Ruiz"));
    assert_eq!(user.given_name.as_deref(), Some("Bea"));
    assert_eq!(user.family_name.as_deref(), Some("Ruiz"));
    assert_eq!(user.locale.as_deref(), Some("es-AR"));
    assert_eq!(user.language.as_deref(), Some("es"));
    assert_eq!(user.metadata, json!({"plan": "pro", "n": 3}));
    assert_eq!(user.custom_fields, json!({"dept": "ops"}));
    assert_eq!(user.source_client_id.as_deref(), Some("web-app"));
    assert!(user.email_verified);
    assert!(user.disabled_at.is_none());
    assert_eq!(identity.provider, "password");
    assert_eq!(identity.password_hash, None);
    assert_eq!(users.get_by_id(user.id).await.expect("get_by_id"), user);
    let (_, found_identity) = users.get_by_email("BEA@example.com").await.expect("get_by_email");
    assert_eq!(found_identity, Some(identity));
}

/// Malformed e-mails and non-object JSON are `InvalidInput`, and nothing is stored.
pub async fn users_create_rejects_malformed_email_and_non_object_json(store: &DataPlane) {
    let users = store.users();
    for bad in ["", "   ", "ana", "@example.com", "ana@", "a@b@example.com", "ana maria@example.com"] {
        assert_invalid(users.create(CreateUserInput::new(bad)).await, &format!("e-mail {bad:?}"));
    }
    assert_invalid(
        users.create(CreateUserInput::new("ok@example.com").metadata(json!(["not", "an", "object"]))).await,
        "array metadata",
    );
    assert_invalid(
        users.create(CreateUserInput::new("ok@example.com").custom_fields(json!("text"))).await,
        "string custom fields",
    );
    assert_eq!(users.count(None).await.expect("count"), 0, "no user may have been stored");
    assert_not_found(users.get_by_email("ok@example.com").await, "refused user");
}

/// A second user whose e-mail differs only in letter case is a `Conflict`; the first user
/// is left as it was.
pub async fn users_email_uniqueness_is_case_insensitive(store: &DataPlane) {
    let users = store.users();
    let (ana, _) = users.create(CreateUserInput::new("Ana@Example.com").name("Ana")).await.expect("create");
    assert_conflict(users.create(CreateUserInput::new("ana@EXAMPLE.COM").name("Other")).await, "same e-mail");
    assert_conflict(users.create(CreateUserInput::new(" ANA@example.com ")).await, "same e-mail, padded");
    assert_eq!(users.count(None).await.expect("count"), 1);
    assert_eq!(users.get_by_id(ana.id).await.expect("ana"), ana);
    users.create(CreateUserInput::new("ana2@example.com")).await.expect("a different e-mail is fine");
}

/// Unknown ids and e-mails are `NotFound` for reads and for every write.
pub async fn users_unknown_user_is_not_found(store: &DataPlane) {
    let users = store.users();
    let ghost = new_id();
    users.create(CreateUserInput::new("someone@example.com")).await.expect("create");
    assert_not_found(users.get_by_id(ghost).await, "get_by_id");
    assert_not_found(users.get_by_email("nobody@example.com").await, "get_by_email");
    assert_not_found(users.update(ghost, UpdateUserInput::default()).await, "update");
    assert_not_found(users.delete(ghost).await, "delete");
    assert_not_found(users.disable(ghost, "admin", None, None).await, "disable");
    assert_not_found(users.enable(ghost, "admin").await, "enable");
    assert_not_found(users.set_email_verified(ghost, true).await, "set_email_verified");
    assert_not_found(users.update_password_hash(ghost, &phc('h')).await, "update_password_hash");
    assert_eq!(users.count(None).await.expect("count"), 1);
}

/// `update` writes only the `Some` fields (`Some(None)` clears), bumps `updated_at` and
/// leaves every other field, and other users, unchanged.
pub async fn users_update_writes_only_the_given_fields(store: &DataPlane) {
    let users = store.users();
    let mut input = CreateUserInput::new("carl@example.com")
        .name("Carl")
        .metadata(json!({"a": 1}))
        .custom_fields(json!({"team": "red"}));
    input.locale = Some("en-GB".into());
    input.picture = Some("https://example.com/c.png".into());
    let (carl, _) = users.create(input).await.expect("create carl");
    let (dora, _) =
        users.create(CreateUserInput::new("dora@example.com").name("Dora")).await.expect("create dora");

    let updated = users
        .update(
            carl.id,
            UpdateUserInput {
                given_name: Some(Some("Carl".into())),
                locale: Some(None),
                metadata: Some(json!({"b": 2})),
                ..Default::default()
            },
        )
        .await
        .expect("update");
    assert_eq!(updated.given_name.as_deref(), Some("Carl"));
    assert_eq!(updated.locale, None, "Some(None) clears");
    assert_eq!(updated.metadata, json!({"b": 2}));
    assert_eq!(updated.name.as_deref(), Some("Carl"), "name untouched");
    assert_eq!(updated.picture, carl.picture, "picture untouched");
    assert_eq!(updated.custom_fields, json!({"team": "red"}), "custom fields untouched");
    assert_eq!(updated.email, carl.email);
    assert_eq!(updated.created_at, carl.created_at);
    assert!(updated.updated_at >= carl.updated_at);
    assert_eq!(users.get_by_id(carl.id).await.expect("reread"), updated);

    assert_invalid(
        users
            .update(carl.id, UpdateUserInput { custom_fields: Some(json!([1])), ..Default::default() })
            .await,
        "non-object custom fields",
    );
    assert_eq!(users.get_by_id(carl.id).await.expect("reread after refusal"), updated);
    assert_eq!(users.get_by_id(dora.id).await.expect("dora"), dora, "another user is untouched");
}

/// `list` orders by creation, pages with limit and offset, and searches e-mail and name
/// case-insensitively (with `%` and `_` taken literally); `count` agrees.
pub async fn users_list_pages_in_creation_order_and_searches_case_insensitively(store: &DataPlane) {
    let users = store.users();
    let mut ids = Vec::new();
    for (email, name) in [
        ("ana@alpha.com", "Ana Gómez"),
        ("bob@beta.com", "Bob"),
        ("carla@alpha.com", "Carla"),
        ("dan@delta.com", "Dan ALPHA"),
        ("eve_1@echo.com", "Eve"),
    ] {
        ids.push(users.create(CreateUserInput::new(email).name(name)).await.expect("create").0.id);
    }
    let page = |limit, offset| UserFilter { limit, offset, search: None };
    let all: Vec<_> = users.list(&page(0, 0)).await.expect("list").into_iter().map(|u| u.id).collect();
    assert_eq!(all, ids, "creation order");
    let second: Vec<_> = users.list(&page(2, 2)).await.expect("page 2").into_iter().map(|u| u.id).collect();
    assert_eq!(second, ids[2..4].to_vec());
    assert!(users.list(&page(2, 10)).await.expect("past the end").is_empty());

    let search = |s: &str| UserFilter { limit: 0, offset: 0, search: Some(s.into()) };
    let alpha: Vec<_> =
        users.list(&search("ALPHA")).await.expect("search").into_iter().map(|u| u.id).collect();
    assert_eq!(alpha, vec![ids[0], ids[2], ids[3]], "e-mail or name, any case");
    assert_eq!(users.count(Some("alpha")).await.expect("count alpha"), 3);
    assert_eq!(users.count(Some("gómez")).await.expect("count accented"), 1);
    assert_eq!(users.count(Some("e_1")).await.expect("count underscore"), 1);
    assert_eq!(users.count(Some("b_b")).await.expect("underscore is literal"), 0);
    assert_eq!(users.count(Some("%")).await.expect("percent is literal"), 0);
    assert_eq!(users.count(None).await.expect("count all"), 5);
}

/// A disablement `until` built in a +05:30 time zone with microseconds reads back as the
/// same instant to the microsecond; `enable` clears it; another user is untouched.
pub async fn users_disable_until_round_trips_the_instant_to_the_microsecond(store: &DataPlane) {
    let users = store.users();
    let (eva, _) = users.create(CreateUserInput::new("eva@example.com")).await.expect("create eva");
    let (fay, _) = users.create(CreateUserInput::new("fay@example.com")).await.expect("create fay");
    let offset = FixedOffset::east_opt(5 * 3600 + 1800).expect("offset");
    let until = offset
        .with_ymd_and_hms(2031, 3, 14, 9, 26, 53)
        .single()
        .expect("local time")
        .checked_add_signed(TimeDelta::microseconds(589_793))
        .expect("add micros")
        .with_timezone(&Utc);
    users.disable(eva.id, "admin@example.com", Some("chargeback"), Some(until)).await.expect("disable");
    let disabled = users.get_by_id(eva.id).await.expect("reread");
    assert_eq!(disabled.disabled_until, Some(until), "same instant, to the microsecond");
    assert_eq!(disabled.disabled_until.map(|t| t.timestamp_subsec_micros()), Some(589_793));
    assert!(disabled.disabled_at.is_some());
    assert_eq!(disabled.disabled_reason.as_deref(), Some("chargeback"));
    assert_eq!(disabled.disabled_by.as_deref(), Some("admin@example.com"));
    assert!(disabled.is_disabled_at(crate::model::now()));
    assert_eq!(disabled.email, eva.email, "other fields untouched");
    assert!(users.get_by_id(fay.id).await.expect("fay").disabled_at.is_none(), "fay untouched");

    let far = via_offset(Utc.with_ymd_and_hms(2040, 1, 2, 3, 4, 5).single().expect("2040"), -(7 * 3600));
    users.disable(fay.id, "admin", None, Some(far)).await.expect("disable until 2040");
    assert_eq!(users.get_by_id(fay.id).await.expect("fay").disabled_until, Some(far), "past 2038");

    users.enable(eva.id, "admin").await.expect("enable");
    let enabled = users.get_by_id(eva.id).await.expect("reread enabled");
    assert!(enabled.disabled_at.is_none() && enabled.disabled_until.is_none());
    assert!(enabled.disabled_reason.is_none() && enabled.disabled_by.is_none());
    assert!(users.get_by_id(fay.id).await.expect("fay").disabled_at.is_some(), "fay still disabled");
}

/// `set_email_verified` changes the user and its password identity, both ways.
pub async fn users_set_email_verified_updates_user_and_password_identity(store: &DataPlane) {
    let users = store.users();
    let (gus, _) = users.create(CreateUserInput::new("gus@example.com")).await.expect("create");
    let (hal, _) = users.create(CreateUserInput::new("hal@example.com")).await.expect("create hal");
    users.set_email_verified(gus.id, true).await.expect("verify");
    let (user, identity) = users.get_by_email("gus@example.com").await.expect("reread");
    assert!(user.email_verified);
    assert!(identity.expect("password identity").email_verified);
    assert!(!users.get_by_id(hal.id).await.expect("hal").email_verified, "hal untouched");
    users.set_email_verified(gus.id, false).await.expect("unverify");
    assert!(!users.get_by_id(gus.id).await.expect("reread").email_verified);
}

/// `update_password_hash` replaces the hash of the password identity, creates the identity
/// for a user who has none (one made by a social login), and refuses an empty hash.
pub async fn users_update_password_hash_replaces_or_creates_the_password_identity(store: &DataPlane) {
    let users = store.users();
    let (ivy, identity) =
        users.create(CreateUserInput::new("ivy@example.com").password_hash(phc('o'))).await.expect("create");
    users.update_password_hash(ivy.id, &phc('n')).await.expect("update hash");
    let (_, reread) = users.get_by_email("ivy@example.com").await.expect("reread");
    let reread = reread.expect("password identity");
    assert_eq!(reread.id, identity.id, "same identity");
    assert_eq!(reread.password_hash.as_deref(), Some(phc('n').as_str()));
    assert_invalid(users.update_password_hash(ivy.id, "  ").await, "empty hash");
    let (_, still) = users.get_by_email("ivy@example.com").await.expect("reread");
    assert_eq!(still.and_then(|i| i.password_hash).as_deref(), Some(phc('n').as_str()));

    let (social_user, created) = store
        .identities()
        .upsert(SocialIdentityInput {
            provider: "github".into(),
            provider_user_id: "gh-42".into(),
            email: Some("jo@example.com".into()),
            ..Default::default()
        })
        .await
        .expect("social login");
    assert!(created);
    let (_, none) = users.get_by_email("jo@example.com").await.expect("social user");
    assert!(none.is_none(), "a social user has no password identity");
    users.update_password_hash(social_user, &bcrypt_hash('b')).await.expect("set first password");
    let (_, some) = users.get_by_email("jo@example.com").await.expect("reread");
    assert_eq!(some.expect("created identity").password_hash.as_deref(), Some(bcrypt_hash('b').as_str()));
}

/// Deleting a user removes its password and social identities and its refresh tokens, and
/// leaves another user's.
pub async fn users_delete_removes_identities_and_refresh_tokens(store: &DataPlane) {
    let users = store.users();
    let (kim, _) =
        users.create(CreateUserInput::new("kim@example.com").password_hash(phc('k'))).await.expect("kim");
    let (lee, _) =
        users.create(CreateUserInput::new("lee@example.com").password_hash(phc('l'))).await.expect("lee");
    for (user, tag) in [(kim.id, "kim"), (lee.id, "lee")] {
        store
            .identities()
            .link(
                user,
                SocialIdentityInput {
                    provider: "google".into(),
                    provider_user_id: format!("g-{tag}"),
                    ..Default::default()
                },
            )
            .await
            .expect("link");
        store
            .tokens()
            .create(CreateRefreshTokenInput {
                user_id: user,
                client_id: "web".into(),
                token_hash: format!("rt-{tag}"),
                ttl: TimeDelta::hours(1),
            })
            .await
            .expect("token");
    }

    users.delete(kim.id).await.expect("delete kim");

    assert_not_found(users.get_by_id(kim.id).await, "kim");
    assert_not_found(users.get_by_email("kim@example.com").await, "kim by e-mail");
    assert_not_found(store.identities().get_by_provider("google", "g-kim").await, "kim's identity");
    assert!(store.identities().list_by_user(kim.id).await.expect("kim's identities").is_empty());
    assert_not_found(store.tokens().get_by_hash("rt-kim").await, "kim's token");
    assert_not_found(users.delete(kim.id).await, "second delete");

    assert_eq!(users.get_by_id(lee.id).await.expect("lee").email, "lee@example.com");
    let (_, lee_password) = users.get_by_email("lee@example.com").await.expect("lee by e-mail");
    assert!(lee_password.is_some(), "lee keeps the password identity");
    assert_eq!(
        store.identities().get_by_provider("google", "g-lee").await.expect("lee's identity").user_id,
        lee.id
    );
    assert_eq!(store.tokens().get_by_hash("rt-lee").await.expect("lee's token").user_id, lee.id);
    // Kim's e-mail is free again.
    users.create(CreateUserInput::new("KIM@example.com")).await.expect("re-create kim");
}

/// E-mail identity is byte-exact after normalisation, not a database collation:
/// `jose@…` and `josé@…` are two accounts, and each look-up returns its own row.
pub async fn users_emails_differing_by_an_accent_are_two_accounts(store: &DataPlane) {
    let users = store.users();
    let (jose, _) = users.create(CreateUserInput::new("jose@example.com")).await.expect("jose");
    let (jose_accent, _) =
        users.create(CreateUserInput::new("jos\u{e9}@example.com")).await.expect("josé is another account");
    assert_ne!(jose.id, jose_accent.id);
    assert_eq!(users.get_by_email("jose@example.com").await.expect("jose").0.id, jose.id);
    assert_eq!(users.get_by_email("jos\u{e9}@example.com").await.expect("josé").0.id, jose_accent.id);
    assert_eq!(users.get_by_email("JOS\u{c9}@example.com").await.expect("JOSÉ").0.id, jose_accent.id);
    // Other letters a case- and accent-insensitive collation would merge.
    let (strasse, _) = users.create(CreateUserInput::new("stra\u{df}e@example.com")).await.expect("straße");
    let (strasse_ss, _) = users.create(CreateUserInput::new("strasse@example.com")).await.expect("strasse");
    assert_ne!(strasse.id, strasse_ss.id);
    assert_eq!(users.count(None).await.expect("count"), 4);
}

/// Visually identical addresses are one account: the NFC (`é`) and NFD (`e` + combining
/// acute) spellings, and upper and lower case, collide on `create` and find the same row.
pub async fn users_nfc_and_nfd_spellings_and_letter_case_are_one_account(store: &DataPlane) {
    let users = store.users();
    let nfc = "ren\u{e9}@example.com";
    let nfd = "rene\u{301}@example.com";
    let (rene, _) = users.create(CreateUserInput::new(nfd).email_verified(true)).await.expect("create (NFD)");
    assert_eq!(rene.email, nfd, "stored as given");
    assert_conflict(users.create(CreateUserInput::new(nfc)).await, "NFC spelling of the same address");
    assert_conflict(users.create(CreateUserInput::new("REN\u{c9}@EXAMPLE.COM")).await, "upper case");
    assert_conflict(users.create(CreateUserInput::new("RENE\u{301}@Example.com")).await, "upper case NFD");
    for spelling in [nfc, nfd, "REN\u{c9}@example.com", "RENE\u{301}@EXAMPLE.com"] {
        assert_eq!(users.get_by_email(spelling).await.expect("found").0.id, rene.id, "{spelling:?}");
    }
    // A social login with the other spelling finds the same (verified) account.
    let (linked, created) = store
        .identities()
        .upsert(SocialIdentityInput {
            provider: "google".into(),
            provider_user_id: "g-rene".into(),
            email: Some(nfc.into()),
            email_verified: true,
            ..Default::default()
        })
        .await
        .expect("upsert");
    assert_eq!((linked, created), (rene.id, false));
    assert_eq!(users.count(None).await.expect("count"), 1);
}

/// RFC 5321 limits and forbidden characters are `InvalidInput` on every method that takes
/// an e-mail, before any I/O: a 64-octet local part and a 254-octet address pass, 65 and 255
/// (and a 400-character address) do not; NUL, control characters, whitespace and invisible
/// or text-direction characters never do.
pub async fn users_email_limits_are_invalid_input_on_every_method(store: &DataPlane) {
    let users = store.users();
    let local_64 = format!("{}@example.com", "l".repeat(64));
    let local_65 = format!("{}@example.com", "l".repeat(65));
    let total_254 = format!("a@{}.example.com", "d".repeat(254 - 14));
    let total_255 = format!("a@{}.example.com", "d".repeat(255 - 14));
    assert_eq!((total_254.len(), total_255.len()), (254, 255));
    let (ok_local, _) = users.create(CreateUserInput::new(&local_64)).await.expect("64-octet local part");
    let (ok_total, _) = users.create(CreateUserInput::new(&total_254)).await.expect("254-octet address");
    assert_eq!(users.get_by_email(&local_64).await.expect("found").0.id, ok_local.id);
    assert_eq!(users.get_by_email(&total_254).await.expect("found").0.id, ok_total.id);
    // Two-octet letters count twice: 33 of them are 66 octets.
    let local_66_octets = format!("{}@example.com", "\u{e9}".repeat(33));

    let bad = [
        local_65,
        total_255,
        format!("a@{}.com", "x".repeat(400)),
        local_66_octets,
        "nul\0@example.com".to_string(),
        "bell\u{7}@example.com".to_string(),
        "esc@exa\u{1b}mple.com".to_string(),
        "del\u{7f}@example.com".to_string(),
        "nbsp\u{a0}@example.com".to_string(),
        "line\nbreak@example.com".to_string(),
        "zero\u{200b}width@example.com".to_string(),
        "bidi\u{202e}override@example.com".to_string(),
    ];
    let ids = store.identities();
    let tokens = store.email_tokens();
    for email in &bad {
        let what = format!("{email:?}");
        assert_invalid(users.create(CreateUserInput::new(email)).await, &format!("create {what}"));
        assert_invalid(users.get_by_email(email).await, &format!("get_by_email {what}"));
        let social = SocialIdentityInput {
            provider: "google".into(),
            provider_user_id: "g-limits".into(),
            email: Some(email.clone()),
            email_verified: true,
            ..Default::default()
        };
        assert_invalid(ids.upsert(social.clone()).await, &format!("identities.upsert {what}"));
        assert_invalid(ids.link(ok_local.id, social).await, &format!("identities.link {what}"));
        assert_invalid(
            tokens
                .create(
                    crate::model::EmailTokenKind::Verification,
                    ok_local.id,
                    "limits-token",
                    email,
                    chrono::TimeDelta::hours(1),
                )
                .await,
            &format!("email_tokens.create sent_to {what}"),
        );
    }
    assert_eq!(users.count(None).await.expect("count"), 2, "nothing else stored");
    assert!(ids.list_by_user(ok_local.id).await.expect("list").is_empty());
    assert_not_found(ids.get_by_provider("google", "g-limits").await, "no identity");
}

/// Password hashes are checked on every write: an argon2 hash whose cost parameters ask for
/// terabytes of memory or billions of passes, a bcrypt cost of 31, and unknown formats are
/// `InvalidInput`, and nothing changes; real argon2id and bcrypt hashes are accepted. Such a
/// hash never reaches the KDF in `check_password`.
pub async fn users_password_hashes_out_of_limits_or_unknown_are_refused(store: &DataPlane) {
    let users = store.users();
    let huge_memory = "$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
    let huge_time = "$argon2id$v=19$m=19456,t=4294967295,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
    let huge_lanes = "$argon2id$v=19$m=19456,t=2,p=255$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
    let bcrypt_31 = format!("$2b$31${}", "a".repeat(53));
    let refused = [
        huge_memory.to_string(),
        huge_time.to_string(),
        huge_lanes.to_string(),
        bcrypt_31,
        "$argon2id$x".to_string(),
        "$2b$12$abc".to_string(),
        "plaintext-password".to_string(),
        "$6$salt$sha512crypt".to_string(),
        format!("{}\0", phc('z')),
    ];
    for hash in &refused {
        assert_invalid(
            users.create(CreateUserInput::new("hal@example.com").password_hash(hash.as_str())).await,
            &format!("create with {hash:?}"),
        );
        assert!(!users.check_password(Some(hash), "pw"), "{hash:?} never verifies");
    }
    assert_eq!(users.count(None).await.expect("count"), 0, "no user stored");

    let real = crate::password::hash_password("pw").expect("hash");
    let (hal, _) = users
        .create(CreateUserInput::new("hal@example.com").password_hash(real.as_str()))
        .await
        .expect("real");
    for hash in &refused {
        assert_invalid(users.update_password_hash(hal.id, hash).await, &format!("update with {hash:?}"));
    }
    let (_, identity) = users.get_by_email("hal@example.com").await.expect("hal");
    let stored = identity.and_then(|i| i.password_hash);
    assert_eq!(stored.as_deref(), Some(real.as_str()), "hash unchanged");
    assert!(users.check_password(stored.as_deref(), "pw"));
    users.update_password_hash(hal.id, &bcrypt_hash('c')).await.expect("bcrypt accepted");
}
