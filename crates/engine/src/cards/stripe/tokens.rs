//! Stripe's handle on a saved card: a Stripe customer holding one payment
//! method, made from the card number the first time the card is used (or
//! verified) and kept sealed in `card_processor_tokens`, so the number is
//! sent to Stripe once per card. The customer also bounds reconciliation:
//! its charges are the card's charges.

use chrono::Utc;
use inflow_store::StoreError;
use serde_json::Value;

use super::super::processor::{CardData, ProcessorError};
use super::client::{Failure, Form};
use super::StripeProcessor;

/// The processor name tokens are kept under.
pub const PROCESSOR: &str = "stripe";

/// A saved card at Stripe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub customer: String,
    pub payment_method: String,
}

impl Token {
    fn encode(&self) -> String {
        format!("{}/{}", self.customer, self.payment_method)
    }

    fn decode(s: &str) -> Option<Token> {
        let (c, p) = s.split_once('/')?;
        Some(Token {
            customer: c.to_owned(),
            payment_method: p.to_owned(),
        })
    }
}

/// A new token, with the card's security-code check as Stripe reported it.
pub struct Made {
    pub token: Token,
    pub cvc_result: String,
}

fn context(payment_method_id: &str) -> String {
    format!("{payment_method_id}:{PROCESSOR}")
}

fn store_err(e: StoreError) -> ProcessorError {
    ProcessorError::Unavailable(format!("card token storage: {e}"))
}

/// `pass` / `fail` / `unchecked` from a payment method's `card.checks`.
pub fn cvc_result(card: &Value) -> String {
    match card["checks"]["cvc_check"].as_str() {
        Some("pass") => "pass",
        Some("fail") => "fail",
        _ => "unchecked",
    }
    .into()
}

impl StripeProcessor {
    /// The token kept for the card, if one was made.
    pub(super) async fn token(
        &self,
        payment_method_id: &str,
    ) -> Result<Option<Token>, ProcessorError> {
        let sealed = {
            let mut tx = self.store.read().await.map_err(store_err)?;
            let sealed = tx
                .card_processor_token(payment_method_id, PROCESSOR)
                .await
                .map_err(store_err)?;
            tx.rollback().await.map_err(store_err)?;
            sealed
        };
        let Some(sealed) = sealed else {
            return Ok(None);
        };
        let opened = self
            .vault
            .open(&sealed, &context(payment_method_id))
            .map_err(|_| {
                ProcessorError::Rejected("the sealed Stripe card token cannot be opened".into())
            })?;
        Ok(String::from_utf8(opened)
            .ok()
            .and_then(|s| Token::decode(&s)))
    }

    /// Make the card's customer and payment method at Stripe and keep them
    /// (sealed). A decline at this point (Stripe checks the card when it is
    /// attached) is answered as `Err(Failure::Card)`.
    pub(super) async fn make_token(&self, card: &CardData<'_>) -> Result<Made, Failure> {
        let customer = self
            .client
            .post(
                "/v1/customers",
                &vec![(
                    "metadata[inflow_payment_method]".to_owned(),
                    card.payment_method_id.to_owned(),
                )],
                Some(&format!("{}:customer", card.payment_method_id)),
            )
            .await?;
        let customer = id_of(&customer)?;
        let mut form: Form = vec![
            ("type".into(), "card".into()),
            ("card[number]".into(), card.number.expose().to_owned()),
            ("card[exp_month]".into(), card.exp_month.to_string()),
            ("card[exp_year]".into(), card.exp_year.to_string()),
            (
                "billing_details[address][postal_code]".into(),
                card.postal_code.to_owned(),
            ),
            (
                "metadata[inflow_payment_method]".into(),
                card.payment_method_id.to_owned(),
            ),
        ];
        if let Some(cvc) = card.cvc {
            form.push(("card[cvc]".into(), cvc.expose().to_owned()));
        }
        // No idempotency key: making a payment method moves no money, and a
        // retry may carry a security code the first try did not.
        let pm = self.client.post("/v1/payment_methods", &form, None).await?;
        drop(form);
        let pm = id_of(&pm)?;
        let attached = self
            .client
            .post(
                &format!("/v1/payment_methods/{pm}/attach"),
                &vec![("customer".to_owned(), customer.clone())],
                Some(&format!("{}:attach:{pm}", card.payment_method_id)),
            )
            .await?;
        let token = Token {
            customer,
            payment_method: pm,
        };
        let sealed = self
            .vault
            .seal(token.encode().as_bytes(), &context(card.payment_method_id));
        let id = card.payment_method_id.to_owned();
        let kept = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    tx.put_card_processor_token(&id, PROCESSOR, &sealed, Utc::now())
                        .await
                })
            })
            .await
            .map_err(|e| Failure::NoAnswer(format!("card token storage: {e}")))?;
        let kept = self
            .vault
            .open(&kept, &context(card.payment_method_id))
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| Token::decode(&s))
            .unwrap_or(token);
        Ok(Made {
            token: kept,
            cvc_result: cvc_result(&attached["card"]),
        })
    }
}

/// The `id` of a Stripe object.
pub fn id_of(v: &Value) -> Result<String, Failure> {
    v["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| Failure::NoAnswer("an answer without an id".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_round_trips_through_its_sealed_form() {
        let t = Token {
            customer: "cus_1".into(),
            payment_method: "pm_2".into(),
        };
        assert_eq!(Token::decode(&t.encode()), Some(t));
        assert_eq!(Token::decode("garbage"), None);
    }
}
