//! `GET /metrics` after a scenario — debits created, one replayed, a
//! request with a bad signature, a manual cutoff, the bank's return file,
//! webhook deliveries — moved every counter by exactly what happened, and
//! an alert raised once (a ledger that no longer balances) is counted once.
//! Real HTTP, on SQLite and PostgreSQL.
//!
//! The Prometheus recorder is process-wide, so the tests here take turns
//! (a lock) and compare a scrape after the scenario with one before it.

mod support;

use std::collections::BTreeMap;

use inflow_core::calendar::{local_date, BankingCalendar};

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::ach::*;
use support::receiver::Receiver;
use support::*;

on_both_backends!(
    metrics_count_exactly_what_a_scenario_did,
    metrics_on_the_api_port_need_an_operator_key_in_production,
    a_separate_admin_listener_serves_metrics_and_the_api_port_does_not,
    an_alert_raised_once_is_counted_once_by_type,
);

/// The Grafana dashboard and the alert rules in deploy/ name only metrics
/// Inflow exports (a renamed metric would silently empty a panel or an alert).
#[test]
fn the_deploy_dashboard_and_alert_rules_use_only_exported_metrics() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy");
    for file in ["grafana-dashboard.json", "prometheus-rules.yml"] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        let mut used = 0;
        for (at, _) in text.match_indices("inflow_") {
            let name: String = text[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if name == "inflow_" || text[..at].ends_with(|c: char| c.is_ascii_alphanumeric()) {
                continue;
            }
            let base = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| name.strip_suffix(s))
                .filter(|b| inflow_engine::metrics::ALL.contains(b))
                .unwrap_or(&name);
            assert!(
                inflow_engine::metrics::ALL.contains(&base),
                "{file} uses {name}, which Inflow does not export"
            );
            used += 1;
        }
        assert!(used > 10, "{file} uses {used} metrics");
    }
}

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// One scrape: every sample, keyed by `name{labels}` as exposed.
struct Scrape(BTreeMap<String, f64>);

impl Scrape {
    async fn take(app: &TestApp) -> Scrape {
        let r = app
            .client
            .get(format!("{}/metrics", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let content_type = r.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(content_type.starts_with("text/plain"), "{content_type}");
        Scrape(parse(&r.text().await.unwrap()))
    }

    /// The sum of the samples of `name` whose labels include `labels`.
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.0
            .iter()
            .filter(|(k, _)| {
                let (n, l) = k.split_once('{').unwrap_or((k.as_str(), ""));
                n == name
                    && labels
                        .iter()
                        .all(|(lk, lv)| l.contains(&format!("{lk}=\"{lv}\"")))
            })
            .map(|(_, v)| v)
            .sum()
    }
}

fn parse(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (k, v) = l.rsplit_once(' ')?;
            Some((k.to_owned(), v.parse().ok()?))
        })
        .collect()
}

async fn metrics_count_exactly_what_a_scenario_did(b: Backend) {
    let _one = ONE_AT_A_TIME.lock().await;
    let app = spawn_app(b).await;
    // A banking day after its last same-day window (US/Eastern): the
    // manual cutoff is the standard one alone.
    let today = local_date(sandbox_now(&app).await);
    let day = BankingCalendar::federal_reserve().next_banking_day(today);
    advance_to_eastern(&app, day, 17, 0).await;
    let (_, creds) = app.customer_with_key("Acme", json!({})).await;
    let dest = destination(&app, &creds).await;
    // The sandbox bank returns debits from 9999000101 (R01) and sends a
    // notification of change for 9999100001 (C01).
    let returned_pm = make_pm(&app, &creds, "9999000101").await;
    let noc_pm = make_pm(&app, &creds, "9999100001").await;
    let receiver = Receiver::start().await;
    let r = app
        .post(
            &creds,
            "/v1/webhook-endpoints",
            json!({"url": receiver.url, "enabledEvents": ["collection.*"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    let before = Scrape::take(&app).await;

    // Three debits (two to be returned, one to get a NOC), the first sent
    // twice with one Idempotency-Key.
    const N: usize = 3;
    let amounts = ["1000", "2500", "4000"];
    let mut sec_code = String::new();
    for (i, amount) in amounts.iter().enumerate() {
        let pm = if i < 2 { &returned_pm } else { &noc_pm };
        let body = json!({
            "destinationAccountId": dest, "paymentMethodId": pm,
            "amount": {"currency": "USD", "value": amount},
            "authorization": written_authorization(),
            "allowDuplicate": true,
        })
        .to_string();
        let key = format!("metrics-{i}");
        let headers = [("idempotency-key", key.as_str())];
        let sends = if i == 0 { 2 } else { 1 };
        for _ in 0..sends {
            let r = app
                .send(
                    Some(&creds),
                    Method::POST,
                    "/v1/collections/ach",
                    Some(&body),
                    true,
                    &headers,
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
            sec_code = r.json()["secCode"].as_str().unwrap().to_owned();
        }
    }
    // A request whose signature does not match.
    let mut bad = creds.clone();
    bad.secret = "iss_not_the_signing_secret".into();
    let r = app.get(&bad, "/v1/collections").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    assert_eq!(r.error_code(), "signature_invalid");

    // The cutoff files them (one file), the sandbox bank returns them all.
    let r = app.post(&admin(), "/v1/ach/cutoffs", json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let file = &r.json()["files"][0];
    assert_eq!(file["entryCount"], N as i64);
    let name = file["fileName"].as_str().unwrap();
    let outbound = std::fs::read(app.state().ach.outbound_dir.join(name)).unwrap();
    let answers = inflow_engine::sandbox_bank::answer(&outbound, &app.state().ach).unwrap();
    // One file per answer (the returns, the NOC): each read and applied.
    let inbound_files = answers.len();
    for answer in &answers {
        let r = app
            .client
            .post(format!("{}/v1/ach/inbound", app.base))
            .header("authorization", format!("Bearer {ADMIN_KEY}"))
            .header("content-type", "application/octet-stream")
            .body(answer.file.to_bytes())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
    }

    // Every collection.* event goes to the receiver.
    let pass = app.state().webhooks.run_pass(usize::MAX).await.unwrap();
    let delivered = receiver.log().len();
    assert_eq!(pass.delivered, delivered);

    let after = Scrape::take(&app).await;
    let delta =
        |name: &str, labels: &[(&str, &str)]| after.get(name, labels) - before.get(name, labels);
    let n = N as f64;
    let total: f64 = amounts.iter().map(|a| a.parse::<f64>().unwrap()).sum();
    let returned_total: f64 = amounts[..2].iter().map(|a| a.parse::<f64>().unwrap()).sum();
    let with_sec = |status: &'static str| {
        [
            ("rail", "ach".to_owned()),
            ("sec_code", sec_code.clone()),
            ("status", status.to_owned()),
        ]
    };

    // HTTP requests by route template, method and status, with latencies.
    let created = [
        ("route", "/v1/collections/ach"),
        ("method", "POST"),
        ("status", "201"),
    ];
    assert_eq!(delta("inflow_http_requests_total", &created), n + 1.0);
    assert_eq!(
        delta("inflow_http_request_duration_seconds_count", &created),
        n + 1.0
    );
    assert_eq!(
        delta(
            "inflow_idempotency_outcomes_total",
            &[("outcome", "replayed")]
        ),
        1.0
    );
    assert_eq!(
        delta(
            "inflow_signature_failures_total",
            &[("reason", "signature_invalid")]
        ),
        1.0
    );
    // Collections by rail, SEC code and status, with their amounts.
    for (status, count, amount) in [
        ("created", n, total),
        ("submitted", n, total),
        ("returned", 2.0, returned_total),
    ] {
        let l = with_sec(status);
        let l: Vec<(&str, &str)> = l.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(delta("inflow_collections_total", &l), count, "{status}");
        assert_eq!(
            delta("inflow_collection_amount_minor_total", &l),
            amount,
            "{status}"
        );
    }
    assert_eq!(
        delta(
            "inflow_collections_total",
            &[("rail", "ach"), ("status", "failed")]
        ),
        0.0
    );
    // The cutoff and its file.
    let manual = [("trigger", "manual"), ("outcome", "ok")];
    assert_eq!(delta("inflow_ach_cutoffs_total", &manual), 1.0);
    assert_eq!(
        delta(
            "inflow_ach_cutoff_duration_seconds_count",
            &[("trigger", "manual")]
        ),
        1.0
    );
    assert_eq!(delta("inflow_ach_files_created_total", &[]), 1.0);
    assert_eq!(delta("inflow_ach_file_entries_count", &[]), 1.0);
    assert_eq!(delta("inflow_ach_file_entries_sum", &[]), n);
    assert_eq!(
        delta("inflow_ach_file_writes_total", &[("outcome", "written")]),
        1.0
    );
    assert_eq!(delta("inflow_ach_file_bytes_count", &[]), 1.0);
    assert_eq!(
        delta("inflow_ach_file_bytes_sum", &[]),
        outbound.len() as f64
    );
    // The return file.
    assert_eq!(
        delta("inflow_ach_inbound_files_total", &[("outcome", "applied")]),
        inbound_files as f64
    );
    assert_eq!(delta("inflow_ach_returns_applied_total", &[]), 2.0);
    assert_eq!(delta("inflow_ach_nocs_applied_total", &[]), 1.0);
    // Webhooks: one delivery per collection.* event, all delivered.
    assert_eq!(
        delta(
            "inflow_webhook_deliveries_total",
            &[("outcome", "delivered")]
        ),
        delivered as f64
    );
    assert!(
        delivered >= 2 * N + 2,
        "created and submitted each, two returned"
    );
    assert_eq!(
        delta("inflow_webhook_delivery_lag_seconds_count", &[]),
        delivered as f64
    );
    assert_eq!(after.get("inflow_webhook_queue_depth", &[]), 0.0);
    // The database pools were used and are reported.
    assert!(
        delta(
            "inflow_db_acquire_duration_seconds_count",
            &[("pool", "write")]
        ) > 0.0
    );
    assert!(after.get("inflow_db_pool_connections", &[("state", "open")]) > 0.0);
    app.stop().await;
}

/// `inflow_alerts_total{type}` moves by exactly the alerts raised: a ledger
/// that no longer balances is checked twice, the alert is raised (its event
/// committed) once, and counted once.
async fn an_alert_raised_once_is_counted_once_by_type(b: Backend) {
    let _one = ONE_AT_A_TIME.lock().await;
    let app = spawn_app(b).await;
    let before = Scrape::take(&app).await;
    // A balance nothing posted: the ledger check fails.
    let tamper =
        "INSERT INTO ledger_accounts (id, kind, account_id, currency, balance, created_at) \
                  VALUES ('tampered:fee_revenue:USD', 'fee_revenue', NULL, 'USD', 500, 0)";
    app.state()
        .store
        .write(move |tx| Box::pin(async move { tx.execute_raw(tamper).await }))
        .await
        .unwrap();
    for _ in 0..2 {
        let r = app.post(&admin(), "/v1/ledger/check", json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.json()["ok"], false, "{}", r.text);
    }
    let after = Scrape::take(&app).await;
    let delta =
        |name: &str, labels: &[(&str, &str)]| after.get(name, labels) - before.get(name, labels);
    let failed = [("type", "ledger.check_failed")];
    assert_eq!(delta("inflow_alerts_total", &failed), 1.0);
    assert_eq!(delta("inflow_alerts_total", &[]), 1.0, "no other alert");
    assert_eq!(delta("inflow_events_total", &failed), 1.0);
    // Ordinary events are not alerts.
    let after = Scrape::take(&app).await;
    assert!(!after
        .0
        .keys()
        .any(|k| k.starts_with("inflow_alerts_total{") && k.contains("api_key.")));
    app.stop().await;
}

async fn metrics_on_the_api_port_need_an_operator_key_in_production(b: Backend) {
    let _one = ONE_AT_A_TIME.lock().await;
    let app = spawn_app_with(b, |c| c.sandbox = false).await;
    let url = format!("{}/metrics", app.base);
    let r = app.client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = app
        .client
        .get(&url)
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("inflow_http_requests_total"));
    app.stop().await;
}

async fn a_separate_admin_listener_serves_metrics_and_the_api_port_does_not(b: Backend) {
    let _one = ONE_AT_A_TIME.lock().await;
    let app = spawn_app_with(b, |c| {
        c.metrics.listen = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let admin_addr = app.metrics_addr().expect("an admin listener");
    let r = app
        .client
        .get(format!("http://{admin_addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}
