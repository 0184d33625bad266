//! Stripe's HTTP API as the connector uses it: form-encoded requests with
//! the secret key as bearer token, an `Idempotency-Key` on every request
//! that moves money, a timeout, and every failure sorted into what it
//! means for Inflow: no answer (retry later), a card decline, or a refusal.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use super::super::processor::ProcessorError;

/// The API version the connector reads: object shapes stay as documented.
pub const STRIPE_VERSION: &str = "2024-06-20";

/// Why Stripe gave no usable answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Timeout, connection lost, 5xx, 429, or a keyed request still in
    /// flight (409): what happened is unknown; a retry resolves it.
    NoAnswer(String),
    /// 402: the card was declined (`code`, and Stripe's `decline_code`).
    Card {
        code: String,
        decline_code: Option<String>,
        message: String,
    },
    /// Any other 4xx: Stripe refused the request.
    Refused {
        status: u16,
        code: Option<String>,
        message: String,
    },
}

impl From<Failure> for ProcessorError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::NoAnswer(m) => ProcessorError::Unavailable(format!("stripe: {m}")),
            Failure::Card { code, message, .. } => {
                ProcessorError::Rejected(format!("stripe: {message} ({code})"))
            }
            Failure::Refused {
                status,
                code,
                message,
            } => ProcessorError::Rejected(format!(
                "stripe: {message} (HTTP {status}{})",
                code.map(|c| format!(", {c}")).unwrap_or_default()
            )),
        }
    }
}

/// A Stripe API client (one account: one secret key).
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    secret_key: String,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("stripe::Client")
            .field("base", &self.base)
            .field("secret_key", &"<redacted>")
            .finish()
    }
}

/// Form fields, in order (`card[number]`, `expand[]`, …).
pub type Form = Vec<(String, String)>;

impl Client {
    pub fn new(base: &str, secret_key: &str, timeout: Duration) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .build()
            .map_err(|e| format!("building the Stripe HTTP client: {e}"))?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            secret_key: secret_key.to_owned(),
        })
    }

    /// `POST {path}` with `form`, keyed by `idempotency_key` when given.
    pub async fn post(
        &self,
        path: &str,
        form: &Form,
        idempotency_key: Option<&str>,
    ) -> Result<Value, Failure> {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.secret_key)
            .header("Stripe-Version", STRIPE_VERSION)
            .form(form);
        if let Some(k) = idempotency_key {
            req = req.header("Idempotency-Key", k);
        }
        answer(req.send().await).await
    }

    /// `GET {path}?{query}`.
    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Value, Failure> {
        let req = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.secret_key)
            .header("Stripe-Version", STRIPE_VERSION)
            .query(query);
        answer(req.send().await).await
    }
}

async fn answer(sent: reqwest::Result<reqwest::Response>) -> Result<Value, Failure> {
    // A transport error never carries the request's body or headers.
    let resp = sent.map_err(|e| Failure::NoAnswer(transport(&e)))?;
    let status = resp.status();
    let body = resp
        .bytes()
        .await
        .map_err(|e| Failure::NoAnswer(transport(&e)))?;
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if status.is_success() {
        return if json.is_object() {
            Ok(json)
        } else {
            Err(Failure::NoAnswer(format!(
                "HTTP {status} without a JSON object"
            )))
        };
    }
    Err(classify(status, &json))
}

fn transport(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "no answer within the timeout".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else {
        "the connection was lost before the answer".into()
    }
}

/// What an error answer means.
pub fn classify(status: StatusCode, body: &Value) -> Failure {
    let err = &body["error"];
    let text = |k: &str| err[k].as_str().map(str::to_owned);
    let message = text("message").unwrap_or_else(|| format!("HTTP {status}"));
    if status.is_server_error()
        || status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::CONFLICT
    {
        return Failure::NoAnswer(format!("HTTP {status}: {message}"));
    }
    if status == StatusCode::PAYMENT_REQUIRED || err["type"].as_str() == Some("card_error") {
        return Failure::Card {
            code: text("code").unwrap_or_else(|| "card_declined".into()),
            decline_code: text("decline_code"),
            message,
        };
    }
    Failure::Refused {
        status: status.as_u16(),
        code: text("code"),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn errors_are_sorted_into_no_answer_declines_and_refusals() {
        let decline = json!({"error": {"type": "card_error", "code": "card_declined",
            "decline_code": "insufficient_funds", "message": "Your card has insufficient funds."}});
        assert_eq!(
            classify(StatusCode::PAYMENT_REQUIRED, &decline),
            Failure::Card {
                code: "card_declined".into(),
                decline_code: Some("insufficient_funds".into()),
                message: "Your card has insufficient funds.".into()
            }
        );
        for s in [500, 502, 503, 429, 409] {
            let status = StatusCode::from_u16(s).unwrap();
            assert!(
                matches!(classify(status, &json!({})), Failure::NoAnswer(_)),
                "{s}"
            );
        }
        let bad = json!({"error": {"type": "invalid_request_error", "code": "payment_intent_unexpected_state", "message": "no"}});
        assert!(matches!(
            classify(StatusCode::BAD_REQUEST, &bad),
            Failure::Refused { status: 400, code: Some(c), .. } if c == "payment_intent_unexpected_state"
        ));
    }
}
