//! Destination accounts: where collected funds are credited.

use inflow_core::ids::{AccountId, CustomerId};
use inflow_core::model::{Account, AccountStatus};
use inflow_core::money::Currency;

use crate::codec::{dt, metadata_from, metadata_json, ts};
use crate::{on_db, ListQuery, Page, StoreError, Tx};

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: String,
    customer_id: String,
    name: String,
    currency: String,
    status: String,
    external_id: Option<String>,
    metadata: String,
    odfi_id: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<AccountRow> for Account {
    type Error = StoreError;
    fn try_from(r: AccountRow) -> Result<Self, StoreError> {
        Ok(Account {
            id: AccountId::from_trusted(r.id),
            customer_id: CustomerId::from_trusted(r.customer_id),
            name: r.name,
            currency: Currency::parse("currency", &r.currency)?,
            status: AccountStatus::parse("status", &r.status)?,
            external_id: r.external_id,
            metadata: metadata_from(&r.metadata)?,
            odfi_id: r.odfi_id,
            created_at: dt(r.created_at)?,
            updated_at: dt(r.updated_at)?,
        })
    }
}

const COLUMNS: &str =
    "id, customer_id, name, currency, status, external_id, metadata, created_at, updated_at, odfi_id";

impl Tx {
    pub async fn insert_account(&mut self, a: &Account) -> Result<(), StoreError> {
        on_db!(self, conn => sqlx::query(
            "INSERT INTO accounts (id, customer_id, name, currency, status, external_id, metadata, created_at, updated_at, odfi_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
            .bind(a.id.as_str())
            .bind(a.customer_id.as_str())
            .bind(&a.name)
            .bind(a.currency.code())
            .bind(a.status.as_str())
            .bind(&a.external_id)
            .bind(metadata_json(&a.metadata))
            .bind(ts(a.created_at))
            .bind(ts(a.updated_at))
            .bind(&a.odfi_id)
            .execute(conn).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn update_account(&mut self, a: &Account) -> Result<(), StoreError> {
        let done = on_db!(self, conn => sqlx::query(
            "UPDATE accounts SET name = $3, status = $4, external_id = $5, metadata = $6, updated_at = $7, odfi_id = $8 \
             WHERE id = $1 AND customer_id = $2")
            .bind(a.id.as_str())
            .bind(a.customer_id.as_str())
            .bind(&a.name)
            .bind(a.status.as_str())
            .bind(&a.external_id)
            .bind(metadata_json(&a.metadata))
            .bind(ts(a.updated_at))
            .bind(&a.odfi_id)
            .execute(conn).await.map(|r| r.rows_affected()))?;
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn get_account(
        &mut self,
        customer: &CustomerId,
        id: &AccountId,
    ) -> Result<Account, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM accounts WHERE id = $1 AND customer_id = $2"
        ));
        let row: AccountRow = on_db!(self, conn => sqlx::query_as(sql)
            .bind(id.as_str())
            .bind(customer.as_str())
            .fetch_optional(conn)
            .await)?
        .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    /// An account of `customer` by the customer's own id for it.
    pub async fn get_account_by_external_id(
        &mut self,
        customer: &CustomerId,
        external_id: &str,
    ) -> Result<Account, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM accounts WHERE customer_id = $1 AND external_id = $2"
        ));
        let row: AccountRow = on_db!(self, conn => sqlx::query_as(sql)
            .bind(customer.as_str())
            .bind(external_id)
            .fetch_optional(conn)
            .await)?
        .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    pub async fn list_accounts(
        &mut self,
        customer: &CustomerId,
        q: &ListQuery,
    ) -> Result<Page<Account>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM accounts WHERE customer_id = $1 AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3"
        ));
        let rows: Vec<AccountRow> = on_db!(self, conn => sqlx::query_as(sql)
            .bind(customer.as_str())
            .bind(&q.starting_after)
            .bind(q.fetch())
            .fetch_all(conn)
            .await)?;
        let rows = rows
            .into_iter()
            .map(Account::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_rows(rows, q))
    }

    /// Destination accounts assigned to an ODFI of their own (`odfi_id`
    /// set): (account id, ODFI id).
    pub async fn account_odfi_assignments(&mut self) -> Result<Vec<(String, String)>, StoreError> {
        let rows: Vec<(String, String)> = on_db!(self, conn => sqlx::query_as(
            "SELECT id, odfi_id FROM accounts WHERE odfi_id IS NOT NULL")
            .fetch_all(conn)
            .await)?;
        Ok(rows)
    }
}
