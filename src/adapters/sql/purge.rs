//! Deleting expired rows in batches, the same way on every engine: select up to
//! `batch_size` ids that match, delete those ids (still matching), repeat until a batch
//! comes back short. MySQL cannot `DELETE … WHERE id IN (SELECT … LIMIT n)`, and a single
//! unbounded `DELETE` would hold locks on a large table for too long.

use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::SqlContext;
use super::error::ErrCtx;
use crate::error::StoreResult;

/// Deletes every row of `E` matching `expired`, `batch_size` (0:
/// [`crate::model::DEFAULT_PURGE_BATCH`]) at a time, by the UUID primary key `id_col`; each
/// batch's `DELETE` is retried on deadlocks ([`SqlContext::write`]). Returns how many rows
/// were deleted.
pub(crate) async fn purge_in_batches<E>(
    sql: &SqlContext,
    operation: &str,
    ctx: &ErrCtx,
    id_col: E::Column,
    expired: Condition,
    batch_size: u64,
) -> StoreResult<u64>
where
    E: EntityTrait,
{
    let batch = crate::model::purge_batch(batch_size);
    let mut total = 0;
    loop {
        let ids: Vec<Uuid> = E::find()
            .select_only()
            .column(id_col)
            .filter(expired.clone())
            .limit(batch)
            .into_tuple()
            .all(&sql.db)
            .await
            .map_err(|e| ctx.map(e))?;
        let selected = ids.len() as u64;
        if selected == 0 {
            break;
        }
        let deleted = sql
            .write(operation, ctx, |db| {
                E::delete_many().filter(expired.clone()).filter(id_col.is_in(ids.iter().copied())).exec(db)
            })
            .await?;
        total += deleted.rows_affected;
        if selected < batch {
            break;
        }
    }
    Ok(total)
}
