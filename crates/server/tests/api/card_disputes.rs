//! Disputes (chargebacks) on both backends over HTTP: the sandbox
//! processor's magic cards (disputed once captured, lost or won a day
//! later), Stripe's signed webhook (`POST /v1/processors/stripe/webhooks`)
//! and Stripe's dispute list read by reconciliation. localstripe has no
//! disputes: the Stripe dispute objects here are hand-written from Stripe's
//! documented shape (recorded responses), served for the PaymentIntents
//! localstripe really made.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::ach::advance_minutes;
use support::card::{card_body, charge, events_for, save_card};
use support::ledger::{balances, int, ledger_is_sound};
use support::localstripe::{LocalStripe, LossyProxy, SECRET_KEY};
use support::*;

on_both_backends!(
    a_sandbox_dispute_reverses_the_capture_and_its_fee_and_is_lost,
    a_won_sandbox_dispute_gives_the_amount_back_and_keeps_the_fee,
    a_signed_stripe_dispute_webhook_disputes_the_collection_once,
    stripe_disputes_found_by_reconciliation_are_applied,
);

const DISPUTE_LOST: &str = "4000000000000259";
const DISPUTE_WON: &str = "4000000000001976";
const WEBHOOK_SECRET: &str = "whsec_inflow_test";
const DISPUTE_FEE: i64 = 1_500;

struct Setup {
    customer: String,
    creds: Creds,
    account: String,
}

async fn setup(app: &TestApp) -> Setup {
    let (customer, creds) = app.customer_with_key("Agency", json!({})).await;
    let body = json!({"cardPercentageBps": 290, "cardFixed": 30, "cardDisputeFee": DISPUTE_FEE})
        .to_string();
    let r = app
        .send(
            Some(&admin()),
            Method::PUT,
            &format!("/v1/fee-schedules/{customer}"),
            Some(&body),
            true,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["cardDisputeFee"], DISPUTE_FEE, "{}", r.text);
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

async fn sale(app: &TestApp, s: &Setup, pm: &str, cents: i64) -> Value {
    let r = app
        .post(
            &s.creds,
            "/v1/collections/card",
            charge(&s.account, pm, "sale", cents),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json()["status"], "captured", "{}", r.text);
    r.json()
}

async fn status(app: &TestApp, s: &Setup, id: &str) -> String {
    let r = app.get(&s.creds, &format!("/v1/collections/{id}")).await;
    r.json()["status"].as_str().unwrap().to_owned()
}

fn fees(c: &Value) -> i64 {
    int(&c["fees"]["total"]["value"])
}

async fn a_sandbox_dispute_reverses_the_capture_and_its_fee_and_is_lost(b: Backend) {
    let app = spawn_app(b).await;
    let s = setup(&app).await;
    let pm = save_card(&app, &s.creds, DISPUTE_LOST).await;
    let c = sale(&app, &s, &pm, 10_000).await;
    let id = c["id"].as_str().unwrap();
    assert_eq!(
        balances(&app, &s.creds, &s.account).await,
        (10_000 - fees(&c), 0, 10_000 - fees(&c))
    );

    // The next reconciliation pass finds the dispute.
    advance_minutes(&app, 1).await;
    assert_eq!(status(&app, &s, id).await, "disputed");
    let lost_so_far = -(fees(&c) + DISPUTE_FEE);
    assert_eq!(
        balances(&app, &s.creds, &s.account).await,
        (0, lost_so_far, lost_so_far)
    );
    // The day's settlement report counts the dispute in the card section and ties out.
    let day = inflow_core::calendar::local_date(support::ach::sandbox_now(&app).await);
    let r = app
        .get(&admin(), &format!("/v1/reports/settlement?date={day}"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let report = r.json();
    let line = report["accounts"]
        .as_array()
        .and_then(|ls| ls.iter().find(|l| l["accountId"] == s.account.as_str()))
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(line["card"]["disputed"]["count"], 1, "{line}");
    assert_eq!(line["card"]["disputed"]["amount"], "10000", "{line}");
    assert_eq!(report["tiesOut"]["accountsMatchClearing"], true, "{report}");
    // Seen again on every pass: applied once.
    advance_minutes(&app, 1).await;
    assert_eq!(
        balances(&app, &s.creds, &s.account).await,
        (0, lost_so_far, lost_so_far)
    );

    // A day later the dispute is lost: nothing more moves.
    advance_minutes(&app, 24 * 60).await;
    assert_eq!(status(&app, &s, id).await, "dispute_lost");
    assert_eq!(
        balances(&app, &s.creds, &s.account).await,
        (0, lost_so_far, lost_so_far)
    );
    let events = events_for(&app, id).await;
    assert!(
        events.contains(&"collection.disputed".to_owned()),
        "{events:?}"
    );
    assert!(
        events.contains(&"collection.dispute_lost".to_owned()),
        "{events:?}"
    );
    // A refund of a disputed collection is refused.
    let r = app
        .post(
            &s.creds,
            &format!("/v1/collections/{id}/refunds"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    ledger_is_sound(&app).await;
}

async fn a_won_sandbox_dispute_gives_the_amount_back_and_keeps_the_fee(b: Backend) {
    let app = spawn_app(b).await;
    let s = setup(&app).await;
    let info = app.get(&s.creds, "/v1/card-processor").await.json();
    assert_eq!(
        (
            &info["processor"],
            &info["capabilities"]["forceWithApprovalCode"]
        ),
        (&json!("sandbox"), &json!(true)),
        "{info}"
    );
    let pm = save_card(&app, &s.creds, DISPUTE_WON).await;
    let c = sale(&app, &s, &pm, 4_000).await;
    let id = c["id"].as_str().unwrap();
    // Refunded in part first: only what remains is disputed.
    let r = app
        .post(
            &s.creds,
            &format!("/v1/collections/{id}/refunds"),
            json!({"amount": {"currency": "USD", "value": "1000"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    advance_minutes(&app, 1).await;
    assert_eq!(status(&app, &s, id).await, "disputed");
    let after_dispute = 4_000 - fees(&c) - 1_000 - 3_000 - DISPUTE_FEE;
    let (p, a, _) = balances(&app, &s.creds, &s.account).await;
    assert_eq!(p + a, after_dispute);
    advance_minutes(&app, 24 * 60).await;
    assert_eq!(status(&app, &s, id).await, "dispute_won");
    let (p, a, _) = balances(&app, &s.creds, &s.account).await;
    assert_eq!(
        p + a,
        after_dispute + 3_000,
        "the disputed amount is back, the fee is kept"
    );
    assert!(events_for(&app, id)
        .await
        .contains(&"collection.dispute_won".to_owned()));
    ledger_is_sound(&app).await;
}

async fn stripe_app(b: Backend, api_base: &str) -> TestApp {
    let base = api_base.to_owned();
    spawn_app_with(b, move |c| {
        c.cards.processor = Some("stripe".into());
        c.cards.stripe.api_base = base;
        c.cards.stripe.secret_key = Some(SECRET_KEY.into());
        c.cards.stripe.webhook_secret = Some(WEBHOOK_SECRET.into());
        c.cards.stripe.timeout_secs = 5;
    })
    .await
}

async fn stripe_sale(app: &TestApp, s: &Setup, cents: i64) -> Value {
    let r = app
        .post(
            &s.creds,
            "/v1/payment-methods",
            card_body("4242424242424242", Some("123")),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let pm = r.json()["id"].as_str().unwrap().to_owned();
    sale(app, s, &pm, cents).await
}

/// A Stripe dispute object (hand-written from Stripe's documented shape).
fn dispute(id: &str, pi: &str, amount: i64, status: &str) -> Value {
    json!({"id": id, "object": "dispute", "amount": amount, "currency": "usd",
        "charge": "ch_recorded", "payment_intent": pi, "reason": "fraudulent", "status": status,
        "is_charge_refundable": false, "livemode": false, "balance_transactions": [],
        "created": 1_796_000_000, "metadata": {}})
}

async fn post_event(app: &TestApp, event: &Value, secret: &str) -> Reply {
    let body = event.to_string();
    let header = inflow_engine::cards::stripe::signature::sign(
        body.as_bytes(),
        secret,
        chrono::Utc::now().timestamp(),
    );
    app.send(
        None,
        Method::POST,
        "/v1/processors/stripe/webhooks",
        Some(&body),
        false,
        &[
            ("stripe-signature", &header),
            ("content-type", "application/json"),
        ],
    )
    .await
}

async fn a_signed_stripe_dispute_webhook_disputes_the_collection_once(b: Backend) {
    let ls = LocalStripe::start().await;
    let app = stripe_app(b, &ls.url).await;
    let s = setup(&app).await;
    let c = stripe_sale(&app, &s, 2_500).await;
    let id = c["id"].as_str().unwrap();
    let pi = c["processor"]["reference"].as_str().unwrap();
    let before = balances(&app, &s.creds, &s.account).await;
    let created = json!({"id": "evt_1", "object": "event", "type": "charge.dispute.created",
        "data": {"object": dispute("dp_recorded_1", pi, 2_500, "needs_response")}});

    // A wrong signature: refused, nothing changed.
    let r = post_event(&app, &created, "whsec_wrong").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.error_code(), "invalid_signature");
    assert_eq!(status(&app, &s, id).await, "captured");
    assert_eq!(balances(&app, &s.creds, &s.account).await, before);

    let r = post_event(&app, &created, WEBHOOK_SECRET).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["result"], "applied");
    assert_eq!(status(&app, &s, id).await, "disputed");
    let disputed = balances(&app, &s.creds, &s.account).await;
    assert_eq!(disputed.2, before.2 - 2_500 - DISPUTE_FEE);
    // Stripe sends it again: applied once.
    let r = post_event(&app, &created, WEBHOOK_SECRET).await;
    assert_eq!(r.json()["result"], "unchanged");
    assert_eq!(balances(&app, &s.creds, &s.account).await, disputed);

    let closed = json!({"id": "evt_2", "object": "event", "type": "charge.dispute.closed",
        "data": {"object": dispute("dp_recorded_1", pi, 2_500, "won")}});
    let r = post_event(&app, &closed, WEBHOOK_SECRET).await;
    assert_eq!(r.json()["result"], "applied", "{}", r.text);
    assert_eq!(status(&app, &s, id).await, "dispute_won");
    assert_eq!(
        balances(&app, &s.creds, &s.account).await.2,
        before.2 - DISPUTE_FEE
    );
    // Not a dispute event: acknowledged, ignored.
    let other =
        json!({"id": "evt_3", "type": "payment_intent.succeeded", "data": {"object": {"id": pi}}});
    assert_eq!(
        post_event(&app, &other, WEBHOOK_SECRET).await.json()["result"],
        "ignored"
    );
    ledger_is_sound(&app).await;
}

async fn stripe_disputes_found_by_reconciliation_are_applied(b: Backend) {
    let ls = LocalStripe::start().await;
    let proxy = LossyProxy::start(&ls.url).await;
    let app = stripe_app(b, &proxy.url).await;
    let s = setup(&app).await;
    let c = stripe_sale(&app, &s, 3_000).await;
    let id = c["id"].as_str().unwrap();
    let pi = c["processor"]["reference"].as_str().unwrap();
    let list = |status: &str| {
        json!({"object": "list", "url": "/v1/disputes", "has_more": false,
        "data": [dispute("dp_recorded_2", pi, 3_000, status),
                 dispute("dp_unknown", "pi_not_inflows", 100, "needs_response")]})
    };
    proxy.answer("GET /v1/disputes", &list("needs_response"));
    advance_minutes(&app, 1).await;
    assert_eq!(status(&app, &s, id).await, "disputed");
    proxy.answer("GET /v1/disputes", &list("lost"));
    advance_minutes(&app, 1).await;
    assert_eq!(status(&app, &s, id).await, "dispute_lost");
    let (p, a, _) = balances(&app, &s.creds, &s.account).await;
    assert_eq!(p + a, 3_000 - fees(&c) - 3_000 - DISPUTE_FEE);
    let _ = &s.customer;
    ledger_is_sound(&app).await;
}
