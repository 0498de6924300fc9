//! Runs a transaction again when the database says it lost a race it can win on a second
//! try: serialization failures and deadlocks on PostgreSQL and MySQL, `SQLITE_BUSY` /
//! `SQLITE_LOCKED` on SQLite (see [`is_retryable`](super::error::is_retryable)). A bounded
//! number of attempts, with a small jittered exponential backoff between them.

use std::future::Future;
use std::time::Duration;

use rand::RngExt;

use super::error::is_retryable;
use crate::error::StoreResult;

/// How many times a transaction is tried in all.
pub(crate) const MAX_ATTEMPTS: u32 = 8;

/// Runs `attempt` until it succeeds, fails with an error that is not retryable, or
/// [`MAX_ATTEMPTS`] have been made (the last error is returned). `attempt` must run a
/// whole transaction (or one statement outside a transaction, see
/// [`SqlContext::write`](super::SqlContext::write)), so that running it again starts from
/// scratch.
pub(crate) async fn with_retry<T, F, Fut>(operation: &str, mut attempt: F) -> StoreResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = StoreResult<T>>,
{
    let mut tries = 0;
    loop {
        tries += 1;
        match attempt().await {
            Err(err) if tries < MAX_ATTEMPTS && is_retryable(&err) => {
                let delay = backoff(tries);
                tracing::debug!(operation, tries, ?delay, error = %err, "retrying transaction");
                tokio::time::sleep(delay).await;
            }
            other => return other,
        }
    }
}

/// 2, 4, 8 … ms (capped at 100 ms), each with up to as much again of random jitter.
fn backoff(tries: u32) -> Duration {
    let base = 2u64.saturating_pow(tries.min(7)).min(100);
    let jitter = rand::rng().random_range(0..=base);
    Duration::from_millis(base + jitter)
}
