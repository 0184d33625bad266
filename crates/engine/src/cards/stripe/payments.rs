//! Authorizations and sales as PaymentIntents, the zero-amount card check,
//! and finding the PaymentIntent an earlier try left when its answer was
//! lost.

use serde_json::Value;

use super::super::processor::{
    Approval, AuthorizeOutcome, AuthorizeRequest, CardData, ProcessorError,
};
use super::client::{Failure, Form};
use super::tokens::{cvc_result, id_of, Token};
use super::{currency, declines, err, StripeProcessor};

fn declined(code: &str, decline_code: Option<&str>, message: &str) -> AuthorizeOutcome {
    AuthorizeOutcome::Declined {
        code: declines::inflow_code(code, decline_code).into(),
        message: declines::message(message, code, decline_code),
    }
}

fn from_failure(f: Failure) -> Result<AuthorizeOutcome, ProcessorError> {
    match f {
        Failure::Card {
            code,
            decline_code,
            message,
        } => Ok(declined(&code, decline_code.as_deref(), &message)),
        f => Err(err(f)),
    }
}

fn minor(v: &Value) -> Option<i64> {
    v.as_i64().filter(|m| *m > 0)
}

/// What a PaymentIntent (with `latest_charge` expanded) says about the
/// authorization.
pub fn outcome(pi: &Value) -> Result<AuthorizeOutcome, ProcessorError> {
    let id = id_of(pi).map_err(err)?;
    let charge = &pi["latest_charge"];
    let status = pi["status"].as_str().unwrap_or_default();
    let approved_minor = match status {
        "requires_capture" => minor(&pi["amount_capturable"]),
        "succeeded" => minor(&pi["amount_received"]),
        _ => None,
    }
    .or_else(|| minor(&charge["amount"]))
    .or_else(|| minor(&pi["amount"]))
    .unwrap_or_default();
    match status {
        "succeeded" | "requires_capture" => {
            let approval_code = charge["authorization_code"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| short_code(charge["id"].as_str().unwrap_or(&id)));
            Ok(AuthorizeOutcome::Approved(Approval {
                approval_code,
                processor_ref: id,
                approved_minor,
                cvc_result: cvc_result(&charge["payment_method_details"]["card"]),
            }))
        }
        "requires_action" => Ok(declined(
            "authentication_required",
            None,
            "the card asks for authentication (3-D Secure), which an off-session charge cannot do",
        )),
        "processing" => Err(ProcessorError::Unavailable(format!(
            "stripe: payment {id} is still processing"
        ))),
        _ => {
            let e = &pi["last_payment_error"];
            let code = e["code"].as_str().unwrap_or("card_declined");
            Ok(declined(
                code,
                e["decline_code"].as_str(),
                e["message"].as_str().unwrap_or("the card was declined"),
            ))
        }
    }
}

/// Six characters standing in for an approval code where Stripe shows none.
fn short_code(id: &str) -> String {
    let tail: String = id
        .chars()
        .rev()
        .take(6)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    tail.to_ascii_uppercase()
}

impl StripeProcessor {
    pub(super) async fn authorize_payment(
        &self,
        req: AuthorizeRequest<'_>,
    ) -> Result<AuthorizeOutcome, ProcessorError> {
        if req.approval_code.is_some() {
            return Err(ProcessorError::Rejected(
                "stripe does not accept a force with an outside approval code".into(),
            ));
        }
        let token = match self.token(req.card.payment_method_id).await? {
            Some(t) => {
                // Only a retry can find what an earlier try left.
                if req.retry {
                    if let Some(pi) = self.find_payment(&t, &req).await? {
                        return outcome(&pi);
                    }
                }
                t
            }
            None => match self.make_token(&req.card).await {
                Ok(made) => made.token,
                Err(f) => return from_failure(f),
            },
        };
        let form: Form = vec![
            ("amount".into(), req.amount.minor().to_string()),
            ("currency".into(), currency(&req.amount)),
            ("customer".into(), token.customer.clone()),
            ("payment_method".into(), token.payment_method.clone()),
            ("payment_method_types[]".into(), "card".into()),
            ("confirm".into(), "true".into()),
            ("off_session".into(), "true".into()),
            (
                "capture_method".into(),
                if req.capture { "automatic" } else { "manual" }.into(),
            ),
            (
                "metadata[inflow_reference]".into(),
                req.reference.to_owned(),
            ),
            ("expand[]".into(), "latest_charge".into()),
        ];
        match self
            .client
            .post("/v1/payment_intents", &form, Some(req.reference))
            .await
        {
            Ok(pi) => outcome(&pi),
            Err(f) => from_failure(f),
        }
    }

    /// The PaymentIntent an earlier try of `req` made, if any: among the
    /// card's customer's latest 100 charges of that amount, the one whose
    /// PaymentIntent carries `req.reference`.
    async fn find_payment(
        &self,
        token: &Token,
        req: &AuthorizeRequest<'_>,
    ) -> Result<Option<Value>, ProcessorError> {
        let charges = self
            .client
            .get(
                "/v1/charges",
                &[("customer", token.customer.as_str()), ("limit", "100")],
            )
            .await
            .map_err(err)?;
        let empty = Vec::new();
        // Newest first at Stripe; the customer is this one card's.
        for ch in charges["data"].as_array().unwrap_or(&empty) {
            if ch["amount"].as_i64() != Some(req.amount.minor()) {
                continue;
            }
            let Some(pi_id) = ch["payment_intent"].as_str() else {
                continue;
            };
            let pi = self
                .client
                .get(
                    &format!("/v1/payment_intents/{pi_id}"),
                    &[("expand[]", "latest_charge")],
                )
                .await
                .map_err(err)?;
            if pi["metadata"]["inflow_reference"].as_str() == Some(req.reference) {
                return Ok(Some(pi));
            }
        }
        Ok(None)
    }

    /// Check the card without moving money: its customer and payment
    /// method are made (the number sent once, with the security code), and
    /// Stripe's security-code check is answered.
    pub(super) async fn verify_card(&self, card: CardData<'_>) -> Result<String, ProcessorError> {
        match self.make_token(&card).await {
            Ok(made) => Ok(made.cvc_result),
            Err(Failure::Card {
                code, decline_code, ..
            }) => Ok(
                if declines::inflow_code(&code, decline_code.as_deref()) == "incorrect_cvc" {
                    "fail"
                } else {
                    "unchecked"
                }
                .into(),
            ),
            Err(f) => Err(err(f)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_payment_intent_needing_capture_is_an_approval_of_the_capturable_amount() {
        let pi = json!({"id": "pi_1", "status": "requires_capture", "amount": 1000,
            "amount_capturable": 1000, "latest_charge": {"id": "ch_abc123", "authorization_code": "123456",
            "payment_method_details": {"card": {"checks": {"cvc_check": "pass"}}}}});
        assert_eq!(
            outcome(&pi).unwrap(),
            AuthorizeOutcome::Approved(Approval {
                approval_code: "123456".into(),
                processor_ref: "pi_1".into(),
                approved_minor: 1000,
                cvc_result: "pass".into(),
            })
        );
    }

    #[test]
    fn a_failed_payment_intent_is_a_decline_with_stripes_codes_kept() {
        let pi = json!({"id": "pi_2", "status": "requires_payment_method", "amount": 500,
            "last_payment_error": {"code": "card_declined", "decline_code": "insufficient_funds",
            "message": "Your card has insufficient funds."}});
        assert_eq!(
            outcome(&pi).unwrap(),
            AuthorizeOutcome::Declined {
                code: "insufficient_funds".into(),
                message:
                    "Your card has insufficient funds. [stripe: card_declined/insufficient_funds]"
                        .into()
            }
        );
    }
}
