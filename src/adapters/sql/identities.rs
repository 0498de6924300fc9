//! `IdentityRepository` on the `identities` table: the social rows (`provider <>
//! 'password'`; the password row belongs to [`UserRepository`](crate::repository::UserRepository)).
//!
//! `upsert` is atomic through the unique index on `(provider, provider_user_id)` and the one
//! on `users.email_normalized`: it runs in a write transaction and, when a concurrent upsert
//! inserted the same identity or user first (a unique violation), runs again and finds it.
//! It links a new identity to an existing account only when both the provider and the
//! account have verified the e-mail; otherwise it rolls back with `LinkRequired`.

use std::sync::Arc;

use async_trait::async_trait;
use entity::{identities, users};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use tracing::Instrument;
use uuid::Uuid;

use super::SqlContext;
use super::retry::with_retry;
use super::time::{from_db, now_db};
use super::users::{PASSWORD_PROVIDER, new_user_model, validate_email};
use crate::error::{StoreError, StoreResult};
use crate::model::{CreateUserInput, SocialIdentity, SocialIdentityInput, new_id};
use crate::repository::IdentityRepository;

/// How many times `upsert` starts over after losing a race on a unique index.
const UPSERT_ATTEMPTS: u32 = 5;

fn to_social(m: identities::Model) -> SocialIdentity {
    SocialIdentity {
        id: m.id,
        user_id: m.user_id,
        provider: m.provider,
        provider_user_id: m.provider_user_id,
        email: m.email,
        email_verified: m.email_verified,
        name: m.name,
        picture: m.picture,
        raw_claims: m.raw_claims,
        created_at: from_db(m.created_at),
        updated_at: from_db(m.updated_at),
    }
}

/// Checks provider and provider user id; `null` claims become `{}`.
fn checked(mut input: SocialIdentityInput) -> StoreResult<SocialIdentityInput> {
    input.provider = input.provider.trim().to_string();
    if input.provider.is_empty() {
        return Err(StoreError::invalid("provider", "is empty"));
    }
    if input.provider == PASSWORD_PROVIDER {
        return Err(StoreError::invalid("provider", "\"password\" is not a social provider"));
    }
    crate::model::check_non_empty("provider_user_id", &input.provider_user_id)?;
    input.email = match input.email.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(email) => Some(validate_email(email)?.0),
    };
    if input.raw_claims.is_null() {
        input.raw_claims = serde_json::Value::Object(Default::default());
    }
    Ok(input)
}

/// The row of a new identity of `user_id`.
fn new_row(user_id: Uuid, input: &SocialIdentityInput) -> identities::Model {
    let now = now_db();
    identities::Model {
        id: new_id(),
        user_id,
        provider: input.provider.clone(),
        provider_user_id: input.provider_user_id.clone(),
        email: input.email.clone(),
        email_verified: input.email_verified,
        password_hash: None,
        name: input.name.clone(),
        picture: input.picture.clone(),
        raw_claims: input.raw_claims.clone(),
        created_at: now,
        updated_at: now,
    }
}

/// Social identities of one tenant.
pub(crate) struct SqlIdentities {
    ctx: Arc<SqlContext>,
}

impl SqlIdentities {
    pub(crate) fn new(ctx: Arc<SqlContext>) -> Self {
        SqlIdentities { ctx }
    }

    fn err(&self) -> super::error::ErrCtx {
        self.ctx.err("identity")
    }

    async fn find_provider(
        &self,
        txn: &super::exec::NsTxn,
        provider: &str,
        provider_user_id: &str,
    ) -> StoreResult<Option<identities::Model>> {
        identities::Entity::find()
            .filter(identities::Column::Provider.eq(provider))
            .filter(identities::Column::ProviderUserId.eq(provider_user_id))
            .one(txn)
            .await
            .map_err(|e| self.err().map(e))
    }

    /// Refreshes an existing identity with what the provider reported this time.
    async fn refresh(
        &self,
        txn: &super::exec::NsTxn,
        existing: identities::Model,
        input: &SocialIdentityInput,
    ) -> StoreResult<identities::Model> {
        let mut am = existing.into_active_model();
        am.email = Set(input.email.clone());
        am.email_verified = Set(input.email_verified);
        am.name = Set(input.name.clone());
        am.picture = Set(input.picture.clone());
        am.raw_claims = Set(input.raw_claims.clone());
        am.updated_at = Set(now_db());
        sea_orm::ActiveModelTrait::update(am, txn).await.map_err(|e| self.err().map(e))
    }

    async fn upsert_once(&self, input: &SocialIdentityInput) -> StoreResult<(Uuid, bool)> {
        let err = |e| self.err().map(e);
        let txn = self.ctx.begin_write().await.map_err(err)?;
        if let Some(existing) = self.find_provider(&txn, &input.provider, &input.provider_user_id).await? {
            let user_id = existing.user_id;
            self.refresh(&txn, existing, input).await?;
            txn.commit().await.map_err(err)?;
            return Ok((user_id, false));
        }
        let Some(email) = input.email.as_deref() else {
            return Err(StoreError::invalid("email", "is needed to create a user for a new identity"));
        };
        let (email, normalized) = validate_email(email)?;
        let mut account = users::Entity::find()
            .filter(users::Column::EmailNormalized.eq(&normalized))
            .one(&*txn)
            .await
            .map_err(err)?;
        if let Some(found) = &account {
            // Read it again under a shared lock on its primary key, so that its
            // `email_verified` cannot change before the link commits. (Only an existing row is
            // locked: locking the e-mail look-up itself would take MySQL gap locks that
            // deadlock concurrent first logins.)
            account = users::Entity::find_by_id(found.id).lock_shared().one(&*txn).await.map_err(err)?;
        }
        let (user_id, created) = match account {
            // Only a verified e-mail on both sides proves that the provider's user and the
            // account's owner are one person.
            Some(user) if user.email_verified && input.email_verified => (user.id, false),
            Some(_) => {
                return Err(StoreError::LinkRequired { provider: input.provider.clone(), email });
            }
            None => {
                let new_user = CreateUserInput {
                    email: email.clone(),
                    email_verified: input.email_verified,
                    name: input.name.clone(),
                    picture: input.picture.clone(),
                    ..CreateUserInput::default()
                };
                let user = new_user_model(new_user, now_db())?;
                let id = user.id;
                users::Entity::insert(user.into_active_model())
                    .exec_without_returning(&*txn)
                    .await
                    .map_err(|e| self.ctx.err("user").map(e))?;
                (id, true)
            }
        };
        identities::Entity::insert(new_row(user_id, input).into_active_model())
            .exec_without_returning(&*txn)
            .await
            .map_err(err)?;
        txn.commit().await.map_err(err)?;
        Ok((user_id, created))
    }

    async fn link_once(&self, user_id: Uuid, input: &SocialIdentityInput) -> StoreResult<SocialIdentity> {
        let err = |e| self.err().parent("user", user_id).map(e);
        let txn = self.ctx.begin_write().await.map_err(err)?;
        if users::Entity::find_by_id(user_id).count(&*txn).await.map_err(err)? == 0 {
            return Err(StoreError::not_found("user", user_id));
        }
        let row = match self.find_provider(&txn, &input.provider, &input.provider_user_id).await? {
            Some(existing) if existing.user_id != user_id => {
                return Err(StoreError::conflict(
                    "identity",
                    format!("{} identity {} belongs to another user", input.provider, input.provider_user_id),
                ));
            }
            Some(existing) => self.refresh(&txn, existing, input).await?,
            None => {
                let row = new_row(user_id, input);
                identities::Entity::insert(row.clone().into_active_model())
                    .exec_without_returning(&*txn)
                    .await
                    .map_err(err)?;
                row
            }
        };
        txn.commit().await.map_err(err)?;
        Ok(to_social(row))
    }

    async fn unlink_once(&self, user_id: Uuid, provider: &str) -> StoreResult<()> {
        let err = |e| self.err().map(e);
        let txn = self.ctx.begin_write().await.map_err(err)?;
        // Lock the user so that concurrent unlinks cannot each leave the other's identity
        // as the last one and remove both (SQLite: writers are serialised already).
        let locked = users::Entity::find_by_id(user_id)
            .select_only()
            .column(users::Column::Id)
            .lock_exclusive()
            .into_tuple::<Uuid>()
            .one(&*txn)
            .await
            .map_err(err)?;
        if locked.is_none() {
            return Err(StoreError::not_found("identity", format!("{provider} of user {user_id}")));
        }
        let all = identities::Entity::find()
            .filter(identities::Column::UserId.eq(user_id))
            .all(&*txn)
            .await
            .map_err(err)?;
        let (at_provider, others): (Vec<_>, Vec<_>) = all.into_iter().partition(|i| i.provider == provider);
        if at_provider.is_empty() {
            return Err(StoreError::not_found("identity", format!("{provider} of user {user_id}")));
        }
        let other_ways = others
            .iter()
            .filter(|i| {
                i.provider != PASSWORD_PROVIDER || i.password_hash.as_deref().is_some_and(|h| !h.is_empty())
            })
            .count();
        if other_ways == 0 {
            return Err(StoreError::LastIdentity);
        }
        identities::Entity::delete_many()
            .filter(identities::Column::Id.is_in(at_provider.iter().map(|i| i.id)))
            .exec(&*txn)
            .await
            .map_err(err)?;
        txn.commit().await.map_err(err)
    }

    async fn update_claims_once(&self, identity_id: Uuid, claims: &serde_json::Value) -> StoreResult<()> {
        let err = |e| self.err().map(e);
        let txn = self.ctx.begin_write().await.map_err(err)?;
        let res = identities::Entity::update_many()
            .col_expr(identities::Column::RawClaims, Expr::value(claims.clone()))
            .col_expr(identities::Column::UpdatedAt, Expr::value(now_db()))
            .filter(identities::Column::Id.eq(identity_id))
            .filter(identities::Column::Provider.ne(PASSWORD_PROVIDER))
            .exec(&*txn)
            .await
            .map_err(err)?;
        if res.rows_affected == 0 {
            return Err(StoreError::not_found("identity", identity_id));
        }
        txn.commit().await.map_err(err)
    }
}

#[async_trait]
impl IdentityRepository for SqlIdentities {
    async fn get_by_provider(&self, provider: &str, provider_user_id: &str) -> StoreResult<SocialIdentity> {
        async move {
            if provider == PASSWORD_PROVIDER {
                return Err(StoreError::not_found("identity", format!("{provider}:{provider_user_id}")));
            }
            identities::Entity::find()
                .filter(identities::Column::Provider.eq(provider))
                .filter(identities::Column::ProviderUserId.eq(provider_user_id))
                .one(&self.ctx.db)
                .await
                .map_err(|e| self.err().map(e))?
                .map(to_social)
                .ok_or_else(|| StoreError::not_found("identity", format!("{provider}:{provider_user_id}")))
        }
        .instrument(self.ctx.span("identities.get_by_provider"))
        .await
    }

    async fn list_by_user(&self, user_id: Uuid) -> StoreResult<Vec<SocialIdentity>> {
        async move {
            let rows = identities::Entity::find()
                .filter(identities::Column::UserId.eq(user_id))
                .filter(identities::Column::Provider.ne(PASSWORD_PROVIDER))
                .order_by_asc(identities::Column::CreatedAt)
                .order_by_asc(identities::Column::Id)
                .all(&self.ctx.db)
                .await
                .map_err(|e| self.err().map(e))?;
            Ok(rows.into_iter().map(to_social).collect())
        }
        .instrument(self.ctx.span("identities.list_by_user"))
        .await
    }

    async fn upsert(&self, input: SocialIdentityInput) -> StoreResult<(Uuid, bool)> {
        async move {
            crate::model::limits::check_social_identity(&input)?;
            let input = checked(input)?;
            let mut attempt = 0;
            loop {
                attempt += 1;
                match with_retry("identities.upsert", || self.upsert_once(&input)).await {
                    // A concurrent upsert created the identity or the user first: start over
                    // and find it.
                    Err(StoreError::Conflict { .. }) if attempt < UPSERT_ATTEMPTS => continue,
                    other => return other,
                }
            }
        }
        .instrument(self.ctx.span("identities.upsert"))
        .await
    }

    async fn link(&self, user_id: Uuid, input: SocialIdentityInput) -> StoreResult<SocialIdentity> {
        async move {
            crate::model::limits::check_social_identity(&input)?;
            let input = checked(input)?;
            with_retry("identities.link", || self.link_once(user_id, &input)).await
        }
        .instrument(self.ctx.span("identities.link"))
        .await
    }

    async fn unlink(&self, user_id: Uuid, provider: &str) -> StoreResult<()> {
        async move {
            if provider == PASSWORD_PROVIDER {
                return Err(StoreError::invalid(
                    "provider",
                    "the password identity is managed by the user repository",
                ));
            }
            with_retry("identities.unlink", || self.unlink_once(user_id, provider)).await
        }
        .instrument(self.ctx.span("identities.unlink"))
        .await
    }

    async fn update_claims(&self, identity_id: Uuid, claims: serde_json::Value) -> StoreResult<()> {
        async move {
            crate::model::limits::check_json("raw_claims", &claims)?;
            let claims =
                if claims.is_null() { serde_json::Value::Object(Default::default()) } else { claims };
            with_retry("identities.update_claims", || self.update_claims_once(identity_id, &claims)).await
        }
        .instrument(self.ctx.span("identities.update_claims"))
        .await
    }
}
