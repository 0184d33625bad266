//! Two `inflow serve` processes on one PostgreSQL database: an idempotency key
//! raced across both nodes still creates exactly one object, and a request
//! signature accepted by one node is refused by the other.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_idempotency_key_raced_across_two_nodes_creates_one_object() {
    let app = std::sync::Arc::new(spawn_app(Backend::Postgres).await);
    let second = start_node(&app.db.url, &app.master_key, &app.data_dir).await;
    let second_base = format!("http://{}", second.addr);
    let (_, creds) = app.customer_with_key("Acme", json!({})).await;
    let body = bank_pm_body("444455556666").to_string();

    let mut tasks = Vec::new();
    for i in 0..40 {
        let (app, creds, body) = (app.clone(), creds.clone(), body.clone());
        let base = if i % 2 == 0 {
            app.base.clone()
        } else {
            second_base.clone()
        };
        tasks.push(tokio::spawn(async move {
            let mut request = app
                .client
                .post(format!("{base}/v1/payment-methods"))
                .header("authorization", format!("Bearer {}", creds.key));
            for (k, v) in signature_headers(
                &creds.secret,
                "POST",
                "/v1/payment-methods",
                body.as_bytes(),
                Some("two-nodes"),
                None,
            ) {
                request = request.header(k, v);
            }
            let r = request
                .header("idempotency-key", "two-nodes")
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            (r.status(), r.text().await.unwrap())
        }));
    }
    let mut bodies = Vec::new();
    for t in tasks {
        let (status, text) = t.await.unwrap();
        match status {
            StatusCode::CREATED => bodies.push(text),
            StatusCode::CONFLICT => assert!(text.contains("idempotency_key_in_flight"), "{text}"),
            other => panic!("{other}: {text}"),
        }
    }
    assert!(!bodies.is_empty());
    assert!(bodies.iter().all(|b| b == &bodies[0]));
    let list = app
        .call(&creds, Method::GET, "/v1/payment-methods", None)
        .await
        .json();
    assert_eq!(
        list["data"].as_array().unwrap().len(),
        1,
        "exactly one object across both nodes"
    );
    second.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signature_accepted_by_one_node_is_refused_by_the_other() {
    let app = spawn_app(Backend::Postgres).await;
    let second = start_node(&app.db.url, &app.master_key, &app.data_dir).await;
    let (_, creds) = app.customer_with_key("Acme", json!({})).await;
    let body = json!({"name": "Payer", "kind": "individual"}).to_string();
    let headers = signature_headers(
        &creds.secret,
        "POST",
        "/v1/counterparties",
        body.as_bytes(),
        None,
        None,
    );
    let send = |base: String| {
        let (client, creds, body, headers) = (
            app.client.clone(),
            creds.clone(),
            body.clone(),
            headers.clone(),
        );
        async move {
            let mut req = client
                .post(format!("{base}/v1/counterparties"))
                .header("authorization", format!("Bearer {}", creds.key))
                .header("content-type", "application/json")
                .body(body);
            for (k, v) in headers {
                req = req.header(k, v);
            }
            let r = req.send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let (status, text) = send(app.base.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    let (status, text) = send(format!("http://{}", second.addr)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{text}");
    assert!(text.contains("signature_replayed"), "{text}");
    let list = app.get(&creds, "/v1/counterparties").await.json();
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    second.shutdown().await;
}
