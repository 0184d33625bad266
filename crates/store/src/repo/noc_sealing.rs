//! Finding and sealing NOC corrected data that older versions stored in
//! clear (before migration 0012). The engine seals each row with the master
//! key at start-up (`inflow_engine::inbound::legacy`); these are its
//! queries. A row is plaintext while its sealed column is NULL, so sealing
//! is idempotent: a sealed row is never selected again.

use inflow_core::ids::{CollectionId, EventId, ReturnId};
use inflow_core::noc::NocCorrection;

use crate::{on_db, StoreError, Tx};

/// A collection whose NOC corrected data is still in clear.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PlaintextCollectionNoc {
    pub id: String,
    pub noc_code: Option<String>,
    pub noc_corrected_data: String,
    /// The collection's (original) routing number, for the fingerprint.
    pub routing_number: String,
}

/// A return/NOC entry whose corrected data is still in clear.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PlaintextReturn {
    pub id: String,
    pub inbound_file_id: String,
    pub code: String,
    pub corrected_data: String,
}

impl Tx {
    /// Up to `limit` collections with plaintext NOC corrected data, by id.
    pub async fn plaintext_collection_nocs(
        &mut self,
        limit: i64,
    ) -> Result<Vec<PlaintextCollectionNoc>, StoreError> {
        let rows = on_db!(self, conn => sqlx::query_as(
            "SELECT id, noc_code, noc_corrected_data, routing_number FROM collections \
             WHERE noc_corrected_data IS NOT NULL AND noc_correction IS NULL ORDER BY id LIMIT $1")
            .bind(limit)
            .fetch_all(conn)
            .await)?;
        Ok(rows)
    }

    /// Replace a collection's plaintext NOC corrected data by its masked
    /// form and sealed correction. `false` if it was sealed meanwhile.
    pub async fn seal_collection_noc(
        &mut self,
        id: &CollectionId,
        masked: &str,
        correction: &NocCorrection,
    ) -> Result<bool, StoreError> {
        let json = serde_json::to_string(correction)
            .map_err(|e| StoreError::Corrupt(format!("noc_correction: {e}")))?;
        let n = on_db!(self, conn => sqlx::query(
            "UPDATE collections SET noc_corrected_data = $2, noc_correction = $3, \
             noc_corrected_data_sealed = $4 WHERE id = $1 AND noc_correction IS NULL")
            .bind(id.as_str())
            .bind(masked)
            .bind(json)
            .bind(&correction.sealed)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Up to `limit` return/NOC entries with plaintext corrected data, by id.
    pub async fn plaintext_ach_returns(
        &mut self,
        limit: i64,
    ) -> Result<Vec<PlaintextReturn>, StoreError> {
        let rows = on_db!(self, conn => sqlx::query_as(
            "SELECT id, inbound_file_id, code, corrected_data FROM ach_returns \
             WHERE corrected_data IS NOT NULL AND corrected_data_sealed IS NULL ORDER BY id LIMIT $1")
            .bind(limit)
            .fetch_all(conn)
            .await)?;
        Ok(rows)
    }

    /// Replace an entry's plaintext corrected data by its masked form and
    /// sealed copy. `false` if it was sealed meanwhile.
    pub async fn seal_ach_return_data(
        &mut self,
        id: &ReturnId,
        masked: &str,
        sealed: &[u8],
    ) -> Result<bool, StoreError> {
        let n = on_db!(self, conn => sqlx::query(
            "UPDATE ach_returns SET corrected_data = $2, corrected_data_sealed = $3 \
             WHERE id = $1 AND corrected_data_sealed IS NULL")
            .bind(id.as_str())
            .bind(masked)
            .bind(sealed)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Replace an event's data (scrubbing a secret an older version put in
    /// it). Events are otherwise immutable.
    pub async fn replace_event_data(
        &mut self,
        id: &EventId,
        data: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let n = on_db!(self, conn => sqlx::query("UPDATE events SET data = $2 WHERE id = $1")
            .bind(id.as_str())
            .bind(data.to_string())
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
