//! The OpenAPI document is a snapshot: any change to the API shows up as a
//! reviewable diff in `tests/api/snapshots/`. Update with
//! `INSTA_UPDATE=always cargo test -p inflow-server --test api openapi_snapshot::`.

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

/// Every string enum in the document must list the values the API sends and
/// accepts (`pending`, `same_day`, `WEB`), never the Rust variant names
/// (`Pending`, `SameDay`, `Web`): a client generated from the spec would
/// otherwise send values the server refuses.
#[test]
fn string_enums_in_the_spec_are_the_values_on_the_wire() {
    let doc = serde_json::to_value(inflow_server::api::openapi()).unwrap();
    let mut rust_names = Vec::new();
    collect_rust_style_enum_values(&doc, "#", &mut rust_names);
    assert!(
        rust_names.is_empty(),
        "enum values in Rust style: {rust_names:?}"
    );

    let kind = &doc["components"]["schemas"]["CounterpartyKind"]["enum"];
    assert_eq!(*kind, serde_json::json!(["individual", "business"]));
}

fn collect_rust_style_enum_values(value: &serde_json::Value, path: &str, found: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(values) = map.get("enum").and_then(|v| v.as_array()) {
                for v in values.iter().filter_map(|v| v.as_str()) {
                    let mut chars = v.chars();
                    let pascal = chars.next().is_some_and(|c| c.is_ascii_uppercase())
                        && chars.any(|c| c.is_ascii_lowercase());
                    if pascal {
                        found.push(format!("{path}: {v}"));
                    }
                }
            }
            for (key, child) in map {
                collect_rust_style_enum_values(child, &format!("{path}/{key}"), found);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                collect_rust_style_enum_values(child, &format!("{path}/{i}"), found);
            }
        }
        _ => {}
    }
}

/// Shapes the spec used to get wrong, each against what the server sends.
#[test]
fn spec_describes_what_the_server_sends_for_known_shapes() {
    let doc = serde_json::to_value(inflow_server::api::openapi()).unwrap();
    let schemas = &doc["components"]["schemas"];

    for path in ["/healthz", "/readyz"] {
        assert_eq!(
            doc["paths"][path]["get"]["security"],
            serde_json::json!([]),
            "{path} is public"
        );
    }

    // `dayOfMonth` is a number 1–28 or "last" (null when absent), never an object.
    let day = &schemas["CreateScheduleRequest"]["properties"]["dayOfMonth"];
    let kinds: Vec<_> = day["oneOf"]
        .as_array()
        .expect("dayOfMonth oneOf")
        .iter()
        .map(|s| s["type"].clone())
        .collect();
    assert_eq!(kinds, ["integer", "string", "null"], "{day}");

    // The fee schedule response carries `object`, `id` and `source` beside the
    // amounts: no part of it may forbid extra properties.
    let fees = serde_json::to_string(&schemas["FeeScheduleView"]).unwrap();
    assert!(!fees.contains("FeeScheduleBody"), "{fees}");
    assert_eq!(
        schemas["FeeAmounts"]["additionalProperties"],
        serde_json::Value::Null
    );

    // `GET /v1/sandbox/clock` answers `"jobs": null`.
    let jobs = serde_json::to_string(&schemas["ClockResponse"]["properties"]["jobs"]).unwrap();
    assert!(
        jobs.contains("\"null\"") && jobs.contains("JobsReport"),
        "{jobs}"
    );
}

/// The layers in front of every handler answer 401/403 (authentication),
/// 413 (body limit) and 409/422 (`Idempotency-Key`); each operation they
/// guard documents those answers, and `limit` is 1–200 wherever it appears.
#[test]
fn every_operation_documents_the_answers_of_the_shared_layers() {
    let doc = serde_json::to_value(inflow_server::api::openapi()).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            let public = op["security"] == serde_json::json!([]);
            if !public {
                for status in ["401", "403"] {
                    assert!(
                        responses.contains_key(status),
                        "{method} {path} lacks {status}"
                    );
                }
            }
            if op.get("requestBody").is_some() {
                assert!(responses.contains_key("413"), "{method} {path} lacks 413");
            }
            for param in op["parameters"].as_array().into_iter().flatten() {
                if param["name"] == "limit" {
                    assert_eq!(param["schema"]["minimum"], 1, "{method} {path}");
                    assert_eq!(param["schema"]["maximum"], 200, "{method} {path}");
                }
                if param["name"] == "Idempotency-Key" {
                    assert_eq!(param["schema"]["maxLength"], 255, "{method} {path}");
                    assert!(responses.contains_key("422"), "{method} {path} lacks 422");
                }
            }
        }
    }
    let create = &doc["paths"]["/v1/collections/ach"]["post"]["parameters"];
    assert!(
        create
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "Idempotency-Key"),
        "collections/ach takes Idempotency-Key"
    );
}

/// Every `$ref` points at a schema the document defines.
#[test]
fn every_schema_reference_resolves() {
    let doc = serde_json::to_value(inflow_server::api::openapi()).unwrap();
    let text = doc.to_string();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for part in text.split("\"#/components/schemas/").skip(1) {
        let name = part.split('"').next().unwrap_or_default();
        assert!(schemas.contains_key(name), "unresolved $ref {name}");
    }
}

/// Create operations link to the operations that take the created id, for
/// generated clients and schemathesis's stateful phase; every link names an
/// operation the document has, by reference.
#[test]
fn create_operations_link_to_their_follow_ups() {
    let doc = inflow_server::api::openapi();
    let links = |method: &str, path: &str, status: &str| -> Vec<String> {
        doc["paths"][path][method]["responses"][status]["links"]
            .as_object()
            .map(|l| {
                l.values()
                    .map(|link| link["operationRef"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let op = |method: &str, path: &str| format!("#/paths/{}/{method}", path.replace('/', "~1"));
    for (from, to) in [
        (
            ("post", "/v1/collections/ach"),
            ("get", "/v1/collections/{id}"),
        ),
        (
            ("post", "/v1/collections/ach"),
            ("post", "/v1/collections/{id}/cancel"),
        ),
        (
            ("post", "/v1/collections/card"),
            ("get", "/v1/collections/{id}"),
        ),
        (
            ("post", "/v1/collections/card"),
            ("post", "/v1/collections/{id}/refunds"),
        ),
        (
            ("post", "/v1/payment-methods"),
            ("get", "/v1/payment-methods/{id}"),
        ),
        (
            ("post", "/v1/payment-methods"),
            ("patch", "/v1/payment-methods/{id}"),
        ),
        (("post", "/v1/customers"), ("get", "/v1/customers/{id}")),
        (
            ("post", "/v1/collections/{id}/refunds"),
            ("get", "/v1/refunds/{id}"),
        ),
    ] {
        assert!(
            links(from.0, from.1, "201").contains(&op(to.0, to.1)),
            "{from:?} does not link to {to:?}"
        );
    }
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for response in operation["responses"].as_object().unwrap().values() {
                for link in response["links"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(_, l)| l)
                {
                    let target = link["operationRef"].as_str().unwrap();
                    let (target_path, target_method) = target
                        .strip_prefix("#/paths/")
                        .and_then(|t| t.rsplit_once('/'))
                        .unwrap();
                    let target_path = target_path.replace("~1", "/").replace("~0", "~");
                    assert!(
                        doc["paths"][&target_path][target_method].is_object(),
                        "{method} {path}: link to {target} resolves to nothing"
                    );
                    assert!(target_path.contains("{id}"), "{target}");
                    assert!(
                        link["parameters"]["id"]
                            .as_str()
                            .unwrap()
                            .starts_with("$response.body#/"),
                        "{link}"
                    );
                }
            }
        }
    }
}
