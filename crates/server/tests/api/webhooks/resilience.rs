//! Outages and crashes: a receiver down for two sandbox days, deliveries
//! that fail for good disabling their endpoint, a dispatcher killed in the
//! middle of a delivery, and two dispatchers sharing one PostgreSQL.

use reqwest::StatusCode;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::support::receiver::{Answer, Receiver};
use crate::support::*;

on_both_backends!(
    a_receiver_down_for_two_sandbox_days_gets_every_event_after_it_comes_back,
    deliveries_failing_for_three_days_fail_and_disable_the_endpoint_with_an_event,
    a_dispatcher_killed_mid_delivery_and_restarted_loses_nothing,
);

/// Default retry schedule (30 s doubling to 6 h, 3 days) in business time,
/// and no background dispatcher: only moving the sandbox clock delivers.
fn sandbox_time(c: &mut inflow_server::config::Config) {
    c.webhooks.poll_interval_ms = 0;
}

async fn a_receiver_down_for_two_sandbox_days_gets_every_event_after_it_comes_back(b: Backend) {
    let app = spawn_app_with(b, sandbox_time).await;
    let rx = Receiver::start().await;
    let down = Arc::new(AtomicBool::new(true));
    let flag = down.clone();
    rx.respond(move |_| {
        if flag.load(Ordering::SeqCst) {
            Answer::status(503)
        } else {
            Answer::ok()
        }
    });
    let c = customer(&app).await;
    let (ep, _) = endpoint(&app, &c, &rx.url, json!("*")).await;
    let cols = [
        collection(&app, &c).await,
        collection(&app, &c).await,
        collection(&app, &c).await,
    ];
    cancel(&app, &c, &cols[2]).await;
    // The three `created` are tried; `cancelled` waits behind its object's `created`.
    let r = advance(&app, json!({"minutes": 1})).await;
    assert_eq!(r["jobs"]["webhookAttempts"], 3, "{r}");
    let d = deliveries(&app, &c, &ep).await;
    let waiting = d
        .iter()
        .find(|d| d["eventType"] == "collection.cancelled")
        .unwrap();
    assert_eq!(waiting["attemptCount"], 0, "{waiting:#}");

    // Two days pass (the ACH jobs may file and settle the debits: more
    // events); every attempt fails, nothing is given up.
    let r = advance(&app, json!({"days": 2})).await;
    assert!(r["jobs"]["webhookAttempts"].as_u64() >= Some(3 * 8), "{r}");
    let d = deliveries(&app, &c, &ep).await;
    assert!(d.iter().all(|d| d["status"] == "pending"), "{d:#?}");
    assert!(d.iter().any(|d| d["attemptCount"].as_u64() > Some(8)));
    assert!(rx.acknowledged().is_empty());

    // Back up: within the longest backoff (6 h) everything arrives, in order.
    down.store(false, Ordering::SeqCst);
    let r = advance(&app, json!({"hours": 7})).await;
    let d = deliveries(&app, &c, &ep).await;
    assert!(all_succeeded(&d), "{d:#?}");
    let events = all_events(&app, &c).await;
    assert_eq!(d.len(), events.len(), "one delivery per event");
    assert_eq!(
        r["jobs"]["webhooksDelivered"].as_u64(),
        Some(d.len() as u64),
        "{r}"
    );
    let acked = rx.acknowledged();
    assert_once_and_in_order(&acked);
    let mut acked_ids: Vec<_> = acked.iter().map(|r| r.event_id.clone()).collect();
    let mut event_ids: Vec<_> = events
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    acked_ids.sort();
    event_ids.sort();
    assert_eq!(acked_ids, event_ids, "every event, exactly once");
    app.stop().await;
}

async fn deliveries_failing_for_three_days_fail_and_disable_the_endpoint_with_an_event(b: Backend) {
    let app = spawn_app_with(b, |c| {
        c.webhooks.poll_interval_ms = 50;
        c.webhooks.disable_after_failures = 2;
    })
    .await;
    let broken = Receiver::start().await;
    broken.respond(|_| Answer::status(500));
    let watcher = Receiver::start().await;
    let c = customer(&app).await;
    let (ep, _) = endpoint(&app, &c, &broken.url, json!(["collection.created"])).await;
    let (watch_ep, _) =
        endpoint(&app, &c, &watcher.url, json!(["webhook_endpoint.disabled"])).await;
    // The operator's on-call endpoint (an operator key naming no customer)
    // hears of a customer's endpoint being disabled too.
    let on_call = Receiver::start().await;
    let r = app
        .post(
            &admin(),
            "/v1/webhook-endpoints",
            json!({"url": on_call.url, "enabledEvents": ["webhook_endpoint.disabled"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    collection(&app, &c).await;
    collection(&app, &c).await;
    advance(&app, json!({"days": 3, "hours": 12})).await;

    let d = wait_deliveries(&app, &c, &ep, 20, "both failed", |d| {
        d.len() == 2 && d.iter().all(|d| d["status"] == "failed")
    })
    .await;
    assert!(d[0]["attemptCount"].as_u64() > Some(5), "{:#}", d[0]);
    assert!(d[0]["nextAttemptAt"].is_null());
    let shown = app
        .get(&c.creds, &format!("/v1/webhook-endpoints/{ep}"))
        .await
        .json();
    assert_eq!(shown["status"], "disabled", "{shown}");
    assert_eq!(shown["consecutiveFailures"], 2);
    assert!(shown["disabledReason"]
        .as_str()
        .unwrap()
        .contains("2 deliveries"));

    let events = app
        .get(&c.creds, "/v1/events?type=webhook_endpoint.disabled")
        .await
        .json();
    assert_eq!(events["data"].as_array().unwrap().len(), 1, "{events}");
    assert_eq!(events["data"][0]["data"]["object"]["id"], ep.as_str());
    watcher
        .wait_for(20, "the disabled event", |l| {
            l.iter()
                .any(|r| r.event_type == "webhook_endpoint.disabled" && r.acknowledged())
        })
        .await;
    on_call
        .wait_for(20, "the disabled event at the operator's endpoint", |l| {
            l.iter().any(|r| {
                r.event_type == "webhook_endpoint.disabled" && r.object_id == ep && r.acknowledged()
            })
        })
        .await;
    assert!(
        wait_deliveries(&app, &c, &watch_ep, 5, "watcher", all_succeeded)
            .await
            .len()
            == 1
    );

    // Enabling it again clears the failure run.
    let r = app
        .call(
            &c.creds,
            reqwest::Method::PATCH,
            &format!("/v1/webhook-endpoints/{ep}"),
            Some(json!({"status": "enabled"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (
            r.json()["consecutiveFailures"].as_u64(),
            r.json()["disabledReason"].is_null()
        ),
        (Some(0), true)
    );
    app.stop().await;
}

async fn a_dispatcher_killed_mid_delivery_and_restarted_loses_nothing(b: Backend) {
    let mut app = spawn_app_with(b, fast).await;
    let rx = Receiver::start().await;
    let hang = Arc::new(AtomicBool::new(true));
    let flag = hang.clone();
    rx.respond(move |_| {
        if flag.load(Ordering::SeqCst) {
            // Never answers in time: the node is stopped while this is in flight.
            Answer {
                status: 200,
                delay: Duration::from_secs(3600),
            }
        } else {
            Answer::ok()
        }
    });
    let c = customer(&app).await;
    let (ep, _) = endpoint(&app, &c, &rx.url, json!("*")).await;
    let first = collection(&app, &c).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let events = all_events(&app, &c).await;
    let first_event = events[0]["id"].as_str().unwrap().to_owned();
    while rx.seen(&first_event) == 0 {
        assert!(tokio::time::Instant::now() < deadline, "no attempt arrived");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Kill the node mid-delivery; more events are written while it is down.
    app.restart_with(|c| c.webhooks.poll_interval_ms = 0).await;
    let second = collection(&app, &c).await;
    cancel(&app, &c, &first).await;
    hang.store(false, Ordering::SeqCst);
    assert!(rx.acknowledged().is_empty());
    // A fresh node picks the abandoned delivery up once its claim lapses.
    app.restart_with(fast).await;
    let d = wait_deliveries(&app, &c, &ep, 30, "everything delivered", |d| {
        d.len() == 3 && all_succeeded(d)
    })
    .await;
    let acked = rx.acknowledged();
    assert_eq!(acked.len(), 3, "each event acknowledged once");
    assert_once_and_in_order(&acked);
    let retried = d
        .iter()
        .find(|d| d["eventId"] == first_event.as_str())
        .unwrap();
    assert!(retried["attemptCount"].as_u64() >= Some(2), "{retried:#}");
    let objects: std::collections::HashSet<_> = acked.iter().map(|r| r.object_id.clone()).collect();
    assert_eq!(objects, [first, second].into_iter().collect());
    app.stop().await;
}

/// Two nodes, each with its own dispatcher, on one PostgreSQL database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_dispatchers_on_one_postgres_never_deliver_an_attempt_twice_concurrently() {
    let app = spawn_app_with(Backend::Postgres, |c| {
        fast(c);
        c.webhooks.batch_size = 4;
    })
    .await;
    let second = start_node_with(&app.db.url, &app.master_key, &app.data_dir, |c| {
        fast(c);
        c.webhooks.batch_size = 4;
    })
    .await;
    let rx = Receiver::start().await;
    // Slow answers widen the window in which two dispatchers could collide.
    rx.respond(|_| Answer {
        status: 200,
        delay: Duration::from_millis(30),
    });
    let c = customer(&app).await;
    let (ep, _) = endpoint(&app, &c, &rx.url, json!("*")).await;
    let n = 24;
    for _ in 0..n {
        collection(&app, &c).await;
    }
    let d = wait_deliveries(&app, &c, &ep, 60, "all delivered", |d| {
        d.len() == n && all_succeeded(d)
    })
    .await;
    let log = rx.log();
    assert_eq!(log.len(), n, "each delivery attempted exactly once");
    let mut pairs: Vec<_> = log
        .iter()
        .map(|r| (r.delivery_id.clone(), r.attempt))
        .collect();
    pairs.sort();
    pairs.dedup();
    assert_eq!(pairs.len(), n, "no (delivery, attempt) twice");
    assert_eq!(
        rx.max_overlap(),
        1,
        "never two requests for one delivery at once"
    );
    assert!(d.iter().all(|d| d["attemptCount"] == 1));
    second.shutdown().await;
    app.stop().await;
}
