//! A rolling restart of two `inflow serve` processes (the real binary) on
//! one PostgreSQL database while a load client creates and reads ACH
//! collections through a load balancer: no request is lost and no
//! collection is created twice.
//!
//! The load balancer is the test's: it spreads requests over both nodes
//! and, as a proxy with retries would, sends a request that met a refused
//! or broken connection or a 503 again, to the other node, with the same
//! `Idempotency-Key` (and a fresh signature). Node A is stopped with
//! SIGTERM (it drains: stops accepting, finishes what is in flight within
//! `shutdown_grace_secs`) and started again — running the migrations, a
//! no-op here, while B serves — then the same for B.
//!
//! Both nodes run the same build: the expand-only rule that lets a new
//! release's migrations run under the old release's code is enforced by
//! `crates/store/tests/migrations_expand_contract.rs`.

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use inflow_store::testing::TestDb;
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::ach::*;
use support::*;

/// Load workers sending requests at once.
const WORKERS: usize = 4;
/// How long a request may keep being retried before it counts as lost.
const GIVE_UP: Duration = Duration::from_secs(60);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One node: where its `inflow serve` process listens, and how many
/// requests it answered successfully.
struct Node {
    name: &'static str,
    port: u16,
    served: AtomicUsize,
    /// Attempts that met a refused/broken connection or a 503 here and
    /// were sent to the other node.
    rerouted: AtomicUsize,
}

impl Node {
    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

struct Cluster {
    db_url: String,
    master_key: String,
    dir: std::path::PathBuf,
}

impl Cluster {
    fn start(&self, node: &Node) -> Child {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(format!("{}.log", node.name)))
            .unwrap();
        Command::new(env!("CARGO_BIN_EXE_inflow"))
            .arg("serve")
            .current_dir(&self.dir)
            .env("INFLOW_LISTEN", format!("127.0.0.1:{}", node.port))
            .env("INFLOW_DATABASE_URL", &self.db_url)
            .env("INFLOW_DATA_DIR", self.dir.join("data"))
            .env("INFLOW_MASTER_KEY", &self.master_key)
            .env("INFLOW_SANDBOX", "true")
            .env("INFLOW_BOOTSTRAP_ADMIN_KEY", ADMIN_KEY)
            .env("INFLOW_BOOTSTRAP_ADMIN_SIGNING_SECRET", ADMIN_SECRET)
            .env("INFLOW_SCHEDULER_INTERVAL_SECS", "0")
            .env("INFLOW_WEBHOOKS__POLL_INTERVAL_MS", "0")
            .env("INFLOW_RATE_LIMIT__REQUESTS_PER_SECOND", "0")
            .env("INFLOW_SHUTDOWN_GRACE_SECS", "20")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn inflow serve")
    }

    fn log(&self, node: &Node) -> String {
        std::fs::read_to_string(self.dir.join(format!("{}.log", node.name))).unwrap_or_default()
    }

    async fn wait_ready(&self, node: &Node, child: &mut Child, client: &reqwest::Client) {
        let started = Instant::now();
        loop {
            assert!(
                child.try_wait().unwrap().is_none(),
                "node {} exited:\n{}",
                node.name,
                self.log(node)
            );
            let r = client.get(format!("{}/readyz", node.base())).send().await;
            if r.is_ok_and(|r| r.status() == StatusCode::OK) {
                return;
            }
            assert!(started.elapsed() < Duration::from_secs(120), "not ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGTERM, and wait for a clean exit.
    async fn stop(&self, node: &Node, mut child: Child) {
        let killed = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let started = Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if started.elapsed() > Duration::from_secs(90) {
                let _ = child.kill();
                panic!("node {} did not stop:\n{}", node.name, self.log(node));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert!(status.success(), "node {} exited with {status}", node.name);
    }
}

/// What the load balancer did with one logical request.
enum Outcome {
    Done(Value),
    Lost(String),
}

/// Send a request through the "load balancer": first to node `first`,
/// then, after a refused/broken connection or a 503, to the other node
/// (the same idempotency key, a fresh signature), until a final answer.
async fn balanced(
    nodes: &[Arc<Node>; 2],
    client: &reqwest::Client,
    creds: &Creds,
    first: usize,
    (method, path, body): (&str, &str, Option<&str>),
    idempotency_key: Option<&str>,
) -> Outcome {
    let started = Instant::now();
    let mut i = first;
    let mut last = String::new();
    while started.elapsed() < GIVE_UP {
        let node = &nodes[i % 2];
        let mut req = client
            .request(method.parse().unwrap(), format!("{}{path}", node.base()))
            .bearer_auth(&creds.key);
        for (k, v) in signature_headers(
            &creds.secret,
            method,
            path,
            body.unwrap_or("").as_bytes(),
            idempotency_key,
            None,
        ) {
            req = req.header(k, v);
        }
        if let Some(key) = idempotency_key {
            req = req.header("idempotency-key", key);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_owned());
        }
        match req.send().await {
            Ok(r) if r.status().is_success() => {
                node.served.fetch_add(1, Ordering::Relaxed);
                let text = r.text().await.unwrap_or_default();
                return match serde_json::from_str(&text) {
                    Ok(v) => Outcome::Done(v),
                    Err(e) => Outcome::Lost(format!("not JSON ({e}): {text}")),
                };
            }
            // Draining or not ready: the balancer routes away.
            Ok(r) if r.status() == StatusCode::SERVICE_UNAVAILABLE => {
                last = format!("{}: 503 {}", node.name, r.text().await.unwrap_or_default());
            }
            // The same key still running on a node that was stopping.
            Ok(r) if r.status() == StatusCode::CONFLICT => {
                let text = r.text().await.unwrap_or_default();
                if !text.contains("idempotency_key_in_flight") {
                    return Outcome::Lost(format!("{}: 409 {text}", node.name));
                }
                last = format!("{}: 409 {text}", node.name);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok(r) => {
                let status = r.status();
                let text = r.text().await.unwrap_or_default();
                return Outcome::Lost(format!("{}: {status} {text}", node.name));
            }
            Err(e) => last = format!("{}: {e}", node.name),
        }
        node.rerouted.fetch_add(1, Ordering::Relaxed);
        i += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Outcome::Lost(format!("gave up after {GIVE_UP:?}; last: {last}"))
}

struct Load {
    creds: Creds,
    dest: String,
    pm: String,
}

/// One worker: create a collection, read it back, until told to stop.
/// Returns `(idempotency key, collection id)` of every acknowledged create
/// and every lost request.
async fn worker(
    w: usize,
    nodes: [Arc<Node>; 2],
    load: Arc<Load>,
    stop: Arc<AtomicBool>,
) -> (Vec<(String, String)>, Vec<String>) {
    let client = reqwest::Client::new();
    let (mut created, mut lost) = (Vec::new(), Vec::new());
    let mut n = 0usize;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let key = format!("rolling-{w}-{n}");
        let body = json!({
            "destinationAccountId": load.dest, "paymentMethodId": load.pm,
            "amount": {"currency": "USD", "value": format!("{}", 100 + n)},
            "authorization": written_authorization(),
            "allowDuplicate": true,
        })
        .to_string();
        let post = ("POST", "/v1/collections/ach", Some(body.as_str()));
        let c = match balanced(&nodes, &client, &load.creds, w + n, post, Some(&key)).await {
            Outcome::Done(c) => c,
            Outcome::Lost(why) => {
                lost.push(format!("create {key}: {why}"));
                continue;
            }
        };
        let id = c["id"].as_str().unwrap_or_default().to_owned();
        created.push((key.clone(), id.clone()));
        let path = format!("/v1/collections/{id}");
        let get = ("GET", path.as_str(), None);
        match balanced(&nodes, &client, &load.creds, w + n + 1, get, None).await {
            Outcome::Done(v) if v["id"] == id.as_str() => {}
            Outcome::Done(v) => lost.push(format!("get {id}: another object {v}")),
            Outcome::Lost(why) => lost.push(format!("get {id}: {why}")),
        }
    }
    (created, lost)
}

/// Every collection of the customer, through the first node.
async fn all_collections(app: &TestApp, creds: &Creds) -> Vec<String> {
    let mut ids = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(a) => format!("/v1/collections?limit=100&startingAfter={a}"),
            None => "/v1/collections?limit=100".to_owned(),
        };
        let page = app.get(creds, &path).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        let page = page.json();
        let data = page["data"].as_array().unwrap();
        ids.extend(data.iter().map(|c| c["id"].as_str().unwrap().to_owned()));
        if page["hasMore"] != true || data.is_empty() {
            return ids;
        }
        after = ids.last().cloned();
    }
}

/// Let the load run until `node` has served `more` further requests.
async fn serve_some(node: &Node, more: usize) {
    let target = node.served.load(Ordering::Relaxed) + more;
    let started = Instant::now();
    while node.served.load(Ordering::Relaxed) < target {
        assert!(started.elapsed() < Duration::from_secs(120), "no traffic");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_of_two_nodes_loses_no_request() {
    let db = TestDb::new(Backend::Postgres).await;
    let dir =
        std::env::temp_dir().join(format!("inflow-rolling-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let cluster = Cluster {
        db_url: db.url.clone(),
        master_key: inflow_core::crypto::MasterKey::generate().to_base64(),
        dir: dir.clone(),
    };
    let client = reqwest::Client::new();
    let nodes = ["a", "b"].map(|name| {
        Arc::new(Node {
            name,
            port: free_port(),
            served: AtomicUsize::new(0),
            rerouted: AtomicUsize::new(0),
        })
    });
    let mut children = nodes.clone().map(|n| Some(cluster.start(&n)));
    for (node, child) in nodes.iter().zip(&mut children) {
        cluster
            .wait_ready(node, child.as_mut().unwrap(), &client)
            .await;
    }

    let app = TestApp::attach(
        nodes[0].base(),
        db,
        cluster.master_key.clone(),
        dir.join("data"),
    );
    let (_, creds) = app.customer_with_key("Acme", json!({})).await;
    let load = Arc::new(Load {
        dest: destination(&app, &creds).await,
        pm: make_pm(&app, &creds, "444455556666").await,
        creds: creds.clone(),
    });

    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| tokio::spawn(worker(w, nodes.clone(), load.clone(), stop.clone())))
        .collect();

    // Both serve; then A, then B, is stopped and started again.
    serve_some(&nodes[0], 50).await;
    serve_some(&nodes[1], 50).await;
    for i in 0..2 {
        let node = &nodes[i];
        cluster.stop(node, children[i].take().unwrap()).await;
        // The other node carries the load meanwhile.
        serve_some(&nodes[1 - i], 50).await;
        let mut child = cluster.start(node);
        cluster.wait_ready(node, &mut child, &client).await;
        children[i] = Some(child);
        serve_some(node, 50).await;
    }
    serve_some(&nodes[0], 10).await;
    stop.store(true, Ordering::Relaxed);

    let mut created = Vec::new();
    let mut lost = Vec::new();
    for w in workers {
        let (c, l) = w.await.unwrap();
        created.extend(c);
        lost.extend(l);
    }
    assert!(lost.is_empty(), "lost requests:\n{}", lost.join("\n"));
    assert!(!created.is_empty());
    eprintln!("{} collections created", created.len());

    // Each acknowledged collection exists exactly once, and no other.
    let by_key: BTreeMap<&str, &str> = created
        .iter()
        .map(|(k, id)| (k.as_str(), id.as_str()))
        .collect();
    assert_eq!(
        by_key.len(),
        created.len(),
        "an idempotency key acknowledged twice"
    );
    let acknowledged: BTreeSet<&str> = by_key.values().copied().collect();
    assert_eq!(
        acknowledged.len(),
        created.len(),
        "two keys, one collection"
    );
    let stored = all_collections(&app, &creds).await;
    let stored_set: BTreeSet<&str> = stored.iter().map(String::as_str).collect();
    assert_eq!(stored.len(), stored_set.len(), "a collection listed twice");
    assert_eq!(
        stored_set, acknowledged,
        "stored collections = acknowledged ones"
    );

    for (node, child) in nodes.iter().zip(&mut children) {
        let (served, rerouted) = (
            node.served.load(Ordering::Relaxed),
            node.rerouted.load(Ordering::Relaxed),
        );
        eprintln!(
            "node {}: {served} answered, {rerouted} re-routed",
            node.name
        );
        assert!(served > 0, "node {} served nothing", node.name);
        // Each was down while the load ran: requests met it and went on.
        assert!(
            rerouted > 0,
            "nothing was re-routed from node {}",
            node.name
        );
        cluster.stop(node, child.take().unwrap()).await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}
