//! The foundation over real HTTP, on SQLite and PostgreSQL: authentication
//! and signatures, idempotency, tenant isolation, validation errors,
//! encryption at rest.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::*;

on_both_backends!(
    signed_requests_are_accepted_and_every_kind_of_bad_signature_is_refused,
    api_keys_are_required_and_revoked_keys_stop_working,
    operator_only_endpoints_refuse_customer_keys,
    replayed_idempotent_post_returns_the_identical_body,
    same_idempotency_key_with_another_request_is_refused,
    fifty_concurrent_posts_with_one_key_create_exactly_one_object,
    another_customers_objects_answer_404,
    operator_keys_act_for_a_customer_named_in_the_header,
    bad_input_gets_a_precise_4xx_naming_the_field_and_changes_nothing,
    payment_methods_never_show_or_store_the_account_number_in_clear,
    lists_paginate_with_a_cursor,
    external_ids_are_unique_per_customer,
    customer_setting_changes_take_effect_on_the_next_request,
    readiness_reports_the_backend_and_docs_are_served,
);

async fn signed_requests_are_accepted_and_every_kind_of_bad_signature_is_refused(b: Backend) {
    let app = spawn_app(b).await;
    let (_, creds) = app
        .customer_with_key("Signed Co", json!({"requireSignedRequests": true}))
        .await;
    let body = json!({"name": "Payer", "kind": "individual"}).to_string();
    let path = "/v1/counterparties";

    let ok = app
        .send(Some(&creds), Method::POST, path, Some(&body), true, &[])
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.text);

    let unsigned = app
        .send(Some(&creds), Method::POST, path, Some(&body), false, &[])
        .await;
    assert_eq!(
        (unsigned.status, unsigned.error_code().as_str()),
        (StatusCode::UNAUTHORIZED, "signature_missing")
    );

    let stale_ts = (chrono::Utc::now().timestamp() - 301).to_string();
    let sig =
        inflow_core::crypto::sign_request(&creds.secret, &stale_ts, "POST", path, body.as_bytes());
    let stale = app
        .send(
            Some(&creds),
            Method::POST,
            path,
            Some(&body),
            false,
            &[("x-timestamp", &stale_ts), ("x-signature", &sig)],
        )
        .await;
    assert_eq!(
        (stale.status, stale.error_code().as_str()),
        (StatusCode::UNAUTHORIZED, "timestamp_out_of_range")
    );

    let ts = now_ts();
    let wrong_secret =
        inflow_core::crypto::sign_request("iss_wrong", &ts, "POST", path, body.as_bytes());
    let bad = app
        .send(
            Some(&creds),
            Method::POST,
            path,
            Some(&body),
            false,
            &[("x-timestamp", &ts), ("x-signature", &wrong_secret)],
        )
        .await;
    assert_eq!(
        (bad.status, bad.error_code().as_str()),
        (StatusCode::UNAUTHORIZED, "signature_invalid")
    );

    // A signature over a different body (tampered in transit) fails too.
    let sig = inflow_core::crypto::sign_request(&creds.secret, &ts, "POST", path, body.as_bytes());
    let tampered = json!({"name": "Mallory", "kind": "individual"}).to_string();
    let t = app
        .send(
            Some(&creds),
            Method::POST,
            path,
            Some(&tampered),
            false,
            &[("x-timestamp", &ts), ("x-signature", &sig)],
        )
        .await;
    assert_eq!(t.error_code(), "signature_invalid");

    // Nothing but the first request created anything.
    let list = app.get(&creds, "/v1/counterparties").await.json();
    assert_eq!(list["data"].as_array().unwrap().len(), 1);

    // A customer that does not require signatures may send unsigned requests,
    // but a signature that is sent must still be right.
    let (_, loose) = app.customer_with_key("Loose Co", json!({})).await;
    let r = app
        .send(Some(&loose), Method::GET, path, None, false, &[])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app
        .send(
            Some(&loose),
            Method::GET,
            path,
            None,
            false,
            &[("x-timestamp", &ts), ("x-signature", "00ff")],
        )
        .await;
    assert_eq!(r.error_code(), "signature_invalid");
    app.stop().await;
}

async fn api_keys_are_required_and_revoked_keys_stop_working(b: Backend) {
    let app = spawn_app(b).await;
    let none = app
        .send(None, Method::GET, "/v1/accounts", None, false, &[])
        .await;
    assert_eq!(
        (none.status, none.error_code().as_str()),
        (StatusCode::UNAUTHORIZED, "api_key_missing")
    );
    assert!(none.headers.get("x-request-id").is_some());
    assert!(none.json()["error"]["requestId"]
        .as_str()
        .unwrap()
        .starts_with("req_"));
    let wrong = Creds {
        key: "ik_test_nope".into(),
        secret: "x".into(),
        acting_for: None,
    };
    let r = app
        .send(Some(&wrong), Method::GET, "/v1/accounts", None, false, &[])
        .await;
    assert_eq!(r.error_code(), "api_key_invalid");

    let (_, creds) = app.customer_with_key("Acme", json!({})).await;
    let key_id = {
        let list = app.get(&creds, "/v1/api-keys").await.json();
        list["data"][0]["id"].as_str().unwrap().to_owned()
    };
    assert_eq!(app.get(&creds, "/v1/accounts").await.status, StatusCode::OK);
    let rev = app
        .post(
            &admin(),
            &format!("/v1/api-keys/{key_id}/revoke"),
            json!({}),
        )
        .await;
    assert_eq!(rev.status, StatusCode::OK, "{}", rev.text);
    assert!(rev.json()["revokedAt"].is_string());
    let r = app.get(&creds, "/v1/accounts").await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (StatusCode::UNAUTHORIZED, "api_key_revoked")
    );

    // The last admin key cannot be revoked (the operator would be locked out).
    let keys = app.get(&admin(), "/v1/api-keys").await.json();
    let admin_id = keys["data"][0]["id"].as_str().unwrap().to_owned();
    let r = app
        .post(
            &admin(),
            &format!("/v1/api-keys/{admin_id}/revoke"),
            json!({}),
        )
        .await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (StatusCode::CONFLICT, "last_admin_key")
    );
    app.stop().await;
}

async fn operator_only_endpoints_refuse_customer_keys(b: Backend) {
    let app = spawn_app(b).await;
    let (cus, creds) = app.customer_with_key("Acme", json!({})).await;
    let r = app
        .post(
            &creds,
            "/v1/customers",
            json!({"name": "Evil", "kind": "business"}),
        )
        .await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (StatusCode::FORBIDDEN, "admin_key_required")
    );
    let r = app
        .post(&creds, "/v1/api-keys", json!({"role": "admin"}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get(&creds, "/v1/customers").await.status,
        StatusCode::FORBIDDEN
    );
    // …but a customer reads its own customer record.
    let me = app.get(&creds, &format!("/v1/customers/{cus}")).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["name"], "Acme");
    app.stop().await;
}

async fn replayed_idempotent_post_returns_the_identical_body(b: Backend) {
    let app = spawn_app(b).await;
    let (_, creds) = app
        .customer_with_key("Acme", json!({"canManageApiKeys": true}))
        .await;
    let body = bank_pm_body("000123456789").to_string();
    let key = [("idempotency-key", "pm-create-1")];
    let first = app
        .send(
            Some(&creds),
            Method::POST,
            "/v1/payment-methods",
            Some(&body),
            true,
            &key,
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert!(first.headers.get("idempotent-replayed").is_none());
    // Same request, keys in another order and other whitespace: still the same request.
    let reordered =
        serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(&body).unwrap())
            .unwrap();
    let again = app
        .send(
            Some(&creds),
            Method::POST,
            "/v1/payment-methods",
            Some(&reordered),
            true,
            &key,
        )
        .await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.text, first.text);
    assert_eq!(again.headers.get("idempotent-replayed").unwrap(), "true");
    let list = app.get(&creds, "/v1/payment-methods").await.json();
    assert_eq!(list["data"].as_array().unwrap().len(), 1);

    // API keys are shown once, and an idempotent replay shows the same once-only secrets.
    let admin_key = [("idempotency-key", "key-create-1")];
    let kb = json!({"name": "billing"}).to_string();
    let k1 = app
        .send(
            Some(&creds),
            Method::POST,
            "/v1/api-keys",
            Some(&kb),
            true,
            &admin_key,
        )
        .await;
    let k2 = app
        .send(
            Some(&creds),
            Method::POST,
            "/v1/api-keys",
            Some(&kb),
            true,
            &admin_key,
        )
        .await;
    assert_eq!(k1.status, StatusCode::CREATED);
    assert_eq!(k1.text, k2.text);
    app.stop().await;
}

async fn same_idempotency_key_with_another_request_is_refused(b: Backend) {
    let app = spawn_app(b).await;
    let (_, creds) = app.customer_with_key("Acme", json!({})).await;
    let key = [("idempotency-key", "k-1")];
    let a = json!({"name": "A", "kind": "individual"}).to_string();
    let bb = json!({"name": "B", "kind": "individual"}).to_string();
    assert_eq!(
        app.send(
            Some(&creds),
            Method::POST,
            "/v1/counterparties",
            Some(&a),
            true,
            &key
        )
        .await
        .status,
        StatusCode::CREATED
    );
    let r = app
        .send(
            Some(&creds),
            Method::POST,
            "/v1/counterparties",
            Some(&bb),
            true,
            &key,
        )
        .await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused")
    );
    assert_eq!(r.error_param().as_deref(), Some("Idempotency-Key"));
    // The same key on another path is another request too.
    let r = app
        .send(
            Some(&creds),
            Method::POST,
            "/v1/accounts",
            Some(&json!({"name": "Main"}).to_string()),
            true,
            &key,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // A failed request gives its key back: fix the body, reuse the key.
    let key2 = [("idempotency-key", "k-2")];
    let bad = json!({"name": "", "kind": "individual"}).to_string();
    assert_eq!(
        app.send(
            Some(&creds),
            Method::POST,
            "/v1/counterparties",
            Some(&bad),
            true,
            &key2
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.send(
            Some(&creds),
            Method::POST,
            "/v1/counterparties",
            Some(&bb),
            true,
            &key2
        )
        .await
        .status,
        StatusCode::CREATED
    );
    // Keys are scoped per customer: another customer may use "k-1".
    let (_, other) = app.customer_with_key("Other", json!({})).await;
    assert_eq!(
        app.send(
            Some(&other),
            Method::POST,
            "/v1/counterparties",
            Some(&bb),
            true,
            &key
        )
        .await
        .status,
        StatusCode::CREATED
    );
    let too_long = "x".repeat(256);
    let r = app
        .send(
            Some(&creds),
            Method::POST,
            "/v1/counterparties",
            Some(&a),
            true,
            &[("idempotency-key", &too_long)],
        )
        .await;
    assert_eq!(
        (r.status, r.error_param().as_deref()),
        (StatusCode::BAD_REQUEST, Some("Idempotency-Key"))
    );
    app.stop().await;
}

async fn fifty_concurrent_posts_with_one_key_create_exactly_one_object(b: Backend) {
    let app = std::sync::Arc::new(spawn_app(b).await);
    let (_, creds) = app.customer_with_key("Acme", json!({})).await;
    let body = bank_pm_body("987654321").to_string();
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let (app, creds, body) = (app.clone(), creds.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            app.send(
                Some(&creds),
                Method::POST,
                "/v1/payment-methods",
                Some(&body),
                true,
                &[("idempotency-key", "race")],
            )
            .await
        }));
    }
    let mut created = Vec::new();
    for t in tasks {
        let r = t.await.unwrap();
        match r.status {
            StatusCode::CREATED => created.push(r.text),
            StatusCode::CONFLICT => {
                assert_eq!(r.error_code(), "idempotency_key_in_flight");
                assert!(r.headers.get("retry-after").is_some());
            }
            other => panic!("unexpected {other}: {}", r.text),
        }
    }
    assert!(!created.is_empty());
    assert!(
        created.iter().all(|t| t == &created[0]),
        "every success shows the same object"
    );
    let list = app.get(&creds, "/v1/payment-methods").await.json();
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
}

async fn another_customers_objects_answer_404(b: Backend) {
    let app = spawn_app(b).await;
    let (_, alice) = app.customer_with_key("Alice Co", json!({})).await;
    let (bob_id, bob) = app.customer_with_key("Bob Co", json!({})).await;
    let pm = app
        .post(&alice, "/v1/payment-methods", bank_pm_body("11112222"))
        .await
        .json();
    let acc = app
        .post(&alice, "/v1/accounts", json!({"name": "Main"}))
        .await
        .json();
    let cpt = app
        .post(
            &alice,
            "/v1/counterparties",
            json!({"name": "P", "kind": "individual"}),
        )
        .await
        .json();
    for path in [
        format!("/v1/payment-methods/{}", pm["id"].as_str().unwrap()),
        format!("/v1/accounts/{}", acc["id"].as_str().unwrap()),
        format!("/v1/counterparties/{}", cpt["id"].as_str().unwrap()),
    ] {
        let r = app.get(&bob, &path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.text);
        assert!(!r.text.contains("Main") && !r.text.contains("2222"));
        let r = app
            .call(&bob, Method::PATCH, &path, Some(json!({"metadata": {}})))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
    }
    // Bob's key cannot act for Alice, nor read Alice's customer record.
    let alice_id = app.get(&alice, "/v1/api-keys").await.json()["data"][0]["customerId"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app.get(&bob, &format!("/v1/customers/{alice_id}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let spoof = Creds {
        acting_for: Some(alice_id),
        ..bob.clone()
    };
    let r = app.get(&spoof, "/v1/accounts").await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (StatusCode::FORBIDDEN, "customer_mismatch")
    );
    let lists = app.get(&bob, "/v1/payment-methods").await.json();
    assert!(lists["data"].as_array().unwrap().is_empty());
    let _ = bob_id;
    app.stop().await;
}

async fn operator_keys_act_for_a_customer_named_in_the_header(b: Backend) {
    let app = spawn_app(b).await;
    let (cus, creds) = app.customer_with_key("Acme", json!({})).await;
    let r = app.get(&admin(), "/v1/accounts").await;
    assert_eq!(
        (r.status, r.error_param().as_deref()),
        (StatusCode::BAD_REQUEST, Some("Inflow-Customer"))
    );
    let op = Creds {
        acting_for: Some(cus.clone()),
        ..admin()
    };
    let made = app
        .post(&op, "/v1/accounts", json!({"name": "Operating"}))
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    assert_eq!(made.json()["customerId"], cus.as_str());
    let seen = app.get(&creds, "/v1/accounts").await.json();
    assert_eq!(seen["data"][0]["name"], "Operating");
    let ghost = Creds {
        acting_for: Some("cus_00000000000000000000000000000000".into()),
        ..admin()
    };
    assert_eq!(
        app.get(&ghost, "/v1/accounts").await.status,
        StatusCode::NOT_FOUND
    );
    // Blocking an account is the operator's call.
    let acc = made.json()["id"].as_str().unwrap().to_owned();
    let r = app
        .call(
            &creds,
            Method::PATCH,
            &format!("/v1/accounts/{acc}"),
            Some(json!({"status": "blocked"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .call(
            &op,
            Method::PATCH,
            &format!("/v1/accounts/{acc}"),
            Some(json!({"status": "blocked"})),
        )
        .await;
    assert_eq!(
        (r.status, r.json()["status"].as_str()),
        (StatusCode::OK, Some("blocked"))
    );
    app.stop().await;
}

async fn bad_input_gets_a_precise_4xx_naming_the_field_and_changes_nothing(b: Backend) {
    let app = spawn_app(b).await;
    let (_, creds) = app.customer_with_key("Acme", json!({})).await;
    let mut bad_routing = bank_pm_body("000123456789");
    bad_routing["usBankAccount"]["routingNumber"] = json!("121042883");
    let mut short_account = bank_pm_body("123");
    short_account["usBankAccount"]["routingNumber"] = json!("121042882");
    let mut wrong_type = bank_pm_body("000123456789");
    wrong_type["usBankAccount"]["accountType"] = json!("money_market");
    let mut typo = bank_pm_body("000123456789");
    typo["usBankAccount"]["acountNumber"] = json!("1");
    let cases: Vec<(String, StatusCode, &str, &str)> = vec![
        (bad_routing.to_string(), StatusCode::BAD_REQUEST, "invalid_routing_number", "usBankAccount.routingNumber"),
        (short_account.to_string(), StatusCode::BAD_REQUEST, "invalid_account_number", "usBankAccount.accountNumber"),
        (wrong_type.to_string(), StatusCode::BAD_REQUEST, "invalid_field", "usBankAccount.accountType"),
        (typo.to_string(), StatusCode::BAD_REQUEST, "unknown_field", "usBankAccount.acountNumber"),
        ("{\"type\": \"us_bank_account\",".into(), StatusCode::BAD_REQUEST, "malformed_json", "body"),
        ("".into(), StatusCode::BAD_REQUEST, "body_required", "body"),
        ("[]".into(), StatusCode::BAD_REQUEST, "invalid_field", "body"),
        (json!({"type": "us_bank_account"}).to_string(), StatusCode::BAD_REQUEST, "missing_field", "usBankAccount"),
        (json!({"type": 7}).to_string(), StatusCode::BAD_REQUEST, "invalid_field", "type"),
        (
            json!({"type": "us_bank_account", "usBankAccount": bank_pm_body("12345678")["usBankAccount"], "metadata": {"n": 1}}).to_string(),
            StatusCode::BAD_REQUEST,
            "invalid_metadata_value",
            "metadata.n",
        ),
        (
            json!({"type": "us_bank_account", "usBankAccount": bank_pm_body("12345678")["usBankAccount"], "counterpartyId": "cpt_x"}).to_string(),
            StatusCode::BAD_REQUEST,
            "invalid_id",
            "counterpartyId",
        ),
        ("x".repeat(1024 * 1024 + 1), StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", "body"),
    ];
    for (body, status, code, param) in cases {
        let r = app
            .send(
                Some(&creds),
                Method::POST,
                "/v1/payment-methods",
                Some(&body),
                true,
                &[],
            )
            .await;
        assert_eq!(r.status, status, "{param}: {}", r.text);
        assert_eq!(r.error_code(), code, "{param}: {}", r.text);
        assert_eq!(r.error_param().as_deref(), Some(param), "{}", r.text);
        assert_eq!(r.json()["error"]["type"], "invalid_request_error");
    }
    let r = app.get(&creds, "/v1/payment-methods?limit=0").await;
    assert_eq!(
        (r.status, r.error_param().as_deref()),
        (StatusCode::BAD_REQUEST, Some("limit"))
    );
    let r = app.get(&creds, "/v1/payment-methods?limit=abc").await;
    assert_eq!(
        (r.status, r.error_param().as_deref()),
        (StatusCode::BAD_REQUEST, Some("limit"))
    );
    let r = app.get(&creds, "/v1/payment-methods?colour=red").await;
    assert_eq!(
        (r.status, r.error_param().as_deref()),
        (StatusCode::BAD_REQUEST, Some("colour"))
    );
    let r = app.get(&creds, "/v1/payment-methods/not-an-id").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.get(&creds, "/v1/nowhere").await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (StatusCode::NOT_FOUND, "route_not_found")
    );
    let r = app.call(&creds, Method::DELETE, "/v1/accounts", None).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    let r = app
        .post(
            &admin(),
            "/v1/customers",
            json!({"name": "Solo", "kind": "individual", "allowOneTimeSource": true}),
        )
        .await;
    assert_eq!(
        (r.status, r.error_param().as_deref()),
        (StatusCode::BAD_REQUEST, Some("allowOneTimeSource"))
    );
    let r = app
        .post(
            &admin(),
            "/v1/customers",
            json!({"name": "X", "kind": "business", "achCompanyId": "12"}),
        )
        .await;
    assert_eq!(r.error_param().as_deref(), Some("achCompanyId"));
    // None of it left a trace.
    let list = app.get(&creds, "/v1/payment-methods").await.json();
    assert!(list["data"].as_array().unwrap().is_empty());
    assert_eq!(
        app.get(&admin(), "/v1/customers").await.json()["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    app.stop().await;
}

async fn payment_methods_never_show_or_store_the_account_number_in_clear(b: Backend) {
    let app = spawn_app(b).await;
    let (_, creds) = app.customer_with_key("Acme", json!({})).await;
    let account = "73918264550173";
    let key = [("idempotency-key", "pm-secret-check")];
    let r = app
        .send(
            Some(&creds),
            Method::POST,
            "/v1/payment-methods",
            Some(&bank_pm_body(account).to_string()),
            true,
            &key,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert!(!r.text.contains(account));
    let pm = r.json();
    assert_eq!(pm["usBankAccount"]["accountNumberMasked"], "****0173");
    assert_eq!(pm["usBankAccount"]["last4"], "0173");
    let again = app
        .post(&creds, "/v1/payment-methods", bank_pm_body(account))
        .await
        .json();
    assert_eq!(
        again["usBankAccount"]["fingerprint"], pm["usBankAccount"]["fingerprint"],
        "same account, same fingerprint"
    );
    let other = app
        .post(
            &creds,
            "/v1/payment-methods",
            bank_pm_body("73918264550174"),
        )
        .await
        .json();
    assert_ne!(
        other["usBankAccount"]["fingerprint"],
        pm["usBankAccount"]["fingerprint"]
    );
    let found = app
        .get(
            &creds,
            &format!(
                "/v1/payment-methods?fingerprint={}",
                pm["usBankAccount"]["fingerprint"].as_str().unwrap()
            ),
        )
        .await
        .json();
    assert_eq!(found["data"].as_array().unwrap().len(), 2);

    let db_text = dump_database_text(&app).await;
    assert!(
        db_text.contains("0173"),
        "the dump must see the stored rows"
    );
    assert!(
        !db_text.contains(account),
        "plaintext account number found in the database"
    );
    assert!(
        !db_text.contains(&creds.key),
        "plaintext API key found in the database"
    );
    assert!(
        !db_text.contains(&creds.secret),
        "plaintext signing secret found in the database"
    );
    app.stop().await;
}

/// Every byte the database holds, as text: the SQLite files, or every row of
/// every PostgreSQL table.
async fn dump_database_text(app: &TestApp) -> String {
    match app.db.backend() {
        Backend::Sqlite => {
            let path = app.db.url.trim_start_matches("sqlite://");
            let mut all = Vec::new();
            for suffix in ["", "-wal", "-shm"] {
                if let Ok(bytes) = std::fs::read(format!("{path}{suffix}")) {
                    all.extend(bytes);
                }
            }
            String::from_utf8_lossy(&all).into_owned()
        }
        Backend::Postgres => {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&app.db.url).await.unwrap();
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap();
            let mut out = String::new();
            for t in tables {
                let rows: Vec<String> =
                    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT t::text FROM {t} t")))
                        .fetch_all(&mut conn)
                        .await
                        .unwrap();
                out.push_str(&rows.join("\n"));
            }
            out
        }
    }
}

async fn lists_paginate_with_a_cursor(b: Backend) {
    let app = spawn_app(b).await;
    let (_, creds) = app.customer_with_key("Acme", json!({})).await;
    let mut made = Vec::new();
    for i in 0..5 {
        let r = app
            .post(
                &creds,
                "/v1/counterparties",
                json!({"name": format!("P{i}"), "kind": "individual"}),
            )
            .await;
        made.push(r.json()["id"].as_str().unwrap().to_owned());
    }
    made.reverse();
    let mut seen = Vec::new();
    let mut path = "/v1/counterparties?limit=2".to_owned();
    loop {
        let page = app.get(&creds, &path).await.json();
        seen.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_owned()),
        );
        if !page["hasMore"].as_bool().unwrap() {
            assert!(page["nextCursor"].is_null());
            break;
        }
        path = format!(
            "/v1/counterparties?limit=2&startingAfter={}",
            page["nextCursor"].as_str().unwrap()
        );
    }
    assert_eq!(seen, made);
    app.stop().await;
}

async fn external_ids_are_unique_per_customer(b: Backend) {
    let app = spawn_app(b).await;
    let (_, a) = app.customer_with_key("A", json!({})).await;
    let (_, bb) = app.customer_with_key("B", json!({})).await;
    let body = json!({"name": "P", "kind": "individual", "externalId": "payer-1"});
    assert_eq!(
        app.post(&a, "/v1/counterparties", body.clone())
            .await
            .status,
        StatusCode::CREATED
    );
    let dup = app.post(&a, "/v1/counterparties", body.clone()).await;
    assert_eq!(
        (dup.status, dup.error_code().as_str()),
        (StatusCode::CONFLICT, "external_id_taken")
    );
    assert_eq!(dup.error_param().as_deref(), Some("externalId"));
    assert_eq!(
        app.post(&bb, "/v1/counterparties", body).await.status,
        StatusCode::CREATED
    );
    let found = app
        .get(&a, "/v1/counterparties?externalId=payer-1")
        .await
        .json();
    assert_eq!(found["data"].as_array().unwrap().len(), 1);
    app.stop().await;
}

async fn customer_setting_changes_take_effect_on_the_next_request(b: Backend) {
    let app = spawn_app(b).await;
    let (cus, creds) = app.customer_with_key("Acme", json!({})).await;
    let unsigned = app
        .send(Some(&creds), Method::GET, "/v1/accounts", None, false, &[])
        .await;
    assert_eq!(unsigned.status, StatusCode::OK);
    let r = app
        .call(
            &admin(),
            Method::PATCH,
            &format!("/v1/customers/{cus}"),
            Some(json!({"requireSignedRequests": true})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let unsigned = app
        .send(Some(&creds), Method::GET, "/v1/accounts", None, false, &[])
        .await;
    assert_eq!(unsigned.error_code(), "signature_missing");
    let r = app
        .call(
            &admin(),
            Method::PATCH,
            &format!("/v1/customers/{cus}"),
            Some(json!({"status": "suspended"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app.get(&creds, "/v1/accounts").await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (StatusCode::FORBIDDEN, "customer_suspended")
    );
    app.stop().await;
}

async fn readiness_reports_the_backend_and_docs_are_served(b: Backend) {
    let app = spawn_app(b).await;
    let r = app
        .send(None, Method::GET, "/readyz", None, false, &[])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let expected = match b {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    assert_eq!(r.json()["database"], expected);
    let spec = app
        .send(None, Method::GET, "/openapi.json", None, false, &[])
        .await;
    assert_eq!(spec.status, StatusCode::OK);
    assert!(spec.json()["paths"]["/v1/payment-methods"].is_object());
    let docs = app
        .send(None, Method::GET, "/docs/", None, false, &[])
        .await;
    assert_eq!(docs.status, StatusCode::OK);
    assert!(docs.text.to_lowercase().contains("swagger"));
    app.stop().await;
}
