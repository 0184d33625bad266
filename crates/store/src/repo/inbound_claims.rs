//! Claims on the files of the shared inbound folder
//! (`inbound_file_claims`): which node ingests a file. A claim expires, so
//! a node that died holding one does not keep the file forever.

use chrono::{DateTime, Utc};

use crate::codec::ts;
use crate::{on_db, StoreError, Tx};

impl Tx {
    /// Claim the inbound file `file_key` for `holder` until `expires_at`,
    /// if it is unclaimed, its claim expired (at `now`) or `holder` has it.
    /// One upsert whose update applies only when the claim may be taken,
    /// so of two nodes racing exactly one gets `true`.
    pub async fn try_claim_inbound_file(
        &mut self,
        file_key: &str,
        holder: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = on_db!(self, conn => sqlx::query(
            "INSERT INTO inbound_file_claims (file_key, holder, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (file_key) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE inbound_file_claims.expires_at <= $4 OR inbound_file_claims.holder = excluded.holder")
            .bind(file_key)
            .bind(holder)
            .bind(ts(expires_at))
            .bind(ts(now))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Drop the claim on `file_key` if `holder` still has it.
    pub async fn release_inbound_file_claim(
        &mut self,
        file_key: &str,
        holder: &str,
    ) -> Result<bool, StoreError> {
        let done = on_db!(self, conn => sqlx::query(
            "DELETE FROM inbound_file_claims WHERE file_key = $1 AND holder = $2")
            .bind(file_key)
            .bind(holder)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Who claims `file_key` now (an expired claim included).
    pub async fn inbound_file_claim_holder(
        &mut self,
        file_key: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(on_db!(self, conn => sqlx::query_scalar(
            "SELECT holder FROM inbound_file_claims WHERE file_key = $1")
            .bind(file_key)
            .fetch_optional(conn)
            .await)?)
    }
}
