//! `users`: one row per user of the tenant. E-mail uniqueness is case-insensitive on every
//! engine through `email_normalized` (trimmed, NFC, lowercased by the library) and its unique
//! index; `m20261201_000001_identifier_collation` makes MySQL compare it byte for byte.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::common::{cs_string_null, drop_table, index, ts, ts_null, unique};

/// The migration.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// Table and columns of `users`.
#[derive(DeriveIden)]
pub(crate) enum Users {
    Table,
    Id,
    Email,
    EmailNormalized,
    EmailVerified,
    Name,
    GivenName,
    FamilyName,
    Picture,
    Locale,
    Language,
    Metadata,
    CustomFields,
    CreatedAt,
    UpdatedAt,
    DisabledAt,
    DisabledUntil,
    DisabledReason,
    DisabledBy,
    SourceClientId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(pk_uuid(Users::Id))
                    .col(string_len(Users::Email, 320))
                    .col(string_len(Users::EmailNormalized, 320))
                    .col(boolean(Users::EmailVerified))
                    .col(string_len_null(Users::Name, 255))
                    .col(string_len_null(Users::GivenName, 255))
                    .col(string_len_null(Users::FamilyName, 255))
                    .col(text_null(Users::Picture))
                    .col(string_len_null(Users::Locale, 35))
                    .col(string_len_null(Users::Language, 35))
                    .col(json_binary(Users::Metadata))
                    .col(json_binary(Users::CustomFields))
                    .col(ts(manager, Users::CreatedAt))
                    .col(ts(manager, Users::UpdatedAt))
                    .col(ts_null(manager, Users::DisabledAt))
                    .col(ts_null(manager, Users::DisabledUntil))
                    .col(text_null(Users::DisabledReason))
                    .col(string_len_null(Users::DisabledBy, 255))
                    .col(cs_string_null(manager, Users::SourceClientId, 255))
                    .take(),
            )
            .await?;
        unique(manager, "uq_users_email_normalized", Users::Table, vec![Users::EmailNormalized]).await?;
        index(manager, "idx_users_created_at", Users::Table, vec![Users::CreatedAt, Users::Id]).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_table(manager, Users::Table).await
    }
}
