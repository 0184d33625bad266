//! Crash test of the delivery job and the inbound pickup: `inflow serve`
//! (a child process, sandbox clock, an SFTP ODFI on a real OpenSSH server)
//! is killed with SIGKILL while it uploads a file or applies a file the
//! bank left, then restarted, on SQLite and on PostgreSQL.
//!
//! Each round creates a debit (an R01 account) over HTTP and asks for a
//! cutoff, which uploads the file at once. The process is killed just
//! after the file appears under its final name on the server (so mostly
//! after the upload and before its outcome is committed) or a random few
//! milliseconds after the database shows the attempt started (during the
//! upload). Then the bank's return for that file is dropped in the inbound
//! directory and a poll is asked for; the process is killed a random
//! delay after the request (before or after the download, before the
//! apply), just after the return is applied (before the remote file is
//! moved), or as soon as the file has left the inbound directory. After each kill the server is restarted and one scheduler tick
//! runs (sandbox clock + 1 minute). Then:
//!
//! 1. every outbound file is `uploaded`, with exactly one
//!    `ach_file.uploaded` event; the server's outbound directory holds
//!    exactly those files, each with the bytes Inflow shows, and nothing
//!    half-written;
//! 2. every return was applied exactly once (the collection is `returned`
//!    with one `collection.returned` event) and nothing is left in the
//!    inbound directory.
//!
//! Where each kill landed (read from the database before the restart) is
//! printed, not asserted. The seed is printed; `INFLOW_CRASH_SEED` replays
//! the same choices (not the same timing).

use crate::support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use inflow_bank::testing::sshd::{TestSshd, TEST_USER};
use inflow_bank::SftpAuth;
use inflow_core::bank::RoutingNumber;
use inflow_core::calendar::{BankingCalendar, CutoffSchedule};
use inflow_core::crypto::MasterKey;
use inflow_engine::config::AchConfig;
use inflow_store::testing::TestDb;
use serde_json::json;
use support::ach::*;
use support::*;

on_both_backends!(uploads_and_pickups_killed_with_sigkill_end_exactly_once);

const ROUNDS: u64 = 6;

/// splitmix64: seeded choices of delays and trigger points.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n.max(1)
    }
}

struct Node {
    child: Option<Child>,
    dir: PathBuf,
    env_odfi: String,
    log: PathBuf,
}

impl Node {
    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Start `inflow serve` and wait for `/healthz`; returns its base URL.
    async fn start(&mut self, db_url: &str, master_key: &str) -> String {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_inflow"))
            .arg("serve")
            .current_dir(&self.dir)
            .env("INFLOW_LISTEN", format!("127.0.0.1:{port}"))
            .env("INFLOW_DATABASE_URL", db_url)
            .env("INFLOW_DATA_DIR", self.data_dir())
            .env("INFLOW_MASTER_KEY", master_key)
            .env("INFLOW_SANDBOX", "true")
            .env("INFLOW_BOOTSTRAP_ADMIN_KEY", ADMIN_KEY)
            .env("INFLOW_BOOTSTRAP_ADMIN_SIGNING_SECRET", ADMIN_SECRET)
            .env("INFLOW_SCHEDULER_INTERVAL_SECS", "0")
            .env("INFLOW_WEBHOOKS__POLL_INTERVAL_MS", "0")
            .env("INFLOW_ODFI", &self.env_odfi)
            .env("RUST_LOG", "info")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn inflow serve");
        self.child = Some(child);
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!(
                    "inflow serve exited during start-up ({status}):\n{}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            let up = client
                .get(format!("{base}/healthz"))
                .timeout(Duration::from_secs(5))
                .send()
                .await
                .map(|r| r.status().is_success())
                .unwrap_or(false);
            if up {
                return base;
            }
            assert!(Instant::now() < deadline, "inflow serve did not come up");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL");
            child.wait().unwrap();
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The `[[odfi]]` list for the environment: `server`, key in `key_file`.
fn odfi_env(server: &TestSshd, key_file: &Path) -> String {
    format!(
        "[{{id=\"firstbank\", routing_number=\"121042882\", immediate_destination_name=\"FIRST BANK\", \
         immediate_origin=\"1234567890\", immediate_origin_name=\"INFLOW TEST\", \
         transport={{kind=\"sftp\", host=\"127.0.0.1\", port={}, user=\"{TEST_USER}\", \
         private_key=\"file:{}\", known_hosts=\"{}\", outbound_dir=\"/outbound\", \
         inbound_dir=\"/inbound\", after_pickup=\"move:processed\", verify_sha256=true, timeout_secs=10}}, \
         retry={{max_attempts=10, initial_backoff_secs=1, max_backoff_secs=1}}}}]",
        server.port(),
        key_file.display(),
        server.known_hosts_line()
    )
}

/// What the sandbox bank's answers need (the calendar; the routing numbers
/// go into the return file's header).
fn answer_config() -> AchConfig {
    AchConfig {
        immediate_destination: RoutingNumber::parse("x", "121042882").unwrap(),
        immediate_destination_name: "FIRST BANK".into(),
        immediate_origin: "1234567890".into(),
        immediate_origin_name: "INFLOW TEST".into(),
        odfi_routing: RoutingNumber::parse("x", "121042882").unwrap(),
        outbound_dir: PathBuf::from("unused"),
        inbound_dir: PathBuf::from("unused"),
        good_funds_banking_days: 2,
        prenote_wait_banking_days: 3,
        calendar: BankingCalendar::federal_reserve(),
        cutoffs: CutoffSchedule::default(),
        effective_date_horizon_days: 365,
        sandbox_bank: false,
        max_entries_per_file: 100,
        debit_limits: Default::default(),
        file_rules: Default::default(),
        odfis: Vec::new(),
    }
}

/// Final names (not starting with `.`) and leftovers in a server directory.
fn remote_files(server: &TestSshd, dir: &str) -> (Vec<String>, Vec<String>) {
    let mut finals = Vec::new();
    let mut partial = Vec::new();
    for e in std::fs::read_dir(server.path(dir)).unwrap() {
        let e = e.unwrap();
        if !e.file_type().unwrap().is_file() {
            continue;
        }
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            partial.push(name);
        } else {
            finals.push(name);
        }
    }
    finals.sort();
    (finals, partial)
}

async fn event_count(app: &TestApp, object: &str, event_type: &str) -> usize {
    let mut tx = app.db.store.read().await.unwrap();
    let n = tx
        .events_for_object(object)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event_type == event_type)
        .count();
    tx.rollback().await.unwrap();
    n
}

/// Delivery state of every outbound file, by id.
async fn deliveries(app: &TestApp) -> BTreeMap<String, (String, String)> {
    let mut tx = app.db.store.read().await.unwrap();
    let files = tx
        .list_ach_files(Some("outbound"), &inflow_store::ListQuery::first(200))
        .await
        .unwrap();
    let mut out = BTreeMap::new();
    for f in files.data {
        let d = tx.get_ach_file_delivery(&f.id).await.unwrap().unwrap();
        out.insert(f.id.clone(), (f.file_name.clone(), d.status));
    }
    tx.rollback().await.unwrap();
    out
}

/// Fire `path` at the server without waiting for (or caring about) the answer.
fn fire(app: &TestApp, path: &str) -> tokio::task::JoinHandle<()> {
    let request = app
        .client
        .post(format!("{}{path}", app.base))
        .header("authorization", format!("Bearer {ADMIN_KEY}"))
        .header("content-type", "application/json")
        .body("{}");
    tokio::spawn(async move {
        let _ = request.send().await;
    })
}

/// Poll `done` every millisecond for up to 30 s.
async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

async fn uploads_and_pickups_killed_with_sigkill_end_exactly_once(b: Backend) {
    let seed = std::env::var("INFLOW_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    println!("{b:?}: seed {seed} (replay with INFLOW_CRASH_SEED={seed})");
    let mut rng = Rng(seed);
    let server = TestSshd::start();
    let dir = std::env::temp_dir().join(format!(
        "inflow-bank-crash-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let key_file = dir.join("client_key");
    match server.sftp_config().auth {
        SftpAuth::Key { private_key, .. } => {
            std::fs::write(&key_file, private_key.expose()).unwrap()
        }
        SftpAuth::Password(_) => unreachable!(),
    }
    let mut node = Node {
        child: None,
        env_odfi: odfi_env(&server, &key_file),
        log: dir.join("server.log"),
        dir: dir.clone(),
    };
    let db = TestDb::new(b).await;
    let master_key = MasterKey::generate().to_base64();
    let base = node.start(&db.url, &master_key).await;
    let mut app = TestApp::attach(base, db, master_key.clone(), dir.join("unused"));

    // Monday (or the next banking day) 09:00, before the first window.
    let today = inflow_core::calendar::local_date(sandbox_now(&app).await);
    let day = BankingCalendar::federal_reserve().next_banking_day(today);
    advance_to_eastern(&app, day, 9, 0).await;
    let (_, creds) = app.customer_with_key("Acme", json!({})).await;
    let dest = destination(&app, &creds).await;
    let pm = make_pm(&app, &creds, "9999000101").await;
    let cfg = answer_config();
    let mut landed: BTreeMap<String, usize> = BTreeMap::new();
    let mut collections = Vec::new();

    for round in 0..ROUNDS {
        let c = collect(
            &app,
            &creds,
            &dest,
            &pm,
            "1000",
            json!({"allowDuplicate": true}),
        )
        .await;
        let id = c["id"].as_str().unwrap().to_owned();
        collections.push(id.clone());

        // Outbound: kill after the file shows up remotely, or during the upload.
        let known = remote_files(&server, "/outbound").0;
        let request = fire(&app, "/v1/ach/cutoffs");
        if rng.below(2) == 0 {
            wait_until("the upload", || {
                remote_files(&server, "/outbound").0.len() > known.len()
            })
            .await;
            tokio::time::sleep(Duration::from_micros(rng.below(3000))).await;
        } else {
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                let states = deliveries(&app).await;
                if states
                    .values()
                    .any(|(_, s)| s == "uploading" || s == "uploaded")
                    && states.len() > round as usize
                {
                    break;
                }
                assert!(Instant::now() < deadline, "the attempt never started");
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            tokio::time::sleep(Duration::from_millis(rng.below(40))).await;
        }
        node.kill();
        request.abort();
        app.db.wait_for_orphaned_backends().await;
        let (name, status) = deliveries(&app).await.into_values().max().expect("a file");
        let remote = remote_files(&server, "/outbound").0.contains(&name);
        let point = format!("upload killed: file {status}, on the server: {remote}");
        *landed.entry(point).or_default() += 1;
        app.base = node.start(&app.db.url, &master_key).await;
        advance_minutes(&app, 1).await;
        check_outbound(&app, &server).await;

        // Inbound: the bank answers the file; kill during the pickup.
        let (name, _) = deliveries(&app).await.into_values().max().expect("a file");
        let bytes = std::fs::read(server.path(&format!("/outbound/{name}"))).unwrap();
        let answers = inflow_engine::sandbox_bank::answer(&bytes, &cfg).unwrap();
        assert_eq!(answers.len(), 1, "one R01 return");
        server.drop_file(
            "/inbound",
            &format!("RET-{round}.ach"),
            &answers[0].file.to_bytes(),
        );
        let request = fire(&app, "/v1/ach/inbound/poll");
        match rng.below(3) {
            0 => {
                let deadline = Instant::now() + Duration::from_secs(30);
                while event_count(&app, &id, "collection.returned").await == 0 {
                    assert!(Instant::now() < deadline, "the return was never applied");
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
            1 => {
                wait_until("the file to leave the inbound directory", || {
                    remote_files(&server, "/inbound").0.is_empty()
                })
                .await
            }
            _ => tokio::time::sleep(Duration::from_millis(rng.below(150))).await,
        }
        node.kill();
        request.abort();
        app.db.wait_for_orphaned_backends().await;
        let applied = event_count(&app, &id, "collection.returned").await > 0;
        let still_there = !remote_files(&server, "/inbound").0.is_empty();
        let point = match (applied, still_there) {
            (false, true) => "pickup killed: not applied, file on the server",
            (true, true) => "pickup killed: applied, file on the server",
            (true, false) => "pickup killed: applied and moved",
            (false, false) => "pickup killed: moved but not applied (a bug)",
        };
        *landed.entry(point.into()).or_default() += 1;
        app.base = node.start(&app.db.url, &master_key).await;
        advance_minutes(&app, 1).await;
        assert!(
            remote_files(&server, "/inbound").0.is_empty(),
            "round {round}: the return is still on the server"
        );
        for c in &collections {
            assert_eq!(
                event_count(&app, c, "collection.returned").await,
                1,
                "round {round}: {c} returned once"
            );
            assert_eq!(collection(&app, &creds, c).await["status"], "returned");
        }
    }
    println!("{b:?}: where the kills landed: {landed:#?}");
    assert_eq!(
        remote_files(&server, "/inbound/processed").0.len(),
        ROUNDS as usize
    );
    node.kill();
}

/// Invariant 1 (see the module documentation).
async fn check_outbound(app: &TestApp, server: &TestSshd) {
    let files = deliveries(app).await;
    let (remote, partial) = remote_files(server, "/outbound");
    assert!(partial.is_empty(), "half-written files left: {partial:?}");
    let names: Vec<String> = files.values().map(|(n, _)| n.clone()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(remote, sorted, "the server holds exactly Inflow's files");
    for (id, (name, status)) in &files {
        assert_eq!(status, "uploaded", "{id}");
        assert_eq!(event_count(app, id, "ach_file.uploaded").await, 1, "{id}");
        let r = app
            .get(&admin(), &format!("/v1/ach/files/{id}/content"))
            .await;
        let sent = std::fs::read(server.path(&format!("/outbound/{name}"))).unwrap();
        assert_eq!(r.text.as_bytes(), &sent[..], "{id}: the bytes sent");
    }
}
