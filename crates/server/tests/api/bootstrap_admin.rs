//! The operator key made from `INFLOW_BOOTSTRAP_ADMIN_KEY` is usable: in
//! sandbox mode its generated signing secret is handed back by start-up
//! (and printed by `inflow serve`) once; in production mode start-up
//! refuses to run without `INFLOW_BOOTSTRAP_ADMIN_SIGNING_SECRET`, naming
//! it. On both backends (the key is stored), plus the binary.
//!
//! Seen to fail before the fix: the generated secret was shown nowhere
//! (start-up returned only the demo credentials, `inflow serve` printed
//! nothing), and production started with a key nobody could sign for.

use crate::support;

use inflow_core::crypto::MasterKey;
use inflow_server::config::Config;
use inflow_store::testing::TestDb;
use reqwest::StatusCode;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

on_both_backends!(the_sandbox_hands_back_the_generated_signing_secret_once,);

const KEY: &str = "ik_test_bootstrap_key_whose_secret_is_shown_0001";

fn config(db_url: &str, master_key: &str, data_dir: &std::path::Path) -> Config {
    let mut config = Config {
        database_url: Some(db_url.to_owned()),
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data_dir.to_owned(),
        master_key: Some(master_key.to_owned()),
        sandbox: true,
        bootstrap_admin_key: Some(KEY.into()),
        bootstrap_admin_signing_secret: None,
        scheduler_interval_secs: 0,
        ..Config::default()
    };
    config.webhooks.poll_interval_ms = 0;
    config
}

async fn the_sandbox_hands_back_the_generated_signing_secret_once(b: Backend) {
    let db = TestDb::new(b).await;
    let data_dir =
        std::env::temp_dir().join(format!("inflow-boot-{}", uuid::Uuid::new_v4().simple()));
    let master_key = MasterKey::generate().to_base64();
    let prepared = inflow_server::bootstrap::prepare(config(&db.url, &master_key, &data_dir))
        .await
        .expect("prepare");
    let shown = prepared
        .bootstrap
        .clone()
        .expect("bootstrap credentials handed back");
    assert!(
        prepared.demo.is_none(),
        "no demo key beside the bootstrap key"
    );
    assert_eq!(shown.api_key, KEY);
    let server = inflow_server::server::spawn(prepared.state).await.unwrap();
    let base = format!("http://{}", server.addr);
    let url = db.url.clone();
    let app = TestApp::attach(base, db, master_key.clone(), data_dir.clone());
    let creds = Creds {
        key: KEY.into(),
        secret: shown.signing_secret.clone(),
        acting_for: None,
    };
    let r = app.get(&creds, "/v1/customers?limit=1").await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "signed with the shown secret: {}",
        r.text
    );

    // A second start finds the key and shows nothing.
    let again = inflow_server::bootstrap::prepare(config(&url, &master_key, &data_dir))
        .await
        .expect("prepare again");
    assert!(again.bootstrap.is_none());
    server.shutdown().await;
}

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("inflow-{tag}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn production_refuses_a_bootstrap_key_without_its_signing_secret() {
    let dir = temp_dir("boot-prod");
    let mut child = Command::new(env!("CARGO_BIN_EXE_inflow"))
        .arg("serve")
        .current_dir(&dir)
        .env("INFLOW_SANDBOX", "false")
        .env("INFLOW_LISTEN", "127.0.0.1:0")
        .env("INFLOW_MASTER_KEY", MasterKey::generate().to_base64())
        .env(
            "INFLOW_BOOTSTRAP_ADMIN_KEY",
            "ik_live_bootstrap_key_without_secret_0001",
        )
        .env_remove("INFLOW_BOOTSTRAP_ADMIN_SIGNING_SECRET")
        .env_remove("INFLOW_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("production mode started without the bootstrap key's signing secret");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(!status.success());
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(
        err.contains("INFLOW_BOOTSTRAP_ADMIN_SIGNING_SECRET"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn inflow_serve_prints_the_bootstrap_keys_signing_secret_in_sandbox() {
    let dir = temp_dir("boot-print");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_inflow"))
        .arg("serve")
        .current_dir(&dir)
        .env("INFLOW_LISTEN", format!("127.0.0.1:{port}"))
        .env("INFLOW_BOOTSTRAP_ADMIN_KEY", KEY)
        .env_remove("INFLOW_BOOTSTRAP_ADMIN_SIGNING_SECRET")
        .env_remove("INFLOW_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Read what it prints until the secret line (or 30 s), then stop it.
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut out = String::new();
    while !out.contains("Signing secret:") && Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(out.contains("INFLOW_BOOTSTRAP_ADMIN_KEY"), "{out}");
    let secret = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("Signing secret:"))
        .map(str::trim)
        .unwrap_or_default();
    assert!(secret.len() >= 20, "a signing secret is printed: {out}");
    assert!(!out.contains(KEY), "the key itself is not echoed: {out}");
    let _ = std::fs::remove_dir_all(&dir);
}
