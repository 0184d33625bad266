//! Saved cards. The number is stored only sealed (AES-256-GCM, the payment
//! method id as context); there is no column for a security code.

use inflow_core::card::{BillingAddress, CardBrand, CardPaymentMethod};
use inflow_core::ids::{CounterpartyId, CustomerId, PaymentMethodId};
use inflow_core::model::PaymentMethodStatus;

use crate::codec::{dt, metadata_from, metadata_json, ts};
use crate::{on_db, ListQuery, Page, StoreError, Tx};

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    customer_id: String,
    counterparty_id: Option<String>,
    status: String,
    external_id: Option<String>,
    brand: String,
    last4: String,
    exp_month: i64,
    exp_year: i64,
    fingerprint: String,
    number_sealed: Vec<u8>,
    holder_name: String,
    billing_address: String,
    cvc_check: String,
    metadata: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<Row> for CardPaymentMethod {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self, StoreError> {
        let row_id = r.id.clone();
        let corrupt =
            |what: &str| StoreError::Corrupt(format!("card_payment_methods {row_id}: {what}"));
        Ok(CardPaymentMethod {
            id: PaymentMethodId::from_trusted(r.id),
            customer_id: CustomerId::from_trusted(r.customer_id),
            counterparty_id: r.counterparty_id.map(CounterpartyId::from_trusted),
            status: PaymentMethodStatus::parse("status", &r.status)?,
            external_id: r.external_id,
            brand: CardBrand::parse("brand", &r.brand)?,
            last4: r.last4,
            exp_month: u32::try_from(r.exp_month).map_err(|_| corrupt("exp_month"))?,
            exp_year: i32::try_from(r.exp_year).map_err(|_| corrupt("exp_year"))?,
            fingerprint: r.fingerprint,
            number_sealed: r.number_sealed,
            holder_name: r.holder_name,
            billing_address: serde_json::from_str::<BillingAddress>(&r.billing_address)
                .map_err(|e| corrupt(&format!("billing_address: {e}")))?,
            cvc_check: r.cvc_check,
            metadata: metadata_from(&r.metadata)?,
            created_at: dt(r.created_at)?,
            updated_at: dt(r.updated_at)?,
        })
    }
}

const COLUMNS: &str = "id, customer_id, counterparty_id, status, external_id, brand, last4, exp_month, exp_year, \
    fingerprint, number_sealed, holder_name, billing_address, cvc_check, metadata, created_at, updated_at";

impl Tx {
    pub async fn insert_card_payment_method(
        &mut self,
        p: &CardPaymentMethod,
    ) -> Result<(), StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO card_payment_methods ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
        ));
        let billing = serde_json::to_string(&p.billing_address).unwrap_or_else(|_| "{}".into());
        on_db!(self, conn => sqlx::query(sql)
            .bind(p.id.as_str())
            .bind(p.customer_id.as_str())
            .bind(p.counterparty_id.as_ref().map(|c| c.as_str()))
            .bind(p.status.as_str())
            .bind(&p.external_id)
            .bind(p.brand.as_str())
            .bind(&p.last4)
            .bind(i64::from(p.exp_month))
            .bind(i64::from(p.exp_year))
            .bind(&p.fingerprint)
            .bind(&p.number_sealed)
            .bind(&p.holder_name)
            .bind(&billing)
            .bind(&p.cvc_check)
            .bind(metadata_json(&p.metadata))
            .bind(ts(p.created_at))
            .bind(ts(p.updated_at))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Save what `PATCH` may change on a card: status, external id,
    /// holder name, billing address, metadata.
    pub async fn update_card_payment_method(
        &mut self,
        p: &CardPaymentMethod,
    ) -> Result<(), StoreError> {
        let billing = serde_json::to_string(&p.billing_address).unwrap_or_else(|_| "{}".into());
        let done = on_db!(self, conn => sqlx::query(
            "UPDATE card_payment_methods SET status = $3, external_id = $4, holder_name = $5, \
             billing_address = $6, metadata = $7, updated_at = $8 WHERE id = $1 AND customer_id = $2")
            .bind(p.id.as_str())
            .bind(p.customer_id.as_str())
            .bind(p.status.as_str())
            .bind(&p.external_id)
            .bind(&p.holder_name)
            .bind(&billing)
            .bind(metadata_json(&p.metadata))
            .bind(ts(p.updated_at))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// A saved card of `customer`.
    pub async fn get_card_payment_method(
        &mut self,
        customer: &CustomerId,
        id: &PaymentMethodId,
    ) -> Result<CardPaymentMethod, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM card_payment_methods WHERE id = $1 AND customer_id = $2"
        ));
        let row: Row = on_db!(self, conn => sqlx::query_as(sql)
            .bind(id.as_str())
            .bind(customer.as_str())
            .fetch_optional(conn)
            .await)?
        .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    /// A saved card of `customer` by the customer's own id for it.
    pub async fn get_card_payment_method_by_external_id(
        &mut self,
        customer: &CustomerId,
        external_id: &str,
    ) -> Result<CardPaymentMethod, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM card_payment_methods WHERE customer_id = $1 AND external_id = $2"
        ));
        let row: Row = on_db!(self, conn => sqlx::query_as(sql)
            .bind(customer.as_str())
            .bind(external_id)
            .fetch_optional(conn)
            .await)?
        .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    /// Saved cards of `customer`, newest first (optionally one card's copies by fingerprint).
    pub async fn list_card_payment_methods(
        &mut self,
        customer: &CustomerId,
        fingerprint: Option<&str>,
        q: &ListQuery,
    ) -> Result<Page<CardPaymentMethod>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM card_payment_methods WHERE customer_id = $1 AND ($2 = '' OR id < $2) \
             AND ($3 = '' OR fingerprint = $3) ORDER BY id DESC LIMIT $4"
        ));
        let rows: Vec<Row> = on_db!(self, conn => sqlx::query_as(sql)
            .bind(customer.as_str())
            .bind(&q.starting_after)
            .bind(fingerprint.unwrap_or(""))
            .bind(q.fetch())
            .fetch_all(conn)
            .await)?;
        let rows = rows
            .into_iter()
            .map(CardPaymentMethod::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_rows(rows, q))
    }
}
