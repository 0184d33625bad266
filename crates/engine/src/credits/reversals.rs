//! NACHA reversing entries (operator): `POST /v1/collections/{id}/reversal`
//! and `POST /v1/ach/files/{id}/reversal`.
//!
//! - Only for an erroneous entry: the reason is one of `duplicate`,
//!   `wrong_receiver`, `wrong_amount`, `wrong_date`.
//! - Only a filed debit (`submitted`, `processing`, `completed`) within
//!   five banking days after its settlement date (the effective date, or
//!   the next banking day when that is not one), by the project's banking
//!   calendar with its holidays; later is `409 reversal_window_closed`
//!   naming the last day.
//! - A collection returned meanwhile is refused (`409
//!   collection_returned`): the money already came back by the return. If
//!   the return arrives after the reversal was asked but before the cutoff,
//!   the reversal is `cancelled` at the cutoff and nothing is filed.
//! - A collection with refunds (not returned) is refused (`409
//!   collection_refunded`): reversing it too would give the money back twice.
//! - One reversal per collection: a second is `409 already_reversed` (a
//!   retry with the same `Idempotency-Key` replays the first answer).
//! - The reversing entry is a credit of the original's amount, with its
//!   SEC code and company identification, and the entry description
//!   `REVERSAL`. The original moves to `reversed` when the cutoff files
//!   the reversing entry (its ledger postings undone, `collection.reversed`).
//! - A file is reversed whole: every debit of the file (prenotes move no
//!   money and are left out) gets a reversing entry, and the cutoff puts
//!   them in one reversing file. If any of them cannot be reversed the whole
//!   request is refused, naming them.

use chrono::{DateTime, NaiveDate, Utc};
use inflow_core::calendar::{local_date, BankingCalendar};
use inflow_core::collection::{AchCollection, AchEntryType, CollectionStatus};
use inflow_core::ids::new_id_body;
use inflow_store::repo::ach_credits::{contents, AchCreditEntry, KIND_REFUND, KIND_REVERSAL};
use inflow_store::repo::ach_files::OUTBOUND;
use inflow_store::{StoreError, Tx};

use super::{conflict, credit_event, status, CreditError, REVERSAL_DESCRIPTION};

/// The banking days after settlement NACHA allows a reversal in.
pub const REVERSAL_WINDOW_BANKING_DAYS: u32 = 5;

/// Why an entry is reversed.
pub const REASONS: &[&str] = &["duplicate", "wrong_receiver", "wrong_amount", "wrong_date"];

/// The last day a reversal of an entry effective `effective` may be made.
pub fn reversal_deadline(cal: &BankingCalendar, effective: NaiveDate) -> NaiveDate {
    let settles = cal.banking_day_on_or_after(effective);
    cal.add_banking_days(settles, REVERSAL_WINDOW_BANKING_DAYS)
}

/// Check `reason` against [`REASONS`].
pub fn parse_reason(reason: Option<&str>) -> Result<String, CreditError> {
    match reason {
        Some(r) if REASONS.contains(&r) => Ok(r.to_owned()),
        Some(r) => Err(CreditError::Invalid {
            code: "invalid_reason",
            message: format!("reason `{r}` is not one of {}", REASONS.join(", ")),
            param: "reason",
        }),
        None => Err(CreditError::Invalid {
            code: "missing_field",
            message: format!("reason is required: one of {}", REASONS.join(", ")),
            param: "reason",
        }),
    }
}

/// Why `c` cannot be reversed now, if it cannot.
async fn refusal(
    tx: &mut Tx,
    cal: &BankingCalendar,
    c: &AchCollection,
    today: NaiveDate,
) -> Result<Option<CreditError>, StoreError> {
    use CollectionStatus::*;
    if c.entry_type == AchEntryType::Prenote {
        return Ok(Some(conflict(
            "collection_not_reversible",
            format!("{} is a prenote: it moved no money", c.id),
        )));
    }
    match c.status {
        Submitted | Processing | Completed => {}
        Returned => {
            return Ok(Some(conflict(
                "collection_returned",
                format!(
                    "{} was returned ({}): the money already came back, there is nothing to reverse",
                    c.id,
                    c.return_code.as_deref().unwrap_or("return")
                ),
            )))
        }
        Reversed => {
            return Ok(Some(conflict(
                "already_reversed",
                format!("{} is already reversed", c.id),
            )))
        }
        other => {
            return Ok(Some(conflict(
                "collection_not_reversible",
                format!(
                    "{} is {other}: only a debit at the bank (submitted, processing or completed) can be reversed",
                    c.id
                ),
            )))
        }
    }
    let deadline = reversal_deadline(cal, c.effective_date);
    if today > deadline {
        return Ok(Some(conflict(
            "reversal_window_closed",
            format!(
                "{} settled on {}; a reversal had to be made within {REVERSAL_WINDOW_BANKING_DAYS} banking days, by {deadline}",
                c.id,
                cal.banking_day_on_or_after(c.effective_date)
            ),
        )));
    }
    let credits = tx.ach_credit_entries_of(&c.id).await?;
    if credits.iter().any(|e| e.kind == KIND_REVERSAL) {
        return Ok(Some(conflict(
            "already_reversed",
            format!("{} already has a reversal", c.id),
        )));
    }
    if credits.iter().any(|e| {
        e.kind == KIND_REFUND && e.status != status::RETURNED && e.status != status::CANCELLED
    }) {
        return Ok(Some(conflict(
            "collection_refunded",
            format!(
                "{} has refunds; reversing it as well would give the money back twice",
                c.id
            ),
        )));
    }
    Ok(None)
}

fn reversal_entry(
    c: &AchCollection,
    reason: &str,
    of_file: Option<&str>,
    now: DateTime<Utc>,
) -> AchCreditEntry {
    AchCreditEntry {
        id: format!("rvs_{}", new_id_body(now)),
        kind: KIND_REVERSAL.into(),
        customer_id: c.customer_id.clone(),
        collection_id: c.id.clone(),
        destination_account_id: c.destination_account_id.clone(),
        amount: c.amount,
        status: status::PENDING.into(),
        status_reason: None,
        sec_code: c.sec_code.as_str().into(),
        company_entry_description: REVERSAL_DESCRIPTION.into(),
        reason: Some(reason.to_owned()),
        metadata: Default::default(),
        before_completion: false,
        reversal_of_file_id: of_file.map(str::to_owned),
        effective_date: None,
        trace_number: None,
        file_id: None,
        return_code: None,
        created_at: now,
        updated_at: now,
        submitted_at: None,
        completed_at: None,
        returned_at: None,
    }
}

/// Reverse collection `id` (any customer's: an operator action).
pub async fn reverse_collection(
    tx: &mut Tx,
    cal: &BankingCalendar,
    id: &inflow_core::ids::CollectionId,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<AchCreditEntry, CreditError> {
    tx.lock_collection_row(id).await?;
    let c = match tx.get_ach_collection(None, id).await {
        Ok(c) => c,
        Err(StoreError::NotFound) => return Err(CreditError::NotFound("collection")),
        Err(e) => return Err(e.into()),
    };
    if let Some(e) = refusal(tx, cal, &c, local_date(now)).await? {
        return Err(e);
    }
    let r = reversal_entry(&c, reason, None, now);
    tx.insert_ach_credit_entry(&r).await?;
    credit_event(tx, &r, &c, now).await?;
    Ok(r)
}

/// Reverse every debit of outbound file `file_id` (a reversing file).
pub async fn reverse_file(
    tx: &mut Tx,
    cal: &BankingCalendar,
    file_id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Vec<AchCreditEntry>, CreditError> {
    let file = match tx.get_ach_file(file_id).await {
        Ok(f) => f,
        Err(StoreError::NotFound) => return Err(CreditError::NotFound("file")),
        Err(e) => return Err(e.into()),
    };
    if file.direction != OUTBOUND || tx.ach_file_contents(file_id).await? != contents::DEBITS {
        return Err(conflict(
            "file_not_reversible",
            format!("{file_id} is not an outbound file of debits; only those can be reversed"),
        ));
    }
    let ids = tx.ach_file_collection_ids(file_id).await?;
    for id in &ids {
        tx.lock_collection_row(id).await?;
    }
    let collections: Vec<AchCollection> = tx
        .load_ach_collections(&ids)
        .await?
        .into_iter()
        .filter(|c| c.entry_type == AchEntryType::Debit)
        .collect();
    if collections.is_empty() {
        return Err(conflict(
            "file_not_reversible",
            format!("{file_id} holds no debit (only prenotes): nothing to reverse"),
        ));
    }
    let today = local_date(now);
    let mut refused = Vec::new();
    for c in &collections {
        if let Some(CreditError::Conflict { message, .. }) = refusal(tx, cal, c, today).await? {
            refused.push(message);
        }
    }
    if !refused.is_empty() {
        let deadline = collections
            .iter()
            .map(|c| reversal_deadline(cal, c.effective_date))
            .min()
            .unwrap_or(today);
        let code = if today > deadline {
            "reversal_window_closed"
        } else {
            "file_not_reversible"
        };
        return Err(conflict(
            code,
            format!(
                "{} of the file's {} debits cannot be reversed (reverse the others one by one): {}",
                refused.len(),
                collections.len(),
                refused.join("; ")
            ),
        ));
    }
    let mut out = Vec::with_capacity(collections.len());
    for c in &collections {
        let r = reversal_entry(c, reason, Some(file_id), now);
        tx.insert_ach_credit_entry(&r).await?;
        credit_event(tx, &r, c, now).await?;
        out.push(r);
    }
    Ok(out)
}
