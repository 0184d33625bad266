//! Applying one return or NOC entry inside the ingestion transaction.

use chrono::{DateTime, Utc};
use inflow_core::bank::{AccountNumber, AccountType, RoutingNumber};
use inflow_core::calendar::local_date;
use inflow_core::collection::{AchCollection, AchEntryType, CollectionStatus};
use inflow_core::crypto::Vault;
use inflow_core::ids::{CollectionId, ReturnId};
use inflow_core::model::{BankPaymentMethod, PaymentMethodStatus};
use inflow_core::noc::{noc_seal_context, return_seal_context};
use inflow_store::repo::ach_offsets::OffsetEntryRow;
use inflow_store::repo::returns::{kind, AchReturn};
use inflow_store::{StoreError, Tx};

use super::corrected::{mask_corrected_data, seal_corrected_data};
use super::{InboundItem, IngestError, IngestReport, IngestedEntry, BLOCKING_RETURN_CODES};
use crate::config::AchConfig;
use crate::events::{collection_event, payment_method_event, status_event};
use crate::schedules::{after_return, AppliedReturn};
use crate::status_changes::payment_method_blocked_by_return;

/// Returns are accepted up to 60 calendar days after the settlement
/// (effective) date — the longest window NACHA gives (unauthorised
/// consumer debits). Later ones are recorded, not applied.
pub const LATE_RETURN_LIMIT_DAYS: i64 = 60;

fn return_description(code: &str) -> Option<String> {
    nacha::ReturnCode::parse(code).map(|c| c.description().to_owned())
}

fn change_description(code: &str) -> Option<String> {
    nacha::ChangeCode::parse(code).map(|c| c.description().to_owned())
}

fn is_return(kind: &str) -> bool {
    matches!(
        kind,
        kind::RETURN | kind::DISHONORED_RETURN | kind::CONTESTED_RETURN
    )
}

/// The `ach_returns` row recording `item`, matched to `collection` or not.
/// The corrected data of a NOC is kept masked, and sealed under the row id.
pub(super) fn return_record(
    vault: &Vault,
    file_id: &str,
    item: &InboundItem,
    collection: Option<CollectionId>,
    now: DateTime<Utc>,
) -> AchReturn {
    let id = ReturnId::generate(now);
    let (corrected_data, corrected_data_sealed) = match &item.corrected_data {
        Some(raw) => (
            Some(mask_corrected_data(
                &item.code,
                raw,
                item.correction.as_ref(),
            )),
            Some(vault.seal(raw.as_bytes(), &return_seal_context(id.as_str()))),
        ),
        None => (None, None),
    };
    AchReturn {
        id,
        inbound_file_id: file_id.to_owned(),
        kind: item.kind.to_owned(),
        code: item.code.clone(),
        original_trace: item.original_trace.clone(),
        entry_trace: item.entry_trace.clone(),
        amount: item.amount,
        corrected_data,
        corrected_data_sealed,
        matched: collection.is_some(),
        collection_id: collection,
        created_at: now,
    }
}

/// The report line of a recorded entry, and its count in the report's
/// tallies: already recorded, or matched/unmatched return or NOC. An
/// unmatched entry gets its outcome and warning here.
///
/// `offset`: the outbound file whose offset entry this unmatched return
/// returns, if any.
pub(super) fn report_entry(
    item: &InboundItem,
    record: &AchReturn,
    inserted: bool,
    offset: Option<&OffsetEntryRow>,
    report: &mut IngestReport,
) -> IngestedEntry {
    let mut entry = IngestedEntry {
        return_id: inserted.then(|| record.id.to_string()),
        kind: record.kind.clone(),
        code: record.code.clone(),
        description: if is_return(item.kind) {
            return_description(&item.code)
        } else {
            change_description(&item.code)
        },
        original_trace: record.original_trace.clone(),
        entry_trace: record.entry_trace.clone(),
        collection_id: record.collection_id.as_ref().map(|c| c.to_string()),
        matched: record.matched,
        offset_of_file_id: None,
        already_recorded: !inserted,
        addenda_information: Some(item.addenda_information.clone()).filter(|s| !s.is_empty()),
        outcome: Vec::new(),
    };
    if !inserted {
        report.already_recorded += 1;
        entry
            .outcome
            .push("already recorded from an earlier file; not applied again".into());
        return entry;
    }
    if let (Some(o), false) = (offset, record.matched) {
        report.offset_returns += 1;
        entry.offset_of_file_id = Some(o.file_id.clone());
        entry.outcome.push(format!(
            "return of the offset entry of file {} (the credit of {} to the settlement account); no collection changed",
            o.file_id, o.amount
        ));
        report.warnings.push(format!(
            "line {}: {} {} returns the offset entry {} of file {}: the bank refused the settlement account's credit of {}; settle it with the bank",
            item.line, item.kind, item.code, item.original_trace, o.file_id, o.amount
        ));
        return entry;
    }
    match (is_return(item.kind), record.matched) {
        (true, true) => report.returns_matched += 1,
        (true, false) => report.returns_unmatched += 1,
        (false, true) => report.nocs_matched += 1,
        (false, false) => report.nocs_unmatched += 1,
    }
    if !record.matched {
        entry
            .outcome
            .push("no collection has this trace number; recorded as unmatched".into());
        report.warnings.push(format!(
            "line {}: {} {} for unknown trace {} recorded as unmatched",
            item.line, item.kind, item.code, item.original_trace
        ));
    }
    entry
}

/// Record a return of a balanced file's offset entry (`record`, newly
/// inserted and matching no collection): the return row names the file,
/// an `ach_file.offset_returned` operator event carries the file and the
/// return, and an alert is logged. No collection and no ledger posting
/// change: the offset's `ach_offset` posting stays until the operator
/// settles the refused credit with the bank.
pub(super) async fn record_offset_return(
    tx: &mut Tx,
    item: &InboundItem,
    record: &AchReturn,
    offset: &OffsetEntryRow,
    now: DateTime<Utc>,
) -> Result<(), IngestError> {
    tx.set_ach_return_offset_file(record.id.as_str(), &offset.file_id)
        .await?;
    let file = tx.get_ach_file(&offset.file_id).await?;
    let mut object = match tx.get_ach_file_delivery(&file.id).await? {
        Some(d) => crate::delivery::file_event_object(&file, &d),
        None => {
            serde_json::json!({ "id": file.id, "object": "ach_file", "fileName": file.file_name })
        }
    };
    object["offsetReturn"] = serde_json::json!({
        "returnId": record.id.as_str(),
        "inboundFileId": record.inbound_file_id,
        "code": item.code,
        "description": return_description(&item.code),
        "originalTrace": item.original_trace,
        "entryTrace": item.entry_trace,
        "amount": offset.amount,
    });
    tracing::error!(
        file_id = %file.id,
        trace = %item.original_trace,
        code = %item.code,
        amount = offset.amount,
        "ALERT: the bank returned a balanced file's offset entry (the credit to the settlement account); no collection changed, the operator must settle it with the bank"
    );
    tx.insert_event(&inflow_store::repo::events::Event {
        id: inflow_core::ids::EventId::generate(now),
        // An operator event: in no customer's event list.
        customer_id: None,
        event_type: "ach_file.offset_returned".into(),
        object_id: file.id.clone(),
        data: serde_json::json!({ "object": object }),
        created_at: now,
    })
    .await?;
    Ok(())
}

/// The reason a return gives its collection, like `R01: Insufficient funds`.
pub(super) fn return_reason(code: &str) -> String {
    let description = return_description(code).unwrap_or_else(|| "Unknown return code".into());
    format!("{code}: {description}")
}

/// Apply a newly recorded, matched entry to its collection `c` (read in
/// this transaction), one entry at a time.
#[allow(clippy::too_many_arguments)]
pub(super) async fn apply_matched(
    tx: &mut Tx,
    vault: &Vault,
    cfg: &AchConfig,
    item: &InboundItem,
    c: &mut AchCollection,
    now: DateTime<Utc>,
    report: &mut IngestReport,
    entry: &mut IngestedEntry,
) -> Result<(), IngestError> {
    match item.kind {
        kind::RETURN => apply_return(tx, vault, cfg, item, c, now, report, entry).await,
        kind::NOC => apply_noc(tx, vault, item, c, now, report, entry).await,
        _ => {
            entry
                .outcome
                .push(format!("{} recorded only", item.kind.replace('_', " ")));
            Ok(())
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn apply_return(
    tx: &mut Tx,
    vault: &Vault,
    cfg: &AchConfig,
    item: &InboundItem,
    c: &mut AchCollection,
    now: DateTime<Utc>,
    report: &mut IngestReport,
    entry: &mut IngestedEntry,
) -> Result<(), IngestError> {
    use CollectionStatus::*;
    let reason = return_reason(&item.code);
    // `batched`: the bank has a file whose upload was not recorded yet.
    if !matches!(c.status, Batched | Submitted | Processing | Completed) {
        entry.outcome.push(format!(
            "collection is {}; return recorded only",
            c.status.as_str()
        ));
        if c.status != Returned {
            report.warnings.push(format!(
                "line {}: return {} for collection {} in status {} recorded only",
                item.line, item.code, c.id, c.status
            ));
        }
        return Ok(());
    }
    let days_after_settlement = (local_date(now) - c.effective_date).num_days();
    if days_after_settlement > LATE_RETURN_LIMIT_DAYS {
        entry.outcome.push(format!(
            "return arrived {days_after_settlement} days after the settlement date {}, beyond the \
             {LATE_RETURN_LIMIT_DAYS}-day limit; recorded only (the ODFI may dishonor it)",
            c.effective_date
        ));
        report.warnings.push(format!(
            "line {}: return {} for collection {} arrived {days_after_settlement} days after settlement; not applied",
            item.line, item.code, c.id
        ));
        return Ok(());
    }
    c.return_code = Some(item.code.clone());
    c.return_trace = Some(item.entry_trace.clone());
    let before = c.status;
    c.transition(Returned, Some(reason.clone()), now)
        .map_err(|e| StoreError::Corrupt(format!("collection {}: {e}", c.id)))?;
    tx.update_ach_collection(c).await?;
    crate::ledger::on_status_change(tx, before, c, now).await?;
    status_event(tx, c, now).await?;
    report.collections_changed += 1;
    entry.outcome.push("collection returned".into());
    if c.entry_type == AchEntryType::Prenote {
        crate::prenotes::returned(tx, cfg, c, &reason, now).await?;
        entry.outcome.push("account validation failed".into());
    }

    let mut blocked = None;
    // The saved account the return says cannot be debited any more.
    let mut unusable = None;
    if BLOCKING_RETURN_CODES.contains(&item.code.as_str()) {
        if let Some(pm_id) = c.payment_method_id.clone() {
            let mut pm = tx.get_bank_payment_method(&c.customer_id, &pm_id).await?;
            if pm.status != PaymentMethodStatus::Blocked {
                pm.status = PaymentMethodStatus::Blocked;
                pm.status_reason = Some(format!("ACH return {reason} (collection {})", c.id));
                pm.updated_at = now;
                tx.update_bank_payment_method(&pm).await?;
                payment_method_event(tx, &pm, now).await?;
                report.payment_methods_updated += 1;
                entry.outcome.push("payment method blocked".into());
                blocked = Some(pm.clone());
            } else {
                entry
                    .outcome
                    .push("payment method was already blocked".into());
            }
            unusable = Some(pm);
        }
    }
    let applied = AppliedReturn {
        collection: c,
        code: &item.code,
        reason: &reason,
        blocked: blocked.as_ref(),
    };
    entry
        .outcome
        .extend(after_return(tx, vault, cfg, applied, now).await?);
    // After the schedule rules, so a schedule this return stops has its
    // collections cancelled; whatever else is unfiled on the account fails.
    if let Some(pm) = unusable {
        let failed = payment_method_blocked_by_return(tx, cfg, &pm, &reason, now).await?;
        if failed > 0 {
            entry.outcome.push(format!(
                "{failed} other collection(s) on the payment method not yet in a file failed"
            ));
        }
    }
    Ok(())
}

async fn apply_noc(
    tx: &mut Tx,
    vault: &Vault,
    item: &InboundItem,
    c: &mut AchCollection,
    now: DateTime<Utc>,
    report: &mut IngestReport,
    entry: &mut IngestedEntry,
) -> Result<(), IngestError> {
    c.noc_code = Some(item.code.clone());
    let sealed = seal_corrected_data(
        vault,
        &item.code,
        item.corrected_data.as_deref().unwrap_or(""),
        item.correction.as_ref(),
        &c.routing_number.as_string(),
        &noc_seal_context(c.id.as_str()),
    );
    c.noc_corrected_data = Some(sealed.masked.clone());
    c.noc_correction = Some(sealed.correction);
    c.updated_at = now;
    tx.update_ach_collection(c).await?;
    collection_event(tx, "collection.updated", c, now).await?;
    report.collections_changed += 1;
    entry.outcome.push("collection NOC recorded".into());

    let code = item.code.as_str();
    if !matches!(code, "C01" | "C02" | "C03" | "C05" | "C06" | "C07") {
        entry.outcome.push(format!(
            "{code} is recorded only; the payment method is unchanged"
        ));
        return Ok(());
    }
    let Some(pm_id) = c.payment_method_id.clone() else {
        entry
            .outcome
            .push("one-time bank account: no saved payment method to correct".into());
        return Ok(());
    };
    let Some(correction) = item.correction.as_ref() else {
        report.warnings.push(format!(
            "line {}: NOC {code} corrected data {:?} could not be parsed; payment method {pm_id} not corrected",
            item.line, sealed.masked
        ));
        entry
            .outcome
            .push("corrected data unreadable; payment method not corrected".into());
        return Ok(());
    };
    let mut pm = tx.get_bank_payment_method(&c.customer_id, &pm_id).await?;
    match corrected_payment_method(vault, &pm, correction, now) {
        Ok(Some(updated)) => {
            pm = updated;
            tx.update_bank_payment_method(&pm).await?;
            payment_method_event(tx, &pm, now).await?;
            report.payment_methods_updated += 1;
            entry.outcome.push("payment method corrected".into());
        }
        Ok(None) => entry
            .outcome
            .push("payment method already carries the corrected data".into()),
        Err(why) => {
            report.warnings.push(format!(
                "line {}: NOC {code} not applied to payment method {pm_id}: {why}",
                item.line
            ));
            entry
                .outcome
                .push(format!("payment method not corrected: {why}"));
        }
    }
    Ok(())
}

/// The payment method with `correction` applied, `None` if nothing changes,
/// or why the corrected data cannot be used.
fn corrected_payment_method(
    vault: &Vault,
    pm: &BankPaymentMethod,
    correction: &nacha::Correction,
    now: DateTime<Utc>,
) -> Result<Option<BankPaymentMethod>, String> {
    let routing = match &correction.routing {
        Some(r) => RoutingNumber::parse("correctedData", r.as_str()).map_err(|e| e.message)?,
        None => pm.routing_number.clone(),
    };
    let new_account = correction
        .account
        .as_deref()
        .map(|a| AccountNumber::parse("correctedData", a.trim()).map_err(|e| e.message))
        .transpose()?;
    let account_type = match correction.transaction_code {
        Some(tc) => match tc.account_type() {
            Some(nacha::codes::transaction_code::AccountType::Checking) => AccountType::Checking,
            Some(nacha::codes::transaction_code::AccountType::Savings) => AccountType::Savings,
            _ => {
                return Err(format!(
                    "transaction code {tc} is not a checking or savings code"
                ))
            }
        },
        None => pm.account_type,
    };
    let current = vault
        .open(&pm.account_number_sealed, pm.id.as_str())
        .map_err(|e| e.to_string())?;
    let current =
        String::from_utf8(current).map_err(|_| "stored account number is not text".to_string())?;
    let account = match &new_account {
        Some(a) => a.expose().to_owned(),
        None => current.clone(),
    };
    if routing == pm.routing_number && account == current && account_type == pm.account_type {
        return Ok(None);
    }
    let mut out = pm.clone();
    if account != current {
        out.account_number_sealed = vault.seal(account.as_bytes(), pm.id.as_str());
        out.account_last4 = account[account.len().saturating_sub(4)..].to_owned();
    }
    out.routing_number = routing;
    out.account_type = account_type;
    out.fingerprint = vault.fingerprint(&[&out.routing_number.as_string(), &account]);
    out.updated_at = now;
    Ok(Some(out))
}
