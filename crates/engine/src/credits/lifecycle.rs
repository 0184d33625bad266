//! What happens to a filed credit entry: its file is uploaded
//! (`batched` → `submitted`), the good-funds period passes (`submitted` →
//! `completed`, the same banking days as a debit's), or a return names its
//! trace number (→ `returned`, the money given back to the destination
//! account: `ach_refund_returned` / `ach_reversal_returned`).

use chrono::{DateTime, Utc};
use inflow_core::calendar::local_date;
use inflow_store::repo::ach_credits::{AchCreditEntry, KIND_REFUND};
use inflow_store::{Store, StoreError, Tx};

use super::filing::post_refund_back;
use super::{credit_event_row, move_to, status};
use crate::config::AchConfig;
use crate::files::AchError;

/// The file is at the bank: its `batched` credit entries become `submitted`.
pub async fn submit_file(tx: &mut Tx, file_id: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
    let file = tx.get_ach_file(file_id).await?;
    let entries = tx.ach_credit_entries_in_file(file_id).await?;
    let mut events = Vec::new();
    for mut e in entries {
        if e.status != status::BATCHED {
            continue;
        }
        move_to(
            &mut e,
            status::SUBMITTED,
            Some(format!("file {} uploaded to the bank", file.file_name)),
            now,
        );
        if tx.update_ach_credit_entry_if(&e, status::BATCHED).await? {
            let c = tx.get_ach_collection(None, &e.collection_id).await?;
            events.push(credit_event_row(&e, &c, now));
        }
    }
    tx.insert_events(&events).await
}

/// Complete the submitted credit entries whose good-funds period is over
/// as of `now`; how many moved.
pub async fn settle(store: &Store, cfg: &AchConfig, now: DateTime<Utc>) -> Result<usize, AchError> {
    let today = local_date(now);
    let (cal, days) = (cfg.calendar.clone(), cfg.good_funds_banking_days);
    let moved = store
        .write(move |tx| {
            Box::pin(async move {
                let mut moved = 0;
                for mut e in tx.ach_credit_entries_in(status::SUBMITTED, 10_000).await? {
                    let Some(eff) = e.effective_date else {
                        continue;
                    };
                    let done = cal.add_banking_days(eff, days);
                    if done > today {
                        continue;
                    }
                    move_to(
                        &mut e,
                        status::COMPLETED,
                        Some(format!(
                            "no return within {days} banking days of the effective date {eff}"
                        )),
                        now,
                    );
                    if tx.update_ach_credit_entry_if(&e, status::SUBMITTED).await? {
                        let c = tx.get_ach_collection(None, &e.collection_id).await?;
                        tx.insert_events(&[credit_event_row(&e, &c, now)]).await?;
                        moved += 1;
                    }
                }
                Ok::<_, StoreError>(moved)
            })
        })
        .await?;
    Ok(moved)
}

/// Apply a return of credit entry `e` (matched by its trace number): it
/// becomes `returned` with `code`, and the money goes back to the
/// destination account's available balance. `false` when it was not in a
/// returnable status (recorded, not applied).
pub async fn apply_return(
    tx: &mut Tx,
    mut e: AchCreditEntry,
    code: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let before = e.status.clone();
    if !matches!(
        before.as_str(),
        status::BATCHED | status::SUBMITTED | status::COMPLETED
    ) {
        return Ok(false);
    }
    e.return_code = Some(code.to_owned());
    let description = nacha::ReturnCode::parse(code)
        .map(|c| c.description().to_owned())
        .unwrap_or_default();
    move_to(
        &mut e,
        status::RETURNED,
        Some(
            format!("returned by the receiving bank: {code} {description}")
                .trim()
                .to_owned(),
        ),
        now,
    );
    if !tx.update_ach_credit_entry_if(&e, &before).await? {
        return Ok(false);
    }
    let kind_name = if e.kind == KIND_REFUND {
        "ach_refund_returned"
    } else {
        "ach_reversal_returned"
    };
    post_refund_back(tx, &e, kind_name, now).await?;
    let c = tx.get_ach_collection(None, &e.collection_id).await?;
    tx.insert_events(&[credit_event_row(&e, &c, now)]).await?;
    Ok(true)
}
