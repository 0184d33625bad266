//! Capture, void and refund of a PaymentIntent, each safe to repeat: a
//! repeated call finds what the first one did (the PaymentIntent's state,
//! or a Refund carrying Inflow's reference) instead of doing it twice; and
//! the batch close, answered from Stripe's balance transactions.

use chrono::NaiveDate;
use inflow_core::money::Money;
use serde_json::Value;

use super::super::processor::{BatchSettlement, ProcessorError, SettledTransaction};
use super::client::{Failure, Form};
use super::tokens::id_of;
use super::{err, StripeProcessor};

fn refused(m: String) -> ProcessorError {
    ProcessorError::Rejected(format!("stripe: {m}"))
}

/// The amount a PaymentIntent captured (`amount_received`; localstripe,
/// which lacks it, shows the charge's amount less what was left uncaptured).
fn captured(pi: &Value) -> Option<i64> {
    pi["amount_received"].as_i64().or_else(|| {
        let ch = &pi["latest_charge"];
        (ch["captured"].as_bool() == Some(true)).then(|| ch["amount"].as_i64().unwrap_or(0))
    })
}

impl StripeProcessor {
    async fn payment(&self, pi: &str) -> Result<Value, ProcessorError> {
        self.client
            .get(
                &format!("/v1/payment_intents/{pi}"),
                &[("expand[]", "latest_charge")],
            )
            .await
            .map_err(err)
    }

    pub(super) async fn capture_payment(
        &self,
        pi: &str,
        reference: &str,
        amount: Money,
    ) -> Result<(), ProcessorError> {
        let form: Form = vec![("amount_to_capture".into(), amount.minor().to_string())];
        match self
            .client
            .post(
                &format!("/v1/payment_intents/{pi}/capture"),
                &form,
                Some(reference),
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(Failure::Refused { message, .. }) => {
                // Captured already (a repeated call)? Then this is its answer.
                let now = self.payment(pi).await?;
                let done = now["status"].as_str() == Some("succeeded");
                if done
                    && (captured(&now) == Some(amount.minor()) || now["amount_received"].is_null())
                {
                    Ok(())
                } else {
                    Err(refused(message))
                }
            }
            Err(f) => Err(err(f)),
        }
    }

    /// Before capture: cancel. After capture (Stripe cannot cancel a
    /// captured PaymentIntent): refund all of it, the Refund carrying the
    /// void's reference.
    pub(super) async fn void_payment(
        &self,
        pi: &str,
        reference: &str,
    ) -> Result<(), ProcessorError> {
        let now = self.payment(pi).await?;
        match now["status"].as_str().unwrap_or_default() {
            "canceled" => Ok(()),
            "succeeded" => self.refund_once(pi, reference, None).await.map(|_| ()),
            _ => {
                match self
                    .client
                    .post(
                        &format!("/v1/payment_intents/{pi}/cancel"),
                        &Form::new(),
                        Some(reference),
                    )
                    .await
                {
                    Ok(_) => Ok(()),
                    Err(Failure::Refused { message, .. }) => {
                        match self.payment(pi).await?["status"].as_str() {
                            Some("canceled") => Ok(()),
                            _ => Err(refused(message)),
                        }
                    }
                    Err(f) => Err(err(f)),
                }
            }
        }
    }

    pub(super) async fn refund_payment(
        &self,
        pi: &str,
        reference: &str,
        amount: Money,
    ) -> Result<String, ProcessorError> {
        self.refund_once(pi, reference, Some(amount.minor())).await
    }

    /// The Refund of `pi` carrying `reference`, made now unless an earlier
    /// try made it. `amount: None` refunds what remains.
    async fn refund_once(
        &self,
        pi: &str,
        reference: &str,
        amount: Option<i64>,
    ) -> Result<String, ProcessorError> {
        if let Some(r) = self.find_refund(pi, reference).await? {
            return refund_answer(&r);
        }
        let mut form: Form = vec![
            ("payment_intent".into(), pi.to_owned()),
            ("metadata[inflow_reference]".into(), reference.to_owned()),
        ];
        if let Some(a) = amount {
            form.push(("amount".into(), a.to_string()));
        }
        match self
            .client
            .post("/v1/refunds", &form, Some(reference))
            .await
        {
            Ok(r) => refund_answer(&r),
            Err(f) => Err(err(f)),
        }
    }

    async fn find_refund(
        &self,
        pi: &str,
        reference: &str,
    ) -> Result<Option<Value>, ProcessorError> {
        let list = self
            .client
            .get("/v1/refunds", &[("payment_intent", pi), ("limit", "100")])
            .await
            .map_err(err)?;
        Ok(list["data"].as_array().and_then(|rs| {
            rs.iter()
                .find(|r| r["metadata"]["inflow_reference"].as_str() == Some(reference))
                .cloned()
        }))
    }

    /// Which of `candidates` Stripe has settled: those whose charge's
    /// balance transaction is `available` (the funds are in the balance,
    /// ready for payout). `pending` ones are asked again at the next close.
    pub(super) async fn settled(
        &self,
        day: NaiveDate,
        candidates: &[String],
    ) -> Result<BatchSettlement, ProcessorError> {
        let mut settled = Vec::new();
        for pi in candidates {
            let payment = match self.payment(pi).await {
                Ok(p) => p,
                Err(ProcessorError::Rejected(_)) => continue,
                Err(e) => return Err(e),
            };
            let charge = &payment["latest_charge"];
            let Some(txn) = charge["balance_transaction"].as_str() else {
                continue;
            };
            let bt = self
                .client
                .get(&format!("/v1/balance/history/{txn}"), &[])
                .await
                .map_err(err)?;
            if bt["status"].as_str() == Some("available") {
                let net = charge["amount"].as_i64().unwrap_or(0)
                    - charge["amount_refunded"].as_i64().unwrap_or(0);
                settled.push(SettledTransaction {
                    processor_ref: pi.clone(),
                    net_minor: net,
                });
            }
        }
        Ok(BatchSettlement {
            batch_id: format!("stripe_{}", day.format("%Y%m%d")),
            day,
            settled,
        })
    }
}

fn refund_answer(r: &Value) -> Result<String, ProcessorError> {
    let id = id_of(r).map_err(err)?;
    match r["status"].as_str() {
        Some("failed") | Some("canceled") => Err(refused(format!(
            "refund {id} {}",
            r["failure_reason"].as_str().unwrap_or("failed")
        ))),
        _ => Ok(id),
    }
}
