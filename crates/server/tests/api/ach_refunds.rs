//! Refunds of ACH collections by ACH credit, over HTTP on both backends:
//! refused while the debit is in flight; partial, multiple, full and
//! over-refund; idempotent; filed at the next cutoff as credits (code 22,
//! PPD for a WEB debit) in a file achlens and `inflow ach validate` accept,
//! balanced for an ODFI that wants it; submitted → completed; a returned
//! refund gives the money back; a refund that would take the available
//! balance below zero is refused unless the operator allows it. The ledger
//! checks after every scenario.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::ach::*;
use support::credits::*;
use support::ledger::{balances, ledger_is_sound};
use support::*;

on_both_backends!(
    ach_refunds_are_partial_multiple_never_over_and_filed_as_credits,
    an_ach_refund_in_a_balanced_file_is_offset_by_a_debit,
    an_odfi_wanting_separate_files_gets_the_offset_debits_in_a_companion_file,
    a_returned_ach_refund_gives_the_money_back,
    a_refund_below_zero_is_refused_unless_the_operator_allows_it,
);

async fn refund(app: &TestApp, creds: &Creds, id: &str, body: Value) -> Reply {
    app.post(creds, &format!("/v1/collections/{id}/refunds"), body)
        .await
}

async fn refund_with_key(app: &TestApp, creds: &Creds, id: &str, body: &str, key: &str) -> Reply {
    app.send(
        Some(creds),
        Method::POST,
        &format!("/v1/collections/{id}/refunds"),
        Some(body),
        true,
        &[("idempotency-key", key)],
    )
    .await
}

async fn ach_refunds_are_partial_multiple_never_over_and_filed_as_credits(b: Backend) {
    let dir = TempDir::new();
    let app = spawn_app_with(b, |c| c.odfi = vec![odfi(dir.path(), false)]).await;
    let d = filed_debit(
        &app,
        "10000",
        json!({"secCode": "WEB",
               "authorization": {"type": "online", "obtainedAt": "2026-01-05T10:00:00Z", "ipAddress": "203.0.113.9"}}),
    )
    .await;

    // In flight: refused, and the operator override is the operator's.
    let r = refund(
        &app,
        &d.creds,
        &d.id,
        json!({"amount": {"currency": "USD", "value": "100"}}),
    )
    .await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (StatusCode::CONFLICT, "collection_in_flight"),
        "{}",
        r.text
    );
    let r = refund(
        &app,
        &d.creds,
        &d.id,
        json!({"allowBeforeCompletion": true}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);

    until_completed(&app, &d.creds, &d.id).await;
    let (_, available, _) = balances(&app, &d.creds, &d.dest).await;

    // A partial refund, idempotent.
    let body = json!({"amount": {"currency": "USD", "value": "3000"}, "reason": "partial return of goods"}).to_string();
    let first = refund_with_key(&app, &d.creds, &d.id, &body, "rfd-1").await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let again = refund_with_key(&app, &d.creds, &d.id, &body, "rfd-1").await;
    assert_eq!(
        (again.status, &again.text),
        (StatusCode::CREATED, &first.text)
    );
    assert_eq!(again.headers["idempotent-replayed"], "true");
    let r1 = first.json();
    assert_eq!(
        (r1["rail"].as_str(), r1["status"].as_str()),
        (Some("ach"), Some("pending")),
        "{r1}"
    );
    assert_eq!(
        r1["ach"]["secCode"], "PPD",
        "a WEB debit is refunded by a PPD credit: {r1}"
    );
    assert_eq!(r1["ach"]["transactionCode"], "22");
    assert!(r1["id"].as_str().unwrap().starts_with("rfd_"));

    // A second one; then more than is left is refused; then the rest.
    let r2 = refund(
        &app,
        &d.creds,
        &d.id,
        json!({"amount": {"currency": "USD", "value": "5000"}}),
    )
    .await;
    assert_eq!(r2.status, StatusCode::CREATED, "{}", r2.text);
    let over = refund(
        &app,
        &d.creds,
        &d.id,
        json!({"amount": {"currency": "USD", "value": "2001"}}),
    )
    .await;
    assert_eq!(
        (over.status, over.error_code().as_str()),
        (StatusCode::CONFLICT, "amount_exceeds_refundable"),
        "{}",
        over.text
    );
    let rest = refund(&app, &d.creds, &d.id, json!({})).await;
    assert_eq!(rest.status, StatusCode::CREATED, "{}", rest.text);
    assert_eq!(rest.json()["amount"]["value"], "2000");
    let none = refund(&app, &d.creds, &d.id, json!({})).await;
    assert_eq!(
        (none.status, none.error_code().as_str()),
        (StatusCode::CONFLICT, "amount_exceeds_refundable"),
        "{}",
        none.text
    );
    let (_, after, _) = balances(&app, &d.creds, &d.dest).await;
    assert_eq!(
        after,
        available - 10000,
        "the refunds debit the available balance"
    );

    let list = app
        .get(&d.creds, &format!("/v1/collections/{}/refunds", d.id))
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert_eq!(list.json()["data"].as_array().unwrap().len(), 3);
    let id1 = r1["id"].as_str().unwrap();
    let got = app.get(&d.creds, &format!("/v1/refunds/{id1}")).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text);
    let (_, other) = app.customer_with_key("Globex", json!({})).await;
    assert_eq!(
        app.get(&other, &format!("/v1/refunds/{id1}")).await.status,
        StatusCode::NOT_FOUND
    );

    // The next cutoff files the three credits in a credit file.
    past_next_cutoff(&app).await;
    let got = app
        .get(&d.creds, &format!("/v1/refunds/{id1}"))
        .await
        .json();
    assert_eq!(got["status"], "submitted", "{got}");
    let file_id = got["ach"]["fileId"].as_str().unwrap().to_owned();
    let trace = got["ach"]["traceNumber"].as_str().unwrap().to_owned();
    let f = file(&app, &file_id).await;
    assert_eq!(
        (f["totalCredit"].as_i64(), f["totalDebit"].as_i64()),
        (Some(10000), Some(0)),
        "{f}"
    );
    let bytes = checked_content(&app, &file_id).await;
    let bs = batches(&bytes);
    assert_eq!(bs.len(), 1, "{bs:?}");
    let batch = &bs[0];
    assert_eq!(
        (
            batch.service_class.as_str(),
            batch.sec.as_str(),
            batch.description.as_str()
        ),
        ("220", "PPD", "REFUND"),
        "{batch:?}"
    );
    assert_eq!(batch.company_id, "1234567890");
    assert!(
        batch.entries.iter().all(|e| e.0 == "22" && e.1 == PAYER),
        "{batch:?}"
    );
    assert!(
        batch.entries.iter().any(|e| e.2 == 3000 && e.3 == trace),
        "{batch:?}"
    );
    assert_eq!(batch.control_credit, 10000);

    // Good funds later the refunds are completed.
    advance_days(&app, 6).await;
    let got = app
        .get(&d.creds, &format!("/v1/refunds/{id1}"))
        .await
        .json();
    assert_eq!(got["status"], "completed", "{got}");
    assert_eq!(
        event_types(&app, id1).await,
        vec![
            "refund.created",
            "refund.batched",
            "refund.submitted",
            "refund.completed"
        ]
    );
    ledger_is_sound(&app).await;
    app.stop().await;
}

async fn an_ach_refund_in_a_balanced_file_is_offset_by_a_debit(b: Backend) {
    let dir = TempDir::new();
    let app = spawn_app_with(b, |c| c.odfi = vec![odfi(dir.path(), true)]).await;
    let d = filed_debit(&app, "7000", json!({})).await;
    until_completed(&app, &d.creds, &d.id).await;
    let r = refund(
        &app,
        &d.creds,
        &d.id,
        json!({"amount": {"currency": "USD", "value": "2500"}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let day = past_next_cutoff(&app).await;
    let got = app.get(&d.creds, &format!("/v1/refunds/{id}")).await.json();
    let file_id = got["ach"]["fileId"].as_str().unwrap().to_owned();
    let bytes = checked_content(&app, &file_id).await;
    let bs = batches(&bytes);
    assert_eq!(bs.len(), 1, "{bs:?}");
    let batch = &bs[0];
    assert_eq!(batch.service_class, "200", "{batch:?}");
    assert_eq!(
        batch.control_credit, batch.control_debit,
        "balanced: {batch:?}"
    );
    let last = batch.entries.last().unwrap();
    assert_eq!(
        (last.0.as_str(), last.1.as_str(), last.2),
        ("27", SETTLEMENT, 2500),
        "offset debit: {batch:?}"
    );
    ledger_is_sound(&app).await;
    let rep = app
        .get(&admin(), &format!("/v1/reports/settlement?date={day}"))
        .await
        .json();
    assert_eq!(rep["tiesOut"]["submittedMatchesNachaFiles"], true, "{rep}");
    assert_eq!(rep["tiesOut"]["accountsMatchClearing"], true, "{rep}");
    app.stop().await;
}

async fn a_returned_ach_refund_gives_the_money_back(b: Backend) {
    let dir = TempDir::new();
    let app = spawn_app_with(b, |c| c.odfi = vec![odfi(dir.path(), false)]).await;
    let d = filed_debit(&app, "9000", json!({})).await;
    until_completed(&app, &d.creds, &d.id).await;
    let (_, before, _) = balances(&app, &d.creds, &d.dest).await;
    let rx = support::receiver::Receiver::start().await;
    let r = app
        .post(
            &d.creds,
            "/v1/webhook-endpoints",
            json!({"url": rx.url, "enabledEvents": ["refund.*"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = refund(
        &app,
        &d.creds,
        &d.id,
        json!({"amount": {"currency": "USD", "value": "4000"}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.json()["id"].as_str().unwrap().to_owned();
    past_next_cutoff(&app).await;
    let got = app.get(&d.creds, &format!("/v1/refunds/{id}")).await.json();
    let bytes = checked_content(&app, got["ach"]["fileId"].as_str().unwrap()).await;
    let (_, during, _) = balances(&app, &d.creds, &d.dest).await;
    assert_eq!(during, before - 4000);

    let report = upload_returns(&app, return_file_for(&app, &bytes)).await;
    assert_eq!(report["returnsMatched"], 1, "{report}");
    let got = app.get(&d.creds, &format!("/v1/refunds/{id}")).await.json();
    assert_eq!(
        (got["status"].as_str(), got["ach"]["returnCode"].as_str()),
        (Some("returned"), Some("R01")),
        "{got}"
    );
    let (_, after, _) = balances(&app, &d.creds, &d.dest).await;
    assert_eq!(
        after, before,
        "the returned refund credited the account back"
    );
    assert_eq!(
        event_types(&app, &id).await.last().map(String::as_str),
        Some("refund.returned")
    );
    // The webhook goes out as business time moves on.
    advance_minutes(&app, 1).await;
    rx.wait_for(20, "refund.returned delivered", |log| {
        log.iter()
            .any(|r| r.event_type == "refund.returned" && r.object_id == id && r.acknowledged())
    })
    .await;
    // What came back may be refunded again.
    let again = refund(&app, &d.creds, &d.id, json!({})).await;
    assert_eq!(
        (again.status, again.json()["amount"]["value"].as_str()),
        (StatusCode::CREATED, Some("9000")),
        "{}",
        again.text
    );
    ledger_is_sound(&app).await;
    app.stop().await;
}

async fn a_refund_below_zero_is_refused_unless_the_operator_allows_it(b: Backend) {
    let dir = TempDir::new();
    let app = spawn_app_with(b, |c| c.odfi = vec![odfi(dir.path(), false)]).await;
    let d = filed_debit(&app, "5000", json!({})).await;
    until_completed(&app, &d.creds, &d.id).await;
    let (_, available, _) = balances(&app, &d.creds, &d.dest).await;
    assert!(available >= 5000, "{available}");
    let first = refund(
        &app,
        &d.creds,
        &d.id,
        json!({"amount": {"currency": "USD", "value": "4000"}}),
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    // A second debit, still in flight: the operator refunds it early
    // (override), for more than the available balance left.
    let pm = make_pm(&app, &d.creds, PAYER).await;
    let c2 = collect(
        &app,
        &d.creds,
        &d.dest,
        &pm,
        "3000",
        json!({"allowDuplicate": true}),
    )
    .await;
    let c2 = c2["id"].as_str().unwrap().to_owned();
    past_next_cutoff(&app).await;
    let mut op = admin();
    op.acting_for = Some(d.customer.clone());
    let (_, avail, _) = balances(&app, &d.creds, &d.dest).await;
    assert_eq!(avail, available - 4000, "the second debit is still pending");
    let r = refund(
        &app,
        &op,
        &c2,
        json!({"allowBeforeCompletion": true, "amount": {"currency": "USD", "value": "2000"}}),
    )
    .await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (StatusCode::CONFLICT, "insufficient_available_balance"),
        "{}",
        r.text
    );
    // Nothing changed.
    assert_eq!(balances(&app, &d.creds, &d.dest).await.1, avail);
    assert_eq!(
        app.get(&d.creds, &format!("/v1/collections/{c2}/refunds"))
            .await
            .json()["data"]
            .as_array()
            .unwrap()
            .len(),
        0
    );

    // Only the operator may allow a negative balance.
    let r = patch(
        &app,
        &d.creds,
        &format!("/v1/accounts/{}", d.dest),
        json!({"allowNegativeBalance": true}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = patch(
        &app,
        &op,
        &format!("/v1/accounts/{}", d.dest),
        json!({"allowNegativeBalance": true}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["allowNegativeBalance"], true);
    let r = refund(
        &app,
        &op,
        &c2,
        json!({"allowBeforeCompletion": true, "amount": {"currency": "USD", "value": "2000"}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert!(balances(&app, &d.creds, &d.dest).await.1 < 0);
    ledger_is_sound(&app).await;
    app.stop().await;
}

async fn an_odfi_wanting_separate_files_gets_the_offset_debits_in_a_companion_file(b: Backend) {
    let dir = TempDir::new();
    let mut o = odfi(dir.path(), true);
    o.separate_debits_and_credits = true;
    let app = spawn_app_with(b, |c| c.odfi = vec![o]).await;
    let d = filed_debit(&app, "8000", json!({})).await;
    until_completed(&app, &d.creds, &d.id).await;
    let r = refund(
        &app,
        &d.creds,
        &d.id,
        json!({"amount": {"currency": "USD", "value": "1500"}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let before = outbound_files(&app).await.len();
    let day = past_next_cutoff(&app).await;
    let files = outbound_files(&app).await;
    assert_eq!(
        files.len(),
        before + 2,
        "a credit file and its offsets: {files:?}"
    );
    let got = app.get(&d.creds, &format!("/v1/refunds/{id}")).await.json();
    let credit_id = got["ach"]["fileId"].as_str().unwrap().to_owned();
    let credits = batches(&checked_content(&app, &credit_id).await);
    assert_eq!(credits.len(), 1, "{credits:?}");
    assert_eq!(
        (
            credits[0].service_class.as_str(),
            credits[0].control_credit,
            credits[0].control_debit
        ),
        ("220", 1500, 0)
    );
    let companion = files
        .iter()
        .rfind(|f| f["id"] != credit_id.as_str() && f["totalDebit"].as_i64() == Some(1500))
        .unwrap_or_else(|| panic!("the companion file: {files:?}"));
    assert_eq!(companion["delivery"]["status"], "uploaded", "{companion}");
    let offsets = batches(&checked_content(&app, companion["id"].as_str().unwrap()).await);
    assert_eq!(offsets.len(), 1, "{offsets:?}");
    assert_eq!(
        (offsets[0].service_class.as_str(), offsets[0].sec.as_str()),
        ("225", "CCD")
    );
    assert_eq!(
        offsets[0].entries,
        vec![(
            "27".to_owned(),
            SETTLEMENT.to_owned(),
            1500,
            offsets[0].entries[0].3.clone()
        )]
    );
    ledger_is_sound(&app).await;
    let rep = app
        .get(&admin(), &format!("/v1/reports/settlement?date={day}"))
        .await
        .json();
    assert_eq!(rep["tiesOut"]["submittedMatchesNachaFiles"], true, "{rep}");
    assert_eq!(rep["tiesOut"]["accountsMatchClearing"], true, "{rep}");
    app.stop().await;
}
