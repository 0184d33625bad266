//! Refunds as resources on both backends over HTTP: each refund has an
//! `rfd_` id, its own status and processor reference, keeps its reason and
//! metadata, can be read alone (`GET /v1/refunds/{id}`) and listed per
//! collection with cursor pagination, raises `refund.*` events, is scoped to its customer, and
//! refunds never add up to more than was captured.

use crate::support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::ach::{collect, destination, make_pm};
use support::card::{charge, events_for, save_card};
use support::*;

on_both_backends!(
    a_refund_is_a_resource_listed_under_its_collection_with_its_events,
    a_refused_refund_is_recorded_failed_and_listed,
    refunds_never_exceed_the_capture_and_bad_input_is_refused,
    another_customers_refund_and_collection_are_not_found,
);

struct Setup {
    customer: String,
    creds: Creds,
    account: String,
    pm: String,
}

async fn setup(app: &TestApp, name: &str) -> Setup {
    let (customer, creds) = app.customer_with_key(name, json!({})).await;
    let account = app
        .post(&creds, "/v1/accounts", json!({"name": "Main"}))
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let pm = save_card(app, &creds, "4242424242424242").await;
    Setup {
        customer,
        creds,
        account,
        pm,
    }
}

async fn sale(app: &TestApp, s: &Setup, cents: i64) -> String {
    let r = app
        .post(
            &s.creds,
            "/v1/collections/card",
            charge(&s.account, &s.pm, "sale", cents),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json()["id"].as_str().unwrap().to_owned()
}

fn usd(cents: i64) -> Value {
    json!({"amount": {"currency": "USD", "value": cents.to_string()}})
}

async fn refund(app: &TestApp, s: &Setup, id: &str, body: Value) -> Reply {
    app.post(&s.creds, &format!("/v1/collections/{id}/refunds"), body)
        .await
}

async fn a_refund_is_a_resource_listed_under_its_collection_with_its_events(b: Backend) {
    let app = spawn_app(b).await;
    let s = setup(&app, "Agency").await;
    let id = sale(&app, &s, 10_000).await;
    let mut made = Vec::new();
    for (cents, reason) in [(1_000, "damaged"), (2_000, "late"), (3_000, "wrong size")] {
        let r = refund(
            &app,
            &s,
            &id,
            json!({"amount": {"currency": "USD", "value": cents.to_string()}, "reason": reason}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let v = r.json();
        assert!(v["id"].as_str().unwrap().starts_with("rfd_"), "{v}");
        assert_eq!(
            (
                v["object"].as_str(),
                v["rail"].as_str(),
                v["status"].as_str()
            ),
            (Some("refund"), Some("card"), Some("succeeded"))
        );
        assert_eq!(v["collectionId"], json!(id));
        assert_eq!(v["amount"]["value"], json!(cents.to_string()));
        assert_eq!(v["reason"], json!(reason));
        assert!(
            v["processorReference"]
                .as_str()
                .is_some_and(|p| !p.is_empty()),
            "{v}"
        );
        assert!(v["createdAt"].is_string());
        made.push(v);
    }
    // The collection still shows the sum.
    let c = app
        .get(&s.creds, &format!("/v1/collections/{id}"))
        .await
        .json();
    assert_eq!(c["refundedAmount"]["value"], "6000");
    assert_eq!(c["status"], "partially_refunded");

    // Each one alone, as it was answered (less the collection, which moved on).
    for v in &made {
        let rid = v["id"].as_str().unwrap();
        let r = app.get(&s.creds, &format!("/v1/refunds/{rid}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let got = r.json();
        for field in [
            "id",
            "amount",
            "reason",
            "status",
            "processorReference",
            "createdAt",
            "collectionId",
            "customerId",
        ] {
            assert_eq!(got[field], v[field], "{field}");
        }
        assert_eq!(got["collection"]["refundedAmount"]["value"], "6000");
        assert_eq!(
            events_for(&app, rid).await,
            ["refund.created", "refund.succeeded"],
            "{rid}"
        );
    }

    // Listed newest first, two per page, with a cursor.
    let path = format!("/v1/collections/{id}/refunds");
    let first = app.get(&s.creds, &format!("{path}?limit=2")).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let first = first.json();
    let ids = |page: &Value| -> Vec<String> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        ids(&first),
        [
            made[2]["id"].as_str().unwrap(),
            made[1]["id"].as_str().unwrap()
        ]
    );
    assert_eq!(first["hasMore"], true);
    let cursor = first["nextCursor"].as_str().unwrap();
    let second = app
        .get(&s.creds, &format!("{path}?limit=2&startingAfter={cursor}"))
        .await
        .json();
    assert_eq!(ids(&second), [made[0]["id"].as_str().unwrap()]);
    assert_eq!(
        (second["hasMore"].as_bool(), second["nextCursor"].is_null()),
        (Some(false), true)
    );

    // A malformed cursor or limit names the parameter.
    let bad = app
        .get(&s.creds, &format!("{path}?startingAfter=garbage"))
        .await;
    assert_eq!(
        (bad.status, bad.error_param()),
        (StatusCode::BAD_REQUEST, Some("startingAfter".into()))
    );
    let bad = app.get(&s.creds, &format!("{path}?limit=0")).await;
    assert_eq!(
        (bad.status, bad.error_param()),
        (StatusCode::BAD_REQUEST, Some("limit".into()))
    );

    // A webhook endpoint may subscribe to them.
    let r = app
        .post(&s.creds, "/v1/webhook-endpoints", json!({"url": "https://example.com/hook", "enabledEvents": ["refund.succeeded", "refund.failed", "refund.created"]}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

async fn a_refused_refund_is_recorded_failed_and_listed(b: Backend) {
    let app = spawn_app(b).await;
    let s = setup(&app, "Agency").await;
    let id = sale(&app, &s, 5_000).await;
    // The sandbox refuses refunds of 13.13.
    let r = refund(&app, &s, &id, usd(1_313)).await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY, "{}", r.text);
    let list = app
        .get(&s.creds, &format!("/v1/collections/{id}/refunds"))
        .await
        .json();
    let data = list["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{list}");
    let failed = &data[0];
    assert_eq!(failed["status"], "failed");
    assert!(
        failed["failureReason"].as_str().unwrap().contains("13.13"),
        "{failed}"
    );
    assert!(failed["processorReference"].is_null(), "{failed}");
    let rid = failed["id"].as_str().unwrap();
    let got = app.get(&s.creds, &format!("/v1/refunds/{rid}")).await;
    assert_eq!(
        (got.status, got.json()["status"].as_str()),
        (StatusCode::OK, Some("failed"))
    );
    assert_eq!(
        events_for(&app, rid).await,
        ["refund.created", "refund.failed"]
    );
    // Nothing was refunded, so all of it may still be.
    let r = refund(&app, &s, &id, json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json()["amount"]["value"], "5000");
}

async fn refunds_never_exceed_the_capture_and_bad_input_is_refused(b: Backend) {
    let app = spawn_app(b).await;
    let s = setup(&app, "Agency").await;
    let id = sale(&app, &s, 5_000).await;
    assert_eq!(
        refund(&app, &s, &id, usd(3_000)).await.status,
        StatusCode::CREATED
    );
    let over = refund(&app, &s, &id, usd(2_001)).await;
    assert_eq!(
        (over.status, over.error_code()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "amount_exceeds_refundable".into()
        ),
        "{}",
        over.text
    );
    assert_eq!(
        refund(&app, &s, &id, usd(2_000)).await.status,
        StatusCode::CREATED
    );
    let none_left = refund(&app, &s, &id, usd(1)).await;
    assert_eq!(none_left.status, StatusCode::CONFLICT, "{}", none_left.text);
    let list = app
        .get(&s.creds, &format!("/v1/collections/{id}/refunds"))
        .await
        .json();
    assert_eq!(
        list["data"].as_array().unwrap().len(),
        2,
        "refused refunds are not stored"
    );
    let c = app
        .get(&s.creds, &format!("/v1/collections/{id}"))
        .await
        .json();
    assert_eq!(
        (c["status"].as_str(), c["refundedAmount"]["value"].as_str()),
        (Some("refunded"), Some("5000"))
    );
    // Metadata is kept with the refund and checked like a collection's.
    let other = sale(&app, &s, 1_000).await;
    let r = refund(
        &app,
        &s,
        &other,
        json!({"amount": {"currency": "USD", "value": "100"}, "metadata": {"ticket": "T-1"}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let rid = r.json()["id"].as_str().unwrap().to_owned();
    let got = app
        .get(&s.creds, &format!("/v1/refunds/{rid}"))
        .await
        .json();
    assert_eq!(got["metadata"], json!({"ticket": "T-1"}));
    let r = refund(
        &app,
        &s,
        &other,
        json!({"metadata": {"ticket": "x".repeat(501)}}),
    )
    .await;
    assert_eq!(
        (r.status, r.error_param()),
        (StatusCode::BAD_REQUEST, Some("metadata.ticket".into())),
        "{}",
        r.text
    );
    // Unknown fields and malformed ids.
    let r = refund(
        &app,
        &s,
        &id,
        json!({"amount": {"currency": "USD", "value": "1"}, "colour": "red"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    for path in [
        "/v1/refunds/garbage",
        "/v1/refunds/col_0123456789abcdef0123456789abcdef",
        "/v1/refunds/rfd_0123456789abcdef0123456789abcdef",
    ] {
        let r = app.get(&s.creds, path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.text);
    }
    let r = app
        .get(
            &s.creds,
            "/v1/collections/col_0123456789abcdef0123456789abcdef/refunds",
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
}

async fn another_customers_refund_and_collection_are_not_found(b: Backend) {
    let app = spawn_app(b).await;
    let s = setup(&app, "Agency").await;
    let other = setup(&app, "Other").await;
    let id = sale(&app, &s, 5_000).await;
    let r = refund(&app, &s, &id, usd(100)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let rid = r.json()["id"].as_str().unwrap().to_owned();
    let theirs = app.get(&other.creds, &format!("/v1/refunds/{rid}")).await;
    assert_eq!(
        (theirs.status, theirs.error_code()),
        (StatusCode::NOT_FOUND, "resource_not_found".into())
    );
    let theirs = app
        .get(&other.creds, &format!("/v1/collections/{id}/refunds"))
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND, "{}", theirs.text);
    let theirs = refund(&app, &other, &id, usd(100)).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND, "{}", theirs.text);
    // The owner still sees it, and so does the operator acting for it.
    assert_eq!(
        app.get(&s.creds, &format!("/v1/refunds/{rid}"))
            .await
            .status,
        StatusCode::OK
    );
    let op = Creds {
        acting_for: Some(s.customer.clone()),
        ..admin()
    };
    let r = app.get(&op, &format!("/v1/refunds/{rid}")).await;
    assert_eq!(
        (r.status, r.json()["id"].as_str()),
        (StatusCode::OK, Some(rid.as_str()))
    );
    let op_other = Creds {
        acting_for: Some(other.customer.clone()),
        ..admin()
    };
    assert_eq!(
        app.get(&op_other, &format!("/v1/refunds/{rid}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // An ACH collection exists but has no refunds (ACH refunds are not built).
    let dest = destination(&app, &s.creds).await;
    let bank = make_pm(&app, &s.creds, "000123456789").await;
    let debit = collect(&app, &s.creds, &dest, &bank, "5000", json!({})).await;
    let r = app
        .get(
            &s.creds,
            &format!("/v1/collections/{}/refunds", debit["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.json(),
        json!({"data": [], "hasMore": false, "nextCursor": null})
    );
}
