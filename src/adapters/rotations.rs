//! What this process knows of the refresh-token rotations it ran, shared by the data-plane
//! adapters (one per tenant connection): which old tokens a rotation is committing, and when
//! each such commit returned.
//!
//! A rotation's `revoked_at` is stamped right before its claim, so it precedes the moment the
//! rotation becomes visible by the claim's and the commit's round trips (and a `fsync`). A
//! call that starts in that gap and then finds the token rotated cannot tell by the stored
//! stamp alone that it was concurrent. On the replica that ran the winner this record closes
//! the gap: a call that started before the winner's commit returned (or while it is still
//! committing) is concurrent. Calls on other replicas go by the stored stamp alone.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::TimeDelta;
use uuid::Uuid;

use crate::model::{Timestamp, now};

/// How long a record is kept: far longer than any commit takes.
const KEEP: TimeDelta = TimeDelta::seconds(10);
/// Records above which the old ones are dropped on the next write.
const PRUNE_ABOVE: usize = 1024;

#[derive(Debug, Clone, Copy)]
enum State {
    /// The claim is written, the commit not yet returned (since then).
    Committing(Timestamp),
    /// The commit returned then.
    Committed(Timestamp),
}

impl State {
    fn at(self) -> Timestamp {
        match self {
            State::Committing(t) | State::Committed(t) => t,
        }
    }
}

/// The rotations this process committed lately, by old token id.
#[derive(Debug, Default)]
pub(crate) struct RecentRotations {
    by_old: Mutex<HashMap<Uuid, State>>,
}

impl RecentRotations {
    fn with<T>(&self, f: impl FnOnce(&mut HashMap<Uuid, State>) -> T) -> T {
        // A panic while holding the lock cannot leave the map inconsistent.
        let mut map = self.by_old.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut map)
    }

    fn set(&self, old: Uuid, state: State) {
        self.with(|map| {
            if map.len() > PRUNE_ABOVE {
                let horizon = now() - KEEP;
                map.retain(|_, s| s.at() > horizon);
            }
            map.insert(old, state);
        });
    }

    /// The claim of `old` is written; its commit follows.
    pub(crate) fn committing(&self, old: Uuid) {
        self.set(old, State::Committing(now()));
    }

    /// The rotation of `old` is committed (now).
    pub(crate) fn committed(&self, old: Uuid) {
        self.set(old, State::Committed(now()));
    }

    /// The rotation of `old` did not commit.
    pub(crate) fn abandoned(&self, old: Uuid) {
        self.with(|map| map.remove(&old));
    }

    /// Whether a call that started at `start` began before this process's rotation of `old`
    /// committed (or while it is committing). False when this process did not rotate it
    /// lately.
    pub(crate) fn started_before_commit(&self, old: Uuid, start: Timestamp) -> bool {
        let horizon = now() - KEEP;
        self.with(|map| match map.get(&old) {
            Some(State::Committing(since)) => *since > horizon,
            Some(State::Committed(at)) => *at > horizon && start <= *at,
            None => false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_started_before_the_commit_returned_is_concurrent() {
        let rotations = RecentRotations::default();
        let (old, other) = (crate::model::new_id(), crate::model::new_id());
        let before = now();
        assert!(!rotations.started_before_commit(old, before), "unknown rotation");
        rotations.committing(old);
        assert!(rotations.started_before_commit(old, now() + TimeDelta::seconds(1)), "still committing");
        rotations.committed(old);
        assert!(rotations.started_before_commit(old, before));
        assert!(!rotations.started_before_commit(old, now() + TimeDelta::milliseconds(1)), "started after");
        assert!(!rotations.started_before_commit(other, before), "another token");
        rotations.abandoned(old);
        assert!(!rotations.started_before_commit(old, before), "abandoned");
    }
}
