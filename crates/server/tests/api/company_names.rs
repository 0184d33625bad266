//! The company name in a NACHA batch header is who the bank and the payer
//! see as the originator, so a customer may put on a collection only its own
//! `achCompanyName` (or the configured default without one) and the names
//! the operator allowed it (`allowedCompanyNames`); anything else is
//! `403 company_name_not_allowed` and creates nothing. On both backends,
//! over HTTP, plus the CLI.
//!
//! Seen to fail before the fix: any `companyName` was accepted (201).

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::ach::{destination, make_pm, try_collect};
use support::*;

on_both_backends!(
    a_collection_may_carry_only_a_company_name_the_operator_allowed,
    operators_set_allowed_company_names_and_bad_ones_are_refused_precisely,
);

/// `(collections, events)` the customer has: to prove a refusal created nothing.
async fn footprint(app: &TestApp, creds: &Creds) -> (usize, usize) {
    let count = |v: Value| v["data"].as_array().map_or(0, Vec::len);
    let c = app.get(creds, "/v1/collections?limit=100").await.json();
    let e = app.get(creds, "/v1/events?limit=100").await.json();
    (count(c), count(e))
}

/// A debit of `amount` cents carrying `company_name`.
async fn with_name(
    app: &TestApp,
    creds: &Creds,
    (dest, pm): (&str, &str),
    amount: &str,
    company_name: &str,
) -> Reply {
    let extra = json!({"companyName": company_name});
    try_collect(app, creds, dest, pm, amount, extra).await
}

fn refused(r: &Reply) {
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(r.error_code(), "company_name_not_allowed");
    assert_eq!(r.error_param().as_deref(), Some("companyName"));
}

async fn a_collection_may_carry_only_a_company_name_the_operator_allowed(b: Backend) {
    let app = spawn_app(b).await;
    let extra = json!({"allowedCompanyNames": ["Acme Billing"]});
    let (_, creds) = app.customer_with_key("Acme", extra).await;
    let dest = destination(&app, &creds).await;
    let pm = make_pm(&app, &creds, "000123456789").await;
    let src = (dest.as_str(), pm.as_str());

    let r = with_name(&app, &creds, src, "1000", "Acme Billing").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json()["companyName"], "ACME BILLING");
    let r = with_name(&app, &creds, src, "1001", "acme").await;
    assert_eq!(r.status, StatusCode::CREATED, "its own name: {}", r.text);
    assert_eq!(r.json()["companyName"], "ACME");
    let r = try_collect(&app, &creds, &dest, &pm, "1002", json!({})).await;
    assert_eq!(r.json()["companyName"], "ACME", "the default is its own");

    let before = footprint(&app, &creds).await;
    for spoof in ["BIG BANK", "IRS TREAS 310", "ACME BILLING CO"] {
        refused(&with_name(&app, &creds, src, "1003", spoof).await);
    }
    assert_eq!(footprint(&app, &creds).await, before, "nothing created");

    // Without achCompanyName of its own, the configured default is its name.
    let extra = json!({"achCompanyName": null});
    let (_, other) = app.customer_with_key("Other", extra).await;
    let dest = destination(&app, &other).await;
    let pm = make_pm(&app, &other, "000123456789").await;
    let src = (dest.as_str(), pm.as_str());
    let r = with_name(&app, &other, src, "1000", "Inflow Sandbox").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    refused(&with_name(&app, &other, src, "1001", "ACME").await);
}

async fn operators_set_allowed_company_names_and_bad_ones_are_refused_precisely(b: Backend) {
    let app = spawn_app(b).await;
    let customers = || async { app.get(&admin(), "/v1/customers?limit=100").await.json() };
    let before = customers().await;
    for (names, param) in [
        (
            json!(["ok", "far too long a company name"]),
            "allowedCompanyNames[1]",
        ),
        (json!(["0000"]), "allowedCompanyNames[0]"),
        (json!(["   "]), "allowedCompanyNames[0]"),
        (json!(["Café"]), "allowedCompanyNames[0]"),
    ] {
        let body = json!({"name": "X", "kind": "business", "allowedCompanyNames": names});
        let r = app.post(&admin(), "/v1/customers", body).await;
        assert_eq!(
            (r.status, r.error_param().as_deref()),
            (StatusCode::BAD_REQUEST, Some(param)),
            "{}",
            r.text
        );
    }
    assert_eq!(customers().await, before, "nothing created");

    let extra = json!({"allowedCompanyNames": ["Acme Billing", "acme billing"]});
    let (id, creds) = app.customer_with_key("Acme", extra).await;
    let path = format!("/v1/customers/{id}");
    let c = app.get(&creds, &path).await.json();
    assert_eq!(c["allowedCompanyNames"], json!(["ACME BILLING"]));
    let dest = destination(&app, &creds).await;
    let pm = make_pm(&app, &creds, "000123456789").await;
    let src = (dest.as_str(), pm.as_str());

    // Only the operator changes the list; a bad list changes nothing.
    let grant = json!({"allowedCompanyNames": ["Big Bank"]});
    let r = app.call(&creds, Method::PATCH, &path, Some(grant)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let bad = json!({"allowedCompanyNames": ["Acme Payroll", "x".repeat(17)]});
    let r = app.call(&admin(), Method::PATCH, &path, Some(bad)).await;
    assert_eq!(r.error_param().as_deref(), Some("allowedCompanyNames[1]"));
    assert_eq!(app.get(&creds, &path).await.json(), c, "unchanged");

    let replace = json!({"allowedCompanyNames": ["Acme Payroll"]});
    let r = app
        .call(&admin(), Method::PATCH, &path, Some(replace))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["allowedCompanyNames"], json!(["ACME PAYROLL"]));
    refused(&with_name(&app, &creds, src, "1000", "Acme Billing").await);
    let r = with_name(&app, &creds, src, "1001", "Acme Payroll").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    let clear = json!({"allowedCompanyNames": []});
    let r = app.call(&admin(), Method::PATCH, &path, Some(clear)).await;
    assert_eq!(r.json()["allowedCompanyNames"], json!([]));
    refused(&with_name(&app, &creds, src, "1002", "Acme Payroll").await);
}

#[test]
fn the_cli_sets_allowed_company_names_when_it_creates_a_customer() {
    let dir = std::env::temp_dir().join(format!("inflow-names-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "customers",
            "create",
            "--name",
            "Acme",
            "--kind",
            "business",
        ];
        args.extend(["--ach-company-name", "ACME", "--json"]);
        args.extend(extra);
        std::process::Command::new(env!("CARGO_BIN_EXE_inflow"))
            .args(args)
            .current_dir(&dir)
            .env_remove("INFLOW_DATABASE_URL")
            .env_remove("INFLOW_DATA_DIR")
            .output()
            .unwrap()
    };
    let out = run(&[
        "--allow-company-name",
        "Acme Billing",
        "--allow-company-name",
        "ACME PAYROLL",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        created["allowedCompanyNames"],
        json!(["ACME BILLING", "ACME PAYROLL"])
    );
    let bad = run(&["--allow-company-name", "0000"]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("allowedCompanyNames[0]"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
