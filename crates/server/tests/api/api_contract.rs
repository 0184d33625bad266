//! The API contract, proven by an independent fuzzer: schemathesis (pinned,
//! installed by `scripts/ensure-schemathesis.sh`) runs every operation of
//! `/openapi.json` against a real `inflow serve` on SQLite, every request
//! signed, once as a customer and once as the operator acting for it, with
//! `--checks all` (status codes, response schemas, positive and negative
//! data, missing headers, authentication). Zero failures is the bar.
//! `scripts/schemathesis/schemathesis.toml` lists, with reasons, the rules
//! JSON Schema cannot state.
//!
//! And a Python client generated from the same document by
//! openapi-python-client (pinned) runs the README walk-through's main steps,
//! with only the request signing written by hand.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
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

/// A sandbox `inflow serve` in a fresh directory; its data dir is `dir/inflow-data`.
fn serve(dir: &Path) -> (Server, String) {
    let port = free_port();
    let server = Server(
        Command::new(env!("CARGO_BIN_EXE_inflow"))
            .arg("serve")
            .current_dir(dir)
            .env("INFLOW_LISTEN", format!("127.0.0.1:{port}"))
            .env_remove("INFLOW_DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "inflow serve did not start listening"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (server, format!("http://127.0.0.1:{port}"))
}

fn run_schemathesis(extra: &str) -> Output {
    let dir =
        std::env::temp_dir().join(format!("inflow-contract-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let (_server, base) = serve(&dir);
    Command::new("bash")
        .arg(repo_root().join("scripts/schemathesis/run.sh"))
        .arg(&base)
        .arg("./inflow-data")
        .current_dir(&dir)
        .env("INFLOW_BIN", env!("CARGO_BIN_EXE_inflow"))
        .env("INFLOW_ST_EXTRA", extra)
        .output()
        .unwrap()
}

#[test]
fn schemathesis_finds_no_failure_as_a_customer_or_as_the_operator() {
    let out = run_schemathesis("");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "schemathesis found failures\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    for role in ["customer", "operator"] {
        assert!(
            stdout.contains(&format!("schemathesis as {role}")),
            "{stdout}"
        );
    }
    // Every operation of the document but the one run.sh excludes
    // (POST /v1/api-keys/{id}/revoke), once per role.
    let doc = serde_json::to_value(inflow_server::api::openapi()).unwrap();
    let operations: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|k| *k != "parameters")
                .count()
        })
        .sum();
    let tested: Vec<usize> = stdout
        .split("Tested: ")
        .skip(1)
        .filter_map(|rest| {
            let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
            digits.parse().ok()
        })
        .collect();
    assert_eq!(
        tested.iter().filter(|&&n| n == operations - 1).count(),
        2,
        "every one of the {} operations tested twice (found {tested:?})\n{stdout}",
        operations - 1
    );
}

#[test]
fn a_schemathesis_run_that_tests_nothing_fails() {
    let out = run_schemathesis("--include-path /no/such/operation");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("tested no operation"), "{stderr}");
}

fn cli(dir: &Path, args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_inflow"))
        .args(args)
        .current_dir(dir)
        .env_remove("INFLOW_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "inflow {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_client_generated_from_the_spec_runs_the_walkthrough() {
    let dir =
        std::env::temp_dir().join(format!("inflow-pyclient-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let (_server, base) = serve(&dir);
    let customer = cli(
        &dir,
        &[
            "customers",
            "create",
            "--name",
            "Generated Client Co",
            "--kind",
            "business",
            "--ach-company-name",
            "GENERATED CO",
            "--ach-company-id",
            "1234567890",
            "--json",
        ],
    );
    let id = customer["id"].as_str().unwrap();
    let key = cli(
        &dir,
        &[
            "api-keys",
            "create",
            "--customer",
            id,
            "--name",
            "python",
            "--json",
        ],
    );
    let out = Command::new("bash")
        .arg(repo_root().join("scripts/generated-client/run.sh"))
        .arg(&base)
        .arg(key["key"].as_str().unwrap())
        .arg(key["signingSecret"].as_str().unwrap())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    for step in [
        "ACH debit: 201",
        "cancel: 200",
        "list cancelled ACH collections: 200",
        "card sale: 201",
        "refund: 201",
    ] {
        assert!(stdout.contains(step), "{step}\n{stdout}");
    }
    assert!(
        stdout.contains("generated client walk-through: ok"),
        "{stdout}"
    );
}
