//! A real processor's handle on a saved card (for Stripe its customer and
//! payment method), kept sealed so the card number is sent to a processor
//! once per card. The row holds only ciphertext; sealing is the caller's.

use chrono::{DateTime, Utc};

use crate::codec::ts;
use crate::{on_db, StoreError, Tx};

impl Tx {
    /// The sealed token `processor` gave for the card `payment_method_id`.
    pub async fn card_processor_token(
        &mut self,
        payment_method_id: &str,
        processor: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let sealed: Option<Vec<u8>> = on_db!(self, conn => sqlx::query_scalar(
            "SELECT token_sealed FROM card_processor_tokens WHERE payment_method_id = $1 AND processor = $2")
            .bind(payment_method_id)
            .bind(processor)
            .fetch_optional(conn)
            .await)?;
        Ok(sealed)
    }

    /// Keep the first token recorded for the card at `processor` (a second
    /// one made concurrently is dropped); answers the one kept.
    pub async fn put_card_processor_token(
        &mut self,
        payment_method_id: &str,
        processor: &str,
        token_sealed: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Vec<u8>, StoreError> {
        on_db!(self, conn => sqlx::query(
            "INSERT INTO card_processor_tokens (payment_method_id, processor, token_sealed, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (payment_method_id, processor) DO NOTHING")
            .bind(payment_method_id)
            .bind(processor)
            .bind(token_sealed)
            .bind(ts(now))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        self.card_processor_token(payment_method_id, processor)
            .await?
            .ok_or(StoreError::NotFound)
    }
}
