//! The Stripe connector leaks nothing: the real `inflow serve` (trace
//! logging) charges and refunds a card through localstripe, and neither
//! the card number (bare or as typed), the CVC, nor the Stripe secret key
//! appears in anything it logged; the card's Stripe token is stored sealed.
//! (`tests/api/card_data_leak.rs` covers the database, events and webhooks in
//! depth with the sandbox processor; what Stripe adds to the database is
//! only the sealed token checked here.)

use crate::support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use inflow_core::crypto::MasterKey;
use inflow_store::testing::TestDb;
use reqwest::StatusCode;
use serde_json::json;
use support::card::{card_body, charge};
use support::localstripe::LocalStripe;
use support::*;

on_both_backends!(no_pan_cvc_or_stripe_key_in_the_logs_of_a_stripe_sale);

const TYPED: &str = "5555 5555 5555 4444";
const PAN: &str = "5555555555554444";
const CVC: &str = "947";
const STRIPE_KEY: &str = "sk_test_THIS_STRIPE_KEY_MUST_NOT_BE_LOGGED_42";

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn no_pan_cvc_or_stripe_key_in_the_logs_of_a_stripe_sale(b: Backend) {
    let ls = LocalStripe::start().await;
    let db = TestDb::new(b).await;
    let dir = std::env::temp_dir().join(format!(
        "inflow-stripe-leak-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let master_key = MasterKey::generate().to_base64();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = dir.join("server.log");
    let out = std::fs::File::create(&log).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_inflow"))
        .args(["--log-format", "json", "serve"])
        .current_dir(&dir)
        .env("INFLOW_LISTEN", format!("127.0.0.1:{port}"))
        .env("INFLOW_DATABASE_URL", &db.url)
        .env("INFLOW_DATA_DIR", dir.join("data"))
        .env("INFLOW_MASTER_KEY", &master_key)
        .env("INFLOW_SANDBOX", "true")
        .env("INFLOW_BOOTSTRAP_ADMIN_KEY", ADMIN_KEY)
        .env("INFLOW_BOOTSTRAP_ADMIN_SIGNING_SECRET", ADMIN_SECRET)
        .env("INFLOW_SCHEDULER_INTERVAL_SECS", "0")
        .env("INFLOW_CARDS__PROCESSOR", "stripe")
        .env("INFLOW_CARDS__STRIPE__API_BASE", &ls.url)
        .env("INFLOW_CARDS__STRIPE__SECRET_KEY", STRIPE_KEY)
        .env("RUST_LOG", "trace")
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !reqwest::get(format!("{base}/healthz"))
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(Instant::now() < deadline, "inflow serve did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let app = TestApp::attach(base, db, master_key.clone(), dir.join("data"));
    let (_, creds) = app.customer_with_key("Card shop", json!({})).await;
    let account = app
        .post(&creds, "/v1/accounts", json!({"name": "Main"}))
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let saved = app
        .post(&creds, "/v1/payment-methods", card_body(TYPED, Some(CVC)))
        .await;
    assert_eq!(saved.status, StatusCode::CREATED, "{}", saved.text);
    let pm = saved.json()["id"].as_str().unwrap().to_owned();
    let mut body = charge(&account, &pm, "sale", 2_000);
    body["cvc"] = json!(CVC);
    let sale = app.post(&creds, "/v1/collections/card", body).await;
    assert_eq!(sale.status, StatusCode::CREATED, "{}", sale.text);
    assert_eq!(sale.json()["status"], "captured");
    let id = sale.json()["id"].as_str().unwrap().to_owned();
    let refund = app
        .post(&creds, &format!("/v1/collections/{id}/refunds"), json!({}))
        .await;
    assert_eq!(refund.status, StatusCode::CREATED, "{}", refund.text);
    for text in [&saved.text, &sale.text, &refund.text] {
        assert!(!text.contains(PAN) && !text.contains(STRIPE_KEY), "{text}");
    }

    // The token is stored sealed: opened with the master key it names
    // Stripe's customer and payment method, never the card.
    let mut tx = app.db.store.read().await.unwrap();
    let sealed = tx
        .card_processor_token(&pm, "stripe")
        .await
        .unwrap()
        .expect("a token");
    drop(tx);
    assert!(
        !String::from_utf8_lossy(&sealed).contains("cus_"),
        "the token is stored in clear"
    );
    let vault = inflow_core::crypto::Vault::new(&MasterKey::from_base64(&master_key).unwrap());
    let token = String::from_utf8(vault.open(&sealed, &format!("{pm}:stripe")).unwrap()).unwrap();
    assert!(
        token.starts_with("cus_") && token.contains("/pm_"),
        "{token}"
    );

    drop(server);
    let logs = std::fs::read_to_string(&log).unwrap();
    assert!(
        logs.contains("TRACE") || logs.contains("DEBUG"),
        "verbose logging is on"
    );
    assert!(
        logs.contains("card processor: stripe"),
        "the processor is logged"
    );
    for secret in [
        PAN,
        TYPED,
        STRIPE_KEY,
        &format!("\"{CVC}\""),
        &format!("={CVC}"),
    ] {
        assert!(!logs.contains(secret), "{secret} was logged");
    }
    drop(app);
    let _ = std::fs::remove_dir_all(&dir);
}
