//! The built-in sandbox processor: deterministic answers by card number, no
//! network. Documented in `docs/cards.md`; any other valid card is approved.
//!
//! It keeps its own books in the database (`sandbox_card_transactions`,
//! `sandbox_card_refunds`), like a real processor on its side: a call
//! repeated with the same reference gets the first answer and moves no
//! money twice, on any node and after a restart.
//!
//! | Card number        | Outcome                                   |
//! |--------------------|-------------------------------------------|
//! | 4000000000000002   | declined `generic_decline`                |
//! | 4000000000009995   | declined `insufficient_funds`             |
//! | 4000000000000069   | declined `expired_card`                   |
//! | 4000000000000127   | declined `incorrect_cvc`                  |
//! | 4000000000000119   | declined `processing_error`               |
//! | 4000000000000044   | partial approval: half the amount         |
//! | 4000000000000036   | approved, but the first answer to every operation is lost (timeout) |
//!
//! | 4000000000000259   | approved, then disputed (fraudulent) once captured; the dispute is lost a day later |
//! | 4000000000001976   | approved, then disputed once captured; the dispute is won a day later |
//!
//! By amount: a capture or refund of exactly 13.13 is refused by the processor.

use chrono::{Duration, NaiveDate};
use inflow_core::clock::SharedClock;
use inflow_core::money::Money;
use inflow_store::repo::sandbox_processor::{SandboxCardTransaction, SandboxRefund};
use inflow_store::{Store, StoreError, Tx};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::disputes::{DisputeReport, DisputeStage};
use super::processor::{
    Approval, AuthorizeOutcome, AuthorizeRequest, BatchSettlement, Capabilities, CardData,
    CardProcessor, ProcessorError, ProcessorFuture, SettledTransaction,
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
/// Approved, but the first answer to each operation is lost: the processor
/// did the work and the caller timed out.
pub const LOST_ANSWER: &str = "4000000000000036";

/// Captured, then disputed by the cardholder; the dispute is lost.
pub const DISPUTE_LOST: &str = "4000000000000259";
/// Captured, then disputed by the cardholder; the dispute is won.
pub const DISPUTE_WON: &str = "4000000000001976";
/// How long a sandbox dispute stays open before it is decided.
pub const DISPUTE_DECIDED_AFTER_HOURS: i64 = 24;

/// A capture or refund of exactly this amount (13.13) is refused by the
/// sandbox processor (not a card decline: the processor says no).
pub const REFUSED_AMOUNT: i64 = 1_313;

const NORMAL: &str = "normal";
const LOSES_FIRST_ANSWER: &str = "lost_answer";
const WILL_BE_DISPUTED_LOST: &str = "dispute_lost";
const WILL_BE_DISPUTED_WON: &str = "dispute_won";

/// The sandbox processor.
#[derive(Clone)]
pub struct SandboxProcessor {
    store: Store,
    clock: SharedClock,
}

impl std::fmt::Debug for SandboxProcessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SandboxProcessor")
    }
}

/// An authorization's answer as the sandbox keeps it.
#[derive(Debug, Serialize, Deserialize)]
struct Answer {
    approved: bool,
    code: String,
    message: String,
    approval_code: String,
    approved_minor: i64,
    cvc_result: String,
}

fn approval_code(reference: &str) -> String {
    let h = Sha256::digest(reference.as_bytes());
    hex::encode_upper(&h[..3])
}

fn store_err(e: StoreError) -> ProcessorError {
    ProcessorError::Unavailable(format!("sandbox processor storage: {e}"))
}

fn lost() -> ProcessorError {
    ProcessorError::Unavailable("sandbox: the answer was lost (simulated timeout)".into())
}

/// The sandbox's reference for a transaction Inflow calls `reference`.
pub fn processor_ref_for(reference: &str) -> String {
    format!("sbx_{reference}")
}

impl SandboxProcessor {
    pub fn new(store: Store, clock: SharedClock) -> Self {
        Self { store, clock }
    }

    /// Run one step of the processor's books in its own transaction.
    async fn books<T, F>(&self, step: F) -> Result<T, ProcessorError>
    where
        F: for<'t> FnOnce(&'t mut Tx) -> inflow_store::WriteFuture<'t, T, StoreError>
            + Send
            + 'static,
        T: Send + 'static,
    {
        self.store.write(step).await.map_err(store_err)
    }

    fn decide(req: &AuthorizeRequest<'_>) -> Answer {
        let number = req.card.number.expose();
        let cvc_result = if req.card.cvc.is_some() {
            "pass"
        } else {
            "unchecked"
        };
        if let Some((_, code, message)) = DECLINES.iter().find(|(n, _, _)| *n == number) {
            return Answer {
                approved: false,
                code: (*code).into(),
                message: (*message).into(),
                approval_code: String::new(),
                approved_minor: 0,
                cvc_result: if *code == "incorrect_cvc" {
                    "fail"
                } else {
                    cvc_result
                }
                .into(),
            };
        }
        let approved_minor = if number == PARTIAL_APPROVAL && req.approval_code.is_none() {
            (req.amount.minor() / 2).max(1)
        } else {
            req.amount.minor()
        };
        Answer {
            approved: true,
            code: "approved".into(),
            message: "approved".into(),
            approval_code: req
                .approval_code
                .map(str::to_owned)
                .unwrap_or_else(|| approval_code(req.reference)),
            approved_minor,
            cvc_result: cvc_result.into(),
        }
    }

    async fn transaction(
        &self,
        processor_ref: &str,
    ) -> Result<SandboxCardTransaction, ProcessorError> {
        let r = processor_ref.to_owned();
        self.books(move |tx| Box::pin(async move { tx.sandbox_card_transaction(&r).await }))
            .await?
            .ok_or_else(|| ProcessorError::Rejected(format!("no transaction {processor_ref}")))
    }
}

impl CardProcessor for SandboxProcessor {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            processor: "sandbox",
            enabled: true,
            force_with_approval_code: true,
        }
    }

    fn authorize<'a>(&'a self, req: AuthorizeRequest<'a>) -> ProcessorFuture<'a, AuthorizeOutcome> {
        Box::pin(async move {
            let answer = Self::decide(&req);
            let now = self.clock.now();
            let behaviour = match req.card.number.expose() {
                LOST_ANSWER => LOSES_FIRST_ANSWER,
                DISPUTE_LOST => WILL_BE_DISPUTED_LOST,
                DISPUTE_WON => WILL_BE_DISPUTED_WON,
                _ => NORMAL,
            };
            let state = match (answer.approved, req.capture) {
                (false, _) => "declined",
                (true, true) => "captured",
                (true, false) => "authorized",
            };
            let t = SandboxCardTransaction {
                processor_ref: processor_ref_for(req.reference),
                reference: req.reference.to_owned(),
                behaviour: behaviour.into(),
                state: state.into(),
                answer: serde_json::to_string(&answer)
                    .map_err(|e| ProcessorError::Unavailable(e.to_string()))?,
                authorized: answer.approved_minor,
                captured: if req.capture {
                    answer.approved_minor
                } else {
                    0
                },
                refunded: 0,
                batch_day: None,
                created_at: now,
                updated_at: now,
            };
            let (stored, new) = self
                .books(move |tx| Box::pin(async move { tx.sandbox_card_authorize(&t).await }))
                .await?;
            if new && stored.behaviour == LOSES_FIRST_ANSWER {
                return Err(lost());
            }
            let a: Answer = serde_json::from_str(&stored.answer)
                .map_err(|e| ProcessorError::Unavailable(format!("sandbox answer: {e}")))?;
            Ok(if a.approved {
                AuthorizeOutcome::Approved(Approval {
                    approval_code: a.approval_code,
                    processor_ref: stored.processor_ref,
                    approved_minor: a.approved_minor,
                    cvc_result: a.cvc_result,
                })
            } else {
                AuthorizeOutcome::Declined {
                    code: a.code,
                    message: a.message,
                }
            })
        })
    }

    fn verify<'a>(
        &'a self,
        _reference: &'a str,
        card: CardData<'a>,
    ) -> ProcessorFuture<'a, String> {
        Box::pin(async move {
            let number = card.number.expose();
            if number == LOST_ANSWER {
                return Err(lost());
            }
            Ok(match DECLINES.iter().find(|(n, _, _)| *n == number) {
                Some((_, "incorrect_cvc", _)) => "fail",
                // A declined card's code was not checked.
                Some(_) => "unchecked",
                None if card.cvc.is_some() => "pass",
                None => "unchecked",
            }
            .into())
        })
    }

    fn capture<'a>(
        &'a self,
        processor_ref: &'a str,
        _reference: &'a str,
        amount: Money,
    ) -> ProcessorFuture<'a, ()> {
        Box::pin(async move {
            if amount.minor() == REFUSED_AMOUNT {
                return Err(ProcessorError::Rejected(
                    "sandbox: captures of 13.13 are refused".into(),
                ));
            }
            let t = self.transaction(processor_ref).await?;
            if t.state == "authorized" {
                if amount.minor() > t.authorized {
                    return Err(ProcessorError::Rejected(format!(
                        "cannot capture {} of an authorization of {}",
                        amount.minor(),
                        t.authorized
                    )));
                }
                let (r, now) = (processor_ref.to_owned(), self.clock.now());
                let minor = amount.minor();
                let moved = self
                    .books(move |tx| {
                        Box::pin(async move {
                            tx.sandbox_card_transition(
                                &r,
                                "authorized",
                                "captured",
                                Some(minor),
                                now,
                            )
                            .await
                        })
                    })
                    .await?;
                if moved && t.behaviour == LOSES_FIRST_ANSWER {
                    return Err(lost());
                }
                if moved {
                    return Ok(());
                }
            }
            let t = self.transaction(processor_ref).await?;
            if matches!(t.state.as_str(), "captured" | "settled") && t.captured == amount.minor() {
                Ok(())
            } else {
                Err(ProcessorError::Rejected(format!(
                    "cannot capture a {} transaction",
                    t.state
                )))
            }
        })
    }

    fn void<'a>(&'a self, processor_ref: &'a str, _reference: &'a str) -> ProcessorFuture<'a, ()> {
        Box::pin(async move {
            let t = self.transaction(processor_ref).await?;
            match t.state.as_str() {
                "voided" => Ok(()),
                from @ ("authorized" | "captured") => {
                    let (r, from, now) =
                        (processor_ref.to_owned(), from.to_owned(), self.clock.now());
                    let moved = self
                        .books(move |tx| {
                            Box::pin(async move {
                                tx.sandbox_card_transition(&r, &from, "voided", None, now)
                                    .await
                            })
                        })
                        .await?;
                    match (moved, t.behaviour == LOSES_FIRST_ANSWER) {
                        (true, true) => Err(lost()),
                        (true, false) => Ok(()),
                        // Moved by a concurrent call: answer from the new state.
                        (false, _) => match self.transaction(processor_ref).await?.state.as_str() {
                            "voided" => Ok(()),
                            s => Err(ProcessorError::Rejected(format!(
                                "cannot void a {s} transaction"
                            ))),
                        },
                    }
                }
                s => Err(ProcessorError::Rejected(format!(
                    "cannot void a {s} transaction"
                ))),
            }
        })
    }

    fn refund<'a>(
        &'a self,
        processor_ref: &'a str,
        reference: &'a str,
        amount: Money,
    ) -> ProcessorFuture<'a, String> {
        Box::pin(async move {
            if amount.minor() == REFUSED_AMOUNT {
                return Err(ProcessorError::Rejected(
                    "sandbox: refunds of 13.13 are refused".into(),
                ));
            }
            let t = self.transaction(processor_ref).await?;
            let (r, reference_owned, minor, now) = (
                processor_ref.to_owned(),
                reference.to_owned(),
                amount.minor(),
                self.clock.now(),
            );
            let done = self
                .books(move |tx| {
                    Box::pin(async move {
                        tx.sandbox_card_refund(&r, &reference_owned, minor, now)
                            .await
                    })
                })
                .await?;
            match done {
                SandboxRefund::Made if t.behaviour == LOSES_FIRST_ANSWER => Err(lost()),
                SandboxRefund::Made | SandboxRefund::AlreadyMade => {
                    Ok(processor_ref_for(reference))
                }
                SandboxRefund::Refused => Err(ProcessorError::Rejected(format!(
                    "cannot refund {minor} of a {} transaction with {} captured and {} refunded",
                    t.state, t.captured, t.refunded
                ))),
            }
        })
    }

    fn disputes(&self) -> ProcessorFuture<'_, Vec<DisputeReport>> {
        Box::pin(async move {
            let now = self.clock.now();
            let rows = self
                .books(|tx| Box::pin(async move { tx.sandbox_card_disputed().await }))
                .await?;
            Ok(rows
                .into_iter()
                .filter(|t| t.captured > t.refunded)
                .map(|t| {
                    let decided =
                        now >= t.created_at + Duration::hours(DISPUTE_DECIDED_AFTER_HOURS);
                    DisputeReport {
                        dispute_id: format!("sbx_dp_{}", t.reference),
                        amount_minor: t.captured - t.refunded,
                        reason: "fraudulent".into(),
                        stage: match (decided, t.behaviour.as_str()) {
                            (false, _) => DisputeStage::Open,
                            (true, WILL_BE_DISPUTED_WON) => DisputeStage::Won,
                            (true, _) => DisputeStage::Lost,
                        },
                        processor_ref: t.processor_ref,
                    }
                })
                .collect())
        })
    }

    fn settle_batch<'a>(
        &'a self,
        day: NaiveDate,
        _candidates: &'a [String],
    ) -> ProcessorFuture<'a, BatchSettlement> {
        Box::pin(async move {
            let now = self.clock.now();
            let rows = self
                .books(move |tx| {
                    Box::pin(async move { tx.sandbox_card_settle_batch(day, now).await })
                })
                .await?;
            Ok(BatchSettlement {
                batch_id: format!("sbx_batch_{}", day.format("%Y%m%d")),
                day,
                settled: rows
                    .into_iter()
                    .map(|(processor_ref, net_minor)| SettledTransaction {
                        processor_ref,
                        net_minor,
                    })
                    .collect(),
            })
        })
    }
}
