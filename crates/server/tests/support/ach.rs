//! Helpers for ACH tests over HTTP: payment methods, collections, the
//! sandbox clock.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::{admin, bank_pm_body, Creds, Reply, TestApp};

pub fn written_authorization() -> Value {
    json!({"type": "written", "obtainedAt": "2026-01-05T10:00:00Z"})
}

/// A destination account of `creds`'s customer.
pub async fn destination(app: &TestApp, creds: &Creds) -> String {
    let r = app
        .post(creds, "/v1/accounts", json!({"name": "Main"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json()["id"].as_str().unwrap().to_owned()
}

/// A saved individual checking account with `account` as its number.
pub async fn make_pm(app: &TestApp, creds: &Creds, account: &str) -> String {
    let r = app
        .post(creds, "/v1/payment-methods", bank_pm_body(account))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json()["id"].as_str().unwrap().to_owned()
}

/// POST /v1/collections/ach with `extra` merged over a written-authorised
/// debit of `amount` cents from `pm` into `dest`.
pub async fn try_collect(
    app: &TestApp,
    creds: &Creds,
    dest: &str,
    pm: &str,
    amount: &str,
    extra: Value,
) -> Reply {
    let mut body = json!({
        "destinationAccountId": dest, "paymentMethodId": pm,
        "amount": {"currency": "USD", "value": amount},
        "authorization": written_authorization(),
    });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            if v.is_null() {
                b.remove(k);
            } else {
                b.insert(k.clone(), v.clone());
            }
        }
    }
    app.post(creds, "/v1/collections/ach", body).await
}

/// [`try_collect`] that must succeed; returns the collection.
pub async fn collect(
    app: &TestApp,
    creds: &Creds,
    dest: &str,
    pm: &str,
    amount: &str,
    extra: Value,
) -> Value {
    let r = try_collect(app, creds, dest, pm, amount, extra).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json()
}

pub async fn collection(app: &TestApp, creds: &Creds, id: &str) -> Value {
    app.get(creds, &format!("/v1/collections/{id}"))
        .await
        .json()
}

pub async fn payment_method(app: &TestApp, creds: &Creds, id: &str) -> Value {
    app.get(creds, &format!("/v1/payment-methods/{id}"))
        .await
        .json()
}

pub async fn patch(app: &TestApp, creds: &Creds, path: &str, body: Value) -> Reply {
    app.call(creds, Method::PATCH, path, Some(body)).await
}

/// Inflow's (sandbox) time.
pub async fn sandbox_now(app: &TestApp) -> DateTime<Utc> {
    let now = app.get(&admin(), "/v1/sandbox/clock").await.json()["now"]
        .as_str()
        .unwrap()
        .to_owned();
    DateTime::parse_from_rfc3339(&now)
        .unwrap()
        .with_timezone(&Utc)
}

/// Move the sandbox clock forward by `minutes`, in advances of at most 90 days.
pub async fn advance_minutes(app: &TestApp, mut minutes: i64) {
    while minutes > 0 {
        let step = minutes.min(90 * 24 * 60);
        let r = app
            .post(
                &admin(),
                "/v1/sandbox/clock/advance",
                json!({"minutes": step}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        minutes -= step;
    }
}

pub async fn advance_days(app: &TestApp, days: i64) {
    advance_minutes(app, days * 24 * 60).await;
}

/// With `INFLOW_TEST_CLOCK_START=HH:MM` set, move a new sandbox app's clock
/// to the next `HH:MM` US/Eastern before the test starts. Tests must pass
/// whatever time of day they start at (the sandbox clock starts at the real
/// time); this runs one from a chosen time, to reproduce or rule out a
/// dependence on it. Nothing happens without the variable.
pub async fn start_clock_from_env(app: &TestApp) {
    let Ok(hhmm) = std::env::var("INFLOW_TEST_CLOCK_START") else {
        return;
    };
    if app.server.is_none() || app.state().sandbox_clock.is_none() {
        return;
    }
    let at = chrono::NaiveTime::parse_from_str(&hhmm, "%H:%M")
        .expect("INFLOW_TEST_CLOCK_START is HH:MM (US/Eastern)");
    let now = sandbox_now(app).await;
    let mut date = inflow_core::calendar::local_date(now);
    let target = loop {
        let t = inflow_core::calendar::EASTERN
            .from_local_datetime(&date.and_time(at))
            .earliest()
            .map(|t| t.with_timezone(&Utc));
        match t {
            Some(t) if t > now + chrono::Duration::minutes(1) => break t,
            _ => date = date.succ_opt().unwrap(),
        }
    };
    // Rounded up: the clock lands on HH:MM or within the next minute.
    let ms = (target - now).num_milliseconds();
    advance_minutes(app, (ms + 59_999) / 60_000).await;
}

/// Move the sandbox clock to `hour:minute` US/Eastern on `date` (which must
/// be ahead of Inflow's clock).
///
/// The server moves a long advance in steps of at most
/// [`SANDBOX_STEP_HOURS`] and runs the jobs due at the end of each, so
/// where those steps end changes what the jobs see (a failed upload is
/// retried at every step end after its backoff). Steps counted from the
/// clock's start would end at times of day that depend on when the test
/// runs (the sandbox clock starts at the real time). So the part of the
/// distance that is not a whole number of steps goes first: every later
/// step ends at the target minus whole steps, at the same times of day
/// whenever the test runs, and the last step ends at the target.
///
/// [`SANDBOX_STEP_HOURS`]: inflow_server::app::ach_jobs::SANDBOX_STEP_HOURS
pub async fn advance_to_eastern(app: &TestApp, date: NaiveDate, hour: u32, minute: u32) {
    let target = inflow_core::calendar::EASTERN
        .from_local_datetime(&date.and_hms_opt(hour, minute, 0).unwrap())
        .earliest()
        .unwrap()
        .with_timezone(&Utc);
    let now = sandbox_now(app).await;
    assert!(target > now, "{target} is not ahead of {now}");
    let minutes = (target - now).num_minutes();
    let step = inflow_server::app::ach_jobs::SANDBOX_STEP_HOURS * 60;
    advance_minutes(app, minutes % step).await;
    advance_minutes(app, minutes - minutes % step).await;
}
