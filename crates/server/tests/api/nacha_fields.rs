//! Text the API writes into NACHA fields is refused with `400` naming the
//! field when moov-io/ach (and the NACHA rules) would refuse the file: a
//! company name, company identification or company entry description of
//! only zeros or spaces, a reserved company entry description (`REVERSAL`,
//! `RETURN FEE`, …) on an ordinary debit, and a holder name that is only
//! zeros or holds a character with no NACHA form. Nothing is created. On
//! both backends, over HTTP.
//!
//! Seen to fail before the fix: `achCompanyId "0000000000"`, holder names
//! `"0000000"` and `"Jane 日本"`, `companyEntryDescription "0000000000"` and
//! `"REVERSAL"` were all accepted (201/200); `companyName "0000"` was a
//! 403 for a name not allowed, not a 400 naming the field.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::ach::{destination, make_pm, try_collect};
use support::*;

on_both_backends!(
    zero_or_reserved_batch_header_text_on_a_collection_is_a_400_naming_the_field,
    holder_names_and_company_ids_that_cannot_be_written_are_a_400_naming_the_field,
);

fn bad(r: &Reply, param: &str, code: &str) {
    assert_eq!(
        (
            r.status,
            r.error_param().as_deref(),
            r.error_code().as_str()
        ),
        (StatusCode::BAD_REQUEST, Some(param), code),
        "{}",
        r.text
    );
}

async fn collections(app: &TestApp, creds: &Creds) -> usize {
    let v = app.get(creds, "/v1/collections?limit=100").await.json();
    v["data"].as_array().map_or(0, Vec::len)
}

async fn zero_or_reserved_batch_header_text_on_a_collection_is_a_400_naming_the_field(b: Backend) {
    let app = spawn_app(b).await;
    let (_, creds) = app.customer_with_key("Acme", json!({})).await;
    let dest = destination(&app, &creds).await;
    let pm = make_pm(&app, &creds, "000123456789").await;
    let cases = [
        (
            json!({"companyName": "0000"}),
            "companyName",
            "invalid_company_name",
        ),
        (
            json!({"companyName": "   "}),
            "companyName",
            "invalid_length",
        ),
        (
            json!({"companyEntryDescription": "0000000000"}),
            "companyEntryDescription",
            "invalid_entry_description",
        ),
        (
            json!({"companyEntryDescription": "REVERSAL"}),
            "companyEntryDescription",
            "reserved_entry_description",
        ),
        (
            json!({"companyEntryDescription": "return fee"}),
            "companyEntryDescription",
            "reserved_entry_description",
        ),
        (
            json!({"companyEntryDescription": "AUTOENROLL"}),
            "companyEntryDescription",
            "reserved_entry_description",
        ),
        (
            json!({"companyEntryDescription": "PAYÉ"}),
            "companyEntryDescription",
            "invalid_characters",
        ),
    ];
    for (extra, param, code) in cases {
        let r = try_collect(&app, &creds, &dest, &pm, "1000", extra).await;
        bad(&r, param, code);
    }
    assert_eq!(collections(&app, &creds).await, 0, "nothing created");
    let ok = json!({"companyEntryDescription": "Payroll"});
    let r = try_collect(&app, &creds, &dest, &pm, "1000", ok).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json()["companyEntryDescription"], "PAYROLL");
}

fn pm_body(holder: &str) -> Value {
    let mut b = bank_pm_body("000123456789");
    b["usBankAccount"]["holderName"] = json!(holder);
    b
}

async fn holder_names_and_company_ids_that_cannot_be_written_are_a_400_naming_the_field(
    b: Backend,
) {
    let app = spawn_app(b).await;
    let body = json!({"name": "Z", "kind": "business", "achCompanyName": "ZED", "achCompanyId": "0000000000"});
    let r = app.post(&admin(), "/v1/customers", body).await;
    bad(&r, "achCompanyId", "invalid_company_id");
    let (id, creds) = app.customer_with_key("Acme", json!({})).await;
    let r = app
        .call(
            &admin(),
            Method::PATCH,
            &format!("/v1/customers/{id}"),
            Some(json!({"achCompanyId": "0000000000"})),
        )
        .await;
    bad(&r, "achCompanyId", "invalid_company_id");

    for (holder, code) in [
        ("0000000", "invalid_name"),
        ("0 0 0", "invalid_name"),
        ("Jane 日本", "invalid_characters"),
    ] {
        let r = app
            .post(&creds, "/v1/payment-methods", pm_body(holder))
            .await;
        bad(&r, "usBankAccount.holderName", code);
    }
    let pms = app
        .get(&creds, "/v1/payment-methods?limit=100")
        .await
        .json();
    assert_eq!(
        pms["data"].as_array().map_or(0, Vec::len),
        0,
        "nothing created"
    );

    let r = app
        .post(&creds, "/v1/payment-methods", pm_body("José Núñez"))
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "accents have a NACHA form: {}",
        r.text
    );
    let pm = r.json()["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/payment-methods/{pm}");
    let r = app
        .call(
            &creds,
            Method::PATCH,
            &path,
            Some(json!({"holderName": "000"})),
        )
        .await;
    bad(&r, "holderName", "invalid_name");
}
