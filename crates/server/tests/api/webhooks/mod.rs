//! Webhook delivery end to end, on both backends, with a real HTTP receiver:
//! signatures, retries, per-object order, sandbox-time outages, rotation,
//! a dispatcher killed mid-delivery, two dispatchers on one PostgreSQL, and
//! a batch's outcomes recorded together.

use crate::support;

mod api;
mod batch;
mod delivery;
mod resilience;

use inflow_server::config::Config;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;
use support::*;

/// A customer with a destination account and a saved bank account.
pub struct Customer {
    pub creds: Creds,
    pub account: String,
    pub pm: String,
}

/// Fast retries in real time (the business clock runs with it), a busy dispatcher.
pub fn fast(c: &mut Config) {
    c.webhooks.poll_interval_ms = 50;
    c.webhooks.retry_base_ms = 20;
    c.webhooks.retry_max_delay_secs = 1;
    c.webhooks.timeout_secs = 2;
    c.webhooks.claim_ttl_secs = 3;
}

pub async fn customer(app: &TestApp) -> Customer {
    let (_, creds) = app.customer_with_key("Acme", json!({})).await;
    let account = app
        .post(&creds, "/v1/accounts", json!({"name": "Main"}))
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .post(&creds, "/v1/payment-methods", bank_pm_body("000123456789"))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let pm = r.json()["id"].as_str().unwrap().to_owned();
    Customer { creds, account, pm }
}

/// Create an endpoint; returns (id, secret).
pub async fn endpoint(app: &TestApp, c: &Customer, url: &str, events: Value) -> (String, String) {
    let r = app
        .post(
            &c.creds,
            "/v1/webhook-endpoints",
            json!({"url": url, "enabledEvents": events, "description": "test receiver"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let v = r.json();
    (
        v["id"].as_str().unwrap().to_owned(),
        v["secret"].as_str().unwrap().to_owned(),
    )
}

/// A new ACH debit (its `collection.created` event is written with it).
pub async fn collection(app: &TestApp, c: &Customer) -> String {
    let r = app
        .post(
            &c.creds,
            "/v1/collections/ach",
            json!({
                "destinationAccountId": c.account, "paymentMethodId": c.pm, "allowDuplicate": true,
                "amount": {"currency": "USD", "value": "1500"},
                "authorization": {"type": "written", "obtainedAt": "2026-01-05T10:00:00Z"}
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json()["id"].as_str().unwrap().to_owned()
}

pub async fn cancel(app: &TestApp, c: &Customer, id: &str) {
    let r = app
        .post(&c.creds, &format!("/v1/collections/{id}/cancel"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

/// The endpoint's delivery log (first page of 200).
pub async fn deliveries(app: &TestApp, c: &Customer, endpoint: &str) -> Vec<Value> {
    let r = app
        .get(
            &c.creds,
            &format!("/v1/webhook-endpoints/{endpoint}/deliveries?limit=200"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json()["data"].as_array().unwrap().clone()
}

/// Every event of the customer, oldest first.
pub async fn all_events(app: &TestApp, c: &Customer) -> Vec<Value> {
    let r = app.get(&c.creds, "/v1/events?limit=200").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let mut v = r.json()["data"].as_array().unwrap().clone();
    v.reverse();
    v
}

/// Poll the delivery log until `done` holds (up to `secs`).
pub async fn wait_deliveries(
    app: &TestApp,
    c: &Customer,
    endpoint: &str,
    secs: u64,
    what: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let d = deliveries(app, c, endpoint).await;
        if done(&d) {
            return d;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up waiting for {what}: {d:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn all_succeeded(d: &[Value]) -> bool {
    !d.is_empty() && d.iter().all(|d| d["status"] == "succeeded")
}

pub async fn advance(app: &TestApp, body: Value) -> Value {
    let r = app.post(&admin(), "/v1/sandbox/clock/advance", body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json()
}

/// Per object, the acknowledged events arrive in the order they happened
/// (event ids are time-ordered), and each event is acknowledged once.
pub fn assert_once_and_in_order(acked: &[support::receiver::Received]) {
    let mut seen = std::collections::HashSet::new();
    for r in acked {
        assert!(
            seen.insert(r.event_id.clone()),
            "{} acknowledged twice",
            r.event_id
        );
    }
    let mut last: std::collections::HashMap<&str, &str> = Default::default();
    for r in acked {
        if let Some(prev) = last.insert(&r.object_id, &r.event_id) {
            assert!(
                prev < r.event_id.as_str(),
                "{}: {} arrived after {}",
                r.object_id,
                r.event_id,
                prev
            );
        }
    }
}
