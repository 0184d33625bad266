//! The OpenAPI document is a snapshot: any change to the API shows up as a
//! reviewable diff in `tests/snapshots/`. Update with
//! `INSTA_UPDATE=always cargo test -p inflow-server --test openapi_snapshot`.

#[test]
fn openapi_document_matches_the_snapshot() {
    let doc = inflow_server::api::openapi();
    let json = serde_json::to_string_pretty(&doc).expect("serialise OpenAPI");
    insta::assert_snapshot!("openapi", json);
}

#[test]
fn openapi_document_is_version_3_1_and_describes_every_route() {
    let doc = serde_json::to_value(inflow_server::api::openapi()).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/v1/customers",
        "/v1/api-keys",
        "/v1/accounts",
        "/v1/counterparties",
        "/v1/payment-methods",
        "/v1/events",
        "/v1/events/{id}/redeliver",
        "/v1/webhook-endpoints",
        "/v1/webhook-endpoints/{id}/rotate-secret",
        "/v1/webhook-endpoints/{id}/deliveries",
        "/v1/schedules",
        "/v1/schedules/{id}/pause",
        "/healthz",
        "/readyz",
    ] {
        assert!(paths.contains_key(p), "{p} missing from OpenAPI");
    }
}
