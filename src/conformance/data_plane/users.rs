use crate::conformance::DataPlane;
use crate::model::CreateUserInput;

/// A created user is found by its e-mail, in any letter case, with its password identity.
pub async fn users_create_then_get_by_email(store: &DataPlane) {
    let users = store.users();
    let (user, identity) = users
        .create(CreateUserInput::new("Ana@Example.com").password_hash("$argon2id$x"))
        .await
        .expect("create");
    assert_eq!(user.email, "Ana@Example.com");
    assert_eq!(identity.user_id, user.id);
    let (found, found_identity) = users.get_by_email("ana@example.COM").await.expect("get_by_email");
    assert_eq!(found, user);
    assert_eq!(found_identity.expect("password identity").password_hash.as_deref(), Some("$argon2id$x"));
}
