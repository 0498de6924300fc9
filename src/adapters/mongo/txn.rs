//! Multi-document transactions with the retry rules of the MongoDB drivers: the whole body
//! runs again on `TransientTransactionError` (or a write conflict), the commit is retried on
//! `UnknownTransactionCommitResult`. On a server without transactions (a standalone
//! `mongod`, detected from `hello` on the first transaction of the server's pool: no
//! `setName` and not a `mongos`) the body runs once in a plain session, not retried: each write is still atomic
//! on its own, and callers order their writes so that an interruption leaves no dangling
//! references (children before parents). A body whose error must not leave its earlier
//! writes behind undoes them itself when `MongoContext::transactions` says false (inside a
//! transaction the abort does it, and the server refuses writes after a failed one); see
//! `tokens.rotate`.

use std::time::Duration;

use futures_util::future::BoxFuture;
use mongodb::ClientSession;
use mongodb::error::UNKNOWN_TRANSACTION_COMMIT_RESULT;

use super::MongoContext;
use super::error::{self, is_transient_transaction_error};
use crate::error::{StoreError, StoreResult};

/// Most attempts of one transaction.
const MAX_ATTEMPTS: u32 = 20;
/// Most attempts of one commit.
const MAX_COMMIT_ATTEMPTS: u32 = 5;

/// Why a transaction body stopped: a driver error (which may be retryable) or a decision
/// of the body (not found, conflict, …), returned as it is.
pub(crate) enum TxnError {
    /// A driver error.
    Driver(mongodb::error::Error),
    /// A store error decided by the body.
    Store(StoreError),
}

impl From<mongodb::error::Error> for TxnError {
    fn from(e: mongodb::error::Error) -> Self {
        TxnError::Driver(e)
    }
}

impl From<StoreError> for TxnError {
    fn from(e: StoreError) -> Self {
        TxnError::Store(e)
    }
}

/// The body of a transaction: called with the session every operation must use, possibly
/// more than once. It owns what it needs (clone into the closure, then into the future).
pub(crate) type Body<'s, T> = BoxFuture<'s, Result<T, TxnError>>;

/// Runs `body` in a transaction (or, without transaction support, once in a session).
/// Driver errors are mapped for `entity`.
pub(crate) async fn run<T, F>(ctx: &MongoContext, entity: &'static str, mut body: F) -> StoreResult<T>
where
    T: Send,
    F: for<'s> FnMut(&'s mut ClientSession) -> Body<'s, T> + Send,
{
    // Checks the connection is open before a session is taken.
    ctx.raw(super::docs::USERS)?;
    let transactions = ctx.transactions().await?;
    let mut session = ctx.client.start_session().await.map_err(error::on(entity))?;
    if !transactions {
        return body(&mut session).await.map_err(|e| match e {
            TxnError::Driver(e) => error::map(entity, e),
            TxnError::Store(e) => e,
        });
    }
    let mut attempt = 0;
    loop {
        attempt += 1;
        session.start_transaction().await.map_err(error::on(entity))?;
        let outcome = body(&mut session).await;
        let retry = match outcome {
            Ok(value) => match commit(&mut session).await {
                Ok(()) => return Ok(value),
                Err(e) if is_transient_transaction_error(&e) && attempt < MAX_ATTEMPTS => e,
                Err(e) => return Err(error::map(entity, e)),
            },
            Err(err) => {
                // The server may have aborted already; an abort error changes nothing.
                let _ = session.abort_transaction().await;
                match err {
                    TxnError::Driver(e) if is_transient_transaction_error(&e) && attempt < MAX_ATTEMPTS => e,
                    TxnError::Driver(e) => return Err(error::map(entity, e)),
                    TxnError::Store(e) => return Err(e),
                }
            }
        };
        tracing::debug!(entity, attempt, error = %retry.kind, "transient transaction error; running again");
        tokio::time::sleep(backoff(attempt)).await;
    }
}

async fn commit(session: &mut ClientSession) -> mongodb::error::Result<()> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match session.commit_transaction().await {
            Err(e)
                if e.contains_label(UNKNOWN_TRANSACTION_COMMIT_RESULT) && attempt < MAX_COMMIT_ATTEMPTS =>
            {
                tokio::time::sleep(backoff(attempt)).await;
            }
            other => return other,
        }
    }
}

/// A short, growing, jittered pause before attempt `attempt + 1`.
fn backoff(attempt: u32) -> Duration {
    use rand::RngExt;
    let base = 2u64.saturating_pow(attempt.min(7));
    Duration::from_millis(base + rand::rng().random_range(0..=base))
}
