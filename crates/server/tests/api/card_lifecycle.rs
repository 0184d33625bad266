//! The card rail past the first answer, on both backends over real HTTP:
//! processor answers that never arrive (resolved by a retry with the same
//! `Idempotency-Key` or by the reconciliation job, never charged twice),
//! the daily batch close (`completed`, funds pending → available), refunds
//! before and after settlement, authorization expiry, the per-card daily
//! limit — and the ledger, fees and `totalCreditAmount` at every step.

use crate::support;

use chrono::Duration;
use inflow_core::calendar::local_date;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::ach::{advance_minutes, advance_to_eastern, patch, sandbox_now};
use support::card::{charge, events_for, save_card};
use support::ledger::{balances, ledger_is_sound};
use support::*;

on_both_backends!(
    a_lost_sale_answer_is_resolved_by_a_retry_with_the_same_key_and_charged_once,
    lost_answers_to_every_operation_are_resolved_by_the_reconciliation_job,
    batch_close_settles_and_the_ledger_follows_every_money_movement,
    authorizations_expire_after_the_configured_days,
    the_per_card_daily_limit_counts_every_charge_on_the_card_today,
    parallel_card_operations_on_one_account_lose_no_update,
    a_processor_refusal_changes_nothing_and_a_retry_answers_the_same,
);

const LOST_ANSWER: &str = "4000000000000036";

struct Setup {
    customer: String,
    creds: Creds,
    account: String,
}

async fn setup(app: &TestApp) -> Setup {
    let (customer, creds) = app.customer_with_key("Agency", json!({})).await;
    let account = app
        .post(&creds, "/v1/accounts", json!({"name": "Main"}))
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    Setup {
        customer,
        creds,
        account,
    }
}

async fn post_keyed(app: &TestApp, s: &Setup, path: &str, body: &Value, key: &str) -> Reply {
    let text = body.to_string();
    app.send(
        Some(&s.creds),
        Method::POST,
        path,
        Some(&text),
        true,
        &[("idempotency-key", key)],
    )
    .await
}

async fn get(app: &TestApp, s: &Setup, id: &str) -> Value {
    let r = app.get(&s.creds, &format!("/v1/collections/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json()
}

/// What the sandbox processor's own books say about a collection:
/// (transactions recorded for it, captured, refunded, refunds recorded).
async fn processor_books(app: &TestApp, collection: &str) -> (i64, i64, i64, i64) {
    let mut tx = app.db.store.read().await.unwrap();
    let t = tx
        .sandbox_card_transaction(&format!("sbx_{collection}"))
        .await
        .unwrap();
    let (rows, refunds) = tx.sandbox_card_counts(collection).await.unwrap();
    match t {
        Some(t) => (rows, t.captured, t.refunded, refunds),
        None => (rows, 0, 0, refunds),
    }
}

/// Move the sandbox clock just past the next batch close (22:00 Eastern).
async fn past_the_batch_close(app: &TestApp) {
    let now = sandbox_now(app).await;
    let mut day = local_date(now);
    if now + Duration::minutes(1)
        >= inflow_core::calendar::eastern_instant(
            day,
            chrono::NaiveTime::from_hms_opt(22, 0, 0).unwrap(),
        )
    {
        day = day.succ_opt().unwrap();
    }
    advance_to_eastern(app, day, 22, 1).await;
}

async fn a_lost_sale_answer_is_resolved_by_a_retry_with_the_same_key_and_charged_once(b: Backend) {
    let app = spawn_app(b).await;
    let s = setup(&app).await;
    let pm = save_card(&app, &s.creds, LOST_ANSWER).await;
    let body = charge(&s.account, &pm, "sale", 2_500);

    // The processor charged the card but its answer was lost.
    let first = post_keyed(&app, &s, "/v1/collections/card", &body, "sale-1").await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.text);
    let id = first.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(first.json()["status"], "pending");
    assert_eq!(first.json()["pendingOperation"]["reference"], id.as_str());
    assert_eq!(processor_books(&app, &id).await, (1, 2_500, 0, 0));
    assert_eq!(
        balances(&app, &s.creds, &s.account).await,
        (0, 0, 0),
        "nothing credited yet"
    );

    // The retry asks again with the same reference: the first answer, one charge.
    let retry = post_keyed(&app, &s, "/v1/collections/card", &body, "sale-1").await;
    assert_eq!(retry.status, StatusCode::CREATED, "{}", retry.text);
    let c = retry.json();
    assert_eq!(
        (c["id"].as_str(), c["status"].as_str()),
        (Some(id.as_str()), Some("captured"))
    );
    assert!(c["pendingOperation"].is_null());
    assert_eq!(processor_books(&app, &id).await, (1, 2_500, 0, 0));
    let replay = post_keyed(&app, &s, "/v1/collections/card", &body, "sale-1").await;
    assert_eq!(replay.status, StatusCode::CREATED);
    assert_eq!(replay.text, retry.text, "a replay is byte-identical");
    assert_eq!(
        replay
            .headers
            .get("idempotent-replayed")
            .map(|v| v.to_str().unwrap()),
        Some("true")
    );
    // The same key on another request is refused, and changes nothing.
    let other = post_keyed(
        &app,
        &s,
        "/v1/collections/card",
        &charge(&s.account, &pm, "sale", 999),
        "sale-1",
    )
    .await;
    assert_eq!(
        (other.status, other.error_code()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused".into()
        )
    );
    assert_eq!(
        events_for(&app, &id).await,
        ["collection.authorized", "collection.captured"]
    );
    assert_eq!(
        balances(&app, &s.creds, &s.account).await,
        (2_500, 0, 2_500)
    );
    // The job finds nothing left to do.
    advance_minutes(&app, 2).await;
    assert_eq!(processor_books(&app, &id).await, (1, 2_500, 0, 0));
    assert_eq!(get(&app, &s, &id).await["status"], "captured");
    ledger_is_sound(&app).await;
}

async fn lost_answers_to_every_operation_are_resolved_by_the_reconciliation_job(b: Backend) {
    let app = spawn_app(b).await;
    let s = setup(&app).await;
    let pm = save_card(&app, &s.creds, LOST_ANSWER).await;

    // Authorization: no answer, nothing else accepted meanwhile.
    let r = app
        .post(
            &s.creds,
            "/v1/collections/card",
            charge(&s.account, &pm, "authorization", 10_000),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let busy = app
        .post(
            &s.creds,
            &format!("/v1/collections/{id}/capture"),
            json!({}),
        )
        .await;
    assert_eq!(
        (busy.status, busy.error_code()),
        (StatusCode::CONFLICT, "operation_in_progress".into())
    );
    advance_minutes(&app, 1).await;
    let c = get(&app, &s, &id).await;
    assert_eq!(
        (c["status"].as_str(), c["capturable"].as_bool()),
        (Some("authorized"), Some(true))
    );

    // Partial capture: no answer, then resolved.
    let r = app
        .post(
            &s.creds,
            &format!("/v1/collections/{id}/capture"),
            json!({"amount": {"currency": "USD", "value": "6000"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(r.json()["status"], "authorized");
    assert_eq!(r.json()["pendingOperation"]["operation"], "capture");
    assert_eq!(r.json()["pendingOperation"]["amount"]["value"], "6000");
    advance_minutes(&app, 1).await;
    let c = get(&app, &s, &id).await;
    assert_eq!(
        (c["status"].as_str(), c["capturedAmount"]["value"].as_str()),
        (Some("captured"), Some("6000"))
    );
    assert_eq!(
        balances(&app, &s.creds, &s.account).await,
        (6_000, 0, 6_000)
    );

    // Refund: pending refund, then succeeded; one refund at the processor.
    let r = app
        .post(
            &s.creds,
            &format!("/v1/collections/{id}/refunds"),
            json!({"amount": {"currency": "USD", "value": "1500"}, "reason": "returned goods"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(r.json()["status"], "pending");
    advance_minutes(&app, 1).await;
    let c = get(&app, &s, &id).await;
    assert_eq!(
        (c["status"].as_str(), c["refundedAmount"]["value"].as_str()),
        (Some("partially_refunded"), Some("1500"))
    );
    assert_eq!(processor_books(&app, &id).await, (1, 6_000, 1_500, 1));
    assert_eq!(
        balances(&app, &s.creds, &s.account).await,
        (4_500, 0, 4_500)
    );

    // Void of another authorization: voided once resolved.
    let r = app
        .post(
            &s.creds,
            "/v1/collections/card",
            charge(&s.account, &pm, "authorization", 700),
        )
        .await;
    let other = r.json()["id"].as_str().unwrap().to_owned();
    advance_minutes(&app, 1).await;
    let r = app
        .post(
            &s.creds,
            &format!("/v1/collections/{other}/void"),
            json!({"reason": "order cancelled"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    advance_minutes(&app, 1).await;
    let c = get(&app, &s, &other).await;
    assert_eq!(
        (c["status"].as_str(), c["statusReason"].as_str()),
        (Some("voided"), Some("order cancelled"))
    );
    assert_eq!(
        events_for(&app, &id).await,
        [
            "collection.authorized",
            "collection.captured",
            "collection.partially_refunded"
        ]
    );
    assert_eq!(
        events_for(&app, &other).await,
        ["collection.authorized", "collection.voided"]
    );
    ledger_is_sound(&app).await;
}

async fn batch_close_settles_and_the_ledger_follows_every_money_movement(b: Backend) {
    let app = spawn_app(b).await;
    let s = setup(&app).await;
    // 2.90% + 30 cents.
    let r = app
        .call(
            &admin(),
            Method::PUT,
            &format!("/v1/fee-schedules/{}", s.customer),
            Some(json!({"cardPercentageBps": 290, "cardFixed": 30})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let pm = save_card(&app, &s.creds, "4242424242424242").await;

    let sale = app
        .post(
            &s.creds,
            "/v1/collections/card",
            charge(&s.account, &pm, "sale", 10_000),
        )
        .await;
    assert_eq!(sale.status, StatusCode::CREATED, "{}", sale.text);
    let sale = sale.json();
    let id = sale["id"].as_str().unwrap().to_owned();
    assert_eq!(sale["fees"]["total"]["value"], "320");
    assert_eq!(sale["totalCreditAmount"]["value"], "9680");
    assert_eq!(
        balances(&app, &s.creds, &s.account).await,
        (9_680, 0, 9_680)
    );

    // A partial force on an authorization, and a void of a capture before settlement.
    let auth = app
        .post(
            &s.creds,
            "/v1/collections/card",
            charge(&s.account, &pm, "authorization", 5_000),
        )
        .await
        .json();
    let auth_id = auth["id"].as_str().unwrap().to_owned();
    assert_eq!(
        balances(&app, &s.creds, &s.account).await,
        (9_680, 0, 9_680),
        "an authorization moves no money"
    );
    let captured = app
        .post(
            &s.creds,
            &format!("/v1/collections/{auth_id}/capture"),
            json!({"amount": {"currency": "USD", "value": "3000"}}),
        )
        .await;
    assert_eq!(captured.status, StatusCode::OK, "{}", captured.text);
    // 3000 × 2.90% = 87, + 30.
    assert_eq!(captured.json()["fees"]["total"]["value"], "117");
    assert_eq!(
        balances(&app, &s.creds, &s.account).await,
        (9_680 + 2_883, 0, 9_680 + 2_883)
    );
    let voided = app
        .post(
            &s.creds,
            &format!("/v1/collections/{auth_id}/void"),
            json!({}),
        )
        .await;
    assert_eq!(voided.status, StatusCode::OK, "{}", voided.text);
    assert_eq!(voided.json()["totalCreditAmount"]["value"], "0");
    assert_eq!(
        balances(&app, &s.creds, &s.account).await,
        (9_680, 0, 9_680),
        "a void undoes the capture and its fees"
    );

    // A refund before settlement comes out of pending; card fees are kept.
    let r = app
        .post(
            &s.creds,
            &format!("/v1/collections/{id}/refunds"),
            json!({"amount": {"currency": "USD", "value": "1000"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json()["status"], "succeeded");
    assert_eq!(
        balances(&app, &s.creds, &s.account).await,
        (8_680, 0, 8_680)
    );

    // The batch closes: settled, completed, pending → available.
    past_the_batch_close(&app).await;
    let c = get(&app, &s, &id).await;
    assert_eq!(
        (
            c["status"].as_str(),
            c["settled"].as_bool(),
            c["voidable"].as_bool()
        ),
        (Some("completed"), Some(true), Some(false))
    );
    assert!(c["batchId"].as_str().unwrap().starts_with("sbx_batch_"));
    assert!(c["completedAt"].is_string());
    assert_eq!(
        balances(&app, &s.creds, &s.account).await,
        (0, 8_680, 8_680)
    );
    assert_eq!(
        get(&app, &s, &auth_id).await["status"],
        "voided",
        "a voided capture does not settle"
    );

    // After settlement: no void, refunds come out of available.
    let r = app
        .post(&s.creds, &format!("/v1/collections/{id}/void"), json!({}))
        .await;
    assert_eq!(
        (r.status, r.error_code()),
        (StatusCode::CONFLICT, "collection_not_voidable".into())
    );
    let r = app
        .post(
            &s.creds,
            &format!("/v1/collections/{id}/refunds"),
            json!({"amount": {"currency": "USD", "value": "2000"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(
        balances(&app, &s.creds, &s.account).await,
        (0, 6_680, 6_680)
    );
    let c = get(&app, &s, &id).await;
    assert_eq!(c["status"], "partially_refunded");
    assert_eq!(
        c["totalCreditAmount"]["value"], "6680",
        "the resource matches the ledger"
    );
    // The rest, then nothing more.
    let r = app
        .post(
            &s.creds,
            &format!("/v1/collections/{id}/refunds"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json()["amount"]["value"], "7000");
    assert_eq!(
        balances(&app, &s.creds, &s.account).await,
        (0, -320, -320),
        "the card fee is kept"
    );
    assert_eq!(
        get(&app, &s, &id).await["totalCreditAmount"]["value"],
        "-320"
    );
    let r = app
        .post(
            &s.creds,
            &format!("/v1/collections/{id}/refunds"),
            json!({}),
        )
        .await;
    assert_eq!(
        (r.status, r.error_code()),
        (StatusCode::CONFLICT, "collection_not_refundable".into())
    );
    assert_eq!(
        events_for(&app, &id).await,
        [
            "collection.authorized",
            "collection.captured",
            "collection.partially_refunded",
            "collection.completed",
            "collection.partially_refunded",
            "collection.refunded"
        ]
    );
    // The entries name the collection each came from.
    let entries = app
        .get(
            &s.creds,
            &format!("/v1/accounts/{}/entries?limit=100", s.account),
        )
        .await
        .json();
    let from_sale = entries["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["collectionId"] == id.as_str())
        .count();
    // captured (pending), refund (pending), settled (pending → available: 2), refund, refund.
    assert_eq!(from_sale, 6, "{entries}");
    ledger_is_sound(&app).await;
}

async fn authorizations_expire_after_the_configured_days(b: Backend) {
    let app = spawn_app_with(b, |c| c.cards.authorization_ttl_days = 2).await;
    let s = setup(&app).await;
    let pm = save_card(&app, &s.creds, "4242424242424242").await;
    let r = app
        .post(
            &s.creds,
            "/v1/collections/card",
            charge(&s.account, &pm, "authorization", 4_000),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let c = r.json();
    let id = c["id"].as_str().unwrap().to_owned();
    let created =
        chrono::DateTime::parse_from_rfc3339(c["authorizedAt"].as_str().unwrap()).unwrap();
    let expires = chrono::DateTime::parse_from_rfc3339(c["expiresAt"].as_str().unwrap()).unwrap();
    assert_eq!(expires - created, Duration::days(2));

    advance_minutes(&app, 2 * 24 * 60 - 10).await;
    assert_eq!(get(&app, &s, &id).await["status"], "authorized");
    advance_minutes(&app, 11).await;
    let c = get(&app, &s, &id).await;
    assert_eq!(
        (c["status"].as_str(), c["statusReason"].as_str()),
        (Some("voided"), Some("authorization expired"))
    );
    let r = app
        .post(
            &s.creds,
            &format!("/v1/collections/{id}/capture"),
            json!({}),
        )
        .await;
    assert_eq!(
        (r.status, r.error_code()),
        (StatusCode::CONFLICT, "collection_not_capturable".into())
    );
    assert_eq!(
        events_for(&app, &id).await,
        ["collection.authorized", "collection.voided"]
    );
    assert_eq!(balances(&app, &s.creds, &s.account).await, (0, 0, 0));
}

async fn the_per_card_daily_limit_counts_every_charge_on_the_card_today(b: Backend) {
    let app = spawn_app(b).await;
    let s = setup(&app).await;
    let customer = app
        .get(&admin(), &format!("/v1/customers/{}", s.customer))
        .await
        .json();
    assert_eq!(
        customer["cardDailyLimit"]["value"], "2499999",
        "the default: $24,999.99"
    );
    let r = patch(
        &app,
        &admin(),
        &format!("/v1/customers/{}", s.customer),
        json!({"cardDailyLimit": {"currency": "USD", "value": "10000"}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = patch(
        &app,
        &admin(),
        &format!("/v1/customers/{}", s.customer),
        json!({"cardDailyLimit": {"currency": "USD", "value": "-1"}}),
    )
    .await;
    assert_eq!(
        (r.status, r.error_param().as_deref()),
        (StatusCode::BAD_REQUEST, Some("cardDailyLimit.value")),
        "{}",
        r.text
    );
    // The same card saved twice is one card (fingerprint).
    let pm1 = save_card(&app, &s.creds, "4242424242424242").await;
    let pm2 = save_card(&app, &s.creds, "4242424242424242").await;
    let other_card = save_card(&app, &s.creds, "5555555555554444").await;
    let ok = app
        .post(
            &s.creds,
            "/v1/collections/card",
            charge(&s.account, &pm1, "sale", 6_000),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.text);
    let over = app
        .post(
            &s.creds,
            "/v1/collections/card",
            charge(&s.account, &pm2, "authorization", 4_001),
        )
        .await;
    assert_eq!(
        (
            over.status,
            over.error_code(),
            over.error_param().as_deref()
        ),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "card_daily_limit_exceeded".into(),
            Some("amount.value")
        ),
        "{}",
        over.text
    );
    let other = app
        .post(
            &s.creds,
            "/v1/collections/card",
            charge(&s.account, &other_card, "sale", 9_000),
        )
        .await;
    assert_eq!(
        other.status,
        StatusCode::CREATED,
        "another card has its own limit: {}",
        other.text
    );
    let hold = app
        .post(
            &s.creds,
            "/v1/collections/card",
            charge(&s.account, &pm2, "authorization", 4_000),
        )
        .await;
    assert_eq!(
        hold.status,
        StatusCode::CREATED,
        "exactly the limit: {}",
        hold.text
    );
    let hold_id = hold.json()["id"].as_str().unwrap().to_owned();
    let full = app
        .post(
            &s.creds,
            "/v1/collections/card",
            charge(&s.account, &pm1, "sale", 1),
        )
        .await;
    assert_eq!(
        full.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        full.text
    );
    // A voided authorization no longer counts.
    let r = app
        .post(
            &s.creds,
            &format!("/v1/collections/{hold_id}/void"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app
        .post(
            &s.creds,
            "/v1/collections/card",
            charge(&s.account, &pm1, "sale", 4_000),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    // A new Eastern day starts a new total.
    let now = sandbox_now(&app).await;
    advance_to_eastern(&app, local_date(now).succ_opt().unwrap(), 0, 5).await;
    let r = app
        .post(
            &s.creds,
            "/v1/collections/card",
            charge(&s.account, &pm1, "sale", 10_000),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    ledger_is_sound(&app).await;
}

async fn parallel_card_operations_on_one_account_lose_no_update(b: Backend) {
    let app = spawn_app(b).await;
    let s = setup(&app).await;
    let pm = save_card(&app, &s.creds, "4242424242424242").await;
    // Twelve sales at once on one destination account.
    let sale = |i: i64| {
        let body = charge(&s.account, &pm, "sale", 1_000 + i);
        let app = &app;
        let creds = &s.creds;
        async move { app.post(creds, "/v1/collections/card", body).await }
    };
    let sales = futures_util::future::join_all((0..12).map(sale)).await;
    let ids: Vec<String> = sales
        .iter()
        .map(|r| {
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
            r.json()["id"].as_str().unwrap().to_owned()
        })
        .collect();
    let captured: i64 = (0..12).map(|i| 1_000 + i).sum();
    assert_eq!(
        balances(&app, &s.creds, &s.account).await,
        (captured, 0, captured)
    );
    // Refunds of every sale at once, racing the batch close.
    let refund = |id: &String| {
        let path = format!("/v1/collections/{id}/refunds");
        let app = &app;
        let creds = &s.creds;
        async move {
            app.post(
                creds,
                &path,
                json!({"amount": {"currency": "USD", "value": "400"}}),
            )
            .await
        }
    };
    let (refunds, _) = tokio::join!(
        futures_util::future::join_all(ids.iter().map(refund)),
        past_the_batch_close(&app)
    );
    for r in &refunds {
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    // Whatever the interleaving: every sale settled, every refund counted once.
    advance_minutes(&app, 1).await;
    let (pending, available, total) = balances(&app, &s.creds, &s.account).await;
    assert_eq!(total, captured - 12 * 400);
    assert_eq!((pending, available), (0, total), "all settled");
    for id in &ids {
        let c = get(&app, &s, id).await;
        assert_eq!(
            (
                c["settled"].as_bool(),
                c["refundedAmount"]["value"].as_str()
            ),
            (Some(true), Some("400")),
            "{c}"
        );
    }
    ledger_is_sound(&app).await;
}

async fn a_processor_refusal_changes_nothing_and_a_retry_answers_the_same(b: Backend) {
    let app = spawn_app(b).await;
    let s = setup(&app).await;
    let pm = save_card(&app, &s.creds, "4242424242424242").await;
    let auth = app
        .post(
            &s.creds,
            "/v1/collections/card",
            charge(&s.account, &pm, "authorization", 5_000),
        )
        .await
        .json();
    let id = auth["id"].as_str().unwrap().to_owned();
    // The sandbox refuses captures and refunds of 13.13.
    let capture = json!({"amount": {"currency": "USD", "value": "1313"}});
    let path = format!("/v1/collections/{id}/capture");
    let r = post_keyed(&app, &s, &path, &capture, "cap-1").await;
    assert_eq!(
        (r.status, r.error_code()),
        (StatusCode::BAD_GATEWAY, "processor_refused".into()),
        "{}",
        r.text
    );
    let again = post_keyed(&app, &s, &path, &capture, "cap-1").await;
    assert_eq!(
        (again.status, again.error_code()),
        (r.status, r.error_code())
    );
    let c = get(&app, &s, &id).await;
    assert_eq!(
        (
            c["status"].as_str(),
            c["capturable"].as_bool(),
            c["pendingOperation"].is_null()
        ),
        (Some("authorized"), Some(true), true)
    );
    assert_eq!(balances(&app, &s.creds, &s.account).await, (0, 0, 0));
    // Another amount goes through; then a refused refund is recorded failed.
    let r = app
        .post(
            &s.creds,
            &path,
            json!({"amount": {"currency": "USD", "value": "4000"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let refunds = format!("/v1/collections/{id}/refunds");
    let r = app
        .post(
            &s.creds,
            &refunds,
            json!({"amount": {"currency": "USD", "value": "1313"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY, "{}", r.text);
    let c = get(&app, &s, &id).await;
    assert_eq!(
        (
            c["status"].as_str(),
            c["refundedAmount"]["value"].as_str(),
            c["refundable"].as_bool()
        ),
        (Some("captured"), Some("0"), Some(true))
    );
    assert_eq!(
        balances(&app, &s.creds, &s.account).await,
        (4_000, 0, 4_000)
    );
    let mut tx = app.db.store.read().await.unwrap();
    let stored = tx
        .list_card_refunds(&inflow_core::ids::CollectionId::from_trusted(id.clone()))
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].status, inflow_core::card::RefundStatus::Failed);
    assert!(stored[0]
        .failure_reason
        .as_deref()
        .unwrap()
        .contains("13.13"));
    drop(tx);
    assert_eq!(
        events_for(&app, &id).await,
        ["collection.authorized", "collection.captured"]
    );
    ledger_is_sound(&app).await;
}
