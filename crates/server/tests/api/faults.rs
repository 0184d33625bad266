//! Faults an on-call meets (issue 19), on SQLite and PostgreSQL over real
//! HTTP:
//! - a database that fails answers 503 with `Retry-After`, never 404;
//! - an unwritable outbound folder: the cutoff commits and says so, `/readyz`
//!   names the folder, the other background steps still run, a restarted
//!   node serves the API, and the files are written once the folder is back;
//! - SIGTERM during a long job: `inflow serve` exits within its grace period.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use inflow_core::calendar::{local_date, BankingCalendar};
use reqwest::StatusCode;
use serde_json::json;
use support::ach::*;
use support::*;

on_both_backends!(
    a_failing_database_is_a_503_with_retry_after_never_a_404,
    an_unwritable_outbound_folder_degrades_readiness_while_cutoffs_commit_and_say_so,
    a_failing_tick_step_does_not_stop_the_steps_after_it,
    sigterm_during_a_long_clock_advance_exits_within_the_grace_period,
);

async fn a_failing_database_is_a_503_with_retry_after_never_a_404(b: Backend) {
    // Production mode: no sandbox clock read before each request, and the
    // keys stay in the authentication cache, so the requests below reach
    // their handlers' lookups.
    let app = spawn_app_with(b, |c| {
        c.sandbox = false;
        c.auth_cache_ttl_secs = 3600;
    })
    .await;
    let (customer, creds) = app.customer_with_key("Acme", json!({})).await;
    let pm = make_pm(&app, &creds, "000123456789").await;
    let r = app
        .post(
            &creds,
            "/v1/counterparties",
            json!({"name": "Jane", "kind": "individual"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let counterparty = r.json()["id"].as_str().unwrap().to_owned();
    let paths = [
        format!("/v1/customers/{customer}"),
        format!("/v1/payment-methods/{pm}"),
        format!("/v1/counterparties/{counterparty}"),
    ];
    let who = |p: &str| {
        if p.starts_with("/v1/customers") {
            admin()
        } else {
            creds.clone()
        }
    };
    for p in &paths {
        let r = app.get(&who(p), p).await;
        assert_eq!(r.status, StatusCode::OK, "{p}: {}", r.text);
    }

    if b == Backend::Postgres {
        // Every session of the node is terminated (a failover, an operator):
        // whatever the node answers meanwhile, it is never "no such …".
        let admin_db = sqlx::PgPool::connect(&app.db.url).await.unwrap();
        sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .execute(&admin_db)
        .await
        .unwrap();
        admin_db.close().await;
        for p in &paths {
            let r = app.get(&who(p), p).await;
            assert!(
                r.status == StatusCode::OK || r.status == StatusCode::SERVICE_UNAVAILABLE,
                "{p} after the sessions were terminated: {} {}",
                r.status,
                r.text
            );
        }
    }

    // The database goes away altogether.
    app.state().store.close().await;
    for p in &paths {
        let r = app.get(&who(p), p).await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{p}: {}", r.text);
        assert!(
            r.headers.contains_key("retry-after"),
            "{p}: {:?}",
            r.headers
        );
        assert_eq!(r.json()["error"]["type"], "api_error");
    }
    let r = app
        .client
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["param"], "database", "{body}");
    app.stop().await;
}

/// No handler turns whatever a store lookup returned into a 404: a lookup's
/// error goes through `ApiError::not_found_if_missing` (only a missing row
/// is a 404) or a `match` on `StoreError::NotFound`. A closed pool fails at
/// `BEGIN`, before the lookup, so this source check covers what the HTTP
/// test above cannot reach.
#[test]
fn no_store_lookup_error_is_swallowed_into_a_404() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![src];
    let mut offenders = Vec::new();
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for site in errors_swallowed_into_404(&text) {
            offenders.push(format!("{}: {site}", path.display()));
        }
    }
    assert!(offenders.is_empty(), "{offenders:#?}");
}

/// The places in `source` where the error of an awaited call (a store
/// lookup, in a handler) is dropped and a 404 answered instead: its error
/// discarded (`map_err(|_| …)`, `.ok()`, `unwrap_or…`, `or_else(|_| …)`,
/// `map_or…`) or ignored in a match arm (`Err(_) => … not_found`), unless
/// the code in reach tells `StoreError::NotFound` apart.
fn errors_swallowed_into_404(source: &str) -> Vec<String> {
    const DISCARDS: [&str; 7] = [
        ".map_err(|_",
        ".map_err(|e|",
        ".ok()",
        ".unwrap_or",
        ".or_else(|_",
        ".map_or",
        ".ok_or",
    ];
    let compact: String = source.split_whitespace().collect();
    let window = |from: usize, len: usize| &compact[from..(from + len).min(compact.len())];
    let mut sites = Vec::new();
    for (at, m) in compact.match_indices(".await") {
        let after = window(at + m.len(), 100);
        let after = after.strip_prefix('?').unwrap_or(after);
        let discards = DISCARDS.iter().any(|d| after.starts_with(d));
        let tells_apart = after.contains("NotFound") || after.contains("not_found_if_missing");
        if discards && after.contains("not_found(") && !tells_apart {
            sites.push(window(at, 100).to_owned());
        }
    }
    for (at, _) in compact.match_indices("Err(_") {
        let arm = window(at, 60);
        if arm.contains(")=>") && arm.contains("not_found(") {
            sites.push(arm.to_owned());
        }
    }
    sites
}

#[test]
fn the_404_scan_finds_every_way_of_dropping_a_store_error() {
    let swallowing = [
        "tx.get_customer(&id).await.map_err(|_| ApiError::not_found(\"customer\"))?",
        "tx.get_customer(&id).await.map_err(|_e| ApiError::not_found(\"customer\"))?",
        "tx.find(&id).await.ok().flatten().ok_or_else(|| ApiError::not_found(\"x\"))?",
        "tx.get(&id).await.unwrap_or_else(|_| Err(ApiError::not_found(\"x\")))",
        "match tx.get(&id).await { Ok(c) => c, Err(_) => return Err(ApiError::not_found(\"x\")) }",
    ];
    for code in swallowing {
        assert_eq!(errors_swallowed_into_404(code).len(), 1, "{code}");
    }
    let telling_apart = [
        "tx.get(&id).await.map_err(ApiError::not_found_if_missing(\"x\"))?",
        "tx.get(&id).await.map_err(|e| match e { StoreError::NotFound => ApiError::not_found(\"x\"), e => e.into() })?",
        "CustomerId::parse(\"id\", id).map_err(|_| ApiError::not_found(\"customer\"))?",
    ];
    for code in telling_apart {
        assert!(errors_swallowed_into_404(code).is_empty(), "{code}");
    }
}

/// Replace the outbound folder by a regular file (unwritable even for
/// root); returns where the folder was moved.
fn break_folder(dir: &Path) -> PathBuf {
    let moved = dir.with_extension("moved");
    std::fs::rename(dir, &moved).unwrap();
    std::fs::write(dir, b"not a folder").unwrap();
    moved
}

fn mend_folder(dir: &Path, moved: &Path) {
    std::fs::remove_file(dir).unwrap();
    std::fs::rename(moved, dir).unwrap();
}

async fn readyz(app: &TestApp) -> (StatusCode, serde_json::Value) {
    let r = app
        .client
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

/// A sandbox app on a banking day after its last same-day window, with a
/// customer, a destination account and a payment method.
async fn banking_day_app(b: Backend, account: &str) -> (TestApp, Creds, String, String) {
    let app = spawn_app(b).await;
    let today = local_date(sandbox_now(&app).await);
    let day = BankingCalendar::federal_reserve().next_banking_day(today);
    advance_to_eastern(&app, day, 17, 0).await;
    let (_, creds) = app.customer_with_key("Acme", json!({})).await;
    let dest = destination(&app, &creds).await;
    let pm = make_pm(&app, &creds, account).await;
    (app, creds, dest, pm)
}

async fn an_unwritable_outbound_folder_degrades_readiness_while_cutoffs_commit_and_say_so(
    b: Backend,
) {
    let (mut app, creds, dest, pm) = banking_day_app(b, "000123456789").await;
    let debit = collect(&app, &creds, &dest, &pm, "1500", json!({})).await;
    let id = debit["id"].as_str().unwrap().to_owned();
    let outbound = app.state().ach.outbound_dir.clone();
    let moved = break_folder(&outbound);

    let (status, body) = readyz(&app).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["param"], "outbound_folder", "{body}");

    // The cutoff commits; the answer says so instead of "changed nothing".
    let r = app.post(&admin(), "/v1/ach/cutoffs", json!({})).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.text);
    assert_eq!(r.error_code(), "cutoff_committed_step_failed", "{}", r.text);
    let message = r.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(
        message.contains("1 collection(s) filed in 1 file(s)"),
        "{message}"
    );
    assert!(!message.contains("changed nothing"), "{message}");
    let c = collection(&app, &creds, &id).await;
    assert_ne!(c["status"], "pending", "{c}");
    assert!(c["fileId"].is_string(), "{c}");

    // A node started while the folder is still unwritable serves the API.
    app.restart_with(|_| {}).await;
    let r = app.get(&creds, &format!("/v1/collections/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let (status, body) = readyz(&app).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["param"], "outbound_folder", "{body}");

    // The folder is back: the next pass writes and uploads the file.
    mend_folder(&outbound, &moved);
    let (status, body) = readyz(&app).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    advance_minutes(&app, 1).await;
    let c = collection(&app, &creds, &id).await;
    assert_eq!(c["status"], "submitted", "{c}");
    let file = c["fileId"].as_str().unwrap();
    let r = app.get(&admin(), &format!("/v1/ach/files/{file}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let name = r.json()["fileName"].as_str().unwrap().to_owned();
    assert!(outbound.join(name).is_file());
    app.stop().await;
}

async fn a_failing_tick_step_does_not_stop_the_steps_after_it(b: Backend) {
    // A debit filed and submitted while all is well…
    let (app, creds, dest, pm) = banking_day_app(b, "9999000101").await;
    let first = collect(&app, &creds, &dest, &pm, "1500", json!({})).await;
    let r = app.post(&admin(), "/v1/ach/cutoffs", json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let name = r.json()["files"][0]["fileName"]
        .as_str()
        .unwrap()
        .to_owned();
    let cfg = app.state().ach.clone();
    let sent = std::fs::read(cfg.outbound_dir.join(&name)).unwrap();
    // …whose return the bank has left in the inbound folder.
    let answers = inflow_engine::sandbox_bank::answer(&sent, &cfg).unwrap();
    for (i, a) in answers.iter().enumerate() {
        std::fs::write(
            cfg.inbound_dir.join(format!("return-{i}.ach")),
            a.file.to_bytes(),
        )
        .unwrap();
    }
    // Another debit is due, and the outbound folder breaks.
    let second = collect(&app, &creds, &dest, &pm, "2500", json!({})).await;
    let moved = break_folder(&cfg.outbound_dir);

    // The jobs run: the second debit's cutoff and the return file are
    // independent of the outbound folder and both happen.
    let r = app
        .post(&admin(), "/v1/sandbox/clock/advance", json!({"hours": 24}))
        .await;
    let first = collection(&app, &creds, first["id"].as_str().unwrap()).await;
    assert_eq!(first["status"], "returned", "{first} (advance: {})", r.text);
    let second = collection(&app, &creds, second["id"].as_str().unwrap()).await;
    assert!(second["fileId"].is_string(), "{second}");
    if r.status != StatusCode::OK {
        // Steps that need the outbound folder (the sandbox bank reads
        // the files it answers, the delivery uploads them) did fail: the
        // answer names them, and the others ran anyway.
        assert_eq!(r.error_code(), "clock_jobs_failed", "{}", r.text);
        assert!(
            r.text.contains("the sandbox bank") || r.text.contains("the delivery"),
            "{}",
            r.text
        );
    }
    mend_folder(&cfg.outbound_dir, &moved);
    app.stop().await;
}

async fn sigterm_during_a_long_clock_advance_exits_within_the_grace_period(b: Backend) {
    let db = inflow_store::testing::TestDb::new(b).await;
    let dir =
        std::env::temp_dir().join(format!("inflow-sigterm-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let master_key = inflow_core::crypto::MasterKey::generate().to_base64();
    let log = std::fs::File::create(dir.join("serve.log")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_inflow"))
        .arg("serve")
        .current_dir(&dir)
        .env("INFLOW_LISTEN", format!("127.0.0.1:{port}"))
        .env("INFLOW_DATABASE_URL", &db.url)
        .env("INFLOW_DATA_DIR", dir.join("data"))
        .env("INFLOW_MASTER_KEY", &master_key)
        .env("INFLOW_SANDBOX", "true")
        .env("INFLOW_BOOTSTRAP_ADMIN_KEY", ADMIN_KEY)
        .env("INFLOW_BOOTSTRAP_ADMIN_SIGNING_SECRET", ADMIN_SECRET)
        .env("INFLOW_SCHEDULER_INTERVAL_SECS", "0")
        .env("INFLOW_SHUTDOWN_GRACE_SECS", "1")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .stdin(Stdio::null())
        .spawn()
        .expect("spawn inflow serve");
    let app = TestApp::attach(
        format!("http://127.0.0.1:{port}"),
        db,
        master_key,
        dir.clone(),
    );
    let started = Instant::now();
    loop {
        assert!(child.try_wait().unwrap().is_none(), "inflow serve exited");
        let up = app.client.get(format!("{}/healthz", app.base)).send().await;
        if up.is_ok_and(|r| r.status() == StatusCode::OK) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "not up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let before = sandbox_now(&app).await;

    // A 90-day advance (360 six-hour steps of jobs) in flight…
    let body = json!({"days": 90}).to_string();
    let advancing = {
        let client = app.client.clone();
        let base = app.base.clone();
        let headers = signature_headers(
            ADMIN_SECRET,
            "POST",
            "/v1/sandbox/clock/advance",
            body.as_bytes(),
            None,
            None,
        );
        tokio::spawn(async move {
            let mut req = client
                .post(format!("{base}/v1/sandbox/clock/advance"))
                .bearer_auth(ADMIN_KEY)
                .header("content-type", "application/json")
                .body(body);
            for (k, v) in headers {
                req = req.header(k, v);
            }
            req.send().await.map(|r| r.status())
        })
    };
    // …has begun moving the clock.
    loop {
        if sandbox_now(&app).await > before {
            break;
        }
        assert!(!advancing.is_finished(), "the advance ended before SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let asked = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    // The process exits after its 1 s grace period, not when the advance
    // would have finished; the bound is generous for a loaded machine.
    let bound = Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if asked.elapsed() > bound {
            let _ = child.kill();
            let log = std::fs::read_to_string(dir.join("serve.log")).unwrap_or_default();
            panic!("inflow serve still running {bound:?} after SIGTERM:\n{log}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "exit status {status}");
    let log = std::fs::read_to_string(dir.join("serve.log")).unwrap_or_default();
    // The advance was still running when the grace period ran out: it was
    // abandoned, and the client saw its connection close.
    assert!(log.contains("grace period over"), "{log}");
    assert!(
        !matches!(advancing.await, Ok(Ok(StatusCode::OK))),
        "the 90-day advance completed"
    );
}
