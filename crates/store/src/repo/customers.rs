//! Customers: the businesses and agencies the operator serves.

use inflow_core::ids::CustomerId;
use inflow_core::model::{AchLimits, AchPolicy, Customer, CustomerKind, CustomerStatus};

use crate::codec::{dt, metadata_from, metadata_json, ts};
use crate::{on_db, ListQuery, Page, StoreError, Tx};

#[derive(sqlx::FromRow)]
struct CustomerRow {
    id: String,
    name: String,
    kind: String,
    email: Option<String>,
    status: String,
    allow_one_time_source: bool,
    require_signed_requests: bool,
    ach_company_name: Option<String>,
    ach_company_id: Option<String>,
    allowed_company_names: String,
    require_prenote: bool,
    web_requires_validated_account: bool,
    default_authorization: Option<String>,
    card_daily_limit: i64,
    ach_per_entry_max: Option<i64>,
    ach_daily_debit_max: Option<i64>,
    ach_monthly_debit_max: Option<i64>,
    can_manage_api_keys: bool,
    odfi_id: Option<String>,
    metadata: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<CustomerRow> for Customer {
    type Error = StoreError;
    fn try_from(r: CustomerRow) -> Result<Self, StoreError> {
        Ok(Customer {
            id: CustomerId::from_trusted(r.id),
            name: r.name,
            kind: CustomerKind::parse("kind", &r.kind)?,
            email: r.email,
            status: CustomerStatus::parse("status", &r.status)?,
            allow_one_time_source: r.allow_one_time_source,
            require_signed_requests: r.require_signed_requests,
            ach_company_name: r.ach_company_name,
            ach_company_id: r.ach_company_id,
            allowed_company_names: serde_json::from_str(&r.allowed_company_names)
                .map_err(|e| StoreError::Corrupt(format!("allowed_company_names: {e}")))?,
            ach_policy: AchPolicy {
                require_prenote: r.require_prenote,
                web_requires_validated_account: r.web_requires_validated_account,
                default_authorization: r
                    .default_authorization
                    .as_deref()
                    .map(serde_json::from_str)
                    .transpose()
                    .map_err(|e| StoreError::Corrupt(format!("default_authorization: {e}")))?,
            },
            card_daily_limit: r.card_daily_limit,
            ach_limits: AchLimits {
                per_entry_max: r.ach_per_entry_max,
                daily_debit_max: r.ach_daily_debit_max,
                monthly_debit_max: r.ach_monthly_debit_max,
            },
            can_manage_api_keys: r.can_manage_api_keys,
            odfi_id: r.odfi_id,
            metadata: metadata_from(&r.metadata)?,
            created_at: dt(r.created_at)?,
            updated_at: dt(r.updated_at)?,
        })
    }
}

const COLUMNS: &str =
    "id, name, kind, email, status, allow_one_time_source, require_signed_requests, \
                       ach_company_name, ach_company_id, require_prenote, web_requires_validated_account, \
                       default_authorization, card_daily_limit, ach_per_entry_max, ach_daily_debit_max, \
                       ach_monthly_debit_max, metadata, created_at, updated_at, allowed_company_names, \
                       can_manage_api_keys, odfi_id";

fn allowed_company_names_json(c: &Customer) -> String {
    serde_json::to_string(&c.allowed_company_names).unwrap_or_else(|_| "[]".into())
}

fn default_authorization_json(c: &Customer) -> Result<Option<String>, StoreError> {
    c.ach_policy
        .default_authorization
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| StoreError::Corrupt(format!("default_authorization: {e}")))
}

impl Tx {
    pub async fn insert_customer(&mut self, c: &Customer) -> Result<(), StoreError> {
        let auth = default_authorization_json(c)?;
        on_db!(self, conn => sqlx::query(
            "INSERT INTO customers (id, name, kind, email, status, allow_one_time_source, require_signed_requests, \
             ach_company_name, ach_company_id, metadata, created_at, updated_at, require_prenote, \
             web_requires_validated_account, default_authorization, card_daily_limit, allowed_company_names, \
             ach_per_entry_max, ach_daily_debit_max, ach_monthly_debit_max, can_manage_api_keys, odfi_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)")
            .bind(c.id.as_str())
            .bind(&c.name)
            .bind(c.kind.as_str())
            .bind(&c.email)
            .bind(c.status.as_str())
            .bind(c.allow_one_time_source)
            .bind(c.require_signed_requests)
            .bind(&c.ach_company_name)
            .bind(&c.ach_company_id)
            .bind(metadata_json(&c.metadata))
            .bind(ts(c.created_at))
            .bind(ts(c.updated_at))
            .bind(c.ach_policy.require_prenote)
            .bind(c.ach_policy.web_requires_validated_account)
            .bind(&auth)
            .bind(c.card_daily_limit)
            .bind(allowed_company_names_json(c))
            .bind(c.ach_limits.per_entry_max)
            .bind(c.ach_limits.daily_debit_max)
            .bind(c.ach_limits.monthly_debit_max)
            .bind(c.can_manage_api_keys)
            .bind(&c.odfi_id)
            .execute(conn).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn update_customer(&mut self, c: &Customer) -> Result<(), StoreError> {
        let auth = default_authorization_json(c)?;
        let done = on_db!(self, conn => sqlx::query(
            "UPDATE customers SET name = $2, email = $3, status = $4, allow_one_time_source = $5, \
             require_signed_requests = $6, ach_company_name = $7, ach_company_id = $8, metadata = $9, \
             updated_at = $10, require_prenote = $11, web_requires_validated_account = $12, \
             default_authorization = $13, card_daily_limit = $14, allowed_company_names = $15, \
             ach_per_entry_max = $16, ach_daily_debit_max = $17, ach_monthly_debit_max = $18, \
             can_manage_api_keys = $19, odfi_id = $20 WHERE id = $1")
            .bind(c.id.as_str())
            .bind(&c.name)
            .bind(&c.email)
            .bind(c.status.as_str())
            .bind(c.allow_one_time_source)
            .bind(c.require_signed_requests)
            .bind(&c.ach_company_name)
            .bind(&c.ach_company_id)
            .bind(metadata_json(&c.metadata))
            .bind(ts(c.updated_at))
            .bind(c.ach_policy.require_prenote)
            .bind(c.ach_policy.web_requires_validated_account)
            .bind(&auth)
            .bind(c.card_daily_limit)
            .bind(allowed_company_names_json(c))
            .bind(c.ach_limits.per_entry_max)
            .bind(c.ach_limits.daily_debit_max)
            .bind(c.ach_limits.monthly_debit_max)
            .bind(c.can_manage_api_keys)
            .bind(&c.odfi_id)
            .execute(conn).await.map(|r| r.rows_affected()))?;
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn get_customer(&mut self, id: &CustomerId) -> Result<Customer, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM customers WHERE id = $1"));
        let row: CustomerRow =
            on_db!(self, conn => sqlx::query_as(sql).bind(id.as_str()).fetch_optional(conn).await)?
                .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    pub async fn list_customers(&mut self, q: &ListQuery) -> Result<Page<Customer>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM customers WHERE ($1 = '' OR id < $1) ORDER BY id DESC LIMIT $2"
        ));
        let rows: Vec<CustomerRow> = on_db!(self, conn => sqlx::query_as(sql)
            .bind(&q.starting_after)
            .bind(q.fetch())
            .fetch_all(conn)
            .await)?;
        let rows = rows
            .into_iter()
            .map(Customer::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_rows(rows, q))
    }

    /// The customers assigned to an ODFI other than the default: (customer
    /// id, ODFI id). The cutoff reads them once to split its files.
    pub async fn customer_odfi_assignments(&mut self) -> Result<Vec<(String, String)>, StoreError> {
        let rows: Vec<(String, String)> = on_db!(self, conn => sqlx::query_as(
            "SELECT id, odfi_id FROM customers WHERE odfi_id IS NOT NULL")
            .fetch_all(conn)
            .await)?;
        Ok(rows)
    }
}
