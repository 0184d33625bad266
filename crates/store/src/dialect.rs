//! Where SQLite and PostgreSQL differ: PostgreSQL advisory locks.
//!
//! SQLite serialises every write transaction, so a lock that only orders
//! writers is a no-op there. PostgreSQL needs an explicit transaction-scoped
//! advisory lock. Each purpose has its own key space — the second argument
//! of `hashtextextended(text, seed)` — so a lock taken for one purpose can
//! never wait on (or be mistaken for) a lock taken for another.

use sqlx::{Postgres, Transaction};

use crate::StoreError;

/// What an advisory lock serialises; each purpose hashes its key with its
/// own seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LockPurpose {
    /// An idempotency key in its scope: one request with the key at a time
    /// across nodes (taken with [`pg_xact_try_lock`]: a second one answers
    /// at once instead of waiting).
    IdempotencyKey,
    /// A background job, by name: one runner at a time across nodes.
    JobLease,
    /// Charges on one card of one customer, so two concurrent charges cannot
    /// both fit under the daily limit.
    CardCharges,
    /// A party (customer, destination account, payment method): its status
    /// changes (exclusive) against collections being created for it (shared).
    PartyStatus,
}

impl LockPurpose {
    /// Every purpose, for the test that their seeds are distinct.
    #[cfg(test)]
    const ALL: [LockPurpose; 4] = [
        Self::IdempotencyKey,
        Self::JobLease,
        Self::CardCharges,
        Self::PartyStatus,
    ];

    /// The `hashtextextended` seed of this purpose's key space. Changing one
    /// breaks mutual exclusion with nodes still running the old value
    /// during a rolling upgrade.
    pub(crate) const fn seed(self) -> i64 {
        match self {
            LockPurpose::IdempotencyKey => 7001,
            LockPurpose::JobLease => 7002,
            LockPurpose::CardCharges => 7004,
            LockPurpose::PartyStatus => 7003,
        }
    }
}

/// Hold a PostgreSQL advisory lock on `key` for `purpose` until the
/// transaction ends: exclusive, or shared with other shared holders.
pub(crate) async fn pg_xact_lock(
    t: &mut Transaction<'static, Postgres>,
    purpose: LockPurpose,
    key: &str,
    exclusive: bool,
) -> Result<(), StoreError> {
    let sql = if exclusive {
        "SELECT pg_advisory_xact_lock(hashtextextended($1, $2))"
    } else {
        "SELECT pg_advisory_xact_lock_shared(hashtextextended($1, $2))"
    };
    sqlx::query(sql)
        .bind(key)
        .bind(purpose.seed())
        .execute(&mut **t)
        .await?;
    Ok(())
}

/// Take the PostgreSQL advisory lock on `key` for `purpose` until the
/// transaction ends if no other transaction holds it; `false` if one does.
pub(crate) async fn pg_xact_try_lock(
    t: &mut Transaction<'static, Postgres>,
    purpose: LockPurpose,
    key: &str,
) -> Result<bool, StoreError> {
    let got = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock(hashtextextended($1, $2))")
        .bind(key)
        .bind(purpose.seed())
        .fetch_one(&mut **t)
        .await?;
    Ok(got)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_purpose_has_its_own_key_space() {
        // A purpose added to the enum must be added here, and so to `ALL`.
        let listed = |p: LockPurpose| match p {
            LockPurpose::IdempotencyKey
            | LockPurpose::JobLease
            | LockPurpose::CardCharges
            | LockPurpose::PartyStatus => LockPurpose::ALL.contains(&p),
        };
        assert!(LockPurpose::ALL.iter().all(|p| listed(*p)));
        let seeds: BTreeSet<i64> = LockPurpose::ALL.iter().map(|p| p.seed()).collect();
        assert_eq!(seeds.len(), LockPurpose::ALL.len(), "{seeds:?}");
    }
}
