//! Why a card operation was refused or failed: a rule's [`Refusal`] (no
//! such collection, the other rail, a conflict with the collection's state,
//! an amount not allowed), processing off or the processor failing, or the
//! store failing.

use inflow_core::{Refusal, RefusalKind};
use inflow_store::StoreError;

use super::processor::ProcessorError;

#[derive(Debug, thiserror::Error)]
pub enum CardError {
    /// A rule refused: not found, `wrong_rail` (an ACH collection given to
    /// a card operation), a conflict with the collection's state, or an
    /// amount or operation not allowed (`Unprocessable`).
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// 503: card processing is off on this node (production mode without a
    /// real processor).
    #[error("card processing is unavailable: {0}")]
    ProcessingUnavailable(String),
    #[error(transparent)]
    Processor(#[from] ProcessorError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub(crate) fn conflict(code: &'static str, message: impl Into<String>) -> CardError {
    Refusal::conflict(code, message).into()
}

pub(crate) fn unprocessable(
    code: &'static str,
    message: impl Into<String>,
    param: &'static str,
) -> CardError {
    Refusal::new(RefusalKind::Unprocessable, code, message)
        .with_field(param)
        .into()
}

impl CardError {
    /// Whether a rule refused with a conflict (the collection's state).
    pub fn is_conflict(&self) -> bool {
        matches!(self, CardError::Refused(r) if r.kind == RefusalKind::Conflict)
    }
}
