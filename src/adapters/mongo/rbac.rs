//! `RbacRepository` on `roles` (unique name, permissions array, parent by name) and
//! `user_roles` (unique `(user_id, role_id)`).
//!
//! Effective permissions walk the `inherits_from` chain of each assigned role over the
//! tenant's roles read once, with a visited set: cycles end the walk, missing parents are
//! skipped.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;
use futures_util::TryStreamExt;
use mongodb::bson::{Bson, Document, doc};
use mongodb::options::ReturnDocument;
use uuid::Uuid;

use super::docs::{self, RoleDoc, UserRoleDoc};
use super::txn;
use super::{MongoContext, error, upsert_with_retry};
use crate::error::{StoreError, StoreResult};
use crate::model::{Role, RoleInput, new_id};
use crate::repository::RbacRepository;

const ENTITY: &str = "role";

fn to_role(d: RoleDoc) -> Role {
    Role {
        id: d.id,
        name: d.name,
        description: d.description,
        permissions: d.permissions.into_iter().collect(),
        inherits_from: d.inherits_from,
        system: d.system,
        created_at: d.created_at,
        updated_at: d.updated_at,
    }
}

fn sorted(set: &BTreeSet<String>) -> Bson {
    Bson::Array(set.iter().map(|p| Bson::String(p.clone())).collect())
}

/// Roles and assignments of one tenant.
pub(crate) struct MongoRbac {
    ctx: Arc<MongoContext>,
}

impl MongoRbac {
    pub(crate) fn new(ctx: Arc<MongoContext>) -> Self {
        MongoRbac { ctx }
    }

    fn roles(&self) -> StoreResult<mongodb::Collection<RoleDoc>> {
        self.ctx.coll(docs::ROLES)
    }

    async fn find_role(&self, name: &str) -> StoreResult<Option<RoleDoc>> {
        self.roles()?.find_one(doc! { "name": name }).await.map_err(error::on(ENTITY))
    }

    async fn require_role(&self, name: &str) -> StoreResult<RoleDoc> {
        self.find_role(name).await?.ok_or_else(|| StoreError::not_found(ENTITY, name))
    }

    async fn all_roles(&self) -> StoreResult<Vec<RoleDoc>> {
        self.roles()?
            .find(doc! {})
            .sort(doc! { "name": 1 })
            .await
            .map_err(error::on(ENTITY))?
            .try_collect()
            .await
            .map_err(error::on(ENTITY))
    }

    /// The ids of the roles assigned to the user.
    async fn assigned_role_ids(&self, user_id: Uuid) -> StoreResult<HashSet<Uuid>> {
        let rows: Vec<UserRoleDoc> = self
            .ctx
            .coll::<UserRoleDoc>(docs::USER_ROLES)?
            .find(doc! { "user_id": docs::id(user_id) })
            .await
            .map_err(error::on("user_role"))?
            .try_collect()
            .await
            .map_err(error::on("user_role"))?;
        Ok(rows.into_iter().map(|r| r.role_id).collect())
    }

    /// `Ok` when `parent` (if any) names an existing role.
    async fn check_parent(&self, parent: Option<&str>) -> StoreResult<()> {
        match parent {
            Some(parent) if self.find_role(parent).await?.is_none() => {
                Err(StoreError::not_found(ENTITY, format!("parent role {parent}")))
            }
            _ => Ok(()),
        }
    }

    /// Applies `update` to the role called `name`.
    ///
    /// Errors: `NotFound`.
    async fn update_named(&self, name: &str, update: Document) -> StoreResult<RoleDoc> {
        self.roles()?
            .find_one_and_update(doc! { "name": name }, update)
            .return_document(ReturnDocument::After)
            .await
            .map_err(error::on(ENTITY))?
            .ok_or_else(|| StoreError::not_found(ENTITY, name))
    }
}

#[async_trait]
impl RbacRepository for MongoRbac {
    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "rbac.get_user_roles")
    )]
    async fn get_user_roles(&self, user_id: Uuid) -> StoreResult<Vec<String>> {
        let ids = self.assigned_role_ids(user_id).await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<Bson> = ids.into_iter().map(docs::id).collect();
        let roles: Vec<RoleDoc> = self
            .roles()?
            .find(doc! { "_id": { "$in": keys } })
            .await
            .map_err(error::on(ENTITY))?
            .try_collect()
            .await
            .map_err(error::on(ENTITY))?;
        let names: BTreeSet<String> = roles.into_iter().map(|r| r.name).collect();
        Ok(names.into_iter().collect())
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "rbac.get_user_permissions")
    )]
    async fn get_user_permissions(&self, user_id: Uuid) -> StoreResult<Vec<String>> {
        let assigned = self.assigned_role_ids(user_id).await?;
        if assigned.is_empty() {
            return Ok(Vec::new());
        }
        let roles = self.all_roles().await?;
        let by_name: HashMap<&str, &RoleDoc> = roles.iter().map(|r| (r.name.as_str(), r)).collect();
        let mut permissions = BTreeSet::new();
        let mut visited: HashSet<&str> = HashSet::new();
        for role in roles.iter().filter(|r| assigned.contains(&r.id)) {
            let mut next = Some(role);
            while let Some(current) = next {
                if !visited.insert(current.name.as_str()) {
                    break; // seen: a cycle, or a chain already walked from another role
                }
                permissions.extend(current.permissions.iter().cloned());
                next = current.inherits_from.as_deref().and_then(|p| by_name.get(p).copied());
            }
        }
        Ok(permissions.into_iter().collect())
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "rbac.assign_role")
    )]
    async fn assign_role(&self, user_id: Uuid, role: &str) -> StoreResult<()> {
        let role = self.require_role(role).await?;
        self.ctx.require_user(user_id).await?;
        let coll = self.ctx.raw(docs::USER_ROLES)?;
        let now = docs::ts(crate::model::now());
        upsert_with_retry("user_role", || {
            coll.update_one(
                doc! { "user_id": docs::id(user_id), "role_id": docs::id(role.id) },
                doc! { "$setOnInsert": { "_id": docs::id(new_id()), "assigned_at": now.clone() } },
            )
            .upsert(true)
        })
        .await?;
        Ok(())
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "rbac.remove_role")
    )]
    async fn remove_role(&self, user_id: Uuid, role: &str) -> StoreResult<()> {
        let Some(role) = self.find_role(role).await? else {
            return Ok(());
        };
        self.ctx
            .raw(docs::USER_ROLES)?
            .delete_many(doc! { "user_id": docs::id(user_id), "role_id": docs::id(role.id) })
            .await
            .map_err(error::on("user_role"))?;
        Ok(())
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "rbac.get_role_permissions")
    )]
    async fn get_role_permissions(&self, role: &str) -> StoreResult<Vec<String>> {
        let role = self.require_role(role).await?;
        let set: BTreeSet<String> = role.permissions.into_iter().collect();
        Ok(set.into_iter().collect())
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "rbac.add_permission_to_role")
    )]
    async fn add_permission_to_role(&self, role: &str, permission: &str) -> StoreResult<()> {
        crate::model::limits::check_text("permission", permission, crate::model::limits::len::NAME)?;
        crate::model::check_non_empty("permission", permission)?;
        self.update_named(
            role,
            doc! {
                "$addToSet": { "permissions": permission },
                "$set": { "updated_at": docs::ts(crate::model::now()) },
            },
        )
        .await?;
        Ok(())
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(
            tenant = %self.ctx.tenant_slug,
            backend = "mongodb",
            operation = "rbac.remove_permission_from_role"
        )
    )]
    async fn remove_permission_from_role(&self, role: &str, permission: &str) -> StoreResult<()> {
        self.update_named(
            role,
            doc! {
                "$pull": { "permissions": permission },
                "$set": { "updated_at": docs::ts(crate::model::now()) },
            },
        )
        .await?;
        Ok(())
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "rbac.list_roles")
    )]
    async fn list_roles(&self) -> StoreResult<Vec<Role>> {
        Ok(self.all_roles().await?.into_iter().map(to_role).collect())
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "rbac.get_role")
    )]
    async fn get_role(&self, name: &str) -> StoreResult<Role> {
        self.require_role(name).await.map(to_role)
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "rbac.create_role")
    )]
    async fn create_role(&self, input: RoleInput) -> StoreResult<Role> {
        crate::model::limits::check_role(&input)?;
        crate::model::check_role_input(&input, true)?;
        let name = input.name.as_str();
        self.check_parent(input.inherits_from.as_deref()).await?;
        let now = crate::model::now();
        let role = RoleDoc {
            id: new_id(),
            name: name.to_string(),
            description: input.description,
            permissions: input.permissions.into_iter().collect(),
            inherits_from: input.inherits_from,
            system: input.system,
            created_at: now,
            updated_at: now,
        };
        self.roles()?.insert_one(&role).await.map_err(|e| match error::map(ENTITY, e) {
            StoreError::Conflict { entity, .. } => {
                StoreError::Conflict { entity, message: format!("a role named {} exists", role.name) }
            }
            other => other,
        })?;
        Ok(to_role(role))
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "rbac.update_role")
    )]
    async fn update_role(&self, name: &str, input: RoleInput) -> StoreResult<Role> {
        crate::model::limits::check_role(&input)?;
        crate::model::check_role_input(&input, false)?;
        self.require_role(name).await?;
        self.check_parent(input.inherits_from.as_deref()).await?;
        let updated = self
            .update_named(
                name,
                doc! { "$set": {
                    "description": docs::str_opt(input.description.as_deref()),
                    "permissions": sorted(&input.permissions),
                    "inherits_from": docs::str_opt(input.inherits_from.as_deref()),
                    "updated_at": docs::ts(crate::model::now()),
                } },
            )
            .await?;
        Ok(to_role(updated))
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "rbac.delete_role")
    )]
    async fn delete_role(&self, name: &str) -> StoreResult<()> {
        let role = self.require_role(name).await?;
        if role.system {
            return Err(StoreError::invalid(
                "role",
                format!("{name} is a system role and cannot be deleted"),
            ));
        }
        let ctx = self.ctx.clone();
        let name = name.to_string();
        txn::run(&self.ctx, ENTITY, move |s| {
            let (ctx, name) = (ctx.clone(), name.clone());
            Box::pin(async move {
                let key = docs::id(role.id);
                // Assignments first: without transactions an interruption leaves a role
                // without holders, never holders of a missing role.
                ctx.raw(docs::USER_ROLES)?
                    .delete_many(doc! { "role_id": key.clone() })
                    .session(&mut *s)
                    .await?;
                // Children stop inheriting from it: a later role of the same name is a new role.
                ctx.raw(docs::ROLES)?
                    .update_many(
                        doc! { "inherits_from": &name },
                        doc! { "$set": {
                            "inherits_from": Bson::Null,
                            "updated_at": docs::ts(crate::model::now()),
                        } },
                    )
                    .session(&mut *s)
                    .await?;
                ctx.raw(docs::ROLES)?.delete_one(doc! { "_id": key }).session(&mut *s).await?;
                Ok(())
            })
        })
        .await
    }

    #[tracing::instrument(
        name = "store", level = "debug", skip_all,
        fields(tenant = %self.ctx.tenant_slug, backend = "mongodb", operation = "rbac.role_user_count")
    )]
    async fn role_user_count(&self, role: &str) -> StoreResult<u64> {
        let role = self.require_role(role).await?;
        self.ctx
            .raw(docs::USER_ROLES)?
            .count_documents(doc! { "role_id": docs::id(role.id) })
            .await
            .map_err(error::on("user_role"))
    }
}
