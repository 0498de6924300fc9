//! `SessionRepository` on `sessions`, unique on `session_id_hash`.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use futures_util::TryStreamExt;
use mongodb::bson::{Bson, Document, doc};
use uuid::Uuid;

use super::docs::{self, SessionDoc};
use super::{MongoContext, as_i64, error, purge_in_batches};
use crate::error::{StoreError, StoreResult};
use crate::model::{CreateSessionInput, Session, SessionFilter, SessionStats, Timestamp, new_id};
use crate::repository::SessionRepository;

const ENTITY: &str = "session";

/// Fields `list` searches, case-insensitively.
const SEARCHED: &[&str] = &["ip_address", "user_agent", "browser", "os", "country", "city"];

fn to_session(d: SessionDoc) -> Session {
    Session {
        id: d.id,
        user_id: d.user_id,
        session_id_hash: d.session_id_hash,
        ip_address: d.ip_address,
        user_agent: d.user_agent,
        device_type: d.device_type,
        browser: d.browser,
        os: d.os,
        country_code: d.country_code,
        country: d.country,
        city: d.city,
        created_at: d.created_at,
        last_activity: d.last_activity,
        expires_at: d.expires_at,
        revoked_at: d.revoked_at,
        revoked_by: d.revoked_by,
        revoke_reason: d.revoke_reason,
    }
}

/// Login sessions of one tenant.
pub(crate) struct MongoSessions {
    ctx: Arc<MongoContext>,
}

impl MongoSessions {
    pub(crate) fn new(ctx: Arc<MongoContext>) -> Self {
        MongoSessions { ctx }
    }

    fn coll(&self) -> StoreResult<mongodb::Collection<SessionDoc>> {
        self.ctx.coll(docs::SESSIONS)
    }

    fn filter(filter: &SessionFilter, now: Timestamp) -> Document {
        let mut f = Document::new();
        if let Some(user_id) = filter.user_id {
            f.insert("user_id", docs::id(user_id));
        }
        if let Some(device_type) = &filter.device_type {
            f.insert("device_type", device_type.as_str());
        }
        if let Some(status) = filter.status {
            f.extend(docs::lifecycle(status.into(), now));
        }
        if let Some(search) = filter.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            let any: Vec<Document> = SEARCHED.iter().map(|field| docs::contains_ci(field, search)).collect();
            f.insert("$or", any);
        }
        f
    }

    async fn revoke_where(&self, mut filter: Document, by: &str, reason: Option<&str>) -> StoreResult<u64> {
        let now = crate::model::now();
        filter.extend(docs::active_at(now));
        let res = self
            .coll()?
            .update_many(
                filter,
                doc! { "$set": {
                    "revoked_at": docs::ts(now),
                    "revoked_by": by,
                    "revoke_reason": docs::str_opt(reason),
                } },
            )
            .await
            .map_err(error::on(ENTITY))?;
        Ok(res.modified_count)
    }
}

#[async_trait]
impl SessionRepository for MongoSessions {
    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "sessions.create")
    )]
    async fn create(&self, input: CreateSessionInput) -> StoreResult<Session> {
        crate::model::limits::check_session(&input)?;
        crate::model::check_non_empty("session_id_hash", &input.session_id_hash)?;
        self.ctx.require_user(input.user_id).await?;
        let now = crate::model::now();
        let row = SessionDoc {
            id: new_id(),
            user_id: input.user_id,
            session_id_hash: input.session_id_hash,
            ip_address: input.ip_address,
            user_agent: input.user_agent,
            device_type: input.device_type,
            browser: input.browser,
            os: input.os,
            country_code: input.country_code,
            country: input.country,
            city: input.city,
            created_at: now,
            last_activity: now,
            expires_at: crate::model::truncate_micros(input.expires_at),
            revoked_at: None,
            revoked_by: None,
            revoke_reason: None,
        };
        self.coll()?.insert_one(&row).await.map_err(error::on(ENTITY))?;
        Ok(to_session(row))
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "sessions.get")
    )]
    async fn get(&self, session_id_hash: &str) -> StoreResult<Session> {
        self.coll()?
            .find_one(doc! { "session_id_hash": session_id_hash })
            .await
            .map_err(error::on(ENTITY))?
            .map(to_session)
            .ok_or_else(|| StoreError::not_found(ENTITY, "hash"))
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "sessions.touch")
    )]
    async fn touch(&self, session_id_hash: &str, at: Timestamp) -> StoreResult<()> {
        crate::model::limits::check_time("at", at)?;
        let res = self
            .coll()?
            .update_one(
                doc! { "session_id_hash": session_id_hash },
                doc! { "$set": { "last_activity": docs::ts(at) } },
            )
            .await
            .map_err(error::on(ENTITY))?;
        if res.matched_count == 0 {
            return Err(StoreError::not_found(ENTITY, "hash"));
        }
        Ok(())
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "sessions.list")
    )]
    async fn list(&self, filter: &SessionFilter) -> StoreResult<(Vec<Session>, u64)> {
        crate::model::limits::check_search(filter.search.as_deref())?;
        let f = Self::filter(filter, crate::model::now());
        let total = self.coll()?.count_documents(f.clone()).await.map_err(error::on(ENTITY))?;
        let Some((limit, offset)) = crate::model::limits::page_window(filter.page, filter.page_size) else {
            return Ok((Vec::new(), total));
        };
        let rows: Vec<SessionDoc> = self
            .coll()?
            .find(f)
            .sort(doc! { "last_activity": -1, "_id": -1 })
            .skip(offset)
            .limit(as_i64(limit))
            .await
            .map_err(error::on(ENTITY))?
            .try_collect()
            .await
            .map_err(error::on(ENTITY))?;
        Ok((rows.into_iter().map(to_session).collect(), total))
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "sessions.revoke")
    )]
    async fn revoke(&self, session_id_hash: &str, by: &str, reason: Option<&str>) -> StoreResult<()> {
        crate::model::limits::check_actor(by, reason)?;
        let res = self
            .coll()?
            .update_one(
                doc! { "session_id_hash": session_id_hash, "revoked_at": Bson::Null },
                doc! { "$set": {
                    "revoked_at": docs::ts(crate::model::now()),
                    "revoked_by": by,
                    "revoke_reason": docs::str_opt(reason),
                } },
            )
            .await
            .map_err(error::on(ENTITY))?;
        if res.matched_count == 0 {
            // Already revoked (the first revocation stays) or unknown.
            self.get(session_id_hash).await?;
        }
        Ok(())
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "sessions.revoke_all_by_user")
    )]
    async fn revoke_all_by_user(&self, user_id: Uuid, by: &str, reason: Option<&str>) -> StoreResult<u64> {
        crate::model::limits::check_actor(by, reason)?;
        self.revoke_where(doc! { "user_id": docs::id(user_id) }, by, reason).await
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "sessions.revoke_all")
    )]
    async fn revoke_all(&self, by: &str, reason: Option<&str>) -> StoreResult<u64> {
        crate::model::limits::check_actor(by, reason)?;
        self.revoke_where(doc! {}, by, reason).await
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "sessions.purge_expired")
    )]
    async fn purge_expired(&self, now: Timestamp, batch_size: u64) -> StoreResult<u64> {
        let now = crate::model::limits::clamp_time(now);
        purge_in_batches(
            &self.ctx,
            docs::SESSIONS,
            ENTITY,
            doc! { "expires_at": { "$lt": docs::ts(now) } },
            batch_size,
        )
        .await
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "sessions.stats")
    )]
    async fn stats(&self) -> StoreResult<SessionStats> {
        let now = crate::model::now();
        let midnight = now.date_naive().and_hms_opt(0, 0, 0).map(|t| t.and_utc()).unwrap_or(now);
        let coll = self.ctx.raw(docs::SESSIONS)?;
        let total_today = coll
            .count_documents(doc! { "created_at": { "$gte": docs::ts(midnight) } })
            .await
            .map_err(error::on(ENTITY))?;
        let active: Vec<Document> = coll
            .find(docs::active_at(now))
            .projection(doc! { "device_type": 1, "country_code": 1 })
            .await
            .map_err(error::on(ENTITY))?
            .try_collect()
            .await
            .map_err(error::on(ENTITY))?;
        let mut by_device: BTreeMap<String, u64> = BTreeMap::new();
        let mut by_country: BTreeMap<String, u64> = BTreeMap::new();
        let key = |d: &Document, field: &str| {
            d.get_str(field).ok().filter(|s| !s.is_empty()).unwrap_or("unknown").to_string()
        };
        for d in &active {
            *by_device.entry(key(d, "device_type")).or_default() += 1;
            *by_country.entry(key(d, "country_code")).or_default() += 1;
        }
        Ok(SessionStats { total_active: active.len() as u64, total_today, by_device, by_country })
    }
}
