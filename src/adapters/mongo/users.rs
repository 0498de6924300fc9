//! `UserRepository` on `users` and the password documents of `identities`.
//!
//! E-mail uniqueness and look-ups go through `email_normalized`
//! ([`normalize_email`](crate::model::normalize_email): NFC, lowercased; compared byte for
//! byte, no collation) and its unique index. Creation (user + password identity) and
//! deletion (user + every child collection) run in one transaction.

use std::sync::Arc;

use async_trait::async_trait;
use futures_util::TryStreamExt;
use mongodb::bson::{Bson, Document, doc};
use uuid::Uuid;

use super::docs::{self, IdentityDoc, PASSWORD_PROVIDER, UserDoc};
use super::error;
use super::txn::{self, TxnError};
use super::{MongoContext, as_i64, upsert_with_retry};
use crate::error::{StoreError, StoreResult};
use crate::model::{CreateUserInput, Identity, Timestamp, UpdateUserInput, User, UserFilter, new_id};
use crate::repository::UserRepository;

pub(crate) use crate::model::validate_email;

/// A JSON object field: `null` becomes `{}`; anything but an object is `InvalidInput`.
pub(crate) fn json_object(field: &str, value: serde_json::Value) -> StoreResult<serde_json::Value> {
    match value {
        serde_json::Value::Null => Ok(serde_json::Value::Object(Default::default())),
        v @ serde_json::Value::Object(_) => {
            docs::json(field, &v)?;
            Ok(v)
        }
        other => Err(StoreError::invalid(field, format!("must be a JSON object, got {other}"))),
    }
}

/// The domain user of a document.
pub(crate) fn to_user(tenant_id: Uuid, d: UserDoc) -> User {
    User {
        id: d.id,
        tenant_id,
        email: d.email,
        email_verified: d.email_verified,
        name: d.name,
        given_name: d.given_name,
        family_name: d.family_name,
        picture: d.picture,
        locale: d.locale,
        language: d.language,
        metadata: d.metadata,
        custom_fields: d.custom_fields,
        created_at: d.created_at,
        updated_at: d.updated_at,
        disabled_at: d.disabled_at,
        disabled_until: d.disabled_until,
        disabled_reason: d.disabled_reason,
        disabled_by: d.disabled_by,
        source_client_id: d.source_client_id,
    }
}

/// The domain password identity of a document.
pub(crate) fn to_identity(d: IdentityDoc) -> Identity {
    Identity {
        id: d.id,
        user_id: d.user_id,
        provider: d.provider,
        provider_user_id: d.provider_user_id,
        email: d.email,
        email_verified: d.email_verified,
        password_hash: d.password_hash,
        created_at: d.created_at,
    }
}

/// A new password identity of `user`.
pub(crate) fn password_identity(
    user: &UserDoc,
    password_hash: Option<String>,
    now: Timestamp,
) -> IdentityDoc {
    IdentityDoc {
        id: new_id(),
        user_id: user.id,
        provider: PASSWORD_PROVIDER.to_string(),
        provider_user_id: user.id.to_string(),
        email: Some(user.email.clone()),
        email_verified: user.email_verified,
        password_hash,
        name: None,
        picture: None,
        raw_claims: serde_json::Value::Object(Default::default()),
        created_at: now,
        updated_at: now,
    }
}

/// Inserts `user` (and `identity`, when given) in one transaction.
///
/// Errors: `Conflict` on a taken e-mail.
pub(crate) async fn insert_user(
    ctx: &Arc<MongoContext>,
    user: &UserDoc,
    identity: Option<&IdentityDoc>,
) -> StoreResult<()> {
    let (c, user, identity) = (ctx.clone(), user.clone(), identity.cloned());
    txn::run(ctx, "user", move |s| {
        let (c, user, identity) = (c.clone(), user.clone(), identity.clone());
        Box::pin(async move {
            c.coll::<UserDoc>(docs::USERS)?.insert_one(&user).session(&mut *s).await.map_err(|e| {
                if error::is_duplicate_key(&e) {
                    TxnError::Store(StoreError::conflict(
                        "user",
                        format!("a user with e-mail {} exists", user.email),
                    ))
                } else {
                    TxnError::Driver(e)
                }
            })?;
            if let Some(identity) = identity {
                c.coll::<IdentityDoc>(docs::IDENTITIES)?.insert_one(&identity).session(&mut *s).await?;
            }
            Ok(())
        })
    })
    .await
}

/// Finds a user by normalised e-mail.
pub(crate) async fn find_by_email(ctx: &MongoContext, normalized: &str) -> StoreResult<Option<UserDoc>> {
    ctx.coll::<UserDoc>(docs::USERS)?
        .find_one(doc! { "email_normalized": normalized })
        .await
        .map_err(error::on("user"))
}

/// The document of a new user: the e-mail checked and normalised, the JSON fields checked to
/// be objects (`null` → `{}`), created and updated at `now`. `users.create` and a social
/// sign-in's first visit (`identities.upsert`) both build users here.
///
/// Errors: `InvalidInput` for a malformed e-mail or a JSON field that is not an object.
pub(crate) fn new_user_doc(input: CreateUserInput, now: Timestamp) -> StoreResult<UserDoc> {
    let (email, email_normalized) = validate_email(&input.email)?;
    Ok(UserDoc {
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

/// Users of one tenant.
pub(crate) struct MongoUsers {
    ctx: Arc<MongoContext>,
}

impl MongoUsers {
    pub(crate) fn new(ctx: Arc<MongoContext>) -> Self {
        MongoUsers { ctx }
    }

    fn search_filter(search: Option<&str>) -> Document {
        match search.map(str::trim).filter(|s| !s.is_empty()) {
            None => doc! {},
            Some(s) => doc! { "$or": [
                docs::contains_ci("email_normalized", s),
                docs::contains_ci("name", s),
            ] },
        }
    }

    /// `$set`s `fields` (plus `updated_at`) on the user.
    ///
    /// Errors: `NotFound`.
    async fn set_fields(&self, user_id: Uuid, mut fields: Document) -> StoreResult<()> {
        fields.insert("updated_at", docs::ts(crate::model::now()));
        let res = self
            .ctx
            .raw(docs::USERS)?
            .update_one(doc! { "_id": docs::id(user_id) }, doc! { "$set": fields })
            .await
            .map_err(error::on("user"))?;
        if res.matched_count == 0 {
            return Err(StoreError::not_found("user", user_id));
        }
        Ok(())
    }
}

#[async_trait]
impl UserRepository for MongoUsers {
    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "users.get_by_email")
    )]
    async fn get_by_email(&self, email: &str) -> StoreResult<(User, Option<Identity>)> {
        let (_, normalized) = validate_email(email)?;
        let Some(user) = find_by_email(&self.ctx, &normalized).await? else {
            return Err(StoreError::not_found("user", email));
        };
        let identity = self
            .ctx
            .coll::<IdentityDoc>(docs::IDENTITIES)?
            .find_one(doc! { "user_id": docs::id(user.id), "provider": PASSWORD_PROVIDER })
            .await
            .map_err(error::on("identity"))?;
        Ok((to_user(self.ctx.tenant_id, user), identity.map(to_identity)))
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "users.get_by_id")
    )]
    async fn get_by_id(&self, user_id: Uuid) -> StoreResult<User> {
        self.ctx
            .coll::<UserDoc>(docs::USERS)?
            .find_one(doc! { "_id": docs::id(user_id) })
            .await
            .map_err(error::on("user"))?
            .map(|d| to_user(self.ctx.tenant_id, d))
            .ok_or_else(|| StoreError::not_found("user", user_id))
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "users.list")
    )]
    async fn list(&self, filter: &UserFilter) -> StoreResult<Vec<User>> {
        crate::model::limits::check_search(filter.search.as_deref())?;
        let Some(offset) = crate::model::limits::list_offset(filter.offset) else {
            return Ok(Vec::new());
        };
        let docs: Vec<UserDoc> = self
            .ctx
            .coll::<UserDoc>(docs::USERS)?
            .find(Self::search_filter(filter.search.as_deref()))
            .sort(doc! { "created_at": 1, "_id": 1 })
            .skip(offset)
            .limit(as_i64(filter.effective_limit()))
            .await
            .map_err(error::on("user"))?
            .try_collect()
            .await
            .map_err(error::on("user"))?;
        Ok(docs.into_iter().map(|d| to_user(self.ctx.tenant_id, d)).collect())
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "users.count")
    )]
    async fn count(&self, search: Option<&str>) -> StoreResult<u64> {
        crate::model::limits::check_search(search)?;
        self.ctx
            .raw(docs::USERS)?
            .count_documents(Self::search_filter(search))
            .await
            .map_err(error::on("user"))
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "users.create")
    )]
    async fn create(&self, input: CreateUserInput) -> StoreResult<(User, Identity)> {
        crate::model::limits::check_create_user(&input)?;
        let password_hash = input.password_hash.clone().filter(|h| !h.trim().is_empty());
        if let Some(hash) = &password_hash {
            crate::password::validate_password_hash(hash)?;
        }
        let now = crate::model::now();
        let user = new_user_doc(input, now)?;
        let identity = password_identity(&user, password_hash, now);
        insert_user(&self.ctx, &user, Some(&identity)).await?;
        Ok((to_user(self.ctx.tenant_id, user), to_identity(identity)))
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "users.update")
    )]
    async fn update(&self, user_id: Uuid, input: UpdateUserInput) -> StoreResult<User> {
        crate::model::limits::check_update_user(&input)?;
        let UpdateUserInput {
            name,
            given_name,
            family_name,
            picture,
            locale,
            language,
            metadata,
            custom_fields,
        } = input;
        let mut set = Document::new();
        for (field, value) in [
            ("name", name),
            ("given_name", given_name),
            ("family_name", family_name),
            ("picture", picture),
            ("locale", locale),
            ("language", language),
        ] {
            if let Some(value) = value {
                set.insert(field, docs::str_opt(value.as_deref()));
            }
        }
        if let Some(v) = metadata {
            set.insert("metadata", docs::json("metadata", &json_object("metadata", v)?)?);
        }
        if let Some(v) = custom_fields {
            set.insert("custom_fields", docs::json("custom_fields", &json_object("custom_fields", v)?)?);
        }
        set.insert("updated_at", docs::ts(crate::model::now()));
        self.ctx
            .coll::<UserDoc>(docs::USERS)?
            .find_one_and_update(doc! { "_id": docs::id(user_id) }, doc! { "$set": set })
            .return_document(mongodb::options::ReturnDocument::After)
            .await
            .map_err(error::on("user"))?
            .map(|d| to_user(self.ctx.tenant_id, d))
            .ok_or_else(|| StoreError::not_found("user", user_id))
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "users.delete")
    )]
    async fn delete(&self, user_id: Uuid) -> StoreResult<()> {
        let ctx = self.ctx.clone();
        txn::run(&self.ctx, "user", move |s| {
            let ctx = ctx.clone();
            Box::pin(async move {
                let key = docs::id(user_id);
                let users = ctx.raw(docs::USERS)?;
                if users.count_documents(doc! { "_id": key.clone() }).session(&mut *s).await? == 0 {
                    return Err(StoreError::not_found("user", user_id).into());
                }
                // Children first: without transactions an interruption leaves the user with
                // fewer records, never records without their user.
                for (collection, field) in docs::USER_CHILDREN {
                    ctx.raw(collection)?.delete_many(doc! { *field: key.clone() }).session(&mut *s).await?;
                }
                users.delete_one(doc! { "_id": key }).session(&mut *s).await?;
                Ok(())
            })
        })
        .await?;
        tracing::info!(tenant = %self.ctx.tenant_slug, %user_id, "user deleted with its records");
        Ok(())
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "users.disable")
    )]
    async fn disable(
        &self,
        user_id: Uuid,
        by: &str,
        reason: Option<&str>,
        until: Option<Timestamp>,
    ) -> StoreResult<()> {
        crate::model::limits::check_actor(by, reason)?;
        crate::model::limits::check_time_opt("until", until)?;
        self.set_fields(
            user_id,
            doc! {
                "disabled_at": docs::ts(crate::model::now()),
                "disabled_until": docs::ts_opt(until.map(crate::model::truncate_micros)),
                "disabled_reason": docs::str_opt(reason),
                "disabled_by": by,
            },
        )
        .await
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "users.enable")
    )]
    async fn enable(&self, user_id: Uuid, by: &str) -> StoreResult<()> {
        crate::model::limits::check_actor(by, None)?;
        self.set_fields(
            user_id,
            doc! {
                "disabled_at": Bson::Null,
                "disabled_until": Bson::Null,
                "disabled_reason": Bson::Null,
                "disabled_by": Bson::Null,
            },
        )
        .await?;
        tracing::info!(tenant = %self.ctx.tenant_slug, %user_id, by, "user enabled");
        Ok(())
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "users.set_email_verified")
    )]
    async fn set_email_verified(&self, user_id: Uuid, verified: bool) -> StoreResult<()> {
        // User and password identity change together.
        let ctx = self.ctx.clone();
        txn::run(&self.ctx, "user", move |s| {
            let ctx = ctx.clone();
            Box::pin(async move {
                let now = docs::ts(crate::model::now());
                let res = ctx
                    .raw(docs::USERS)?
                    .update_one(
                        doc! { "_id": docs::id(user_id) },
                        doc! { "$set": { "email_verified": verified, "updated_at": now.clone() } },
                    )
                    .session(&mut *s)
                    .await?;
                if res.matched_count == 0 {
                    return Err(StoreError::not_found("user", user_id).into());
                }
                ctx.raw(docs::IDENTITIES)?
                    .update_many(
                        doc! { "user_id": docs::id(user_id), "provider": PASSWORD_PROVIDER },
                        doc! { "$set": { "email_verified": verified, "updated_at": now } },
                    )
                    .session(&mut *s)
                    .await?;
                Ok(())
            })
        })
        .await
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "users.update_password_hash")
    )]
    async fn update_password_hash(&self, user_id: Uuid, new_hash: &str) -> StoreResult<()> {
        crate::model::check_non_empty("password_hash", new_hash)?;
        crate::password::validate_password_hash(new_hash)?;
        let Some(user) = self
            .ctx
            .coll::<UserDoc>(docs::USERS)?
            .find_one(doc! { "_id": docs::id(user_id) })
            .await
            .map_err(error::on("user"))?
        else {
            return Err(StoreError::not_found("user", user_id));
        };
        let now = crate::model::now();
        let fresh = password_identity(&user, None, now);
        // One password identity per user: `(provider, provider_user_id = user id)` is unique,
        // so concurrent upserts converge on one document.
        let identities = self.ctx.raw(docs::IDENTITIES)?;
        upsert_with_retry("identity", || {
            identities
                .update_one(
                    doc! { "provider": PASSWORD_PROVIDER, "provider_user_id": user_id.to_string() },
                    doc! {
                        "$set": { "password_hash": new_hash, "updated_at": docs::ts(now) },
                        "$setOnInsert": {
                            "_id": docs::id(fresh.id),
                            "user_id": docs::id(user_id),
                            "email": docs::str_opt(fresh.email.as_deref()),
                            "email_verified": fresh.email_verified,
                            "name": Bson::Null,
                            "picture": Bson::Null,
                            "raw_claims": {},
                            "created_at": docs::ts(now),
                        },
                    },
                )
                .upsert(true)
        })
        .await?;
        self.set_fields(user_id, doc! {}).await
    }
}
