//! `refresh_tokens`: hashes only. Rotation chains share `family_id`; `rotated_from` points
//! at the token a rotation replaced.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::common::{cs_string, drop_table, fk_cascade, index, ts, ts_null, unique};
use crate::m20261127_000001_users::Users;

/// The migration.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    UserId,
    ClientId,
    TokenHash,
    IssuedAt,
    ExpiresAt,
    RotatedFrom,
    RevokedAt,
    FamilyId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(pk_uuid(RefreshTokens::Id))
                    .col(uuid(RefreshTokens::UserId))
                    .col(cs_string(manager, RefreshTokens::ClientId, 255))
                    .col(cs_string(manager, RefreshTokens::TokenHash, 255))
                    .col(ts(manager, RefreshTokens::IssuedAt))
                    .col(ts(manager, RefreshTokens::ExpiresAt))
                    .col(uuid_null(RefreshTokens::RotatedFrom))
                    .col(ts_null(manager, RefreshTokens::RevokedAt))
                    .col(uuid(RefreshTokens::FamilyId))
                    .foreign_key(&mut fk_cascade(
                        "fk_refresh_tokens_user_id",
                        RefreshTokens::Table,
                        RefreshTokens::UserId,
                        Users::Table,
                    ))
                    .take(),
            )
            .await?;
        let t = || RefreshTokens::Table;
        unique(manager, "uq_refresh_tokens_token_hash", t(), vec![RefreshTokens::TokenHash]).await?;
        index(
            manager,
            "idx_refresh_tokens_user_client",
            t(),
            vec![RefreshTokens::UserId, RefreshTokens::ClientId],
        )
        .await?;
        index(manager, "idx_refresh_tokens_client_id", t(), vec![RefreshTokens::ClientId]).await?;
        index(manager, "idx_refresh_tokens_family_id", t(), vec![RefreshTokens::FamilyId]).await?;
        index(manager, "idx_refresh_tokens_expires_at", t(), vec![RefreshTokens::ExpiresAt]).await?;
        index(manager, "idx_refresh_tokens_revoked_at", t(), vec![RefreshTokens::RevokedAt]).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_table(manager, RefreshTokens::Table).await
    }
}
