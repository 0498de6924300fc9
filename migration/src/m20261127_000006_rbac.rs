//! RBAC: `roles` (unique name, JSON array of permissions, parent by name) and `user_roles`
//! (primary key `(user_id, role_id)`, cascading from both users and roles).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::common::{cs_string, cs_string_null, drop_table, fk_cascade, index, ts, unique};
use crate::m20261127_000001_users::Users;

/// The migration.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Roles {
    Table,
    Id,
    Name,
    Description,
    Permissions,
    InheritsFrom,
    System,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum UserRoles {
    Table,
    UserId,
    RoleId,
    AssignedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Roles::Table)
                    .col(pk_uuid(Roles::Id))
                    .col(cs_string(manager, Roles::Name, 255))
                    .col(text_null(Roles::Description))
                    .col(json_binary(Roles::Permissions))
                    .col(cs_string_null(manager, Roles::InheritsFrom, 255))
                    .col(boolean(Roles::System))
                    .col(ts(manager, Roles::CreatedAt))
                    .col(ts(manager, Roles::UpdatedAt))
                    .take(),
            )
            .await?;
        unique(manager, "uq_roles_name", Roles::Table, vec![Roles::Name]).await?;

        manager
            .create_table(
                Table::create()
                    .table(UserRoles::Table)
                    .col(uuid(UserRoles::UserId))
                    .col(uuid(UserRoles::RoleId))
                    .col(ts(manager, UserRoles::AssignedAt))
                    .primary_key(
                        Index::create().name("pk_user_roles").col(UserRoles::UserId).col(UserRoles::RoleId),
                    )
                    .foreign_key(&mut fk_cascade(
                        "fk_user_roles_user_id",
                        UserRoles::Table,
                        UserRoles::UserId,
                        Users::Table,
                    ))
                    .foreign_key(&mut fk_cascade(
                        "fk_user_roles_role_id",
                        UserRoles::Table,
                        UserRoles::RoleId,
                        Roles::Table,
                    ))
                    .take(),
            )
            .await?;
        index(manager, "idx_user_roles_role_id", UserRoles::Table, vec![UserRoles::RoleId]).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_table(manager, UserRoles::Table).await?;
        drop_table(manager, Roles::Table).await
    }
}
