//! `email_tokens`: single-use e-mail verification and password-reset tokens (hashes only);
//! `kind` is `verification` or `password_reset`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::common::{cs_string, drop_table, fk_cascade, index, ts, ts_null, unique};
use crate::m20261127_000001_users::Users;

/// The migration.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EmailTokens {
    Table,
    Id,
    Kind,
    UserId,
    TokenHash,
    SentTo,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(EmailTokens::Table)
                    .col(pk_uuid(EmailTokens::Id))
                    .col(string_len(EmailTokens::Kind, 32))
                    .col(uuid(EmailTokens::UserId))
                    .col(cs_string(manager, EmailTokens::TokenHash, 255))
                    .col(string_len(EmailTokens::SentTo, 320))
                    .col(ts(manager, EmailTokens::CreatedAt))
                    .col(ts(manager, EmailTokens::ExpiresAt))
                    .col(ts_null(manager, EmailTokens::UsedAt))
                    .foreign_key(&mut fk_cascade(
                        "fk_email_tokens_user_id",
                        EmailTokens::Table,
                        EmailTokens::UserId,
                        Users::Table,
                    ))
                    .take(),
            )
            .await?;
        unique(manager, "uq_email_tokens_token_hash", EmailTokens::Table, vec![EmailTokens::TokenHash])
            .await?;
        index(manager, "idx_email_tokens_user_id", EmailTokens::Table, vec![EmailTokens::UserId]).await?;
        index(manager, "idx_email_tokens_expires_at", EmailTokens::Table, vec![EmailTokens::ExpiresAt])
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_table(manager, EmailTokens::Table).await
    }
}
