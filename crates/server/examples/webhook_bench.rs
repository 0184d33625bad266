//! Webhook delivery benchmark: an in-process Inflow node on a throwaway
//! database, a local receiver answering 200 at once, and two phases:
//!
//! 1. **Drain**: `--backlog` events are committed first (directly through
//!    the store, 100 per transaction, each fanned out to one endpoint); then
//!    one dispatcher pass delivers them all. Reports deliveries per second.
//! 2. **Live**: `--events` collections are created through the signed HTTP
//!    API at `--rate` per second while the background dispatcher runs.
//!    Reports the lag from the event's `createdAt` (taken inside the
//!    writing transaction, just before commit) to its arrival at the
//!    receiver, p50/p99/max — an upper bound on commit → delivery.
//!
//! ```text
//! cargo run --release -p inflow-server --example webhook_bench -- --backend sqlite
//! cargo run --release -p inflow-server --example webhook_bench -- --backend postgres
//! ```
//! PostgreSQL: a throwaway database on `INFLOW_TEST_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`). Traffic stays on 127.0.0.1.

use axum::body::Bytes;
use clap::{Parser, ValueEnum};
use hdrhistogram::Histogram;
use inflow_core::crypto::MasterKey;
use inflow_core::ids::EventId;
use inflow_core::request_signature::{sign_v2, SignedRequest};
use inflow_store::repo::events::Event;
use inflow_store::testing::{TestBackend, TestDb};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum BackendArg {
    Sqlite,
    Postgres,
}

#[derive(Debug, Parser)]
struct Args {
    #[arg(long, value_enum, default_value = "sqlite")]
    backend: BackendArg,
    /// Events committed before the drain phase.
    #[arg(long, default_value_t = 5000)]
    backlog: usize,
    /// Collections created during the live phase.
    #[arg(long, default_value_t = 2000)]
    events: usize,
    /// Collections per second in the live phase.
    #[arg(long, default_value_t = 200)]
    rate: u64,
}

const ADMIN_KEY: &str = "ik_test_webhook_bench_admin_key_000001";
const ADMIN_SECRET: &str = "iss_webhook_bench_admin_signing_secret";

#[derive(Default)]
struct Received {
    count: usize,
    first: Option<Instant>,
    last: Option<Instant>,
    lag_us: Vec<u64>,
}

async fn receive(
    axum::extract::State(r): axum::extract::State<Arc<Mutex<Received>>>,
    body: Bytes,
) -> &'static str {
    let now = chrono::Utc::now();
    let at = Instant::now();
    let created = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["createdAt"].as_str().map(str::to_owned))
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(&s).ok());
    let mut r = r.lock().unwrap();
    r.count += 1;
    r.first.get_or_insert(at);
    r.last = Some(at);
    if let Some(c) = created {
        let lag = (now - c.with_timezone(&chrono::Utc))
            .num_microseconds()
            .unwrap_or(0);
        r.lag_us.push(lag.max(1) as u64);
    }
    ""
}

struct Api {
    base: String,
    client: reqwest::Client,
}

impl Api {
    async fn post(
        &self,
        key: &str,
        secret: &str,
        customer: Option<&str>,
        path: &str,
        body: Value,
    ) -> Value {
        let body = body.to_string();
        let ts = chrono::Utc::now().timestamp().to_string();
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let sig = sign_v2(
            secret,
            &SignedRequest {
                timestamp: &ts,
                nonce: &nonce,
                method: "POST",
                path_and_query: path,
                idempotency_key: "",
                customer: customer.unwrap_or(""),
                body: body.as_bytes(),
            },
        );
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .header("authorization", format!("Bearer {key}"))
            .header("x-timestamp", ts)
            .header("x-nonce", nonce)
            .header("x-signature", sig)
            .header("content-type", "application/json")
            .body(body);
        if let Some(c) = customer {
            req = req.header("inflow-customer", c);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let v: Value = resp.json().await.expect("json");
        assert!(status.is_success(), "{path}: {status} {v}");
        v
    }
}

fn report(name: &str, hist: &Histogram<u64>) {
    println!(
        "{name}: p50={:.1}ms p99={:.1}ms max={:.1}ms (n={})",
        hist.value_at_quantile(0.50) as f64 / 1000.0,
        hist.value_at_quantile(0.99) as f64 / 1000.0,
        hist.max() as f64 / 1000.0,
        hist.len()
    );
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let backend = match args.backend {
        BackendArg::Sqlite => TestBackend::Sqlite,
        BackendArg::Postgres => TestBackend::Postgres,
    };
    let db = TestDb::new(backend).await;
    let data_dir = std::env::temp_dir().join(format!("inflow-whbench-{}", std::process::id()));

    // The receiver.
    let received = Arc::new(Mutex::new(Received::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_url = format!("http://{}/hooks", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/hooks", axum::routing::post(receive))
        .with_state(received.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });

    // The node: background dispatcher off for the drain phase.
    let master_key = MasterKey::generate().to_base64();
    let node = |poll_ms: u64| {
        let mut config = inflow_server::config::Config {
            database_url: Some(db.url.clone()),
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: data_dir.clone(),
            master_key: Some(master_key.clone()),
            sandbox: true,
            bootstrap_admin_key: Some(ADMIN_KEY.into()),
            bootstrap_admin_signing_secret: Some(ADMIN_SECRET.into()),
            scheduler_interval_secs: 0,
            ..Default::default()
        };
        config.webhooks.poll_interval_ms = poll_ms;
        // The live phase writes faster than the default per-key limit
        // (100/s); the bench measures delivery, not the limiter.
        config.rate_limit.requests_per_second = 0;
        async move {
            let prepared = inflow_server::bootstrap::prepare(config)
                .await
                .expect("prepare");
            inflow_server::server::spawn(prepared.state)
                .await
                .expect("spawn")
        }
    };
    let server = node(0).await;
    let api = Api {
        base: format!("http://{}", server.addr),
        client: reqwest::Client::new(),
    };
    let cus = api
        .post(
            ADMIN_KEY,
            ADMIN_SECRET,
            None,
            "/v1/customers",
            json!({"name": "Bench", "kind": "business",
            "achCompanyName": "BENCH", "achCompanyId": "1234567890"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let key = api
        .post(
            ADMIN_KEY,
            ADMIN_SECRET,
            None,
            "/v1/api-keys",
            json!({"customerId": cus, "name": "bench"}),
        )
        .await;
    let (key, secret) = (
        key["key"].as_str().unwrap().to_owned(),
        key["signingSecret"].as_str().unwrap().to_owned(),
    );
    api.post(
        &key,
        &secret,
        None,
        "/v1/webhook-endpoints",
        json!({"url": hook_url, "enabledEvents": "*"}),
    )
    .await;
    let account = api
        .post(&key, &secret, None, "/v1/accounts", json!({"name": "Main"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let pm = api
        .post(&key, &secret, None, "/v1/payment-methods", json!({"type": "us_bank_account", "usBankAccount": {
            "routingNumber": "121042882", "accountNumber": "000123456789", "accountType": "checking",
            "holderName": "Bench", "holderType": "individual"}}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Phase 1: drain a backlog.
    let customer = inflow_core::ids::CustomerId::parse("c", &cus).unwrap();
    for chunk in 0..args.backlog.div_ceil(100) {
        let n = (args.backlog - chunk * 100).min(100);
        let customer = customer.clone();
        db.store
            .write(move |tx| {
                Box::pin(async move {
                    for i in 0..n {
                        let now = chrono::Utc::now();
                        tx.insert_event(&Event {
                            id: EventId::generate(now),
                            customer_id: Some(customer.clone()),
                            event_type: "collection.created".into(),
                            object_id: format!("col_bench_{chunk}_{i}"),
                            data: json!({"object": {"id": format!("col_bench_{chunk}_{i}"), "status": "pending"}}),
                            created_at: now,
                        })
                        .await?;
                    }
                    Ok::<_, inflow_store::StoreError>(())
                })
            })
            .await
            .expect("backlog");
    }
    let started = Instant::now();
    let pass = server
        .state
        .webhooks
        .run_pass(usize::MAX)
        .await
        .expect("pass");
    let secs = started.elapsed().as_secs_f64();
    println!(
        "backend={:?} drain: {} deliveries in {:.2}s = {:.0} deliveries/s (attempts={}, received={})",
        args.backend,
        pass.delivered,
        secs,
        pass.delivered as f64 / secs,
        pass.attempts,
        received.lock().unwrap().count
    );
    server.shutdown().await;

    // Phase 2: live, through the API, with the background dispatcher.
    *received.lock().unwrap() = Received::default();
    let server = node(500).await;
    let api = Arc::new(Api {
        base: format!("http://{}", server.addr),
        client: reqwest::Client::new(),
    });
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / args.rate.max(1)));
    let mut tasks = Vec::with_capacity(args.events);
    let body = json!({"destinationAccountId": account, "paymentMethodId": pm, "allowDuplicate": true,
        "amount": {"currency": "USD", "value": "1500"},
        "authorization": {"type": "written", "obtainedAt": "2026-01-05T10:00:00Z"}});
    for _ in 0..args.events {
        tick.tick().await;
        let (api, key, secret, body) = (api.clone(), key.clone(), secret.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let started = Instant::now();
            api.post(&key, &secret, None, "/v1/collections/ach", body)
                .await;
            started.elapsed()
        }));
    }
    let mut api_hist = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).unwrap();
    for t in tasks {
        let _ = api_hist.record(t.await.unwrap().as_micros().max(1) as u64);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while received.lock().unwrap().count < args.events && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (count, lags, span) = {
        let r = received.lock().unwrap();
        let span = match (r.first, r.last) {
            (Some(a), Some(b)) => (b - a).as_secs_f64(),
            _ => 0.0,
        };
        (r.count, r.lag_us.clone(), span)
    };
    let mut hist = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).unwrap();
    for l in &lags {
        let _ = hist.record(*l);
    }
    println!(
        "backend={:?} live: {} collections at {}/s, {} delivered over {:.2}s",
        args.backend, args.events, args.rate, count, span
    );
    report("  createdAt -> received lag", &hist);
    report("  (for scale) POST /v1/collections/ach latency", &api_hist);
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(&data_dir);
}
