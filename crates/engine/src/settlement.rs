//! Settlement: what happens to a filed entry as banking days pass.
//!
//! - `submitted` → `processing` once its effective (settlement) date is
//!   today or earlier (US/Eastern);
//! - `processing` → `completed` once the good-funds period is over: on the
//!   banking day `add_banking_days(effective_date, good_funds_banking_days)`
//!   for a debit, `add_banking_days(effective_date, prenote_wait_banking_days)`
//!   for a prenote (no return arrived in that time: the account is valid).
//!
//! Filed credit entries (refunds, reversals) go `submitted` → `completed`
//! on the same banking day a debit of their effective date would
//! ([`crate::credits::lifecycle::settle`]).
//!
//! Both steps can happen in one call (a sandbox clock advanced by days).
//! Rows move in chunks, each chunk in one transaction with its status
//! history and `collection.<status>` events, and each move applies only if
//! the row is still in the status read (a return ingested meanwhile wins).

use chrono::{DateTime, NaiveDate, Utc};
use inflow_core::calendar::{local_date, BankingCalendar};
use inflow_core::collection::{AchCollection, AchEntryType, CollectionStatus};
use inflow_core::crypto::Vault;
use inflow_store::Store;

use crate::config::AchConfig;
use crate::events::status_event;
use crate::files::AchError;
use crate::leases::{with_lease, JOB_LEASE_WAIT, SETTLEMENT_LEASE};
use crate::sandbox_bank::{holds_in_processing, STAYS_PROCESSING_ACCOUNT};

const CHUNK: i64 = 500;

/// How many collections a settlement run moved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SettlementReport {
    pub processing: usize,
    pub completed: usize,
}

/// The banking day on which a `processing` collection completes.
pub fn completion_date(cfg: &AchConfig, c: &AchCollection) -> NaiveDate {
    completion_date_with(
        &cfg.calendar,
        cfg.good_funds_banking_days,
        cfg.prenote_wait_banking_days,
        c,
    )
}

fn completion_date_with(
    cal: &BankingCalendar,
    good_funds: u32,
    prenote_wait: u32,
    c: &AchCollection,
) -> NaiveDate {
    let days = match c.entry_type {
        AchEntryType::Debit => good_funds,
        AchEntryType::Prenote => prenote_wait,
    };
    cal.add_banking_days(c.effective_date, days)
}

/// Move what is due as of `now` (see the module documentation). Holds the
/// `ach.settlement` lease while it runs.
pub async fn settle(
    store: &Store,
    vault: &Vault,
    cfg: &AchConfig,
    now: DateTime<Utc>,
) -> Result<SettlementReport, AchError> {
    with_lease(store, SETTLEMENT_LEASE, JOB_LEASE_WAIT, || {
        settle_unleased(store, vault, cfg, now)
    })
    .await
}

/// In sandbox mode the bank never answers for the "stays processing"
/// account, so its collections never complete.
fn sandbox_holds(vault: &Vault, cfg: &AchConfig, c: &AchCollection) -> bool {
    cfg.sandbox_bank
        && c.account_last4 == STAYS_PROCESSING_ACCOUNT[STAYS_PROCESSING_ACCOUNT.len() - 4..]
        && vault
            .open(&c.account_number_sealed, c.id.as_str())
            .is_ok_and(|n| holds_in_processing(&String::from_utf8_lossy(&n)))
}

pub(crate) async fn settle_unleased(
    store: &Store,
    vault: &Vault,
    cfg: &AchConfig,
    now: DateTime<Utc>,
) -> Result<SettlementReport, AchError> {
    let today = local_date(now);
    let mut report = SettlementReport::default();
    for (from, to) in [
        (CollectionStatus::Submitted, CollectionStatus::Processing),
        (CollectionStatus::Processing, CollectionStatus::Completed),
    ] {
        let mut after = String::new();
        loop {
            let cal = cfg.calendar.clone();
            let cfg2 = cfg.clone();
            let vault2 = vault.clone();
            let (good_funds, prenote_wait) =
                (cfg.good_funds_banking_days, cfg.prenote_wait_banking_days);
            let cursor = after.clone();
            let (moved, fetched, last) = store
                .write(move |tx| {
                    Box::pin(async move {
                        let ids = tx.ach_collections_effective_by(from, today, &cursor, CHUNK).await?;
                        let last = ids.last().map(|i| i.to_string());
                        let fetched = ids.len();
                        let mut moved = 0usize;
                        for mut c in tx.load_ach_collections(&ids).await? {
                            let reason = if to == CollectionStatus::Processing {
                                format!("effective date {} reached", c.effective_date)
                            } else {
                                let done = completion_date_with(&cal, good_funds, prenote_wait, &c);
                                if done > today || sandbox_holds(&vault2, &cfg2, &c) {
                                    continue;
                                }
                                match c.entry_type {
                                    AchEntryType::Debit => format!(
                                        "good funds: {good_funds} banking days after the effective date {}",
                                        c.effective_date
                                    ),
                                    AchEntryType::Prenote => format!(
                                        "prenote accepted: no return within {prenote_wait} banking days of {}",
                                        c.effective_date
                                    ),
                                }
                            };
                            c.transition(to, Some(reason), now)?;
                            if tx.update_ach_collection_if(&c, from).await? {
                                crate::ledger::on_status_change(tx, from, &c, now).await?;
                                status_event(tx, &c, now).await?;
                                if c.status == CollectionStatus::Completed
                                    && c.entry_type == AchEntryType::Prenote
                                {
                                    crate::prenotes::cleared(tx, &cfg2, &c, now).await?;
                                }
                                moved += 1;
                            }
                        }
                        Ok::<_, AchError>((moved, fetched, last))
                    })
                })
                .await?;
            match to {
                CollectionStatus::Processing => report.processing += moved,
                _ => report.completed += moved,
            }
            match last {
                Some(l) if fetched as i64 == CHUNK => after = l,
                _ => break,
            }
        }
    }
    // Refund and reversal credits complete after the same good-funds period.
    crate::credits::lifecycle::settle(store, cfg, now).await?;
    Ok(report)
}
