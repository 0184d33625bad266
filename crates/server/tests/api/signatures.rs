//! A captured request cannot be played again (issue #13, part 4), on SQLite
//! and PostgreSQL: each signature is accepted once, the v2 signature covers
//! `Idempotency-Key` and `Inflow-Customer`, v1 is deprecated, operator keys
//! can be made to sign.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::*;

on_both_backends!(
    the_same_signed_post_sent_twice_creates_one_object_and_the_copy_is_refused,
    a_signed_read_and_a_failed_request_are_accepted_once_too,
    a_signed_post_cannot_be_resent_with_another_idempotency_key,
    an_operator_post_cannot_be_resent_for_another_customer,
    v1_signatures_work_in_sandbox_only_without_the_new_headers_and_say_they_are_deprecated,
    production_mode_refuses_v1_signatures_and_unsigned_operator_requests,
    an_operator_key_created_with_require_signed_requests_must_sign,
    the_operator_signing_default_follows_the_configuration,
    a_signature_accepted_before_a_restart_is_refused_after_it,
    nonces_must_be_short_visible_ascii,
);

/// A request with exactly these headers (nothing signed here).
async fn raw(
    app: &TestApp,
    method: Method,
    path: &str,
    body: &str,
    headers: &[(&str, String)],
) -> Reply {
    let mut req = app
        .client
        .request(method, format!("{}{path}", app.base))
        .header("content-type", "application/json")
        .body(body.to_owned());
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let resp = req.send().await.expect("request");
    Reply {
        status: resp.status(),
        headers: resp.headers().clone(),
        text: resp.text().await.unwrap_or_default(),
    }
}

/// Authorization plus a v2 signature over `idempotency_key` and `customer`.
fn signed(
    creds: &Creds,
    method: &str,
    path: &str,
    body: &str,
    idempotency_key: Option<&str>,
    customer: Option<&str>,
) -> Vec<(&'static str, String)> {
    let mut h = vec![("authorization", format!("Bearer {}", creds.key))];
    h.extend(signature_headers(
        &creds.secret,
        method,
        path,
        body.as_bytes(),
        idempotency_key,
        customer,
    ));
    h
}

/// Authorization plus a bare-hex (v1) signature.
fn signed_v1(creds: &Creds, method: &str, path: &str, body: &str) -> Vec<(&'static str, String)> {
    let ts = now_ts();
    let sig = inflow_core::crypto::sign_request(&creds.secret, &ts, method, path, body.as_bytes());
    vec![
        ("authorization", format!("Bearer {}", creds.key)),
        ("x-timestamp", ts),
        ("x-signature", sig),
    ]
}

fn with(
    mut h: Vec<(&'static str, String)>,
    k: &'static str,
    v: &str,
) -> Vec<(&'static str, String)> {
    h.push((k, v.to_owned()));
    h
}

async fn count(app: &TestApp, creds: &Creds, path: &str) -> usize {
    let r = app.get(creds, path).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json()["data"].as_array().unwrap().len()
}

fn payer() -> String {
    json!({"name": "Payer", "kind": "individual"}).to_string()
}

async fn the_same_signed_post_sent_twice_creates_one_object_and_the_copy_is_refused(b: Backend) {
    let app = spawn_app(b).await;
    let (_, creds) = app.customer_with_key("Acme", json!({})).await;
    let path = "/v1/counterparties";
    let body = payer();
    // Without an Idempotency-Key, and with one: the captured copy is refused.
    for key in [None, Some("cpt-1")] {
        let mut headers = signed(&creds, "POST", path, &body, key, None);
        if let Some(k) = key {
            headers = with(headers, "idempotency-key", k);
        }
        let first = raw(&app, Method::POST, path, &body, &headers).await;
        assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
        let copy = raw(&app, Method::POST, path, &body, &headers).await;
        assert_eq!(
            (copy.status, copy.error_code().as_str()),
            (StatusCode::UNAUTHORIZED, "signature_replayed"),
            "{}",
            copy.text
        );
    }
    assert_eq!(
        count(&app, &creds, path).await,
        2,
        "one object per signed request"
    );
    // A retry signed afresh is fine: the idempotency record answers it.
    let retry = app
        .send(
            Some(&creds),
            Method::POST,
            path,
            Some(&body),
            true,
            &[("idempotency-key", "cpt-1")],
        )
        .await;
    assert_eq!(retry.status, StatusCode::CREATED, "{}", retry.text);
    assert_eq!(retry.headers["idempotent-replayed"], "true");
    assert_eq!(count(&app, &creds, path).await, 2);
    app.stop().await;
}

async fn a_signed_read_and_a_failed_request_are_accepted_once_too(b: Backend) {
    let app = spawn_app(b).await;
    let (_, creds) = app.customer_with_key("Acme", json!({})).await;
    let read = signed(&creds, "GET", "/v1/accounts", "", None, None);
    let r = raw(&app, Method::GET, "/v1/accounts", "", &read).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = raw(&app, Method::GET, "/v1/accounts", "", &read).await;
    assert_eq!(r.error_code(), "signature_replayed");

    // A request the handler refuses still used up its signature: the copy
    // is refused before the handler runs, whatever would happen now.
    let bad = json!({"name": ""}).to_string();
    let h = signed(&creds, "POST", "/v1/accounts", &bad, None, None);
    let r = raw(&app, Method::POST, "/v1/accounts", &bad, &h).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    let r = raw(&app, Method::POST, "/v1/accounts", &bad, &h).await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (StatusCode::UNAUTHORIZED, "signature_replayed")
    );
    app.stop().await;
}

async fn a_signed_post_cannot_be_resent_with_another_idempotency_key(b: Backend) {
    let app = spawn_app(b).await;
    let (_, creds) = app.customer_with_key("Acme", json!({})).await;
    let path = "/v1/counterparties";
    let body = payer();
    let headers = signed(&creds, "POST", path, &body, Some("cpt-a"), None);
    let first = raw(
        &app,
        Method::POST,
        path,
        &body,
        &with(headers.clone(), "idempotency-key", "cpt-a"),
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    for other in [Some("cpt-b"), None] {
        let h = match other {
            Some(k) => with(headers.clone(), "idempotency-key", k),
            None => headers.clone(),
        };
        let r = raw(&app, Method::POST, path, &body, &h).await;
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (StatusCode::UNAUTHORIZED, "signature_invalid"),
            "{other:?}: {}",
            r.text
        );
    }
    // The deprecated v1 signature covers no Idempotency-Key, so a v1 request
    // carrying one is refused outright.
    let v1 = with(
        signed_v1(&creds, "POST", path, &body),
        "idempotency-key",
        "cpt-c",
    );
    let r = raw(&app, Method::POST, path, &body, &v1).await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (StatusCode::UNAUTHORIZED, "signature_v1_refused"),
        "{}",
        r.text
    );
    assert_eq!(count(&app, &creds, path).await, 1);
    app.stop().await;
}

async fn an_operator_post_cannot_be_resent_for_another_customer(b: Backend) {
    let app = spawn_app(b).await;
    let (alice, alice_creds) = app.customer_with_key("Alice", json!({})).await;
    let (bob, bob_creds) = app.customer_with_key("Bob", json!({})).await;
    let path = "/v1/counterparties";
    let body = payer();
    let headers = signed(&admin(), "POST", path, &body, None, Some(&alice));
    let r = raw(
        &app,
        Method::POST,
        path,
        &body,
        &with(headers.clone(), "inflow-customer", &alice),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = raw(
        &app,
        Method::POST,
        path,
        &body,
        &with(headers.clone(), "inflow-customer", &bob),
    )
    .await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (StatusCode::UNAUTHORIZED, "signature_invalid"),
        "{}",
        r.text
    );
    let v1 = with(
        signed_v1(&admin(), "POST", path, &body),
        "inflow-customer",
        &bob,
    );
    let r = raw(&app, Method::POST, path, &body, &v1).await;
    assert_eq!(r.error_code(), "signature_v1_refused", "{}", r.text);
    assert_eq!(count(&app, &alice_creds, path).await, 1);
    assert_eq!(count(&app, &bob_creds, path).await, 0, "nothing for Bob");
    app.stop().await;
}

async fn v1_signatures_work_in_sandbox_only_without_the_new_headers_and_say_they_are_deprecated(
    b: Backend,
) {
    let app = spawn_app(b).await;
    let (_, creds) = app
        .customer_with_key("Acme", json!({"requireSignedRequests": true}))
        .await;
    let body = payer();
    let h = signed_v1(&creds, "POST", "/v1/counterparties", &body);
    let r = raw(&app, Method::POST, "/v1/counterparties", &body, &h).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert!(r.headers["inflow-signature-deprecated"]
        .to_str()
        .unwrap()
        .contains("v2"));
    let r = raw(&app, Method::POST, "/v1/counterparties", &body, &h).await;
    assert_eq!(r.error_code(), "signature_replayed", "v1 is remembered too");
    // v2 answers carry no deprecation notice.
    let r = app.get(&creds, "/v1/counterparties").await;
    assert!(r.headers.get("inflow-signature-deprecated").is_none());
    app.stop().await;

    let strict = spawn_app_with(b, |c| c.accept_v1_signatures = Some(false)).await;
    let (_, creds) = strict.customer_with_key("Acme", json!({})).await;
    let h = signed_v1(&creds, "GET", "/v1/accounts", "");
    let r = raw(&strict, Method::GET, "/v1/accounts", "", &h).await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (StatusCode::UNAUTHORIZED, "signature_v1_refused")
    );
    strict.stop().await;
}

async fn production_mode_refuses_v1_signatures_and_unsigned_operator_requests(b: Backend) {
    let app = spawn_app_with(b, |c| c.sandbox = false).await;
    let unsigned = app
        .send(
            Some(&admin()),
            Method::GET,
            "/v1/customers",
            None,
            false,
            &[],
        )
        .await;
    assert_eq!(
        (unsigned.status, unsigned.error_code().as_str()),
        (StatusCode::UNAUTHORIZED, "signature_missing")
    );
    let h = signed_v1(&admin(), "GET", "/v1/customers", "");
    let r = raw(&app, Method::GET, "/v1/customers", "", &h).await;
    assert_eq!(r.error_code(), "signature_v1_refused");
    assert_eq!(
        app.get(&admin(), "/v1/customers").await.status,
        StatusCode::OK
    );
    // Customer keys still follow their customer's setting.
    let (_, creds) = app.customer_with_key("Acme", json!({})).await;
    let r = app
        .send(Some(&creds), Method::GET, "/v1/accounts", None, false, &[])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    app.stop().await;
}

async fn an_operator_key_created_with_require_signed_requests_must_sign(b: Backend) {
    let app = spawn_app(b).await;
    let r = app
        .post(
            &admin(),
            "/v1/api-keys",
            json!({"role": "admin", "name": "ops", "requireSignedRequests": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json()["requireSignedRequests"], true);
    let strict = Creds {
        key: r.json()["key"].as_str().unwrap().into(),
        secret: r.json()["signingSecret"].as_str().unwrap().into(),
        acting_for: None,
    };
    let r = app
        .send(
            Some(&strict),
            Method::GET,
            "/v1/customers",
            None,
            false,
            &[],
        )
        .await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (StatusCode::UNAUTHORIZED, "signature_missing")
    );
    assert_eq!(
        app.get(&strict, "/v1/customers").await.status,
        StatusCode::OK
    );
    // In sandbox mode the bootstrap key (created without it) may still skip signing.
    let r = app
        .send(
            Some(&admin()),
            Method::GET,
            "/v1/customers",
            None,
            false,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // A customer key can be made to sign the same way.
    let (cus, _) = app.customer_with_key("Acme", json!({})).await;
    let r = app
        .post(
            &admin(),
            "/v1/api-keys",
            json!({"customerId": cus, "requireSignedRequests": true}),
        )
        .await;
    let key = Creds {
        key: r.json()["key"].as_str().unwrap().into(),
        secret: r.json()["signingSecret"].as_str().unwrap().into(),
        acting_for: None,
    };
    let r = app
        .send(Some(&key), Method::GET, "/v1/accounts", None, false, &[])
        .await;
    assert_eq!(r.error_code(), "signature_missing");
    app.stop().await;
}

async fn the_operator_signing_default_follows_the_configuration(b: Backend) {
    let app = spawn_app_with(b, |c| c.require_signed_operator_requests = Some(true)).await;
    let r = app
        .send(
            Some(&admin()),
            Method::GET,
            "/v1/customers",
            None,
            false,
            &[],
        )
        .await;
    assert_eq!(r.error_code(), "signature_missing");
    assert_eq!(
        app.get(&admin(), "/v1/customers").await.status,
        StatusCode::OK
    );
    app.stop().await;

    let relaxed = spawn_app_with(b, |c| {
        c.sandbox = false;
        c.require_signed_operator_requests = Some(false);
    })
    .await;
    let r = relaxed
        .send(
            Some(&admin()),
            Method::GET,
            "/v1/customers",
            None,
            false,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    relaxed.stop().await;
}

async fn a_signature_accepted_before_a_restart_is_refused_after_it(b: Backend) {
    let mut app = spawn_app(b).await;
    let (_, creds) = app.customer_with_key("Acme", json!({})).await;
    let body = payer();
    let h = signed(&creds, "POST", "/v1/counterparties", &body, None, None);
    let r = raw(&app, Method::POST, "/v1/counterparties", &body, &h).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    // A SQLite node forgets in-process memory when it restarts, and so
    // refuses anything signed before it started; PostgreSQL remembers.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    app.restart_with(|_| {}).await;
    let r = raw(&app, Method::POST, "/v1/counterparties", &body, &h).await;
    let expected = match b {
        Backend::Sqlite => "timestamp_out_of_range",
        Backend::Postgres => "signature_replayed",
    };
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (StatusCode::UNAUTHORIZED, expected),
        "{}",
        r.text
    );
    assert_eq!(count(&app, &creds, "/v1/counterparties").await, 1);
    app.stop().await;
}

async fn nonces_must_be_short_visible_ascii(b: Backend) {
    let app = spawn_app(b).await;
    let (_, creds) = app.customer_with_key("Acme", json!({})).await;
    let mut h = signed(&creds, "GET", "/v1/accounts", "", None, None);
    for (k, v) in h.iter_mut() {
        if *k == "x-nonce" {
            *v = "x".repeat(129);
        }
    }
    let r = raw(&app, Method::GET, "/v1/accounts", "", &h).await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (StatusCode::UNAUTHORIZED, "nonce_invalid")
    );
    app.stop().await;
}

#[test]
fn requests_sign_prints_the_string_and_signature_openssl_computes() {
    let dir = std::env::temp_dir().join(format!("inflow-sign-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let body = dir.join("body.json");
    std::fs::write(&body, br#"{"a":1}"#).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_inflow"))
        .args(["requests", "sign", "--method", "POST"])
        .args(["--path", "/v1/payment-methods?x=1", "--body"])
        .arg(&body)
        .args(["--idempotency-key", "pm-1", "--customer", "cus_1"])
        .args(["--timestamp", "1700000000", "--nonce", "n-1"])
        .args(["--secret", "iss_testsecret"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    // printf 'v2\n%s\n%s\n%s\n%s\n%s\n%s\n%s' 1700000000 n-1 POST '/v1/payment-methods?x=1' pm-1 cus_1 '{"a":1}' \
    //   | openssl dgst -sha256 -hmac iss_testsecret
    assert!(
        stdout.contains(
            "X-Signature: v2=69275f2b607975b594fa6ac36695e861612293608fd9a9eeb556d3fdf85fdf2e"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            r#""v2\n1700000000\nn-1\nPOST\n/v1/payment-methods?x=1\npm-1\ncus_1\n{\"a\":1}""#
        ),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
