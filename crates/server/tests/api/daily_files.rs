//! Daily reconciliation files over HTTP on both backends: a day of mixed
//! activity (ACH debits filed at the cutoff, one completed and one returned
//! by the sandbox bank the same day, card sales, a refund and a dispute,
//! fees) gives files, produced by the background job once the sandbox clock
//! passes the day, whose every row matches the ledger entries and the day's
//! NACHA files and whose control totals tie; a file made on demand before
//! the day ended is superseded by a new version; customers see only their
//! own files; CSV and JSON lines carry the same rows; bad input is refused
//! naming the field. ACH refunds and reversals by credit filed at a cutoff
//! (and returned) the same day give rows with their ids and the credit
//! entries' trace numbers, matching the day's NACHA credit file.

use crate::support;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Days, NaiveDate};
use inflow_core::calendar::{local_date, BankingCalendar};
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::ach::{advance_to_eastern, collect, destination, make_pm, sandbox_now};
use support::card::save_card;
use support::credits::{odfi, return_file_for, until_completed, upload_returns, TempDir, PAYER};
use support::ledger::{int, ledger_is_sound};
use support::reports::{as_csv, csv_rows, file_for, files_of, jsonl, next_banking_day, sale};
use support::*;

on_both_backends!(
    a_day_of_mixed_activity_gives_files_that_match_the_ledger_and_the_nacha_files,
    daily_file_requests_with_bad_input_are_refused_naming_the_field,
    ach_refunds_and_reversals_filed_and_returned_in_a_day_match_the_nacha_credit_file
);

async fn post_ok(app: &TestApp, creds: &Creds, path: &str, body: Value) -> Value {
    let r = app.post(creds, path, body).await;
    assert!(r.status.is_success(), "{path}: {} {}", r.status, r.text);
    r.json()
}

/// Ledger entries of `account` posted on `day`, summed per transaction:
/// (kind, pending change, available change).
async fn ledger_day(
    app: &TestApp,
    creds: &Creds,
    account: &str,
    day: NaiveDate,
) -> BTreeMap<String, (String, i64, i64)> {
    let mut out: BTreeMap<String, (String, i64, i64)> = BTreeMap::new();
    let mut after = String::new();
    loop {
        let mut path = format!("/v1/accounts/{account}/entries?limit=200");
        if !after.is_empty() {
            path.push_str(&format!("&startingAfter={after}"));
        }
        let page = app.get(creds, &path).await.json();
        for e in page["data"].as_array().unwrap() {
            if e["postedOn"] != day.to_string().as_str() {
                continue;
            }
            let signed = if e["direction"] == "credit" { 1 } else { -1 } * int(&e["amount"]);
            let t = out
                .entry(e["transactionId"].as_str().unwrap().to_owned())
                .or_insert_with(|| (e["transactionType"].as_str().unwrap().to_owned(), 0, 0));
            if e["balance"] == "pending" {
                t.1 += signed;
            } else {
                t.2 += signed;
            }
        }
        match page["nextCursor"].as_str() {
            Some(c) => after = c.to_owned(),
            None => return out,
        }
    }
}

/// trace number → (amount, file id) of every entry of the outbound NACHA
/// files created on `day`.
async fn nacha_entries(app: &TestApp, day: NaiveDate) -> BTreeMap<String, (i64, String)> {
    let files = app
        .get(&admin(), "/v1/ach/files?direction=outbound&limit=200")
        .await
        .json();
    let mut out = BTreeMap::new();
    for f in files["data"].as_array().unwrap() {
        if f["creationDate"] != day.to_string().as_str() {
            continue;
        }
        let id = f["id"].as_str().unwrap();
        let text = app
            .get(&admin(), &format!("/v1/ach/files/{id}/content"))
            .await
            .text;
        for l in text.lines().filter(|l| l.starts_with('6')) {
            out.insert(
                l[79..94].to_owned(),
                (l[29..39].parse::<i64>().unwrap(), id.to_owned()),
            );
        }
    }
    out
}

/// Every entry row of an account's file is one ledger transaction of the
/// day with the same movements, every transaction has its row, and the
/// control total ties.
async fn account_file_matches_the_ledger(
    app: &TestApp,
    creds: &Creds,
    account: &str,
    day: NaiveDate,
    rows: &[Value],
) {
    let ledger = ledger_day(app, creds, account, day).await;
    let (control, entries) = rows.split_last().unwrap();
    assert_eq!(control["recordType"], "control_total");
    let mut seen = BTreeSet::new();
    for r in entries {
        assert_eq!(r["recordType"], "entry");
        assert_eq!(r["accountId"], account);
        let id = r["ledgerTransactionId"].as_str().unwrap();
        let (kind, pending, available) = ledger
            .get(id)
            .unwrap_or_else(|| panic!("row {r} is not a ledger transaction of {day}"));
        assert_eq!(r["kind"], kind.as_str(), "{r}");
        assert_eq!(r["pendingChange"], *pending, "{r}");
        assert_eq!(r["availableChange"], *available, "{r}");
        assert_eq!(r["net"], pending + available, "{r}");
        seen.insert(id.to_owned());
    }
    assert_eq!(seen, ledger.keys().cloned().collect::<BTreeSet<_>>());
    let movement: i64 = ledger.values().map(|(_, p, a)| p + a).sum();
    assert_eq!(control["net"], movement, "{control}");
    assert_eq!(control["ledgerMovement"], movement, "{control}");
    assert_eq!(control["rowCount"], entries.len());
    assert_eq!(control["tiesOut"], true, "{control}");
}

/// The day's `ach_submitted` rows are exactly the entries of the day's
/// NACHA files, trace number, amount and file alike.
fn submitted_rows_match_nacha(rows: &[Value], nacha: &BTreeMap<String, (i64, String)>) {
    let submitted: BTreeMap<String, &Value> = rows
        .iter()
        .filter(|r| r["kind"] == "ach_submitted")
        .map(|r| (r["traceNumber"].as_str().unwrap().to_owned(), r))
        .collect();
    assert_eq!(
        submitted.keys().collect::<Vec<_>>(),
        nacha.keys().collect::<Vec<_>>()
    );
    for (trace, (amount, file)) in nacha {
        let r = submitted[trace];
        assert_eq!(r["amount"], *amount, "{r}");
        assert_eq!(r["nachaFileId"], file.as_str(), "{r}");
        assert!(r["effectiveDate"].is_string() && r["settlementDate"].is_string());
    }
}

async fn a_day_of_mixed_activity_gives_files_that_match_the_ledger_and_the_nacha_files(b: Backend) {
    let app = spawn_app(b).await;
    let cal = BankingCalendar::federal_reserve();
    let r = app
        .call(
            &admin(),
            reqwest::Method::PUT,
            "/v1/fee-schedules/default",
            Some(json!({"achFixed": 25, "achReturnFee": 500, "cardFixed": 30, "cardDisputeFee": 1500})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let (cus_a, a) = app.customer_with_key("Agency A", json!({})).await;
    let acc_a = destination(&app, &a).await;
    let good = make_pm(&app, &a, "000123456789").await;
    let bounces = make_pm(&app, &a, "9999000101").await;
    let (cus_b, b_creds) = app.customer_with_key("Agency B", json!({})).await;
    let acc_b = destination(&app, &b_creds).await;

    // P: debit 1 filed. E: debit 2 (bounces R01) filed. D: debit 1 completes
    // (2 banking days of good funds), debit 2 comes back, debit 3 is filed,
    // cards are sold and one refunded.
    let p = next_banking_day(&cal, local_date(sandbox_now(&app).await) + Days::new(1));
    let e = next_banking_day(&cal, p);
    let d = next_banking_day(&cal, next_banking_day(&cal, e));
    advance_to_eastern(&app, p, 9, 0).await;
    let first = collect(
        &app,
        &a,
        &acc_a,
        &good,
        "100000",
        json!({"externalId": "inv,\"1\""}),
    )
    .await;
    advance_to_eastern(&app, e, 9, 0).await;
    let second = collect(&app, &a, &acc_a, &bounces, "20000", json!({})).await;
    advance_to_eastern(&app, d, 9, 0).await;
    let third = collect(&app, &a, &acc_a, &good, "30000", json!({})).await;
    let card = save_card(&app, &a, "4242424242424242").await;
    sale(&app, &a, &acc_a, &card, 10_000).await;
    let refunded = sale(&app, &a, &acc_a, &card, 5_000).await;
    let refund = post_ok(
        &app,
        &a,
        &format!("/v1/collections/{refunded}/refunds"),
        json!({"amount": {"currency": "USD", "value": "2000"}}),
    )
    .await;
    // The sandbox processor disputes a sale on this card at its next pass.
    let disputed_card = save_card(&app, &a, "4000000000000259").await;
    let disputed = sale(&app, &a, &acc_a, &disputed_card, 4_000).await;
    let card_b = save_card(&app, &b_creds, "4242424242424242").await;
    sale(&app, &b_creds, &acc_b, &card_b, 7_000).await;

    // On demand before the day is over: version 1, complete so far.
    let early = app
        .post(
            &admin(),
            "/v1/reports/daily-files",
            json!({"date": d.to_string()}),
        )
        .await;
    assert_eq!(early.status, StatusCode::CREATED, "{}", early.text);
    let early = early.json();
    let early_operator = file_for(early["data"].as_array().unwrap(), "operator", None).clone();
    assert_eq!(early_operator["version"], 1);

    // The standard cutoff (20:00) files debit 3, the card batch closes at
    // 22:00; past the day, the job produces the complete files.
    advance_to_eastern(&app, d, 22, 30).await;
    advance_to_eastern(&app, d + Days::new(1), 2, 0).await;
    let all = files_of(&app, &admin(), d).await;
    let operator = file_for(&all, "operator", None);
    assert_eq!(operator["version"], 2, "{operator:#}");
    assert_eq!(operator["trigger"], "scheduled");
    assert_eq!(operator["tiesOut"], true);
    let old = app
        .get(&admin(), "/v1/reports/daily-files?limit=200")
        .await
        .json();
    assert!(
        !old["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == early_operator["id"]),
        "a superseded version is not listed"
    );
    assert_eq!(
        jsonl(&app, &admin(), early_operator["id"].as_str().unwrap())
            .await
            .last()
            .unwrap()["recordType"],
        "control_total"
    );

    // Generating again changes nothing.
    let again = app
        .post(
            &admin(),
            "/v1/reports/daily-files",
            json!({"date": d.to_string()}),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.json()["created"], json!([]));

    // The operator's file: every kind of the day, every row against the ledger.
    let op_rows = jsonl(&app, &admin(), operator["id"].as_str().unwrap()).await;
    let kinds: BTreeSet<&str> = op_rows.iter().filter_map(|r| r["kind"].as_str()).collect();
    for k in [
        "ach_submitted",
        "ach_completed",
        "ach_returned",
        "ach_return_fee",
        "card_captured",
        "card_refunded",
        "card_settled",
        "card_disputed",
        "card_dispute_fee",
    ] {
        assert!(kinds.contains(k), "no {k} row in {op_rows:#?}");
    }
    let by = |kind: &str, col: &str| -> Value {
        op_rows
            .iter()
            .find(|r| r["kind"] == kind && r["collectionId"].as_str() == Some(col))
            .unwrap_or_else(|| panic!("no {kind} row for {col}: {op_rows:#?}"))
            .clone()
    };
    for r in op_rows.iter().filter(|r| r["kind"] == "card_settled") {
        assert_eq!(r["settlementDate"], d.to_string().as_str(), "{r}");
        assert_eq!(r["net"], 0, "{r}");
    }
    let id = |c: &Value| c["id"].as_str().unwrap().to_owned();
    let dispute = by("card_disputed", &disputed);
    assert!(dispute["disputeId"].is_string(), "{dispute}");
    assert_eq!(
        (dispute["amount"].clone(), dispute["net"].clone()),
        (json!(4_000), json!(-4_000))
    );
    let dispute_fee = by("card_dispute_fee", &disputed);
    assert_eq!(
        (dispute_fee["fee"].clone(), dispute_fee["net"].clone()),
        (json!(1_500), json!(-1_500))
    );
    let completed = by("ach_completed", &id(&first));
    assert_eq!(completed["externalId"], "inv,\"1\"");
    assert_eq!(
        (
            completed["net"].clone(),
            completed["availableChange"].clone()
        ),
        (json!(0), json!(99_975))
    );
    let returned = by("ach_returned", &id(&second));
    assert_eq!(returned["returnCode"], "R01");
    assert_eq!(returned["fee"], -25, "the processing fee is given back");
    assert_eq!(returned["net"], -19_975);
    let fee = by("ach_return_fee", &id(&second));
    assert_eq!(
        (fee["fee"].clone(), fee["net"].clone()),
        (json!(500), json!(-500))
    );
    let submitted = by("ach_submitted", &id(&third));
    assert_eq!(
        (
            submitted["amount"].clone(),
            submitted["fee"].clone(),
            submitted["net"].clone()
        ),
        (json!(30_000), json!(25), json!(29_975))
    );
    let r = op_rows
        .iter()
        .find(|r| r["kind"] == "card_refunded")
        .unwrap();
    assert_eq!(r["refundId"], refund["id"]);
    assert_eq!(
        (r["amount"].clone(), r["net"].clone()),
        (json!(2_000), json!(-2_000))
    );

    // Trace numbers and amounts against the NACHA files of the day (and of P).
    submitted_rows_match_nacha(&op_rows, &nacha_entries(&app, d).await);
    let p_files = files_of(&app, &admin(), p).await;
    let p_rows = jsonl(
        &app,
        &admin(),
        file_for(&p_files, "operator", None)["id"].as_str().unwrap(),
    )
    .await;
    submitted_rows_match_nacha(&p_rows, &nacha_entries(&app, p).await);
    assert_eq!(returned["traceNumber"], {
        let e_rows = jsonl(
            &app,
            &admin(),
            file_for(&files_of(&app, &admin(), e).await, "operator", None)["id"]
                .as_str()
                .unwrap(),
        )
        .await;
        e_rows
            .iter()
            .find(|r| r["kind"] == "ach_submitted")
            .unwrap()["traceNumber"]
            .clone()
    });

    // Each account's file against its ledger entries; customer files and
    // the operator's add up.
    let a_file = file_for(&all, "account", Some(&acc_a));
    let a_rows = jsonl(&app, &a, a_file["id"].as_str().unwrap()).await;
    account_file_matches_the_ledger(&app, &a, &acc_a, d, &a_rows).await;
    let b_file = file_for(&all, "account", Some(&acc_b));
    let b_rows = jsonl(&app, &b_creds, b_file["id"].as_str().unwrap()).await;
    account_file_matches_the_ledger(&app, &b_creds, &acc_b, d, &b_rows).await;
    let cus_a_rows = jsonl(
        &app,
        &a,
        file_for(&all, "customer", Some(&cus_a))["id"]
            .as_str()
            .unwrap(),
    )
    .await;
    assert_eq!(
        cus_a_rows[..cus_a_rows.len() - 1],
        a_rows[..a_rows.len() - 1]
    );
    let total = |rows: &[Value]| rows.last().unwrap()["net"].as_i64().unwrap();
    assert_eq!(total(&op_rows), total(&a_rows) + total(&b_rows));
    assert_eq!(op_rows.last().unwrap()["tiesOut"], true);
    assert_eq!(
        op_rows.len() - 1,
        a_rows.len() - 1 + b_rows.len() - 1
            + op_rows.iter().filter(|r| r["kind"] == "ach_offset").count()
    );

    // CSV: parses with a CSV reader, the same rows as the JSON lines.
    let csv = csv_rows(&app, &a, a_file["id"].as_str().unwrap()).await;
    assert_eq!(csv.len(), a_rows.len());
    for (c, j) in csv.iter().zip(&a_rows) {
        let j = j.as_object().unwrap();
        assert_eq!(c.len(), j.len());
        for (k, v) in j {
            assert_eq!(c[k], as_csv(v), "column {k}");
        }
    }

    // Isolation: a customer lists only its own files and cannot fetch another's.
    let mine = files_of(&app, &a, d).await;
    assert!(!mine.is_empty());
    assert!(
        mine.iter().all(|f| f["customerId"] == cus_a.as_str()),
        "{mine:#?}"
    );
    for other in [b_file, file_for(&all, "customer", Some(&cus_b)), operator] {
        let r = app
            .get(
                &a,
                &format!(
                    "/v1/reports/daily-files/{}/content",
                    other["id"].as_str().unwrap()
                ),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    }
    let r = app
        .post(
            &a,
            "/v1/reports/daily-files",
            json!({"date": d.to_string()}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    ledger_is_sound(&app).await;
}

async fn daily_file_requests_with_bad_input_are_refused_naming_the_field(b: Backend) {
    let app = spawn_app(b).await;
    for path in [
        "/v1/reports/daily-files?date=2026-13-01",
        "/v1/reports/daily-files?date=yesterday",
    ] {
        let r = app.get(&admin(), path).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        assert_eq!(r.error_param().as_deref(), Some("date"));
    }
    let today = local_date(sandbox_now(&app).await);
    for date in ["2026-02-30".to_owned(), (today + Days::new(1)).to_string()] {
        let r = app
            .post(&admin(), "/v1/reports/daily-files", json!({"date": date}))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        assert_eq!(r.error_param().as_deref(), Some("date"));
    }
    let r = app
        .get(&admin(), &format!("/v1/reports/daily-files?date={today}"))
        .await;
    assert_eq!(r.json()["data"], json!([]), "nothing was generated");
    let r = app
        .get(
            &admin(),
            "/v1/reports/daily-files/dfl_00000000000000000000000000000000/content?format=xml",
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.error_param().as_deref(), Some("format"));
    let r = app
        .get(
            &admin(),
            "/v1/reports/daily-files/dfl_00000000000000000000000000000000/content",
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
}

async fn ach_refunds_and_reversals_filed_and_returned_in_a_day_match_the_nacha_credit_file(
    b: Backend,
) {
    let dir = TempDir::new();
    // Balanced: the credit file's batches are offset by debits
    // (`ach_credit_offset` rows in the operator's file).
    let app = spawn_app_with(b, |c| c.odfi = vec![odfi(dir.path(), true)]).await;
    let cal = app.state().ach.calendar.clone();
    let (_, creds) = app.customer_with_key("Acme", json!({})).await;
    let acc = destination(&app, &creds).await;
    let pm = make_pm(&app, &creds, PAYER).await;
    let refunded = collect(
        &app,
        &creds,
        &acc,
        &pm,
        "9000",
        json!({"externalId": "inv-9"}),
    )
    .await;
    let reversed = collect(&app, &creds, &acc, &pm, "12345", json!({})).await;
    let id = |c: &Value| c["id"].as_str().unwrap().to_owned();
    let (refunded, reversed) = (id(&refunded), id(&reversed));
    let filed = next_banking_day(&cal, local_date(sandbox_now(&app).await));
    advance_to_eastern(&app, filed, 20, 30).await;
    until_completed(&app, &creds, &refunded).await;
    until_completed(&app, &creds, &reversed).await;

    // Day D: a refund and a reversal, both filed at D's cutoff in the
    // credit file, then both returned by the bank the same evening.
    let d = next_banking_day(&cal, local_date(sandbox_now(&app).await));
    advance_to_eastern(&app, d, 9, 0).await;
    let refund = post_ok(
        &app,
        &creds,
        &format!("/v1/collections/{refunded}/refunds"),
        json!({"amount": {"currency": "USD", "value": "4000"}}),
    )
    .await;
    let refund_id = refund["id"].as_str().unwrap().to_owned();
    assert!(refund_id.starts_with("rfd_"), "{refund}");
    let reversal = post_ok(
        &app,
        &admin(),
        &format!("/v1/collections/{reversed}/reversal"),
        json!({"reason": "duplicate"}),
    )
    .await;
    let reversal_id = reversal["id"].as_str().unwrap().to_owned();
    advance_to_eastern(&app, d, 20, 30).await;
    let nacha = nacha_entries(&app, d).await;
    let credit_file = app
        .get(&creds, &format!("/v1/refunds/{refund_id}"))
        .await
        .json()["ach"]["fileId"]
        .as_str()
        .unwrap()
        .to_owned();
    let bytes = app
        .get(&admin(), &format!("/v1/ach/files/{credit_file}/content"))
        .await
        .text
        .into_bytes();
    let report = upload_returns(&app, return_file_for(&app, &bytes)).await;
    assert_eq!(report["returnsMatched"], 2, "{report}");
    advance_to_eastern(&app, d + Days::new(1), 2, 0).await;

    let all = files_of(&app, &admin(), d).await;
    let operator = file_for(&all, "operator", None);
    assert_eq!(operator["tiesOut"], true, "{operator:#}");
    let op_rows = jsonl(&app, &admin(), operator["id"].as_str().unwrap()).await;
    let row = |kind: &str| -> Value {
        let found: Vec<&Value> = op_rows.iter().filter(|r| r["kind"] == kind).collect();
        assert_eq!(found.len(), 1, "one {kind} row: {op_rows:#?}");
        found[0].clone()
    };
    let (made, back) = (row("ach_refund"), row("ach_refund_returned"));
    let (undo, rv_back) = (row("ach_reversed"), row("ach_reversal_returned"));
    for r in [&made, &back] {
        assert_eq!(r["refundId"], refund_id.as_str(), "{r}");
        assert_eq!(r["reversalId"], Value::Null, "{r}");
        assert_eq!(r["collectionId"], refunded.as_str(), "{r}");
        assert_eq!(r["externalId"], "inv-9", "{r}");
        assert_eq!(r["amount"], 4000, "{r}");
    }
    assert_eq!(
        (made["net"].clone(), back["net"].clone()),
        (json!(-4000), json!(4000))
    );
    for r in [&undo, &rv_back] {
        assert_eq!(r["reversalId"], reversal_id.as_str(), "{r}");
        assert_eq!(r["refundId"], Value::Null, "{r}");
        assert_eq!(r["collectionId"], reversed.as_str(), "{r}");
        assert_eq!(r["amount"], 12_345, "{r}");
    }
    assert!(
        undo["net"].as_i64().unwrap() < 0,
        "the debit undone: {undo}"
    );
    assert_eq!(rv_back["net"], 12_345, "{rv_back}");
    for r in [&back, &rv_back] {
        assert_eq!(r["returnCode"], "R01", "{r}");
    }
    // Trace numbers, amounts and file: the day's NACHA credit file entries.
    for r in [&made, &back, &undo, &rv_back] {
        let trace = r["traceNumber"].as_str().unwrap_or_else(|| panic!("{r}"));
        let (amount, file) = &nacha[trace];
        assert_eq!(r["nachaFileId"], file.as_str(), "{r}");
        assert_eq!(r["nachaFileId"], credit_file.as_str(), "{r}");
        assert!(r["nachaFileName"].is_string(), "{r}");
        assert!(r["effectiveDate"].is_string(), "{r}");
        assert_eq!(r["secCode"], "PPD", "{r}");
        assert_eq!(r["rail"], "ach", "{r}");
        assert_eq!(r["amount"], *amount, "{r}");
    }
    assert_eq!(made["traceNumber"], back["traceNumber"]);
    assert_eq!(undo["traceNumber"], rv_back["traceNumber"]);
    assert_ne!(made["traceNumber"], undo["traceNumber"]);
    // The offset debits of the balanced credit file: the rest of its entries.
    let offsets: Vec<&Value> = op_rows
        .iter()
        .filter(|r| r["kind"] == "ach_credit_offset")
        .collect();
    assert!(!offsets.is_empty(), "{op_rows:#?}");
    let mut traced: BTreeSet<String> = BTreeSet::new();
    for r in offsets.iter().copied().chain([&made, &undo]) {
        let trace = r["traceNumber"].as_str().unwrap();
        assert_eq!(r["amount"], nacha[trace].0, "{r}");
        traced.insert(trace.to_owned());
    }
    assert_eq!(traced, nacha.keys().cloned().collect::<BTreeSet<_>>());

    // The account's file: every row against the ledger, control total ties.
    let a_file = file_for(&all, "account", Some(&acc));
    let a_rows = jsonl(&app, &creds, a_file["id"].as_str().unwrap()).await;
    account_file_matches_the_ledger(&app, &creds, &acc, d, &a_rows).await;
    for k in [
        "ach_refund",
        "ach_refund_returned",
        "ach_reversed",
        "ach_reversal_returned",
    ] {
        assert_eq!(
            a_rows.iter().filter(|r| r["kind"] == k).count(),
            1,
            "{k}: {a_rows:#?}"
        );
    }
    assert_eq!(
        op_rows.last().unwrap()["net"],
        a_rows.last().unwrap()["net"]
    );
    ledger_is_sound(&app).await;
    app.stop().await;
}
