//! [`RbacRepository`] over SeaORM: the `roles` table (permissions as a sorted JSON array,
//! parent by name) and `user_roles` (one row per assignment). Owns those two tables.
//!
//! Changing one permission of a role is a read-modify-write of its JSON list; it is made
//! safe against concurrent changes with `updated_at` as a version: the `UPDATE` only applies
//! when `updated_at` is still what was read, else the change is read and tried again.
//! Effective permissions walk `inherits_from` with a visited set, so cycles end.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use std::sync::Arc;

use async_trait::async_trait;
use chrono::TimeDelta;
use entity::{roles, user_roles, users};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use tracing::Instrument;
use uuid::Uuid;

use super::SqlContext;
use super::error::ErrCtx;
use super::retry::with_retry;
use super::template::RolesWithAssignment;
use super::time::{from_db, now_db, to_db};
use crate::error::{StoreError, StoreResult};
use crate::model::{Role, RoleInput, new_id};
use crate::repository::RbacRepository;

/// How many times a permission change is tried against concurrent changes of the role.
const MAX_VERSION_ATTEMPTS: u32 = 50;

/// The RBAC repository of one tenant's SQL database.
pub(crate) struct SqlRbac {
    ctx: Arc<SqlContext>,
}

impl SqlRbac {
    /// The repository over the tenant's pool.
    pub(crate) fn new(ctx: Arc<SqlContext>) -> Self {
        SqlRbac { ctx }
    }

    fn err(&self, entity: &'static str) -> ErrCtx {
        self.ctx.err(entity)
    }

    async fn find_role(&self, name: &str) -> StoreResult<Option<roles::Model>> {
        roles::Entity::find()
            .filter(roles::Column::Name.eq(name))
            .one(&self.ctx.db)
            .await
            .map_err(|e| self.err("role").map(e))
    }

    async fn require_role(&self, name: &str) -> StoreResult<roles::Model> {
        self.find_role(name).await?.ok_or_else(|| StoreError::not_found("role", name))
    }

    fn permissions_of(&self, row: &roles::Model) -> StoreResult<BTreeSet<String>> {
        serde_json::from_value(row.permissions.clone()).map_err(|e| StoreError::Backend {
            backend: self.ctx.backend.name().to_string(),
            message: format!("role {}: permissions are not a JSON list of strings", row.name),
            source: Some(Box::new(e)),
        })
    }

    fn to_domain(&self, row: roles::Model) -> StoreResult<Role> {
        let permissions = self.permissions_of(&row)?;
        Ok(Role {
            id: row.id,
            name: row.name,
            description: row.description,
            permissions,
            inherits_from: row.inherits_from,
            system: row.system,
            created_at: from_db(row.created_at),
            updated_at: from_db(row.updated_at),
        })
    }

    async fn require_parent(&self, parent: Option<&str>) -> StoreResult<()> {
        if let Some(parent) = parent {
            self.require_role(parent).await?;
        }
        Ok(())
    }

    /// Applies `change` to the role's permissions, retrying while another writer changed
    /// the role between the read and the write.
    async fn change_permissions(
        &self,
        role: &str,
        change: impl Fn(&mut BTreeSet<String>) -> bool + Send + Sync,
    ) -> StoreResult<()> {
        for attempt in 1..=MAX_VERSION_ATTEMPTS {
            let row = self.require_role(role).await?;
            let mut permissions = self.permissions_of(&row)?;
            if !change(&mut permissions) {
                return Ok(());
            }
            let read_at = from_db(row.updated_at);
            // The new version must differ from the one read, even within one microsecond.
            let next = std::cmp::max(crate::model::now(), read_at + TimeDelta::microseconds(1));
            let result = self
                .ctx
                .write("rbac.change_permissions", &self.err("role"), |db| {
                    roles::Entity::update_many()
                        .col_expr(roles::Column::Permissions, Expr::value(serde_json::json!(permissions)))
                        .col_expr(roles::Column::UpdatedAt, Expr::value(to_db(next)))
                        .filter(roles::Column::Id.eq(row.id))
                        .filter(roles::Column::UpdatedAt.eq(row.updated_at))
                        .exec(db)
                })
                .await?;
            if result.rows_affected == 1 {
                return Ok(());
            }
            // Lost the race to another writer: back off a little, at random, and re-read.
            let pause = rand::RngExt::random_range(&mut rand::rng(), 0..=(200 * u64::from(attempt.min(10))));
            tokio::time::sleep(std::time::Duration::from_micros(pause)).await;
        }
        Err(StoreError::conflict("role", format!("{role} changed concurrently too many times; try again")))
    }
}

#[async_trait]
impl RbacRepository for SqlRbac {
    async fn get_user_roles(&self, user_id: Uuid) -> StoreResult<Vec<String>> {
        async move {
            let names: Vec<String> = roles::Entity::find()
                .select_only()
                .column(roles::Column::Name)
                .inner_join(user_roles::Entity)
                .filter(user_roles::Column::UserId.eq(user_id))
                .order_by_asc(roles::Column::Name)
                .into_tuple()
                .all(&self.ctx.db)
                .await
                .map_err(|e| self.err("role").map(e))?;
            Ok(names)
        }
        .instrument(self.ctx.span("rbac.get_user_roles"))
        .await
    }

    async fn get_user_permissions(&self, user_id: Uuid) -> StoreResult<Vec<String>> {
        async move {
            // A tenant has few roles: load them all in one statement, each with the user's
            // assignment of it (if any), and walk the parents in memory.
            let rows = self.ctx.db.all::<RolesWithAssignment>(user_id).await;
            let all = rows.map_err(|e| self.err("role").map(e))?;
            let mut assigned: Vec<String> =
                all.iter().filter(|(_, a)| a.is_some()).map(|(r, _)| r.name.clone()).collect();
            if assigned.is_empty() {
                return Ok(Vec::new());
            }
            assigned.sort();
            let by_name: BTreeMap<String, roles::Model> =
                all.into_iter().map(|(r, _)| (r.name.clone(), r)).collect();
            let mut visited: HashSet<&str> = HashSet::new();
            let mut effective = BTreeSet::new();
            for start in &assigned {
                let mut next = Some(start.as_str());
                while let Some(name) = next {
                    if !visited.insert(name) {
                        break;
                    }
                    let Some(role) = by_name.get(name) else { break };
                    effective.extend(self.permissions_of(role)?);
                    next = role.inherits_from.as_deref();
                }
            }
            Ok(effective.into_iter().collect())
        }
        .instrument(self.ctx.span("rbac.get_user_permissions"))
        .await
    }

    async fn assign_role(&self, user_id: Uuid, role: &str) -> StoreResult<()> {
        async move {
            let role = self.require_role(role).await?;
            let row = user_roles::ActiveModel {
                user_id: Set(user_id),
                role_id: Set(role.id),
                assigned_at: Set(now_db()),
            };
            let ctx = self.err("user_role").parent("user", user_id);
            match self
                .ctx
                .write("rbac.assign_role", &ctx, |db| {
                    user_roles::Entity::insert(row.clone()).exec_without_returning(db)
                })
                .await
            {
                Ok(_) => Ok(()),
                // Already assigned: assigning is idempotent.
                Err(StoreError::Conflict { .. }) => Ok(()),
                Err(StoreError::NotFound { .. }) => {
                    // A foreign key failed: the user, or the role deleted just now.
                    let user_known = users::Entity::find_by_id(user_id)
                        .count(&self.ctx.db)
                        .await
                        .map_err(|e| ctx.map(e))?
                        > 0;
                    if user_known {
                        Err(StoreError::not_found("role", role.name))
                    } else {
                        Err(StoreError::not_found("user", user_id))
                    }
                }
                Err(e) => Err(e),
            }
        }
        .instrument(self.ctx.span("rbac.assign_role"))
        .await
    }

    async fn remove_role(&self, user_id: Uuid, role: &str) -> StoreResult<()> {
        async move {
            let Some(role) = self.find_role(role).await? else {
                return Ok(());
            };
            self.ctx
                .write("rbac.remove_role", &self.err("user_role"), |db| {
                    user_roles::Entity::delete_many()
                        .filter(user_roles::Column::UserId.eq(user_id))
                        .filter(user_roles::Column::RoleId.eq(role.id))
                        .exec(db)
                })
                .await?;
            Ok(())
        }
        .instrument(self.ctx.span("rbac.remove_role"))
        .await
    }

    async fn get_role_permissions(&self, role: &str) -> StoreResult<Vec<String>> {
        async move {
            let row = self.require_role(role).await?;
            Ok(self.permissions_of(&row)?.into_iter().collect())
        }
        .instrument(self.ctx.span("rbac.get_role_permissions"))
        .await
    }

    async fn add_permission_to_role(&self, role: &str, permission: &str) -> StoreResult<()> {
        async move {
            crate::model::limits::check_text("permission", permission, crate::model::limits::len::NAME)?;
            crate::model::check_non_empty("permission", permission)?;
            self.change_permissions(role, |perms| perms.insert(permission.to_string())).await
        }
        .instrument(self.ctx.span("rbac.add_permission_to_role"))
        .await
    }

    async fn remove_permission_from_role(&self, role: &str, permission: &str) -> StoreResult<()> {
        async move { self.change_permissions(role, |perms| perms.remove(permission)).await }
            .instrument(self.ctx.span("rbac.remove_permission_from_role"))
            .await
    }

    async fn list_roles(&self) -> StoreResult<Vec<Role>> {
        async move {
            let rows = roles::Entity::find()
                .order_by_asc(roles::Column::Name)
                .all(&self.ctx.db)
                .await
                .map_err(|e| self.err("role").map(e))?;
            rows.into_iter().map(|row| self.to_domain(row)).collect()
        }
        .instrument(self.ctx.span("rbac.list_roles"))
        .await
    }

    async fn get_role(&self, name: &str) -> StoreResult<Role> {
        async move {
            let row = self.require_role(name).await?;
            self.to_domain(row)
        }
        .instrument(self.ctx.span("rbac.get_role"))
        .await
    }

    async fn create_role(&self, input: RoleInput) -> StoreResult<Role> {
        async move {
            crate::model::limits::check_role(&input)?;
            crate::model::check_role_input(&input, true)?;
            self.require_parent(input.inherits_from.as_deref()).await?;
            let now = now_db();
            let row = roles::ActiveModel {
                id: Set(new_id()),
                name: Set(input.name.clone()),
                description: Set(input.description),
                permissions: Set(serde_json::json!(input.permissions)),
                inherits_from: Set(input.inherits_from),
                system: Set(input.system),
                created_at: Set(now),
                updated_at: Set(now),
            };
            self.ctx
                .write("rbac.create_role", &self.err("role"), |db| {
                    roles::Entity::insert(row.clone()).exec_without_returning(db)
                })
                .await?;
            self.get_role(&input.name).await
        }
        .instrument(self.ctx.span("rbac.create_role"))
        .await
    }

    async fn update_role(&self, name: &str, input: RoleInput) -> StoreResult<Role> {
        async move {
            crate::model::limits::check_role(&input)?;
            crate::model::check_role_input(&input, false)?;
            let row = self.require_role(name).await?;
            self.require_parent(input.inherits_from.as_deref()).await?;
            let next =
                std::cmp::max(crate::model::now(), from_db(row.updated_at) + TimeDelta::microseconds(1));
            let result = self
                .ctx
                .write("rbac.update_role", &self.err("role"), |db| {
                    roles::Entity::update_many()
                        .col_expr(roles::Column::Description, Expr::value(input.description.clone()))
                        .col_expr(
                            roles::Column::Permissions,
                            Expr::value(serde_json::json!(input.permissions)),
                        )
                        .col_expr(roles::Column::InheritsFrom, Expr::value(input.inherits_from.clone()))
                        .col_expr(roles::Column::UpdatedAt, Expr::value(to_db(next)))
                        .filter(roles::Column::Id.eq(row.id))
                        .exec(db)
                })
                .await?;
            if result.rows_affected == 0 {
                return Err(StoreError::not_found("role", name));
            }
            self.get_role(name).await
        }
        .instrument(self.ctx.span("rbac.update_role"))
        .await
    }

    async fn delete_role(&self, name: &str) -> StoreResult<()> {
        async move {
            let row = self.require_role(name).await?;
            if row.system {
                return Err(StoreError::invalid(
                    "role",
                    format!("{name} is a system role and cannot be deleted"),
                ));
            }
            let ctx = self.err("role");
            let (id, name) = (row.id, row.name.as_str());
            with_retry("rbac.delete_role", || {
                let ctx = ctx.clone();
                async move {
                    let txn = self.ctx.begin_write().await.map_err(|e| ctx.map(e))?;
                    user_roles::Entity::delete_many()
                        .filter(user_roles::Column::RoleId.eq(id))
                        .exec(&*txn)
                        .await
                        .map_err(|e| ctx.map(e))?;
                    roles::Entity::delete_by_id(id).exec(&*txn).await.map_err(|e| ctx.map(e))?;
                    // Children lose their parent: a later role created under the same name
                    // must not silently grant them its permissions.
                    roles::Entity::update_many()
                        .col_expr(roles::Column::InheritsFrom, Expr::value(None::<String>))
                        .col_expr(roles::Column::UpdatedAt, Expr::value(now_db()))
                        .filter(roles::Column::InheritsFrom.eq(name))
                        .exec(&*txn)
                        .await
                        .map_err(|e| ctx.map(e))?;
                    txn.commit().await.map_err(|e| ctx.map(e))
                }
            })
            .await
        }
        .instrument(self.ctx.span("rbac.delete_role"))
        .await
    }

    async fn role_user_count(&self, role: &str) -> StoreResult<u64> {
        async move {
            let row = self.require_role(role).await?;
            user_roles::Entity::find()
                .filter(user_roles::Column::RoleId.eq(row.id))
                .count(&self.ctx.db)
                .await
                .map_err(|e| self.err("user_role").map(e))
        }
        .instrument(self.ctx.span("rbac.role_user_count"))
        .await
    }
}
