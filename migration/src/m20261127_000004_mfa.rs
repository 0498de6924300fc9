//! MFA: `mfa_totp` (one enrolment per user, keyed by user), `mfa_recovery_codes` and
//! `mfa_trusted_devices` (hashes only).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::common::{cs_string, drop_table, fk_cascade, index, ts, ts_null, unique};
use crate::m20261127_000001_users::Users;

/// The migration.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MfaTotp {
    Table,
    UserId,
    SecretEncrypted,
    ConfirmedAt,
    LastUsedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MfaRecoveryCodes {
    Table,
    Id,
    UserId,
    CodeHash,
    UsedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MfaTrustedDevices {
    Table,
    Id,
    UserId,
    DeviceHash,
    ExpiresAt,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MfaTotp::Table)
                    .col(pk_uuid(MfaTotp::UserId))
                    .col(text(MfaTotp::SecretEncrypted))
                    .col(ts_null(manager, MfaTotp::ConfirmedAt))
                    .col(ts_null(manager, MfaTotp::LastUsedAt))
                    .col(ts(manager, MfaTotp::CreatedAt))
                    .col(ts(manager, MfaTotp::UpdatedAt))
                    .foreign_key(&mut fk_cascade(
                        "fk_mfa_totp_user_id",
                        MfaTotp::Table,
                        MfaTotp::UserId,
                        Users::Table,
                    ))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MfaRecoveryCodes::Table)
                    .col(pk_uuid(MfaRecoveryCodes::Id))
                    .col(uuid(MfaRecoveryCodes::UserId))
                    .col(cs_string(manager, MfaRecoveryCodes::CodeHash, 255))
                    .col(ts_null(manager, MfaRecoveryCodes::UsedAt))
                    .col(ts(manager, MfaRecoveryCodes::CreatedAt))
                    .foreign_key(&mut fk_cascade(
                        "fk_mfa_recovery_codes_user_id",
                        MfaRecoveryCodes::Table,
                        MfaRecoveryCodes::UserId,
                        Users::Table,
                    ))
                    .take(),
            )
            .await?;
        unique(
            manager,
            "uq_mfa_recovery_codes_user_code",
            MfaRecoveryCodes::Table,
            vec![MfaRecoveryCodes::UserId, MfaRecoveryCodes::CodeHash],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(MfaTrustedDevices::Table)
                    .col(pk_uuid(MfaTrustedDevices::Id))
                    .col(uuid(MfaTrustedDevices::UserId))
                    .col(cs_string(manager, MfaTrustedDevices::DeviceHash, 255))
                    .col(ts(manager, MfaTrustedDevices::ExpiresAt))
                    .col(ts(manager, MfaTrustedDevices::CreatedAt))
                    .col(ts(manager, MfaTrustedDevices::UpdatedAt))
                    .foreign_key(&mut fk_cascade(
                        "fk_mfa_trusted_devices_user_id",
                        MfaTrustedDevices::Table,
                        MfaTrustedDevices::UserId,
                        Users::Table,
                    ))
                    .take(),
            )
            .await?;
        unique(
            manager,
            "uq_mfa_trusted_devices_user_device",
            MfaTrustedDevices::Table,
            vec![MfaTrustedDevices::UserId, MfaTrustedDevices::DeviceHash],
        )
        .await?;
        index(
            manager,
            "idx_mfa_trusted_devices_expires_at",
            MfaTrustedDevices::Table,
            vec![MfaTrustedDevices::ExpiresAt],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_table(manager, MfaTrustedDevices::Table).await?;
        drop_table(manager, MfaRecoveryCodes::Table).await?;
        drop_table(manager, MfaTotp::Table).await
    }
}
