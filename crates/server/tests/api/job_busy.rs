//! A job lease held by another node is answered `409 job_busy` with
//! `Retry-After` after a short wait, having changed nothing: the sandbox
//! clock advance (the scheduler lease) and a manual cutoff (the cutoff
//! lease), on SQLite and PostgreSQL. The "other node" is a second store
//! handle on the test's database holding the lease as a process of
//! another host.

use crate::support;

use inflow_engine::leases::{CUTOFF_LEASE, SCHEDULER_LEASE};
use inflow_store::Store;
use reqwest::StatusCode;
use serde_json::json;
use support::ach::*;
use support::*;

on_both_backends!(
    a_clock_advance_while_another_node_holds_the_scheduler_is_a_409,
    a_cutoff_while_another_node_runs_one_is_a_409,
);

const OTHER_NODE: &str = "another-host:4242:held";

/// Hold lease `name` from a second store handle, as another node would.
async fn hold(app: &TestApp, name: &str) -> Store {
    let other = Store::connect(&app.db.url).await.unwrap();
    let now = chrono::Utc::now();
    let until = now + chrono::Duration::minutes(5);
    let mut tx = other.begin().await.unwrap();
    assert!(tx
        .try_acquire_lease(name, OTHER_NODE, until, now)
        .await
        .unwrap());
    tx.commit().await.unwrap();
    other
}

async fn release(other: &Store, name: &str) {
    let mut tx = other.begin().await.unwrap();
    assert!(tx.release_lease(name, OTHER_NODE).await.unwrap());
    tx.commit().await.unwrap();
}

fn assert_busy(r: &Reply) {
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.error_code(), "job_busy", "{}", r.text);
    let retry: u64 = r
        .headers
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0);
}

async fn a_clock_advance_while_another_node_holds_the_scheduler_is_a_409(b: Backend) {
    let app = spawn_app(b).await;
    let other = hold(&app, SCHEDULER_LEASE).await;
    let before = sandbox_now(&app).await;

    let r = app
        .post(&admin(), "/v1/sandbox/clock/advance", json!({"hours": 12}))
        .await;
    assert_busy(&r);
    assert!(r.text.contains(SCHEDULER_LEASE), "{}", r.text);
    // Nothing moved (the clock of a sandbox runs with the wall clock, so
    // less than the asked 12 hours is proof enough), nothing audited.
    let after = sandbox_now(&app).await;
    assert!(
        after - before < chrono::Duration::hours(1),
        "{before} → {after}"
    );
    let audit = app
        .get(&admin(), "/v1/audit-events?action=sandbox.clock_advanced")
        .await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.text);
    assert!(audit.json()["data"].as_array().unwrap().is_empty());

    // The other node is done: the advance goes through.
    release(&other, SCHEDULER_LEASE).await;
    let r = app
        .post(&admin(), "/v1/sandbox/clock/advance", json!({"hours": 12}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(sandbox_now(&app).await - before >= chrono::Duration::hours(12));
    app.stop().await;
}

async fn a_cutoff_while_another_node_runs_one_is_a_409(b: Backend) {
    let app = spawn_app(b).await;
    let (_, creds) = app.customer_with_key("Acme", json!({})).await;
    let dest = destination(&app, &creds).await;
    let pm = make_pm(&app, &creds, "444455556666").await;
    let today = inflow_core::calendar::local_date(sandbox_now(&app).await);
    let day = app.state().ach.calendar.next_banking_day(today);
    advance_to_eastern(&app, day, 9, 0).await;
    let c = collect(&app, &creds, &dest, &pm, "1000", json!({})).await;
    let id = c["id"].as_str().unwrap();

    let other = hold(&app, CUTOFF_LEASE).await;
    let r = app.post(&admin(), "/v1/ach/cutoffs", json!({})).await;
    assert_busy(&r);
    assert!(collection(&app, &creds, id).await["fileId"].is_null());
    let files = app.get(&admin(), "/v1/ach/files").await;
    assert!(
        files.json()["data"].as_array().unwrap().is_empty(),
        "{}",
        files.text
    );

    release(&other, CUTOFF_LEASE).await;
    let r = app.post(&admin(), "/v1/ach/cutoffs", json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert!(collection(&app, &creds, id).await["fileId"].is_string());
    app.stop().await;
}
