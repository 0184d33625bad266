//! The examples in `/openapi.json` are true: each request and response
//! example is valid against its own schema (checked by the `jsonschema`
//! crate, formats included), the main operations have them, and every
//! request example, sent with real ids in place of the example ids, is
//! accepted by a server on both backends — whose answers have the fields the
//! response examples show.
//!
//! `INFLOW_PRINT_EXAMPLES=1 cargo test -p inflow-server --test
//! openapi_examples -- --nocapture` prints the live answers with the example
//! ids put back, to refresh `crates/server/src/api/examples/responses.rs`.

use crate::support;

use std::collections::BTreeMap;

use chrono::Duration;
use inflow_core::calendar::BankingCalendar;
use inflow_server::api::examples::{ids, FUTURE_EFFECTIVE_DATE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::ach::sandbox_now;
use support::*;

on_both_backends!(every_request_example_is_accepted_and_answered_as_its_response_example);

/// The operations that must show a request example (`true`) and a response
/// example for their success status.
const MAIN_OPERATIONS: &[(&str, &str, bool, &str)] = &[
    ("post", "/v1/customers", true, "201"),
    ("post", "/v1/payment-methods", true, "201"),
    ("post", "/v1/collections/ach", true, "201"),
    ("post", "/v1/collections/card", true, "201"),
    ("get", "/v1/collections/{id}", false, "200"),
    ("post", "/v1/collections/{id}/cancel", true, "200"),
    ("post", "/v1/collections/{id}/refunds", true, "201"),
    ("post", "/v1/webhook-endpoints", true, "201"),
];

fn document() -> Value {
    inflow_server::api::openapi()
}

/// A validator for `schema` (an inline schema or a `$ref`), resolving
/// references against the document's components.
fn validator(doc: &Value, schema: &Value) -> jsonschema::Validator {
    let mut root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": doc["components"],
    });
    for (k, v) in schema.as_object().expect("a schema object") {
        root[k] = v.clone();
    }
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|e| panic!("schema {schema} does not compile: {e}"))
}

fn errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// The examples of a media type object: `example` and each `examples.*.value`.
fn examples_of(media: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    if let Some(example) = media.get("example") {
        out.push(("example".to_owned(), example.clone()));
    }
    for (name, example) in media["examples"].as_object().into_iter().flatten() {
        out.push((name.clone(), example["value"].clone()));
    }
    out
}

fn json_media(holder: &Value) -> &Value {
    &holder["content"]["application/json"]
}

fn request_examples(doc: &Value, method: &str, path: &str) -> Vec<(String, Value)> {
    examples_of(json_media(&doc["paths"][path][method]["requestBody"]))
}

fn response_examples(doc: &Value, method: &str, path: &str, status: &str) -> Vec<(String, Value)> {
    examples_of(json_media(&doc["paths"][path][method]["responses"][status]))
}

#[test]
fn every_example_in_the_document_is_valid_against_its_schema() {
    let doc = document();
    let mut checked = 0;
    let mut problems = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let mut holders = vec![("request".to_owned(), &op["requestBody"])];
            for (status, response) in op["responses"].as_object().unwrap() {
                holders.push((status.clone(), response));
            }
            for (what, holder) in holders {
                let media = json_media(holder);
                let examples = examples_of(media);
                if examples.is_empty() {
                    continue;
                }
                let v = validator(&doc, &media["schema"]);
                for (name, example) in examples {
                    checked += 1;
                    for e in errors(&v, &example) {
                        problems.push(format!("{method} {path} {what} {name}: {e}"));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(checked >= 16, "only {checked} examples in the document");

    // The check has teeth: a Rust-style enum value, a malformed id and a
    // bad date-time are each caught.
    let v = validator(
        &doc,
        &json!({"$ref": "#/components/schemas/CreateCollectionRequest"}),
    );
    let mut bad = inflow_server::api::examples::ach_debit();
    bad["secCode"] = json!("Web");
    bad["paymentMethodId"] = json!("pm_123");
    bad["authorization"]["obtainedAt"] = json!("yesterday");
    assert_eq!(errors(&v, &bad).len(), 3, "{:?}", errors(&v, &bad));
}

#[test]
fn the_main_operations_have_request_and_response_examples() {
    let doc = document();
    for (method, path, request, status) in MAIN_OPERATIONS {
        if *request {
            assert!(
                !request_examples(&doc, method, path).is_empty(),
                "{method} {path}: no request example"
            );
        }
        assert!(
            !response_examples(&doc, method, path, status).is_empty(),
            "{method} {path}: no {status} response example"
        );
    }
    let names = |path: &str| -> Vec<String> {
        request_examples(&doc, "post", path)
            .into_iter()
            .map(|(n, _)| n)
            .collect()
    };
    assert!(
        names("/v1/collections/ach").len() >= 3,
        "one-off, same-day, future-dated"
    );
    assert!(
        names("/v1/payment-methods").len() >= 2,
        "bank account and card"
    );
}

#[test]
fn the_examples_use_ids_in_their_real_format() {
    let text = document().to_string();
    for id in ids::ALL {
        let (prefix, hex) = id.split_once('_').unwrap();
        assert!(!prefix.is_empty() && hex.len() == 32, "{id}");
        assert!(
            hex.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "{id}"
        );
    }
    for id in [ids::ACH_COLLECTION, ids::CARD_PAYMENT_METHOD, ids::REFUND] {
        assert!(text.contains(id), "{id} is used by no example");
    }
}

/// Replace every string equal to a key of `map` by its value.
fn substitute(value: &Value, map: &BTreeMap<String, String>) -> Value {
    match value {
        Value::String(s) => Value::String(map.get(s).cloned().unwrap_or_else(|| s.clone())),
        Value::Array(items) => Value::Array(items.iter().map(|v| substitute(v, map)).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), substitute(v, map)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Where `example` and `live` are both objects, they have the same fields
/// (recursively, except in `metadata`, which holds the client's own keys;
/// an array is compared by its first items).
fn shape_differences(example: &Value, live: &Value, at: &str, out: &mut Vec<String>) {
    match (example, live) {
        (Value::Object(e), Value::Object(l)) => {
            for k in e.keys().filter(|k| !l.contains_key(*k)) {
                out.push(format!("{at}.{k}: in the example, not in the answer"));
            }
            for k in l.keys().filter(|k| !e.contains_key(*k)) {
                out.push(format!("{at}.{k}: in the answer, not in the example"));
            }
            for (k, v) in e.iter().filter(|(k, _)| *k != "metadata") {
                if let Some(lv) = l.get(k) {
                    shape_differences(v, lv, &format!("{at}.{k}"), out);
                }
            }
        }
        (Value::Array(e), Value::Array(l)) => {
            if let (Some(e), Some(l)) = (e.first(), l.first()) {
                shape_differences(e, l, &format!("{at}[0]"), out);
            }
        }
        _ => {}
    }
}

struct Checker {
    doc: Value,
    /// example id → real id
    to_real: BTreeMap<String, String>,
    problems: Vec<String>,
    print: bool,
}

impl Checker {
    fn real(&self, example_id: &str) -> String {
        self.to_real[example_id].clone()
    }

    /// The request example `name` of `method path`, with real ids and dates.
    fn request(&self, path: &str, name: &str) -> Value {
        let (_, example) = request_examples(&self.doc, "post", path)
            .into_iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no request example {name} on {path}"));
        substitute(&example, &self.to_real)
    }

    /// Check the live answer `reply` to `method template`: the expected
    /// status, valid against the response schema, and the fields of the
    /// response example `example` (or the only one).
    fn answer(
        &mut self,
        method: &str,
        template: &str,
        status: &str,
        example: Option<&str>,
        reply: &Reply,
    ) -> Value {
        assert_eq!(
            reply.status.as_str(),
            status,
            "{method} {template}: {}",
            reply.text
        );
        let live = reply.json();
        let media = json_media(&self.doc["paths"][template][method]["responses"][status]).clone();
        for e in errors(&validator(&self.doc, &media["schema"]), &live) {
            self.problems
                .push(format!("{method} {template} answer: {e}"));
        }
        let examples = examples_of(&media);
        let chosen = match example {
            Some(name) => examples.iter().find(|(n, _)| n == name),
            None => examples.first(),
        };
        match chosen {
            Some((_, ex)) => shape_differences(
                ex,
                &live,
                &format!("{method} {template}"),
                &mut self.problems,
            ),
            None => self.problems.push(format!(
                "{method} {template}: no response example {example:?}"
            )),
        }
        if self.print {
            let to_example: BTreeMap<_, _> = self
                .to_real
                .iter()
                .map(|(e, r)| (r.clone(), e.clone()))
                .collect();
            println!(
                "--- {method} {template} {example:?}\n{}",
                serde_json::to_string_pretty(&substitute(&live, &to_example)).unwrap()
            );
        }
        live
    }

    fn learn(&mut self, example_id: &str, live: &Value) -> String {
        let id = live["id"].as_str().unwrap().to_owned();
        self.to_real.insert(example_id.to_owned(), id.clone());
        id
    }
}

async fn every_request_example_is_accepted_and_answered_as_its_response_example(b: Backend) {
    let app = spawn_app(b).await;
    let mut c = Checker {
        doc: document(),
        to_real: BTreeMap::new(),
        problems: Vec::new(),
        print: std::env::var_os("INFLOW_PRINT_EXAMPLES").is_some(),
    };
    // A future banking day within the server's horizon stands for the example's date.
    let today = sandbox_now(&app).await.date_naive();
    let future =
        BankingCalendar::federal_reserve().banking_day_on_or_after(today + Duration::days(30));
    c.to_real
        .insert(FUTURE_EFFECTIVE_DATE.to_owned(), future.to_string());

    // The operator creates the customer, then a key for it.
    let body = c.request("/v1/customers", "example");
    let r = app.post(&admin(), "/v1/customers", body).await;
    let customer = c.answer("post", "/v1/customers", "201", None, &r);
    let customer_id = c.learn(ids::CUSTOMER, &customer);
    let k = app
        .post(
            &admin(),
            "/v1/api-keys",
            json!({"customerId": customer_id, "name": "examples"}),
        )
        .await;
    assert_eq!(k.status, StatusCode::CREATED, "{}", k.text);
    let k = k.json();
    let creds = Creds {
        key: k["key"].as_str().unwrap().into(),
        secret: k["signingSecret"].as_str().unwrap().into(),
        acting_for: None,
    };
    let account = app
        .post(&creds, "/v1/accounts", json!({"name": "Operating"}))
        .await;
    assert_eq!(account.status, StatusCode::CREATED, "{}", account.text);
    c.learn(ids::ACCOUNT, &account.json());

    let path = "/v1/payment-methods";
    for (name, example_id) in [
        ("bankAccount", ids::BANK_PAYMENT_METHOD),
        ("card", ids::CARD_PAYMENT_METHOD),
    ] {
        let r = app.post(&creds, path, c.request(path, name)).await;
        let pm = c.answer("post", path, "201", Some(name), &r);
        c.learn(example_id, &pm);
    }

    let path = "/v1/collections/ach";
    for name in ["oneOff", "sameDay", "futureDated"] {
        let r = app.post(&creds, path, c.request(path, name)).await;
        let col = c.answer("post", path, "201", None, &r);
        if name == "oneOff" {
            c.learn(ids::ACH_COLLECTION, &col);
        }
    }

    let path = "/v1/collections/card";
    let r = app.post(&creds, path, c.request(path, "example")).await;
    let sale = c.answer("post", path, "201", None, &r);
    c.learn(ids::CARD_COLLECTION, &sale);

    for (name, id) in [("ach", ids::ACH_COLLECTION), ("card", ids::CARD_COLLECTION)] {
        let r = app
            .get(&creds, &format!("/v1/collections/{}", c.real(id)))
            .await;
        c.answer("get", "/v1/collections/{id}", "200", Some(name), &r);
    }

    let template = "/v1/collections/{id}/refunds";
    let body = c.request(template, "example");
    let r = app
        .post(
            &creds,
            &format!("/v1/collections/{}/refunds", c.real(ids::CARD_COLLECTION)),
            body,
        )
        .await;
    let refund = c.answer("post", template, "201", None, &r);
    c.learn(ids::REFUND, &refund);

    let template = "/v1/collections/{id}/cancel";
    let body = c.request(template, "example");
    let r = app
        .post(
            &creds,
            &format!("/v1/collections/{}/cancel", c.real(ids::ACH_COLLECTION)),
            body,
        )
        .await;
    c.answer("post", template, "200", None, &r);

    let path = "/v1/webhook-endpoints";
    let r = app.post(&creds, path, c.request(path, "example")).await;
    let endpoint = c.answer("post", path, "201", None, &r);
    c.learn(ids::WEBHOOK_ENDPOINT, &endpoint);

    // The refund the example made is a resource of its own.
    let r = app
        .call(
            &creds,
            Method::GET,
            &format!("/v1/refunds/{}", c.real(ids::REFUND)),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(c.problems.is_empty(), "{:#?}", c.problems);
}
