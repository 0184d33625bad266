//! Why a card operation was refused.

use inflow_store::StoreError;

use super::processor::ProcessorError;

#[derive(Debug, thiserror::Error)]
pub enum CardError {
    #[error("{0} not found")]
    NotFound(&'static str),
    /// 409: the object exists but is on the other rail (an ACH collection
    /// given to a card operation); the message says what it is.
    #[error("wrong rail: {0}")]
    WrongRail(String),
    /// 409: the collection's state does not allow it.
    #[error("{code}: {message}")]
    Conflict {
        code: &'static str,
        message: String,
        param: Option<&'static str>,
    },
    /// 422: the amount is not allowed.
    #[error("{code}: {message}")]
    Unprocessable {
        code: &'static str,
        message: String,
        param: &'static str,
    },
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
    CardError::Conflict {
        code,
        message: message.into(),
        param: None,
    }
}

pub(crate) fn unprocessable(
    code: &'static str,
    message: impl Into<String>,
    param: &'static str,
) -> CardError {
    CardError::Unprocessable {
        code,
        message: message.into(),
        param,
    }
}
