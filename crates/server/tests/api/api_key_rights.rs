//! Who may issue API keys, and the trail they leave (issue #13, part 4), on
//! SQLite and PostgreSQL: a customer's keys issue keys only when the operator
//! allowed it; issuing and revoking are operator events without secrets; the
//! CLI issues operator keys that must sign.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::*;

on_both_backends!(
    customer_keys_issue_api_keys_only_when_the_operator_allows_it,
    issuing_and_revoking_a_key_are_events_without_secrets,
    the_cli_issues_operator_keys_that_must_sign_and_grants_key_management,
);

async fn count(app: &TestApp, creds: &Creds, path: &str) -> usize {
    let r = app.get(creds, path).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json()["data"].as_array().unwrap().len()
}

async fn customer_keys_issue_api_keys_only_when_the_operator_allows_it(b: Backend) {
    let app = spawn_app(b).await;
    let (cus, creds) = app.customer_with_key("Acme", json!({})).await;
    let r = app
        .post(&creds, "/v1/api-keys", json!({"name": "second"}))
        .await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (StatusCode::FORBIDDEN, "api_key_management_not_allowed"),
        "{}",
        r.text
    );
    assert_eq!(
        count(&app, &creds, "/v1/api-keys").await,
        1,
        "nothing issued"
    );
    let r = app
        .call(
            &admin(),
            Method::PATCH,
            &format!("/v1/customers/{cus}"),
            Some(json!({"canManageApiKeys": true})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["canManageApiKeys"], true);
    let r = app
        .post(&creds, "/v1/api-keys", json!({"name": "second"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json()["customerId"], cus.as_str());
    // Still never an operator key.
    let r = app
        .post(&creds, "/v1/api-keys", json!({"role": "admin"}))
        .await;
    assert_eq!(r.error_code(), "admin_key_required");
    // A customer created with the right has it from the start.
    let r = app
        .post(
            &admin(),
            "/v1/customers",
            json!({"name": "Beta", "kind": "business", "canManageApiKeys": true}),
        )
        .await;
    assert_eq!(r.json()["canManageApiKeys"], true, "{}", r.text);
    app.stop().await;
}

async fn issuing_and_revoking_a_key_are_events_without_secrets(b: Backend) {
    let app = spawn_app(b).await;
    let (cus, creds) = app.customer_with_key("Acme", json!({})).await;
    let issued = app
        .post(
            &admin(),
            "/v1/api-keys",
            json!({"customerId": cus, "name": "reporting"}),
        )
        .await
        .json();
    let id = issued["id"].as_str().unwrap();
    let r = app
        .post(&admin(), &format!("/v1/api-keys/{id}/revoke"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let admin_key_id = app.get(&admin(), "/v1/api-keys").await.json()["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let events = app
        .get(&admin(), &format!("/v1/events?objectId={id}"))
        .await
        .json();
    let events = events["data"].as_array().unwrap();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["api_key.revoked", "api_key.created"]);
    for e in events {
        let data = &e["data"];
        assert_eq!(data["object"]["id"], id);
        assert_eq!(data["object"]["customerId"], cus.as_str());
        assert_eq!(
            data["actor"],
            json!({"type": "api_key", "id": admin_key_id})
        );
        let text = e.to_string();
        for secret in [
            issued["key"].as_str().unwrap(),
            issued["signingSecret"].as_str().unwrap(),
        ] {
            assert!(!text.contains(secret), "an event carries a secret: {text}");
        }
    }
    assert!(events[0]["data"]["object"]["revokedAt"].is_string());
    // Operator events: not in the customer's own list (nor its webhooks).
    let mine = app.get(&creds, "/v1/events?type=api_key.*").await.json();
    assert!(mine["data"].as_array().unwrap().is_empty(), "{mine}");
    // The operator sees every key event, its own keys' included.
    let all = app
        .get(&admin(), "/v1/events?type=api_key.created")
        .await
        .json();
    let objects: Vec<&str> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["data"]["object"]["id"].as_str().unwrap())
        .collect();
    assert!(objects.contains(&admin_key_id.as_str()), "{objects:?}");
    assert!(objects.contains(&id), "{objects:?}");
    app.stop().await;
}

/// `inflow <args> --json` against the app's database.
fn cli(app: &TestApp, args: &[&str]) -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_inflow"))
        .args(args)
        .arg("--json")
        .env("INFLOW_DATABASE_URL", &app.db.url)
        .env("INFLOW_MASTER_KEY", &app.master_key)
        .env("INFLOW_DATA_DIR", &app.data_dir)
        .env_remove("INFLOW_SANDBOX")
        .output()
        .expect("run inflow");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

async fn the_cli_issues_operator_keys_that_must_sign_and_grants_key_management(b: Backend) {
    let app = spawn_app(b).await;
    let key = cli(&app, &["api-keys", "create", "--admin", "--require-signed"]);
    assert_eq!(key["requireSignedRequests"], true);
    let ops = Creds {
        key: key["key"].as_str().unwrap().into(),
        secret: key["signingSecret"].as_str().unwrap().into(),
        acting_for: None,
    };
    let r = app
        .send(Some(&ops), Method::GET, "/v1/customers", None, false, &[])
        .await;
    assert_eq!(r.error_code(), "signature_missing");
    assert_eq!(app.get(&ops, "/v1/customers").await.status, StatusCode::OK);
    let events = app
        .get(
            &admin(),
            &format!("/v1/events?objectId={}", key["id"].as_str().unwrap()),
        )
        .await
        .json();
    assert_eq!(events["data"][0]["type"], "api_key.created");
    assert_eq!(events["data"][0]["data"]["actor"], json!({"type": "cli"}));

    let customer = cli(
        &app,
        &[
            "customers",
            "create",
            "--name",
            "Acme",
            "--kind",
            "business",
            "--can-manage-api-keys",
        ],
    );
    assert_eq!(customer["canManageApiKeys"], true);
    app.stop().await;
}
