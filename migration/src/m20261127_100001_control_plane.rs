//! The control plane in the global database (modes `fs_global_db` and `full_db`), run by
//! [`GlobalMigrator`](crate::GlobalMigrator) only — tenant namespaces never get these tables.
//!
//! Each row holds one control-plane object as the JSON of the same serde type the FS files
//! use (secrets stay `enc:v1:` sealed), next to the indexed columns that identify it.
//! `cp_version` is a single row bumped by every write transaction; replicas compare it with
//! the version of their in-memory snapshot.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::common::{cs_string, drop_table, fk_cascade, index, ts, unique};

/// The migration.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CpVersion {
    Table,
    Id,
    Version,
}

#[derive(DeriveIden)]
enum CpTenants {
    Table,
    Id,
    Slug,
    Document,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CpClients {
    Table,
    TenantId,
    ClientId,
    Document,
}

#[derive(DeriveIden)]
enum CpScopes {
    Table,
    TenantId,
    Name,
    Document,
}

#[derive(DeriveIden)]
enum CpAdmins {
    Table,
    Id,
    EmailNormalized,
    Document,
}

#[derive(DeriveIden)]
enum CpAdminRefreshTokens {
    Table,
    TokenHash,
    AdminId,
    ExpiresAt,
    Document,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CpVersion::Table)
                    .col(integer(CpVersion::Id).primary_key())
                    .col(big_integer(CpVersion::Version))
                    .take(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(CpVersion::Table)
                    .columns([CpVersion::Id, CpVersion::Version])
                    .values_panic([1.into(), 0i64.into()])
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CpTenants::Table)
                    .col(pk_uuid(CpTenants::Id))
                    .col(cs_string(manager, CpTenants::Slug, 63))
                    .col(json_binary(CpTenants::Document))
                    .col(ts(manager, CpTenants::UpdatedAt))
                    .take(),
            )
            .await?;
        unique(manager, "uq_cp_tenants_slug", CpTenants::Table, vec![CpTenants::Slug]).await?;

        manager
            .create_table(
                Table::create()
                    .table(CpClients::Table)
                    .col(uuid(CpClients::TenantId))
                    .col(cs_string(manager, CpClients::ClientId, 128))
                    .col(json_binary(CpClients::Document))
                    .primary_key(
                        Index::create()
                            .name("pk_cp_clients")
                            .col(CpClients::TenantId)
                            .col(CpClients::ClientId),
                    )
                    .foreign_key(&mut fk_cascade(
                        "fk_cp_clients_tenant_id",
                        CpClients::Table,
                        CpClients::TenantId,
                        CpTenants::Table,
                    ))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CpScopes::Table)
                    .col(uuid(CpScopes::TenantId))
                    .col(cs_string(manager, CpScopes::Name, 128))
                    .col(json_binary(CpScopes::Document))
                    .primary_key(
                        Index::create().name("pk_cp_scopes").col(CpScopes::TenantId).col(CpScopes::Name),
                    )
                    .foreign_key(&mut fk_cascade(
                        "fk_cp_scopes_tenant_id",
                        CpScopes::Table,
                        CpScopes::TenantId,
                        CpTenants::Table,
                    ))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CpAdmins::Table)
                    .col(pk_uuid(CpAdmins::Id))
                    .col(cs_string(manager, CpAdmins::EmailNormalized, 320))
                    .col(json_binary(CpAdmins::Document))
                    .take(),
            )
            .await?;
        unique(manager, "uq_cp_admins_email_normalized", CpAdmins::Table, vec![CpAdmins::EmailNormalized])
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CpAdminRefreshTokens::Table)
                    .col(cs_string(manager, CpAdminRefreshTokens::TokenHash, 256).primary_key())
                    .col(uuid(CpAdminRefreshTokens::AdminId))
                    .col(ts(manager, CpAdminRefreshTokens::ExpiresAt))
                    .col(json_binary(CpAdminRefreshTokens::Document))
                    .foreign_key(&mut fk_cascade(
                        "fk_cp_admin_refresh_tokens_admin_id",
                        CpAdminRefreshTokens::Table,
                        CpAdminRefreshTokens::AdminId,
                        CpAdmins::Table,
                    ))
                    .take(),
            )
            .await?;
        index(
            manager,
            "idx_cp_admin_refresh_tokens_admin_id",
            CpAdminRefreshTokens::Table,
            vec![CpAdminRefreshTokens::AdminId],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_table(manager, CpAdminRefreshTokens::Table).await?;
        drop_table(manager, CpAdmins::Table).await?;
        drop_table(manager, CpScopes::Table).await?;
        drop_table(manager, CpClients::Table).await?;
        drop_table(manager, CpTenants::Table).await?;
        drop_table(manager, CpVersion::Table).await
    }
}
