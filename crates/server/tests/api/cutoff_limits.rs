//! One customer must not be able to stop filing for everyone (issue #13),
//! over HTTP on SQLite and PostgreSQL:
//!
//! - 101 debits of $99,999,999.99 overflow one batch and one file control
//!   total; the manual cutoff and the scheduler split them into batches and
//!   files and file everyone's debits (they used to fail every cutoff with
//!   500s);
//! - an entry that cannot be filed (a row corrupted in the database, since
//!   the API refuses to create one) fails alone while the clock passes a
//!   cutoff;
//! - per-entry, daily and monthly debit limits on the customer (operator
//!   defaults from the configuration) refuse a debit at creation with
//!   `409 limit_exceeded`, and concurrent debits cannot pass a limit together.

use crate::support;

use chrono::{Datelike, Duration, NaiveDate};
use inflow_core::calendar::{local_date, BankingCalendar};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::ach::*;
use support::*;

on_both_backends!(
    huge_debits_of_one_customer_do_not_stop_a_manual_cutoff,
    huge_debits_of_one_customer_do_not_stop_the_scheduler,
    unfileable_entries_fail_alone_when_the_clock_passes_a_cutoff,
    a_debit_over_the_per_entry_maximum_is_refused,
    daily_and_monthly_maximums_count_the_debits_created_in_the_period,
    operator_defaults_apply_until_the_customer_has_its_own_limits,
    limits_are_shown_on_the_customer_and_bad_ones_refused,
    a_schedule_occurrence_over_a_limit_pauses_the_schedule,
    concurrent_debits_cannot_pass_the_daily_maximum_together,
);

const MAX: &str = "9999999999";

/// A customer with a key, a destination account and a saved bank account.
struct Payer {
    creds: Creds,
    id: String,
    dest: String,
    pm: String,
}

async fn payer(app: &TestApp, name: &str, extra: Value) -> Payer {
    let (id, creds) = app.customer_with_key(name, extra).await;
    let dest = destination(app, &creds).await;
    let pm = make_pm(app, &creds, "000123456789").await;
    Payer {
        creds,
        id,
        dest,
        pm,
    }
}

impl Payer {
    async fn try_debit(&self, app: &TestApp, amount: &str) -> Reply {
        try_collect(
            app,
            &self.creds,
            &self.dest,
            &self.pm,
            amount,
            json!({"allowDuplicate": true}),
        )
        .await
    }

    async fn debit(&self, app: &TestApp, amount: &str) -> String {
        let r = self.try_debit(app, amount).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.json()["id"].as_str().unwrap().to_owned()
    }

    async fn status(&self, app: &TestApp, id: &str) -> Value {
        collection(app, &self.creds, id).await
    }
}

/// Move the sandbox clock to 09:00 US/Eastern of the next banking day;
/// returns that day.
async fn next_banking_morning(app: &TestApp) -> NaiveDate {
    let today = local_date(sandbox_now(app).await);
    let day = BankingCalendar::federal_reserve().next_banking_day(today);
    advance_to_eastern(app, day, 9, 0).await;
    day
}

/// `limit_exceeded` naming `limit`, and nothing created.
fn assert_limit(r: &Reply, limit: &str) {
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.error_code(), "limit_exceeded", "{}", r.text);
    assert_eq!(r.error_param().as_deref(), Some("amount.value"));
    let message = r.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.contains(limit), "{message}");
}

async fn collection_count(app: &TestApp, p: &Payer) -> usize {
    let r = app.get(&p.creds, "/v1/collections?limit=200").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json()["data"].as_array().unwrap().len()
}

/// 101 × $99,999,999.99 from one customer, and two ordinary debits from
/// another. The first of each (one in each file) debits the sandbox bank's
/// magic account for an R01 return.
async fn huge_and_ordinary(app: &TestApp) -> (Payer, Vec<String>, Payer, Vec<String>) {
    let allow = json!({"allowDuplicate": true});
    let big = payer(app, "Big Spender", json!({})).await;
    let returned = make_pm(app, &big.creds, "9999000101").await;
    let first = collect(app, &big.creds, &big.dest, &returned, MAX, allow.clone()).await;
    let mut huge = vec![first["id"].as_str().unwrap().to_owned()];
    for _ in 1..101 {
        huge.push(big.debit(app, MAX).await);
    }
    let other = payer(app, "Ordinary Co", json!({"achCompanyName": "ORDINARY"})).await;
    let returned = make_pm(app, &other.creds, "9999000101").await;
    let first = collect(app, &other.creds, &other.dest, &returned, "2500", allow).await;
    let ordinary = vec![
        first["id"].as_str().unwrap().to_owned(),
        other.debit(app, "7500").await,
    ];
    (big, huge, other, ordinary)
}

async fn assert_submitted(app: &TestApp, p: &Payer, ids: &[String]) {
    for id in ids {
        let c = p.status(app, id).await;
        assert_eq!(c["status"], "submitted", "{c}");
    }
}

// ------------------------------------------------------------------ tests

async fn huge_debits_of_one_customer_do_not_stop_a_manual_cutoff(b: Backend) {
    let app = spawn_app(b).await;
    let day = next_banking_morning(&app).await;
    let (big, huge, other, ordinary) = huge_and_ordinary(&app).await;

    let r = app.post(&admin(), "/v1/ach/cutoffs", json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let cutoff = r.json();
    let files = cutoff["files"].as_array().unwrap();
    assert_eq!(files.len(), 2, "{cutoff}");
    assert_eq!(cutoff["failed"], json!([]));
    let entries: i64 = files
        .iter()
        .map(|f| f["entryCount"].as_i64().unwrap())
        .sum();
    assert_eq!(entries, 103);
    for f in files {
        assert_eq!(f["status"], "written");
        let id = f["id"].as_str().unwrap();
        let content = app
            .get(&admin(), &format!("/v1/ach/files/{id}/content"))
            .await;
        assert_eq!(content.status, StatusCode::OK);
        let parsed = nacha::read(content.text.as_bytes()).unwrap();
        assert!(parsed
            .validate(&nacha::ValidateOptions::strict())
            .is_empty());
    }
    assert_submitted(&app, &big, &huge).await;
    assert_submitted(&app, &other, &ordinary).await;

    // The settlement report still ties out to the day's files.
    let report = app
        .get(&admin(), &format!("/v1/reports/settlement?date={day}"))
        .await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.text);
    let report = report.json();
    assert_eq!(report["ach"]["nachaFiles"].as_array().unwrap().len(), 2);
    assert_eq!(
        report["tiesOut"]["submittedMatchesNachaFiles"], true,
        "{report}"
    );

    // Later days keep working, and the sandbox bank answers each file.
    advance_days(&app, 7).await;
    assert_eq!(big.status(&app, &huge[0]).await["status"], "returned");
    assert_eq!(big.status(&app, &huge[100]).await["status"], "completed");
    assert_eq!(other.status(&app, &ordinary[0]).await["status"], "returned");
    assert_eq!(
        other.status(&app, &ordinary[1]).await["status"],
        "completed"
    );
}

async fn huge_debits_of_one_customer_do_not_stop_the_scheduler(b: Backend) {
    let app = spawn_app(b).await;
    let day = next_banking_morning(&app).await;
    let (big, huge, other, ordinary) = huge_and_ordinary(&app).await;
    // Past the day's standard cutoff (20:00 US/Eastern): the tick files them.
    advance_to_eastern(&app, day, 20, 30).await;
    assert_submitted(&app, &big, &huge).await;
    assert_submitted(&app, &other, &ordinary).await;
    let files = app.get(&admin(), "/v1/ach/files?direction=outbound").await;
    assert_eq!(files.json()["data"].as_array().unwrap().len(), 2);
}

async fn unfileable_entries_fail_alone_when_the_clock_passes_a_cutoff(b: Backend) {
    let app = spawn_app(b).await;
    let day = next_banking_morning(&app).await;
    let p = payer(&app, "Acme", json!({})).await;
    let ordinary = vec![p.debit(&app, "1000").await, p.debit(&app, "2000").await];
    let zero = p.debit(&app, "3000").await;
    let unreadable = p.debit(&app, "4000").await;
    // What the API refuses to create, written into the rows directly: a
    // live debit of 0 (the NACHA builder refuses it) and an amount beyond
    // the 10-digit entry field (the row cannot even be read back).
    for sql in [
        format!("UPDATE collections SET amount = 0 WHERE id = '{zero}'"),
        format!("UPDATE collections SET amount = 10000000000 WHERE id = '{unreadable}'"),
    ] {
        let sql: &'static str = Box::leak(sql.into_boxed_str());
        app.db
            .store
            .write(move |tx| Box::pin(async move { tx.execute_raw(sql).await }))
            .await
            .unwrap();
    }
    advance_to_eastern(&app, day, 20, 30).await;
    assert_submitted(&app, &p, &ordinary).await;
    let z = p.status(&app, &zero).await;
    assert_eq!(z["status"], "failed", "{z}");
    assert!(
        z["statusReason"]
            .as_str()
            .unwrap()
            .contains("non-zero amount"),
        "{z}"
    );
    for id in [&zero, &unreadable] {
        let mut tx = app.db.store.read().await.unwrap();
        let events: Vec<String> = tx
            .events_for_object(id)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.event_type)
            .collect();
        tx.rollback().await.unwrap();
        assert_eq!(events, ["collection.created", "collection.failed"], "{id}");
    }
    // Nothing is stuck: the next day's cutoff runs too.
    let later = p.debit(&app, "5000").await;
    advance_days(&app, 3).await;
    assert_ne!(p.status(&app, &later).await["status"], "pending");
}

async fn a_debit_over_the_per_entry_maximum_is_refused(b: Backend) {
    let app = spawn_app(b).await;
    let p = payer(
        &app,
        "Agency",
        json!({"achLimits": {"perEntryMax": {"currency": "USD", "value": "50000"}}}),
    )
    .await;
    let r = p.try_debit(&app, "50001").await;
    assert_limit(&r, "perEntryMax");
    assert!(r.text.contains("500.00 USD"), "{}", r.text);
    assert_eq!(collection_count(&app, &p).await, 0, "nothing was created");
    p.debit(&app, "50000").await;
    // A prenote carries no amount and is never limited.
    let r = try_collect(
        &app,
        &p.creds,
        &p.dest,
        &p.pm,
        "0",
        json!({"type": "prenote"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

async fn daily_and_monthly_maximums_count_the_debits_created_in_the_period(b: Backend) {
    let app = spawn_app(b).await;
    // Start on the 1st of next month, so the month has room for two days.
    let now = sandbox_now(&app).await;
    let today = local_date(now);
    let first = (today + Duration::days(32)).with_day(1).unwrap();
    advance_to_eastern(&app, first, 9, 0).await;
    let p = payer(
        &app,
        "Agency",
        json!({"achLimits": {
            "dailyDebitMax": {"currency": "USD", "value": "100000"},
            "monthlyDebitMax": {"currency": "USD", "value": "250000"}}}),
    )
    .await;
    p.debit(&app, "60000").await;
    let cancelled = p.debit(&app, "40000").await;
    assert_limit(&p.try_debit(&app, "1").await, "dailyDebitMax");
    // Cancelled (and failed) debits do not count.
    let r = app
        .post(
            &p.creds,
            &format!("/v1/collections/{cancelled}/cancel"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    p.debit(&app, "40000").await;
    let r = p.try_debit(&app, "1").await;
    assert_limit(&r, "dailyDebitMax");
    assert!(
        r.text.contains("1000.00 USD") && r.text.contains("1000.01 USD"),
        "{}",
        r.text
    );

    // The next day (US/Eastern) starts a new daily total; the month goes on.
    advance_to_eastern(&app, first + Duration::days(1), 0, 1).await;
    p.debit(&app, "100000").await;
    advance_to_eastern(&app, first + Duration::days(2), 0, 1).await;
    let r = p.try_debit(&app, "50001").await;
    assert_limit(&r, "monthlyDebitMax");
    assert!(r.text.contains("2500.00 USD"), "{}", r.text);
    p.debit(&app, "50000").await;

    // A new month starts a new monthly total.
    let next_month = (first + Duration::days(32)).with_day(1).unwrap();
    advance_to_eastern(&app, next_month, 0, 1).await;
    p.debit(&app, "100000").await;
}

async fn operator_defaults_apply_until_the_customer_has_its_own_limits(b: Backend) {
    let app = spawn_app_with(b, |c| {
        c.ach.default_daily_debit_max = Some(5_000);
        c.ach.default_per_entry_max = Some(4_000);
    })
    .await;
    let p = payer(&app, "Agency", json!({})).await;
    assert_limit(&p.try_debit(&app, "4001").await, "perEntryMax");
    p.debit(&app, "4000").await;
    assert_limit(&p.try_debit(&app, "1001").await, "dailyDebitMax");

    let path = format!("/v1/customers/{}", p.id);
    let r = patch(
        &app,
        &admin(),
        &path,
        json!({"achLimits": {"dailyDebitMax": {"currency": "USD", "value": "10000"}}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["achLimits"]["dailyDebitMax"]["value"], "10000");
    assert_eq!(r.json()["achLimits"]["perEntryMax"], Value::Null);
    p.debit(&app, "4000").await;

    // `null` returns to the operator's default: 8000 today is over 5000.
    let r = patch(
        &app,
        &admin(),
        &path,
        json!({"achLimits": {"dailyDebitMax": null}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["achLimits"]["dailyDebitMax"], Value::Null);
    assert_limit(&p.try_debit(&app, "1").await, "dailyDebitMax");
}

async fn limits_are_shown_on_the_customer_and_bad_ones_refused(b: Backend) {
    let app = spawn_app(b).await;
    let r = app
        .post(
            &admin(),
            "/v1/customers",
            json!({"name": "Agency", "kind": "business", "achLimits": {
                "perEntryMax": {"currency": "USD", "value": "9999999999"},
                "monthlyDebitMax": {"currency": "USD", "value": "500000000000000"}}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let c = r.json();
    assert_eq!(c["achLimits"]["perEntryMax"]["displayValue"], "99999999.99");
    assert_eq!(c["achLimits"]["dailyDebitMax"], Value::Null);
    assert_eq!(
        c["achLimits"]["monthlyDebitMax"]["value"],
        "500000000000000"
    );
    let id = c["id"].as_str().unwrap();
    let got = app.get(&admin(), &format!("/v1/customers/{id}")).await;
    assert_eq!(got.json()["achLimits"], c["achLimits"]);

    let path = format!("/v1/customers/{id}");
    let cases = [
        (
            json!({"perEntryMax": {"currency": "USD", "value": "10000000000"}}),
            "achLimits.perEntryMax.value",
        ),
        (
            json!({"dailyDebitMax": {"currency": "USD", "value": "-5"}}),
            "achLimits.dailyDebitMax.value",
        ),
        (
            json!({"dailyDebitMax": {"currency": "EUR", "value": "5"}}),
            "achLimits.dailyDebitMax.currency",
        ),
        (
            json!({"monthlyDebitMax": {"currency": "USD", "value": "1000000000000000"}}),
            "achLimits.monthlyDebitMax.value",
        ),
    ];
    for (limits, param) in cases {
        let r = patch(&app, &admin(), &path, json!({ "achLimits": limits })).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        assert_eq!(r.error_param().as_deref(), Some(param), "{}", r.text);
    }
    let r = patch(
        &app,
        &admin(),
        &path,
        json!({"achLimits": {"weeklyDebitMax": null}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    let after = app.get(&admin(), &path).await.json();
    assert_eq!(after["achLimits"], c["achLimits"], "nothing changed");

    // Only operators set limits.
    let (_, creds) = app.customer_with_key("Other", json!({})).await;
    let r = app
        .call(
            &creds,
            Method::PATCH,
            &path,
            Some(json!({"achLimits": {"perEntryMax": null}})),
        )
        .await;
    assert!(
        r.status == StatusCode::FORBIDDEN || r.status == StatusCode::NOT_FOUND,
        "{}",
        r.text
    );
}

async fn a_schedule_occurrence_over_a_limit_pauses_the_schedule(b: Backend) {
    let app = spawn_app(b).await;
    next_banking_morning(&app).await;
    let p = payer(
        &app,
        "Agency",
        json!({"achLimits": {
            "perEntryMax": {"currency": "USD", "value": "5000"},
            "dailyDebitMax": {"currency": "USD", "value": "6000"}}}),
    )
    .await;
    let today = local_date(sandbox_now(&app).await);
    let body = |amount: &str| {
        json!({
            "paymentMethodId": p.pm, "destinationAccountId": p.dest,
            "amount": {"currency": "USD", "value": amount},
            "authorization": {"type": "online", "obtainedAt": "2026-01-05T10:00:00Z", "ipAddress": "203.0.113.9"},
            "frequency": "monthly", "startDate": (today + Duration::days(5)).to_string(), "occurrences": 3,
        })
    };
    // Over the per-entry maximum: no schedule at all.
    let r = app.post(&p.creds, "/v1/schedules", body("5001")).await;
    assert_limit(&r, "perEntryMax");
    // Within it, but today's debits leave no room for the first occurrence.
    p.debit(&app, "2000").await;
    let r = app.post(&p.creds, "/v1/schedules", body("5000")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.json()["id"].as_str().unwrap().to_owned();
    advance_minutes(&app, 10).await;
    let s = app
        .get(&p.creds, &format!("/v1/schedules/{id}"))
        .await
        .json();
    assert_eq!(s["status"], "paused", "{s}");
    assert!(
        s["statusReason"]
            .as_str()
            .unwrap_or_default()
            .contains("dailyDebitMax"),
        "{s}"
    );
}

async fn concurrent_debits_cannot_pass_the_daily_maximum_together(b: Backend) {
    let app = spawn_app(b).await;
    let p = payer(
        &app,
        "Agency",
        json!({"achLimits": {"dailyDebitMax": {"currency": "USD", "value": "100000"}}}),
    )
    .await;
    // Twelve debits of 300.00 at once: only three fit under 1000.00.
    let mut tasks = Vec::new();
    for i in 0..12 {
        let (base, creds, dest, pm) = (
            app.base.clone(),
            p.creds.clone(),
            p.dest.clone(),
            p.pm.clone(),
        );
        let client = app.client.clone();
        tasks.push(tokio::spawn(async move {
            let body = json!({
                "destinationAccountId": dest, "paymentMethodId": pm,
                "amount": {"currency": "USD", "value": "30000"},
                "authorization": written_authorization(), "allowDuplicate": true,
                "reference": format!("race-{i}"),
            })
            .to_string();
            let path = "/v1/collections/ach";
            let ts = now_ts();
            let sig = inflow_core::crypto::sign_request(
                &creds.secret,
                &ts,
                "POST",
                path,
                body.as_bytes(),
            );
            let r = client
                .post(format!("{base}{path}"))
                .header("authorization", format!("Bearer {}", creds.key))
                .header("x-timestamp", ts)
                .header("x-signature", sig)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            (r.status(), r.text().await.unwrap())
        }));
    }
    let mut created = 0;
    for t in tasks {
        let (status, text) = t.await.unwrap();
        match status {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => assert!(text.contains("limit_exceeded"), "{text}"),
            other => panic!("{other}: {text}"),
        }
    }
    assert_eq!(created, 3, "exactly the debits that fit");
    assert_eq!(collection_count(&app, &p).await, 3);
}
