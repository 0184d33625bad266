//! `inflow backup` taken while clients write, and `inflow restore` of it
//! into a fresh database: the ledger check passes, every collection
//! acknowledged (201) before the backup started is there with its amount,
//! and `inflow serve` opens the restored database and answers for it. And
//! what both commands refuse, changing nothing. On SQLite and PostgreSQL
//! (there with pg_dump/pg_restore, which must be installed: see
//! scripts/ensure-pg-client.sh).

use crate::support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use inflow_core::calendar::{local_date, BankingCalendar};
use inflow_store::testing::TestDb;
use reqwest::StatusCode;
use serde_json::json;
use support::ach::*;
use support::cli::{free_port, inflow_async, Run};
use support::*;

on_both_backends!(
    a_backup_taken_under_write_load_restores_every_acknowledged_collection,
    backup_and_restore_refuse_what_they_must_and_change_nothing,
);

/// Where a restore goes: a fresh data folder and, on PostgreSQL, a fresh
/// empty database.
struct Target {
    dir: PathBuf,
    pg: Option<TestDb>,
}

impl Target {
    async fn new(b: Backend) -> Self {
        let dir = scratch("restore");
        let pg = match b {
            Backend::Sqlite => None,
            Backend::Postgres => Some(TestDb::empty_postgres().await),
        };
        Target { dir, pg }
    }

    fn env(&self) -> Vec<(String, String)> {
        let mut env = vec![("INFLOW_DATA_DIR".into(), self.dir.display().to_string())];
        if let Some(db) = &self.pg {
            env.push(("INFLOW_DATABASE_URL".into(), db.url.clone()));
        }
        env
    }

    fn url(&self) -> String {
        match &self.pg {
            Some(db) => db.url.clone(),
            None => format!("sqlite://{}", self.dir.join("inflow.db").display()),
        }
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("inflow-{tag}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The environment that points `inflow` at `app`'s database.
fn source_env(app: &TestApp) -> Vec<(String, String)> {
    vec![
        ("INFLOW_DATABASE_URL".into(), app.db.url.clone()),
        ("INFLOW_DATA_DIR".into(), app.data_dir.display().to_string()),
    ]
}

async fn run(args: &[&str], env: Vec<(String, String)>) -> Run {
    inflow_async(args.iter().map(|s| s.to_string()).collect(), env).await
}

fn assert_pg_tools(b: Backend) {
    if b == Backend::Postgres {
        for tool in ["pg_dump", "pg_restore"] {
            assert!(
                std::process::Command::new(tool).arg("--version").output().is_ok(),
                "{tool} is required (Debian: postgresql-client; scripts/ensure-pg-client.sh installs it)"
            );
        }
    }
}

/// Acknowledged collections: id → amount (cents), in the order acknowledged.
type Acked = Arc<Mutex<Vec<(String, i64)>>>;

/// One client: payment methods and debits until `stop`.
async fn client(app: Arc<TestApp>, n: usize, stop: Arc<AtomicBool>, acked: Acked) {
    let (_, creds) = app.customer_with_key(&format!("Load {n}"), json!({})).await;
    let dest = destination(&app, &creds).await;
    let mut pm = make_pm(&app, &creds, &format!("{:012}", 100 + n)).await;
    let mut i = 0i64;
    while !stop.load(Ordering::SeqCst) {
        i += 1;
        if i % 5 == 0 {
            pm = make_pm(&app, &creds, &format!("{:06}{:06}", n + 1, i)).await;
        }
        if i % 10 == 0 {
            let body = json!({"name": format!("Load {n}.{i}"), "kind": "business"});
            let r = app.post(&admin(), "/v1/customers", body).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        }
        let amount = 100 + (n as i64) * 10_000 + i;
        let r = try_collect(
            &app,
            &creds,
            &dest,
            &pm,
            &amount.to_string(),
            json!({"allowDuplicate": true}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let id = r.json()["id"].as_str().unwrap().to_owned();
        acked.lock().unwrap().push((id, amount));
    }
}

/// Cutoffs until `stop`.
async fn cutoffs(app: Arc<TestApp>, stop: Arc<AtomicBool>) -> usize {
    let mut runs = 0;
    while !stop.load(Ordering::SeqCst) {
        let r = app.post(&admin(), "/v1/ach/cutoffs", json!({})).await;
        assert!(r.status.is_success(), "{} {}", r.status, r.text);
        runs += 1;
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    runs
}

async fn a_backup_taken_under_write_load_restores_every_acknowledged_collection(b: Backend) {
    assert_pg_tools(b);
    let app = spawn_app(b).await;
    // A banking day, so that cutoffs file what is due.
    let today = local_date(sandbox_now(&app).await);
    let day = BankingCalendar::federal_reserve().next_banking_day(today);
    advance_to_eastern(&app, day, 17, 0).await;
    let app = Arc::new(app);
    let stop = Arc::new(AtomicBool::new(false));
    let acked: Acked = Arc::default();
    let mut tasks = Vec::new();
    for n in 0..4 {
        tasks.push(tokio::spawn(client(
            app.clone(),
            n,
            stop.clone(),
            acked.clone(),
        )));
    }
    let cutoff_task = tokio::spawn(cutoffs(app.clone(), stop.clone()));
    // Let the load build up (at least a few acknowledged debits).
    let start = Instant::now();
    while acked.lock().unwrap().len() < 40 {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the load made no progress"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let out = scratch("backup");
    let file = out.join("inflow.backup");
    let before: Vec<(String, i64)> = acked.lock().unwrap().clone();
    let backup = run(
        &["backup", "--to", file.to_str().unwrap()],
        source_env(&app),
    )
    .await;
    let during = acked.lock().unwrap().len() - before.len();
    stop.store(true, Ordering::SeqCst);
    for t in tasks {
        t.await.unwrap();
    }
    let runs = cutoff_task.await.unwrap();
    assert_eq!(backup.code, 0, "{}", backup.all());
    assert!(backup.stdout.contains("backup written"), "{}", backup.all());
    assert!(runs > 0);
    eprintln!(
        "{} acknowledged before the backup, {during} while it ran",
        before.len()
    );
    assert_private(&file);

    let target = Target::new(b).await;
    let restored = run(&["restore", "--from", file.to_str().unwrap()], target.env()).await;
    assert_eq!(restored.code, 0, "{}", restored.all());
    assert!(restored.stdout.contains("ledger OK"), "{}", restored.all());
    let check = run(&["ledger", "check"], target.env()).await;
    assert_eq!(check.code, 0, "{}", check.all());
    assert!(check.stdout.contains("ledger OK"), "{}", check.all());
    restore_again(&target, &file).await;

    let stored = stored_collections(&target.url()).await;
    for (id, amount) in &before {
        let (stored_amount, status, _) = stored.get(id).unwrap_or_else(|| {
            panic!("collection {id}, acknowledged before the backup, is missing")
        });
        assert_eq!(stored_amount, amount, "{id}");
        assert!(
            ["pending", "on_hold", "batched", "submitted", "processing"].contains(&status.as_str()),
            "{id}: {status}"
        );
    }
    let (id, amount) = &before[before.len() / 2];
    let customer = &stored[id].2;
    serve_and_get(&target, &app.master_key, (id, customer), *amount).await;
    let _ = std::fs::remove_dir_all(&out);
}

/// A second restore over the restored database: refused without
/// `--force`; with it, done again (SQLite keeps the replaced file).
async fn restore_again(target: &Target, file: &Path) {
    let from = file.to_str().unwrap();
    let refused = run(&["restore", "--from", from], target.env()).await;
    assert_ne!(refused.code, 0, "{}", refused.all());
    let why = if target.pg.is_some() {
        "not empty"
    } else {
        "already exists"
    };
    assert!(refused.stderr.contains(why), "{}", refused.all());
    let forced = run(&["restore", "--from", from, "--force"], target.env()).await;
    assert_eq!(forced.code, 0, "{}", forced.all());
    assert!(forced.stdout.contains("ledger OK"), "{}", forced.all());
    if target.pg.is_none() {
        let kept = std::fs::read_dir(&target.dir)
            .unwrap()
            .filter(|e| {
                let name = e.as_ref().unwrap().file_name();
                let name = name.to_string_lossy();
                name.starts_with("inflow.db.before-restore-") && !name.ends_with("-wal")
            })
            .count();
        assert_eq!(kept, 1, "{}", forced.all());
        assert_private(&target.dir.join("inflow.db"));
    }
}

fn assert_private(file: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{} is {mode:o}", file.display());
}

/// id → (amount, status, customer) of every ACH collection in the database at `url`.
async fn stored_collections(url: &str) -> HashMap<String, (i64, String, String)> {
    let sql = "SELECT id, amount, status, customer_id FROM collections";
    let rows: Vec<(String, i64, String, String)> = if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let rows = sqlx::query_as(sql).fetch_all(&pool).await.unwrap();
        pool.close().await;
        rows
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let rows = sqlx::query_as(sql).fetch_all(&pool).await.unwrap();
        pool.close().await;
        rows
    };
    rows.into_iter()
        .map(|(id, a, s, c)| (id, (a, s, c)))
        .collect()
}

/// `inflow serve` on the restored database answers GET for collection `id`
/// (of `customer`).
async fn serve_and_get(
    target: &Target,
    master_key: &str,
    (id, customer): (&str, &str),
    amount: i64,
) {
    let port = free_port();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_inflow"));
    cmd.arg("serve")
        .current_dir(&target.dir)
        .env_remove("RUST_LOG")
        .env("INFLOW_LISTEN", format!("127.0.0.1:{port}"))
        .env("INFLOW_MASTER_KEY", master_key)
        .env("INFLOW_SCHEDULER_INTERVAL_SECS", "0")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    for (k, v) in target.env() {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let start = Instant::now();
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        if start.elapsed() > Duration::from_secs(60) || child.try_wait().unwrap().is_some() {
            let _ = child.kill();
            panic!("inflow serve did not start on the restored database");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let path = format!("/v1/collections/{id}");
    let mut req = client
        .get(format!("{base}{path}"))
        .bearer_auth(ADMIN_KEY)
        .header("inflow-customer", customer);
    for (k, v) in signature_headers(ADMIN_SECRET, "GET", &path, b"", None, Some(customer)) {
        req = req.header(k, v);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    let body: serde_json::Value = r.json().await.unwrap_or_default();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["id"], id, "{body}");
    assert_eq!(body["amount"]["value"], amount.to_string(), "{body}");
}

async fn backup_and_restore_refuse_what_they_must_and_change_nothing(b: Backend) {
    assert_pg_tools(b);
    let app = spawn_app(b).await;
    let (_, creds) = app.customer_with_key("Acme", json!({})).await;
    let dest = destination(&app, &creds).await;
    let pm = make_pm(&app, &creds, "000123456789").await;
    collect(&app, &creds, &dest, &pm, "1500", json!({})).await;
    let out = scratch("refusals");
    let file = out.join("inflow.backup");

    // An existing file is not overwritten without --force.
    std::fs::write(&file, b"keep me").unwrap();
    let refused = run(
        &["backup", "--to", file.to_str().unwrap()],
        source_env(&app),
    )
    .await;
    assert_ne!(refused.code, 0, "{}", refused.all());
    assert!(
        refused.stderr.contains("already exists"),
        "{}",
        refused.all()
    );
    assert_eq!(std::fs::read(&file).unwrap(), b"keep me");
    let forced = run(
        &["backup", "--to", file.to_str().unwrap(), "--force"],
        source_env(&app),
    )
    .await;
    assert_eq!(forced.code, 0, "{}", forced.all());
    assert!(
        forced.stdout.contains("1 ACH collections"),
        "{}",
        forced.all()
    );

    if b == Backend::Postgres {
        pg_dump_missing_or_too_old_is_refused(&app, &out).await;
    }

    // Neither a random file nor a truncated backup is restored.
    let target = Target::new(b).await;
    let random = out.join("random.bin");
    std::fs::write(
        &random,
        (0..8192u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    let whole = std::fs::read(&file).unwrap();
    let truncated = out.join("truncated.backup");
    std::fs::write(&truncated, &whole[..whole.len() / 2]).unwrap();
    for bad in [&random, &truncated] {
        let r = run(&["restore", "--from", bad.to_str().unwrap()], target.env()).await;
        assert_ne!(r.code, 0, "{}: {}", bad.display(), r.all());
        assert!(
            r.stderr.contains("cannot be restored; nothing was changed"),
            "{}",
            r.all()
        );
        assert_target_untouched(&target).await;
    }

    if b == Backend::Sqlite {
        // An SQLite database, but not Inflow's.
        let other = out.join("other.db");
        let url = format!("sqlite://{}?mode=rwc", other.display());
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        sqlx::query("CREATE TABLE t (x)")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        let r = run(
            &["restore", "--from", other.to_str().unwrap()],
            target.env(),
        )
        .await;
        assert_ne!(r.code, 0, "{}", r.all());
        assert!(r.stderr.contains("not an Inflow database"), "{}", r.all());
        assert_target_untouched(&target).await;
    }

    // The live database is not replaced: in use (SQLite) or not empty (PostgreSQL).
    let r = run(
        &["restore", "--from", file.to_str().unwrap()],
        source_env(&app),
    )
    .await;
    assert_ne!(r.code, 0, "{}", r.all());
    let expected = if b == Backend::Sqlite {
        "in use"
    } else {
        "not empty"
    };
    assert!(r.stderr.contains(expected), "{}", r.all());
    assert_eq!(stored_collections(&app.db.url).await.len(), 1);
    let _ = std::fs::remove_dir_all(&out);
}

/// Without pg_dump on PATH, or with one older than the server, the
/// backup is refused with a pointer to the docs and writes nothing.
async fn pg_dump_missing_or_too_old_is_refused(app: &TestApp, out: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let file = out.join("pg.backup");
    let old_tools = out.join("old-tools");
    std::fs::create_dir_all(&old_tools).unwrap();
    let fake = old_tools.join("pg_dump");
    std::fs::write(&fake, "#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n").unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let empty = out.join("no-tools");
    std::fs::create_dir_all(&empty).unwrap();
    for (path, expected) in [
        (&empty, "pg_dump is not on PATH"),
        (&old_tools, "cannot handle this PostgreSQL"),
    ] {
        let mut env = source_env(app);
        env.push(("PATH".into(), path.display().to_string()));
        let r = run(&["backup", "--to", file.to_str().unwrap()], env).await;
        assert_ne!(r.code, 0, "{}", r.all());
        assert!(
            r.stderr.contains(expected) && r.stderr.contains("docs/operations.md"),
            "{}",
            r.all()
        );
        assert!(!file.exists());
    }
}

/// A refused restore left the target as it was: no database file
/// (SQLite), no tables (PostgreSQL).
async fn assert_target_untouched(target: &Target) {
    match &target.pg {
        None => {
            let names: Vec<_> = std::fs::read_dir(&target.dir)
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert!(names.is_empty(), "{names:?}");
        }
        Some(db) => assert_eq!(db.store.user_relation_count().await.unwrap(), 0),
    }
}
