//! Signatures, retries until acknowledged, per-object order, rotation,
//! redelivery and the delivery log.

use reqwest::StatusCode;
use serde_json::json;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::*;
use crate::support::receiver::{Answer, Receiver};
use crate::support::*;
use inflow_core::webhook::signature::verify;

on_both_backends!(
    the_signature_verifies_with_the_documented_recipe_and_the_body_is_the_event,
    a_receiver_failing_n_times_acknowledges_each_event_once_and_the_log_shows_every_attempt,
    a_later_event_waits_for_an_earlier_one_of_the_same_object_but_not_for_other_objects,
    after_a_rotation_both_secrets_verify_until_the_overlap_ends,
    redeliver_sends_the_same_event_again_and_disabled_endpoints_receive_nothing,
    connection_errors_and_timeouts_are_retried_until_a_corrected_url_answers,
);

/// `printf '%s' "$t.$body" | openssl dgst -sha256 -hmac "$secret"` — the README recipe.
fn openssl_signature(secret: &str, t: &str, body: &[u8]) -> String {
    let mut child = Command::new("openssl")
        .args(["dgst", "-sha256", "-hmac", secret])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("openssl (scripts/test installs it)");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(t.as_bytes()).unwrap();
        stdin.write_all(b".").unwrap();
        stdin.write_all(body).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    text.rsplit("= ").next().unwrap().trim().to_owned()
}

async fn the_signature_verifies_with_the_documented_recipe_and_the_body_is_the_event(b: Backend) {
    let app = spawn_app_with(b, fast).await;
    let rx = Receiver::start().await;
    let c = customer(&app).await;
    let (ep, secret) = endpoint(&app, &c, &rx.url, json!(["collection.created"])).await;
    let col = collection(&app, &c).await;
    rx.wait_for(20, "collection.created", |l| {
        l.iter().any(|r| r.acknowledged())
    })
    .await;
    let got = rx.log().remove(0);
    assert_eq!(got.event_type, "collection.created");
    assert_eq!(got.object_id, col);

    // The documented recipe, computed by openssl, matches a v1= of the header.
    let (t, v1) = got.signature.split_once(",v1=").unwrap();
    let t = t.strip_prefix("t=").unwrap();
    assert_eq!(t, got.timestamp, "Inflow-Timestamp is the signed t");
    assert_eq!(openssl_signature(&secret, t, &got.body), v1);
    let age = chrono::Utc::now().timestamp() - t.parse::<i64>().unwrap();
    assert!(age.abs() < 300, "signed with the wall clock: {age}");

    // The body is the event exactly as GET /v1/events/{id} shows it.
    let event = app
        .get(&c.creds, &format!("/v1/events/{}", got.event_id))
        .await;
    assert_eq!(event.status, StatusCode::OK, "{}", event.text);
    assert_eq!(got.json(), event.json());
    assert_eq!(event.json()["data"]["object"]["status"], "pending");

    // `inflow webhooks verify` agrees, and refuses a wrong secret or a changed body.
    let dir = tempdir();
    let payload = dir.join("payload.json");
    std::fs::write(&payload, &got.body).unwrap();
    let run = |secret: &str, file: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_inflow"))
            .args(["webhooks", "verify", "--payload"])
            .arg(file)
            .args([
                "--header",
                &format!("Inflow-Signature: {}", got.signature),
                "--secret",
                secret,
                "--tolerance",
                "300",
            ])
            .output()
            .unwrap()
    };
    let ok = run(&secret, &payload);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    assert_eq!(run("whsec_wrong", &payload).status.code(), Some(1));
    let changed = dir.join("changed.json");
    std::fs::write(&changed, [&got.body[..], b" "].concat()).unwrap();
    assert_eq!(run(&secret, &changed).status.code(), Some(1));
    let _ = std::fs::remove_dir_all(dir);

    // The delivery log: one successful attempt.
    let d = wait_deliveries(&app, &c, &ep, 10, "success", all_succeeded).await;
    assert_eq!(d.len(), 1);
    assert_eq!(
        (
            d[0]["attemptCount"].as_u64(),
            d[0]["lastStatusCode"].as_u64()
        ),
        (Some(1), Some(200))
    );
    assert_eq!(d[0]["attempts"][0]["succeeded"], true);
    assert!(d[0]["nextAttemptAt"].is_null());
    app.stop().await;
}

fn tempdir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("inflow-wh-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

async fn a_receiver_failing_n_times_acknowledges_each_event_once_and_the_log_shows_every_attempt(
    b: Backend,
) {
    let app = spawn_app_with(b, fast).await;
    let rx = Receiver::start().await;
    rx.respond(|r| {
        if r.nth < 3 {
            Answer::status(500)
        } else {
            Answer::ok()
        }
    });
    let c = customer(&app).await;
    let (ep, secret) = endpoint(&app, &c, &rx.url, json!("*")).await;
    let a = collection(&app, &c).await;
    let b_ = collection(&app, &c).await;
    cancel(&app, &c, &a).await;
    let d = wait_deliveries(&app, &c, &ep, 30, "three successes", |d| {
        d.len() == 3 && all_succeeded(d)
    })
    .await;
    for delivery in &d {
        let codes: Vec<_> = delivery["attempts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["statusCode"].as_u64().unwrap())
            .collect();
        assert_eq!(codes, [500, 500, 500, 200], "{delivery:#}");
        assert_eq!(delivery["attemptCount"], 4);
        assert_eq!(
            delivery["attempts"][0]["error"],
            "HTTP 500 Internal Server Error"
        );
        assert!(delivery["attempts"][3]["latencyMs"].is_u64());
    }
    let acked = rx.acknowledged();
    assert_eq!(acked.len(), 3);
    assert_once_and_in_order(&acked);
    assert_eq!(rx.log().len(), 12, "four requests per event");
    for r in rx.log() {
        verify(
            &r.signature,
            &r.body,
            &secret,
            chrono::Utc::now().timestamp(),
            Some(300),
        )
        .expect("every attempt is signed");
    }
    let objects: std::collections::HashSet<_> = acked.iter().map(|r| r.object_id.clone()).collect();
    assert_eq!(objects, [a, b_].into_iter().collect());
    app.stop().await;
}

async fn a_later_event_waits_for_an_earlier_one_of_the_same_object_but_not_for_other_objects(
    b: Backend,
) {
    let app = spawn_app_with(b, fast).await;
    let rx = Receiver::start().await;
    let c = customer(&app).await;
    let (_ep, _) = endpoint(&app, &c, &rx.url, json!("*")).await;
    // The first object's events fail until the switch is thrown; others go through.
    let x_fails = Arc::new(AtomicBool::new(true));
    let first_object = Arc::new(std::sync::OnceLock::<String>::new());
    let (flag, first) = (x_fails.clone(), first_object.clone());
    rx.respond(move |r| {
        let x = first.get_or_init(|| r.object_id.clone());
        if &r.object_id == x && flag.load(Ordering::SeqCst) {
            Answer::status(503)
        } else {
            Answer::ok()
        }
    });
    let x = collection(&app, &c).await;
    rx.wait_for(20, "x's first attempt", |l| {
        l.iter().any(|r| r.object_id == x)
    })
    .await;
    cancel(&app, &c, &x).await;
    let y = collection(&app, &c).await;
    rx.wait_for(20, "y delivered while x is failing", |l| {
        l.iter().any(|r| r.object_id == y && r.acknowledged())
            && l.iter().filter(|r| r.object_id == x).count() >= 3
    })
    .await;
    assert!(
        rx.log()
            .iter()
            .all(|r| !(r.object_id == x && r.event_type == "collection.cancelled")),
        "x.cancelled must wait for x.created"
    );
    x_fails.store(false, Ordering::SeqCst);
    rx.wait_for(20, "x's two events", |l| {
        l.iter()
            .filter(|r| r.object_id == x && r.acknowledged())
            .count()
            == 2
    })
    .await;
    let acked = rx.acknowledged();
    assert_once_and_in_order(&acked);
    let x_types: Vec<_> = acked
        .iter()
        .filter(|r| r.object_id == x)
        .map(|r| r.event_type.as_str())
        .collect();
    assert_eq!(x_types, ["collection.created", "collection.cancelled"]);
    app.stop().await;
}

async fn after_a_rotation_both_secrets_verify_until_the_overlap_ends(b: Backend) {
    let app = spawn_app_with(b, fast).await;
    let rx = Receiver::start().await;
    let c = customer(&app).await;
    let (ep, old) = endpoint(&app, &c, &rx.url, json!(["collection.created"])).await;
    let r = app
        .post(
            &c.creds,
            &format!("/v1/webhook-endpoints/{ep}/rotate-secret"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let new = r.json()["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert!(r.json()["previousSecretExpiresAt"].is_string());
    let shown = app
        .get(&c.creds, &format!("/v1/webhook-endpoints/{ep}"))
        .await;
    assert!(!shown.text.contains("whsec_"), "secrets are shown once");

    let first = collection(&app, &c).await;
    rx.wait_for(20, "first", |l| l.iter().any(|r| r.object_id == first))
        .await;
    let got = rx.log().into_iter().find(|r| r.object_id == first).unwrap();
    assert_eq!(got.signature.matches("v1=").count(), 2, "{}", got.signature);
    let now = chrono::Utc::now().timestamp();
    verify(&got.signature, &got.body, &old, now, Some(300)).expect("old secret still valid");
    verify(&got.signature, &got.body, &new, now, Some(300)).expect("new secret valid");

    // 25 sandbox hours later the old secret no longer signs.
    advance(&app, json!({"hours": 25})).await;
    let shown = app
        .get(&c.creds, &format!("/v1/webhook-endpoints/{ep}"))
        .await;
    assert!(shown.json()["previousSecretExpiresAt"].is_null());
    let second = collection(&app, &c).await;
    rx.wait_for(20, "second", |l| l.iter().any(|r| r.object_id == second))
        .await;
    let got = rx
        .log()
        .into_iter()
        .find(|r| r.object_id == second)
        .unwrap();
    assert_eq!(got.signature.matches("v1=").count(), 1);
    assert!(verify(&got.signature, &got.body, &new, now, None).is_ok());
    assert!(verify(&got.signature, &got.body, &old, now, None).is_err());
    app.stop().await;
}

async fn redeliver_sends_the_same_event_again_and_disabled_endpoints_receive_nothing(b: Backend) {
    let app = spawn_app_with(b, fast).await;
    let rx = Receiver::start().await;
    let c = customer(&app).await;
    let (ep, _) = endpoint(&app, &c, &rx.url, json!(["collection.*"])).await;
    let col = collection(&app, &c).await;
    rx.wait_for(20, "created", |l| l.len() == 1).await;
    let event = rx.log()[0].event_id.clone();

    let r = app
        .post(
            &c.creds,
            &format!("/v1/events/{event}/redeliver"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(r.json()["data"][0]["eventId"], event.as_str());
    rx.wait_for(20, "redelivered", |l| l.len() == 2).await;
    let log = rx.log();
    assert_eq!(log[1].event_id, event);
    assert_ne!(log[1].delivery_id, log[0].delivery_id);
    assert_eq!(log[1].body, log[0].body, "the same event, byte for byte");

    // Disabled: nothing is queued or sent; redelivery to it is refused.
    let r = app
        .call(
            &c.creds,
            reqwest::Method::PATCH,
            &format!("/v1/webhook-endpoints/{ep}"),
            Some(json!({"status": "disabled"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["disabledReason"], "disabled by the customer");
    cancel(&app, &c, &col).await;
    let r = app
        .post(
            &c.creds,
            &format!("/v1/events/{event}/redeliver"),
            json!({"endpointId": ep}),
        )
        .await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (StatusCode::CONFLICT, "endpoint_disabled")
    );
    let r = app
        .post(
            &c.creds,
            &format!("/v1/events/{event}/redeliver"),
            json!({}),
        )
        .await;
    assert_eq!(r.error_code(), "no_matching_endpoints");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(rx.log().len(), 2);
    assert_eq!(deliveries(&app, &c, &ep).await.len(), 2);

    // Another customer sees neither the event nor the endpoint.
    let (_, other) = app.customer_with_key("Other", json!({})).await;
    for path in [
        format!("/v1/events/{event}"),
        format!("/v1/webhook-endpoints/{ep}"),
        format!("/v1/webhook-endpoints/{ep}/deliveries"),
    ] {
        assert_eq!(
            app.get(&other, &path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let r = app
        .post(&other, &format!("/v1/events/{event}/redeliver"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    app.stop().await;
}

async fn connection_errors_and_timeouts_are_retried_until_a_corrected_url_answers(b: Backend) {
    let app = spawn_app_with(b, |c| {
        fast(c);
        c.webhooks.timeout_secs = 1;
        c.webhooks.claim_ttl_secs = 2;
    })
    .await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = customer(&app).await;
    let (ep, _) = endpoint(
        &app,
        &c,
        &format!("http://127.0.0.1:{closed}/hooks"),
        json!("*"),
    )
    .await;
    collection(&app, &c).await;
    let d = wait_deliveries(&app, &c, &ep, 20, "two refused connections", |d| {
        d.len() == 1 && d[0]["attempts"].as_array().is_some_and(|a| a.len() >= 2)
    })
    .await;
    let first = &d[0]["attempts"][0];
    assert!(first["statusCode"].is_null(), "{first}");
    assert!(
        first["error"]
            .as_str()
            .unwrap()
            .starts_with("connection failed"),
        "{first}"
    );
    assert_eq!(d[0]["status"], "pending");

    // The receiver's first answer comes too late (a timeout); then it answers.
    let rx = Receiver::start().await;
    rx.respond(|r| {
        if r.nth == 0 {
            Answer {
                status: 200,
                delay: std::time::Duration::from_millis(1500),
            }
        } else {
            Answer::ok()
        }
    });
    let r = app
        .call(
            &c.creds,
            reqwest::Method::PATCH,
            &format!("/v1/webhook-endpoints/{ep}"),
            Some(json!({"url": rx.url})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let d = wait_deliveries(&app, &c, &ep, 20, "delivered", all_succeeded).await;
    let errors: Vec<_> = d[0]["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["error"].as_str())
        .collect();
    assert!(
        errors.iter().any(|e| e.starts_with("timed out after 1")),
        "{errors:?}"
    );
    app.stop().await;
}
