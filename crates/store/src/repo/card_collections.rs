//! Card collections and their refunds.
//!
//! Every write-back is a compare-and-set on the status and the refunded
//! amount read in the same transaction: of two concurrent captures, voids
//! or refunds of one collection only the first commits, so refunds never add
//! up to more than was captured (the table's CHECK is the last guard).

use chrono::{DateTime, Utc};
use inflow_core::card::{
    CardBrand, CardCollection, CardRefund, CardStatus, CardStatusChange, CardTxType,
    PendingOperation, RefundStatus,
};
use inflow_core::ids::{AccountId, CollectionId, CustomerId, PaymentMethodId, RefundId};
use inflow_core::money::{Currency, Money};

use crate::codec::{dt, metadata_from, metadata_json, opt_dt, ts};
use crate::dialect::{pg_xact_lock, LockPurpose};
use crate::repo::collections::customer_condition;
use crate::{on_db, ListQuery, Page, StoreError, Tx};

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    customer_id: String,
    #[sqlx(rename = "type")]
    kind: String,
    status: String,
    status_reason: Option<String>,
    status_history: String,
    amount: i64,
    currency: String,
    authorized_amount: i64,
    captured_amount: i64,
    refunded_amount: i64,
    destination_account_id: String,
    payment_method_id: String,
    brand: String,
    last4: String,
    exp_month: i64,
    exp_year: i64,
    fingerprint: String,
    holder_name: String,
    approval_code: Option<String>,
    processor_ref: Option<String>,
    decline_code: Option<String>,
    decline_message: Option<String>,
    cvc_result: Option<String>,
    external_id: Option<String>,
    reference: Option<String>,
    metadata: String,
    created_at: i64,
    updated_at: i64,
    authorized_at: Option<i64>,
    captured_at: Option<i64>,
    voided_at: Option<i64>,
    completed_at: Option<i64>,
    expires_at: Option<i64>,
    fee_fixed: i64,
    fee_percentage_bps: i64,
    pending_operation: Option<String>,
    batch_id: Option<String>,
}

#[derive(sqlx::FromRow)]
struct RefundRow {
    id: String,
    collection_id: String,
    customer_id: String,
    amount: i64,
    currency: String,
    reason: Option<String>,
    processor_ref: String,
    status: String,
    failure_reason: Option<String>,
    created_at: i64,
    metadata: String,
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("card collection {what}"))
}

impl TryFrom<Row> for CardCollection {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self, StoreError> {
        let currency = Currency::parse("currency", &r.currency)?;
        Ok(CardCollection {
            id: CollectionId::from_trusted(r.id),
            customer_id: CustomerId::from_trusted(r.customer_id),
            tx_type: CardTxType::parse("type", &r.kind)?,
            status: CardStatus::parse("status", &r.status)?,
            status_reason: r.status_reason,
            status_history: serde_json::from_str::<Vec<CardStatusChange>>(&r.status_history)
                .map_err(|_| corrupt("status_history"))?,
            amount: Money::new(currency, r.amount)?,
            authorized_minor: r.authorized_amount,
            captured_minor: r.captured_amount,
            refunded_minor: r.refunded_amount,
            destination_account_id: AccountId::from_trusted(r.destination_account_id),
            payment_method_id: PaymentMethodId::from_trusted(r.payment_method_id),
            brand: CardBrand::parse("brand", &r.brand)?,
            last4: r.last4,
            exp_month: u32::try_from(r.exp_month).map_err(|_| corrupt("exp_month"))?,
            exp_year: i32::try_from(r.exp_year).map_err(|_| corrupt("exp_year"))?,
            fingerprint: r.fingerprint,
            holder_name: r.holder_name,
            approval_code: r.approval_code,
            processor_ref: r.processor_ref,
            decline_code: r.decline_code,
            decline_message: r.decline_message,
            cvc_result: r.cvc_result,
            external_id: r.external_id,
            reference: r.reference,
            metadata: metadata_from(&r.metadata)?,
            created_at: dt(r.created_at)?,
            updated_at: dt(r.updated_at)?,
            authorized_at: opt_dt(r.authorized_at)?,
            captured_at: opt_dt(r.captured_at)?,
            voided_at: opt_dt(r.voided_at)?,
            completed_at: opt_dt(r.completed_at)?,
            expires_at: opt_dt(r.expires_at)?,
            fee_fixed: r.fee_fixed,
            fee_percentage_bps: r.fee_percentage_bps,
            pending_operation: r
                .pending_operation
                .as_deref()
                .map(serde_json::from_str::<PendingOperation>)
                .transpose()
                .map_err(|_| corrupt("pending_operation"))?,
            batch_id: r.batch_id,
        })
    }
}

const COLUMNS: &str = "id, customer_id, type, status, status_reason, status_history, amount, currency, \
    authorized_amount, captured_amount, refunded_amount, destination_account_id, payment_method_id, brand, last4, \
    exp_month, exp_year, fingerprint, holder_name, approval_code, processor_ref, decline_code, decline_message, \
    cvc_result, external_id, reference, metadata, created_at, updated_at, authorized_at, captured_at, voided_at, \
    completed_at, expires_at, fee_fixed, fee_percentage_bps, pending_operation, batch_id";

const REFUND_COLUMNS: &str =
    "id, collection_id, customer_id, amount, currency, reason, processor_ref, status, failure_reason, created_at, metadata";

fn history(c: &CardCollection) -> String {
    serde_json::to_string(&c.status_history).unwrap_or_else(|_| "[]".into())
}

fn pending_json(c: &CardCollection) -> Option<String> {
    c.pending_operation
        .as_ref()
        .and_then(|p| serde_json::to_string(p).ok())
}

impl TryFrom<RefundRow> for CardRefund {
    type Error = StoreError;
    fn try_from(r: RefundRow) -> Result<Self, StoreError> {
        Ok(CardRefund {
            id: RefundId::from_trusted(r.id),
            collection_id: CollectionId::from_trusted(r.collection_id),
            customer_id: CustomerId::from_trusted(r.customer_id),
            amount: Money::new(Currency::parse("currency", &r.currency)?, r.amount)?,
            reason: r.reason,
            processor_ref: r.processor_ref,
            status: RefundStatus::parse("status", &r.status)?,
            failure_reason: r.failure_reason,
            created_at: dt(r.created_at)?,
            metadata: metadata_from(&r.metadata)?,
        })
    }
}

/// Filters for listing card collections; empty means "any".
#[derive(Debug, Default, Clone)]
pub struct CardCollectionFilter {
    pub status: Option<CardStatus>,
    pub tx_type: Option<CardTxType>,
    pub brand: Option<CardBrand>,
    pub last4: Option<String>,
    pub approval_code: Option<String>,
    pub payment_method_id: Option<PaymentMethodId>,
    pub external_id: Option<String>,
    pub reference: Option<String>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    /// Inclusive bounds on the amount asked for, in minor units.
    pub amount_from: Option<i64>,
    pub amount_to: Option<i64>,
}

impl Tx {
    pub async fn insert_card_collection(&mut self, c: &CardCollection) -> Result<(), StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO card_collections ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
             $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, \
             $35, $36, $37, $38)"
        ));
        on_db!(self, conn => sqlx::query(sql)
            .bind(c.id.as_str())
            .bind(c.customer_id.as_str())
            .bind(c.tx_type.as_str())
            .bind(c.status.as_str())
            .bind(&c.status_reason)
            .bind(history(c))
            .bind(c.amount.minor())
            .bind(c.amount.currency().code())
            .bind(c.authorized_minor)
            .bind(c.captured_minor)
            .bind(c.refunded_minor)
            .bind(c.destination_account_id.as_str())
            .bind(c.payment_method_id.as_str())
            .bind(c.brand.as_str())
            .bind(&c.last4)
            .bind(i64::from(c.exp_month))
            .bind(i64::from(c.exp_year))
            .bind(&c.fingerprint)
            .bind(&c.holder_name)
            .bind(&c.approval_code)
            .bind(&c.processor_ref)
            .bind(&c.decline_code)
            .bind(&c.decline_message)
            .bind(&c.cvc_result)
            .bind(&c.external_id)
            .bind(&c.reference)
            .bind(metadata_json(&c.metadata))
            .bind(ts(c.created_at))
            .bind(ts(c.updated_at))
            .bind(c.authorized_at.map(ts))
            .bind(c.captured_at.map(ts))
            .bind(c.voided_at.map(ts))
            .bind(c.completed_at.map(ts))
            .bind(c.expires_at.map(ts))
            .bind(c.fee_fixed)
            .bind(c.fee_percentage_bps)
            .bind(pending_json(c))
            .bind(&c.batch_id)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Write back what changes over a card collection's life, only if the
    /// stored row still has status `expected` and refunded amount
    /// `expected_refunded`. `false`: someone else changed it first.
    pub async fn update_card_collection_if(
        &mut self,
        c: &CardCollection,
        expected: CardStatus,
        expected_refunded: i64,
    ) -> Result<bool, StoreError> {
        let done = on_db!(self, conn => sqlx::query(
            "UPDATE card_collections SET status = $2, status_reason = $3, status_history = $4, captured_amount = $5, \
             refunded_amount = $6, approval_code = $7, updated_at = $8, captured_at = $9, voided_at = $10, \
             completed_at = $11, authorized_amount = $14, processor_ref = $15, decline_code = $16, \
             decline_message = $17, cvc_result = $18, authorized_at = $19, expires_at = $20, \
             pending_operation = $21, batch_id = $22 \
             WHERE id = $1 AND status = $12 AND refunded_amount = $13")
            .bind(c.id.as_str())
            .bind(c.status.as_str())
            .bind(&c.status_reason)
            .bind(history(c))
            .bind(c.captured_minor)
            .bind(c.refunded_minor)
            .bind(&c.approval_code)
            .bind(ts(c.updated_at))
            .bind(c.captured_at.map(ts))
            .bind(c.voided_at.map(ts))
            .bind(c.completed_at.map(ts))
            .bind(expected.as_str())
            .bind(expected_refunded)
            .bind(c.authorized_minor)
            .bind(&c.processor_ref)
            .bind(&c.decline_code)
            .bind(&c.decline_message)
            .bind(&c.cvc_result)
            .bind(c.authorized_at.map(ts))
            .bind(c.expires_at.map(ts))
            .bind(pending_json(c))
            .bind(&c.batch_id)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// A card collection of `customer` (or of anyone, with `None`: engine use).
    pub async fn get_card_collection(
        &mut self,
        customer: Option<&CustomerId>,
        id: &CollectionId,
    ) -> Result<CardCollection, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM card_collections WHERE id = $1 AND ($2 = '' OR customer_id = $2)"
        ));
        let row: Row = on_db!(self, conn => sqlx::query_as(sql)
            .bind(id.as_str())
            .bind(customer.map(|c| c.as_str()).unwrap_or(""))
            .fetch_optional(conn)
            .await)?
        .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    /// One page of card collections matching `f`, newest first:
    /// `customer`'s, or with `None` every customer's (the operator console).
    pub async fn list_card_collections(
        &mut self,
        customer: Option<&CustomerId>,
        f: &CardCollectionFilter,
        q: &ListQuery,
    ) -> Result<Page<CardCollection>, StoreError> {
        let (by_customer, customer) = customer_condition(customer);
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM card_collections WHERE {by_customer} AND ($2 = '' OR id < $2) \
             AND ($3 = '' OR status = $3) AND ($4 = '' OR type = $4) AND ($5 = '' OR brand = $5) \
             AND ($6 = '' OR last4 = $6) AND ($7 = '' OR approval_code = $7) AND ($8 = '' OR payment_method_id = $8) \
             AND ($9 = '' OR external_id = $9) AND ($10 = '' OR reference = $10) \
             AND created_at >= $11 AND created_at <= $12 AND amount >= $14 AND amount <= $15 \
             ORDER BY id DESC LIMIT $13"
        ));
        let opt = |s: Option<&str>| s.unwrap_or("").to_owned();
        let rows: Vec<Row> = on_db!(self, conn => sqlx::query_as(sql)
            .bind(customer)
            .bind(&q.starting_after)
            .bind(opt(f.status.map(|s| s.as_str())))
            .bind(opt(f.tx_type.map(|s| s.as_str())))
            .bind(opt(f.brand.map(|s| s.as_str())))
            .bind(opt(f.last4.as_deref()))
            .bind(opt(f.approval_code.as_deref()))
            .bind(opt(f.payment_method_id.as_ref().map(|s| s.as_str())))
            .bind(opt(f.external_id.as_deref()))
            .bind(opt(f.reference.as_deref()))
            .bind(f.created_from.map(ts).unwrap_or(i64::MIN))
            .bind(f.created_to.map(ts).unwrap_or(i64::MAX))
            .bind(q.fetch())
            .bind(f.amount_from.unwrap_or(i64::MIN))
            .bind(f.amount_to.unwrap_or(i64::MAX))
            .fetch_all(conn)
            .await)?;
        let rows = rows
            .into_iter()
            .map(CardCollection::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_rows(rows, q))
    }

    /// The latest non-declined, non-voided card collection of `customer` on the
    /// same card (fingerprint) with the same amount and type since `since`.
    pub async fn find_duplicate_card_collection(
        &mut self,
        customer: &CustomerId,
        fingerprint: &str,
        amount: i64,
        tx_type: CardTxType,
        since: DateTime<Utc>,
    ) -> Result<Option<CollectionId>, StoreError> {
        let id: Option<String> = on_db!(self, conn => sqlx::query_scalar(
            "SELECT id FROM card_collections WHERE customer_id = $1 AND fingerprint = $2 AND amount = $3 \
             AND type = $4 AND created_at >= $5 AND status NOT IN ('declined', 'voided') ORDER BY id DESC LIMIT 1")
            .bind(customer.as_str())
            .bind(fingerprint)
            .bind(amount)
            .bind(tx_type.as_str())
            .bind(ts(since))
            .fetch_optional(conn)
            .await)?;
        Ok(id.map(CollectionId::from_trusted))
    }

    pub async fn insert_card_refund(&mut self, r: &CardRefund) -> Result<(), StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO card_refunds ({REFUND_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ));
        on_db!(self, conn => sqlx::query(sql)
            .bind(r.id.as_str())
            .bind(r.collection_id.as_str())
            .bind(r.customer_id.as_str())
            .bind(r.amount.minor())
            .bind(r.amount.currency().code())
            .bind(&r.reason)
            .bind(&r.processor_ref)
            .bind(r.status.as_str())
            .bind(&r.failure_reason)
            .bind(ts(r.created_at))
            .bind(metadata_json(&r.metadata))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Record the processor's answer to a pending refund.
    pub async fn finish_card_refund(&mut self, r: &CardRefund) -> Result<(), StoreError> {
        on_db!(self, conn => sqlx::query(
            "UPDATE card_refunds SET status = $2, processor_ref = $3, failure_reason = $4 WHERE id = $1")
            .bind(r.id.as_str())
            .bind(r.status.as_str())
            .bind(&r.processor_ref)
            .bind(&r.failure_reason)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn get_card_refund(&mut self, id: &RefundId) -> Result<CardRefund, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {REFUND_COLUMNS} FROM card_refunds WHERE id = $1"
        ));
        let row: RefundRow = on_db!(self, conn => sqlx::query_as(sql)
            .bind(id.as_str())
            .fetch_optional(conn)
            .await)?
        .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    /// The refunds of one card collection, oldest first.
    pub async fn list_card_refunds(
        &mut self,
        collection: &CollectionId,
    ) -> Result<Vec<CardRefund>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {REFUND_COLUMNS} FROM card_refunds WHERE collection_id = $1 ORDER BY id"
        ));
        let rows: Vec<RefundRow> = on_db!(self, conn => sqlx::query_as(sql)
            .bind(collection.as_str())
            .fetch_all(conn)
            .await)?;
        rows.into_iter().map(CardRefund::try_from).collect()
    }

    /// One page of `customer`'s refunds of `collection`, newest first.
    pub async fn list_card_refunds_page(
        &mut self,
        customer: &CustomerId,
        collection: &CollectionId,
        q: &ListQuery,
    ) -> Result<Page<CardRefund>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {REFUND_COLUMNS} FROM card_refunds WHERE customer_id = $1 AND collection_id = $2 \
             AND ($3 = '' OR id < $3) ORDER BY id DESC LIMIT $4"
        ));
        let rows: Vec<RefundRow> = on_db!(self, conn => sqlx::query_as(sql)
            .bind(customer.as_str())
            .bind(collection.as_str())
            .bind(&q.starting_after)
            .bind(q.fetch())
            .fetch_all(conn)
            .await)?;
        let rows = rows
            .into_iter()
            .map(CardRefund::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_rows(rows, q))
    }

    /// The card collections a batch close settled in `[from, to)`, by id.
    pub async fn card_collections_settled_between(
        &mut self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<CardCollection>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM card_collections WHERE batch_id IS NOT NULL \
             AND completed_at >= $1 AND completed_at < $2 ORDER BY id"
        ));
        let rows: Vec<Row> = on_db!(self, conn => sqlx::query_as(sql)
            .bind(ts(from))
            .bind(ts(to))
            .fetch_all(conn)
            .await)?;
        rows.into_iter().map(CardCollection::try_from).collect()
    }

    /// What `customer` has charged the card `fingerprint` since `since`:
    /// every sale, authorization and force not declined or voided (pending
    /// ones count), at its authorized amount once known.
    pub async fn card_total_since(
        &mut self,
        customer: &CustomerId,
        fingerprint: &str,
        since: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let total: Option<i64> = on_db!(self, conn => sqlx::query_scalar(
            "SELECT CAST(SUM(CASE WHEN status = 'pending' THEN amount ELSE authorized_amount END) AS BIGINT) \
             FROM card_collections WHERE customer_id = $1 AND fingerprint = $2 AND created_at >= $3 \
             AND status NOT IN ('declined', 'voided')")
            .bind(customer.as_str())
            .bind(fingerprint)
            .bind(ts(since))
            .fetch_one(conn)
            .await)?;
        Ok(total.unwrap_or(0))
    }

    /// Serialise card charges on one card for the rest of this transaction
    /// (PostgreSQL advisory lock; SQLite has one writer anyway), so two
    /// concurrent charges cannot both fit under the daily limit.
    pub async fn lock_card(
        &mut self,
        customer: &CustomerId,
        fingerprint: &str,
    ) -> Result<(), StoreError> {
        if let Tx::Postgres(t, ..) = self {
            let key = format!("{customer}\u{1f}{fingerprint}");
            // Expand/contract for a lock key: the release before this one
            // locked card charges in the job-lease key space. Until every
            // node runs this release (a rolling upgrade), take that key too,
            // always first, so old and new nodes still exclude each other.
            // Contract (drop this line) in the next release.
            pg_xact_lock(t, LockPurpose::JobLease, &key, true).await?;
            pg_xact_lock(t, LockPurpose::CardCharges, &key, true).await?;
        }
        Ok(())
    }

    /// Processor references of captured collections not yet settled,
    /// oldest first: what a batch close asks the processor about.
    pub async fn unsettled_card_processor_refs(
        &mut self,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        let refs: Vec<String> = on_db!(self, conn => sqlx::query_scalar(
            "SELECT processor_ref FROM card_collections WHERE processor_ref IS NOT NULL \
             AND status IN ('captured', 'partially_refunded', 'refunded', 'disputed', 'dispute_won', 'dispute_lost') AND completed_at IS NULL \
             ORDER BY id LIMIT $1")
            .bind(limit)
            .fetch_all(conn)
            .await)?;
        Ok(refs)
    }

    /// Card collections with this processor reference that a batch close
    /// may settle (captured, or partly refunded, and not yet settled).
    pub async fn settleable_card_collections(
        &mut self,
        processor_refs: &[String],
    ) -> Result<Vec<CardCollection>, StoreError> {
        let mut out = Vec::new();
        for chunk in processor_refs.chunks(500) {
            let list =
                serde_json::to_string(chunk).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let source = match self {
                Tx::Sqlite(..) => "SELECT value FROM json_each($1)",
                Tx::Postgres(..) => "SELECT json_array_elements_text($1::json)",
            };
            let sql = sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM card_collections WHERE processor_ref IN ({source}) \
                 AND status IN ('captured', 'partially_refunded', 'refunded', 'disputed', 'dispute_won', 'dispute_lost') AND completed_at IS NULL ORDER BY id"
            ));
            let rows: Vec<Row> = on_db!(self, conn => sqlx::query_as(sql)
                .bind(&list)
                .fetch_all(conn)
                .await)?;
            for r in rows {
                out.push(CardCollection::try_from(r)?);
            }
        }
        Ok(out)
    }

    /// Authorizations that expired by `now` with no processor call in flight.
    pub async fn expired_card_authorizations(
        &mut self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<CardCollection>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM card_collections WHERE status = 'authorized' AND expires_at <= $1 \
             AND pending_operation IS NULL ORDER BY expires_at LIMIT $2"
        ));
        let rows: Vec<Row> = on_db!(self, conn => sqlx::query_as(sql)
            .bind(ts(now))
            .bind(limit)
            .fetch_all(conn)
            .await)?;
        rows.into_iter().map(CardCollection::try_from).collect()
    }
}
