//! Column and constraint helpers shared by the migrations, so that one migration set gives
//! the right types on PostgreSQL, MySQL/MariaDB and SQLite.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// A timestamp column that keeps microseconds and reaches past 2038 on every engine:
/// `timestamp with time zone` on PostgreSQL, `DATETIME(6)` (always written in UTC by the
/// library) on MySQL/MariaDB — whose `TIMESTAMP` would lose microseconds and end in 2038 —
/// and what sea-query maps on SQLite (RFC 3339 text, always UTC).
pub(crate) fn ts<T: IntoIden>(manager: &SchemaManager, col: T) -> ColumnDef {
    let mut def = ColumnDef::new(col);
    match manager.get_database_backend() {
        DbBackend::MySql => def.custom(Alias::new("DATETIME(6)")),
        _ => def.timestamp_with_time_zone(),
    };
    def.not_null().take()
}

/// A case-sensitive, indexable `VARCHAR(len)` for identifiers and hashes (token hashes,
/// client ids, provider user ids, role names): MySQL/MariaDB's default collation compares
/// case-insensitively, so there the column gets `COLLATE utf8mb4_bin`; PostgreSQL and SQLite
/// compare bytes already.
pub(crate) fn cs_string<T: IntoIden>(manager: &SchemaManager, col: T, len: u32) -> ColumnDef {
    let mut def = ColumnDef::new(col);
    if manager.get_database_backend() == DbBackend::MySql {
        def.custom(Alias::new(format!("VARCHAR({len}) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")));
    } else {
        def.string_len(len);
    }
    def.not_null().take()
}

/// A nullable [`cs_string`] column.
pub(crate) fn cs_string_null<T: IntoIden>(manager: &SchemaManager, col: T, len: u32) -> ColumnDef {
    let mut def = cs_string(manager, col, len);
    def.null();
    def
}

/// A nullable [`ts`] column.
pub(crate) fn ts_null<T: IntoIden>(manager: &SchemaManager, col: T) -> ColumnDef {
    let mut def = ts(manager, col);
    def.null();
    def
}

/// A foreign key `from_table.from_col → to_table.id` that cascades deletes.
pub(crate) fn fk_cascade<A, B, C>(
    name: &str,
    from_table: A,
    from_col: B,
    to_table: C,
) -> ForeignKeyCreateStatement
where
    A: IntoIden,
    B: IntoIden,
    C: IntoIden,
{
    ForeignKey::create()
        .name(name)
        .from(from_table, from_col)
        .to(to_table, Alias::new("id"))
        .on_delete(ForeignKeyAction::Cascade)
        .on_update(ForeignKeyAction::Cascade)
        .take()
}

/// Creates a (non-unique) index `name` on `table(cols…)`.
pub(crate) async fn index<T, C>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    cols: Vec<C>,
) -> Result<(), DbErr>
where
    T: IntoIden,
    C: IntoIndexColumn,
{
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for col in cols {
        stmt.col(col);
    }
    manager.create_index(stmt).await
}

/// Creates a unique index `name` on `table(cols…)`.
pub(crate) async fn unique<T, C>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    cols: Vec<C>,
) -> Result<(), DbErr>
where
    T: IntoIden,
    C: IntoIndexColumn,
{
    let mut stmt = Index::create();
    stmt.name(name).table(table).unique();
    for col in cols {
        stmt.col(col);
    }
    manager.create_index(stmt).await
}

/// Drops `table` (its indexes and foreign keys go with it).
pub(crate) async fn drop_table<T: IntoIden + 'static>(
    manager: &SchemaManager<'_>,
    table: T,
) -> Result<(), DbErr> {
    manager.drop_table(Table::drop().table(table).if_exists().take()).await
}
