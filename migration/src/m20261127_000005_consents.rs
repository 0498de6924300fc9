//! `consents`: scopes a user granted to a client, one row per (user, client); `scopes` is a
//! JSON array. Revocation is a soft delete (`revoked_at`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::common::{cs_string, drop_table, fk_cascade, index, ts, ts_null, unique};
use crate::m20261127_000001_users::Users;

/// The migration.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Consents {
    Table,
    Id,
    UserId,
    ClientId,
    Scopes,
    GrantedAt,
    UpdatedAt,
    RevokedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Consents::Table)
                    .col(pk_uuid(Consents::Id))
                    .col(uuid(Consents::UserId))
                    .col(cs_string(manager, Consents::ClientId, 255))
                    .col(json_binary(Consents::Scopes))
                    .col(ts(manager, Consents::GrantedAt))
                    .col(ts(manager, Consents::UpdatedAt))
                    .col(ts_null(manager, Consents::RevokedAt))
                    .foreign_key(&mut fk_cascade(
                        "fk_consents_user_id",
                        Consents::Table,
                        Consents::UserId,
                        Users::Table,
                    ))
                    .take(),
            )
            .await?;
        unique(
            manager,
            "uq_consents_user_client",
            Consents::Table,
            vec![Consents::UserId, Consents::ClientId],
        )
        .await?;
        index(manager, "idx_consents_client_id", Consents::Table, vec![Consents::ClientId]).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_table(manager, Consents::Table).await
    }
}
