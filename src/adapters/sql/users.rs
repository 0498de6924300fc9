//! `UserRepository` on the `users` table and the password rows of `identities`.
//!
//! E-mail is matched through `email_normalized` ([`normalize_email`](crate::model::normalize_email):
//! NFC, lowercased; unique index; `utf8mb4_bin` on MySQL/MariaDB), so uniqueness and
//! look-ups are case-insensitive and byte-exact otherwise on every engine. Every write runs
//! in a [`WriteTxn`](super::WriteTxn) under [`with_retry`].

use std::sync::Arc;

use async_trait::async_trait;
use entity::{identities, users};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, TryIntoModel,
};
use tracing::Instrument;
use uuid::Uuid;

use super::SqlContext;
use super::retry::with_retry;
use super::template::{UserByEmail, UserById};
use super::time::{from_db, from_db_opt, now_db, to_db_opt};
use crate::error::{StoreError, StoreResult};
use crate::model::{CreateUserInput, Identity, Timestamp, UpdateUserInput, User, UserFilter, new_id};
use crate::repository::UserRepository;

/// Provider name of the password identity.
pub(crate) const PASSWORD_PROVIDER: &str = "password";

pub(crate) use crate::model::validate_email;

/// A JSON object for a `metadata`-like column: `null` becomes `{}`; anything but an object
/// is `InvalidInput`.
pub(crate) fn json_object(field: &str, value: serde_json::Value) -> StoreResult<serde_json::Value> {
    match value {
        serde_json::Value::Null => Ok(serde_json::Value::Object(Default::default())),
        v @ serde_json::Value::Object(_) => Ok(v),
        other => Err(StoreError::invalid(field, format!("must be a JSON object, got {other}"))),
    }
}

/// Escape character of [`like_contains`] patterns.
pub(crate) const LIKE_ESCAPE: char = '!';

/// A `LIKE` pattern matching `needle` (lowercased) anywhere, with `%`, `_` and the escape
/// character escaped.
pub(crate) fn like_contains(needle: &str) -> LikeExpr {
    let mut pattern = String::with_capacity(needle.len() + 2);
    pattern.push('%');
    for c in needle.to_lowercase().chars() {
        if matches!(c, '%' | '_') || c == LIKE_ESCAPE {
            pattern.push(LIKE_ESCAPE);
        }
        pattern.push(c);
    }
    pattern.push('%');
    LikeExpr::new(pattern).escape(LIKE_ESCAPE)
}

/// The domain password identity of a row.
pub(crate) fn to_identity(m: identities::Model) -> Identity {
    Identity {
        id: m.id,
        user_id: m.user_id,
        provider: m.provider,
        provider_user_id: m.provider_user_id,
        email: m.email,
        email_verified: m.email_verified,
        password_hash: m.password_hash,
        created_at: from_db(m.created_at),
    }
}

/// Users of one tenant.
pub(crate) struct SqlUsers {
    ctx: Arc<SqlContext>,
}

impl SqlUsers {
    pub(crate) fn new(ctx: Arc<SqlContext>) -> Self {
        SqlUsers { ctx }
    }

    fn err(&self) -> super::error::ErrCtx {
        self.ctx.err("user")
    }

    fn to_user(&self, m: users::Model) -> User {
        to_user(self.ctx.tenant_id, m)
    }

    fn search_condition(search: Option<&str>) -> Condition {
        match search.map(str::trim).filter(|s| !s.is_empty()) {
            None => Condition::all(),
            Some(s) => Condition::any()
                .add(Expr::col(users::Column::EmailNormalized).like(like_contains(s)))
                .add(Expr::expr(Func::lower(Expr::col(users::Column::Name))).like(like_contains(s))),
        }
    }

    async fn create_once(
        &self,
        user: &users::ActiveModel,
        identity: &identities::ActiveModel,
    ) -> StoreResult<()> {
        let err = |e| self.err().map(e);
        let txn = self.ctx.begin_write().await.map_err(err)?;
        users::Entity::insert(user.clone()).exec_without_returning(&*txn).await.map_err(err)?;
        identities::Entity::insert(identity.clone())
            .exec_without_returning(&*txn)
            .await
            .map_err(|e| self.ctx.err("identity").map(e))?;
        txn.commit().await.map_err(err)
    }

    async fn update_once(&self, user_id: Uuid, input: &UpdateUserInput) -> StoreResult<User> {
        let err = |e| self.err().map(e);
        let txn = self.ctx.begin_write().await.map_err(err)?;
        let Some(model) = users::Entity::find_by_id(user_id).one(&*txn).await.map_err(err)? else {
            return Err(StoreError::not_found("user", user_id));
        };
        let mut am = model.into_active_model();
        let UpdateUserInput {
            name,
            given_name,
            family_name,
            picture,
            locale,
            language,
            metadata,
            custom_fields,
        } = input.clone();
        if let Some(v) = name {
            am.name = Set(v);
        }
        if let Some(v) = given_name {
            am.given_name = Set(v);
        }
        if let Some(v) = family_name {
            am.family_name = Set(v);
        }
        if let Some(v) = picture {
            am.picture = Set(v);
        }
        if let Some(v) = locale {
            am.locale = Set(v);
        }
        if let Some(v) = language {
            am.language = Set(v);
        }
        if let Some(v) = metadata {
            am.metadata = Set(json_object("metadata", v)?);
        }
        if let Some(v) = custom_fields {
            am.custom_fields = Set(json_object("custom_fields", v)?);
        }
        am.updated_at = Set(now_db());
        let updated = am.update(&*txn).await.map_err(err)?;
        txn.commit().await.map_err(err)?;
        Ok(self.to_user(updated))
    }

    /// Runs `UPDATE users SET … WHERE id = user_id` in a write transaction.
    ///
    /// Errors: `NotFound` when no row matched.
    async fn update_columns_once(
        &self,
        user_id: Uuid,
        columns: &[(users::Column, sea_orm::Value)],
        verified_identity: Option<bool>,
    ) -> StoreResult<()> {
        let err = |e| self.err().map(e);
        let txn = self.ctx.begin_write().await.map_err(err)?;
        let mut update = users::Entity::update_many().filter(users::Column::Id.eq(user_id));
        for (col, value) in columns {
            update = update.col_expr(*col, Expr::value(value.clone()));
        }
        let res = update
            .col_expr(users::Column::UpdatedAt, Expr::value(now_db()))
            .exec(&*txn)
            .await
            .map_err(err)?;
        if res.rows_affected == 0 {
            return Err(StoreError::not_found("user", user_id));
        }
        if let Some(verified) = verified_identity {
            identities::Entity::update_many()
                .col_expr(identities::Column::EmailVerified, Expr::value(verified))
                .col_expr(identities::Column::UpdatedAt, Expr::value(now_db()))
                .filter(identities::Column::UserId.eq(user_id))
                .filter(identities::Column::Provider.eq(PASSWORD_PROVIDER))
                .exec(&*txn)
                .await
                .map_err(err)?;
        }
        txn.commit().await.map_err(err)
    }

    async fn update_password_once(&self, user_id: Uuid, hash: &str) -> StoreResult<()> {
        let err = |e| self.err().map(e);
        let txn = self.ctx.begin_write().await.map_err(err)?;
        let Some(user) = users::Entity::find_by_id(user_id).lock_exclusive().one(&*txn).await.map_err(err)?
        else {
            return Err(StoreError::not_found("user", user_id));
        };
        let now = now_db();
        let res = identities::Entity::update_many()
            .col_expr(identities::Column::PasswordHash, Expr::value(Some(hash.to_string())))
            .col_expr(identities::Column::UpdatedAt, Expr::value(now))
            .filter(identities::Column::UserId.eq(user_id))
            .filter(identities::Column::Provider.eq(PASSWORD_PROVIDER))
            .exec(&*txn)
            .await
            .map_err(err)?;
        if res.rows_affected == 0 {
            let identity = password_identity(&user, Some(hash.to_string()), now);
            identities::Entity::insert(identity)
                .exec_without_returning(&*txn)
                .await
                .map_err(|e| self.ctx.err("identity").map(e))?;
        }
        users::Entity::update_many()
            .col_expr(users::Column::UpdatedAt, Expr::value(now))
            .filter(users::Column::Id.eq(user_id))
            .exec(&*txn)
            .await
            .map_err(err)?;
        txn.commit().await.map_err(err)
    }
}

/// The domain user of a row.
pub(crate) fn to_user(tenant_id: Uuid, m: users::Model) -> User {
    User {
        id: m.id,
        tenant_id,
        email: m.email,
        email_verified: m.email_verified,
        name: m.name,
        given_name: m.given_name,
        family_name: m.family_name,
        picture: m.picture,
        locale: m.locale,
        language: m.language,
        metadata: m.metadata,
        custom_fields: m.custom_fields,
        created_at: from_db(m.created_at),
        updated_at: from_db(m.updated_at),
        disabled_at: from_db_opt(m.disabled_at),
        disabled_until: from_db_opt(m.disabled_until),
        disabled_reason: m.disabled_reason,
        disabled_by: m.disabled_by,
        source_client_id: m.source_client_id,
    }
}

/// A new password identity row for `user`.
pub(crate) fn password_identity(
    user: &users::Model,
    password_hash: Option<String>,
    now: sea_orm::prelude::DateTimeWithTimeZone,
) -> identities::ActiveModel {
    identities::ActiveModel {
        id: Set(new_id()),
        user_id: Set(user.id),
        provider: Set(PASSWORD_PROVIDER.to_string()),
        provider_user_id: Set(user.id.to_string()),
        email: Set(Some(user.email.clone())),
        email_verified: Set(user.email_verified),
        password_hash: Set(password_hash),
        name: Set(None),
        picture: Set(None),
        raw_claims: Set(serde_json::Value::Object(Default::default())),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// The row of a new user: the e-mail checked and normalised, the JSON fields checked to be
/// objects (`null` → `{}`), created and updated at `now`. `users.create` and a social
/// sign-in's first visit (`identities.upsert`) both build users here.
///
/// Errors: `InvalidInput` for a malformed e-mail or a JSON field that is not an object.
pub(crate) fn new_user_model(
    input: CreateUserInput,
    now: sea_orm::prelude::DateTimeWithTimeZone,
) -> StoreResult<users::Model> {
    let (email, email_normalized) = validate_email(&input.email)?;
    Ok(users::Model {
        id: new_id(),
        email,
        email_normalized,
        email_verified: input.email_verified,
        name: input.name,
        given_name: input.given_name,
        family_name: input.family_name,
        picture: input.picture,
        locale: input.locale,
        language: input.language,
        metadata: json_object("metadata", input.metadata)?,
        custom_fields: json_object("custom_fields", input.custom_fields)?,
        created_at: now,
        updated_at: now,
        disabled_at: None,
        disabled_until: None,
        disabled_reason: None,
        disabled_by: None,
        source_client_id: input.source_client_id,
    })
}

#[async_trait]
impl UserRepository for SqlUsers {
    async fn get_by_email(&self, email: &str) -> StoreResult<(User, Option<Identity>)> {
        async move {
            let err = |e| self.err().map(e);
            let (_, normalized) = validate_email(email)?;
            // One round trip: the user and its password identity (if any) in one statement;
            // the provider is a condition of the join, so a user with only social
            // identities still comes back (with `None`).
            let row = self.ctx.db.one::<UserByEmail>(&normalized).await;
            let Some((user, identity)) = row.map_err(err)? else {
                return Err(StoreError::not_found("user", email));
            };
            Ok((self.to_user(user), identity.map(to_identity)))
        }
        .instrument(self.ctx.span("users.get_by_email"))
        .await
    }

    async fn get_by_id(&self, user_id: Uuid) -> StoreResult<User> {
        async move {
            let row = self.ctx.db.one::<UserById>(user_id).await;
            row.map_err(|e| self.err().map(e))?
                .map(|m| self.to_user(m))
                .ok_or_else(|| StoreError::not_found("user", user_id))
        }
        .instrument(self.ctx.span("users.get_by_id"))
        .await
    }

    async fn list(&self, filter: &UserFilter) -> StoreResult<Vec<User>> {
        async move {
            crate::model::limits::check_search(filter.search.as_deref())?;
            let Some(offset) = crate::model::limits::list_offset(filter.offset) else {
                return Ok(Vec::new());
            };
            let rows = users::Entity::find()
                .filter(Self::search_condition(filter.search.as_deref()))
                .order_by_asc(users::Column::CreatedAt)
                .order_by_asc(users::Column::Id)
                .limit(filter.effective_limit())
                .offset(offset)
                .all(&self.ctx.db)
                .await
                .map_err(|e| self.err().map(e))?;
            Ok(rows.into_iter().map(|m| self.to_user(m)).collect())
        }
        .instrument(self.ctx.span("users.list"))
        .await
    }

    async fn count(&self, search: Option<&str>) -> StoreResult<u64> {
        async move {
            crate::model::limits::check_search(search)?;
            users::Entity::find()
                .filter(Self::search_condition(search))
                .count(&self.ctx.db)
                .await
                .map_err(|e| self.err().map(e))
        }
        .instrument(self.ctx.span("users.count"))
        .await
    }

    async fn create(&self, input: CreateUserInput) -> StoreResult<(User, Identity)> {
        async move {
            crate::model::limits::check_create_user(&input)?;
            let password_hash = input.password_hash.clone().filter(|h| !h.trim().is_empty());
            if let Some(hash) = &password_hash {
                crate::password::validate_password_hash(hash)?;
            }
            let now = now_db();
            let model = new_user_model(input, now)?;
            let user_am = model.clone().into_active_model();
            let identity_am = password_identity(&model, password_hash, now);
            with_retry("users.create", || self.create_once(&user_am, &identity_am)).await.map_err(
                |e| match e {
                    StoreError::Conflict { .. } => {
                        StoreError::conflict("user", format!("a user with e-mail {} exists", model.email))
                    }
                    other => other,
                },
            )?;
            let identity = identity_am.try_into_model().map_err(|e| self.err().map(e))?;
            Ok((self.to_user(model), to_identity(identity)))
        }
        .instrument(self.ctx.span("users.create"))
        .await
    }

    async fn update(&self, user_id: Uuid, input: UpdateUserInput) -> StoreResult<User> {
        async move {
            crate::model::limits::check_update_user(&input)?;
            if let Some(v) = &input.metadata {
                json_object("metadata", v.clone())?;
            }
            if let Some(v) = &input.custom_fields {
                json_object("custom_fields", v.clone())?;
            }
            with_retry("users.update", || self.update_once(user_id, &input)).await
        }
        .instrument(self.ctx.span("users.update"))
        .await
    }

    async fn delete(&self, user_id: Uuid) -> StoreResult<()> {
        async move {
            with_retry("users.delete", || async {
                let err = |e| self.err().map(e);
                let txn = self.ctx.begin_write().await.map_err(err)?;
                let res = users::Entity::delete_by_id(user_id).exec(&*txn).await.map_err(err)?;
                if res.rows_affected == 0 {
                    return Err(StoreError::not_found("user", user_id));
                }
                txn.commit().await.map_err(err)
            })
            .await
        }
        .instrument(self.ctx.span("users.delete"))
        .await
    }

    async fn disable(
        &self,
        user_id: Uuid,
        by: &str,
        reason: Option<&str>,
        until: Option<Timestamp>,
    ) -> StoreResult<()> {
        async move {
            crate::model::limits::check_actor(by, reason)?;
            crate::model::limits::check_time_opt("until", until)?;
            let columns = [
                (users::Column::DisabledAt, Some(now_db()).into()),
                (users::Column::DisabledUntil, to_db_opt(until).into()),
                (users::Column::DisabledReason, reason.map(str::to_string).into()),
                (users::Column::DisabledBy, Some(by.to_string()).into()),
            ];
            with_retry("users.disable", || self.update_columns_once(user_id, &columns, None)).await
        }
        .instrument(self.ctx.span("users.disable"))
        .await
    }

    async fn enable(&self, user_id: Uuid, by: &str) -> StoreResult<()> {
        async move {
            crate::model::limits::check_actor(by, None)?;
            let none_ts: Option<sea_orm::prelude::DateTimeWithTimeZone> = None;
            let none_str: Option<String> = None;
            let columns = [
                (users::Column::DisabledAt, none_ts.into()),
                (users::Column::DisabledUntil, none_ts.into()),
                (users::Column::DisabledReason, none_str.clone().into()),
                (users::Column::DisabledBy, none_str.into()),
            ];
            with_retry("users.enable", || self.update_columns_once(user_id, &columns, None)).await?;
            tracing::info!(tenant = %self.ctx.tenant_slug, %user_id, by, "user enabled");
            Ok(())
        }
        .instrument(self.ctx.span("users.enable"))
        .await
    }

    async fn set_email_verified(&self, user_id: Uuid, verified: bool) -> StoreResult<()> {
        async move {
            let columns = [(users::Column::EmailVerified, verified.into())];
            with_retry("users.set_email_verified", || {
                self.update_columns_once(user_id, &columns, Some(verified))
            })
            .await
        }
        .instrument(self.ctx.span("users.set_email_verified"))
        .await
    }

    async fn update_password_hash(&self, user_id: Uuid, new_hash: &str) -> StoreResult<()> {
        async move {
            crate::model::check_non_empty("password_hash", new_hash)?;
            crate::password::validate_password_hash(new_hash)?;
            with_retry("users.update_password_hash", || self.update_password_once(user_id, new_hash)).await
        }
        .instrument(self.ctx.span("users.update_password_hash"))
        .await
    }
}
