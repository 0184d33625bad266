//! The built-in sandbox processor: deterministic answers by card number, no
//! network. Documented in `docs/cards.md`; any other valid card is approved.
//!
//! | Card number        | Outcome                                   |
//! |--------------------|-------------------------------------------|
//! | 4000000000000002   | declined `generic_decline`                |
//! | 4000000000009995   | declined `insufficient_funds`             |
//! | 4000000000000069   | declined `expired_card`                   |
//! | 4000000000000127   | declined `incorrect_cvc`                  |
//! | 4000000000000119   | declined `processing_error`               |
//! | 4000000000000044   | partial approval: half the amount         |
//! | 4000000000000036   | processor unavailable (timeout)           |

use chrono::NaiveDate;
use inflow_core::money::Money;
use sha2::{Digest, Sha256};

use super::processor::{
    Approval, AuthorizeOutcome, AuthorizeRequest, CardProcessor, ProcessorError, ProcessorFuture,
    ProcessorStatus,
};

/// The magic card numbers and what they do.
pub const DECLINES: &[(&str, &str, &str)] = &[
    (
        "4000000000000002",
        "generic_decline",
        "the card was declined",
    ),
    (
        "4000000000009995",
        "insufficient_funds",
        "the card has insufficient funds",
    ),
    ("4000000000000069", "expired_card", "the card has expired"),
    (
        "4000000000000127",
        "incorrect_cvc",
        "the card's security code is incorrect",
    ),
    (
        "4000000000000119",
        "processing_error",
        "an error occurred while processing the card",
    ),
];
pub const PARTIAL_APPROVAL: &str = "4000000000000044";
pub const UNAVAILABLE: &str = "4000000000000036";

/// The sandbox processor (stateless: the same reference always gets the same answer).
#[derive(Debug, Default, Clone)]
pub struct SandboxProcessor;

fn approval_code(reference: &str) -> String {
    let h = Sha256::digest(reference.as_bytes());
    hex::encode_upper(&h[..3])
}

impl CardProcessor for SandboxProcessor {
    fn authorize<'a>(&'a self, req: AuthorizeRequest<'a>) -> ProcessorFuture<'a, AuthorizeOutcome> {
        Box::pin(async move {
            let number = req.card.number.expose();
            if number == UNAVAILABLE {
                return Err(ProcessorError::Unavailable(
                    "sandbox: simulated timeout".into(),
                ));
            }
            if let Some((_, code, message)) = DECLINES.iter().find(|(n, _, _)| *n == number) {
                return Ok(AuthorizeOutcome::Declined {
                    code: (*code).into(),
                    message: (*message).into(),
                });
            }
            let approved_minor = if number == PARTIAL_APPROVAL && req.approval_code.is_none() {
                (req.amount.minor() / 2).max(1)
            } else {
                req.amount.minor()
            };
            Ok(AuthorizeOutcome::Approved(Approval {
                approval_code: req
                    .approval_code
                    .map(str::to_owned)
                    .unwrap_or_else(|| approval_code(req.reference)),
                processor_ref: format!("sbx_{}", req.reference),
                approved_minor,
                cvc_result: if req.card.cvc.is_some() {
                    "pass"
                } else {
                    "unchecked"
                }
                .into(),
            }))
        })
    }

    fn capture<'a>(&'a self, _processor_ref: &'a str, _amount: Money) -> ProcessorFuture<'a, ()> {
        Box::pin(async { Ok(()) })
    }

    fn void<'a>(&'a self, _processor_ref: &'a str) -> ProcessorFuture<'a, ()> {
        Box::pin(async { Ok(()) })
    }

    fn refund<'a>(
        &'a self,
        _processor_ref: &'a str,
        reference: &'a str,
        _amount: Money,
    ) -> ProcessorFuture<'a, String> {
        Box::pin(async move { Ok(format!("sbx_{reference}")) })
    }

    fn inquiry<'a>(&'a self, processor_ref: &'a str) -> ProcessorFuture<'a, ProcessorStatus> {
        Box::pin(async move {
            Ok(ProcessorStatus {
                processor_ref: processor_ref.to_owned(),
                state: "known".into(),
            })
        })
    }

    fn settle_batch<'a>(&'a self, _day: NaiveDate) -> ProcessorFuture<'a, ()> {
        Box::pin(async { Ok(()) })
    }
}
