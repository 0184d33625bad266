//! Helpers for card tests over HTTP: card bodies, saved cards, charges.

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{Creds, TestApp};

/// `POST /v1/payment-methods` body for a card expiring in 2040.
pub fn card_body(number: &str, cvc: Option<&str>) -> Value {
    let mut card = json!({"number": number, "expMonth": 12, "expYear": 2040, "holderName": "Jane Doe",
        "billingAddress": {"postalCode": "20001"}});
    if let Some(c) = cvc {
        card["cvc"] = json!(c);
    }
    json!({"type": "card", "card": card})
}

/// Save a card without a CVC; returns its `pm_…` id.
pub async fn save_card(app: &TestApp, creds: &Creds, number: &str) -> String {
    let r = app
        .post(creds, "/v1/payment-methods", card_body(number, None))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json()["id"].as_str().unwrap().to_owned()
}

/// `POST /v1/collections/card` body: `kind` of `cents` from `pm` into `account`.
pub fn charge(account: &str, pm: &str, kind: &str, cents: impl std::fmt::Display) -> Value {
    json!({"type": kind, "destinationAccountId": account, "paymentMethodId": pm,
        "amount": {"currency": "USD", "value": cents.to_string()}, "allowDuplicate": true})
}

/// The types of the events raised for object `id`, oldest first.
pub async fn events_for(app: &TestApp, id: &str) -> Vec<String> {
    let mut tx = app.db.store.read().await.unwrap();
    tx.events_for_object(id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .collect()
}

/// [`charge`] with `extra` merged in, which must be answered 201; returns the collection.
pub async fn create_card_collection(
    app: &TestApp,
    creds: &Creds,
    account: &str,
    pm: &str,
    kind: &str,
    cents: &str,
    extra: Value,
) -> Value {
    let mut body = charge(account, pm, kind, cents);
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let r = app.post(creds, "/v1/collections/card", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json()
}
