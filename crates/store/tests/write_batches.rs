//! `Store::write`: every call commits durably before it returns, a failing
//! call undoes only its own changes, and (on SQLite, where concurrent calls
//! share one group commit) a panicking call does not take the writer down.

use chrono::Utc;
use inflow_core::ids::CustomerId;
use inflow_core::model::{Customer, CustomerKind, CustomerStatus, Metadata};
use inflow_store::testing::{on_both_backends, TestBackend, TestDb};
use inflow_store::{ListQuery, StoreError, Tx, WriteFuture};

on_both_backends!(
    concurrent_writes_all_commit_and_return_their_values,
    a_failing_write_is_undone_alone,
    a_panicking_write_does_not_stop_later_writes,
    a_savepoint_undoes_only_what_came_after_it,
);

fn customer(name: &str) -> Customer {
    let now = chrono::DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap();
    Customer {
        id: CustomerId::generate(now),
        name: name.into(),
        kind: CustomerKind::Business,
        email: None,
        status: CustomerStatus::Active,
        allow_one_time_source: false,
        require_signed_requests: false,
        ach_company_name: None,
        ach_company_id: None,
        allowed_company_names: Vec::new(),
        ach_policy: Default::default(),
        card_daily_limit: inflow_core::model::DEFAULT_CARD_DAILY_LIMIT,
        ach_limits: Default::default(),
        can_manage_api_keys: false,
        odfi_id: None,
        metadata: Metadata::new(),
        created_at: now,
        updated_at: now,
    }
}

fn insert(
    c: Customer,
    fail_after: bool,
) -> impl for<'t> FnOnce(&'t mut Tx) -> WriteFuture<'t, String, StoreError> + Send + 'static {
    move |tx: &mut Tx| -> WriteFuture<'_, String, StoreError> {
        Box::pin(async move {
            tx.insert_customer(&c).await?;
            if fail_after {
                return Err(StoreError::Corrupt(
                    "deliberate failure after a write".into(),
                ));
            }
            Ok(c.id.to_string())
        })
    }
}

async fn count(db: &TestDb) -> usize {
    db.store
        .read()
        .await
        .unwrap()
        .list_customers(&ListQuery::first(200))
        .await
        .unwrap()
        .data
        .len()
}

async fn concurrent_writes_all_commit_and_return_their_values(backend: TestBackend) {
    let db = TestDb::new(backend).await;
    let mut handles = Vec::new();
    for i in 0..100 {
        let store = db.store.clone();
        handles.push(tokio::spawn(async move {
            let c = customer(&format!("C{i}"));
            let id = c.id.to_string();
            let got = store.write(insert(c, false)).await.unwrap();
            assert_eq!(got, id);
            // Returned only after commit: a fresh read sees it.
            let mut r = store.read().await.unwrap();
            r.get_customer(&CustomerId::from_trusted(id)).await.unwrap();
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    assert_eq!(count(&db).await, 100);
}

async fn a_failing_write_is_undone_alone(backend: TestBackend) {
    let db = TestDb::new(backend).await;
    let mut handles = Vec::new();
    for i in 0..60 {
        let store = db.store.clone();
        handles.push(tokio::spawn(async move {
            let fail = i % 3 == 0;
            let r = store.write(insert(customer(&format!("C{i}")), fail)).await;
            assert_eq!(r.is_err(), fail, "write {i}");
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    assert_eq!(
        count(&db).await,
        40,
        "exactly the 40 successful writes are stored"
    );
}

async fn a_panicking_write_does_not_stop_later_writes(backend: TestBackend) {
    let db = TestDb::new(backend).await;
    let store = db.store.clone();
    let c = customer("Doomed");
    let doomed = tokio::spawn(async move {
        store
            .write(move |tx: &mut Tx| -> WriteFuture<'_, (), StoreError> {
                Box::pin(async move {
                    tx.insert_customer(&c).await?;
                    panic!("a bug in a write job");
                })
            })
            .await
    });
    assert!(
        doomed.await.map(|r| r.is_err()).unwrap_or(true),
        "the caller sees a failure"
    );
    db.store
        .write(insert(customer("After"), false))
        .await
        .unwrap();
    let names: Vec<String> = db
        .store
        .read()
        .await
        .unwrap()
        .list_customers(&ListQuery::first(10))
        .await
        .unwrap()
        .data
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(
        names,
        vec!["After".to_owned()],
        "the panicking write left nothing behind"
    );
}

async fn a_savepoint_undoes_only_what_came_after_it(backend: TestBackend) {
    let db = TestDb::new(backend).await;
    let (kept, undone, after, released) = (
        customer("Kept"),
        customer("Undone"),
        customer("After"),
        customer("Released"),
    );
    let undone_id = undone.id.clone();
    db.store
        .write(move |tx: &mut Tx| -> WriteFuture<'_, (), StoreError> {
            Box::pin(async move {
                tx.insert_customer(&kept).await?;
                let sp = tx.savepoint().await?;
                tx.insert_customer(&undone).await?;
                tx.rollback_to(sp).await?;
                tx.insert_customer(&after).await?;
                let sp = tx.savepoint().await?;
                tx.insert_customer(&released).await?;
                tx.release(sp).await
            })
        })
        .await
        .unwrap();
    assert_eq!(count(&db).await, 3, "all but the undone customer");
    let mut r = db.store.read().await.unwrap();
    assert!(matches!(
        r.get_customer(&undone_id).await,
        Err(StoreError::NotFound)
    ));
}
