//! ACH collections.

use chrono::NaiveDate;
use inflow_core::bank::{AccountType, HolderType, RoutingNumber};
use inflow_core::collection::{
    AchCollection, AchEntryType, Authorization, CollectionStatus, HoldCode, PaymentType,
    ProcessingMode, SecCode, StatusChange,
};
use inflow_core::ids::{
    AccountId, CollectionId, CounterpartyId, CustomerId, PaymentMethodId, ScheduleId,
};
use inflow_core::money::{Currency, Money};
use inflow_core::noc::NocCorrection;
use inflow_core::schedule::ScheduleLink;

use crate::codec::{dt, metadata_from, metadata_json, opt_dt, ts};
use crate::{on_db, ListQuery, Page, StoreError, Tx};

#[derive(sqlx::FromRow)]
pub(crate) struct CollectionRow {
    id: String,
    customer_id: String,
    #[sqlx(rename = "type")]
    kind: String,
    status: String,
    status_reason: Option<String>,
    status_history: String,
    amount: i64,
    currency: String,
    destination_account_id: String,
    payment_method_id: Option<String>,
    counterparty_id: Option<String>,
    routing_number: String,
    account_number_sealed: Vec<u8>,
    account_last4: String,
    account_fingerprint: String,
    account_type: String,
    holder_name: String,
    holder_type: String,
    sec_code: String,
    processing_mode: String,
    payment_type: Option<String>,
    effective_date: String,
    release_date: String,
    authorization_json: String,
    company_name: String,
    company_id: String,
    company_entry_description: String,
    addenda: Option<String>,
    reference: Option<String>,
    purpose: Option<String>,
    external_id: Option<String>,
    metadata: String,
    trace_number: Option<String>,
    file_id: Option<String>,
    return_code: Option<String>,
    return_trace: Option<String>,
    noc_code: Option<String>,
    noc_corrected_data: Option<String>,
    created_at: i64,
    updated_at: i64,
    submitted_at: Option<i64>,
    completed_at: Option<i64>,
    returned_at: Option<i64>,
    hold_code: Option<String>,
    schedule_id: Option<String>,
    occurrence: Option<i64>,
    retry_number: Option<i64>,
    retry_of: Option<String>,
    fee_fixed: i64,
    fee_same_day: i64,
    fee_percentage: i64,
    fee_return: i64,
    noc_corrected_data_sealed: Option<Vec<u8>>,
    noc_correction: Option<String>,
}

impl CollectionRow {
    /// Id, customer id and raw status history: what is left to work with
    /// when the rest of the row cannot be read.
    pub(crate) fn identity(&self) -> (String, String, String) {
        (
            self.id.clone(),
            self.customer_id.clone(),
            self.status_history.clone(),
        )
    }
}

fn schedule_link(r: &CollectionRow) -> Result<Option<ScheduleLink>, StoreError> {
    match (&r.schedule_id, r.occurrence, r.retry_number) {
        (None, _, _) => Ok(None),
        (Some(s), Some(o), Some(n)) => Ok(Some(ScheduleLink {
            schedule_id: ScheduleId::from_trusted(s.clone()),
            occurrence: u32::try_from(o)
                .map_err(|_| StoreError::Corrupt(format!("occurrence {o}")))?,
            retry: u32::try_from(n)
                .map_err(|_| StoreError::Corrupt(format!("retry_number {n}")))?,
            retry_of: r.retry_of.clone().map(CollectionId::from_trusted),
        })),
        _ => Err(StoreError::Corrupt(format!(
            "collection {}: incomplete schedule link",
            r.id
        ))),
    }
}

fn date(s: &str) -> Result<NaiveDate, StoreError> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| StoreError::Corrupt(format!("date {s}")))
}

fn json<T: serde::de::DeserializeOwned>(s: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// The sealed NOC correction from its JSON column and its sealed bytes.
fn noc_correction(
    json_text: Option<&str>,
    sealed: Option<Vec<u8>>,
) -> Result<Option<NocCorrection>, StoreError> {
    let Some(text) = json_text else {
        return Ok(None);
    };
    let mut c: NocCorrection = json(text, "noc_correction")?;
    c.sealed = sealed.unwrap_or_default();
    Ok(Some(c))
}

/// `(noc_correction JSON, noc_corrected_data_sealed)` of a collection.
pub(crate) fn noc_correction_columns(c: &AchCollection) -> (Option<String>, Option<Vec<u8>>) {
    match &c.noc_correction {
        None => (None, None),
        Some(n) => (
            Some(serde_json::to_string(n).unwrap_or_else(|_| "{}".into())),
            Some(n.sealed.clone()).filter(|s| !s.is_empty()),
        ),
    }
}

impl TryFrom<CollectionRow> for AchCollection {
    type Error = StoreError;
    fn try_from(r: CollectionRow) -> Result<Self, StoreError> {
        let currency = Currency::parse("currency", &r.currency)?;
        let schedule = schedule_link(&r)?;
        let noc = noc_correction(r.noc_correction.as_deref(), r.noc_corrected_data_sealed)?;
        Ok(AchCollection {
            id: CollectionId::from_trusted(r.id),
            customer_id: CustomerId::from_trusted(r.customer_id),
            entry_type: AchEntryType::parse("type", &r.kind)?,
            status: CollectionStatus::parse("status", &r.status)?,
            status_reason: r.status_reason,
            status_history: json::<Vec<StatusChange>>(&r.status_history, "status_history")?,
            amount: Money::new(currency, r.amount)?,
            destination_account_id: AccountId::from_trusted(r.destination_account_id),
            payment_method_id: r.payment_method_id.map(PaymentMethodId::from_trusted),
            counterparty_id: r.counterparty_id.map(CounterpartyId::from_trusted),
            routing_number: RoutingNumber::parse("routingNumber", &r.routing_number)?,
            account_number_sealed: r.account_number_sealed,
            account_last4: r.account_last4,
            account_fingerprint: r.account_fingerprint,
            account_type: AccountType::parse("accountType", &r.account_type)?,
            holder_name: r.holder_name,
            holder_type: HolderType::parse("holderType", &r.holder_type)?,
            sec_code: SecCode::parse("secCode", &r.sec_code)?,
            processing_mode: ProcessingMode::parse("processingMode", &r.processing_mode)?,
            payment_type: r
                .payment_type
                .as_deref()
                .map(|p| PaymentType::parse("paymentType", p))
                .transpose()?,
            effective_date: date(&r.effective_date)?,
            release_date: date(&r.release_date)?,
            authorization: json::<Authorization>(&r.authorization_json, "authorization")?,
            company_name: r.company_name,
            company_id: r.company_id,
            company_entry_description: r.company_entry_description,
            addenda: r.addenda,
            reference: r.reference,
            purpose: r.purpose,
            external_id: r.external_id,
            metadata: metadata_from(&r.metadata)?,
            trace_number: r.trace_number,
            file_id: r.file_id,
            return_code: r.return_code,
            return_trace: r.return_trace,
            noc_code: r.noc_code,
            noc_corrected_data: r.noc_corrected_data,
            noc_correction: noc,
            created_at: dt(r.created_at)?,
            updated_at: dt(r.updated_at)?,
            submitted_at: opt_dt(r.submitted_at)?,
            completed_at: opt_dt(r.completed_at)?,
            returned_at: opt_dt(r.returned_at)?,
            hold: r
                .hold_code
                .as_deref()
                .map(|h| HoldCode::parse("hold_code", h))
                .transpose()?,
            schedule,
            fees: inflow_core::fees::CollectionFees {
                fixed: r.fee_fixed,
                same_day: r.fee_same_day,
                percentage: r.fee_percentage,
                return_fee: r.fee_return,
            },
        })
    }
}

pub(crate) const COLUMNS: &str = "id, customer_id, type, status, status_reason, status_history, amount, currency, \
    destination_account_id, payment_method_id, counterparty_id, routing_number, account_number_sealed, account_last4, \
    account_fingerprint, account_type, holder_name, holder_type, sec_code, processing_mode, payment_type, effective_date, \
    release_date, authorization_json, company_name, company_id, company_entry_description, addenda, reference, purpose, \
    external_id, metadata, trace_number, file_id, return_code, return_trace, noc_code, noc_corrected_data, created_at, \
    updated_at, submitted_at, completed_at, returned_at, hold_code, schedule_id, occurrence, retry_number, retry_of, \
    fee_fixed, fee_same_day, fee_percentage, fee_return, noc_corrected_data_sealed, noc_correction";

pub(crate) fn history_json(c: &AchCollection) -> String {
    serde_json::to_string(&c.status_history).unwrap_or_else(|_| "[]".into())
}

fn authorization_json(c: &AchCollection) -> String {
    serde_json::to_string(&c.authorization).unwrap_or_else(|_| "{}".into())
}

/// Filters for listing collections; empty means "any".
#[derive(Debug, Default, Clone)]
pub struct CollectionFilter {
    pub status: Option<CollectionStatus>,
    pub rail: Option<String>,
    pub entry_type: Option<AchEntryType>,
    pub sec_code: Option<SecCode>,
    pub payment_method_id: Option<PaymentMethodId>,
    pub counterparty_id: Option<CounterpartyId>,
    pub external_id: Option<String>,
    pub reference: Option<String>,
    pub trace_number: Option<String>,
    pub created_from: Option<chrono::DateTime<chrono::Utc>>,
    pub created_to: Option<chrono::DateTime<chrono::Utc>>,
    pub effective_from: Option<NaiveDate>,
    pub effective_to: Option<NaiveDate>,
    /// Inclusive bounds on the amount, in minor units.
    pub amount_from: Option<i64>,
    pub amount_to: Option<i64>,
}

/// The customer condition of a list: `customer_id = $1`, or, for `None`
/// (every customer's: the operator console only), a condition on the
/// (empty) bound value that always holds, so the statement keeps its
/// parameter numbering and a customer's list keeps its own plan.
pub(crate) fn customer_condition(customer: Option<&CustomerId>) -> (&'static str, &str) {
    match customer {
        Some(c) => ("customer_id = $1", c.as_str()),
        None => ("$1 = ''", ""),
    }
}

pub(crate) const COLLECTION_COLUMNS: &str = COLUMNS;

/// Read collection rows selected with [`COLLECTION_COLUMNS`].
pub(crate) async fn fetch_collections(
    tx: &mut Tx,
    sql: String,
    binds: &[&str],
) -> Result<Vec<AchCollection>, StoreError> {
    let sql = sqlx::AssertSqlSafe(sql);
    let rows: Vec<CollectionRow> = on_db!(tx, conn => {
        let mut q = sqlx::query_as(sql);
        for b in binds {
            q = q.bind(*b);
        }
        q.fetch_all(conn).await
    })?;
    rows.into_iter().map(AchCollection::try_from).collect()
}

impl Tx {
    pub async fn insert_ach_collection(&mut self, c: &AchCollection) -> Result<(), StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO collections ({COLUMNS}, rail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
             $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36, \
             $37, $38, $39, $40, $41, $42, $43, $44, $45, $46, $47, $48, $49, $50, $51, $52, $53, $54, 'ach')"
        ));
        let (noc_json, noc_sealed) = noc_correction_columns(c);
        on_db!(self, conn => sqlx::query(sql)
            .bind(c.id.as_str())
            .bind(c.customer_id.as_str())
            .bind(c.entry_type.as_str())
            .bind(c.status.as_str())
            .bind(&c.status_reason)
            .bind(history_json(c))
            .bind(c.amount.minor())
            .bind(c.amount.currency().code())
            .bind(c.destination_account_id.as_str())
            .bind(c.payment_method_id.as_ref().map(|p| p.as_str()))
            .bind(c.counterparty_id.as_ref().map(|p| p.as_str()))
            .bind(c.routing_number.as_string())
            .bind(&c.account_number_sealed)
            .bind(&c.account_last4)
            .bind(&c.account_fingerprint)
            .bind(c.account_type.as_str())
            .bind(&c.holder_name)
            .bind(c.holder_type.as_str())
            .bind(c.sec_code.as_str())
            .bind(c.processing_mode.as_str())
            .bind(c.payment_type.map(|p| p.as_str()))
            .bind(c.effective_date.to_string())
            .bind(c.release_date.to_string())
            .bind(authorization_json(c))
            .bind(&c.company_name)
            .bind(&c.company_id)
            .bind(&c.company_entry_description)
            .bind(&c.addenda)
            .bind(&c.reference)
            .bind(&c.purpose)
            .bind(&c.external_id)
            .bind(metadata_json(&c.metadata))
            .bind(&c.trace_number)
            .bind(&c.file_id)
            .bind(&c.return_code)
            .bind(&c.return_trace)
            .bind(&c.noc_code)
            .bind(&c.noc_corrected_data)
            .bind(ts(c.created_at))
            .bind(ts(c.updated_at))
            .bind(c.submitted_at.map(ts))
            .bind(c.completed_at.map(ts))
            .bind(c.returned_at.map(ts))
            .bind(c.hold.map(|h| h.as_str()))
            .bind(c.schedule.as_ref().map(|l| l.schedule_id.as_str()))
            .bind(c.schedule.as_ref().map(|l| i64::from(l.occurrence)))
            .bind(c.schedule.as_ref().map(|l| i64::from(l.retry)))
            .bind(c.schedule.as_ref().and_then(|l| l.retry_of.as_ref()).map(|r| r.as_str()))
            .bind(c.fees.fixed)
            .bind(c.fees.same_day)
            .bind(c.fees.percentage)
            .bind(c.fees.return_fee)
            .bind(&noc_sealed)
            .bind(&noc_json)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Write back what changes over a collection's life.
    pub async fn update_ach_collection(&mut self, c: &AchCollection) -> Result<(), StoreError> {
        if self.write_back_collection(c, None).await? {
            Ok(())
        } else {
            Err(StoreError::NotFound)
        }
    }

    /// Write back `c` (as [`Tx::update_ach_collection`] does) only if the
    /// stored row is still in status `expected`. `false` means another
    /// worker moved it first and nothing was written.
    pub async fn update_ach_collection_if(
        &mut self,
        c: &AchCollection,
        expected: CollectionStatus,
    ) -> Result<bool, StoreError> {
        self.write_back_collection(c, Some(expected)).await
    }

    async fn write_back_collection(
        &mut self,
        c: &AchCollection,
        expected: Option<CollectionStatus>,
    ) -> Result<bool, StoreError> {
        let (noc_json, noc_sealed) = noc_correction_columns(c);
        let done = on_db!(self, conn => sqlx::query(
            "UPDATE collections SET status = $2, status_reason = $3, status_history = $4, effective_date = $5, \
             release_date = $6, trace_number = $7, file_id = $8, return_code = $9, return_trace = $10, noc_code = $11, \
             noc_corrected_data = $12, updated_at = $13, submitted_at = $14, completed_at = $15, returned_at = $16, \
             hold_code = $17, noc_corrected_data_sealed = $19, noc_correction = $20 \
             WHERE id = $1 AND ($18 = '' OR status = $18)")
            .bind(c.id.as_str())
            .bind(c.status.as_str())
            .bind(&c.status_reason)
            .bind(history_json(c))
            .bind(c.effective_date.to_string())
            .bind(c.release_date.to_string())
            .bind(&c.trace_number)
            .bind(&c.file_id)
            .bind(&c.return_code)
            .bind(&c.return_trace)
            .bind(&c.noc_code)
            .bind(&c.noc_corrected_data)
            .bind(ts(c.updated_at))
            .bind(c.submitted_at.map(ts))
            .bind(c.completed_at.map(ts))
            .bind(c.returned_at.map(ts))
            .bind(c.hold.map(|h| h.as_str()))
            .bind(expected.map(|e| e.as_str()).unwrap_or(""))
            .bind(&noc_sealed)
            .bind(&noc_json)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// A collection of `customer` (or of anyone, with `None`: engine use).
    pub async fn get_ach_collection(
        &mut self,
        customer: Option<&CustomerId>,
        id: &CollectionId,
    ) -> Result<AchCollection, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM collections WHERE id = $1 AND ($2 = '' OR customer_id = $2) AND rail = 'ach'"
        ));
        let row: CollectionRow = on_db!(self, conn => sqlx::query_as(sql)
            .bind(id.as_str())
            .bind(customer.map(|c| c.as_str()).unwrap_or(""))
            .fetch_optional(conn)
            .await)?
        .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    /// One page of collections matching `f`, newest first: `customer`'s,
    /// or with `None` every customer's (the operator console; the API
    /// always passes the caller's customer).
    pub async fn list_ach_collections(
        &mut self,
        customer: Option<&CustomerId>,
        f: &CollectionFilter,
        q: &ListQuery,
    ) -> Result<Page<AchCollection>, StoreError> {
        let (by_customer, customer) = customer_condition(customer);
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM collections WHERE {by_customer} AND ($2 = '' OR id < $2) \
             AND ($3 = '' OR status = $3) AND ($4 = '' OR rail = $4) AND ($5 = '' OR type = $5) \
             AND ($6 = '' OR sec_code = $6) AND ($7 = '' OR payment_method_id = $7) AND ($8 = '' OR counterparty_id = $8) \
             AND ($9 = '' OR external_id = $9) AND ($10 = '' OR reference = $10) AND ($11 = '' OR trace_number = $11) \
             AND created_at >= $12 AND created_at <= $13 AND ($14 = '' OR effective_date >= $14) \
             AND ($15 = '' OR effective_date <= $15) AND amount >= $17 AND amount <= $18 \
             ORDER BY id DESC LIMIT $16"
        ));
        let opt = |s: Option<&str>| s.unwrap_or("").to_owned();
        let rows: Vec<CollectionRow> = on_db!(self, conn => sqlx::query_as(sql)
            .bind(customer)
            .bind(&q.starting_after)
            .bind(opt(f.status.map(|s| s.as_str())))
            .bind(opt(f.rail.as_deref()))
            .bind(opt(f.entry_type.map(|s| s.as_str())))
            .bind(opt(f.sec_code.map(|s| s.as_str())))
            .bind(opt(f.payment_method_id.as_ref().map(|s| s.as_str())))
            .bind(opt(f.counterparty_id.as_ref().map(|s| s.as_str())))
            .bind(opt(f.external_id.as_deref()))
            .bind(opt(f.reference.as_deref()))
            .bind(opt(f.trace_number.as_deref()))
            .bind(f.created_from.map(ts).unwrap_or(i64::MIN))
            .bind(f.created_to.map(ts).unwrap_or(i64::MAX))
            .bind(f.effective_from.map(|d| d.to_string()).unwrap_or_default())
            .bind(f.effective_to.map(|d| d.to_string()).unwrap_or_default())
            .bind(q.fetch())
            .bind(f.amount_from.unwrap_or(i64::MIN))
            .bind(f.amount_to.unwrap_or(i64::MAX))
            .fetch_all(conn)
            .await)?;
        let rows = rows
            .into_iter()
            .map(AchCollection::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_rows(rows, q))
    }

    /// The most recent collection of `customer` against the same bank account
    /// with the same amount and type since `since` (duplicate detection).
    pub async fn find_duplicate_collection(
        &mut self,
        customer: &CustomerId,
        fingerprint: &str,
        amount: i64,
        entry_type: AchEntryType,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<CollectionId>, StoreError> {
        let id: Option<String> = on_db!(self, conn => sqlx::query_scalar(
            "SELECT id FROM collections WHERE customer_id = $1 AND account_fingerprint = $2 AND amount = $3 \
             AND type = $4 AND created_at >= $5 AND status <> 'cancelled' ORDER BY id DESC LIMIT 1")
            .bind(customer.as_str())
            .bind(fingerprint)
            .bind(amount)
            .bind(entry_type.as_str())
            .bind(ts(since))
            .fetch_optional(conn)
            .await)?;
        Ok(id.map(CollectionId::from_trusted))
    }
}
