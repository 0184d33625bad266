//! `inflow` as an operator runs it: JSON logs, `migrate`, configuration files.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("inflow-{tag}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn http(port: u16, request: &str) -> String {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    if let Err(e) = s.read_to_end(&mut out) {
        panic!("reading the response: {e}");
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn json_logs_have_one_line_per_request_and_no_secrets() {
    let dir = temp_dir("logs");
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_inflow"))
        .args(["--log-format", "json", "serve"])
        .current_dir(&dir)
        .env("INFLOW_LISTEN", format!("127.0.0.1:{port}"))
        .env_remove("INFLOW_DATABASE_URL")
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "inflow serve did not start listening"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let ok = http(
        port,
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    let secret_key = "ik_test_THIS_KEY_MUST_NOT_BE_LOGGED_0123456789";
    let body = r#"{"type":"us_bank_account","usBankAccount":{"accountNumber":"55550000111122"}}"#;
    let denied = http(
        port,
        &format!(
            "POST /v1/payment-methods HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {secret_key}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(denied.starts_with("HTTP/1.1 401"), "{denied}");
    std::thread::sleep(Duration::from_millis(200));
    let _ = child.kill();
    let _ = child.wait();
    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();

    let lines: Vec<serde_json::Value> = logs
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON log line ({e}): {l}"))
        })
        .collect();
    let health = lines
        .iter()
        .find(|l| l["route"] == "/healthz")
        .expect("a log line for /healthz");
    assert_eq!(health["method"], "GET");
    assert_eq!(health["status"], 200);
    assert!(health["latency_ms"].is_number());
    assert!(health["request_id"].as_str().unwrap().starts_with("req_"));
    let post = lines
        .iter()
        .find(|l| l["route"] == "/v1/payment-methods")
        .expect("a log line for the POST");
    assert_eq!(post["status"], 401);
    assert!(!logs.contains(secret_key), "API key leaked into the logs");
    assert!(
        !logs.contains("55550000111122"),
        "account number leaked into the logs"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn migrate_applies_migrations_and_reports_the_backend() {
    let dir = temp_dir("migrate");
    let out = Command::new(env!("CARGO_BIN_EXE_inflow"))
        .arg("migrate")
        .current_dir(&dir)
        .env_remove("INFLOW_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "migrations applied (sqlite)"
    );
    assert!(dir.join("inflow-data/inflow.db").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_config_file_is_read_and_environment_variables_override_it() {
    let dir = temp_dir("config");
    std::fs::write(
        dir.join("custom.toml"),
        "data_dir = \"./elsewhere\"\nsandbox = true\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_inflow"))
        .args([
            "--config",
            "custom.toml",
            "customers",
            "create",
            "--name",
            "Acme",
            "--kind",
            "business",
            "--json",
        ])
        .current_dir(&dir)
        .env_remove("INFLOW_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("--json prints the customer");
    assert!(created["id"].as_str().unwrap().starts_with("cus_"));
    assert!(
        dir.join("elsewhere/inflow.db").exists(),
        "data_dir from the file"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_inflow"))
        .args(["--config", "custom.toml", "customers", "list", "--json"])
        .current_dir(&dir)
        .env("INFLOW_DATA_DIR", "./override")
        .env_remove("INFLOW_DATABASE_URL")
        .output()
        .unwrap();
    assert!(out.status.success());
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        listed.as_array().unwrap().len(),
        0,
        "the environment's data dir is a different, empty database"
    );

    let bad = Command::new(env!("CARGO_BIN_EXE_inflow"))
        .args(["--config", "custom.toml", "migrate"])
        .current_dir(&dir)
        .env("INFLOW_SANDBOX", "maybe")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr).to_lowercase();
    assert!(err.contains("sandbox") && err.contains("boolean"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn production_mode_refuses_to_start_without_a_master_key() {
    let dir = temp_dir("prod");
    let out = Command::new(env!("CARGO_BIN_EXE_inflow"))
        .arg("serve")
        .current_dir(&dir)
        .env("INFLOW_SANDBOX", "false")
        .env("INFLOW_LISTEN", "127.0.0.1:0")
        .env_remove("INFLOW_MASTER_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("INFLOW_MASTER_KEY"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn production_mode_refuses_to_start_without_an_odfi_transport_and_names_the_setting() {
    let dir = temp_dir("prod-odfi");
    let key = inflow_core::crypto::MasterKey::generate().to_base64();
    let serve = |toml: &str| {
        let cfg = dir.join("inflow.toml");
        std::fs::write(&cfg, toml).unwrap();
        Command::new(env!("CARGO_BIN_EXE_inflow"))
            .args(["--config", cfg.to_str().unwrap(), "serve"])
            .current_dir(&dir)
            .env("INFLOW_SANDBOX", "false")
            .env("INFLOW_MASTER_KEY", &key)
            .env("INFLOW_LISTEN", "127.0.0.1:0")
            .env("INFLOW_DATA_DIR", dir.join("data"))
            .env_remove("INFLOW_DATABASE_URL")
            .env_remove("INFLOW_ODFI")
            .output()
            .unwrap()
    };
    // No ODFI at all, then one without a transport.
    for toml in [
        "",
        "[[odfi]]\nid = \"firstbank\"\nrouting_number = \"121042882\"\nimmediate_destination_name = \"FIRST BANK\"\nimmediate_origin = \"1234567890\"\nimmediate_origin_name = \"ACME\"\n",
    ] {
        let out = serve(toml);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("odfi[0].transport"), "{err}");
    }
    // An SFTP transport without a pinned host key.
    let out = serve(
        "[[odfi]]\nid = \"firstbank\"\nrouting_number = \"121042882\"\nimmediate_destination_name = \"FIRST BANK\"\nimmediate_origin = \"1234567890\"\nimmediate_origin_name = \"ACME\"\n\
         [odfi.transport]\nkind = \"sftp\"\nhost = \"sftp.example.com\"\nuser = \"acme\"\npassword = \"env:ACME_SFTP_PASSWORD\"\n",
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("odfi[0].transport.known_hosts"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
