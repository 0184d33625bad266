//! OpenTelemetry export: `inflow serve` (the real binary) with
//! `[telemetry] otlp_endpoint` pointing at a tiny OTLP/HTTP receiver in
//! this test. After a request with a known request id and a clock advance,
//! the node is stopped (SIGTERM flushes the exporter) and the receiver
//! must hold a `request` span with that request id, its customer,
//! collection, route and method, and `job_step` spans named by step.

use crate::support;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use inflow_store::testing::TestDb;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use prost::Message;
use reqwest::StatusCode;
use serde_json::json;
use support::ach::*;
use support::*;

type Received = Arc<Mutex<Vec<Bytes>>>;

/// An OTLP/HTTP receiver on a free port: every body POSTed to `/v1/traces`.
async fn receiver() -> (u16, Received) {
    let got: Received = Default::default();
    let kept = got.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: Bytes| {
            let kept = kept.clone();
            async move {
                kept.lock().unwrap().push(body);
                ([("content-type", "application/x-protobuf")], Bytes::new())
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (port, got)
}

/// A span as exported: its name and attributes (as strings).
#[derive(Debug)]
struct Span {
    name: String,
    attributes: BTreeMap<String, String>,
    service: Option<String>,
}

fn text(kv: &KeyValue) -> String {
    match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
        Some(AnyValue::StringValue(s)) => s.clone(),
        Some(AnyValue::IntValue(i)) => i.to_string(),
        Some(AnyValue::BoolValue(b)) => b.to_string(),
        Some(AnyValue::DoubleValue(d)) => d.to_string(),
        other => format!("{other:?}"),
    }
}

fn decode(bodies: &[Bytes]) -> Vec<Span> {
    let mut spans = Vec::new();
    for body in bodies {
        let request =
            ExportTraceServiceRequest::decode(body.as_ref()).expect("an OTLP protobuf body");
        for rs in request.resource_spans {
            let service = rs.resource.as_ref().and_then(|r| {
                r.attributes
                    .iter()
                    .find(|a| a.key == "service.name")
                    .map(text)
            });
            for ss in rs.scope_spans {
                for s in ss.spans {
                    spans.push(Span {
                        name: s.name,
                        attributes: s
                            .attributes
                            .iter()
                            .map(|a| (a.key.clone(), text(a)))
                            .collect(),
                        service: service.clone(),
                    });
                }
            }
        }
    }
    spans
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_and_job_spans_reach_an_otlp_collector() {
    let (otlp_port, received) = receiver().await;
    let db = TestDb::new(Backend::Sqlite).await;
    let dir = std::env::temp_dir().join(format!("inflow-otlp-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let master_key = inflow_core::crypto::MasterKey::generate().to_base64();
    let log = std::fs::File::create(dir.join("serve.log")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_inflow"))
        .arg("serve")
        .current_dir(&dir)
        .env("INFLOW_LISTEN", format!("127.0.0.1:{port}"))
        .env("INFLOW_DATABASE_URL", &db.url)
        .env("INFLOW_DATA_DIR", dir.join("data"))
        .env("INFLOW_MASTER_KEY", &master_key)
        .env("INFLOW_SANDBOX", "true")
        .env("INFLOW_BOOTSTRAP_ADMIN_KEY", ADMIN_KEY)
        .env("INFLOW_BOOTSTRAP_ADMIN_SIGNING_SECRET", ADMIN_SECRET)
        .env("INFLOW_SCHEDULER_INTERVAL_SECS", "0")
        .env(
            "INFLOW_TELEMETRY__OTLP_ENDPOINT",
            format!("http://127.0.0.1:{otlp_port}"),
        )
        .env("INFLOW_TELEMETRY__SERVICE_NAME", "inflow-otlp-test")
        .env_remove("RUST_LOG")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .stdin(Stdio::null())
        .spawn()
        .expect("spawn inflow serve");
    let app = TestApp::attach(
        format!("http://127.0.0.1:{port}"),
        db,
        master_key,
        dir.join("data"),
    );
    let started = Instant::now();
    loop {
        assert!(child.try_wait().unwrap().is_none(), "inflow serve exited");
        let up = app.client.get(format!("{}/healthz", app.base)).send().await;
        if up.is_ok_and(|r| r.status() == StatusCode::OK) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "not up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let (customer, creds) = app.customer_with_key("Acme", json!({})).await;
    let dest = destination(&app, &creds).await;
    let pm = make_pm(&app, &creds, "444455556666").await;
    let c = collect(&app, &creds, &dest, &pm, "1000", json!({})).await;
    let id = c["id"].as_str().unwrap().to_owned();
    let read = app.get(&creds, &format!("/v1/collections/{id}")).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    let request_id = read.headers["x-request-id"].to_str().unwrap().to_owned();
    advance_minutes(&app, 60).await;

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "inflow serve did not stop"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let log = std::fs::read_to_string(dir.join("serve.log")).unwrap_or_default();
    assert!(status.success(), "exit {status}:\n{log}");

    let spans = decode(&received.lock().unwrap());
    let request = spans
        .iter()
        .find(|s| s.name == "request" && s.attributes.get("request_id") == Some(&request_id))
        .unwrap_or_else(|| {
            panic!(
                "no span for {request_id} among {} spans:\n{log}",
                spans.len()
            )
        });
    let attr = |k: &str| request.attributes.get(k).map(String::as_str);
    assert_eq!(attr("customer_id"), Some(customer.as_str()), "{request:?}");
    assert_eq!(attr("collection_id"), Some(id.as_str()), "{request:?}");
    assert_eq!(attr("route"), Some("/v1/collections/{id}"), "{request:?}");
    assert_eq!(attr("method"), Some("GET"), "{request:?}");
    assert_eq!(attr("status"), Some("200"), "{request:?}");
    assert_eq!(request.service.as_deref(), Some("inflow-otlp-test"));
    let steps: Vec<&str> = spans
        .iter()
        .filter(|s| s.name == "job_step")
        .filter_map(|s| s.attributes.get("step").map(String::as_str))
        .collect();
    for step in ["scheduler", "inbound", "webhooks"] {
        assert!(
            steps.contains(&step),
            "no job_step span for {step}: {steps:?}"
        );
    }
    // No secret in what left the node.
    let all: Vec<u8> = received
        .lock()
        .unwrap()
        .iter()
        .flat_map(|b| b.to_vec())
        .collect();
    let all = String::from_utf8_lossy(&all);
    assert!(
        !all.contains(&creds.key) && !all.contains(&creds.secret),
        "a key was exported"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
