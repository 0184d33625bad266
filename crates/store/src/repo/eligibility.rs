//! The state an unfiled ACH collection depends on: the statuses of its
//! customer, destination account, payment method and schedule, read
//! together with the collection's own status and hold code in **one**
//! query (a join), whether for one account's collections or for every
//! entry of a 100k-entry cutoff.
//!
//! Also the share locks a new collection takes on those rows (PostgreSQL),
//! so a concurrent status change waits for the collection to commit and
//! then sees it.

use inflow_core::collection::{CollectionStatus, HoldCode};
use inflow_core::ids::{AccountId, CollectionId, CustomerId, PaymentMethodId, ScheduleId};
use inflow_core::model::{AccountStatus, CustomerStatus, PaymentMethodStatus};
use inflow_core::schedule::ScheduleStatus;

use crate::{on_db, StoreError, Tx};

/// The statuses an unfiled collection's eligibility depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parties {
    pub customer: CustomerStatus,
    pub account: AccountStatus,
    /// `None` for a one-time bank account.
    pub payment_method: Option<PaymentMethodStatus>,
    /// `None` unless the collection belongs to a recurring schedule.
    pub schedule: Option<ScheduleStatus>,
}

/// An ACH collection with the state of its parties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionState {
    pub id: CollectionId,
    pub status: CollectionStatus,
    pub hold: Option<HoldCode>,
    pub parties: Parties,
}

/// Which unfiled (`scheduled`, `pending`, `on_hold`) collections to read.
#[derive(Debug, Clone, Copy)]
pub enum UnfiledScope<'a> {
    Account(&'a AccountId),
    PaymentMethod(&'a PaymentMethodId),
    Customer(&'a CustomerId),
    Schedule(&'a ScheduleId),
}

/// Collections looked up by id per statement (as one JSON array).
const IDS_PER_STATEMENT: usize = 5_000;

const SELECT: &str =
    "SELECT c.id, c.status, c.hold_code, cu.status, a.status, pm.status, s.status \
    FROM collections c \
    JOIN customers cu ON cu.id = c.customer_id \
    JOIN accounts a ON a.id = c.destination_account_id \
    LEFT JOIN payment_methods pm ON pm.id = c.payment_method_id \
    LEFT JOIN schedules s ON s.id = c.schedule_id";

/// Written exactly as in the partial indexes of migration 0010, so SQLite
/// can use them (it matches a partial index's condition term by term).
const UNFILED: &str = "c.status IN ('scheduled', 'pending', 'on_hold')";

type Row = (
    String,
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<String>,
);

fn decode(r: Row) -> Result<CollectionState, StoreError> {
    let (id, status, hold, customer, account, pm, schedule) = r;
    Ok(CollectionState {
        id: CollectionId::from_trusted(id),
        status: CollectionStatus::parse("status", &status)?,
        hold: hold
            .as_deref()
            .map(|h| HoldCode::parse("hold_code", h))
            .transpose()?,
        parties: Parties {
            customer: CustomerStatus::parse("customer status", &customer)?,
            account: AccountStatus::parse("account status", &account)?,
            payment_method: pm
                .as_deref()
                .map(|p| PaymentMethodStatus::parse("payment method status", p))
                .transpose()?,
            schedule: schedule
                .as_deref()
                .map(|s| ScheduleStatus::parse("schedule status", s))
                .transpose()?,
        },
    })
}

impl Tx {
    /// Every unfiled ACH collection in `scope` with its parties' state, in
    /// no particular order.
    pub async fn unfiled_ach_states(
        &mut self,
        scope: UnfiledScope<'_>,
    ) -> Result<Vec<CollectionState>, StoreError> {
        let (column, id) = match scope {
            UnfiledScope::Account(a) => ("destination_account_id", a.as_str()),
            UnfiledScope::PaymentMethod(p) => ("payment_method_id", p.as_str()),
            UnfiledScope::Customer(c) => ("customer_id", c.as_str()),
            UnfiledScope::Schedule(s) => ("schedule_id", s.as_str()),
        };
        // No ORDER BY: with one, SQLite prefers `collections_customer
        // (customer_id, id)` — every collection the customer ever made — to
        // the partial index of its unfiled ones.
        let sql = format!("{SELECT} WHERE c.{column} = $1 AND {UNFILED} AND c.rail = 'ach'");
        let rows: Vec<Row> = on_db!(self, conn => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_all(conn)
            .await)?;
        rows.into_iter().map(decode).collect()
    }

    /// The parties' state of the collections `ids`, in no particular order
    /// (ids that do not exist are left out). One statement per
    /// [`IDS_PER_STATEMENT`] ids, the ids carried as one JSON array.
    pub async fn ach_states(
        &mut self,
        ids: &[CollectionId],
    ) -> Result<Vec<CollectionState>, StoreError> {
        let ids_of = match self {
            Tx::Sqlite(_) => "SELECT value FROM json_each($1)",
            Tx::Postgres(_) => "SELECT json_array_elements_text(CAST($1 AS json))",
        };
        let sql = format!("{SELECT} WHERE c.id IN ({ids_of})");
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            let payload =
                serde_json::Value::from(chunk.iter().map(|id| id.as_str()).collect::<Vec<_>>())
                    .to_string();
            let rows: Vec<Row> = on_db!(self, conn => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(payload)
                .fetch_all(conn)
                .await)?;
            for r in rows {
                out.push(decode(r)?);
            }
        }
        Ok(out)
    }

    /// Share-lock the customer and destination account a new collection
    /// depends on (PostgreSQL; SQLite serialises writers anyway) and return
    /// the customer's status as of now. A status change of either waits
    /// for the new collection to commit, then finds it among the
    /// collections it moves. Read the account after this.
    pub async fn lock_collection_parties(
        &mut self,
        customer: &CustomerId,
        account: &AccountId,
    ) -> Result<CustomerStatus, StoreError> {
        let sql = format!("SELECT status FROM customers WHERE id = $1{}", share(self));
        let status: Option<String> = on_db!(self, conn => sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(customer.as_str())
            .fetch_optional(conn)
            .await)?;
        let status = status.ok_or(StoreError::NotFound)?;
        self.share_lock("accounts", account.as_str()).await?;
        Ok(CustomerStatus::parse("customer status", &status)?)
    }

    /// Share-lock a payment method a new collection debits (see
    /// [`Tx::lock_collection_parties`]). Read the payment method after this.
    pub async fn lock_collection_payment_method(
        &mut self,
        pm: &PaymentMethodId,
    ) -> Result<(), StoreError> {
        self.share_lock("payment_methods", pm.as_str()).await
    }

    async fn share_lock(&mut self, table: &'static str, id: &str) -> Result<(), StoreError> {
        if matches!(self, Tx::Sqlite(_)) {
            return Ok(());
        }
        let sql = format!("SELECT id FROM {table} WHERE id = $1 FOR SHARE");
        on_db!(self, conn => sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(conn)
            .await)?;
        Ok(())
    }
}

/// The row-lock clause that keeps a row from changing under a reader.
fn share(tx: &Tx) -> &'static str {
    match tx {
        Tx::Sqlite(_) => "",
        Tx::Postgres(_) => " FOR SHARE",
    }
}
