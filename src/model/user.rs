use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Timestamp;

/// A user of one tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// UUID v7.
    pub id: Uuid,
    /// Tenant the user belongs to.
    pub tenant_id: Uuid,
    /// E-mail as given at creation (matched by its normalised form, see
    /// [`normalize_email`](super::normalize_email)).
    pub email: String,
    /// Whether the e-mail has been verified.
    pub email_verified: bool,
    /// Full name.
    pub name: Option<String>,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Picture URL.
    pub picture: Option<String>,
    /// Locale (`es-AR`).
    pub locale: Option<String>,
    /// Preferred language.
    pub language: Option<String>,
    /// Free-form metadata (a JSON object).
    pub metadata: serde_json::Value,
    /// Tenant-defined custom fields (a JSON object).
    pub custom_fields: serde_json::Value,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last update time.
    pub updated_at: Timestamp,
    /// When the user was disabled, if disabled.
    pub disabled_at: Option<Timestamp>,
    /// End of a temporary disablement.
    pub disabled_until: Option<Timestamp>,
    /// Why the user was disabled.
    pub disabled_reason: Option<String>,
    /// Who disabled the user.
    pub disabled_by: Option<String>,
    /// OAuth client through which the user signed up.
    pub source_client_id: Option<String>,
}

impl User {
    /// Whether the user is disabled at `at` (disabled and not past `disabled_until`).
    pub fn is_disabled_at(&self, at: Timestamp) -> bool {
        self.disabled_at.is_some() && self.disabled_until.is_none_or(|until| at < until)
    }
}

/// The password identity of a user (provider `"password"`).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    /// UUID v7.
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// Always `"password"` for this type.
    pub provider: String,
    /// Provider-side id (the user id for passwords).
    pub provider_user_id: String,
    /// E-mail of the identity.
    pub email: Option<String>,
    /// Whether that e-mail is verified.
    pub email_verified: bool,
    /// PHC string (argon2id) or bcrypt hash; `None` for a user without a password.
    pub password_hash: Option<String>,
    /// Creation time.
    pub created_at: Timestamp,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("provider", &self.provider)
            .field("provider_user_id", &self.provider_user_id)
            .field("email", &self.email)
            .field("email_verified", &self.email_verified)
            .field("password_hash", &self.password_hash.as_ref().map(|_| "<redacted>"))
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// What `UserRepository::create` takes. Build it with [`CreateUserInput::new`] and the
/// setters. Its `Debug` redacts the password hash.
#[derive(Clone, Default, PartialEq)]
pub struct CreateUserInput {
    /// E-mail (required, must look like `local@domain`).
    pub email: String,
    /// Password hash (PHC string or bcrypt), if the user has a password.
    pub password_hash: Option<String>,
    /// Whether the e-mail is already verified.
    pub email_verified: bool,
    /// Full name.
    pub name: Option<String>,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Picture URL.
    pub picture: Option<String>,
    /// Locale.
    pub locale: Option<String>,
    /// Language.
    pub language: Option<String>,
    /// Metadata (JSON object; `null` means empty).
    pub metadata: serde_json::Value,
    /// Custom fields (JSON object; `null` means empty).
    pub custom_fields: serde_json::Value,
    /// Client through which the user signed up.
    pub source_client_id: Option<String>,
}

impl std::fmt::Debug for CreateUserInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateUserInput")
            .field("email", &self.email)
            .field("password_hash", &self.password_hash.as_ref().map(|_| "<redacted>"))
            .field("email_verified", &self.email_verified)
            .field("name", &self.name)
            .field("given_name", &self.given_name)
            .field("family_name", &self.family_name)
            .field("picture", &self.picture)
            .field("locale", &self.locale)
            .field("language", &self.language)
            .field("metadata", &self.metadata)
            .field("custom_fields", &self.custom_fields)
            .field("source_client_id", &self.source_client_id)
            .finish()
    }
}

impl CreateUserInput {
    /// A new input with only the e-mail set.
    pub fn new(email: impl Into<String>) -> Self {
        CreateUserInput { email: email.into(), ..Default::default() }
    }
    /// Sets the password hash.
    pub fn password_hash(mut self, hash: impl Into<String>) -> Self {
        self.password_hash = Some(hash.into());
        self
    }
    /// Sets the full name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
    /// Marks the e-mail verified.
    pub fn email_verified(mut self, verified: bool) -> Self {
        self.email_verified = verified;
        self
    }
    /// Sets the custom fields.
    pub fn custom_fields(mut self, fields: serde_json::Value) -> Self {
        self.custom_fields = fields;
        self
    }
    /// Sets the metadata.
    pub fn metadata(mut self, metadata: serde_json::Value) -> Self {
        self.metadata = metadata;
        self
    }
    /// Sets the source client.
    pub fn source_client_id(mut self, client_id: impl Into<String>) -> Self {
        self.source_client_id = Some(client_id.into());
        self
    }
}

/// What `UserRepository::update` takes: every `Some` field is written, every `None` field
/// is left as it is. For nullable columns, `Some(None)` clears the value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpdateUserInput {
    /// New full name.
    pub name: Option<Option<String>>,
    /// New given name.
    pub given_name: Option<Option<String>>,
    /// New family name.
    pub family_name: Option<Option<String>>,
    /// New picture.
    pub picture: Option<Option<String>>,
    /// New locale.
    pub locale: Option<Option<String>>,
    /// New language.
    pub language: Option<Option<String>>,
    /// New metadata (replaces the object).
    pub metadata: Option<serde_json::Value>,
    /// New custom fields (replaces the object).
    pub custom_fields: Option<serde_json::Value>,
}

/// Filter of `UserRepository::list`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFilter {
    /// Page size: 0 means the default (50); larger than 200 is capped at 200.
    pub limit: u64,
    /// Rows to skip.
    pub offset: u64,
    /// Case-insensitive substring of the e-mail or the name.
    pub search: Option<String>,
}

impl UserFilter {
    /// Default page size.
    pub const DEFAULT_LIMIT: u64 = super::DEFAULT_PAGE_SIZE;
    /// Largest page size.
    pub const MAX_LIMIT: u64 = super::MAX_PAGE_SIZE;

    /// The effective page size.
    pub fn effective_limit(&self) -> u64 {
        match self.limit {
            0 => Self::DEFAULT_LIMIT,
            n => n.min(Self::MAX_LIMIT),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

    #[test]
    fn debug_of_inputs_and_identities_redacts_the_password_hash() {
        let input = CreateUserInput::new("ana@example.com").password_hash(HASH);
        let shown = format!("{input:?} {input:#?}");
        assert!(!shown.contains("c2FsdHNhbHQ") && !shown.contains("argon2"), "{shown}");
        assert!(shown.contains("ana@example.com") && shown.contains("<redacted>"), "{shown}");
        let identity = Identity {
            id: crate::model::new_id(),
            user_id: crate::model::new_id(),
            provider: "password".into(),
            provider_user_id: "u".into(),
            email: None,
            email_verified: false,
            password_hash: Some(HASH.into()),
            created_at: crate::model::now(),
        };
        let shown = format!("{identity:?}");
        assert!(!shown.contains("argon2"), "{shown}");
    }
}
