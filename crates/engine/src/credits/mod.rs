//! Outbound ACH credits (issue #18): refunds of ACH collections by credit
//! entry ([`refunds`]) and NACHA reversing entries of erroneous debits
//! ([`reversals`]). Both are rows of `ach_credit_entries` that the cutoff
//! files in credit files of their own ([`filing`], bytes in [`build`]);
//! uploads, settlement and returns move them on ([`lifecycle`]).
//!
//! Lifecycle: `pending` → `batched` (in a file built at a cutoff) →
//! `submitted` (the file is at the bank) → `completed` (the good-funds
//! period after the effective date passed with no return), or `returned`
//! when a return names its trace number. A reversal whose collection was
//! returned before the cutoff is `cancelled` instead of filed. Every step
//! writes `refund.<status>` / `reversal.<status>` (`created` for `pending`).
//!
//! SEC codes (see `docs/refunds-and-reversals.md`): a refund of a CCD
//! debit is a CCD credit; a refund of a PPD, WEB or TEL debit is a **PPD**
//! credit (WEB credits are for person-to-person payments only and TEL
//! credits are allowed only as reversals). A reversal keeps the original's
//! SEC code (TEL included: a `REVERSAL` batch may carry TEL credits).

pub mod build;
pub mod filing;
pub mod lifecycle;
pub mod refunds;
pub mod reversals;

use chrono::{DateTime, Utc};
use inflow_core::collection::{AchCollection, SecCode};
use inflow_core::ids::EventId;
use inflow_store::repo::ach_credits::{AchCreditEntry, KIND_REFUND};
use inflow_store::repo::events::Event;
use inflow_store::{StoreError, Tx};

/// Credit entry statuses.
pub mod status {
    pub const PENDING: &str = "pending";
    pub const BATCHED: &str = "batched";
    pub const SUBMITTED: &str = "submitted";
    pub const COMPLETED: &str = "completed";
    pub const RETURNED: &str = "returned";
    pub const CANCELLED: &str = "cancelled";
}

/// The company entry description of a refund credit.
pub const REFUND_DESCRIPTION: &str = "REFUND";
/// The company entry description NACHA reserves for reversing entries.
pub const REVERSAL_DESCRIPTION: &str = "REVERSAL";

/// What a refund or reversal refused, for the API to render.
#[derive(Debug, thiserror::Error)]
pub enum CreditError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no such {0}")]
    NotFound(&'static str),
    /// `409` with an error code.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// `400` naming a field.
    #[error("{message}")]
    Invalid {
        code: &'static str,
        message: String,
        param: &'static str,
    },
}

pub(crate) fn conflict(code: &'static str, message: impl Into<String>) -> CreditError {
    CreditError::Conflict {
        code,
        message: message.into(),
    }
}

/// The SEC code of a refund credit for a debit of `sec` (module docs).
pub fn refund_sec_code(sec: SecCode) -> SecCode {
    match sec {
        SecCode::Ccd => SecCode::Ccd,
        SecCode::Ppd | SecCode::Web | SecCode::Tel => SecCode::Ppd,
    }
}

/// `refund` or `reversal`, as event prefixes.
fn resource(e: &AchCreditEntry) -> &'static str {
    if e.kind == KIND_REFUND {
        "refund"
    } else {
        "reversal"
    }
}

/// The event for `e`'s current status (`created` while pending).
pub fn credit_event_row(e: &AchCreditEntry, c: &AchCollection, at: DateTime<Utc>) -> Event {
    let what = if e.status == status::PENDING {
        "created"
    } else {
        e.status.as_str()
    };
    let object = if e.kind == KIND_REFUND {
        serde_json::to_value(crate::view::ach_refund_view(e, c))
    } else {
        serde_json::to_value(crate::view::reversal_view(e))
    }
    .unwrap_or_default();
    Event {
        id: EventId::generate(at),
        customer_id: Some(e.customer_id.clone()),
        event_type: format!("{}.{what}", resource(e)),
        object_id: e.id.clone(),
        data: serde_json::json!({ "object": object }),
        created_at: at,
    }
}

/// Record the event for `e`'s current status.
pub async fn credit_event(
    tx: &mut Tx,
    e: &AchCreditEntry,
    c: &AchCollection,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.insert_event(&credit_event_row(e, c, at)).await
}

/// Move `e` to `to` in memory, stamping the time fields.
pub(crate) fn move_to(e: &mut AchCreditEntry, to: &str, reason: Option<String>, at: DateTime<Utc>) {
    e.status = to.to_owned();
    e.status_reason = reason;
    e.updated_at = at;
    match to {
        status::SUBMITTED => e.submitted_at = Some(at),
        status::COMPLETED => e.completed_at = Some(at),
        status::RETURNED => e.returned_at = Some(at),
        _ => {}
    }
}
