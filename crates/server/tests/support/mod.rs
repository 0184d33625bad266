//! `spawn_app`: a real Inflow server on a free port, on a throwaway database
//! of the requested backend, called with a real HTTP client.

#![allow(dead_code)]

pub mod ach;
pub mod card;
pub mod cli;
pub mod credits;
pub mod leaks;
pub mod ledger;
pub mod localstripe;
pub mod receiver;
pub mod reports;

use inflow_core::crypto::MasterKey;
use inflow_core::request_signature::{sign_v2, SignedRequest};
use inflow_server::config::Config;
use inflow_server::server::RunningServer;
use inflow_store::testing::{TestBackend, TestDb};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

pub use inflow_store::testing::TestBackend as Backend;

/// `on_both_backends!(name, …)`: each test once on SQLite and once on
/// PostgreSQL (`mod sqlite`, `mod postgres`), calling `name(backend)`.
pub use inflow_store::testing::on_both_backends;

pub const ADMIN_KEY: &str = "ik_test_bootstrap_admin_key_for_tests_0001";
pub const ADMIN_SECRET: &str = "iss_bootstrap_admin_signing_secret_for_tests";

pub struct TestApp {
    pub base: String,
    pub master_key: String,
    pub client: reqwest::Client,
    pub db: TestDb,
    pub data_dir: std::path::PathBuf,
    server: Option<RunningServer>,
}

/// Credentials for calling the API.
#[derive(Clone, Debug)]
pub struct Creds {
    pub key: String,
    pub secret: String,
    /// Sent as `Inflow-Customer` (operator keys acting for a customer).
    pub acting_for: Option<String>,
}

pub fn admin() -> Creds {
    Creds {
        key: ADMIN_KEY.into(),
        secret: ADMIN_SECRET.into(),
        acting_for: None,
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
    pub fn error_code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
    pub fn error_param(&self) -> Option<String> {
        self.json()["error"]["param"].as_str().map(str::to_owned)
    }
}

pub async fn spawn_app(backend: TestBackend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// [`spawn_app`] with the node's configuration adjusted by `tweak`.
pub async fn spawn_app_with(backend: TestBackend, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let db = TestDb::new(backend).await;
    let data_dir =
        std::env::temp_dir().join(format!("inflow-app-{}", uuid::Uuid::new_v4().simple()));
    let master_key = MasterKey::generate().to_base64();
    let server = start_node_with(&db.url, &master_key, &data_dir, tweak).await;
    let app = TestApp {
        base: format!("http://{}", server.addr),
        master_key,
        client: reqwest::Client::new(),
        db,
        data_dir,
        server: Some(server),
    };
    ach::start_clock_from_env(&app).await;
    app
}

/// An `inflow serve` on the given database; call twice for two nodes.
pub async fn start_node(
    db_url: &str,
    master_key: &str,
    data_dir: &std::path::Path,
) -> RunningServer {
    start_node_with(db_url, master_key, data_dir, |_| {}).await
}

/// [`start_node`] with the configuration adjusted by `tweak`.
pub async fn start_node_with(
    db_url: &str,
    master_key: &str,
    data_dir: &std::path::Path,
    tweak: impl FnOnce(&mut Config),
) -> RunningServer {
    let mut config = Config {
        database_url: Some(db_url.to_owned()),
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data_dir.to_owned(),
        master_key: Some(master_key.to_owned()),
        sandbox: true,
        bootstrap_admin_key: Some(ADMIN_KEY.into()),
        bootstrap_admin_signing_secret: Some(ADMIN_SECRET.into()),
        // Tests move time themselves (POST /v1/sandbox/clock/advance).
        scheduler_interval_secs: 0,
        ..Config::default()
    };
    // No background webhook dispatcher unless a test asks for one.
    config.webhooks.poll_interval_ms = 0;
    // No per-key rate limit unless a test asks for one (tests/api/rate_limits.rs):
    // property tests and scale tests send far more than a client would.
    config.rate_limit.requests_per_second = 0;
    tweak(&mut config);
    if !config.sandbox && config.odfi.is_empty() {
        // Production mode needs an ODFI with a transport: two local folders.
        config.odfi.push(local_odfi(data_dir));
    }
    let prepared = inflow_server::bootstrap::prepare(config)
        .await
        .expect("prepare app");
    inflow_server::server::spawn(prepared.state)
        .await
        .expect("spawn server")
}

/// An ODFI that delivers into `<data_dir>/bank/{outbound,inbound}`.
pub fn local_odfi(data_dir: &std::path::Path) -> inflow_server::odfi::OdfiSettings {
    inflow_server::odfi::OdfiSettings {
        id: "testbank".into(),
        routing_number: "121042882".into(),
        immediate_destination_name: "TEST ODFI".into(),
        immediate_origin: "1234567890".into(),
        immediate_origin_name: "INFLOW TEST".into(),
        transport: Some(inflow_server::odfi::TransportSettings::Local {
            outbound_dir: data_dir.join("bank").join("outbound"),
            inbound_dir: data_dir.join("bank").join("inbound"),
        }),
        ..Default::default()
    }
}

impl TestApp {
    /// A client for a server this test runs some other way (an `inflow
    /// serve` child process) at `base`, on `db`; [`TestApp::state`] and
    /// [`TestApp::stop`] are for in-process servers only.
    pub fn attach(
        base: String,
        db: TestDb,
        master_key: String,
        data_dir: std::path::PathBuf,
    ) -> TestApp {
        TestApp {
            base,
            master_key,
            client: reqwest::Client::new(),
            db,
            data_dir,
            server: None,
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

pub fn now_ts() -> String {
    chrono::Utc::now().timestamp().to_string()
}

/// `X-Timestamp`, a fresh `X-Nonce` and a v2 `X-Signature` for a request.
pub fn signature_headers(
    secret: &str,
    method: &str,
    path: &str,
    body: &[u8],
    idempotency_key: Option<&str>,
    customer: Option<&str>,
) -> [(&'static str, String); 3] {
    let ts = now_ts();
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let sig = sign_v2(
        secret,
        &SignedRequest {
            timestamp: &ts,
            nonce: &nonce,
            method,
            path_and_query: path,
            idempotency_key: idempotency_key.unwrap_or(""),
            customer: customer.unwrap_or(""),
            body,
        },
    );
    [
        ("x-timestamp", ts),
        ("x-nonce", nonce),
        ("x-signature", sig),
    ]
}

impl TestApp {
    /// The running server's state (store, clock, ACH settings).
    pub fn state(&self) -> &inflow_server::state::AppState {
        &self.server.as_ref().expect("the server is running").state
    }

    /// The admin listener's address, when `[metrics] listen` is set.
    pub fn metrics_addr(&self) -> Option<std::net::SocketAddr> {
        self.server.as_ref().and_then(|s| s.metrics_addr)
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown().await;
        }
    }

    /// Stop this node (its background work is aborted, as in a crash of
    /// those tasks) and start a new one on the same database and data.
    pub async fn restart_with(&mut self, tweak: impl FnOnce(&mut Config)) {
        if let Some(s) = self.server.take() {
            s.shutdown().await;
        }
        let server = start_node_with(&self.db.url, &self.master_key, &self.data_dir, tweak).await;
        self.base = format!("http://{}", server.addr);
        self.server = Some(server);
    }

    /// A raw request: no signature unless `sign` is true.
    pub async fn send(
        &self,
        creds: Option<&Creds>,
        method: Method,
        path: &str,
        body: Option<&str>,
        sign: bool,
        extra: &[(&str, &str)],
    ) -> Reply {
        let mut req = self
            .client
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(c) = creds {
            req = req.header("authorization", format!("Bearer {}", c.key));
            if let Some(cus) = &c.acting_for {
                req = req.header("inflow-customer", cus);
            }
            if sign {
                let header = |name: &str| {
                    extra
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(name))
                        .map(|(_, v)| *v)
                };
                let customer = header("inflow-customer").or(c.acting_for.as_deref());
                for (k, v) in signature_headers(
                    &c.secret,
                    method.as_str(),
                    path,
                    body.unwrap_or("").as_bytes(),
                    header("idempotency-key"),
                    customer,
                ) {
                    req = req.header(k, v);
                }
            }
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_owned());
        }
        let resp = req.send().await.expect("request");
        Reply {
            status: resp.status(),
            headers: resp.headers().clone(),
            text: resp.text().await.unwrap_or_default(),
        }
    }

    /// A signed JSON request.
    pub async fn call(
        &self,
        creds: &Creds,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let text = body.map(|b| b.to_string());
        self.send(Some(creds), method, path, text.as_deref(), true, &[])
            .await
    }

    pub async fn post(&self, creds: &Creds, path: &str, body: Value) -> Reply {
        self.call(creds, Method::POST, path, Some(body)).await
    }

    pub async fn get(&self, creds: &Creds, path: &str) -> Reply {
        self.call(creds, Method::GET, path, None).await
    }

    /// Create a business customer and a key for it; returns (customer id, its creds).
    pub async fn customer_with_key(&self, name: &str, extra: Value) -> (String, Creds) {
        let mut body = json!({"name": name, "kind": "business", "achCompanyName": "ACME", "achCompanyId": "1234567890"});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        let r = self.post(&admin(), "/v1/customers", body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let id = r.json()["id"].as_str().unwrap().to_owned();
        let k = self
            .post(
                &admin(),
                "/v1/api-keys",
                json!({"customerId": id, "name": "test"}),
            )
            .await;
        assert_eq!(k.status, StatusCode::CREATED, "{}", k.text);
        let k = k.json();
        (
            id,
            Creds {
                key: k["key"].as_str().unwrap().into(),
                secret: k["signingSecret"].as_str().unwrap().into(),
                acting_for: None,
            },
        )
    }
}

pub fn bank_pm_body(account: &str) -> Value {
    json!({
        "type": "us_bank_account",
        "usBankAccount": {
            "routingNumber": "121042882",
            "accountNumber": account,
            "accountType": "checking",
            "holderName": "Jane Doe",
            "holderType": "individual"
        }
    })
}
