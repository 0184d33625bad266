//! Webhook fan-out and delivery claims, proven on SQLite and PostgreSQL:
//! deliveries commit (or vanish) with their event, only subscribed enabled
//! endpoints get one, claims never overlap even when raced, later events of
//! an object wait for earlier ones, and a lapsed claim cannot record.

use chrono::{DateTime, Duration, Utc};
use inflow_core::ids::{CustomerId, EventId, WebhookEndpointId};
use inflow_core::model::*;
use inflow_core::webhook::{EndpointStatus, EventSelector, WebhookEndpoint, WebhookUrl};
use inflow_store::repo::events::Event;
use inflow_store::repo::webhook_deliveries::{Attempt, NextStep};
use inflow_store::testing::{on_both_backends, TestBackend, TestDb};
use inflow_store::Store;
use std::collections::HashSet;

on_both_backends!(
    deliveries_are_created_with_the_event_for_subscribed_enabled_endpoints_only,
    raced_claims_never_hand_one_delivery_to_two_dispatchers,
    a_later_event_of_an_object_waits_until_the_earlier_one_is_final,
    only_the_claim_holder_records_an_outcome,
);

async fn customer(store: &Store) -> CustomerId {
    let now = Utc::now();
    let c = Customer {
        id: CustomerId::generate(now),
        name: "Acme".into(),
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
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_customer(&c).await.unwrap();
    tx.commit().await.unwrap();
    c.id
}

async fn endpoint(
    store: &Store,
    customer: &CustomerId,
    events: &[&str],
    status: EndpointStatus,
) -> WebhookEndpointId {
    let now = Utc::now();
    let e = WebhookEndpoint {
        id: WebhookEndpointId::generate(now),
        customer_id: Some(customer.clone()),
        url: WebhookUrl::parse("url", "http://127.0.0.1:9/x", true).unwrap(),
        enabled_events: EventSelector::parse(
            "enabledEvents",
            &events.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )
        .unwrap(),
        description: None,
        status,
        disabled_reason: None,
        disabled_at: None,
        consecutive_failures: 0,
        secret_sealed: vec![1, 2, 3],
        previous_secret_sealed: None,
        previous_secret_expires_at: None,
        metadata: Metadata::new(),
        created_at: now,
        updated_at: now,
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_webhook_endpoint(&e).await.unwrap();
    tx.commit().await.unwrap();
    e.id
}

fn event(customer: &CustomerId, kind: &str, object: &str, at: DateTime<Utc>) -> Event {
    Event {
        id: EventId::generate(at),
        customer_id: Some(customer.clone()),
        event_type: kind.into(),
        object_id: object.into(),
        data: serde_json::json!({"object": {"id": object}}),
        created_at: at,
    }
}

async fn emit(store: &Store, e: &Event) {
    let mut tx = store.begin().await.unwrap();
    tx.insert_event(e).await.unwrap();
    tx.commit().await.unwrap();
}

async fn claim(store: &Store, token: &str, limit: u32) -> Vec<String> {
    let now = Utc::now() + Duration::seconds(1);
    let mut tx = store.begin().await.unwrap();
    let got = tx
        .claim_due_deliveries(token, now, now, now + Duration::minutes(1), limit)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    got.into_iter().map(|d| d.id.to_string()).collect()
}

async fn deliveries_are_created_with_the_event_for_subscribed_enabled_endpoints_only(
    b: TestBackend,
) {
    let db = TestDb::new(b).await;
    let c = customer(&db.store).await;
    let other = customer(&db.store).await;
    let all = endpoint(&db.store, &c, &["*"], EndpointStatus::Enabled).await;
    let returns = endpoint(
        &db.store,
        &c,
        &["collection.returned"],
        EndpointStatus::Enabled,
    )
    .await;
    let off = endpoint(&db.store, &c, &["*"], EndpointStatus::Disabled).await;
    let foreign = endpoint(&db.store, &other, &["*"], EndpointStatus::Enabled).await;

    let created = event(&c, "collection.created", "col_1", Utc::now());
    emit(&db.store, &created).await;
    let returned = event(&c, "collection.returned", "col_1", Utc::now());
    emit(&db.store, &returned).await;
    // Rolled back: the event and its deliveries vanish together.
    let lost = event(&c, "collection.completed", "col_1", Utc::now());
    let mut tx = db.store.begin().await.unwrap();
    tx.insert_event(&lost).await.unwrap();
    tx.rollback().await.unwrap();

    let mut tx = db.store.read().await.unwrap();
    let to = |v: Vec<inflow_store::repo::webhook_deliveries::Delivery>| -> HashSet<_> {
        v.into_iter().map(|d| d.endpoint_id).collect()
    };
    assert_eq!(
        to(tx.deliveries_for_event(&created.id).await.unwrap()),
        [all.clone()].into_iter().collect()
    );
    assert_eq!(
        to(tx.deliveries_for_event(&returned.id).await.unwrap()),
        [all, returns].into_iter().collect()
    );
    assert!(tx.deliveries_for_event(&lost.id).await.unwrap().is_empty());
    let _ = (off, foreign);
}

async fn raced_claims_never_hand_one_delivery_to_two_dispatchers(b: TestBackend) {
    let db = TestDb::new(b).await;
    let c = customer(&db.store).await;
    endpoint(&db.store, &c, &["*"], EndpointStatus::Enabled).await;
    let n = 60;
    for i in 0..n {
        emit(
            &db.store,
            &event(&c, "collection.created", &format!("col_{i}"), Utc::now()),
        )
        .await;
    }
    let mut tasks = Vec::new();
    for t in 0..8 {
        let store = db.store.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = claim(&store, &format!("d{t}"), 3).await;
                if got.is_empty() {
                    return mine;
                }
                mine.extend(got);
            }
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let distinct: HashSet<_> = all.iter().cloned().collect();
    assert_eq!(all.len(), n, "every delivery claimed once: {}", all.len());
    assert_eq!(distinct.len(), n);
}

async fn a_later_event_of_an_object_waits_until_the_earlier_one_is_final(b: TestBackend) {
    let db = TestDb::new(b).await;
    let c = customer(&db.store).await;
    endpoint(&db.store, &c, &["*"], EndpointStatus::Enabled).await;
    let t0 = Utc::now();
    let first = event(&c, "collection.created", "col_x", t0);
    let second = event(
        &c,
        "collection.cancelled",
        "col_x",
        t0 + Duration::milliseconds(5),
    );
    let other = event(
        &c,
        "collection.created",
        "col_y",
        t0 + Duration::milliseconds(10),
    );
    for e in [&first, &second, &other] {
        emit(&db.store, e).await;
    }
    let got = claim(&db.store, "a", 10).await;
    assert_eq!(got.len(), 2, "col_x's first and col_y's only: {got:?}");
    // The first of col_x fails and is retried later: the second still waits.
    let first_delivery = db
        .store
        .read()
        .await
        .unwrap()
        .deliveries_for_event(&first.id)
        .await
        .unwrap()[0]
        .clone();
    let mut tx = db.store.begin().await.unwrap();
    let retry = Attempt {
        delivery_id: first_delivery.id.clone(),
        number: 1,
        attempted_at: Utc::now(),
        status_code: Some(500),
        latency_ms: 3,
        error: Some("HTTP 500".into()),
        succeeded: false,
    };
    assert!(tx
        .record_attempt(
            "a",
            &retry,
            NextStep::RetryAt(Utc::now() + Duration::hours(1))
        )
        .await
        .unwrap());
    tx.commit().await.unwrap();
    assert!(claim(&db.store, "b", 10).await.is_empty());
    let mut tx = db.store.read().await.unwrap();
    let now = Utc::now();
    assert!(
        !tx.has_due_deliveries(now, now).await.unwrap(),
        "nothing claimable"
    );
    drop(tx);
    // Once it is final (failed for good here), the second goes.
    let later = Utc::now() + Duration::hours(2);
    let mut tx = db.store.begin().await.unwrap();
    let again = tx
        .claim_due_deliveries(
            "c",
            later,
            Utc::now(),
            Utc::now() + Duration::minutes(1),
            10,
        )
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 2);
    let done = Attempt { number: 2, ..retry };
    assert!(tx
        .record_attempt("c", &done, NextStep::Failed)
        .await
        .unwrap());
    tx.commit().await.unwrap();
    let mut tx = db.store.begin().await.unwrap();
    let next = tx
        .claim_due_deliveries(
            "d",
            later,
            Utc::now(),
            Utc::now() + Duration::minutes(1),
            10,
        )
        .await
        .unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].event_id, second.id);
    tx.commit().await.unwrap();
    let attempts = db
        .store
        .read()
        .await
        .unwrap()
        .delivery_attempts(&first_delivery.id)
        .await
        .unwrap();
    assert_eq!(
        attempts.iter().map(|a| a.number).collect::<Vec<_>>(),
        [1, 2]
    );
}

async fn only_the_claim_holder_records_an_outcome(b: TestBackend) {
    let db = TestDb::new(b).await;
    let c = customer(&db.store).await;
    endpoint(&db.store, &c, &["*"], EndpointStatus::Enabled).await;
    let e = event(&c, "collection.created", "col_z", Utc::now());
    emit(&db.store, &e).await;
    // Claimed by "old" with a claim that has already lapsed…
    let now = Utc::now() + Duration::seconds(1);
    let mut tx = db.store.begin().await.unwrap();
    let got = tx
        .claim_due_deliveries("old", now, now, now - Duration::seconds(1), 1)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let d = got[0].clone();
    // …so "new" takes it over, and "old" can no longer record.
    assert_eq!(claim(&db.store, "new", 1).await, [d.id.to_string()]);
    let attempt = Attempt {
        delivery_id: d.id.clone(),
        number: 1,
        attempted_at: Utc::now(),
        status_code: Some(200),
        latency_ms: 1,
        error: None,
        succeeded: true,
    };
    let mut tx = db.store.begin().await.unwrap();
    assert!(!tx
        .record_attempt("old", &attempt, NextStep::Succeeded)
        .await
        .unwrap());
    let attempt = Attempt {
        number: 2,
        ..attempt
    };
    assert!(tx
        .record_attempt("new", &attempt, NextStep::Succeeded)
        .await
        .unwrap());
    tx.commit().await.unwrap();
    let after = db
        .store
        .read()
        .await
        .unwrap()
        .deliveries_for_event(&e.id)
        .await
        .unwrap();
    assert_eq!(
        after[0].status,
        inflow_core::webhook::DeliveryStatus::Succeeded
    );
    assert_eq!(after[0].attempts, 2);
    assert!(after[0].delivered_at.is_some());
}
