//! Daily reconciliation files (issue #18, `docs/reports.md`): for each
//! banking day (the ledger's `posted_on`, US/Eastern), one file for the
//! operator (every row), one per customer and one per destination account,
//! listing every ledger transaction of the day ([`rows`]) and closing with
//! a control total that ties to the ledger.
//!
//! - [`generate_in_tx`] builds a day's files in the caller's transaction.
//!   A scope (operator, customer, account) whose content is unchanged keeps
//!   its current file; a changed one gets the next version, and the old
//!   version is marked superseded (still downloadable by id). So generating
//!   a day twice changes nothing, and a file made early (on demand, before
//!   the day was over) is replaced by the complete one.
//! - [`produce_due`] is the leased background job: once a day is over (the
//!   clock's US/Eastern date is later, after the tick's cutoffs, settlement,
//!   bank files and batch closes ran) it produces that day's files, and
//!   remembers the last day done (`daily_files.last_day`).
//! - [`push`] uploads the new files of customers with a destination
//!   (`[[report_delivery]]`) to their own folder, like the ODFI delivery.
//!
//! Which files a day has: the operator's always; on a banking day every
//! destination account that existed by the end of the day (and its
//! customer) gets one, empty or not, so a missing file means something;
//! on a weekend or holiday, only the accounts something moved for.

pub mod push;
pub mod rows;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use inflow_core::calendar::{eastern_instant, local_date, BankingCalendar};
use inflow_store::repo::daily_files::{DailyFile, NewDailyFile};
use inflow_store::repo::ledger::kind;
use inflow_store::{Store, StoreError, Tx};
use sha2::{Digest, Sha256};

use crate::files::AchError;
use crate::leases::with_lease;
use rows::{control_row, entry_row, to_jsonl, DailyFileRow, LedgerFigures};

/// The lease of the daily-files job.
pub const DAILY_FILES_LEASE: &str = "reports.daily_files";
/// The `settings` key holding the last day the job produced.
pub const LAST_DAY_SETTING: &str = "daily_files.last_day";
/// Days one run produces at most (the rest on the next tick).
pub const MAX_DAYS_PER_RUN: usize = 31;

/// Who asked for a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The background job, once the day was over.
    Scheduled,
    /// `POST /v1/reports/daily-files`.
    OnDemand,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Scheduled => "scheduled",
            Trigger::OnDemand => "on_demand",
        }
    }
}

/// A day's generation: the files created now, and every current file of the day.
#[derive(Debug, Clone, Default)]
pub struct GeneratedDay {
    pub created: Vec<DailyFile>,
    pub current: Vec<DailyFile>,
}

/// One file to be: its scope and rows (indices into the day's entries).
struct Scope {
    scope: &'static str,
    customer_id: Option<String>,
    account_id: Option<String>,
    currency: String,
    entries: Vec<usize>,
    ledger: LedgerFigures,
}

/// The name a file is downloaded and pushed under:
/// `inflow-daily-<date>-<operator|cus_…|acc_…>-v<version>.<ext>`.
pub fn file_name(file: &DailyFile, ext: &str) -> String {
    format!(
        "inflow-daily-{}-{}-v{}.{ext}",
        file.business_date,
        file.scope_key(),
        file.version
    )
}

/// Build `day`'s files in `tx` (see the module documentation); the new
/// files of the customers in `push_to` are queued for their folders
/// ([`push`]).
pub async fn generate_in_tx(
    tx: &mut Tx,
    calendar: &BankingCalendar,
    day: NaiveDate,
    now: DateTime<Utc>,
    trigger: Trigger,
    push_to: &BTreeSet<String>,
) -> Result<GeneratedDay, StoreError> {
    let entries: Vec<DailyFileRow> = tx
        .daily_file_rows(day)
        .await?
        .into_iter()
        .map(|s| entry_row(day, s))
        .collect();
    // The ledger's own figures, per destination account (from the entries
    // by ledger account, independently of the rows above).
    let mut ledger: BTreeMap<String, LedgerFigures> = BTreeMap::new();
    for m in tx.day_movements(day).await? {
        let Some(account) = m.account_id else {
            continue;
        };
        let f = ledger.entry(account).or_default();
        match m.ledger_account_kind.as_str() {
            kind::DESTINATION_PENDING | kind::DESTINATION_AVAILABLE => f.movement += m.net,
            kind::FEE_REVENUE => f.fees += m.net,
            _ => {}
        }
    }
    let end_of_day = eastern_instant(day + Days::new(1), NaiveTime::MIN);
    let mut owners: BTreeMap<String, (String, String)> = BTreeMap::new();
    for o in tx.account_owners(end_of_day).await? {
        owners.insert(o.account_id, (o.customer_id, o.currency));
    }

    let mut accounts: BTreeMap<String, Scope> = BTreeMap::new();
    let new_account_scope = |account: &str, customer: Option<String>, currency: String| Scope {
        scope: "account",
        customer_id: customer,
        account_id: Some(account.to_owned()),
        currency,
        entries: Vec::new(),
        ledger: ledger.get(account).copied().unwrap_or_default(),
    };
    if calendar.is_banking_day(day) {
        for (account, (customer, currency)) in &owners {
            accounts.insert(
                account.clone(),
                new_account_scope(account, Some(customer.clone()), currency.clone()),
            );
        }
    }
    for (i, e) in entries.iter().enumerate() {
        let Some(account) = &e.account_id else {
            continue;
        };
        let customer = e
            .customer_id
            .clone()
            .or_else(|| owners.get(account).map(|o| o.0.clone()));
        accounts
            .entry(account.clone())
            .or_insert_with(|| new_account_scope(account, customer, e.currency.clone()))
            .entries
            .push(i);
    }
    let mut customers: BTreeMap<String, Scope> = BTreeMap::new();
    for a in accounts.values() {
        let Some(customer) = &a.customer_id else {
            continue;
        };
        let c = customers.entry(customer.clone()).or_insert_with(|| Scope {
            scope: "customer",
            customer_id: Some(customer.clone()),
            account_id: None,
            currency: a.currency.clone(),
            entries: Vec::new(),
            ledger: LedgerFigures::default(),
        });
        c.entries.extend(&a.entries);
        c.ledger.movement += a.ledger.movement;
        c.ledger.fees += a.ledger.fees;
    }
    for c in customers.values_mut() {
        c.entries.sort_unstable();
    }
    let operator = Scope {
        scope: "operator",
        customer_id: None,
        account_id: None,
        currency: "USD".into(),
        entries: (0..entries.len()).collect(),
        ledger: ledger
            .values()
            .fold(LedgerFigures::default(), |t, f| LedgerFigures {
                movement: t.movement + f.movement,
                fees: t.fees + f.fees,
            }),
    };

    let mut out = GeneratedDay::default();
    let scopes = std::iter::once(operator)
        .chain(customers.into_values())
        .chain(accounts.into_values());
    for s in scopes {
        let rows: Vec<&DailyFileRow> = s.entries.iter().map(|&i| &entries[i]).collect();
        let control = control_row(
            day,
            s.customer_id.clone(),
            s.account_id.clone(),
            &s.currency,
            &rows,
            s.ledger,
        );
        let content = to_jsonl(rows.iter().copied().chain([&control]));
        let sha256 = hex::encode(Sha256::digest(content.as_bytes()));
        let scope_key = s
            .account_id
            .clone()
            .or(s.customer_id.clone())
            .unwrap_or_else(|| "operator".into());
        let current = tx.current_daily_file(day, &scope_key).await?;
        if let Some(c) = current.as_ref().filter(|c| c.sha256 == sha256) {
            out.current.push(c.clone());
            continue;
        }
        let file = DailyFile {
            id: DailyFile::new_id(now),
            business_date: day,
            scope: s.scope.into(),
            customer_id: s.customer_id,
            account_id: s.account_id,
            version: current.as_ref().map_or(1, |c| c.version + 1),
            superseded_by: None,
            currency: s.currency,
            row_count: rows.len() as i64,
            total_net: control.net,
            ledger_movement: control.ledger_movement.unwrap_or_default(),
            ties_out: control.ties_out.unwrap_or_default(),
            sha256,
            trigger: trigger.as_str().into(),
            created_at: now,
        };
        if !file.ties_out {
            tracing::error!(file = %file.id, day = %day, scope = %scope_key,
                net = file.total_net, ledger = file.ledger_movement,
                "a daily file does not tie to the ledger");
        }
        let inserted = tx
            .insert_daily_file(
                &NewDailyFile {
                    file: file.clone(),
                    content,
                },
                current.as_ref().map(|c| c.id.as_str()),
            )
            .await?;
        if !inserted {
            // A concurrent generation (another node, or a request racing
            // the job on PostgreSQL) stored this version first: keep it.
            out.current
                .extend(tx.current_daily_file(day, &scope_key).await?);
            continue;
        }
        if let Some(customer) = file.customer_id.as_ref().filter(|c| push_to.contains(*c)) {
            tx.queue_daily_file_delivery(&file.id, customer, now)
                .await?;
        }
        out.created.push(file.clone());
        out.current.push(file);
    }
    Ok(out)
}

/// Produce the files of every day that is over and not yet done, holding
/// the daily-files lease (waiting at most `wait` for another node); the
/// days produced. See the module documentation.
pub async fn produce_due(
    store: &Store,
    calendar: &BankingCalendar,
    push_to: &BTreeSet<String>,
    now: DateTime<Utc>,
    wait: Duration,
) -> Result<Vec<NaiveDate>, AchError> {
    with_lease(store, DAILY_FILES_LEASE, wait, || {
        produce_due_unleased(store, calendar, push_to, now)
    })
    .await
}

async fn produce_due_unleased(
    store: &Store,
    calendar: &BankingCalendar,
    push_to: &BTreeSet<String>,
    now: DateTime<Utc>,
) -> Result<Vec<NaiveDate>, AchError> {
    let today = local_date(now);
    let Some(yesterday) = today.pred_opt() else {
        return Ok(Vec::new());
    };
    let mut tx = store.read().await?;
    let last = tx.get_setting(LAST_DAY_SETTING).await?;
    let first = tx.first_posting_day().await?;
    tx.rollback().await?;
    let start = match last {
        Some(s) => s
            .parse::<NaiveDate>()
            .map_err(|_| StoreError::Corrupt(format!("{LAST_DAY_SETTING} = {s:?}")))?
            .succ_opt()
            .unwrap_or(today),
        None => first.map_or(yesterday, |f| f.min(yesterday)),
    };
    let mut done = Vec::new();
    let mut day = start;
    while day <= yesterday && done.len() < MAX_DAYS_PER_RUN {
        let cal = calendar.clone();
        let push_to = push_to.clone();
        store
            .write(move |tx| {
                Box::pin(async move {
                    // Another node may have done it meanwhile: never go back.
                    let last = tx.get_setting(LAST_DAY_SETTING).await?;
                    if last.is_some_and(|l| l.as_str() >= day.to_string().as_str()) {
                        return Ok::<_, StoreError>(());
                    }
                    generate_in_tx(tx, &cal, day, now, Trigger::Scheduled, &push_to).await?;
                    tx.put_setting(LAST_DAY_SETTING, &day.to_string()).await
                })
            })
            .await?;
        done.push(day);
        day = match day.succ_opt() {
            Some(d) => d,
            None => break,
        };
    }
    Ok(done)
}

/// The days produced so far, for tests and the CLI: the value of
/// [`LAST_DAY_SETTING`].
pub async fn last_day_produced(store: &Store) -> Result<Option<NaiveDate>, StoreError> {
    let mut tx = store.read().await?;
    let v = tx.get_setting(LAST_DAY_SETTING).await?;
    tx.rollback().await?;
    v.map(|s| {
        s.parse()
            .map_err(|_| StoreError::Corrupt(format!("{LAST_DAY_SETTING} = {s:?}")))
    })
    .transpose()
}

/// A file and the set of customers it may be shown to: its own customer
/// (customer and account files); the operator's file to operators only.
pub fn visible_to(file: &DailyFile, customer: Option<&str>) -> bool {
    match customer {
        None => true,
        Some(c) => file.customer_id.as_deref() == Some(c),
    }
}
