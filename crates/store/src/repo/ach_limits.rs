//! What a customer's ACH debit limits count: the debits it created since
//! an instant, and a lock that keeps two creations from both fitting under
//! a limit together.

use chrono::{DateTime, Utc};
use inflow_core::ids::{CollectionId, CustomerId};

use crate::codec::ts;
use crate::{on_db, StoreError, Tx};

/// The smallest collection id made at or after `at`. Ids start with their
/// creation time (UUIDv7 milliseconds), so this bounds an index range on
/// `collections_customer (customer_id, id)`; the `created_at` condition
/// stays the exact one.
fn first_id_at(at: DateTime<Utc>) -> String {
    let ms = u64::try_from(at.timestamp_millis()).unwrap_or(0);
    format!("{}_{ms:012x}{}", CollectionId::PREFIX, "0".repeat(20))
}

impl Tx {
    /// Hold the customer's debit-limit lock until this transaction ends
    /// (PostgreSQL advisory lock; SQLite has one writer anyway).
    pub async fn lock_ach_debit_limits(&mut self, customer: &CustomerId) -> Result<(), StoreError> {
        self.lock_job(&format!("ach.debit_limits.{customer}")).await
    }

    /// The total of `customer`'s ACH debits created at or after `day_start`
    /// and at or after `month_start`, leaving out failed and cancelled ones:
    /// `(day, month)`, in minor units.
    pub async fn ach_debit_totals_since(
        &mut self,
        customer: &CustomerId,
        day_start: DateTime<Utc>,
        month_start: DateTime<Utc>,
    ) -> Result<(i64, i64), StoreError> {
        let since = day_start.min(month_start);
        let row: (Option<i64>, Option<i64>) = on_db!(self, conn => sqlx::query_as(
            "SELECT CAST(SUM(CASE WHEN created_at >= $3 THEN amount ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN created_at >= $4 THEN amount ELSE 0 END) AS BIGINT) \
             FROM collections WHERE customer_id = $1 AND id >= $2 AND created_at >= $5 \
             AND rail = 'ach' AND type = 'debit' AND status NOT IN ('failed', 'cancelled')")
            .bind(customer.as_str())
            .bind(first_id_at(since))
            .bind(ts(day_start))
            .bind(ts(month_start))
            .bind(ts(since))
            .fetch_one(conn)
            .await)?;
        Ok((row.0.unwrap_or(0), row.1.unwrap_or(0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_first_id_of_an_instant_sorts_before_every_id_made_then_or_later() {
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 5, 0, 0).unwrap();
        let bound = first_id_at(at);
        for later in [at, at + chrono::Duration::milliseconds(1)] {
            assert!(CollectionId::generate(later).as_str() >= bound.as_str());
        }
        assert!(bound.as_str() > first_id_at(at - chrono::Duration::milliseconds(1)).as_str());
    }
}
