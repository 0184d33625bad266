//! Counterparties: the payers a customer collects from.

use inflow_core::ids::{CounterpartyId, CustomerId};
use inflow_core::model::{Counterparty, CounterpartyKind};

use crate::codec::{dt, metadata_from, metadata_json, ts};
use crate::{on_db, ListQuery, Page, StoreError, Tx};

#[derive(sqlx::FromRow)]
struct CounterpartyRow {
    id: String,
    customer_id: String,
    name: String,
    kind: String,
    email: Option<String>,
    external_id: Option<String>,
    metadata: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<CounterpartyRow> for Counterparty {
    type Error = StoreError;
    fn try_from(r: CounterpartyRow) -> Result<Self, StoreError> {
        Ok(Counterparty {
            id: CounterpartyId::from_trusted(r.id),
            customer_id: CustomerId::from_trusted(r.customer_id),
            name: r.name,
            kind: CounterpartyKind::parse("kind", &r.kind)?,
            email: r.email,
            external_id: r.external_id,
            metadata: metadata_from(&r.metadata)?,
            created_at: dt(r.created_at)?,
            updated_at: dt(r.updated_at)?,
        })
    }
}

const COLUMNS: &str =
    "id, customer_id, name, kind, email, external_id, metadata, created_at, updated_at";

impl Tx {
    pub async fn insert_counterparty(&mut self, c: &Counterparty) -> Result<(), StoreError> {
        on_db!(self, conn => sqlx::query(
            "INSERT INTO counterparties (id, customer_id, name, kind, email, external_id, metadata, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(c.id.as_str())
            .bind(c.customer_id.as_str())
            .bind(&c.name)
            .bind(c.kind.as_str())
            .bind(&c.email)
            .bind(&c.external_id)
            .bind(metadata_json(&c.metadata))
            .bind(ts(c.created_at))
            .bind(ts(c.updated_at))
            .execute(conn).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn update_counterparty(&mut self, c: &Counterparty) -> Result<(), StoreError> {
        let done = on_db!(self, conn => sqlx::query(
            "UPDATE counterparties SET name = $3, kind = $4, email = $5, external_id = $6, metadata = $7, updated_at = $8 \
             WHERE id = $1 AND customer_id = $2")
            .bind(c.id.as_str())
            .bind(c.customer_id.as_str())
            .bind(&c.name)
            .bind(c.kind.as_str())
            .bind(&c.email)
            .bind(&c.external_id)
            .bind(metadata_json(&c.metadata))
            .bind(ts(c.updated_at))
            .execute(conn).await.map(|r| r.rows_affected()))?;
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn get_counterparty(
        &mut self,
        customer: &CustomerId,
        id: &CounterpartyId,
    ) -> Result<Counterparty, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM counterparties WHERE id = $1 AND customer_id = $2"
        ));
        let row: CounterpartyRow = on_db!(self, conn => sqlx::query_as(sql)
            .bind(id.as_str())
            .bind(customer.as_str())
            .fetch_optional(conn)
            .await)?
        .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    pub async fn list_counterparties(
        &mut self,
        customer: &CustomerId,
        external_id: Option<&str>,
        q: &ListQuery,
    ) -> Result<Page<Counterparty>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM counterparties WHERE customer_id = $1 AND ($2 = '' OR id < $2) \
             AND ($3 = '' OR external_id = $3) ORDER BY id DESC LIMIT $4"
        ));
        let rows: Vec<CounterpartyRow> = on_db!(self, conn => sqlx::query_as(sql)
            .bind(customer.as_str())
            .bind(&q.starting_after)
            .bind(external_id.unwrap_or(""))
            .bind(q.fetch())
            .fetch_all(conn)
            .await)?;
        let rows = rows
            .into_iter()
            .map(Counterparty::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_rows(rows, q))
    }
}
