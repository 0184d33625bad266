//! Saved bank-account payment methods. The account number is stored only
//! sealed (AES-256-GCM); the fingerprint finds the same account again.

use inflow_core::bank::{AccountType, HolderType, RoutingNumber};
use inflow_core::ids::{CollectionId, CounterpartyId, CustomerId, PaymentMethodId};
use inflow_core::model::{
    AccountValidation, BankPaymentMethod, PaymentMethodStatus, ValidationMethod, ValidationStatus,
};

use crate::codec::{dt, metadata_from, metadata_json, ts};
use crate::{on_db, ListQuery, Page, StoreError, Tx};

#[derive(sqlx::FromRow)]
struct PaymentMethodRow {
    id: String,
    customer_id: String,
    counterparty_id: Option<String>,
    status: String,
    status_reason: Option<String>,
    external_id: Option<String>,
    routing_number: String,
    account_number_sealed: Vec<u8>,
    account_last4: String,
    fingerprint: String,
    account_type: String,
    holder_name: String,
    holder_type: String,
    validation_status: String,
    validation_method: Option<String>,
    validation_prenote_id: Option<String>,
    validated_at: Option<i64>,
    metadata: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<PaymentMethodRow> for BankPaymentMethod {
    type Error = StoreError;
    fn try_from(r: PaymentMethodRow) -> Result<Self, StoreError> {
        Ok(BankPaymentMethod {
            id: PaymentMethodId::from_trusted(r.id),
            customer_id: CustomerId::from_trusted(r.customer_id),
            counterparty_id: r.counterparty_id.map(CounterpartyId::from_trusted),
            status: PaymentMethodStatus::parse("status", &r.status)?,
            status_reason: r.status_reason,
            external_id: r.external_id,
            routing_number: RoutingNumber::parse("routingNumber", &r.routing_number)?,
            account_number_sealed: r.account_number_sealed,
            account_last4: r.account_last4,
            fingerprint: r.fingerprint,
            account_type: AccountType::parse("accountType", &r.account_type)?,
            holder_name: r.holder_name,
            holder_type: HolderType::parse("holderType", &r.holder_type)?,
            validation: AccountValidation {
                status: ValidationStatus::parse("validation_status", &r.validation_status)?,
                method: r
                    .validation_method
                    .as_deref()
                    .map(|m| ValidationMethod::parse("validation_method", m))
                    .transpose()?,
                prenote_id: r.validation_prenote_id.map(CollectionId::from_trusted),
                validated_at: r.validated_at.map(dt).transpose()?,
            },
            metadata: metadata_from(&r.metadata)?,
            created_at: dt(r.created_at)?,
            updated_at: dt(r.updated_at)?,
        })
    }
}

const COLUMNS: &str = "id, customer_id, counterparty_id, status, status_reason, external_id, routing_number, \
                       account_number_sealed, account_last4, fingerprint, account_type, holder_name, holder_type, \
                       validation_status, validation_method, validation_prenote_id, validated_at, \
                       metadata, created_at, updated_at";

/// Filters for listing payment methods.
#[derive(Debug, Default, Clone)]
pub struct PaymentMethodFilter {
    pub external_id: Option<String>,
    pub counterparty_id: Option<CounterpartyId>,
    pub fingerprint: Option<String>,
}

impl Tx {
    pub async fn insert_bank_payment_method(
        &mut self,
        p: &BankPaymentMethod,
    ) -> Result<(), StoreError> {
        on_db!(self, conn => sqlx::query(
            "INSERT INTO payment_methods (id, customer_id, counterparty_id, type, status, status_reason, external_id, \
             routing_number, account_number_sealed, account_last4, fingerprint, account_type, holder_name, holder_type, \
             metadata, created_at, updated_at, validation_status, validation_method, validation_prenote_id, validated_at) \
             VALUES ($1, $2, $3, 'us_bank_account', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
             $19, $20)")
            .bind(p.id.as_str())
            .bind(p.customer_id.as_str())
            .bind(p.counterparty_id.as_ref().map(|c| c.as_str()))
            .bind(p.status.as_str())
            .bind(&p.status_reason)
            .bind(&p.external_id)
            .bind(p.routing_number.as_string())
            .bind(&p.account_number_sealed)
            .bind(&p.account_last4)
            .bind(&p.fingerprint)
            .bind(p.account_type.as_str())
            .bind(&p.holder_name)
            .bind(p.holder_type.as_str())
            .bind(metadata_json(&p.metadata))
            .bind(ts(p.created_at))
            .bind(ts(p.updated_at))
            .bind(p.validation.status.as_str())
            .bind(p.validation.method.map(|m| m.as_str()))
            .bind(p.validation.prenote_id.as_ref().map(|c| c.as_str()))
            .bind(p.validation.validated_at.map(ts))
            .execute(conn).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Write back every mutable field (status, account details after a NOC, names, metadata).
    pub async fn update_bank_payment_method(
        &mut self,
        p: &BankPaymentMethod,
    ) -> Result<(), StoreError> {
        let done = on_db!(self, conn => sqlx::query(
            "UPDATE payment_methods SET counterparty_id = $3, status = $4, status_reason = $5, external_id = $6, \
             routing_number = $7, account_number_sealed = $8, account_last4 = $9, fingerprint = $10, account_type = $11, \
             holder_name = $12, holder_type = $13, metadata = $14, updated_at = $15, validation_status = $16, \
             validation_method = $17, validation_prenote_id = $18, validated_at = $19 \
             WHERE id = $1 AND customer_id = $2")
            .bind(p.id.as_str())
            .bind(p.customer_id.as_str())
            .bind(p.counterparty_id.as_ref().map(|c| c.as_str()))
            .bind(p.status.as_str())
            .bind(&p.status_reason)
            .bind(&p.external_id)
            .bind(p.routing_number.as_string())
            .bind(&p.account_number_sealed)
            .bind(&p.account_last4)
            .bind(&p.fingerprint)
            .bind(p.account_type.as_str())
            .bind(&p.holder_name)
            .bind(p.holder_type.as_str())
            .bind(metadata_json(&p.metadata))
            .bind(ts(p.updated_at))
            .bind(p.validation.status.as_str())
            .bind(p.validation.method.map(|m| m.as_str()))
            .bind(p.validation.prenote_id.as_ref().map(|c| c.as_str()))
            .bind(p.validation.validated_at.map(ts))
            .execute(conn).await.map(|r| r.rows_affected()))?;
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn get_bank_payment_method(
        &mut self,
        customer: &CustomerId,
        id: &PaymentMethodId,
    ) -> Result<BankPaymentMethod, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM payment_methods WHERE id = $1 AND customer_id = $2 AND type = 'us_bank_account'"
        ));
        let row: PaymentMethodRow = on_db!(self, conn => sqlx::query_as(sql)
            .bind(id.as_str())
            .bind(customer.as_str())
            .fetch_optional(conn)
            .await)?
        .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    pub async fn list_bank_payment_methods(
        &mut self,
        customer: &CustomerId,
        filter: &PaymentMethodFilter,
        q: &ListQuery,
    ) -> Result<Page<BankPaymentMethod>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM payment_methods WHERE customer_id = $1 AND type = 'us_bank_account' \
             AND ($2 = '' OR id < $2) AND ($3 = '' OR external_id = $3) AND ($4 = '' OR counterparty_id = $4) \
             AND ($5 = '' OR fingerprint = $5) ORDER BY id DESC LIMIT $6"
        ));
        let rows: Vec<PaymentMethodRow> = on_db!(self, conn => sqlx::query_as(sql)
            .bind(customer.as_str())
            .bind(&q.starting_after)
            .bind(filter.external_id.as_deref().unwrap_or(""))
            .bind(filter.counterparty_id.as_ref().map(|c| c.as_str()).unwrap_or(""))
            .bind(filter.fingerprint.as_deref().unwrap_or(""))
            .bind(q.fetch())
            .fetch_all(conn)
            .await)?;
        let rows = rows
            .into_iter()
            .map(BankPaymentMethod::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_rows(rows, q))
    }
}
