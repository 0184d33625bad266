//! The state an unfiled ACH collection depends on: the statuses of its
//! customer, destination account, payment method and schedule, read
//! together with the collection's own status and hold code in **one**
//! query (a join), whether for one account's collections or for every
//! entry of a 100k-entry cutoff.
//!
//! Also the party locks that keep a new collection and a status change of
//! one of its parties apart (PostgreSQL advisory locks): the change waits
//! for collections being created to commit, then finds them.

use inflow_core::collection::{CollectionStatus, HoldCode};
use inflow_core::ids::{AccountId, CollectionId, CustomerId, PaymentMethodId, ScheduleId};
use inflow_core::model::{AccountStatus, CustomerStatus, PaymentMethodStatus};
use inflow_core::schedule::ScheduleStatus;

use crate::dialect::{pg_xact_lock, LockPurpose};
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

/// Some party is not active: a superset of what
/// `inflow_engine::eligibility::verdict` holds or fails (keep them in step).
const NOT_ALL_ACTIVE: &str = " AND (cu.status <> 'active' OR a.status <> 'active' \
    OR COALESCE(pm.status, 'active') <> 'active' OR COALESCE(s.status, 'active') = 'paused')";

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
        self.states_of(ids, "").await
    }

    /// [`Tx::ach_states`] of those of `ids` with a party not active (a
    /// customer, destination account or payment method not `active`, a
    /// schedule `paused`): the only ones that can be ineligible. The cutoff
    /// checks 100k entries this way without decoding 100k rows.
    pub async fn ach_states_not_all_active(
        &mut self,
        ids: &[CollectionId],
    ) -> Result<Vec<CollectionState>, StoreError> {
        self.states_of(ids, NOT_ALL_ACTIVE).await
    }

    async fn states_of(
        &mut self,
        ids: &[CollectionId],
        filter: &str,
    ) -> Result<Vec<CollectionState>, StoreError> {
        let ids_of = match self {
            Tx::Sqlite(..) => "SELECT value FROM json_each($1)",
            Tx::Postgres(..) => "SELECT json_array_elements_text(CAST($1 AS json))",
        };
        let sql = format!("{SELECT} WHERE c.id IN ({ids_of}){filter}");
        let mut out = Vec::new();
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

    /// Take the shared party locks of a new collection's customer and
    /// destination account and return the customer's status as of now
    /// (PostgreSQL; SQLite serialises writers anyway). Read the account
    /// after this. See [`Tx::lock_party_changes`].
    pub async fn lock_collection_parties(
        &mut self,
        customer: &CustomerId,
        account: &AccountId,
    ) -> Result<CustomerStatus, StoreError> {
        self.party_lock(customer.as_str(), false).await?;
        self.party_lock(account.as_str(), false).await?;
        let status: Option<String> = on_db!(self, conn => sqlx::query_scalar(
            "SELECT status FROM customers WHERE id = $1")
            .bind(customer.as_str())
            .fetch_optional(conn)
            .await)?;
        let status = status.ok_or(StoreError::NotFound)?;
        Ok(CustomerStatus::parse("customer status", &status)?)
    }

    /// The shared party lock of a payment method a new collection debits
    /// (see [`Tx::lock_collection_parties`]). Read the payment method after this.
    pub async fn lock_collection_payment_method(
        &mut self,
        pm: &PaymentMethodId,
    ) -> Result<(), StoreError> {
        self.party_lock(pm.as_str(), false).await
    }

    /// The exclusive party lock of a customer, destination account or
    /// payment method (`id`) whose status has changed, taken before its
    /// unfiled collections are read: it waits for every collection being
    /// created for it to commit (they hold the shared lock), and new ones
    /// wait for this transaction and then read the new status. PostgreSQL
    /// transaction-scoped advisory locks: no row is written, and the lock
    /// can be taken after the status row was updated (row locks would
    /// be taken at the update, before any schedule lock — a deadlock with
    /// the schedules job, which locks a schedule before creating its
    /// collection).
    pub async fn lock_party_changes(&mut self, id: &str) -> Result<(), StoreError> {
        self.party_lock(id, true).await
    }

    async fn party_lock(&mut self, id: &str, exclusive: bool) -> Result<(), StoreError> {
        let Tx::Postgres(t, ..) = self else {
            return Ok(());
        };
        pg_xact_lock(t, LockPurpose::PartyStatus, id, exclusive).await
    }
}
