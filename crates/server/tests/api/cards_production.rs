//! Production mode never simulates card processing, tested with the real
//! `inflow` binary: it refuses to start with the sandbox processor, and
//! without a processor it starts with cards disabled, says so in its log,
//! and answers every card request `503 card_processing_unavailable` (on
//! both backends) — nothing is charged, nothing is saved.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use inflow_core::crypto::MasterKey;
use inflow_store::testing::TestDb;
use reqwest::StatusCode;
use serde_json::json;
use support::card::{card_body, charge};
use support::*;

on_both_backends!(production_mode_without_a_processor_answers_card_requests_503_and_says_so);

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("inflow-{tag}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn production(dir: &Path, master_key: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_inflow"));
    cmd.arg("serve")
        .current_dir(dir)
        .env("INFLOW_SANDBOX", "false")
        .env("INFLOW_MASTER_KEY", master_key)
        .env("INFLOW_DATA_DIR", dir.join("data"))
        .env("INFLOW_SCHEDULER_INTERVAL_SECS", "0")
        // Production mode needs an ODFI with a transport: two local folders.
        .env(
            "INFLOW_ODFI",
            format!(
                "[{{id=\"bank\", routing_number=\"121042882\", immediate_destination_name=\"BANK\", \
                 immediate_origin=\"1234567890\", immediate_origin_name=\"INFLOW\", \
                 transport={{kind=\"local\", outbound_dir={:?}, inbound_dir={:?}}}}}]",
                dir.join("bank-out"),
                dir.join("bank-in")
            ),
        )
        .env_remove("INFLOW_CARDS__PROCESSOR")
        .env_remove("INFLOW_DATABASE_URL")
        .stdin(Stdio::null());
    cmd
}

#[test]
fn production_mode_refuses_to_start_with_the_sandbox_card_processor() {
    let dir = temp_dir("prod-sandbox-cards");
    let log = dir.join("server.log");
    let child = production(&dir, &MasterKey::generate().to_base64())
        .env("INFLOW_LISTEN", "127.0.0.1:0")
        .env("INFLOW_CARDS__PROCESSOR", "sandbox")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "production mode started with the sandbox card processor"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success());
    let err = std::fs::read_to_string(&log).unwrap();
    assert!(
        err.contains("cards.processor = \"sandbox\" in production mode") && err.contains("stripe"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn production_mode_without_a_processor_answers_card_requests_503_and_says_so(b: Backend) {
    let db = TestDb::new(b).await;
    let dir = temp_dir("prod-no-cards");
    let master_key = MasterKey::generate().to_base64();
    let port = free_port();
    let log = dir.join("server.log");
    let out = std::fs::File::create(&log).unwrap();
    let child = production(&dir, &master_key)
        .env("INFLOW_LISTEN", format!("127.0.0.1:{port}"))
        .env("INFLOW_DATABASE_URL", &db.url)
        .env("INFLOW_BOOTSTRAP_ADMIN_KEY", ADMIN_KEY)
        .env("INFLOW_BOOTSTRAP_ADMIN_SIGNING_SECRET", ADMIN_SECRET)
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    let mut server = Server(child);
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            panic!(
                "inflow serve exited ({status}): {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        if reqwest::get(format!("{base}/healthz"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        assert!(Instant::now() < deadline, "inflow serve did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let logs = std::fs::read_to_string(&log).unwrap();
    assert!(logs.contains("card processing is DISABLED"), "{logs}");

    let app = TestApp::attach(base, db, master_key, dir.join("data"));
    let (_, creds) = app.customer_with_key("Agency", json!({})).await;
    let account = app
        .post(&creds, "/v1/accounts", json!({"name": "Main"}))
        .await;
    assert_eq!(account.status, StatusCode::CREATED, "{}", account.text);
    let account = account.json()["id"].as_str().unwrap().to_owned();
    let info = app.get(&creds, "/v1/card-processor").await;
    assert_eq!(info.json()["processor"], "none", "{}", info.text);
    assert_eq!(info.json()["enabled"], false, "{}", info.text);
    let saved = app
        .post(
            &creds,
            "/v1/payment-methods",
            card_body("4242424242424242", Some("123")),
        )
        .await;
    assert_eq!(
        saved.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        saved.text
    );
    assert_eq!(saved.error_code(), "card_processing_unavailable");
    let sale = app
        .post(
            &creds,
            "/v1/collections/card",
            charge(
                &account,
                "pm_01a2449fdf81726fb88d015029f1041f",
                "sale",
                2_500,
            ),
        )
        .await;
    assert_eq!(
        sale.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        sale.text
    );
    assert_eq!(sale.error_code(), "card_processing_unavailable");
    let listed = app.get(&creds, "/v1/payment-methods").await;
    assert_eq!(
        listed.json()["data"],
        json!([]),
        "nothing saved: {}",
        listed.text
    );
    drop(server);
}
