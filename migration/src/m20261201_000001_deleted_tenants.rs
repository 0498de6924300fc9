//! Tombstones of deleted tenants in the global database (run by
//! [`GlobalMigrator`](crate::GlobalMigrator) only): one row per deleted tenant not yet purged,
//! holding its namespace so that no new tenant is given it until an operator's purge drops
//! the data and removes the row. The document is the JSON of `model::DeletedTenant`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::common::{cs_string, drop_table, ts, unique};

/// The migration.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CpDeletedTenants {
    Table,
    Id,
    Slug,
    Namespace,
    Document,
    DeletedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CpDeletedTenants::Table)
                    .col(pk_uuid(CpDeletedTenants::Id))
                    .col(cs_string(manager, CpDeletedTenants::Slug, 63))
                    .col(cs_string(manager, CpDeletedTenants::Namespace, 64))
                    .col(json_binary(CpDeletedTenants::Document))
                    .col(ts(manager, CpDeletedTenants::DeletedAt))
                    .take(),
            )
            .await?;
        unique(
            manager,
            "uq_cp_deleted_tenants_namespace",
            CpDeletedTenants::Table,
            vec![CpDeletedTenants::Namespace],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_table(manager, CpDeletedTenants::Table).await
    }
}
