//! Secrets stay sealed everywhere, on SQLite and PostgreSQL, with the real
//! `inflow serve` binary (its umask, the files it creates itself):
//!
//! * a debit from the sandbox bank's C01 account gets a notification of
//!   change; its corrected account number appears nowhere — not in any row
//!   of any table (nor, on SQLite, in the raw bytes of the database file,
//!   its WAL and shm), not in `GET /v1/collections`, `GET /v1/events`, a
//!   delivered webhook body or the server's debug log — and the collection
//!   shows it as `****0001` with the corrected payment method's fingerprint;
//! * everything under the data directory (master key, demo credentials,
//!   the SQLite files, outbound NACHA files, the bank's processed NOC file)
//!   is `0600`, every folder `0700`.
//!
//! Seen to fail before the fix: the corrected data was stored and shown in
//! clear, and the folders were 0755 and the files 0644.

use crate::support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use inflow_store::testing::TestDb;
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::ach::{collect, destination, make_pm};
use support::leaks::{entries_under, every_row, leaks, row_leaks, sqlite_files};
use support::receiver::Receiver;
use support::*;

on_both_backends!(
    noc_account_numbers_stay_sealed_and_the_data_dir_is_private,
    migrate_seals_what_an_older_version_left_in_clear_and_tightens_the_data_dir,
);

/// The sandbox bank answers a debit from this account with a C01 …
const OLD_ACCOUNT: &str = "9999100001";
/// … whose corrected account number is this.
const NEW_ACCOUNT: &str = "7777100001";

/// `inflow serve` as a child process; killed when dropped.
struct Server {
    child: Child,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Start `inflow serve` with its data in `<dir>/data`: no master key and no
/// bootstrap key given, so it generates both files; SQLite in the data
/// directory unless `db_url` names a PostgreSQL database.
async fn serve(db_url: Option<&str>, dir: &Path) -> (Server, String) {
    let port = free_port();
    let log = dir.join("server.log");
    let out = std::fs::File::create(&log).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_inflow"));
    cmd.args(["--log-format", "json", "serve"])
        .current_dir(dir)
        .env("INFLOW_LISTEN", format!("127.0.0.1:{port}"))
        .env("INFLOW_DATA_DIR", dir.join("data"))
        .env("INFLOW_SANDBOX", "true")
        .env("INFLOW_SCHEDULER_INTERVAL_SECS", "0")
        .env("INFLOW_WEBHOOKS__POLL_INTERVAL_MS", "100")
        .env("RUST_LOG", "debug")
        .env_remove("INFLOW_MASTER_KEY")
        .env_remove("INFLOW_BOOTSTRAP_ADMIN_KEY")
        .env_remove("INFLOW_BOOTSTRAP_ADMIN_SIGNING_SECRET")
        .env_remove("INFLOW_DATABASE_URL")
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .stdin(Stdio::null());
    if let Some(url) = db_url {
        cmd.env("INFLOW_DATABASE_URL", url);
    }
    let mut server = Server {
        child: cmd.spawn().expect("spawn inflow serve"),
        log,
    };
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            panic!(
                "inflow serve exited ({status}):\n{}",
                std::fs::read_to_string(&server.log).unwrap_or_default()
            );
        }
        let up = reqwest::get(format!("{base}/healthz"))
            .await
            .is_ok_and(|r| r.status().is_success());
        if up {
            return (server, base);
        }
        assert!(Instant::now() < deadline, "inflow serve did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The demo operator key the sandbox wrote into the data directory.
fn demo_admin(data: &Path) -> Creds {
    let text = std::fs::read_to_string(data.join("demo-credentials.json")).unwrap();
    let demo: Value = serde_json::from_str(&text).unwrap();
    Creds {
        key: demo["apiKey"].as_str().unwrap().into(),
        secret: demo["signingSecret"].as_str().unwrap().into(),
        acting_for: None,
    }
}

/// A customer and its key, made with the operator's `admin` key.
async fn customer(app: &TestApp, admin: &Creds) -> Creds {
    let c = app
        .post(
            admin,
            "/v1/customers",
            json!({"name": "Acme", "kind": "business", "achCompanyName": "ACME",
                "achCompanyId": "1234567890"}),
        )
        .await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.text);
    let body = json!({"customerId": c.json()["id"], "name": "test"});
    let k = app.post(admin, "/v1/api-keys", body).await;
    assert_eq!(k.status, StatusCode::CREATED, "{}", k.text);
    let k = k.json();
    Creds {
        key: k["key"].as_str().unwrap().into(),
        secret: k["signingSecret"].as_str().unwrap().into(),
        acting_for: None,
    }
}

/// Days pass (a day at a time) until collection `id` has a NOC.
async fn until_noc(app: &TestApp, admin: &Creds, creds: &Creds, id: &str) -> Value {
    for _ in 0..20 {
        let c = app
            .get(creds, &format!("/v1/collections/{id}"))
            .await
            .json();
        if !c["noc"].is_null() {
            return c;
        }
        let r = app
            .post(admin, "/v1/sandbox/clock/advance", json!({"days": 1}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    panic!("no NOC for {id} after 20 days");
}

/// Every page of `/v1/events`, as one text per event.
async fn all_events(app: &TestApp, creds: &Creds) -> Vec<String> {
    let (mut out, mut cursor) = (Vec::new(), String::new());
    loop {
        let mut path = "/v1/events?limit=10".to_owned();
        if !cursor.is_empty() {
            path.push_str(&format!("&startingAfter={cursor}"));
        }
        let page = app.get(creds, &path).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        let page = page.json();
        out.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(Value::to_string),
        );
        match page["nextCursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => return out,
        }
    }
}

/// Files not `0600` and folders not `0700` under (and including) `data`.
fn open_modes(data: &Path) -> Vec<String> {
    let mut wrong = Vec::new();
    for p in std::iter::once(data.to_owned()).chain(entries_under(data)) {
        let meta = std::fs::symlink_metadata(&p).unwrap();
        let mode = meta.permissions().mode() & 0o777;
        let want = if meta.is_dir() { 0o700 } else { 0o600 };
        if mode != want {
            wrong.push(format!("{} is {mode:o}, not {want:o}", p.display()));
        }
    }
    wrong
}

async fn noc_account_numbers_stay_sealed_and_the_data_dir_is_private(b: Backend) {
    let db = TestDb::new(b).await;
    let dir =
        std::env::temp_dir().join(format!("inflow-secrets-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("data");
    let pg_url = (b == Backend::Postgres).then(|| db.url.clone());
    let db_url = pg_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", data.join("inflow.db").display()));
    let (server, base) = serve(pg_url.as_deref(), &dir).await;
    let master_key = std::fs::read_to_string(data.join("master.key")).unwrap();
    let app = TestApp::attach(base, db, master_key, dir.clone());
    let admin = demo_admin(&data);

    let creds = customer(&app, &admin).await;
    let receiver = Receiver::start().await;
    let endpoint = json!({"url": receiver.url, "enabledEvents": "*"});
    let r = app.post(&creds, "/v1/webhook-endpoints", endpoint).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let dest = destination(&app, &creds).await;
    let pm = make_pm(&app, &creds, OLD_ACCOUNT).await;
    let id = collect(&app, &creds, &dest, &pm, "9000", json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // The cutoff files the debit; the sandbox bank answers with a C01.
    let c = until_noc(&app, &admin, &creds, &id).await;
    let pm_view = app
        .get(&creds, &format!("/v1/payment-methods/{pm}"))
        .await
        .json();
    receiver
        .wait_for(60, "the NOC's webhook", |log| {
            log.iter().any(|r| {
                r.acknowledged()
                    && r.object_id == id
                    && !r.json()["data"]["object"]["noc"].is_null()
            })
        })
        .await;

    let secrets = [NEW_ACCOUNT, OLD_ACCOUNT];
    let mut found = Vec::new();
    // The API: the collection, the list, every event; every webhook body.
    for path in [
        format!("/v1/collections/{id}"),
        "/v1/collections".to_owned(),
    ] {
        found.extend(leaks(
            &path,
            app.get(&creds, &path).await.text.as_bytes(),
            &secrets,
        ));
    }
    for (who, creds) in [("customer", &creds), ("operator", &admin)] {
        for e in all_events(&app, creds).await {
            found.extend(leaks(&format!("event ({who})"), e.as_bytes(), &secrets));
        }
    }
    for r in receiver.log() {
        found.extend(leaks(&format!("webhook {}", r.event_id), &r.body, &secrets));
    }

    // The data directory, while the server runs (so SQLite has its WAL).
    assert!(
        data.join("ach/inbound/processed")
            .read_dir()
            .unwrap()
            .next()
            .is_some(),
        "the NOC file is processed"
    );
    assert!(
        data.join("ach/outbound")
            .read_dir()
            .unwrap()
            .next()
            .is_some(),
        "a NACHA file was written"
    );
    let mut expected = vec!["master.key", "demo-credentials.json"];
    if b == Backend::Sqlite {
        expected.extend(["inflow.db", "inflow.db-wal", "inflow.db-shm"]);
        for (path, bytes) in sqlite_files(&data.join("inflow.db")) {
            found.extend(leaks(&path.display().to_string(), &bytes, &secrets));
        }
    }
    for name in expected {
        assert!(data.join(name).exists(), "{name} is in the data directory");
    }
    let wrong = open_modes(&data);

    // Every row of every table.
    for (table, row) in every_row(&db_url).await {
        found.extend(row_leaks(&format!("table {table}"), &row, &secrets));
    }
    // Everything the server logged.
    let log = server.log.clone();
    drop(server);
    found.extend(leaks("server log", &std::fs::read(&log).unwrap(), &secrets));

    assert!(
        found.is_empty(),
        "account numbers leaked:\n{}",
        found.join("\n")
    );
    // The collection shows the corrected account masked, with the corrected
    // payment method's fingerprint.
    let noc = &c["noc"];
    assert_eq!(noc["code"], "C01", "{c}");
    assert_eq!(noc["correctedData"], "****0001", "{noc}");
    let account = &noc["correction"]["accountNumber"];
    assert_eq!(
        (account["last4"].as_str(), account["masked"].as_str()),
        (Some("0001"), Some("****0001"))
    );
    assert_eq!(
        account["fingerprint"], pm_view["usBankAccount"]["fingerprint"],
        "{noc} {pm_view}"
    );
    assert!(
        wrong.is_empty(),
        "the data directory is readable by others:\n{}",
        wrong.join("\n")
    );
}

/// `inflow migrate` with its data in `data` (and `db_url` if PostgreSQL); stdout.
fn migrate(dir: &Path, db_url: Option<&str>) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_inflow"));
    cmd.arg("migrate")
        .current_dir(dir)
        .env("INFLOW_DATA_DIR", dir.join("data"))
        .env("INFLOW_SANDBOX", "true")
        .env_remove("INFLOW_MASTER_KEY")
        .env_remove("INFLOW_DATABASE_URL");
    if let Some(url) = db_url {
        cmd.env("INFLOW_DATABASE_URL", url);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// What a version before migration 0012 left: an unmatched C01 entry with
/// its corrected data in clear, folders 0755 and files 0644.
async fn leave_old_state(db_url: &str, data: &Path) -> String {
    use inflow_store::repo::returns::{AchReturn, InboundFile};
    let store = inflow_store::Store::connect(db_url).await.unwrap();
    let now = chrono::Utc::now();
    let file = InboundFile {
        id: format!("fil_{}", inflow_core::ids::new_id_body(now)),
        status: "processed".into(),
        file_name: "noc.ach".into(),
        creation_date: now.date_naive(),
        batch_count: 1,
        entry_count: 1,
        total_debit: 0,
        total_credit: 0,
        sha256: "11".repeat(32),
        summary: None,
        created_at: now,
    };
    let entry = AchReturn {
        id: inflow_core::ids::ReturnId::generate(now),
        inbound_file_id: file.id.clone(),
        kind: "noc".into(),
        code: "C01".into(),
        original_trace: "121042880000099".into(),
        entry_trace: "231380100000099".into(),
        amount: 0,
        corrected_data: Some(NEW_ACCOUNT.into()),
        corrected_data_sealed: None,
        collection_id: None,
        matched: false,
        created_at: now,
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_inbound_file(&file).await.unwrap();
    tx.insert_ach_return(&entry).await.unwrap();
    tx.commit().await.unwrap();
    store.close().await;
    let processed = data.join("ach/inbound/processed");
    std::fs::create_dir_all(&processed).unwrap();
    std::fs::write(processed.join("old-noc.ach"), NEW_ACCOUNT).unwrap();
    for p in std::iter::once(data.to_owned()).chain(entries_under(data)) {
        let mode = if p.is_dir() { 0o755 } else { 0o644 };
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    file.id
}

async fn migrate_seals_what_an_older_version_left_in_clear_and_tightens_the_data_dir(b: Backend) {
    use inflow_core::crypto::{MasterKey, Vault};
    let db = TestDb::new(b).await;
    let dir =
        std::env::temp_dir().join(format!("inflow-migrate-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("data");
    let pg_url = (b == Backend::Postgres).then(|| db.url.clone());
    let db_url = pg_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", data.join("inflow.db").display()));
    assert!(!migrate(&dir, pg_url.as_deref()).contains("sealed"));
    let file_id = leave_old_state(&db_url, &data).await;

    let out = migrate(&dir, pg_url.as_deref());
    assert!(
        out.contains("sealed 1 row(s) of NOC corrected data"),
        "{out}"
    );
    assert_eq!(open_modes(&data), Vec::<String>::new());
    let key = std::fs::read_to_string(data.join("master.key")).unwrap();
    let vault = Vault::new(&MasterKey::from_base64(&key).unwrap());
    let store = inflow_store::Store::connect(&db_url).await.unwrap();
    let mut tx = store.read().await.unwrap();
    let entries = tx.ach_returns_of_file(&file_id).await.unwrap();
    tx.rollback().await.unwrap();
    store.close().await;
    assert_eq!(entries[0].corrected_data.as_deref(), Some("****0001"));
    let context = inflow_core::noc::return_seal_context(entries[0].id.as_str());
    let sealed = entries[0].corrected_data_sealed.as_deref().unwrap();
    assert_eq!(
        vault.open(sealed, &context).unwrap(),
        NEW_ACCOUNT.as_bytes()
    );

    assert!(!migrate(&dir, pg_url.as_deref()).contains("sealed"), "once");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_shape_of_a_secret_is_found_in_text_and_in_binary_values() {
    use base64::Engine;
    let secret = "7777100001";
    for hay in [
        format!("noc {secret}"),
        format!("(col_1,\\\\x{},x)", hex::encode(secret)),
        format!("X'{}'", hex::encode_upper(format!("a{secret}b"))),
    ] {
        assert!(!row_leaks("t", &hay, &[secret]).is_empty(), "{hay}");
    }
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("{{\"n\":\"{secret}\"}}"));
    assert!(!leaks("t", b64.as_bytes(), &[secret]).is_empty());
    assert!(row_leaks("t", "****0001 X'01ff' \\x00", &[secret]).is_empty());
}
