//! `sessions`: login sessions, stored by the hash of the session id.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::common::{cs_string, drop_table, fk_cascade, index, ts, ts_null, unique};
use crate::m20261127_000001_users::Users;

/// The migration.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    SessionIdHash,
    IpAddress,
    UserAgent,
    DeviceType,
    Browser,
    Os,
    CountryCode,
    Country,
    City,
    CreatedAt,
    LastActivity,
    ExpiresAt,
    RevokedAt,
    RevokedBy,
    RevokeReason,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(pk_uuid(Sessions::Id))
                    .col(uuid(Sessions::UserId))
                    .col(cs_string(manager, Sessions::SessionIdHash, 255))
                    .col(string_len_null(Sessions::IpAddress, 64))
                    .col(text_null(Sessions::UserAgent))
                    .col(string_len_null(Sessions::DeviceType, 32))
                    .col(string_len_null(Sessions::Browser, 128))
                    .col(string_len_null(Sessions::Os, 128))
                    .col(string_len_null(Sessions::CountryCode, 8))
                    .col(string_len_null(Sessions::Country, 128))
                    .col(string_len_null(Sessions::City, 128))
                    .col(ts(manager, Sessions::CreatedAt))
                    .col(ts(manager, Sessions::LastActivity))
                    .col(ts(manager, Sessions::ExpiresAt))
                    .col(ts_null(manager, Sessions::RevokedAt))
                    .col(string_len_null(Sessions::RevokedBy, 255))
                    .col(text_null(Sessions::RevokeReason))
                    .foreign_key(&mut fk_cascade(
                        "fk_sessions_user_id",
                        Sessions::Table,
                        Sessions::UserId,
                        Users::Table,
                    ))
                    .take(),
            )
            .await?;
        unique(manager, "uq_sessions_session_id_hash", Sessions::Table, vec![Sessions::SessionIdHash])
            .await?;
        index(manager, "idx_sessions_user_id", Sessions::Table, vec![Sessions::UserId]).await?;
        index(manager, "idx_sessions_expires_at", Sessions::Table, vec![Sessions::ExpiresAt]).await?;
        index(manager, "idx_sessions_last_activity", Sessions::Table, vec![Sessions::LastActivity]).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_table(manager, Sessions::Table).await
    }
}
