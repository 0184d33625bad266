//! API keys, looked up by the SHA-256 of the presented key.

use inflow_core::ids::{ApiKeyId, CustomerId};
use inflow_core::model::{ApiKey, ApiKeyRole};

use crate::codec::{dt, opt_dt, ts};
use crate::{on_db, ListQuery, Page, StoreError, Tx};

#[derive(sqlx::FromRow)]
struct ApiKeyRow {
    id: String,
    customer_id: Option<String>,
    role: String,
    name: String,
    prefix: String,
    key_hash: Vec<u8>,
    signing_secret_sealed: Vec<u8>,
    created_at: i64,
    revoked_at: Option<i64>,
    require_signed_requests: bool,
}

impl TryFrom<ApiKeyRow> for ApiKey {
    type Error = StoreError;
    fn try_from(r: ApiKeyRow) -> Result<Self, StoreError> {
        Ok(ApiKey {
            id: ApiKeyId::from_trusted(r.id),
            customer_id: r.customer_id.map(CustomerId::from_trusted),
            role: ApiKeyRole::parse("role", &r.role)?,
            name: r.name,
            prefix: r.prefix,
            key_hash: r.key_hash,
            signing_secret_sealed: r.signing_secret_sealed,
            created_at: dt(r.created_at)?,
            revoked_at: opt_dt(r.revoked_at)?,
            require_signed_requests: r.require_signed_requests,
        })
    }
}

const COLUMNS: &str = "id, customer_id, role, name, prefix, key_hash, signing_secret_sealed, \
                       created_at, revoked_at, require_signed_requests";

impl Tx {
    pub async fn insert_api_key(&mut self, k: &ApiKey) -> Result<(), StoreError> {
        on_db!(self, conn => sqlx::query(
            "INSERT INTO api_keys (id, customer_id, role, name, prefix, key_hash, signing_secret_sealed, created_at, revoked_at, \
             require_signed_requests) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
            .bind(k.id.as_str())
            .bind(k.customer_id.as_ref().map(|c| c.as_str()))
            .bind(k.role.as_str())
            .bind(&k.name)
            .bind(&k.prefix)
            .bind(&k.key_hash)
            .bind(&k.signing_secret_sealed)
            .bind(ts(k.created_at))
            .bind(k.revoked_at.map(ts))
            .bind(k.require_signed_requests)
            .execute(conn).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The key whose hash matches, revoked or not (the caller decides).
    pub async fn find_api_key_by_hash(
        &mut self,
        hash: &[u8],
    ) -> Result<Option<ApiKey>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM api_keys WHERE key_hash = $1"
        ));
        let row: Option<ApiKeyRow> =
            on_db!(self, conn => sqlx::query_as(sql).bind(hash).fetch_optional(conn).await)?;
        row.map(ApiKey::try_from).transpose()
    }

    /// A key by id; `customer` limits the search to that customer's keys
    /// (`None` = operator view of every key).
    pub async fn get_api_key(
        &mut self,
        id: &ApiKeyId,
        customer: Option<&CustomerId>,
    ) -> Result<ApiKey, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM api_keys WHERE id = $1 AND ($2 = '' OR customer_id = $2)"
        ));
        let row: ApiKeyRow = on_db!(self, conn => sqlx::query_as(sql)
            .bind(id.as_str())
            .bind(customer.map(|c| c.as_str()).unwrap_or(""))
            .fetch_optional(conn)
            .await)?
        .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    /// Keys of one customer, or (with `None`) the operator's admin keys.
    pub async fn list_api_keys(
        &mut self,
        customer: Option<&CustomerId>,
        q: &ListQuery,
    ) -> Result<Page<ApiKey>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM api_keys WHERE \
             (($1 = '' AND customer_id IS NULL) OR customer_id = $1) \
             AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3"
        ));
        let rows: Vec<ApiKeyRow> = on_db!(self, conn => sqlx::query_as(sql)
            .bind(customer.map(|c| c.as_str()).unwrap_or(""))
            .bind(&q.starting_after)
            .bind(q.fetch())
            .fetch_all(conn)
            .await)?;
        let rows = rows
            .into_iter()
            .map(ApiKey::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_rows(rows, q))
    }

    pub async fn revoke_api_key(
        &mut self,
        id: &ApiKeyId,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        on_db!(self, conn => sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id.as_str())
            .bind(ts(at))
            .execute(conn).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn count_active_admin_keys(&mut self) -> Result<i64, StoreError> {
        let n: i64 = on_db!(self, conn => sqlx::query_scalar(
            "SELECT COUNT(*) FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL")
            .fetch_one(conn)
            .await)?;
        Ok(n)
    }
}
