//! `inflow config check`: a good production configuration passes (exit 0)
//! and no secret of it appears in the output; each bad one exits non-zero
//! naming its problem; warnings alone exit 0.

use crate::support;

use inflow_core::crypto::MasterKey;
use inflow_store::testing::TestDb;
use serde_json::Value;
use std::path::{Path, PathBuf};
use support::cli::{free_port, inflow, Run};
use support::Backend;

const ADMIN_KEY: &str = "ik_live_ConfigCheckAdminKeySecret0001";
const SIGNING_SECRET: &str = "iss_ConfigCheckSigningSecret0002";
const STRIPE_KEY: &str = "sk_live_ConfigCheckStripeSecret0003";
const STRIPE_WEBHOOK: &str = "whsec_ConfigCheckWebhookSecret0004";
const DB_PASSWORD: &str = "ConfigCheckDbPassword0005";

fn scratch() -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("inflow-cfgcheck-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A production configuration file with a local-folder ODFI and Stripe.
fn production_toml(dir: &Path, listen: &str, metrics: &str) -> PathBuf {
    let file = dir.join("inflow.toml");
    let text = format!(
        r#"sandbox = false
listen = "{listen}"
data_dir = "{data}"
bootstrap_admin_key = "{ADMIN_KEY}"
bootstrap_admin_signing_secret = "{SIGNING_SECRET}"

[metrics]
listen = "{metrics}"

[cards]
processor = "stripe"
[cards.stripe]
secret_key = "{STRIPE_KEY}"
webhook_secret = "{STRIPE_WEBHOOK}"

[[odfi]]
id = "bank"
routing_number = "121042882"
immediate_destination_name = "TEST ODFI"
immediate_origin = "1234567890"
immediate_origin_name = "INFLOW TEST"
[odfi.transport]
kind = "local"
outbound_dir = "{data}/bank/outbound"
inbound_dir = "{data}/bank/inbound"
"#,
        data = dir.join("data").display(),
    );
    std::fs::write(&file, text).unwrap();
    file
}

fn local(port: u16) -> String {
    format!("127.0.0.1:{port}")
}

fn check(args: &[&str], envs: &[(&str, &str)]) -> (Run, Value) {
    let mut all = vec!["config", "check", "--json"];
    all.extend(args);
    let run = inflow(&all, envs);
    let json = serde_json::from_str(&run.stdout).unwrap_or(Value::Null);
    (run, json)
}

/// The checks named by the problems of `severity`.
fn named(json: &Value, severity: &str) -> Vec<String> {
    json["problems"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|p| p["severity"] == severity)
                .map(|p| p["check"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_production_configuration_passes_and_shows_no_secret() {
    let db = TestDb::new(Backend::Postgres).await;
    let url = db
        .url
        .replacen("postgres@", &format!("postgres:{DB_PASSWORD}@"), 1);
    let dir = scratch();
    let file = production_toml(&dir, &local(free_port()), &local(free_port()));
    let master = MasterKey::generate().to_base64();
    let envs = [
        ("INFLOW_MASTER_KEY", master.as_str()),
        ("INFLOW_DATABASE_URL", url.as_str()),
    ];
    let cfg = file.to_str().unwrap();
    let (run, json) = check(&["--config", cfg], &envs);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(json["errors"], 0, "{json:#}");
    assert_eq!(json["configuration"]["sandbox"], false, "{json:#}");
    let text = inflow(&["config", "check", "--config", cfg], &envs);
    assert_eq!(text.code, 0, "{}", text.all());
    assert!(
        text.stdout.contains("master_key = \"********\""),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains("odfi[0].routing_number = \"121042882\""),
        "{}",
        text.stdout
    );
    for out in [run.all(), text.all()] {
        for secret in [
            master.as_str(),
            ADMIN_KEY,
            SIGNING_SECRET,
            STRIPE_KEY,
            STRIPE_WEBHOOK,
            DB_PASSWORD,
        ] {
            assert!(
                !out.contains(secret),
                "{secret} appears in the output:\n{out}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Run the check on the good configuration changed by `envs`; it must
/// fail naming `expected`.
fn assert_error(dir: &Path, file: &Path, envs: &[(&str, &str)], expected: &str, words: &str) {
    let master = MasterKey::generate().to_base64();
    let db = format!("sqlite://{}", dir.join("absent.db").display());
    let mut all = vec![
        ("INFLOW_MASTER_KEY", master.as_str()),
        ("INFLOW_DATABASE_URL", db.as_str()),
    ];
    all.extend(envs);
    let (run, json) = check(&["--config", file.to_str().unwrap()], &all);
    assert_eq!(run.code, 1, "{envs:?}: {}", run.all());
    assert!(
        named(&json, "error").iter().any(|c| c == expected),
        "{envs:?}: expected {expected}: {json:#}"
    );
    assert!(
        run.stdout.contains(words),
        "{envs:?}: expected {words:?}: {json:#}"
    );
}

#[test]
fn each_bad_configuration_fails_naming_its_problem() {
    let dir = scratch();
    let file = production_toml(&dir, &local(free_port()), &local(free_port()));
    let unreachable = "postgres://postgres:pw@127.0.0.1:1/nothing";
    assert_error(
        &dir,
        &file,
        &[("INFLOW_DATABASE_URL", unreachable)],
        "database",
        "unreachable",
    );
    assert_error(
        &dir,
        &file,
        &[("INFLOW_ODFI", "[]")],
        "odfi",
        "needs an ODFI",
    );
    let weak = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    assert_error(
        &dir,
        &file,
        &[("INFLOW_MASTER_KEY", weak)],
        "master_key",
        "weak",
    );
    assert_error(
        &dir,
        &file,
        &[("INFLOW_CARDS__PROCESSOR", "sandbox")],
        "cards",
        "moves no money",
    );
    let port = free_port();
    let same = [
        ("INFLOW_LISTEN", local(port)),
        ("INFLOW_METRICS__LISTEN", local(port)),
    ];
    let same: Vec<(&str, &str)> = same.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_error(&dir, &file, &same, "listen", "same address");
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_addr = busy.local_addr().unwrap().to_string();
    assert_error(
        &dir,
        &file,
        &[("INFLOW_LISTEN", busy_addr.as_str())],
        "listen",
        "cannot be bound",
    );
    let not_a_folder = dir.join("a-file");
    std::fs::write(&not_a_folder, b"x").unwrap();
    let data = not_a_folder.to_str().unwrap();
    assert_error(
        &dir,
        &file,
        &[("INFLOW_DATA_DIR", data)],
        "directories",
        "not a folder",
    );
    drop(busy);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_ahead_of_this_build_is_an_error_and_warnings_alone_exit_zero() {
    let db = TestDb::new(Backend::Sqlite).await;
    let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
    sqlx::query("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (99999, 'future', 1, x'00', 0)")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let dir = scratch();
    let data = dir.join("data");
    let envs = [
        ("INFLOW_DATABASE_URL", db.url.as_str()),
        ("INFLOW_DATA_DIR", data.to_str().unwrap()),
        ("INFLOW_LISTEN", "127.0.0.1:0"),
    ];
    let (run, json) = check(&[], &envs);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        named(&json, "error").contains(&"migrations".to_owned()),
        "{json:#}"
    );
    assert!(run.stdout.contains("newer Inflow"), "{json:#}");

    // A sandbox with nothing created yet: warnings (no database, no master key), exit 0.
    let (run, json) = check(
        &[],
        &[
            ("INFLOW_DATA_DIR", data.to_str().unwrap()),
            ("INFLOW_LISTEN", "127.0.0.1:0"),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.all());
    let warned = named(&json, "warning");
    assert!(
        warned.contains(&"database".to_owned()) && warned.contains(&"master_key".to_owned()),
        "{json:#}"
    );
    assert!(
        !data.join("inflow.db").exists() && !data.join("master.key").exists(),
        "config check created files"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
