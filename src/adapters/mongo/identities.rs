//! `IdentityRepository` on `identities` (social documents: `provider != "password"`).
//!
//! `(provider, provider_user_id)` is unique, so an identity exists once whatever the races.
//! `upsert` is a loop of atomic steps, each safe to lose a race in: update the identity if
//! it exists; else link it to the user with the e-mail (only when both the provider and the
//! account verified it; otherwise `LinkRequired`); else create user and identity in one
//! transaction. A duplicate key means another caller got there first: the loop runs
//! again and finds their work.

use std::sync::Arc;

use async_trait::async_trait;
use futures_util::TryStreamExt;
use mongodb::bson::doc;
use mongodb::options::ReturnDocument;
use uuid::Uuid;

use super::MongoContext;
use super::docs::{self, IdentityDoc, PASSWORD_PROVIDER};
use super::error;
use super::txn::{self, TxnError};
use super::users::{find_by_email, insert_user, new_user_doc, validate_email};
use crate::error::{StoreError, StoreResult};
use crate::model::{CreateUserInput, SocialIdentity, SocialIdentityInput, new_id};
use crate::repository::IdentityRepository;

/// How many times `upsert` and `link` go round after losing a race.
const MAX_ROUNDS: usize = 8;

fn to_social(d: IdentityDoc) -> SocialIdentity {
    SocialIdentity {
        id: d.id,
        user_id: d.user_id,
        provider: d.provider,
        provider_user_id: d.provider_user_id,
        email: d.email,
        email_verified: d.email_verified,
        name: d.name,
        picture: d.picture,
        raw_claims: d.raw_claims,
        created_at: d.created_at,
        updated_at: d.updated_at,
    }
}

/// Checks provider, provider user id and e-mail (a blank e-mail is none; a given one is
/// validated and kept trimmed).
fn validate(mut input: SocialIdentityInput) -> StoreResult<SocialIdentityInput> {
    crate::model::check_non_empty("provider", &input.provider)?;
    if input.provider == PASSWORD_PROVIDER {
        return Err(StoreError::invalid("provider", "\"password\" is not a social provider"));
    }
    crate::model::check_non_empty("provider_user_id", &input.provider_user_id)?;
    input.email = match input.email.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(email) => Some(validate_email(email)?.0),
    };
    docs::json("raw_claims", &input.raw_claims)?;
    Ok(input)
}

fn new_identity(user_id: Uuid, input: &SocialIdentityInput) -> IdentityDoc {
    let now = crate::model::now();
    IdentityDoc {
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
pub(crate) struct MongoIdentities {
    ctx: Arc<MongoContext>,
}

impl MongoIdentities {
    pub(crate) fn new(ctx: Arc<MongoContext>) -> Self {
        MongoIdentities { ctx }
    }

    /// Updates the identity's profile fields from `input` when it exists (of `owner`, when
    /// given). Returns it.
    async fn refresh(
        &self,
        input: &SocialIdentityInput,
        owner: Option<Uuid>,
    ) -> StoreResult<Option<IdentityDoc>> {
        let mut filter = doc! { "provider": &input.provider, "provider_user_id": &input.provider_user_id };
        if let Some(owner) = owner {
            filter.insert("user_id", docs::id(owner));
        }
        self.ctx
            .coll::<IdentityDoc>(docs::IDENTITIES)?
            .find_one_and_update(
                filter,
                doc! { "$set": {
                    "email": docs::str_opt(input.email.as_deref()),
                    "email_verified": input.email_verified,
                    "name": docs::str_opt(input.name.as_deref()),
                    "picture": docs::str_opt(input.picture.as_deref()),
                    "raw_claims": docs::json("raw_claims", &input.raw_claims)?,
                    "updated_at": docs::ts(crate::model::now()),
                } },
            )
            .return_document(ReturnDocument::After)
            .await
            .map_err(error::on("identity"))
    }

    async fn owner_of(&self, input: &SocialIdentityInput) -> StoreResult<Option<Uuid>> {
        Ok(self
            .ctx
            .coll::<IdentityDoc>(docs::IDENTITIES)?
            .find_one(doc! { "provider": &input.provider, "provider_user_id": &input.provider_user_id })
            .await
            .map_err(error::on("identity"))?
            .map(|d| d.user_id))
    }

    /// Inserts the identity. `Ok(false)` when it already exists (a lost race).
    async fn insert(&self, identity: &IdentityDoc) -> StoreResult<bool> {
        match self.ctx.coll::<IdentityDoc>(docs::IDENTITIES)?.insert_one(identity).await {
            Ok(_) => Ok(true),
            Err(e) if error::is_duplicate_key(&e) => Ok(false),
            Err(e) => Err(error::map("identity", e)),
        }
    }

    /// Creates a user from the provider's profile and links the identity, in one
    /// transaction. `Ok(None)` when the e-mail or the identity was taken meanwhile.
    async fn create_user_with(&self, email: &str, input: &SocialIdentityInput) -> StoreResult<Option<Uuid>> {
        let new_user = CreateUserInput {
            email: email.to_string(),
            email_verified: input.email_verified,
            name: input.name.clone(),
            picture: input.picture.clone(),
            ..CreateUserInput::default()
        };
        let user = new_user_doc(new_user, crate::model::now())?;
        let identity = new_identity(user.id, input);
        match insert_user(&self.ctx, &user, Some(&identity)).await {
            Ok(()) => Ok(Some(user.id)),
            Err(StoreError::Conflict { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[async_trait]
impl IdentityRepository for MongoIdentities {
    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "identities.get_by_provider")
    )]
    async fn get_by_provider(&self, provider: &str, provider_user_id: &str) -> StoreResult<SocialIdentity> {
        let not_found = || StoreError::not_found("identity", format!("{provider}/{provider_user_id}"));
        if provider == PASSWORD_PROVIDER {
            return Err(not_found());
        }
        self.ctx
            .coll::<IdentityDoc>(docs::IDENTITIES)?
            .find_one(doc! { "provider": provider, "provider_user_id": provider_user_id })
            .await
            .map_err(error::on("identity"))?
            .map(to_social)
            .ok_or_else(not_found)
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "identities.list_by_user")
    )]
    async fn list_by_user(&self, user_id: Uuid) -> StoreResult<Vec<SocialIdentity>> {
        let docs: Vec<IdentityDoc> = self
            .ctx
            .coll::<IdentityDoc>(docs::IDENTITIES)?
            .find(doc! { "user_id": docs::id(user_id), "provider": { "$ne": PASSWORD_PROVIDER } })
            .sort(doc! { "created_at": 1, "_id": 1 })
            .await
            .map_err(error::on("identity"))?
            .try_collect()
            .await
            .map_err(error::on("identity"))?;
        Ok(docs.into_iter().map(to_social).collect())
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "identities.upsert")
    )]
    async fn upsert(&self, input: SocialIdentityInput) -> StoreResult<(Uuid, bool)> {
        crate::model::limits::check_social_identity(&input)?;
        let input = validate(input)?;
        let email = input.email.as_deref();
        for _ in 0..MAX_ROUNDS {
            if let Some(existing) = self.refresh(&input, None).await? {
                return Ok((existing.user_id, false));
            }
            let Some(email) = email else {
                return Err(StoreError::invalid(
                    "email",
                    "a new user needs an e-mail and the provider gave none",
                ));
            };
            let (_, normalized) = validate_email(email)?;
            if let Some(user) = find_by_email(&self.ctx, &normalized).await? {
                // Only a verified e-mail on both sides proves that the provider's user and
                // the account's owner are one person.
                if !(user.email_verified && input.email_verified) {
                    return Err(StoreError::LinkRequired {
                        provider: input.provider.clone(),
                        email: email.to_string(),
                    });
                }
                if self.insert(&new_identity(user.id, &input)).await? {
                    return Ok((user.id, false));
                }
                continue; // the identity appeared meanwhile: update it next round
            }
            if let Some(user_id) = self.create_user_with(email, &input).await? {
                return Ok((user_id, true));
            }
        }
        Err(StoreError::unavailable(
            error::BACKEND,
            format!("identity {}/{} kept changing under upsert", input.provider, input.provider_user_id),
        ))
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "identities.link")
    )]
    async fn link(&self, user_id: Uuid, input: SocialIdentityInput) -> StoreResult<SocialIdentity> {
        crate::model::limits::check_social_identity(&input)?;
        let input = validate(input)?;
        self.ctx.require_user(user_id).await?;
        for _ in 0..MAX_ROUNDS {
            if let Some(mine) = self.refresh(&input, Some(user_id)).await? {
                return Ok(to_social(mine));
            }
            if let Some(owner) = self.owner_of(&input).await? {
                if owner != user_id {
                    return Err(StoreError::conflict(
                        "identity",
                        format!("{}/{} belongs to another user", input.provider, input.provider_user_id),
                    ));
                }
                continue;
            }
            let identity = new_identity(user_id, &input);
            if self.insert(&identity).await? {
                return Ok(to_social(identity));
            }
        }
        Err(StoreError::unavailable(
            error::BACKEND,
            format!("identity {}/{} kept changing under link", input.provider, input.provider_user_id),
        ))
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "identities.unlink")
    )]
    async fn unlink(&self, user_id: Uuid, provider: &str) -> StoreResult<()> {
        let ctx = self.ctx.clone();
        let provider = provider.to_string();
        txn::run(&self.ctx, "identity", move |s| {
            let (ctx, provider) = (ctx.clone(), provider.clone());
            Box::pin(async move {
                let key = docs::id(user_id);
                // Writing the user first makes concurrent unlinks of one user conflict, so
                // two of them cannot each remove "the other" last identity.
                ctx.raw(docs::USERS)?
                    .update_one(
                        doc! { "_id": key.clone() },
                        doc! { "$set": { "updated_at": docs::ts(crate::model::now()) } },
                    )
                    .session(&mut *s)
                    .await?;
                let identities = ctx.coll::<IdentityDoc>(docs::IDENTITIES)?;
                let mut all: Vec<IdentityDoc> = Vec::new();
                let mut cursor = identities.find(doc! { "user_id": key.clone() }).session(&mut *s).await?;
                while let Some(d) = cursor.next(&mut *s).await.transpose()? {
                    all.push(d);
                }
                let targets =
                    all.iter().filter(|d| d.provider == provider && d.provider != PASSWORD_PROVIDER).count();
                if targets == 0 {
                    return Err(StoreError::not_found("identity", format!("{user_id}/{provider}")).into());
                }
                let has_password = all.iter().any(|d| {
                    d.provider == PASSWORD_PROVIDER
                        && d.password_hash.as_deref().is_some_and(|h| !h.is_empty())
                });
                let others =
                    all.iter().filter(|d| d.provider != provider && d.provider != PASSWORD_PROVIDER).count();
                if !has_password && others == 0 {
                    return Err(TxnError::Store(StoreError::LastIdentity));
                }
                identities
                    .delete_many(doc! { "user_id": key, "provider": &provider })
                    .session(&mut *s)
                    .await?;
                Ok(())
            })
        })
        .await
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "identities.update_claims")
    )]
    async fn update_claims(&self, identity_id: Uuid, claims: serde_json::Value) -> StoreResult<()> {
        crate::model::limits::check_json("raw_claims", &claims)?;
        let res = self
            .ctx
            .raw(docs::IDENTITIES)?
            .update_one(
                doc! { "_id": docs::id(identity_id), "provider": { "$ne": PASSWORD_PROVIDER } },
                doc! { "$set": {
                    "raw_claims": docs::json("raw_claims", &claims)?,
                    "updated_at": docs::ts(crate::model::now()),
                } },
            )
            .await
            .map_err(error::on("identity"))?;
        if res.matched_count == 0 {
            return Err(StoreError::not_found("identity", identity_id));
        }
        Ok(())
    }
}
