//! Webhook fan-out and delivery claims, proven on SQLite and PostgreSQL:
//! deliveries commit (or vanish) with their event, only subscribed enabled
//! endpoints get one, claims never overlap even when raced, later events of
//! an object wait for earlier ones, a lapsed claim cannot record, and a
//! claimed batch is read and recorded in a few statements.

use chrono::{DateTime, Duration, Utc};
use inflow_core::ids::{CustomerId, EventId, WebhookEndpointId};
use inflow_core::model::*;
use inflow_core::webhook::DeliveryStatus;
use inflow_core::webhook::{EndpointStatus, EventSelector, WebhookEndpoint, WebhookUrl};
use inflow_store::repo::events::Event;
use inflow_store::repo::webhook_deliveries::{Attempt, Delivery, NextStep};
use inflow_store::testing::{on_both_backends, TestBackend, TestDb};
use inflow_store::Store;
use std::collections::HashSet;

on_both_backends!(
    deliveries_are_created_with_the_event_for_subscribed_enabled_endpoints_only,
    raced_claims_never_hand_one_delivery_to_two_dispatchers,
    a_later_event_of_an_object_waits_until_the_earlier_one_is_final,
    only_the_claim_holder_records_an_outcome,
    a_claim_never_takes_more_deliveries_than_its_limit,
    a_batch_of_mixed_outcomes_is_recorded_in_one_pass_by_its_claim_holder_only,
    a_batch_reads_its_events_and_endpoints_at_once_skipping_missing_ones,
    endpoint_failure_runs_grow_by_a_stretch_and_reset_together,
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

async fn a_claim_never_takes_more_deliveries_than_its_limit(b: TestBackend) {
    let db = TestDb::new(b).await;
    let c = customer(&db.store).await;
    endpoint(&db.store, &c, &["*"], EndpointStatus::Enabled).await;
    for i in 0..5 {
        emit(
            &db.store,
            &event(&c, "collection.created", &format!("col_{i}"), Utc::now()),
        )
        .await;
    }
    assert_eq!(claim(&db.store, "a", 2).await.len(), 2);
    assert_eq!(claim(&db.store, "b", 2).await.len(), 2);
    assert_eq!(claim(&db.store, "c", 2).await.len(), 1);
}

/// Now, to the microsecond (what the store keeps).
fn micros_now() -> DateTime<Utc> {
    DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap()
}

fn attempt_of(
    d: &Delivery,
    at: DateTime<Utc>,
    status: Option<u16>,
    error: Option<&str>,
) -> Attempt {
    Attempt {
        delivery_id: d.id.clone(),
        number: d.attempts,
        attempted_at: at,
        status_code: status,
        latency_ms: 7,
        error: error.map(str::to_owned),
        succeeded: error.is_none(),
    }
}

async fn a_batch_of_mixed_outcomes_is_recorded_in_one_pass_by_its_claim_holder_only(
    b: TestBackend,
) {
    let db = TestDb::new(b).await;
    let c = customer(&db.store).await;
    endpoint(&db.store, &c, &["*"], EndpointStatus::Enabled).await;
    let t0 = Utc::now();
    for i in 0..4 {
        let at = t0 + Duration::milliseconds(i);
        emit(
            &db.store,
            &event(&c, "collection.created", &format!("col_{i}"), at),
        )
        .await;
    }
    let now = Utc::now() + Duration::seconds(1);
    let until = now + Duration::minutes(1);
    let mut tx = db.store.begin().await.unwrap();
    let mine = tx
        .claim_due_deliveries("a", now, now, until, 3)
        .await
        .unwrap();
    let theirs = tx
        .claim_due_deliveries("b", now, now, until, 3)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!((mine.len(), theirs.len()), (3, 1));

    let at = micros_now();
    let retry_at = at + Duration::minutes(5);
    let outcomes = vec![
        (
            attempt_of(&mine[0], at, Some(200), None),
            NextStep::Succeeded,
        ),
        (
            attempt_of(
                &mine[1],
                at,
                Some(500),
                Some("HTTP 500 Internal Server Error"),
            ),
            NextStep::RetryAt(retry_at),
        ),
        (
            attempt_of(&mine[2], at, None, Some("timed out after 10 s")),
            NextStep::Failed,
        ),
        // Claimed by "b": not "a"'s to record.
        (
            attempt_of(&theirs[0], at, Some(200), None),
            NextStep::Succeeded,
        ),
    ];
    let mut tx = db.store.begin().await.unwrap();
    let written = tx.record_attempts("a", &outcomes).await.unwrap();
    tx.commit().await.unwrap();
    let expected: HashSet<_> = mine.iter().map(|d| d.id.clone()).collect();
    assert_eq!(written, expected);

    let mut tx = db.store.read().await.unwrap();
    let mut after = Vec::new();
    for d in mine.iter().chain(&theirs) {
        let now = tx
            .deliveries_for_event(&d.event_id)
            .await
            .unwrap()
            .remove(0);
        let log = tx.delivery_attempts(&d.id).await.unwrap();
        after.push((now, log));
    }
    drop(tx);
    let (ok, ok_log) = &after[0];
    assert_eq!(ok.status, DeliveryStatus::Succeeded);
    assert_eq!((ok.delivered_at, ok.next_attempt_at), (Some(at), None));
    assert_eq!(
        (ok.last_status_code, ok.last_latency_ms),
        (Some(200), Some(7))
    );
    assert_eq!(ok_log, &[outcomes[0].0.clone()]);
    let (retry, retry_log) = &after[1];
    assert_eq!(retry.status, DeliveryStatus::Pending);
    assert_eq!(retry.next_attempt_at, Some(retry_at));
    assert_eq!(retry.last_status_code, Some(500));
    assert_eq!(
        retry.last_error.as_deref(),
        Some("HTTP 500 Internal Server Error")
    );
    assert_eq!(retry.delivered_at, None);
    assert_eq!(retry_log, &[outcomes[1].0.clone()]);
    let (failed, failed_log) = &after[2];
    assert_eq!(failed.status, DeliveryStatus::Failed);
    assert_eq!(
        (failed.last_status_code, failed.next_attempt_at),
        (None, None)
    );
    assert_eq!(failed.last_error.as_deref(), Some("timed out after 10 s"));
    assert_eq!(failed_log, &[outcomes[2].0.clone()]);
    let (other, other_log) = &after[3];
    assert_eq!(
        (other.status, other.last_attempt_at),
        (DeliveryStatus::Pending, None)
    );
    assert!(other_log.is_empty(), "no attempt row for a claim not held");

    // The retried delivery's claim was released: due again at retry_at
    // (business clock), while "b" still holds its own.
    let later = retry_at + Duration::seconds(1);
    let wall = Utc::now();
    let mut tx = db.store.begin().await.unwrap();
    let again = tx
        .claim_due_deliveries("c", later, wall, wall + Duration::minutes(1), 10)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let again: Vec<_> = again.into_iter().map(|d| d.id).collect();
    assert_eq!(again, [mine[1].id.clone()]);
}

async fn a_batch_reads_its_events_and_endpoints_at_once_skipping_missing_ones(b: TestBackend) {
    let db = TestDb::new(b).await;
    let c = customer(&db.store).await;
    let kept = endpoint(&db.store, &c, &["*"], EndpointStatus::Enabled).await;
    let gone = endpoint(&db.store, &c, &["*"], EndpointStatus::Enabled).await;
    let first = event(&c, "collection.created", "col_1", Utc::now());
    let second = event(&c, "collection.created", "col_2", Utc::now());
    emit(&db.store, &first).await;
    emit(&db.store, &second).await;
    let mut tx = db.store.begin().await.unwrap();
    tx.delete_webhook_endpoint(Some(&c), &gone).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = db.store.read().await.unwrap();
    let never = EventId::generate(Utc::now());
    let events = tx
        .events_by_ids(&[first.id.clone(), second.id.clone(), never])
        .await
        .unwrap();
    let ids: HashSet<_> = events.iter().map(|e| e.id.clone()).collect();
    assert_eq!(
        ids,
        [first.id.clone(), second.id.clone()].into_iter().collect()
    );
    assert_eq!(
        events.iter().find(|e| e.id == first.id).unwrap().object_id,
        "col_1"
    );
    let endpoints = tx
        .webhook_endpoints_by_ids(&[kept.clone(), gone])
        .await
        .unwrap();
    assert_eq!(endpoints.len(), 1);
    assert_eq!(endpoints[0].id, kept);
    assert!(tx.events_by_ids(&[]).await.unwrap().is_empty());
}

async fn endpoint_failure_runs_grow_by_a_stretch_and_reset_together(b: TestBackend) {
    let db = TestDb::new(b).await;
    let c = customer(&db.store).await;
    let one = endpoint(&db.store, &c, &["*"], EndpointStatus::Enabled).await;
    let two = endpoint(&db.store, &c, &["*"], EndpointStatus::Enabled).await;
    let mut tx = db.store.begin().await.unwrap();
    assert_eq!(tx.count_endpoint_failures(&one, 3).await.unwrap(), 3);
    assert_eq!(tx.count_endpoint_failures(&one, 2).await.unwrap(), 5);
    assert_eq!(tx.count_endpoint_failures(&two, 1).await.unwrap(), 1);
    let missing = WebhookEndpointId::generate(Utc::now());
    assert_eq!(tx.count_endpoint_failures(&missing, 1).await.unwrap(), 0);
    tx.reset_endpoint_failures(&[one.clone(), two.clone()])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = db.store.read().await.unwrap();
    for id in [&one, &two] {
        let e = tx.get_webhook_endpoint(None, id).await.unwrap();
        assert_eq!(e.consecutive_failures, 0, "{id}");
    }
}
