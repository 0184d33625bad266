//! Persistent counters (the `counters` table): trace-number sequences and the
//! like. Each reservation is one atomic upsert, so two transactions (or two
//! nodes on PostgreSQL) never receive the same value: the row is locked from
//! the reservation until the reserving transaction ends.

use crate::{on_db, StoreError, Tx};

impl Tx {
    /// Reserve `n` consecutive values of the counter `name`, which counts
    /// within `1..=max` and wraps; returns the first value reserved.
    ///
    /// A reservation never straddles the wrap: when fewer than `n` values
    /// remain before `max`, they are skipped and the reservation starts
    /// again at 1. So the values returned, `first..first + n`, are always
    /// ascending. A counter that does not exist yet starts at 1.
    pub async fn reserve_counter(
        &mut self,
        name: &str,
        n: i64,
        max: i64,
    ) -> Result<i64, StoreError> {
        if n < 1 || n > max {
            return Err(StoreError::Corrupt(format!(
                "cannot reserve {n} values of counter {name} (1..={max})"
            )));
        }
        let last: i64 = on_db!(self, conn => sqlx::query_scalar(
            "INSERT INTO counters (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = CASE \
                WHEN counters.value + excluded.value > $3 THEN excluded.value \
                ELSE counters.value + excluded.value END \
             RETURNING value")
            .bind(name)
            .bind(n)
            .bind(max)
            .fetch_one(conn)
            .await)?;
        Ok(last - n + 1)
    }

    /// The last value handed out by counter `name` (0 if never used).
    pub async fn counter_value(&mut self, name: &str) -> Result<i64, StoreError> {
        let v: Option<i64> = on_db!(self, conn => sqlx::query_scalar(
            "SELECT value FROM counters WHERE name = $1")
            .bind(name)
            .fetch_optional(conn)
            .await)?;
        Ok(v.unwrap_or(0))
    }
}
