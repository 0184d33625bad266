//! Fee schedules: one per customer, and the operator's default for every
//! customer without one (stored under the key `default`).

use chrono::{DateTime, Utc};
use inflow_core::fees::FeeSchedule;
use inflow_core::ids::CustomerId;

use crate::codec::ts;
use crate::{on_db, StoreError, Tx};

/// The key of the operator's default schedule.
pub const DEFAULT_KEY: &str = "default";

type Row = (i64, i64, i64, i64, i64, i64, i64, i64, i64);

fn from_row(r: Row) -> FeeSchedule {
    FeeSchedule {
        ach_fixed: r.0,
        ach_same_day_surcharge: r.1,
        ach_percentage_bps: r.2,
        ach_percentage_min: r.3,
        ach_percentage_max: r.4,
        ach_return_fee: r.5,
        card_percentage_bps: r.6,
        card_fixed: r.7,
        card_dispute_fee: r.8,
    }
}

impl Tx {
    /// The schedule stored under `key` (a customer id or [`DEFAULT_KEY`]).
    pub async fn get_fee_schedule(&mut self, key: &str) -> Result<Option<FeeSchedule>, StoreError> {
        let row: Option<Row> = on_db!(self, conn => sqlx::query_as(
            "SELECT ach_fixed, ach_same_day_surcharge, ach_percentage_bps, ach_percentage_min, ach_percentage_max, \
             ach_return_fee, card_percentage_bps, card_fixed, card_dispute_fee FROM fee_schedules WHERE customer_id = $1")
            .bind(key)
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(from_row))
    }

    /// The schedule that applies to `customer`: its own, else the default,
    /// else no fees.
    pub async fn effective_fee_schedule(
        &mut self,
        customer: &CustomerId,
    ) -> Result<FeeSchedule, StoreError> {
        if let Some(s) = self.get_fee_schedule(customer.as_str()).await? {
            return Ok(s);
        }
        Ok(self
            .get_fee_schedule(DEFAULT_KEY)
            .await?
            .unwrap_or_default())
    }

    /// Create or replace the schedule under `key`.
    pub async fn put_fee_schedule(
        &mut self,
        key: &str,
        s: &FeeSchedule,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_db!(self, conn => sqlx::query(
            "INSERT INTO fee_schedules (customer_id, ach_fixed, ach_same_day_surcharge, ach_percentage_bps, \
             ach_percentage_min, ach_percentage_max, ach_return_fee, card_percentage_bps, card_fixed, card_dispute_fee, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (customer_id) DO UPDATE SET \
             ach_fixed = excluded.ach_fixed, ach_same_day_surcharge = excluded.ach_same_day_surcharge, \
             ach_percentage_bps = excluded.ach_percentage_bps, ach_percentage_min = excluded.ach_percentage_min, \
             ach_percentage_max = excluded.ach_percentage_max, ach_return_fee = excluded.ach_return_fee, \
             card_percentage_bps = excluded.card_percentage_bps, card_fixed = excluded.card_fixed, \
             card_dispute_fee = excluded.card_dispute_fee, updated_at = excluded.updated_at")
            .bind(key)
            .bind(s.ach_fixed)
            .bind(s.ach_same_day_surcharge)
            .bind(s.ach_percentage_bps)
            .bind(s.ach_percentage_min)
            .bind(s.ach_percentage_max)
            .bind(s.ach_return_fee)
            .bind(s.card_percentage_bps)
            .bind(s.card_fixed)
            .bind(s.card_dispute_fee)
            .bind(ts(now))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Remove the schedule under `key`; `false` if there was none.
    pub async fn delete_fee_schedule(&mut self, key: &str) -> Result<bool, StoreError> {
        let n = on_db!(self, conn => sqlx::query("DELETE FROM fee_schedules WHERE customer_id = $1")
            .bind(key)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }
}
