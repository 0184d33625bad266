//! A claimed batch's outcomes are recorded together, and promptly: one pass
//! records a 2xx, a 500 and a timeout each as it should, and an attempt
//! that finished is recorded while a slow one of its batch is in flight.

use serde_json::{json, Value};
use std::time::Duration;

use super::*;
use crate::support::receiver::{Answer, Receiver};
use crate::support::*;

on_both_backends!(
    one_pass_records_a_batch_of_a_2xx_a_500_and_a_timeout,
    a_finished_attempt_is_recorded_while_a_slow_one_of_its_batch_is_in_flight,
);

/// Never answers within any test's timeout.
fn hang() -> Answer {
    Answer {
        status: 200,
        delay: Duration::from_secs(3600),
    }
}

fn delivery_of<'a>(d: &'a [Value], object: &str) -> &'a Value {
    d.iter()
        .find(|d| d["objectId"] == object)
        .unwrap_or_else(|| panic!("no delivery for {object}: {d:#?}"))
}

async fn one_pass_records_a_batch_of_a_2xx_a_500_and_a_timeout(b: Backend) {
    let app = spawn_app_with(b, |c| {
        fast(c);
        c.webhooks.poll_interval_ms = 0;
        c.webhooks.timeout_secs = 1;
        c.webhooks.claim_ttl_secs = 120;
    })
    .await;
    let rx = Receiver::start().await;
    let c = customer(&app).await;
    let (ep, _) = endpoint(&app, &c, &rx.url, json!(["collection.created"])).await;
    let ok = collection(&app, &c).await;
    let error = collection(&app, &c).await;
    let slow = collection(&app, &c).await;
    let (e, s) = (error.clone(), slow.clone());
    rx.respond(move |r| match r.object_id.as_str() {
        o if o == e => Answer::status(500),
        o if o == s => hang(),
        _ => Answer::ok(),
    });

    let pass = app.state().webhooks.run_pass(1).await.unwrap();
    assert_eq!(
        (pass.attempts, pass.delivered, pass.retrying, pass.failed),
        (3, 1, 2, 0),
        "{pass:?}"
    );
    let d = deliveries(&app, &c, &ep).await;
    let delivered = delivery_of(&d, &ok);
    assert_eq!(delivered["status"], "succeeded", "{delivered:#}");
    assert_eq!(delivered["lastStatusCode"], 200);
    assert!(delivered["deliveredAt"].is_string());
    assert_eq!(delivered["attempts"][0]["succeeded"], true);
    let refused = delivery_of(&d, &error);
    assert_eq!(refused["status"], "pending", "{refused:#}");
    assert_eq!(refused["lastStatusCode"], 500);
    assert!(refused["lastError"]
        .as_str()
        .unwrap()
        .starts_with("HTTP 500"));
    assert!(refused["nextAttemptAt"].is_string());
    assert!(refused["deliveredAt"].is_null());
    assert_eq!(refused["attempts"][0]["statusCode"], 500);
    let timed_out = delivery_of(&d, &slow);
    assert_eq!(timed_out["status"], "pending", "{timed_out:#}");
    assert!(timed_out["lastStatusCode"].is_null());
    assert!(timed_out["lastError"]
        .as_str()
        .unwrap()
        .starts_with("timed out"));
    assert!(timed_out["nextAttemptAt"].is_string());
    for x in [delivered, refused, timed_out] {
        assert_eq!(x["attemptCount"], 1);
        assert_eq!(x["attempts"].as_array().unwrap().len(), 1, "{x:#}");
    }
    assert_eq!(rx.acknowledged().len(), 1);
    app.stop().await;
}

async fn a_finished_attempt_is_recorded_while_a_slow_one_of_its_batch_is_in_flight(b: Backend) {
    let app = spawn_app_with(b, |c| {
        fast(c);
        c.webhooks.poll_interval_ms = 0;
        // The slow attempt stays in flight for the whole test.
        c.webhooks.timeout_secs = 120;
        c.webhooks.claim_ttl_secs = 240;
    })
    .await;
    let rx = Receiver::start().await;
    let c = customer(&app).await;
    let (ep, _) = endpoint(&app, &c, &rx.url, json!(["collection.created"])).await;
    let ok = collection(&app, &c).await;
    let slow = collection(&app, &c).await;
    let s = slow.clone();
    rx.respond(move |r| {
        if r.object_id == s {
            hang()
        } else {
            Answer::ok()
        }
    });

    let dispatcher = app.state().webhooks.clone();
    let pass = tokio::spawn(async move { dispatcher.run_pass(1).await });
    let d = wait_deliveries(&app, &c, &ep, 60, "the answered delivery recorded", |d| {
        d.iter()
            .any(|d| d["objectId"] == ok.as_str() && d["status"] == "succeeded")
    })
    .await;
    let in_flight = delivery_of(&d, &slow);
    assert_eq!(in_flight["status"], "pending", "{in_flight:#}");
    assert_eq!(in_flight["attemptCount"], 1, "claimed, attempt under way");
    assert!(
        in_flight["attempts"].as_array().unwrap().is_empty(),
        "not recorded before it answers: {in_flight:#}"
    );
    assert!(!pass.is_finished());
    pass.abort();
    app.stop().await;
}
