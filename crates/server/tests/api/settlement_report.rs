//! The settlement report has one section per rail, on both backends over
//! HTTP: on a day with ACH debits and card sales, refunds and voids, the ACH
//! section ties to the day's NACHA files and the card section to the day's
//! batch close (before, card captures counted as ACH "submitted" and card
//! refunds and voids as "returned", so the report never tied out on a day
//! with card activity).

use crate::support;

use chrono::Days;
use inflow_core::calendar::{local_date, BankingCalendar};
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::ach::{advance_to_eastern, collect, destination, make_pm, sandbox_now};
use support::card::{charge, save_card};
use support::ledger::ledger_is_sound;
use support::*;

on_both_backends!(a_day_of_ach_and_card_activity_ties_out_in_both_sections);

async fn post_ok(app: &TestApp, creds: &Creds, path: &str, body: Value) -> Value {
    let r = app.post(creds, path, body).await;
    assert!(r.status.is_success(), "{path}: {} {}", r.status, r.text);
    r.json()
}

async fn sale(app: &TestApp, creds: &Creds, account: &str, pm: &str, cents: i64) -> String {
    let c = post_ok(
        app,
        creds,
        "/v1/collections/card",
        charge(account, pm, "sale", cents),
    )
    .await;
    c["id"].as_str().unwrap().to_owned()
}

fn usd(cents: i64) -> Value {
    json!({"amount": {"currency": "USD", "value": cents.to_string()}})
}

async fn a_day_of_ach_and_card_activity_ties_out_in_both_sections(b: Backend) {
    let app = spawn_app(b).await;
    // A banking day ahead, from 09:00 US/Eastern.
    let cal = BankingCalendar::federal_reserve();
    let mut day = local_date(sandbox_now(&app).await) + Days::new(2);
    while !cal.is_banking_day(day) {
        day = day + Days::new(1);
    }
    advance_to_eastern(&app, day, 9, 0).await;

    let (_, creds) = app.customer_with_key("Agency", json!({})).await;
    let account = destination(&app, &creds).await;
    let bank = make_pm(&app, &creds, "000123456789").await;
    collect(&app, &creds, &account, &bank, "125000", json!({})).await;
    collect(&app, &creds, &account, &bank, "7500", json!({})).await;

    let card = save_card(&app, &creds, "4242424242424242").await;
    sale(&app, &creds, &account, &card, 10_000).await;
    let part = sale(&app, &creds, &account, &card, 5_000).await;
    post_ok(
        &app,
        &creds,
        &format!("/v1/collections/{part}/refunds"),
        usd(2_000),
    )
    .await;
    let voided = sale(&app, &creds, &account, &card, 3_000).await;
    post_ok(
        &app,
        &creds,
        &format!("/v1/collections/{voided}/void"),
        json!({}),
    )
    .await;
    let whole = sale(&app, &creds, &account, &card, 4_000).await;
    post_ok(
        &app,
        &creds,
        &format!("/v1/collections/{whole}/refunds"),
        json!({}),
    )
    .await;

    // The standard cutoff (20:00) files the debits; the batch closes at 22:00.
    advance_to_eastern(&app, day, 22, 30).await;

    let r = app
        .get(&admin(), &format!("/v1/reports/settlement?date={day}"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let rep = r.json();
    let ties = &rep["tiesOut"];
    assert_eq!(ties["submittedMatchesNachaFiles"], true, "{rep:#}");
    assert_eq!(ties["cardSettledMatchesBatchCloses"], true, "{rep:#}");
    assert_eq!(ties["accountsMatchClearing"], true, "{rep:#}");

    // ACH: what was filed, and only that.
    let ach = &rep["ach"];
    assert_eq!(ach["tiesOut"], true);
    assert_eq!(
        ach["submitted"],
        json!({"count": 2, "amount": "132500"}),
        "{ach:#}"
    );
    assert_eq!(ach["nachaTotalDebit"], "132500");
    assert!(!ach["nachaFiles"].as_array().unwrap().is_empty());
    assert_eq!(
        ach["returned"]["count"], 0,
        "card refunds and voids are not ACH returns"
    );

    // Cards: four captures, one void, two refunds; the batch settled three
    // (the voided one is not settled; the one refunded in full is in the
    // batch but has nothing left to move).
    let cards = &rep["card"];
    assert_eq!(cards["tiesOut"], true, "{cards:#}");
    assert_eq!(
        cards["captured"],
        json!({"count": 4, "amount": "22000"}),
        "{cards:#}"
    );
    assert_eq!(
        cards["voided"],
        json!({"count": 1, "amount": "3000"}),
        "{cards:#}"
    );
    assert_eq!(
        cards["refunded"],
        json!({"count": 2, "amount": "6000"}),
        "{cards:#}"
    );
    assert_eq!(cards["settled"]["count"], 2, "{cards:#}");
    let batches = cards["batchCloses"].as_array().unwrap();
    assert_eq!(batches.len(), 1, "{cards:#}");
    assert_eq!(batches[0]["count"], 3, "{cards:#}");
    assert_eq!(batches[0]["capturedAmount"], "19000", "{cards:#}");
    assert_eq!(cards["unmatchedCollections"], json!([]));

    // The account line splits the rails the same way.
    let line = rep["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["accountId"] == account.as_str())
        .unwrap_or_else(|| panic!("{rep:#}"));
    assert_eq!(line["ach"]["submitted"]["count"], 2);
    assert_eq!(line["card"]["captured"]["count"], 4);
    assert_eq!(rep["totals"]["ach"], line["ach"]);
    ledger_is_sound(&app).await;

    // A collection recorded as settled by a batch close that day, with funds
    // pending but no settlement posting, is named and breaks the card tie
    // (and only that one).
    let late = sale(&app, &creds, &account, &card, 6_000).await;
    let at = sandbox_now(&app).await;
    assert_eq!(local_date(at), day);
    let mut tx = app.db.store.begin().await.unwrap();
    let id = inflow_core::ids::CollectionId::from_trusted(late.clone());
    let mut c = tx.get_card_collection(None, &id).await.unwrap();
    let (was, refunded) = (c.status, c.refunded_minor);
    c.batch_id = Some("forged".into());
    c.completed_at = Some(at);
    assert!(tx
        .update_card_collection_if(&c, was, refunded)
        .await
        .unwrap());
    tx.commit().await.unwrap();
    let rep = app
        .get(&admin(), &format!("/v1/reports/settlement?date={day}"))
        .await
        .json();
    assert_eq!(rep["card"]["tiesOut"], false, "{rep:#}");
    assert_eq!(rep["card"]["unmatchedCollections"], json!([late]));
    assert_eq!(rep["tiesOut"]["cardSettledMatchesBatchCloses"], false);
    assert_eq!(rep["tiesOut"]["submittedMatchesNachaFiles"], true);
}
