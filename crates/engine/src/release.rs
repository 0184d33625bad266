//! Release: a deferred (`scheduled`) collection becomes `pending` once its
//! release date — the banking day whose cutoff first carries it — arrives
//! (US/Eastern date), if it is still eligible (`crate::eligibility`);
//! otherwise it is held or failed instead.

use chrono::{DateTime, NaiveDate, Utc};
use inflow_core::calendar::local_date;
use inflow_core::collection::CollectionStatus;
use inflow_store::{Store, Tx};

use crate::config::AchConfig;
use crate::eligibility::screen;
use crate::events::status_event;
use crate::files::AchError;

/// Rows moved per transaction by [`release_due`].
const CHUNK: i64 = 500;

/// Move up to `limit` `scheduled` collections with `release_date <= today`
/// to `pending` (history and `collection.pending` event) in `tx` — or, if
/// their customer, destination account, payment method or schedule does not
/// allow it now, to `on_hold`/`failed` ([`crate::eligibility::screen`]);
/// returns how many left `scheduled`.
pub(crate) async fn release_in_tx(
    tx: &mut Tx,
    today: NaiveDate,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<usize, AchError> {
    let ids = tx.ach_collections_due_for_release(today, limit).await?;
    let due = tx.load_ach_collections(&ids).await?;
    let eligible = screen(tx, due, "not released", now).await?;
    let mut moved = ids.len() - eligible.len();
    for c in eligible {
        let mut c = c;
        c.transition(
            CollectionStatus::Pending,
            Some(format!("release date {} reached", c.release_date)),
            now,
        )?;
        if tx
            .update_ach_collection_if(&c, CollectionStatus::Scheduled)
            .await?
        {
            status_event(tx, &c, now).await?;
            moved += 1;
        }
    }
    Ok(moved)
}

/// Release every `scheduled` collection whose release date is today
/// (US/Eastern, at `now`) or earlier. Returns how many became `pending`.
pub async fn release_due(
    store: &Store,
    _cfg: &AchConfig,
    now: DateTime<Utc>,
) -> Result<usize, AchError> {
    let today = local_date(now);
    let mut total = 0;
    loop {
        let moved = store
            .write(move |tx| Box::pin(async move { release_in_tx(tx, today, now, CHUNK).await }))
            .await?;
        total += moved;
        if moved < CHUNK as usize {
            return Ok(total);
        }
    }
}
