//! What the schedule tests share: a customer with an account and bank
//! accounts, and a schedule request.

use chrono::NaiveDate;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

pub struct World {
    pub app: TestApp,
    pub creds: Creds,
    pub account: String,
}

impl World {
    pub async fn new(b: Backend) -> Self {
        let app = spawn_app(b).await;
        let (_, creds) = app.customer_with_key("Acme", json!({})).await;
        let r = app
            .post(&creds, "/v1/accounts", json!({"name": "Main"}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let account = r.json()["id"].as_str().unwrap().to_owned();
        World {
            app,
            creds,
            account,
        }
    }

    /// A saved individual checking account with this number.
    pub async fn pm(&self, account: &str) -> String {
        let r = self
            .app
            .post(&self.creds, "/v1/payment-methods", bank_pm_body(account))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.json()["id"].as_str().unwrap().to_owned()
    }

    /// Sandbox "today" (US/Eastern).
    pub async fn today(&self) -> NaiveDate {
        let r = self.app.get(&admin(), "/v1/sandbox/clock").await;
        let now = chrono::DateTime::parse_from_rfc3339(r.json()["now"].as_str().unwrap())
            .unwrap()
            .with_timezone(&chrono::Utc);
        inflow_core::calendar::local_date(now)
    }

    /// A schedule body debiting `pm` online (WEB, recurring), with `extra` fields.
    pub fn body(&self, pm: &str, amount: &str, extra: Value) -> Value {
        let mut b = json!({
            "paymentMethodId": pm,
            "destinationAccountId": self.account,
            "amount": {"currency": "USD", "value": amount},
            "authorization": {"type": "online", "obtainedAt": "2026-01-05T10:00:00Z", "ipAddress": "203.0.113.9"},
        });
        if let (Some(b), Some(e)) = (b.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        b
    }

    pub async fn create(&self, body: Value) -> Value {
        let r = self.app.post(&self.creds, "/v1/schedules", body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.json()
    }

    pub async fn schedule(&self, id: &str) -> Value {
        let r = self
            .app
            .get(&self.creds, &format!("/v1/schedules/{id}"))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.json()
    }

    pub async fn collection(&self, id: &str) -> Value {
        self.app
            .get(&self.creds, &format!("/v1/collections/{id}"))
            .await
            .json()
    }

    pub async fn advance_days(&self, days: u32) {
        let mut left = days;
        while left > 0 {
            let step = left.min(90);
            let r = self
                .app
                .post(
                    &admin(),
                    "/v1/sandbox/clock/advance",
                    json!({ "days": step }),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            left -= step;
        }
    }

    /// Event types recorded for an object, oldest first.
    pub async fn events(&self, id: &str) -> Vec<String> {
        let mut tx = self.app.db.store.read().await.unwrap();
        tx.events_for_object(id)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.event_type)
            .collect()
    }
}

pub fn date(v: &Value) -> NaiveDate {
    NaiveDate::parse_from_str(
        v.as_str().unwrap_or_else(|| panic!("not a date: {v}")),
        "%Y-%m-%d",
    )
    .unwrap()
}

/// The schedule's occurrences' collections: (occurrence, retry, collection summary).
pub fn collections(s: &Value) -> Vec<(u64, u64, Value)> {
    let mut out = Vec::new();
    for o in s["occurrenceList"].as_array().unwrap() {
        for c in o["collections"].as_array().unwrap() {
            out.push((
                o["occurrence"].as_u64().unwrap(),
                c["retry"].as_u64().unwrap(),
                c.clone(),
            ));
        }
    }
    out
}
