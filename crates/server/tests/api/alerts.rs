//! Alerts as events, on both backends, delivered by webhook to an endpoint
//! the operator owns (created by an operator key naming no customer) and
//! received by a real HTTP receiver: a customer's return rate crossing a
//! NACHA threshold (returns driven by the sandbox bank), a job lease whose
//! holder stopped ticking, and a ledger that no longer balances (tampered
//! with directly in the database), an outbound file whose upload failed
//! for good (its ODFI's outbound folder cannot be created). Each alert
//! fires once, and fires again only after its condition ended.

use crate::support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::ach::*;
use support::receiver::Receiver;
use support::*;

on_both_backends!(
    a_return_rate_over_its_threshold_alerts_the_operator_once_until_it_falls_back,
    a_lease_whose_holder_stopped_ticking_alerts_job_stalled_once,
    an_unbalanced_ledger_alerts_ledger_check_failed_once,
    operator_endpoints_are_separate_from_customer_endpoints,
    a_file_whose_upload_failed_for_good_alerts_the_operators_endpoint,
);

/// A background dispatcher polling often.
fn dispatching(c: &mut inflow_server::config::Config) {
    c.webhooks.poll_interval_ms = 50;
    c.webhooks.retry_base_ms = 20;
    c.webhooks.retry_max_delay_secs = 1;
}

/// An operator endpoint receiving `events` at `rx`.
async fn operator_endpoint(app: &TestApp, rx: &Receiver, events: Value) -> String {
    let r = app
        .post(
            &admin(),
            "/v1/webhook-endpoints",
            json!({"url": rx.url, "enabledEvents": events, "description": "on-call"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let e = r.json();
    assert!(e["customerId"].is_null(), "{e:#}");
    e["id"].as_str().unwrap().to_owned()
}

/// Events of `event_type` (operator view), oldest first.
async fn events(app: &TestApp, event_type: &str) -> Vec<Value> {
    let r = app
        .get(&admin(), &format!("/v1/events?type={event_type}&limit=200"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let mut data = r.json()["data"].as_array().unwrap().clone();
    data.reverse();
    data
}

/// Advance a day at a time until `id` is `status` (at most `days`).
async fn until_status(app: &TestApp, creds: &Creds, id: &str, status: &str, days: usize) {
    for _ in 0..days {
        if collection(app, creds, id).await["status"] == status {
            return;
        }
        advance_days(app, 1).await;
    }
    assert_eq!(collection(app, creds, id).await["status"], status, "{id}");
}

async fn a_return_rate_over_its_threshold_alerts_the_operator_once_until_it_falls_back(b: Backend) {
    let app = spawn_app_with(b, dispatching).await;
    let rx = Receiver::start().await;
    operator_endpoint(&app, &rx, json!(["customer.return_rate_exceeded"])).await;
    let (customer, creds) = app.customer_with_key("Acme", json!({})).await;
    let dest = destination(&app, &creds).await;
    // R01 (insufficient funds): counts toward the overall rate only.
    let nsf = make_pm(&app, &creds, "9999000101").await;
    let good = make_pm(&app, &creds, "000123456789").await;

    let first = collect(
        &app,
        &creds,
        &dest,
        &nsf,
        "1000",
        json!({"allowDuplicate": true}),
    )
    .await;
    let first = first["id"].as_str().unwrap().to_owned();
    until_status(&app, &creds, &first, "returned", 10).await;
    // One return of one debit: 100% > 15%.
    rx.wait_for(30, "customer.return_rate_exceeded", |l| {
        l.iter().any(|r| r.acknowledged())
    })
    .await;
    let got = rx.log().remove(0);
    assert_eq!(got.event_type, "customer.return_rate_exceeded");
    let body = got.json();
    let alert = &body["data"]["object"];
    assert_eq!(alert["customerId"], customer.as_str(), "{body:#}");
    assert_eq!(alert["category"], "overall", "{body:#}");
    assert_eq!(alert["threshold"], 0.15, "{body:#}");
    assert_eq!(alert["returns"], 1, "{body:#}");
    assert_eq!(alert["debitEntries"], 1, "{body:#}");
    assert_eq!(alert["windowDays"], 60, "{body:#}");

    // More time passes, nothing changes: no second alert.
    advance_days(&app, 2).await;
    assert_eq!(events(&app, "customer.return_rate_exceeded").await.len(), 1);

    // Seven good debits: 1 in 8 = 12.5%, under 15% — the alert re-arms.
    let mut good_ids = Vec::new();
    for _ in 0..7 {
        let c = collect(
            &app,
            &creds,
            &dest,
            &good,
            "1000",
            json!({"allowDuplicate": true}),
        )
        .await;
        good_ids.push(c["id"].as_str().unwrap().to_owned());
    }
    for id in &good_ids {
        until_status(&app, &creds, id, "completed", 10).await;
    }
    assert_eq!(events(&app, "customer.return_rate_exceeded").await.len(), 1);
    // Two more returns: 3 in 10 = 30% — above again, a second alert.
    for _ in 0..2 {
        let c = collect(
            &app,
            &creds,
            &dest,
            &nsf,
            "1000",
            json!({"allowDuplicate": true}),
        )
        .await;
        until_status(&app, &creds, c["id"].as_str().unwrap(), "returned", 10).await;
    }
    let raised = events(&app, "customer.return_rate_exceeded").await;
    assert_eq!(raised.len(), 2, "{raised:#?}");
    assert_eq!(raised[1]["data"]["object"]["returns"], 2, "{:#}", raised[1]);
    rx.wait_for(30, "the second alert delivered", |l| {
        l.iter().filter(|r| r.acknowledged()).count() == 2
    })
    .await;
}

async fn a_lease_whose_holder_stopped_ticking_alerts_job_stalled_once(b: Backend) {
    let app = spawn_app_with(b, dispatching).await;
    let rx = Receiver::start().await;
    operator_endpoint(&app, &rx, json!(["job.*"])).await;
    // A holder on another host took a job's lease and never came back.
    let stale = "INSERT INTO job_leases (name, holder, expires_at) VALUES ('reports.nightly', 'other-host:4242:gone', 1)";
    let store = app.state().store.clone();
    let exec = |sql: &'static str| {
        let store = store.clone();
        async move {
            store
                .write(move |tx| Box::pin(async move { tx.execute_raw(sql).await }))
                .await
                .unwrap()
        }
    };
    exec(stale).await;
    advance_minutes(&app, 1).await;
    rx.wait_for(30, "job.stalled", |l| l.iter().any(|r| r.acknowledged()))
        .await;
    let body = rx.log().remove(0).json();
    assert_eq!(body["type"], "job.stalled");
    assert_eq!(body["data"]["object"]["job"], "reports.nightly", "{body:#}");
    assert_eq!(
        body["data"]["object"]["holder"], "other-host:4242:gone",
        "{body:#}"
    );
    // Still stalled later: no second alert.
    advance_minutes(&app, 1).await;
    assert_eq!(events(&app, "job.stalled").await.len(), 1);
    // The lease is given back (the job ticks again): re-armed; stalled again: a new alert.
    exec("DELETE FROM job_leases WHERE holder = 'other-host:4242:gone'").await;
    advance_minutes(&app, 1).await;
    exec(stale).await;
    advance_minutes(&app, 1).await;
    assert_eq!(events(&app, "job.stalled").await.len(), 2);
}

async fn ledger_check(app: &TestApp) -> Value {
    let r = app.post(&admin(), "/v1/ledger/check", json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json()
}

async fn an_unbalanced_ledger_alerts_ledger_check_failed_once(b: Backend) {
    let app = spawn_app_with(b, dispatching).await;
    let rx = Receiver::start().await;
    operator_endpoint(&app, &rx, json!(["ledger.check_failed"])).await;
    assert_eq!(ledger_check(&app).await["ok"], true);
    // A balance nothing posted: the check fails.
    let tamper =
        "INSERT INTO ledger_accounts (id, kind, account_id, currency, balance, created_at) \
                  VALUES ('tampered:fee_revenue:USD', 'fee_revenue', NULL, 'USD', 500, 0)";
    app.state()
        .store
        .write(move |tx| Box::pin(async move { tx.execute_raw(tamper).await }))
        .await
        .unwrap();
    let found = ledger_check(&app).await;
    assert_eq!(found["ok"], false, "{found:#}");
    assert_eq!(
        found["balanceMismatches"][0]["ledgerAccount"], "tampered:fee_revenue:USD",
        "{found:#}"
    );
    rx.wait_for(30, "ledger.check_failed", |l| {
        l.iter().any(|r| r.acknowledged())
    })
    .await;
    let body = rx.log().remove(0).json();
    assert_eq!(body["type"], "ledger.check_failed");
    assert_eq!(
        body["data"]["object"]["balanceMismatchCount"], 1,
        "{body:#}"
    );
    // Checked again, still failing: no second alert.
    assert_eq!(ledger_check(&app).await["ok"], false);
    assert_eq!(events(&app, "ledger.check_failed").await.len(), 1);
    // A customer key may not run the check.
    let (_, creds) = app.customer_with_key("Acme", json!({})).await;
    let r = app.post(&creds, "/v1/ledger/check", json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
}

async fn operator_endpoints_are_separate_from_customer_endpoints(b: Backend) {
    let app = spawn_app(b).await;
    let rx = Receiver::start().await;
    let op = operator_endpoint(&app, &rx, json!(["*"])).await;
    let (customer, creds) = app.customer_with_key("Acme", json!({})).await;
    // The customer does not see the operator's endpoint, nor does the
    // operator acting for the customer.
    let r = app
        .get(&creds, &format!("/v1/webhook-endpoints/{op}"))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let acting = Creds {
        acting_for: Some(customer),
        ..admin()
    };
    let listed = app.get(&acting, "/v1/webhook-endpoints").await.json();
    assert_eq!(listed["data"].as_array().unwrap().len(), 0, "{listed:#}");
    let listed = app.get(&admin(), "/v1/webhook-endpoints").await.json();
    assert_eq!(listed["data"][0]["id"], op.as_str(), "{listed:#}");
    // Operator events (an API key issued) are queued for the operator's endpoint.
    let r = app
        .get(&admin(), &format!("/v1/webhook-endpoints/{op}/deliveries"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let deliveries = r.json();
    assert!(
        deliveries["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["eventType"] == "api_key.created"),
        "{deliveries:#}"
    );
}

async fn a_file_whose_upload_failed_for_good_alerts_the_operators_endpoint(b: Backend) {
    let dir = std::env::temp_dir().join(format!("inflow-alerts-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    // The outbound "folder" is under a file: every upload fails.
    std::fs::write(dir.join("blocker"), b"x").unwrap();
    let odfi = inflow_server::odfi::OdfiSettings {
        transport: Some(inflow_server::odfi::TransportSettings::Local {
            outbound_dir: dir.join("blocker").join("to-bank"),
            inbound_dir: dir.join("from-bank"),
        }),
        // Retried once, a second later, then given up.
        retry: inflow_server::odfi::RetrySettings {
            max_attempts: 2,
            initial_backoff_secs: 1,
            max_backoff_secs: 1,
        },
        ..local_odfi(&dir)
    };
    let odfi_id = odfi.id.clone();
    let app = spawn_app_with(b, |c| {
        dispatching(c);
        c.odfi = vec![odfi];
    })
    .await;
    let rx = Receiver::start().await;
    operator_endpoint(&app, &rx, json!(["ach_file.upload_failed"])).await;
    let (_, creds) = app.customer_with_key("Acme", json!({})).await;
    let dest = destination(&app, &creds).await;
    let pm = make_pm(&app, &creds, "000123456789").await;
    collect(&app, &creds, &dest, &pm, "1000", json!({})).await;
    let today = inflow_core::calendar::local_date(sandbox_now(&app).await);
    let day = app.state().ach.calendar.next_banking_day(today);
    // Filed at the 20:00 cutoff, tried then and by the pass at 20:30.
    advance_to_eastern(&app, day, 20, 30).await;
    let files = app
        .get(&admin(), "/v1/ach/files?direction=outbound&limit=10")
        .await
        .json();
    let file = &files["data"][0];
    let file_id = file["id"].as_str().unwrap();
    assert_eq!(file["delivery"]["status"], "upload_failed", "{file:#}");

    rx.wait_for(30, "ach_file.upload_failed", |l| {
        l.iter().any(|r| r.acknowledged())
    })
    .await;
    let got = rx.log();
    assert_eq!(got.len(), 1, "one alert");
    assert_eq!(got[0].event_type, "ach_file.upload_failed");
    let body = got[0].json();
    assert_eq!(body["type"], "ach_file.upload_failed", "{body:#}");
    assert!(body["customerId"].is_null(), "an operator event: {body:#}");
    let alert = &body["data"]["alert"];
    assert_eq!(alert["fileId"], file_id, "{body:#}");
    assert_eq!(alert["odfiId"], odfi_id.as_str(), "{body:#}");
    assert_eq!(alert["attempts"], file["delivery"]["attempts"], "{body:#}");
    assert!(alert["attempts"].as_i64().unwrap() >= 1, "{body:#}");
    let last_error = alert["lastError"].as_str().unwrap_or_default();
    assert!(!last_error.is_empty(), "{body:#}");
    assert_eq!(
        Some(last_error),
        file["delivery"]["lastError"].as_str(),
        "{body:#}"
    );
    assert_eq!(events(&app, "ach_file.upload_failed").await.len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}
