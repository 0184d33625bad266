//! The API's rough edges (#15 item 3), on both backends: an object on the
//! other rail is `409 wrong_rail` (not 404), saved cards can be changed
//! with PATCH, `"rail": "card"` on the ACH endpoint points to the card
//! endpoint, a collection's counterparty must be its payment method's,
//! destination accounts can be named by external id, and a failed clock
//! advance says the clock moved.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::ach::{collect, destination, make_pm, patch, sandbox_now, try_collect};
use support::card::{charge, save_card};
use support::*;

on_both_backends!(
    objects_on_the_other_rail_are_wrong_rail_not_missing,
    a_saved_card_can_be_deactivated_and_relabelled,
    the_ach_endpoint_points_card_requests_to_the_card_endpoint,
    a_collection_belongs_to_its_payment_methods_counterparty,
    destination_accounts_can_be_named_by_external_id,
    a_failed_clock_advance_says_the_clock_moved,
);

const PAN: &str = "4242424242424242";

fn assert_refused(r: &Reply, status: StatusCode, code: &str, param: Option<&str>) {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(r.error_code(), code, "{}", r.text);
    assert_eq!(r.error_param().as_deref(), param, "{}", r.text);
}

async fn objects_on_the_other_rail_are_wrong_rail_not_missing(b: Backend) {
    let app = spawn_app(b).await;
    let (_, creds) = app.customer_with_key("Rails", json!({})).await;
    let dest = destination(&app, &creds).await;
    let bank = make_pm(&app, &creds, "000111222333").await;
    let card = save_card(&app, &creds, PAN).await;

    // Card operations on an ACH collection.
    let ach = collect(&app, &creds, &dest, &bank, "2500", json!({})).await;
    let ach_id = ach["id"].as_str().unwrap();
    // (Refunds exist on both rails: an ACH refund is an ACH credit, see
    // ach_refunds.rs; a pending one is refused as not refundable yet.)
    for op in ["capture", "void"] {
        let r = app
            .post(&creds, &format!("/v1/collections/{ach_id}/{op}"), json!({}))
            .await;
        assert_refused(&r, StatusCode::CONFLICT, "wrong_rail", None);
        let message = r.json()["error"]["message"].as_str().unwrap().to_owned();
        assert!(
            message.contains("is an ACH collection") && message.contains(ach_id),
            "{message}"
        );
    }
    let r = app
        .post(
            &creds,
            &format!("/v1/collections/{ach_id}/refunds"),
            json!({}),
        )
        .await;
    assert_refused(&r, StatusCode::CONFLICT, "collection_not_refundable", None);
    // Cancel on a card collection.
    let sale = app
        .post(
            &creds,
            "/v1/collections/card",
            charge(&dest, &card, "sale", 1500),
        )
        .await;
    assert_eq!(sale.status, StatusCode::CREATED, "{}", sale.text);
    let sale_id = sale.json()["id"].as_str().unwrap().to_owned();
    let r = app
        .post(
            &creds,
            &format!("/v1/collections/{sale_id}/cancel"),
            json!({}),
        )
        .await;
    assert_refused(&r, StatusCode::CONFLICT, "wrong_rail", None);
    assert!(r.text.contains("is a card collection"), "{}", r.text);
    // A card in the ACH endpoint, a bank account on the card rail.
    let r = try_collect(&app, &creds, &dest, &card, "2500", json!({})).await;
    assert_refused(
        &r,
        StatusCode::CONFLICT,
        "wrong_rail",
        Some("paymentMethodId"),
    );
    assert!(r.text.contains("is a card payment method"), "{}", r.text);
    let r = app
        .post(
            &creds,
            "/v1/collections/card",
            charge(&dest, &bank, "sale", 1500),
        )
        .await;
    assert_refused(
        &r,
        StatusCode::CONFLICT,
        "wrong_rail",
        Some("paymentMethodId"),
    );
    assert!(r.text.contains("is a bank account"), "{}", r.text);
    // By external id too.
    let ext = patch(
        &app,
        &creds,
        &format!("/v1/payment-methods/{bank}"),
        json!({"externalId": "bank-1"}),
    )
    .await;
    assert_eq!(ext.status, StatusCode::OK, "{}", ext.text);
    let mut body = charge(&dest, &bank, "sale", 1500);
    body.as_object_mut().unwrap().remove("paymentMethodId");
    body["paymentMethodExternalId"] = json!("bank-1");
    let r = app.post(&creds, "/v1/collections/card", body).await;
    assert_refused(
        &r,
        StatusCode::CONFLICT,
        "wrong_rail",
        Some("paymentMethodExternalId"),
    );
    // Objects that do not exist are still 404.
    let missing = "col_00000000000000000000000000000000";
    let r = app
        .post(
            &creds,
            &format!("/v1/collections/{missing}/capture"),
            json!({}),
        )
        .await;
    assert_refused(&r, StatusCode::NOT_FOUND, "resource_not_found", None);
    let r = app
        .post(
            &creds,
            &format!("/v1/collections/{missing}/cancel"),
            json!({}),
        )
        .await;
    assert_refused(&r, StatusCode::NOT_FOUND, "resource_not_found", None);
    // Another customer's objects stay invisible (404, not wrong_rail).
    let (_, other) = app.customer_with_key("Other", json!({})).await;
    let r = app
        .post(
            &other,
            &format!("/v1/collections/{ach_id}/capture"),
            json!({}),
        )
        .await;
    assert_refused(&r, StatusCode::NOT_FOUND, "resource_not_found", None);
}

async fn a_saved_card_can_be_deactivated_and_relabelled(b: Backend) {
    let app = spawn_app(b).await;
    let (_, creds) = app.customer_with_key("Cards", json!({})).await;
    let dest = destination(&app, &creds).await;
    let card = save_card(&app, &creds, PAN).await;
    let path = format!("/v1/payment-methods/{card}");

    let r = patch(
        &app,
        &creds,
        &path,
        json!({"holderName": "Janet Doe", "externalId": "card-7", "metadata": {"k": "v"},
               "billingAddress": {"line1": "1 Main St", "city": "Washington", "state": "DC",
                                  "postalCode": "20002", "country": "US"}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let v = r.json();
    assert_eq!(v["type"], "card");
    let seen: Value = app.get(&creds, &path).await.json();
    for view in [&v, &seen] {
        assert_eq!(view["card"]["holderName"], "Janet Doe", "{view}");
        assert_eq!(view["externalId"], "card-7", "{view}");
        assert_eq!(view["metadata"]["k"], "v", "{view}");
        assert_eq!(view["billingAddress"]["postalCode"], "20002", "{view}");
        assert_eq!(view["billingAddress"]["city"], "Washington", "{view}");
    }

    // Deactivated: it cannot be charged; reactivated: it can.
    let r = patch(&app, &creds, &path, json!({"status": "inactive"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["status"], "inactive");
    let r = app
        .post(
            &creds,
            "/v1/collections/card",
            charge(&dest, &card, "sale", 1000),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.error_code(), "payment_method_not_active", "{}", r.text);
    let r = patch(&app, &creds, &path, json!({"status": "active"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app
        .post(
            &creds,
            "/v1/collections/card",
            charge(&dest, &card, "sale", 1000),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    // Refusals name the field.
    let cases = [
        (
            json!({"status": "blocked"}),
            StatusCode::FORBIDDEN,
            "admin_key_required",
            None,
        ),
        (
            json!({"statusReason": "lost"}),
            StatusCode::BAD_REQUEST,
            "unexpected_field",
            Some("statusReason"),
        ),
        (
            json!({"validated": true}),
            StatusCode::BAD_REQUEST,
            "unexpected_field",
            Some("validated"),
        ),
        (
            json!({"billingAddress": {"postalCode": "1"}}),
            StatusCode::BAD_REQUEST,
            "too_short",
            Some("billingAddress.postalCode"),
        ),
        (
            json!({"holderName": " "}),
            StatusCode::BAD_REQUEST,
            "required",
            Some("holderName"),
        ),
        // An unknown key in the address is refused whatever its value, as
        // the spec says (it was ignored, unless its value was an array).
        (
            json!({"billingAddress": {"postalCode": "20002", "zip": "20002"}}),
            StatusCode::BAD_REQUEST,
            "unknown_field",
            Some("billingAddress.zip"),
        ),
        (
            json!({"billingAddress": {"postalCode": "20002", "!": [[], 1]}}),
            StatusCode::BAD_REQUEST,
            "invalid_field",
            Some("billingAddress.!"),
        ),
    ];
    for (body, status, code, param) in cases {
        let r = patch(&app, &creds, &path, body.clone()).await;
        assert_eq!(r.status, status, "{body}: {}", r.text);
        assert_eq!(r.error_code(), code, "{body}: {}", r.text);
        assert_eq!(r.error_param().as_deref(), param, "{body}: {}", r.text);
    }
    // A bank account takes no billing address.
    let bank = make_pm(&app, &creds, "000111222444").await;
    let r = patch(
        &app,
        &creds,
        &format!("/v1/payment-methods/{bank}"),
        json!({"billingAddress": {"postalCode": "20002"}}),
    )
    .await;
    assert_refused(
        &r,
        StatusCode::BAD_REQUEST,
        "unexpected_field",
        Some("billingAddress"),
    );
    // Another customer cannot touch the card.
    let (_, other) = app.customer_with_key("Other", json!({})).await;
    let r = patch(&app, &other, &path, json!({"status": "inactive"})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
}

async fn the_ach_endpoint_points_card_requests_to_the_card_endpoint(b: Backend) {
    let app = spawn_app(b).await;
    let (_, creds) = app.customer_with_key("Rail", json!({})).await;
    let dest = destination(&app, &creds).await;
    let bank = make_pm(&app, &creds, "000111222555").await;
    let r = try_collect(&app, &creds, &dest, &bank, "2500", json!({"rail": "card"})).await;
    assert_refused(&r, StatusCode::BAD_REQUEST, "invalid_value", Some("rail"));
    let message = r.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(!message.contains("not available"), "{message}");
    assert!(message.contains("/v1/collections/card"), "{message}");
}

async fn a_collection_belongs_to_its_payment_methods_counterparty(b: Backend) {
    let app = spawn_app(b).await;
    let (_, creds) = app.customer_with_key("Payers", json!({})).await;
    let dest = destination(&app, &creds).await;
    let mut payers = Vec::new();
    for name in ["Ann", "Bob"] {
        let r = app
            .post(
                &creds,
                "/v1/counterparties",
                json!({"name": name, "kind": "individual"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        payers.push(r.json()["id"].as_str().unwrap().to_owned());
    }
    let mut body = bank_pm_body("000999888777");
    body["counterpartyId"] = json!(payers[0]);
    let r = app.post(&creds, "/v1/payment-methods", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let anns = r.json()["id"].as_str().unwrap().to_owned();

    // Bob's name on Ann's account: refused, naming the field.
    let r = try_collect(
        &app,
        &creds,
        &dest,
        &anns,
        "2500",
        json!({"counterpartyId": payers[1]}),
    )
    .await;
    assert_refused(
        &r,
        StatusCode::CONFLICT,
        "counterparty_mismatch",
        Some("counterpartyId"),
    );
    assert!(r.text.contains(&payers[0]), "{}", r.text);
    // Ann's own, or none (derived from the payment method): Ann's.
    let c = collect(
        &app,
        &creds,
        &dest,
        &anns,
        "2500",
        json!({"counterpartyId": payers[0]}),
    )
    .await;
    assert_eq!(c["counterpartyId"], payers[0].as_str());
    let c = collect(&app, &creds, &dest, &anns, "2600", json!({})).await;
    assert_eq!(c["counterpartyId"], payers[0].as_str());
    // A payment method without a counterparty may be given one.
    let plain = make_pm(&app, &creds, "000999888666").await;
    let c = collect(
        &app,
        &creds,
        &dest,
        &plain,
        "2700",
        json!({"counterpartyId": payers[1]}),
    )
    .await;
    assert_eq!(c["counterpartyId"], payers[1].as_str());
}

async fn destination_accounts_can_be_named_by_external_id(b: Backend) {
    let app = spawn_app(b).await;
    let (_, creds) = app.customer_with_key("Passport", json!({})).await;
    let r = app
        .post(
            &creds,
            "/v1/accounts",
            json!({"name": "Ops", "externalId": "passport-42"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let account = r.json()["id"].as_str().unwrap().to_owned();
    let bank = make_pm(&app, &creds, "000333444555").await;
    let card = save_card(&app, &creds, PAN).await;
    let by_ext =
        json!({"destinationAccountId": null, "destinationAccountExternalId": "passport-42"});

    // ACH.
    let c = collect(&app, &creds, &account, &bank, "2500", by_ext.clone()).await;
    assert_eq!(c["destinationAccountId"], account.as_str());
    // Card, on both card endpoints.
    for (path, rail) in [
        ("/v1/collections/card", None),
        ("/v1/collections", Some("card")),
    ] {
        let mut body = charge(&account, &card, "sale", 1200);
        body.as_object_mut().unwrap().remove("destinationAccountId");
        body["destinationAccountExternalId"] = json!("passport-42");
        if let Some(rail) = rail {
            body["rail"] = json!(rail);
        }
        let r = app.post(&creds, path, body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{path}: {}", r.text);
        assert_eq!(r.json()["destinationAccountId"], account.as_str());
    }
    // A schedule.
    let start = (sandbox_now(&app).await.date_naive() + chrono::Duration::days(10)).to_string();
    let r = app
        .post(
            &creds,
            "/v1/schedules",
            json!({"paymentMethodId": bank, "destinationAccountExternalId": "passport-42",
                   "amount": {"currency": "USD", "value": "3000"},
                   "authorization": {"type": "written", "obtainedAt": "2026-01-05T10:00:00Z"},
                   "frequency": "monthly", "startDate": start, "occurrences": 3}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json()["destinationAccountId"], account.as_str());

    // Refusals: unknown external id, both, neither.
    let r = try_collect(
        &app,
        &creds,
        &account,
        &bank,
        "2600",
        json!({"destinationAccountId": null, "destinationAccountExternalId": "nope"}),
    )
    .await;
    assert_refused(
        &r,
        StatusCode::NOT_FOUND,
        "resource_not_found",
        Some("destinationAccountExternalId"),
    );
    let r = try_collect(
        &app,
        &creds,
        &account,
        &bank,
        "2600",
        json!({"destinationAccountExternalId": "passport-42"}),
    )
    .await;
    assert_refused(
        &r,
        StatusCode::BAD_REQUEST,
        "invalid_destination",
        Some("destinationAccountExternalId"),
    );
    let r = try_collect(
        &app,
        &creds,
        &account,
        &bank,
        "2600",
        json!({"destinationAccountId": null}),
    )
    .await;
    assert_refused(
        &r,
        StatusCode::BAD_REQUEST,
        "missing_field",
        Some("destinationAccountId"),
    );
    let mut body = charge(&account, &card, "sale", 1200);
    body.as_object_mut().unwrap().remove("destinationAccountId");
    body["destinationAccountExternalId"] = json!("nope");
    let r = app.post(&creds, "/v1/collections/card", body).await;
    assert_refused(
        &r,
        StatusCode::NOT_FOUND,
        "resource_not_found",
        Some("destinationAccountExternalId"),
    );
    // Another customer's external ids are not found.
    let (_, other) = app.customer_with_key("Other", json!({})).await;
    let other_pm = make_pm(&app, &other, "000333444666").await;
    let r = try_collect(&app, &other, &account, &other_pm, "2600", by_ext).await;
    assert_refused(
        &r,
        StatusCode::NOT_FOUND,
        "resource_not_found",
        Some("destinationAccountExternalId"),
    );
}

async fn a_failed_clock_advance_says_the_clock_moved(b: Backend) {
    let app = spawn_app(b).await;
    let before = sandbox_now(&app).await;
    // The inbound folder's place taken by a file: the inbound job fails.
    let inbound = app.state().ach.inbound_dir.clone();
    let _ = std::fs::remove_dir_all(&inbound);
    std::fs::create_dir_all(inbound.parent().unwrap()).unwrap();
    std::fs::write(&inbound, b"not a folder").unwrap();

    let r = app
        .call(
            &admin(),
            Method::POST,
            "/v1/sandbox/clock/advance",
            Some(json!({"hours": 1})),
        )
        .await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.text);
    assert_eq!(r.error_code(), "clock_jobs_failed", "{}", r.text);
    let message = r.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(!message.contains("changed nothing"), "{message}");
    let after = sandbox_now(&app).await;
    assert!(
        after >= before + chrono::Duration::hours(1),
        "{before} → {after}"
    );
    assert!(
        message.contains("moved to") && message.contains("inbound"),
        "{message}"
    );

    // With the folder back, the clock advances again.
    std::fs::remove_file(&inbound).unwrap();
    let r = app
        .call(
            &admin(),
            Method::POST,
            "/v1/sandbox/clock/advance",
            Some(json!({"minutes": 5})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}
