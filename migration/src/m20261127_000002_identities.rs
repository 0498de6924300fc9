//! `identities`: the ways a user logs in, in ONE table. The password identity is the row
//! with `provider = 'password'` (`provider_user_id` = the user id, `password_hash` set or
//! not); every other row is a social/federated identity (`name`, `picture`, `raw_claims`).
//! `(provider, provider_user_id)` is unique, which makes `IdentityRepository::upsert`
//! atomic on every engine.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::common::{cs_string, drop_table, fk_cascade, index, ts, unique};
use crate::m20261127_000001_users::Users;

/// The migration.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Identities {
    Table,
    Id,
    UserId,
    Provider,
    ProviderUserId,
    Email,
    EmailVerified,
    PasswordHash,
    Name,
    Picture,
    RawClaims,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Identities::Table)
                    .col(pk_uuid(Identities::Id))
                    .col(uuid(Identities::UserId))
                    .col(cs_string(manager, Identities::Provider, 64))
                    .col(cs_string(manager, Identities::ProviderUserId, 255))
                    .col(string_len_null(Identities::Email, 320))
                    .col(boolean(Identities::EmailVerified))
                    .col(text_null(Identities::PasswordHash))
                    .col(string_len_null(Identities::Name, 255))
                    .col(text_null(Identities::Picture))
                    .col(json_binary(Identities::RawClaims))
                    .col(ts(manager, Identities::CreatedAt))
                    .col(ts(manager, Identities::UpdatedAt))
                    .foreign_key(&mut fk_cascade(
                        "fk_identities_user_id",
                        Identities::Table,
                        Identities::UserId,
                        Users::Table,
                    ))
                    .take(),
            )
            .await?;
        unique(
            manager,
            "uq_identities_provider_user",
            Identities::Table,
            vec![Identities::Provider, Identities::ProviderUserId],
        )
        .await?;
        index(manager, "idx_identities_user_id", Identities::Table, vec![Identities::UserId]).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_table(manager, Identities::Table).await
    }
}
