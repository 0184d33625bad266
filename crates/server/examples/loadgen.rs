//! A small closed-loop load generator for Inflow's HTTP API.
//!
//! `concurrency` workers each send one request at a time for `duration`
//! seconds over keep-alive connections, and the run reports throughput and
//! latency percentiles. Targets:
//! - `healthz`: `GET /healthz`, the server's ceiling;
//! - `payment-methods`: signed `POST /v1/payment-methods`, each with a fresh
//!   `Idempotency-Key` and a distinct account number (every write durable
//!   before the response);
//! - `collections`: signed `POST /v1/collections/ach` debits from
//!   `--payment-method` into `--account`, each with a fresh `Idempotency-Key`
//!   and a distinct amount (the duplicate check runs; nothing is a duplicate);
//! - `collection-get`: signed `GET /v1/collections/{id}` of `--collection`
//!   (a fresh nonce each, so every signature is new to the replay memory);
//! - `card-sales`: signed `POST /v1/collections/card` sales on the saved card
//!   `--payment-method` into `--account` (reserve, sandbox processor call and
//!   confirm: three transactions and the processor's own books per sale).
//!
//! ```text
//! cargo run --release -p inflow-server --example loadgen -- \
//!     --url http://127.0.0.1:8080 --target payment-methods --key ik_test_… --secret iss_…
//! ```
//! `scripts/load.sh` starts servers on SQLite and PostgreSQL and runs both targets;
//! `scripts/load-nodes.sh` starts 1, 2 and 3 nodes on one PostgreSQL database
//! and spreads the workers over them (`--url` given once per node).

use clap::{Parser, ValueEnum};
use hdrhistogram::Histogram;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Target {
    Healthz,
    PaymentMethods,
    Collections,
    CollectionGet,
    CardSales,
}

#[derive(Debug, Parser)]
struct Args {
    /// Base URL of a node; repeat it (or separate with commas) to spread the
    /// workers over several nodes, worker `i` using node `i mod n`.
    #[arg(long, default_value = "http://127.0.0.1:8080", value_delimiter = ',')]
    url: Vec<String>,
    #[arg(long, value_enum)]
    target: Target,
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Seconds to run (after a one-second warm-up).
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Customer API key (for payment-methods).
    #[arg(long, default_value = "")]
    key: String,
    /// The key's signing secret.
    #[arg(long, default_value = "")]
    secret: String,
    /// Destination account id (for collections).
    #[arg(long, default_value = "")]
    account: String,
    /// Payment method id (for collections).
    #[arg(long, default_value = "")]
    payment_method: String,
    /// Collection id (for collection-get).
    #[arg(long, default_value = "")]
    collection: String,
}

/// A signed (v2) GET with a fresh nonce; `true` on 200.
async fn signed_get(client: &reqwest::Client, args: &Args, base: &str, path: &str, n: u64) -> bool {
    let ts = chrono::Utc::now().timestamp().to_string();
    let nonce = format!("g{}-{n}", std::process::id());
    let sig = inflow_core::request_signature::sign_v2(
        &args.secret,
        &inflow_core::request_signature::SignedRequest {
            timestamp: &ts,
            nonce: &nonce,
            method: "GET",
            path_and_query: path,
            idempotency_key: "",
            customer: "",
            body: b"",
        },
    );
    let response = client
        .get(format!("{base}{path}"))
        .header("authorization", format!("Bearer {}", args.key))
        .header("x-timestamp", ts)
        .header("x-nonce", nonce)
        .header("x-signature", sig)
        .send()
        .await;
    answered(response, 200).await
}

/// A signed (v2) POST with a fresh idempotency key and nonce; `true` on 201.
async fn signed_post(
    client: &reqwest::Client,
    args: &Args,
    base: &str,
    path: &str,
    n: u64,
    body: String,
) -> bool {
    let ts = chrono::Utc::now().timestamp().to_string();
    let idempotency_key = format!("load-{}-{n}", std::process::id());
    let nonce = format!("n{n}");
    let sig = inflow_core::request_signature::sign_v2(
        &args.secret,
        &inflow_core::request_signature::SignedRequest {
            timestamp: &ts,
            nonce: &nonce,
            method: "POST",
            path_and_query: path,
            idempotency_key: &idempotency_key,
            customer: "",
            body: body.as_bytes(),
        },
    );
    let response = client
        .post(format!("{base}{path}"))
        .header("authorization", format!("Bearer {}", args.key))
        .header("x-timestamp", ts)
        .header("x-nonce", nonce)
        .header("x-signature", sig)
        .header("idempotency-key", idempotency_key)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await;
    answered(response, 201).await
}

/// Did the request get `expected`? The first answer that did not is printed.
async fn answered(response: reqwest::Result<reqwest::Response>, expected: u16) -> bool {
    match response {
        Ok(r) if r.status().as_u16() == expected => true,
        Ok(r) => {
            report_first_failure(format!(
                "{} {}",
                r.status(),
                r.text().await.unwrap_or_default()
            ));
            false
        }
        Err(e) => {
            report_first_failure(e.to_string());
            false
        }
    }
}

/// Print the first failed request's answer once, so a run with failures
/// says why.
fn report_first_failure(what: String) {
    static REPORTED: std::sync::Once = std::sync::Once::new();
    REPORTED.call_once(|| eprintln!("first failure: {what}"));
}

static SEQ: AtomicU64 = AtomicU64::new(1);

async fn one_request(client: &reqwest::Client, args: &Args, base: &str) -> bool {
    match args.target {
        Target::Healthz => client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .map(|r| r.status().is_success())
            .unwrap_or(false),
        Target::PaymentMethods => {
            let n = SEQ.fetch_add(1, Ordering::Relaxed);
            let body = format!(
                r#"{{"type":"us_bank_account","usBankAccount":{{"routingNumber":"121042882","accountNumber":"{:012}","accountType":"checking","holderName":"Load Test","holderType":"individual"}}}}"#,
                n
            );
            signed_post(client, args, base, "/v1/payment-methods", n, body).await
        }
        Target::Collections => {
            let n = SEQ.fetch_add(1, Ordering::Relaxed);
            let body = format!(
                r#"{{"destinationAccountId":"{}","paymentMethodId":"{}","amount":{{"currency":"USD","value":"{}"}},"authorization":{{"type":"written","obtainedAt":"2026-01-05T10:00:00Z"}}}}"#,
                args.account,
                args.payment_method,
                100 + n
            );
            signed_post(client, args, base, "/v1/collections/ach", n, body).await
        }
        Target::CollectionGet => {
            let n = SEQ.fetch_add(1, Ordering::Relaxed);
            let path = format!("/v1/collections/{}", args.collection);
            signed_get(client, args, base, &path, n).await
        }
        Target::CardSales => {
            let n = SEQ.fetch_add(1, Ordering::Relaxed);
            let body = format!(
                r#"{{"type":"sale","destinationAccountId":"{}","paymentMethodId":"{}","amount":{{"currency":"USD","value":"{}"}},"allowDuplicate":true}}"#,
                args.account,
                args.payment_method,
                100 + n
            );
            signed_post(client, args, base, "/v1/collections/card", n, body).await
        }
    }
}

#[tokio::main]
async fn main() {
    let args = Arc::new(Args::parse());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()
        .expect("client");
    let warmup_end = Instant::now() + Duration::from_secs(1);
    let end = warmup_end + Duration::from_secs(args.duration);
    let mut workers = Vec::new();
    for worker in 0..args.concurrency {
        let (client, args) = (client.clone(), args.clone());
        let base = args.url[worker % args.url.len()].clone();
        workers.push(tokio::spawn(async move {
            let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
            let (mut ok, mut failed) = (0u64, 0u64);
            loop {
                let start = Instant::now();
                if start >= end {
                    break;
                }
                let success = one_request(&client, &args, &base).await;
                if start >= warmup_end {
                    let _ = hist.record(start.elapsed().as_micros().max(1) as u64);
                    if success {
                        ok += 1;
                    } else {
                        failed += 1;
                    }
                }
            }
            (hist, ok, failed)
        }));
    }
    let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
    let (mut ok, mut failed) = (0, 0);
    for w in workers {
        let (h, o, f) = w.await.expect("worker");
        hist.add(h).expect("merge");
        ok += o;
        failed += f;
    }
    let secs = args.duration as f64;
    println!(
        "target={:?} nodes={} concurrency={} duration={}s ok={} failed={} rps={:.0} p50={:.2}ms p99={:.2}ms max={:.2}ms",
        args.target,
        args.url.len(),
        args.concurrency,
        args.duration,
        ok,
        failed,
        ok as f64 / secs,
        hist.value_at_quantile(0.50) as f64 / 1000.0,
        hist.value_at_quantile(0.99) as f64 / 1000.0,
        hist.max() as f64 / 1000.0
    );
}
