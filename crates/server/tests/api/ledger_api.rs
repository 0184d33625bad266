//! Fees, balances, ledger entries and reports over HTTP, on both backends:
//! the fees and `totalCreditAmount` a collection shows are what the ledger
//! credits; a returned debit is reversed with its return fee; the settlement
//! report ties to the ledger and to the day's NACHA files.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::ach::*;
use support::ledger::{balances, int};
use support::*;

on_both_backends!(
    fees_and_total_credit_match_the_ledger_through_completion_and_return,
    fee_schedules_are_operator_only_and_validated,
);

async fn put(app: &TestApp, creds: &Creds, path: &str, body: Value) -> Reply {
    app.call(creds, Method::PUT, path, Some(body)).await
}

async fn fee_schedules_are_operator_only_and_validated(b: Backend) {
    let app = spawn_app(b).await;
    let (cus, creds) = app.customer_with_key("Acme", json!({})).await;
    let r = put(
        &app,
        &creds,
        "/v1/fee-schedules/default",
        json!({"achFixed": 1}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = put(
        &app,
        &admin(),
        &format!("/v1/fee-schedules/{cus}"),
        json!({"achPercentageBps": 20000}),
    )
    .await;
    assert_eq!(
        (r.status, r.error_param().as_deref()),
        (StatusCode::BAD_REQUEST, Some("achPercentageBps")),
        "{}",
        r.text
    );
    let r = put(
        &app,
        &admin(),
        "/v1/fee-schedules/default",
        json!({"achFixed": "12"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    let r = app.get(&admin(), &format!("/v1/fee-schedules/{cus}")).await;
    assert_eq!(r.json()["source"], "none", "{}", r.text);
    let r = put(
        &app,
        &admin(),
        "/v1/fee-schedules/default",
        json!({"achFixed": 40}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app.get(&admin(), &format!("/v1/fee-schedules/{cus}")).await;
    assert_eq!(
        (r.json()["source"].clone(), r.json()["achFixed"].clone()),
        (json!("default"), json!(40))
    );
    let r = app.get(&admin(), "/v1/fee-schedules/cus_nope").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // A debit smaller than its fees is refused, naming the field.
    let dest = destination(&app, &creds).await;
    let pm = make_pm(&app, &creds, "000123456789").await;
    let r = try_collect(&app, &creds, &dest, &pm, "30", json!({})).await;
    assert_eq!(
        (r.status, r.error_param().as_deref()),
        (StatusCode::BAD_REQUEST, Some("amount.value")),
        "{}",
        r.text
    );
    app.stop().await;
}

async fn fees_and_total_credit_match_the_ledger_through_completion_and_return(b: Backend) {
    let app = spawn_app(b).await;
    let (cus, creds) = app.customer_with_key("Acme", json!({})).await;
    let r = put(
        &app,
        &admin(),
        "/v1/fee-schedules/default",
        json!({"achFixed": 500}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = put(
        &app,
        &admin(),
        &format!("/v1/fee-schedules/{cus}"),
        json!({"achFixed": 25, "achPercentageBps": 100, "achPercentageMin": 10, "achPercentageMax": 500,
               "achReturnFee": 1500}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let dest = destination(&app, &creds).await;
    let good = make_pm(&app, &creds, "000123456789").await;
    let nsf = make_pm(&app, &creds, "9999000101").await;

    let ok = collect(&app, &creds, &dest, &good, "125000", json!({})).await;
    // 25 fixed + 1% of 1250.00 = 12.50, capped at 5.00.
    assert_eq!(ok["fees"]["fixed"]["value"], "25");
    assert_eq!(ok["fees"]["percentage"]["value"], "500");
    assert_eq!(ok["fees"]["total"]["value"], "525");
    assert_eq!(ok["fees"]["returnFee"]["value"], "1500");
    assert_eq!(ok["totalCreditAmount"]["value"], "124475");
    let bad = collect(&app, &creds, &dest, &nsf, "5000", json!({})).await;
    assert_eq!(bad["totalCreditAmount"]["value"], "4925", "{bad}");
    let ok_id = ok["id"].as_str().unwrap().to_owned();
    let bad_id = bad["id"].as_str().unwrap().to_owned();
    assert_eq!(
        balances(&app, &creds, &dest).await,
        (0, 0, 0),
        "nothing before the file"
    );

    // Until filed: then the net credit is pending.
    let mut c = collection(&app, &creds, &ok_id).await;
    for _ in 0..6 {
        if c["status"] != "pending" {
            break;
        }
        advance_days(&app, 1).await;
        c = collection(&app, &creds, &ok_id).await;
    }
    let submitted_on = c["statusHistory"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["status"] == "submitted")
        .map(|h| h["at"].as_str().unwrap().to_owned())
        .expect("submitted");
    let submitted_at = chrono::DateTime::parse_from_rfc3339(&submitted_on).unwrap();
    let day = submitted_at
        .with_timezone(&inflow_core::calendar::EASTERN)
        .date_naive();
    let (pending, available, _) = balances(&app, &creds, &dest).await;
    assert!(pending > 0 || available > 0);

    // Days pass: the good one completes, the R01 one is returned.
    for _ in 0..8 {
        let c = collection(&app, &creds, &ok_id).await;
        let b = collection(&app, &creds, &bad_id).await;
        if c["status"] == "completed" && b["status"] == "returned" {
            break;
        }
        advance_days(&app, 1).await;
    }
    assert_eq!(
        collection(&app, &creds, &ok_id).await["status"],
        "completed"
    );
    assert_eq!(
        collection(&app, &creds, &bad_id).await["status"],
        "returned"
    );
    assert_eq!(
        balances(&app, &creds, &dest).await,
        (0, 124_475 - 1_500, 124_475 - 1_500),
        "available = the good net credit less the return fee"
    );

    // Entries: every one names its collection, and they sum to the balance.
    let entries = app
        .get(&creds, &format!("/v1/accounts/{dest}/entries?limit=3"))
        .await;
    assert_eq!(entries.status, StatusCode::OK, "{}", entries.text);
    let first = entries.json();
    assert_eq!(first["hasMore"], true);
    let mut all: Vec<Value> = first["data"].as_array().unwrap().clone();
    let mut cursor = first["nextCursor"].as_str().map(str::to_owned);
    while let Some(cur) = cursor {
        let p = app
            .get(
                &creds,
                &format!("/v1/accounts/{dest}/entries?limit=3&startingAfter={cur}"),
            )
            .await
            .json();
        all.extend(p["data"].as_array().unwrap().iter().cloned());
        cursor = p["nextCursor"].as_str().map(str::to_owned);
    }
    let sum: i64 = all
        .iter()
        .map(|e| {
            let v = int(&e["amount"]);
            if e["direction"] == "credit" {
                v
            } else {
                -v
            }
        })
        .sum();
    assert_eq!(sum, 124_475 - 1_500);
    assert!(all.iter().all(|e| e["collectionId"].is_string()), "{all:?}");
    let other = app.customer_with_key("Other", json!({})).await.1;
    assert_eq!(
        app.get(&other, &format!("/v1/accounts/{dest}/entries"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // The submission day's report ties to its NACHA files and to the ledger.
    let rep = app
        .get(&admin(), &format!("/v1/reports/settlement?date={day}"))
        .await;
    assert_eq!(rep.status, StatusCode::OK, "{}", rep.text);
    let rep = rep.json();
    assert_eq!(
        rep["totals"]["ach"]["submitted"]["amount"], "130000",
        "{rep}"
    );
    assert_eq!(rep["totals"]["fees"], "600", "{rep}");
    assert_eq!(rep["ties_out"], Value::Null);
    assert_eq!(rep["tiesOut"]["submittedMatchesNachaFiles"], true, "{rep}");
    assert_eq!(rep["tiesOut"]["accountsMatchClearing"], true, "{rep}");
    let r = app
        .get(&admin(), "/v1/reports/settlement?date=2026-13-01")
        .await;
    assert_eq!(
        (r.status, r.error_param().as_deref()),
        (StatusCode::BAD_REQUEST, Some("date"))
    );
    assert_eq!(
        app.get(&creds, &format!("/v1/reports/settlement?date={day}"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    // Return rates: one R01 (administrative? no: NSF counts only overall) of two debits.
    let rr = app
        .get(
            &admin(),
            &format!("/v1/reports/return-rates?customerId={cus}"),
        )
        .await;
    assert_eq!(rr.status, StatusCode::OK, "{}", rr.text);
    let rr = rr.json();
    assert_eq!(rr["debitEntries"], 2, "{rr}");
    assert_eq!(rr["overall"]["returns"], 1);
    assert_eq!(rr["overall"]["exceeded"], true);
    assert_eq!(rr["unauthorized"]["returns"], 0);
    assert_eq!(rr["byCode"]["R01"], 1);

    // The store agrees with itself.
    let check = app
        .db
        .store
        .read()
        .await
        .unwrap()
        .check_ledger()
        .await
        .unwrap();
    assert!(check.is_ok(), "{check:?}");
    app.stop().await;
}
