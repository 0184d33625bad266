//! The console's session rows on SQLite and PostgreSQL: found by token
//! hash, slid forward, deleted at sign-out, and purged once expired.

use chrono::{Duration, DurationRound, Utc};
use inflow_core::ids::ApiKeyId;
use inflow_core::model::{ApiKey, ApiKeyRole};
use inflow_store::repo::console_sessions::ConsoleSession;
use inflow_store::testing::{on_both_backends, TestBackend, TestDb};
use inflow_store::StoreError;

on_both_backends!(sessions_are_found_slid_deleted_and_purged);

async fn sessions_are_found_slid_deleted_and_purged(b: TestBackend) {
    let db = TestDb::new(b).await;
    // Stored in microseconds: compare at that precision.
    let now = Utc::now()
        .duration_trunc(Duration::microseconds(1))
        .unwrap();
    let key = ApiKey {
        id: ApiKeyId::generate(now),
        customer_id: None,
        role: ApiKeyRole::Admin,
        name: "ops".into(),
        prefix: "ik_test_ops".into(),
        key_hash: vec![7; 32],
        signing_secret_sealed: vec![1, 2, 3],
        created_at: now,
        revoked_at: None,
        require_signed_requests: false,
    };
    let session = |hash: &str, expires_at| ConsoleSession {
        token_hash: hash.into(),
        api_key_id: key.id.to_string(),
        csrf_token: format!("csrf-{hash}"),
        created_at: now,
        last_seen_at: now,
        expires_at,
    };
    let live = session("aa", now + Duration::hours(8));
    let stale = session("bb", now - Duration::seconds(1));
    let mut tx = db.store.begin().await.unwrap();
    tx.insert_api_key(&key).await.unwrap();
    tx.insert_console_session(&live).await.unwrap();
    tx.insert_console_session(&stale).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = db.store.begin().await.unwrap();
    assert_eq!(tx.get_console_session("aa").await.unwrap(), live);
    assert!(matches!(
        tx.get_console_session("zz").await,
        Err(StoreError::NotFound)
    ));
    let later = now + Duration::minutes(5);
    tx.touch_console_session("aa", later, later + Duration::hours(8))
        .await
        .unwrap();
    let slid = tx.get_console_session("aa").await.unwrap();
    assert_eq!(
        (slid.last_seen_at, slid.expires_at),
        (later, later + Duration::hours(8))
    );
    assert_eq!(tx.purge_console_sessions(now).await.unwrap(), 1);
    assert!(matches!(
        tx.get_console_session("bb").await,
        Err(StoreError::NotFound)
    ));
    assert!(tx.delete_console_session("aa").await.unwrap());
    assert!(!tx.delete_console_session("aa").await.unwrap());
    tx.commit().await.unwrap();
}
