//! The endpoint and event resources over HTTP: validation with precise
//! errors, SSRF rules by mode, secrets shown once and sealed at rest,
//! updates, deletion, event filters and pagination.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::*;
use crate::support::*;

on_both_backends!(
    endpoints_are_validated_field_by_field_and_secrets_are_shown_once_and_sealed,
    endpoints_can_be_listed_changed_and_deleted,
    events_are_listed_with_filters_and_cursor_pages,
);

async fn endpoints_are_validated_field_by_field_and_secrets_are_shown_once_and_sealed(b: Backend) {
    let app = spawn_app(b).await;
    let c = customer(&app).await;
    let post = |body: serde_json::Value| {
        let (app, creds) = (&app, c.creds.clone());
        async move { app.post(&creds, "/v1/webhook-endpoints", body).await }
    };
    for (body, code, param) in [
        (
            json!({"url": "ftp://example.com/x", "enabledEvents": "*"}),
            "invalid_url_scheme",
            "url",
        ),
        (
            json!({"url": "not a url", "enabledEvents": "*"}),
            "invalid_url",
            "url",
        ),
        (
            json!({"url": "https://u:p@example.com/", "enabledEvents": "*"}),
            "invalid_url",
            "url",
        ),
        (
            json!({"url": "https://example.com/", "enabledEvents": ["collection.completed", "collection.complete"]}),
            "unknown_event_type",
            "enabledEvents[1]",
        ),
        (
            json!({"url": "https://example.com/", "enabledEvents": []}),
            "required",
            "enabledEvents",
        ),
        (
            json!({"url": "https://example.com/", "enabledEvents": "all"}),
            "invalid_field",
            "enabledEvents",
        ),
        (
            json!({"url": "https://example.com/"}),
            "missing_field",
            "enabledEvents",
        ),
        (
            json!({"url": "https://example.com/", "enabledEvents": "*", "colour": 1}),
            "unknown_field",
            "colour",
        ),
        (
            json!({"url": "https://example.com/", "enabledEvents": "*", "metadata": {"k": 1}}),
            "invalid_metadata_value",
            "metadata.k",
        ),
    ] {
        let r = post(body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.text);
        assert_eq!(
            (r.error_code(), r.error_param()),
            (code.to_owned(), Some(param.to_owned())),
            "{body}"
        );
    }

    // Sandbox mode allows a receiver on this machine.
    let r = app
        .send(
            Some(&c.creds),
            Method::POST,
            "/v1/webhook-endpoints",
            Some(r#"{"url":"http://127.0.0.1:9/hooks","enabledEvents":"*"}"#),
            true,
            &[("idempotency-key", "we-1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let created = r.json();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(created["enabledEvents"], json!(["*"]));
    assert_eq!(created["status"], "enabled");
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("we_"));
    // A replay shows the same secret; a GET or a list never does.
    let again = app
        .send(
            Some(&c.creds),
            Method::POST,
            "/v1/webhook-endpoints",
            Some(r#"{"url":"http://127.0.0.1:9/hooks","enabledEvents":"*"}"#),
            true,
            &[("idempotency-key", "we-1")],
        )
        .await;
    assert_eq!(again.text, r.text);
    for path in [
        format!("/v1/webhook-endpoints/{id}"),
        "/v1/webhook-endpoints".to_owned(),
    ] {
        let shown = app.get(&c.creds, &path).await;
        assert_eq!(shown.status, StatusCode::OK);
        assert!(!shown.text.contains(&secret) && !shown.text.contains("\"secret\""));
    }
    // At rest the secret is sealed.
    let stored = app
        .db
        .store
        .read()
        .await
        .unwrap()
        .get_webhook_endpoint(
            None,
            &inflow_core::ids::WebhookEndpointId::parse("id", &id).unwrap(),
        )
        .await
        .unwrap();
    assert!(!stored
        .secret_sealed
        .windows(secret.len())
        .any(|w| w == secret.as_bytes()));

    // An operator key naming no customer manages the operator's own
    // endpoints (operator events and alerts; docs/audit-and-alerts.md).
    let r = app
        .post(
            &admin(),
            "/v1/webhook-endpoints",
            json!({"url": "https://example.com/", "enabledEvents": ["*"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert!(r.json()["customerId"].is_null(), "{}", r.text);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_mode_refuses_private_and_loopback_targets() {
    let app = spawn_app_with(Backend::Sqlite, |c| c.sandbox = false).await;
    let c = customer(&app).await;
    for url in [
        "http://127.0.0.1:8080/hooks",
        "http://localhost/hooks",
        "http://10.0.0.5/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hooks",
    ] {
        let r = app
            .post(
                &c.creds,
                "/v1/webhook-endpoints",
                json!({"url": url, "enabledEvents": "*"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{url}: {}", r.text);
        assert_eq!(
            (r.error_code().as_str(), r.error_param().as_deref()),
            ("private_address_refused", Some("url")),
            "{url}"
        );
    }
    let r = app
        .post(
            &c.creds,
            "/v1/webhook-endpoints",
            json!({"url": "https://hooks.example.com/inflow", "enabledEvents": "*"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let r = app
        .call(
            &c.creds,
            Method::PATCH,
            &format!("/v1/webhook-endpoints/{id}"),
            Some(json!({"url": "http://192.168.1.10/x"})),
        )
        .await;
    assert_eq!(r.error_code(), "private_address_refused");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_mode_refuses_ipv6_forms_that_wrap_private_addresses() {
    let app = spawn_app_with(Backend::Sqlite, |c| c.sandbox = false).await;
    let c = customer(&app).await;
    for url in [
        // IPv4-compatible: loopback, and the cloud metadata address.
        "http://[::127.0.0.1]/hooks",
        "http://[::a9fe:a9fe]/hooks",
        // 6to4 around 127.0.0.1 and 10.0.0.1.
        "http://[2002:7f00:1::1]/hooks",
        "http://[2002:a00:1::1]/hooks",
        // Teredo.
        "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hooks",
        // NAT64 of 169.254.169.254, and the local-use NAT64 prefix.
        "http://[64:ff9b::a9fe:a9fe]/hooks",
        "http://[64:ff9b:1::5db8:d822]/hooks",
        // Deprecated site-local.
        "http://[fec0::1]/hooks",
    ] {
        let r = app
            .post(
                &c.creds,
                "/v1/webhook-endpoints",
                json!({"url": url, "enabledEvents": "*"}),
            )
            .await;
        assert_eq!(
            (
                r.status,
                r.error_code().as_str(),
                r.error_param().as_deref()
            ),
            (
                StatusCode::BAD_REQUEST,
                "private_address_refused",
                Some("url")
            ),
            "{url}: {}",
            r.text
        );
    }
    let list = app.get(&c.creds, "/v1/webhook-endpoints").await.json();
    assert!(list["data"].as_array().unwrap().is_empty());
    app.stop().await;
}

async fn endpoints_can_be_listed_changed_and_deleted(b: Backend) {
    let app = spawn_app(b).await;
    let c = customer(&app).await;
    let (a, _) = endpoint(&app, &c, "https://a.example.com/", json!("*")).await;
    let (b_, _) = endpoint(&app, &c, "https://b.example.com/", json!(["collection.*"])).await;
    let page = app
        .get(&c.creds, "/v1/webhook-endpoints?limit=1")
        .await
        .json();
    assert_eq!(page["data"][0]["id"], b_.as_str(), "newest first");
    assert_eq!(page["hasMore"], true);
    let next = app
        .get(
            &c.creds,
            &format!(
                "/v1/webhook-endpoints?limit=1&startingAfter={}",
                page["nextCursor"].as_str().unwrap()
            ),
        )
        .await
        .json();
    assert_eq!(
        (next["data"][0]["id"].as_str(), next["hasMore"].as_bool()),
        (Some(a.as_str()), Some(false))
    );

    let patch = |body: serde_json::Value| {
        let (app, creds, path) = (&app, c.creds.clone(), format!("/v1/webhook-endpoints/{a}"));
        async move { app.call(&creds, Method::PATCH, &path, Some(body)).await }
    };
    let r = patch(json!({"enabledEvents": ["collection.returned"], "description": "returns", "metadata": {"team": "ops"}})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let v = r.json();
    assert_eq!(v["enabledEvents"], json!(["collection.returned"]));
    assert_eq!(
        (v["description"].as_str(), v["metadata"]["team"].as_str()),
        (Some("returns"), Some("ops"))
    );
    let r = patch(json!({"status": "paused"})).await;
    assert_eq!(
        (r.status, r.error_param()),
        (StatusCode::BAD_REQUEST, Some("status".into()))
    );
    let r = patch(json!({"status": "disabled"})).await;
    assert_eq!(r.json()["status"], "disabled");
    let disabled = app
        .get(&c.creds, "/v1/webhook-endpoints?status=disabled")
        .await
        .json();
    assert_eq!(disabled["data"].as_array().unwrap().len(), 1);
    let r = app.get(&c.creds, "/v1/webhook-endpoints?status=nope").await;
    assert_eq!(r.error_param().as_deref(), Some("status"));
    let r = app
        .post(
            &c.creds,
            &format!("/v1/webhook-endpoints/{a}/rotate-secret"),
            json!({"overlapHours": 500}),
        )
        .await;
    assert_eq!(r.error_param().as_deref(), Some("overlapHours"));

    let r = app
        .call(
            &c.creds,
            Method::DELETE,
            &format!("/v1/webhook-endpoints/{a}"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["deleted"], true);
    for path in [
        format!("/v1/webhook-endpoints/{a}"),
        format!("/v1/webhook-endpoints/{a}/deliveries"),
        "/v1/webhook-endpoints/we_nonsense".to_owned(),
    ] {
        assert_eq!(
            app.get(&c.creds, &path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    app.stop().await;
}

async fn events_are_listed_with_filters_and_cursor_pages(b: Backend) {
    let app = spawn_app(b).await;
    let c = customer(&app).await;
    let x = collection(&app, &c).await;
    let y = collection(&app, &c).await;
    cancel(&app, &c, &x).await;
    let list = |q: &str| {
        let (app, creds, path) = (&app, c.creds.clone(), format!("/v1/events{q}"));
        async move { app.get(&creds, &path).await }
    };
    let all = list("").await.json();
    let types: Vec<_> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        types,
        [
            "collection.cancelled",
            "collection.created",
            "collection.created"
        ]
    );
    assert_eq!(all["data"][0]["object"], "event");
    assert_eq!(all["data"][0]["data"]["object"]["id"], x.as_str());

    let of_x = list(&format!("?objectId={x}")).await.json();
    assert_eq!(of_x["data"].as_array().unwrap().len(), 2);
    let created = list("?type=collection.created").await.json();
    assert_eq!(created["data"].as_array().unwrap().len(), 2);
    let wildcard = list("?type=collection.*").await.json();
    assert_eq!(wildcard["data"].as_array().unwrap().len(), 3);
    let none = list("?type=payment_method.updated").await.json();
    assert!(none["data"].as_array().unwrap().is_empty());

    let page = list("?limit=2").await.json();
    assert_eq!(
        (
            page["hasMore"].as_bool(),
            page["data"].as_array().unwrap().len()
        ),
        (Some(true), 2)
    );
    let rest = list(&format!(
        "?limit=2&startingAfter={}",
        page["nextCursor"].as_str().unwrap()
    ))
    .await
    .json();
    assert_eq!(rest["data"][0]["data"]["object"]["id"], x.as_str());
    assert_eq!(rest["hasMore"], false);

    let first_at = all["data"][2]["createdAt"].as_str().unwrap().to_owned();
    let later = all["data"][1]["createdAt"].as_str().unwrap().to_owned();
    // Times are shown to the millisecond and stored to the microsecond.
    let just_after = (chrono::DateTime::parse_from_rfc3339(&first_at).unwrap()
        + chrono::Duration::milliseconds(1))
    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let r = list(&format!("?createdTo={just_after}")).await.json();
    assert_eq!(r["data"].as_array().unwrap().len(), 1);
    let r = list(&format!("?createdFrom={later}")).await.json();
    assert_eq!(r["data"].as_array().unwrap().len(), 2);

    for (q, param) in [
        ("?type=collection.complete", "type"),
        ("?createdFrom=yesterday", "createdFrom"),
        ("?objectId=x%20y", "objectId"),
        ("?limit=0", "limit"),
        ("?colour=red", "colour"),
    ] {
        let r = list(q).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{q}: {}", r.text);
        assert_eq!(r.error_param().as_deref(), Some(param), "{q}");
    }

    // Customers see only their own events; the operator sees everyone's.
    let (_, other) = app.customer_with_key("Other", json!({})).await;
    let theirs = app.get(&other, "/v1/events").await.json();
    assert!(theirs["data"].as_array().unwrap().is_empty());
    let id = all["data"][0]["id"].as_str().unwrap();
    assert_eq!(
        app.get(&other, &format!("/v1/events/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    // (Operator-only events, such as `api_key.created`, are there too.)
    let operator = app
        .get(&admin(), "/v1/events?type=collection.*")
        .await
        .json();
    assert_eq!(operator["data"].as_array().unwrap().len(), 3);
    assert_eq!(
        app.get(&c.creds, "/v1/events/evt_x").await.status,
        StatusCode::NOT_FOUND
    );
    let _ = y;
    app.stop().await;
}
