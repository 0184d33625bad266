//! Disputes (chargebacks) of card collections, one row per processor
//! dispute id, so a dispute reported twice (webhook and reconciliation) is
//! applied once; and finding the collection a processor reference names.

use chrono::{DateTime, Utc};
use inflow_core::card::CardCollection;
use inflow_core::ids::CollectionId;

use crate::codec::{dt, ts};
use crate::{on_db, StoreError, Tx};

/// A dispute as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardDispute {
    pub processor_dispute_id: String,
    pub collection_id: CollectionId,
    /// Minor units taken back.
    pub amount: i64,
    /// The dispute fee charged (the customer's `cardDisputeFee`).
    pub fee: i64,
    pub reason: String,
    /// `open`, `won` or `lost`.
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

type Row = (String, String, i64, i64, String, String, i64, i64);

impl Tx {
    /// Record a new dispute; `false` when its id is already recorded.
    pub async fn insert_card_dispute(&mut self, d: &CardDispute) -> Result<bool, StoreError> {
        let n = on_db!(self, conn => sqlx::query(
            "INSERT INTO card_disputes (processor_dispute_id, collection_id, amount, fee, reason, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (processor_dispute_id) DO NOTHING")
            .bind(&d.processor_dispute_id)
            .bind(d.collection_id.as_str())
            .bind(d.amount)
            .bind(d.fee)
            .bind(&d.reason)
            .bind(&d.status)
            .bind(ts(d.created_at))
            .bind(ts(d.updated_at))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    pub async fn get_card_dispute(&mut self, id: &str) -> Result<Option<CardDispute>, StoreError> {
        let row: Option<Row> = on_db!(self, conn => sqlx::query_as(
            "SELECT processor_dispute_id, collection_id, amount, fee, reason, status, created_at, updated_at \
             FROM card_disputes WHERE processor_dispute_id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await)?;
        row.map(|r| {
            Ok(CardDispute {
                processor_dispute_id: r.0,
                collection_id: CollectionId::parse("collection_id", &r.1)
                    .map_err(|e| StoreError::Corrupt(format!("card_disputes {id}: {e}")))?,
                amount: r.2,
                fee: r.3,
                reason: r.4,
                status: r.5,
                created_at: dt(r.6)?,
                updated_at: dt(r.7)?,
            })
        })
        .transpose()
    }

    /// Close an open dispute as `won` or `lost`; `false` if it was not open.
    pub async fn close_card_dispute(
        &mut self,
        id: &str,
        status: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let n = on_db!(self, conn => sqlx::query(
            "UPDATE card_disputes SET status = $2, updated_at = $3 WHERE processor_dispute_id = $1 AND status = 'open'")
            .bind(id)
            .bind(status)
            .bind(ts(now))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// The card collection whose processor reference is `processor_ref`.
    pub async fn card_collection_by_processor_ref(
        &mut self,
        processor_ref: &str,
    ) -> Result<Option<CardCollection>, StoreError> {
        let id: Option<String> = on_db!(self, conn => sqlx::query_scalar(
            "SELECT id FROM card_collections WHERE processor_ref = $1")
            .bind(processor_ref)
            .fetch_optional(conn)
            .await)?;
        match id {
            None => Ok(None),
            Some(id) => {
                let id = CollectionId::parse("id", &id)
                    .map_err(|e| StoreError::Corrupt(format!("card_disputes: collection {e}")))?;
                self.get_card_collection(None, &id).await.map(Some)
            }
        }
    }
}
