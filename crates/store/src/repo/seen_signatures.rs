//! Request signatures already accepted (replay memory shared by the nodes of
//! one PostgreSQL database).
//!
//! One statement each, outside any transaction: remembering a signature is
//! not part of the request's own work, and must hold even when that work
//! fails. On PostgreSQL the insert commits with `synchronous_commit` off
//! (it does not wait for its own WAL flush): the row is visible to every
//! node at once, and a request that goes on to write flushes the WAL past
//! this row when its own transaction commits, so only the memory of reads
//! and failed requests can be lost, and only in a crash of PostgreSQL itself.

use chrono::{DateTime, Utc};

use crate::codec::ts;
use crate::pool::Backend;
use crate::{Store, StoreError};

impl Store {
    /// Remember `digest` until `expires_at`. `false`: it was remembered
    /// already (the signature is being replayed).
    pub async fn remember_signature(
        &self,
        digest: &[u8],
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let inserted = match &self.backend {
            Backend::Postgres(pool) => sqlx::query(
                "INSERT INTO seen_signatures (digest, expires_at) \
                 SELECT $1, $2 FROM (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed \
                 ON CONFLICT (digest) DO NOTHING",
            )
            .bind(digest)
            .bind(ts(expires_at))
            .execute(pool)
            .await?
            .rows_affected(),
            Backend::Sqlite { writer, .. } => sqlx::query(
                "INSERT INTO seen_signatures (digest, expires_at) VALUES ($1, $2) \
                 ON CONFLICT (digest) DO NOTHING",
            )
            .bind(digest)
            .bind(ts(expires_at))
            .execute(writer)
            .await?
            .rows_affected(),
        };
        Ok(inserted == 1)
    }

    /// Forget signatures whose window has passed; how many were removed.
    pub async fn purge_seen_signatures(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let sql = "DELETE FROM seen_signatures WHERE expires_at < $1";
        Ok(match &self.backend {
            Backend::Postgres(pool) => sqlx::query(sql)
                .bind(ts(now))
                .execute(pool)
                .await?
                .rows_affected(),
            Backend::Sqlite { writer, .. } => sqlx::query(sql)
                .bind(ts(now))
                .execute(writer)
                .await?
                .rows_affected(),
        })
    }
}
