//! ACH collections over HTTP, on both backends: creation rules, duplicates,
//! idempotency, cancellation, listing, and the events each change writes.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::*;

on_both_backends!(
    a_debit_is_accepted_pending_with_its_effective_date_and_a_created_event,
    the_unified_endpoint_needs_the_rail_and_gives_the_same_resource,
    amounts_must_fit_the_entry_type_and_same_day_limit,
    duplicates_are_refused_naming_the_first_unless_allowed,
    one_time_sources_are_for_enabled_business_customers_only,
    cancel_works_before_the_file_and_is_refused_after,
    collections_list_with_filters,
    a_blocked_destination_puts_the_collection_on_hold,
    deferred_debits_are_scheduled_until_their_release_day,
);

struct Setup {
    creds: Creds,
    account: String,
    pm: String,
}

async fn setup(app: &TestApp, extra: Value) -> Setup {
    let (_, creds) = app.customer_with_key("Acme", extra).await;
    let account = app
        .post(&creds, "/v1/accounts", json!({"name": "Main"}))
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let pm = app
        .post(&creds, "/v1/payment-methods", bank_pm_body("000123456789"))
        .await;
    assert_eq!(pm.status, StatusCode::CREATED, "{}", pm.text);
    Setup {
        creds,
        account,
        pm: pm.json()["id"].as_str().unwrap().to_owned(),
    }
}

fn debit(s: &Setup, amount: &str) -> Value {
    json!({
        "destinationAccountId": s.account,
        "paymentMethodId": s.pm,
        "amount": {"currency": "USD", "value": amount},
        "authorization": {"type": "online", "obtainedAt": "2026-01-05T10:00:00Z", "ipAddress": "203.0.113.9"},
        "reference": "INV-42"
    })
}

async fn events_for(app: &TestApp, id: &str) -> Vec<String> {
    let mut tx = app.db.store.read().await.unwrap();
    tx.events_for_object(id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .collect()
}

async fn a_debit_is_accepted_pending_with_its_effective_date_and_a_created_event(b: Backend) {
    let app = spawn_app(b).await;
    let s = setup(&app, json!({})).await;
    let r = app
        .post(&s.creds, "/v1/collections/ach", debit(&s, "250000"))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let c = r.json();
    assert_eq!(c["status"], "pending");
    assert_eq!(c["rail"], "ach");
    assert_eq!(c["direction"], "inbound");
    assert_eq!(c["type"], "debit");
    assert_eq!(
        c["secCode"], "WEB",
        "individual + online authorisation defaults to WEB"
    );
    assert_eq!(c["paymentType"], "single");
    assert_eq!(
        c["amount"],
        json!({"currency": "USD", "value": "250000", "exponent": 2, "displayValue": "2500.00"})
    );
    assert_eq!(c["cancellable"], true);
    assert_eq!(c["source"]["accountNumberMasked"], "****6789");
    assert!(c["effectiveDate"].as_str().unwrap().len() == 10);
    assert_eq!(c["statusHistory"].as_array().unwrap().len(), 1);
    assert!(c["traceNumber"].is_null());
    assert!(!r.text.contains("000123456789"));
    let id = c["id"].as_str().unwrap();
    assert_eq!(events_for(&app, id).await, vec!["collection.created"]);
    let got = app.get(&s.creds, &format!("/v1/collections/{id}")).await;
    assert_eq!(got.json(), c);
    app.stop().await;
}

async fn the_unified_endpoint_needs_the_rail_and_gives_the_same_resource(b: Backend) {
    let app = spawn_app(b).await;
    let s = setup(&app, json!({})).await;
    let r = app
        .post(&s.creds, "/v1/collections", debit(&s, "100"))
        .await;
    assert_eq!(
        (r.status, r.error_param().as_deref()),
        (StatusCode::BAD_REQUEST, Some("rail"))
    );
    let mut body = debit(&s, "100");
    body["rail"] = json!("ach");
    let r = app.post(&s.creds, "/v1/collections", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json()["rail"], "ach");
    let mut body = debit(&s, "100");
    body["rail"] = json!("wire");
    assert_eq!(
        app.post(&s.creds, "/v1/collections", body)
            .await
            .error_param()
            .as_deref(),
        Some("rail")
    );
    app.stop().await;
}

async fn amounts_must_fit_the_entry_type_and_same_day_limit(b: Backend) {
    let app = spawn_app(b).await;
    let s = setup(&app, json!({})).await;
    let cases = [
        (json!({"value": "0"}), None, "invalid_amount"),
        (json!({"value": "100"}), Some("prenote"), "invalid_amount"),
        (json!({"value": "12.50"}), None, "invalid_amount"),
        (json!({"value": "-5"}), None, "invalid_amount"),
    ];
    for (amount, kind, code) in cases {
        let mut body = debit(&s, "1");
        body["amount"]["value"] = amount["value"].clone();
        if let Some(k) = kind {
            body["type"] = json!(k);
        }
        let r = app.post(&s.creds, "/v1/collections/ach", body).await;
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (StatusCode::BAD_REQUEST, code),
            "{}",
            r.text
        );
        assert_eq!(r.error_param().as_deref(), Some("amount.value"));
    }
    let mut body = debit(&s, "100000001");
    body["processingMode"] = json!("same_day");
    let r = app.post(&s.creds, "/v1/collections/ach", body).await;
    assert_eq!(r.error_code(), "same_day_limit_exceeded");
    let mut body = debit(&s, "0");
    body["type"] = json!("prenote");
    let r = app.post(&s.creds, "/v1/collections/ach", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json()["companyEntryDescription"], "PRENOTE");
    let mut body = debit(&s, "100");
    body["addenda"] = json!("x".repeat(81));
    assert_eq!(
        app.post(&s.creds, "/v1/collections/ach", body)
            .await
            .error_param()
            .as_deref(),
        Some("addenda")
    );
    let mut body = debit(&s, "100");
    body["secCode"] = json!("TEL");
    body["addenda"] = json!("hello");
    assert_eq!(
        app.post(&s.creds, "/v1/collections/ach", body)
            .await
            .error_code(),
        "addenda_not_allowed"
    );
    let mut body = debit(&s, "100");
    body["secCode"] = json!("CCD");
    assert_eq!(
        app.post(&s.creds, "/v1/collections/ach", body)
            .await
            .error_code(),
        "sec_code_mismatch"
    );
    let mut body = debit(&s, "100");
    body["effectiveDate"] = json!("2020-01-02");
    let r = app.post(&s.creds, "/v1/collections/ach", body).await;
    assert_eq!(
        (r.status, r.error_param().as_deref()),
        (StatusCode::BAD_REQUEST, Some("effectiveDate"))
    );
    let mut body = debit(&s, "100");
    body.as_object_mut().unwrap().remove("authorization");
    assert_eq!(
        app.post(&s.creds, "/v1/collections/ach", body)
            .await
            .error_param()
            .as_deref(),
        Some("authorization")
    );
    let listed = app.get(&s.creds, "/v1/collections").await.json();
    assert_eq!(
        listed["data"].as_array().unwrap().len(),
        1,
        "only the valid prenote was created"
    );
    app.stop().await;
}

async fn duplicates_are_refused_naming_the_first_unless_allowed(b: Backend) {
    let app = spawn_app(b).await;
    let s = setup(&app, json!({})).await;
    let first = app
        .post(&s.creds, "/v1/collections/ach", debit(&s, "5000"))
        .await
        .json();
    let dup = app
        .post(&s.creds, "/v1/collections/ach", debit(&s, "5000"))
        .await;
    assert_eq!(
        (dup.status, dup.error_code().as_str()),
        (StatusCode::CONFLICT, "duplicate_transaction")
    );
    assert!(dup.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains(first["id"].as_str().unwrap()));
    let other_amount = app
        .post(&s.creds, "/v1/collections/ach", debit(&s, "5001"))
        .await;
    assert_eq!(other_amount.status, StatusCode::CREATED);
    let mut allowed = debit(&s, "5000");
    allowed["allowDuplicate"] = json!(true);
    assert_eq!(
        app.post(&s.creds, "/v1/collections/ach", allowed)
            .await
            .status,
        StatusCode::CREATED
    );
    // An idempotent retry is not a duplicate: it replays.
    let body = debit(&s, "7000").to_string();
    let key = [("idempotency-key", "col-1")];
    let a = app
        .send(
            Some(&s.creds),
            Method::POST,
            "/v1/collections/ach",
            Some(&body),
            true,
            &key,
        )
        .await;
    let b2 = app
        .send(
            Some(&s.creds),
            Method::POST,
            "/v1/collections/ach",
            Some(&body),
            true,
            &key,
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert_eq!(a.text, b2.text);
    assert_eq!(b2.headers.get("idempotent-replayed").unwrap(), "true");
    let mut ext = debit(&s, "8000");
    ext["externalId"] = json!("order-9");
    assert_eq!(
        app.post(&s.creds, "/v1/collections/ach", ext.clone())
            .await
            .status,
        StatusCode::CREATED
    );
    ext["amount"]["value"] = json!("8001");
    assert_eq!(
        app.post(&s.creds, "/v1/collections/ach", ext)
            .await
            .error_code(),
        "external_id_taken"
    );
    app.stop().await;
}

async fn one_time_sources_are_for_enabled_business_customers_only(b: Backend) {
    let app = spawn_app(b).await;
    let one_time = json!({"routingNumber": "011000015", "accountNumber": "44443333", "accountType": "checking",
                          "holderName": "Widgets LLC", "holderType": "business"});
    let plain = setup(&app, json!({})).await;
    let mut body = debit(&plain, "100");
    body.as_object_mut().unwrap().remove("paymentMethodId");
    body["oneTimeSource"] = one_time.clone();
    let r = app
        .post(&plain.creds, "/v1/collections/ach", body.clone())
        .await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (StatusCode::FORBIDDEN, "one_time_source_not_allowed")
    );

    let enabled = setup(&app, json!({"allowOneTimeSource": true})).await;
    body["destinationAccountId"] = json!(enabled.account);
    let r = app
        .post(&enabled.creds, "/v1/collections/ach", body.clone())
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(
        r.json()["secCode"],
        "CCD",
        "business accounts default to CCD"
    );
    assert!(r.json()["paymentMethodId"].is_null());
    assert_eq!(r.json()["source"]["last4"], "3333");
    let mut both = body.clone();
    both["paymentMethodId"] = json!(enabled.pm);
    assert_eq!(
        app.post(&enabled.creds, "/v1/collections/ach", both)
            .await
            .error_code(),
        "invalid_source"
    );
    let mut bad = body;
    bad["oneTimeSource"]["routingNumber"] = json!("011000016");
    assert_eq!(
        app.post(&enabled.creds, "/v1/collections/ach", bad)
            .await
            .error_param()
            .as_deref(),
        Some("oneTimeSource.routingNumber")
    );
    app.stop().await;
}

async fn cancel_works_before_the_file_and_is_refused_after(b: Backend) {
    let app = spawn_app(b).await;
    let s = setup(&app, json!({})).await;
    let c = app
        .post(&s.creds, "/v1/collections/ach", debit(&s, "900"))
        .await
        .json();
    let id = c["id"].as_str().unwrap();
    let r = app
        .post(
            &s.creds,
            &format!("/v1/collections/{id}/cancel"),
            json!({"reason": "customer asked"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let c = r.json();
    assert_eq!(c["status"], "cancelled");
    assert_eq!(c["statusReason"], "customer asked");
    assert_eq!(c["cancellable"], false);
    assert_eq!(c["statusHistory"].as_array().unwrap().len(), 2);
    let again = app
        .post(&s.creds, &format!("/v1/collections/{id}/cancel"), json!({}))
        .await;
    assert_eq!(
        (again.status, again.error_code().as_str()),
        (StatusCode::CONFLICT, "collection_not_cancellable")
    );
    assert_eq!(
        events_for(&app, id).await,
        vec!["collection.created", "collection.cancelled"]
    );
    let missing = app
        .post(
            &s.creds,
            "/v1/collections/col_00000000000000000000000000000000/cancel",
            json!({}),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    // A cancelled collection no longer counts as a duplicate.
    assert_eq!(
        app.post(&s.creds, "/v1/collections/ach", debit(&s, "900"))
            .await
            .status,
        StatusCode::CREATED
    );
    app.stop().await;
}

async fn collections_list_with_filters(b: Backend) {
    let app = spawn_app(b).await;
    let s = setup(&app, json!({})).await;
    let mut prenote = debit(&s, "0");
    prenote["type"] = json!("prenote");
    app.post(&s.creds, "/v1/collections/ach", prenote).await;
    let mut ppd = debit(&s, "300");
    ppd["secCode"] = json!("PPD");
    ppd["reference"] = json!("REF-PPD");
    let ppd = app.post(&s.creds, "/v1/collections/ach", ppd).await.json();
    app.post(&s.creds, "/v1/collections/ach", debit(&s, "400"))
        .await;
    let count = |v: Value| v["data"].as_array().unwrap().len();
    assert_eq!(count(app.get(&s.creds, "/v1/collections").await.json()), 3);
    assert_eq!(
        count(
            app.get(&s.creds, "/v1/collections?type=prenote")
                .await
                .json()
        ),
        1
    );
    assert_eq!(
        count(
            app.get(&s.creds, "/v1/collections?secCode=PPD")
                .await
                .json()
        ),
        1
    );
    assert_eq!(
        count(
            app.get(&s.creds, "/v1/collections?reference=REF-PPD")
                .await
                .json()
        ),
        1
    );
    assert_eq!(
        count(
            app.get(
                &s.creds,
                &format!("/v1/collections?paymentMethodId={}", s.pm)
            )
            .await
            .json()
        ),
        3
    );
    assert_eq!(
        count(
            app.get(&s.creds, "/v1/collections?status=pending&rail=ach")
                .await
                .json()
        ),
        3
    );
    assert_eq!(
        count(
            app.get(&s.creds, "/v1/collections?status=completed")
                .await
                .json()
        ),
        0
    );
    let eff = ppd["effectiveDate"].as_str().unwrap();
    assert_eq!(
        count(
            app.get(
                &s.creds,
                &format!("/v1/collections?effectiveDateFrom={eff}&effectiveDateTo={eff}")
            )
            .await
            .json()
        ),
        3
    );
    assert_eq!(
        count(
            app.get(&s.creds, "/v1/collections?createdFrom=2999-01-01T00:00:00Z")
                .await
                .json()
        ),
        0
    );
    let page = app.get(&s.creds, "/v1/collections?limit=2").await.json();
    assert_eq!(
        (count(page.clone()), page["hasMore"].as_bool()),
        (2, Some(true))
    );
    for (q, param) in [
        ("status=paid", "status"),
        ("secCode=XYZ", "secCode"),
        ("createdFrom=yesterday", "createdFrom"),
        ("rail=wire", "rail"),
    ] {
        let r = app.get(&s.creds, &format!("/v1/collections?{q}")).await;
        assert_eq!(
            (r.status, r.error_param().as_deref()),
            (StatusCode::BAD_REQUEST, Some(param)),
            "{q}"
        );
    }
    app.stop().await;
}

async fn a_blocked_destination_puts_the_collection_on_hold(b: Backend) {
    let app = spawn_app(b).await;
    let s = setup(&app, json!({})).await;
    let cus = app.get(&s.creds, "/v1/api-keys").await.json()["data"][0]["customerId"]
        .as_str()
        .unwrap()
        .to_owned();
    let op = Creds {
        acting_for: Some(cus),
        ..admin()
    };
    let r = app
        .call(
            &op,
            Method::PATCH,
            &format!("/v1/accounts/{}", s.account),
            Some(json!({"status": "blocked"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let c = app
        .post(&s.creds, "/v1/collections/ach", debit(&s, "100"))
        .await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.text);
    assert_eq!(c.json()["status"], "on_hold");
    assert_eq!(c.json()["statusReason"], "destination account is blocked");
    // A blocked payment method cannot be debited at all.
    app.call(
        &op,
        Method::PATCH,
        &format!("/v1/payment-methods/{}", s.pm),
        Some(json!({"status": "blocked", "statusReason": "R03"})),
    )
    .await;
    let r = app
        .post(&s.creds, "/v1/collections/ach", debit(&s, "200"))
        .await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (StatusCode::CONFLICT, "payment_method_not_active")
    );
    app.stop().await;
}

async fn deferred_debits_are_scheduled_until_their_release_day(b: Backend) {
    let app = spawn_app(b).await;
    let s = setup(&app, json!({})).await;
    // Find a banking day about a month ahead.
    let cal = inflow_core::calendar::BankingCalendar::federal_reserve();
    let target =
        cal.banking_day_on_or_after(chrono::Utc::now().date_naive() + chrono::Duration::days(30));
    let mut body = debit(&s, "100");
    body["effectiveDate"] = json!(target.to_string());
    let r = app.post(&s.creds, "/v1/collections/ach", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let c = r.json();
    assert_eq!(c["status"], "scheduled");
    assert_eq!(c["effectiveDate"], target.to_string());
    assert!(c["statusReason"]
        .as_str()
        .unwrap()
        .starts_with("held until"));
    let weekend = (1..8)
        .map(|d| target + chrono::Duration::days(d))
        .find(|d| !cal.is_banking_day(*d))
        .unwrap();
    let mut body = debit(&s, "101");
    body["effectiveDate"] = json!(weekend.to_string());
    let r = app.post(&s.creds, "/v1/collections/ach", body).await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (StatusCode::BAD_REQUEST, "effective_date_not_banking_day"),
        "{}",
        r.text
    );
    app.stop().await;
}
