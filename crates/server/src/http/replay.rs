//! Replay memory: each request signature is accepted once.
//!
//! A signature is remembered from the moment it verifies until its
//! `X-Timestamp` leaves the freshness window (`timestamp + tolerance`);
//! after that the timestamp check refuses it anyway, so it can be forgotten.
//!
//! - **PostgreSQL** (several nodes): a shared table, `seen_signatures`;
//!   insert-if-absent, and 0 rows inserted is a replay on whichever node saw
//!   it first. The housekeeping loop purges expired rows every minute, so
//!   the table holds at most the signatures of one window.
//! - **SQLite** (one node): an in-process set ordered by timestamp, bounded
//!   by `signature_replay_capacity`. It knows nothing from before the process
//!   started and nothing it had to evict, so it keeps a *floor*: signatures
//!   with a timestamp at or below it cannot be checked and are refused (the
//!   client signs again with the current time). The floor starts one second
//!   before start-up and rises to the timestamp of each signature evicted
//!   when the set is full, oldest first.
//!
//! Digests, not signatures, are stored: SHA-256 over the key id, the
//! signature version and the MAC.

use chrono::{DateTime, Utc};
use inflow_store::{Store, StoreError};
use std::collections::BTreeSet;
use std::sync::Mutex;

/// What the memory says about a signature that just verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// First time: accepted, and remembered.
    Fresh,
    /// Accepted before: refuse.
    Replayed,
    /// Older than what this node can still check: refuse.
    TooOld,
}

/// Where accepted signatures are remembered.
#[derive(Debug)]
pub enum ReplayMemory {
    Local(LocalMemory),
    Shared(Store),
}

impl ReplayMemory {
    /// Shared on PostgreSQL, in process on SQLite.
    pub fn for_store(store: &Store, capacity: usize, started_at: DateTime<Utc>) -> Self {
        if store.backend_name() == "postgres" {
            ReplayMemory::Shared(store.clone())
        } else {
            ReplayMemory::Local(LocalMemory::new(capacity, started_at.timestamp() - 1))
        }
    }

    /// Remember `digest` (of a signature made at `timestamp`, unix seconds)
    /// unless it was seen already. `now` is the wall clock.
    pub async fn admit(
        &self,
        digest: &[u8; 32],
        timestamp: i64,
        tolerance_secs: i64,
        now: DateTime<Utc>,
    ) -> Result<Verdict, StoreError> {
        let expires = timestamp.saturating_add(tolerance_secs);
        match self {
            ReplayMemory::Local(m) => {
                Ok(m.admit(digest, timestamp, now.timestamp() - tolerance_secs))
            }
            ReplayMemory::Shared(store) => {
                let expires_at = DateTime::from_timestamp(expires, 0).unwrap_or(now);
                Ok(if store.remember_signature(digest, expires_at).await? {
                    Verdict::Fresh
                } else {
                    Verdict::Replayed
                })
            }
        }
    }

    /// Forget what has expired (the local set also does this as it goes).
    pub async fn purge(&self, now: DateTime<Utc>, tolerance_secs: i64) -> Result<u64, StoreError> {
        match self {
            ReplayMemory::Local(m) => Ok(m.forget_before(now.timestamp() - tolerance_secs)),
            ReplayMemory::Shared(store) => store.purge_seen_signatures(now).await,
        }
    }
}

/// A bounded set of recently accepted signatures, for a single node.
#[derive(Debug)]
pub struct LocalMemory {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// (timestamp, first 16 bytes of the digest), oldest first.
    seen: BTreeSet<(i64, [u8; 16])>,
    /// Timestamps at or below this cannot be checked.
    floor: i64,
}

impl LocalMemory {
    pub fn new(capacity: usize, floor: i64) -> Self {
        Self {
            capacity: capacity.max(1),
            inner: Mutex::new(Inner {
                seen: BTreeSet::new(),
                floor,
            }),
        }
    }

    /// `oldest_valid`: the oldest timestamp the freshness check still accepts.
    pub fn admit(&self, digest: &[u8; 32], timestamp: i64, oldest_valid: i64) -> Verdict {
        let mut short = [0u8; 16];
        short.copy_from_slice(&digest[..16]);
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.forget_before(oldest_valid);
        if timestamp <= inner.floor {
            return Verdict::TooOld;
        }
        if !inner.seen.insert((timestamp, short)) {
            return Verdict::Replayed;
        }
        if inner.seen.len() > self.capacity {
            if let Some((evicted, _)) = inner.seen.pop_first() {
                inner.floor = inner.floor.max(evicted);
            }
        }
        Verdict::Fresh
    }

    /// Drop entries older than `oldest_valid`; how many went.
    pub fn forget_before(&self, oldest_valid: i64) -> u64 {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .forget_before(oldest_valid)
    }

    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .seen
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Inner {
    fn forget_before(&mut self, oldest_valid: i64) -> u64 {
        let mut n = 0;
        while self.seen.first().is_some_and(|(ts, _)| *ts < oldest_valid) {
            self.seen.pop_first();
            n += 1;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(n: u8) -> [u8; 32] {
        [n; 32]
    }

    #[test]
    fn a_signature_is_fresh_once_then_replayed() {
        let m = LocalMemory::new(10, 0);
        assert_eq!(m.admit(&digest(1), 1000, 700), Verdict::Fresh);
        assert_eq!(m.admit(&digest(1), 1000, 700), Verdict::Replayed);
        assert_eq!(m.admit(&digest(2), 1000, 700), Verdict::Fresh);
    }

    #[test]
    fn entries_expire_with_the_freshness_window() {
        let m = LocalMemory::new(10, 0);
        m.admit(&digest(1), 1000, 700);
        m.admit(&digest(2), 1200, 900);
        assert_eq!(m.len(), 2);
        // At now = 1301 with ±300 s, timestamp 1000 is out of the window.
        assert_eq!(m.forget_before(1001), 1);
        assert_eq!(m.len(), 1);
        m.admit(&digest(3), 1500, 1201);
        assert_eq!(m.len(), 1, "expired entries go as new ones arrive");
    }

    #[test]
    fn signatures_from_before_start_up_cannot_be_checked() {
        let started = 5_000;
        let m = LocalMemory::new(10, started - 1);
        assert_eq!(m.admit(&digest(1), started - 1, 0), Verdict::TooOld);
        assert_eq!(m.admit(&digest(1), started, 0), Verdict::Fresh);
    }

    #[test]
    fn when_full_the_oldest_are_evicted_and_the_floor_rises_past_them() {
        let m = LocalMemory::new(3, 0);
        for (n, ts) in [(1, 100), (2, 101), (3, 102)] {
            assert_eq!(m.admit(&digest(n), ts, 0), Verdict::Fresh);
        }
        assert_eq!(m.admit(&digest(4), 103, 0), Verdict::Fresh);
        assert_eq!(m.len(), 3, "bounded");
        // The evicted signature (ts 100) cannot come back as fresh…
        assert_eq!(m.admit(&digest(1), 100, 0), Verdict::TooOld);
        // …and the ones still held are still refused as replays.
        assert_eq!(m.admit(&digest(3), 102, 0), Verdict::Replayed);
        assert_eq!(m.admit(&digest(5), 104, 0), Verdict::Fresh);
        assert_eq!(m.admit(&digest(2), 101, 0), Verdict::TooOld);
    }
}
