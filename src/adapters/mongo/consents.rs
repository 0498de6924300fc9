//! `ConsentRepository` on `consents`, unique on `(user_id, client_id)`.
//!
//! An upsert is one `find_one_and_update` with `upsert: true` (the id and grant time are
//! set on insert only), run once more when two first grants race on the unique key.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use futures_util::TryStreamExt;
use mongodb::bson::{Bson, Document, doc};
use mongodb::options::ReturnDocument;
use uuid::Uuid;

use super::docs::{self, ConsentDoc};
use super::{MongoContext, as_i64, error, page_limit, upsert_with_retry};
use crate::error::{StoreError, StoreResult};
use crate::model::{Consent, new_id};
use crate::repository::ConsentRepository;

const ENTITY: &str = "consent";

fn to_consent(d: ConsentDoc) -> Consent {
    Consent {
        id: d.id,
        user_id: d.user_id,
        client_id: d.client_id,
        scopes: d.scopes.into_iter().collect(),
        granted_at: d.granted_at,
        updated_at: d.updated_at,
        revoked_at: d.revoked_at,
    }
}

fn active_only_if(mut filter: Document, active_only: bool) -> Document {
    if active_only {
        filter.insert("revoked_at", Bson::Null);
    }
    filter
}

/// Consents of one tenant.
pub(crate) struct MongoConsents {
    ctx: Arc<MongoContext>,
}

impl MongoConsents {
    pub(crate) fn new(ctx: Arc<MongoContext>) -> Self {
        MongoConsents { ctx }
    }

    fn coll(&self) -> StoreResult<mongodb::Collection<ConsentDoc>> {
        self.ctx.coll(docs::CONSENTS)
    }

    async fn find(&self, filter: Document, skip: u64, limit: Option<u64>) -> StoreResult<Vec<Consent>> {
        let coll = self.coll()?;
        let mut find = coll.find(filter).sort(doc! { "granted_at": 1, "_id": 1 }).skip(skip);
        if let Some(limit) = limit {
            find = find.limit(as_i64(limit));
        }
        let rows: Vec<ConsentDoc> =
            find.await.map_err(error::on(ENTITY))?.try_collect().await.map_err(error::on(ENTITY))?;
        Ok(rows.into_iter().map(to_consent).collect())
    }
}

#[async_trait]
impl ConsentRepository for MongoConsents {
    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "consents.upsert")
    )]
    async fn upsert(
        &self,
        user_id: Uuid,
        client_id: &str,
        scopes: &BTreeSet<String>,
    ) -> StoreResult<Consent> {
        crate::model::limits::check_text("client_id", client_id, crate::model::limits::len::NAME)?;
        crate::model::limits::check_texts("scopes", scopes, crate::model::limits::len::NAME)?;
        crate::model::check_non_empty("client_id", client_id)?;
        self.ctx.require_user(user_id).await?;
        let now = docs::ts(crate::model::now());
        let scopes = Bson::Array(scopes.iter().map(|s| Bson::String(s.clone())).collect());
        let coll = self.coll()?;
        let stored = upsert_with_retry(ENTITY, || {
            coll.find_one_and_update(
                doc! { "user_id": docs::id(user_id), "client_id": client_id },
                doc! {
                    "$set": { "scopes": scopes.clone(), "updated_at": now.clone(), "revoked_at": Bson::Null },
                    "$setOnInsert": { "_id": docs::id(new_id()), "granted_at": now.clone() },
                },
            )
            .upsert(true)
            .return_document(ReturnDocument::After)
        })
        .await?;
        match stored {
            Some(stored) => Ok(to_consent(stored)),
            // A racing first grant can leave the upsert without a document to return (seen
            // on the test server): the consent exists now, read it.
            None => self.get(user_id, client_id).await,
        }
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "consents.get")
    )]
    async fn get(&self, user_id: Uuid, client_id: &str) -> StoreResult<Consent> {
        self.coll()?
            .find_one(doc! { "user_id": docs::id(user_id), "client_id": client_id })
            .await
            .map_err(error::on(ENTITY))?
            .map(to_consent)
            .ok_or_else(|| StoreError::not_found(ENTITY, format!("{user_id}/{client_id}")))
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "consents.list_by_user")
    )]
    async fn list_by_user(&self, user_id: Uuid, active_only: bool) -> StoreResult<Vec<Consent>> {
        self.find(active_only_if(doc! { "user_id": docs::id(user_id) }, active_only), 0, None).await
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "consents.list_all")
    )]
    async fn list_all(&self, limit: u64, offset: u64, active_only: bool) -> StoreResult<(Vec<Consent>, u64)> {
        let filter = active_only_if(doc! {}, active_only);
        let total = self.coll()?.count_documents(filter.clone()).await.map_err(error::on(ENTITY))?;
        let Some(offset) = crate::model::limits::list_offset(offset) else {
            return Ok((Vec::new(), total));
        };
        let page = self.find(filter, offset, Some(page_limit(limit))).await?;
        Ok((page, total))
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "consents.revoke")
    )]
    async fn revoke(&self, user_id: Uuid, client_id: &str) -> StoreResult<()> {
        let now = docs::ts(crate::model::now());
        let key = doc! { "user_id": docs::id(user_id), "client_id": client_id };
        let mut unrevoked = key.clone();
        unrevoked.insert("revoked_at", Bson::Null);
        let res = self
            .coll()?
            .update_one(unrevoked, doc! { "$set": { "revoked_at": now.clone(), "updated_at": now } })
            .await
            .map_err(error::on(ENTITY))?;
        if res.matched_count == 0 && self.coll()?.count_documents(key).await.map_err(error::on(ENTITY))? == 0
        {
            return Err(StoreError::not_found(ENTITY, format!("{user_id}/{client_id}")));
        }
        Ok(())
    }
}
