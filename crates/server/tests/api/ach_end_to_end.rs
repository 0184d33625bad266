//! The ACH rail end to end over HTTP, on both backends, with the sandbox
//! clock and the sandbox bank: debit → file → processing → completed;
//! magic accounts → returns (also late, after completion) and NOCs; prenotes;
//! cancel refused once filed; the files Inflow wrote validate strictly.

use crate::support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::*;

on_both_backends!(
    debits_settle_return_and_get_corrected_as_sandbox_time_passes,
    an_uploaded_return_file_is_applied_once_and_a_broken_one_is_refused,
);

async fn upload(app: &TestApp, key: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let r = app
        .client
        .post(format!("{}/v1/ach/inbound", app.base))
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "text/plain")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (
        status,
        serde_json::from_str(&r.text().await.unwrap()).unwrap_or(Value::Null),
    )
}

async fn an_uploaded_return_file_is_applied_once_and_a_broken_one_is_refused(b: Backend) {
    let app = spawn_app(b).await;
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/ach-testdata/moov/test/testdata/return-WEB.ach");
    let bytes = std::fs::read(fixture).unwrap();
    let (status, report) = upload(&app, ADMIN_KEY, bytes.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{report}");
    assert_eq!(
        report["returnsUnmatched"], 2,
        "unknown traces are kept, never dropped: {report}"
    );
    assert_eq!(report["duplicate"], false);
    let (status, again) = upload(&app, ADMIN_KEY, bytes.clone()).await;
    assert_eq!(
        (status, again["duplicate"].as_bool()),
        (StatusCode::OK, Some(true)),
        "{again}"
    );

    let mut broken = bytes.clone();
    let at = broken.iter().position(|b| *b == b'\n').unwrap() + 1 + 40; // inside the batch header
    broken[at] = 0x07;
    let (status, err) = upload(&app, ADMIN_KEY, broken).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_ach_file")),
        "{err}"
    );
    let (_, creds) = app.customer_with_key("Acme", json!({})).await;
    let (status, _) = upload(&app, &creds.key, bytes).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    app.stop().await;
}

async fn make_pm(app: &TestApp, creds: &Creds, account: &str) -> String {
    let r = app
        .post(creds, "/v1/payment-methods", bank_pm_body(account))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json()["id"].as_str().unwrap().to_owned()
}

async fn collect(
    app: &TestApp,
    creds: &Creds,
    dest: &str,
    pm: &str,
    amount: &str,
    kind: &str,
) -> String {
    let r = app
        .post(
            creds,
            "/v1/collections/ach",
            json!({
                "destinationAccountId": dest, "paymentMethodId": pm, "type": kind,
                "amount": {"currency": "USD", "value": amount},
                "authorization": {"type": "written", "obtainedAt": "2026-01-05T10:00:00Z"}
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json()["id"].as_str().unwrap().to_owned()
}

async fn status(app: &TestApp, creds: &Creds, id: &str) -> Value {
    app.get(creds, &format!("/v1/collections/{id}"))
        .await
        .json()
}

async fn events(app: &TestApp, id: &str) -> Vec<String> {
    let mut tx = app.db.store.read().await.unwrap();
    tx.events_for_object(id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .collect()
}

async fn debits_settle_return_and_get_corrected_as_sandbox_time_passes(b: Backend) {
    let app = spawn_app(b).await;
    let (_, creds) = app.customer_with_key("Acme", json!({})).await;
    let dest = app
        .post(&creds, "/v1/accounts", json!({"name": "Main"}))
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let good = make_pm(&app, &creds, "000123456789").await;
    let r01 = make_pm(&app, &creds, "9999000101").await;
    let late_r10 = make_pm(&app, &creds, "9999000210").await;
    let c01 = make_pm(&app, &creds, "9999100001").await;
    let c01_before = app
        .get(&creds, &format!("/v1/payment-methods/{c01}"))
        .await
        .json();

    let ok = collect(&app, &creds, &dest, &good, "125000", "debit").await;
    let nsf = collect(&app, &creds, &dest, &r01, "5000", "debit").await;
    let late = collect(&app, &creds, &dest, &late_r10, "7000", "debit").await;
    let noc = collect(&app, &creds, &dest, &c01, "9000", "debit").await;
    let prenote = collect(&app, &creds, &dest, &good, "0", "prenote").await;

    // Days pass until the next banking day's standard cutoff files every pending entry
    // (today may be a weekend or a holiday).
    let mut c = status(&app, &creds, &ok).await;
    for _ in 0..6 {
        if c["status"] != "pending" {
            break;
        }
        let r = app
            .post(&admin(), "/v1/sandbox/clock/advance", json!({"days": 1}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        c = status(&app, &creds, &ok).await;
    }
    assert!(
        matches!(c["status"].as_str(), Some("submitted") | Some("processing")),
        "{c}"
    );
    let trace = c["traceNumber"]
        .as_str()
        .expect("a trace number once filed")
        .to_owned();
    assert_eq!(&trace[..8], "12104288", "ODFI prefix");
    let file_id = c["fileId"].as_str().unwrap().to_owned();
    let cancel = app
        .post(&creds, &format!("/v1/collections/{ok}/cancel"), json!({}))
        .await;
    assert_eq!(
        (cancel.status, cancel.error_code().as_str()),
        (StatusCode::CONFLICT, "collection_not_cancellable")
    );

    // The operator sees the file, and its bytes are a valid NACHA file holding the entry.
    let files = app
        .get(&admin(), "/v1/ach/files?direction=outbound")
        .await
        .json();
    assert!(
        files["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == file_id.as_str()),
        "{files}"
    );
    let content = app
        .client
        .get(format!("{}/v1/ach/files/{file_id}/content", app.base))
        .header("authorization", format!("Bearer {ADMIN_KEY}"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let report = nacha::report::validate_report(&content, &nacha::ValidateOptions::strict());
    assert!(report.is_valid(), "{report}");
    assert!(String::from_utf8_lossy(&content).contains(&trace));
    assert_eq!(
        app.get(&creds, "/v1/ach/files").await.status,
        StatusCode::FORBIDDEN,
        "files are the operator's"
    );

    // Two weeks pass: settlement, returns (also a late one) and the NOC arrive.
    let r = app
        .post(&admin(), "/v1/sandbox/clock/advance", json!({"days": 14}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let c = status(&app, &creds, &ok).await;
    assert_eq!(c["status"], "completed", "{c}");
    assert_eq!(
        events(&app, &ok).await,
        vec![
            "collection.created",
            "collection.batched",
            "collection.submitted",
            "collection.processing",
            "collection.completed"
        ]
    );

    let c = status(&app, &creds, &nsf).await;
    assert_eq!(
        (c["status"].as_str(), c["achReturnCode"].as_str()),
        (Some("returned"), Some("R01")),
        "{c}"
    );
    assert_eq!(c["achReturnDescription"], "Insufficient funds");

    let c = status(&app, &creds, &late).await;
    assert_eq!(
        (c["status"].as_str(), c["achReturnCode"].as_str()),
        (Some("returned"), Some("R10")),
        "{c}"
    );
    let history: Vec<&str> = c["statusHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        &history[history.len() - 2..],
        ["completed", "returned"],
        "a late return after completion: {history:?}"
    );
    let pm = app
        .get(&creds, &format!("/v1/payment-methods/{late_r10}"))
        .await
        .json();
    assert_eq!(pm["status"], "blocked", "R10 blocks the payment method");

    let c = status(&app, &creds, &noc).await;
    assert_eq!(c["noc"]["code"], "C01", "{c}");
    let pm = app
        .get(&creds, &format!("/v1/payment-methods/{c01}"))
        .await
        .json();
    assert_ne!(
        pm["usBankAccount"]["fingerprint"], c01_before["usBankAccount"]["fingerprint"],
        "C01 corrected the account number: {pm}"
    );
    assert_eq!(pm["status"], "active", "a NOC corrects, it does not block");

    let p = status(&app, &creds, &prenote).await;
    assert_eq!(p["status"], "completed", "{p}");

    // Everything the bank sent came back through the inbound path.
    let inbound = app
        .get(&admin(), "/v1/ach/files?direction=inbound")
        .await
        .json();
    assert!(!inbound["data"].as_array().unwrap().is_empty());
    app.stop().await;
}
