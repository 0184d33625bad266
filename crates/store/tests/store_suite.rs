//! The store's behaviour, proven identically on SQLite and PostgreSQL.

use chrono::{Duration, Utc};
use inflow_core::bank::{AccountNumber, AccountType, HolderType, RoutingNumber};
use inflow_core::crypto::{MasterKey, Vault};
use inflow_core::ids::{AccountId, CustomerId, PaymentMethodId};
use inflow_core::model::*;
use inflow_core::money::Currency;
use inflow_store::repo::idempotency::Claim;
use inflow_store::repo::payment_methods::PaymentMethodFilter;
use inflow_store::testing::{TestBackend, TestDb};
use inflow_store::{ListQuery, StoreError};

macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::TestBackend::Sqlite).await })+
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::TestBackend::Postgres).await })+
        }
    };
}

on_both_backends!(
    customers_round_trip_every_field,
    objects_of_one_customer_are_invisible_to_another,
    pagination_walks_newest_first_without_gaps_or_repeats,
    external_ids_are_unique_per_customer_only,
    idempotency_claims_replay_mismatch_and_in_flight,
    a_stale_idempotency_claim_is_taken_over_and_the_old_owner_cannot_complete,
    concurrent_claims_of_one_key_have_exactly_one_winner,
    expired_idempotency_keys_are_purged,
    rolled_back_transactions_leave_nothing_behind,
);

fn customer(name: &str) -> Customer {
    let now = Utc::now();
    let mut metadata = Metadata::new();
    metadata.insert("tier".into(), "gold".into());
    Customer {
        id: CustomerId::generate(now),
        name: name.into(),
        kind: CustomerKind::Business,
        email: Some("ops@example.com".into()),
        status: CustomerStatus::Active,
        allow_one_time_source: true,
        require_signed_requests: false,
        ach_company_name: Some("ACME".into()),
        ach_company_id: Some("1234567890".into()),
        metadata,
        created_at: DateTimeMicros::trunc(now),
        updated_at: DateTimeMicros::trunc(now),
    }
}

/// Timestamps are stored with microsecond precision.
struct DateTimeMicros;
impl DateTimeMicros {
    fn trunc(t: chrono::DateTime<Utc>) -> chrono::DateTime<Utc> {
        chrono::DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap()
    }
}

fn bank_pm(customer: &CustomerId, vault: &Vault, external_id: Option<&str>) -> BankPaymentMethod {
    let now = DateTimeMicros::trunc(Utc::now());
    let id = PaymentMethodId::generate(now);
    let number = AccountNumber::parse("accountNumber", "000123456789").unwrap();
    let routing = RoutingNumber::parse("routingNumber", "121042882").unwrap();
    BankPaymentMethod {
        account_number_sealed: vault.seal(number.expose().as_bytes(), id.as_str()),
        fingerprint: vault.fingerprint(&[&routing.as_string(), number.expose()]),
        id,
        customer_id: customer.clone(),
        counterparty_id: None,
        status: PaymentMethodStatus::Active,
        status_reason: None,
        external_id: external_id.map(str::to_owned),
        routing_number: routing,
        account_last4: number.last4(),
        account_type: AccountType::Checking,
        holder_name: "Jane Doe".into(),
        holder_type: HolderType::Individual,
        metadata: Metadata::new(),
        created_at: now,
        updated_at: now,
    }
}

async fn customers_round_trip_every_field(backend: TestBackend) {
    let db = TestDb::new(backend).await;
    let c = customer("Acme");
    let mut tx = db.store.begin().await.unwrap();
    tx.insert_customer(&c).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = db.store.read().await.unwrap();
    assert_eq!(tx.get_customer(&c.id).await.unwrap(), c);
    let missing = CustomerId::generate(Utc::now());
    assert!(matches!(
        tx.get_customer(&missing).await,
        Err(StoreError::NotFound)
    ));
}

async fn objects_of_one_customer_are_invisible_to_another(backend: TestBackend) {
    let db = TestDb::new(backend).await;
    let vault = Vault::new(&MasterKey::generate());
    let (a, b) = (customer("A"), customer("B"));
    let mut tx = db.store.begin().await.unwrap();
    tx.insert_customer(&a).await.unwrap();
    tx.insert_customer(&b).await.unwrap();
    let pm = bank_pm(&a.id, &vault, None);
    tx.insert_bank_payment_method(&pm).await.unwrap();
    let now = DateTimeMicros::trunc(Utc::now());
    let acc = Account {
        id: AccountId::generate(now),
        customer_id: a.id.clone(),
        name: "Main".into(),
        currency: Currency::Usd,
        status: AccountStatus::Active,
        external_id: None,
        metadata: Metadata::new(),
        created_at: now,
        updated_at: now,
    };
    tx.insert_account(&acc).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = db.store.read().await.unwrap();
    assert_eq!(tx.get_bank_payment_method(&a.id, &pm.id).await.unwrap(), pm);
    assert!(matches!(
        tx.get_bank_payment_method(&b.id, &pm.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        tx.get_account(&b.id, &acc.id).await,
        Err(StoreError::NotFound)
    ));
    let q = ListQuery::first(10);
    assert!(tx
        .list_bank_payment_methods(&b.id, &PaymentMethodFilter::default(), &q)
        .await
        .unwrap()
        .data
        .is_empty());
    assert_eq!(tx.list_accounts(&a.id, &q).await.unwrap().data, vec![acc]);
}

async fn pagination_walks_newest_first_without_gaps_or_repeats(backend: TestBackend) {
    let db = TestDb::new(backend).await;
    let mut made = Vec::new();
    let mut tx = db.store.begin().await.unwrap();
    for i in 0..7 {
        let c = customer(&format!("C{i}"));
        tx.insert_customer(&c).await.unwrap();
        made.push(c.id);
    }
    tx.commit().await.unwrap();
    made.reverse();

    let mut seen = Vec::new();
    let mut q = ListQuery::first(3);
    loop {
        let mut tx = db.store.read().await.unwrap();
        let page = tx.list_customers(&q).await.unwrap();
        seen.extend(page.data.iter().map(|c| c.id.clone()));
        if !page.has_more {
            break;
        }
        q.starting_after = page.data.last().unwrap().id.to_string();
    }
    assert_eq!(seen, made);
}

async fn external_ids_are_unique_per_customer_only(backend: TestBackend) {
    let db = TestDb::new(backend).await;
    let vault = Vault::new(&MasterKey::generate());
    let (a, b) = (customer("A"), customer("B"));
    let mut tx = db.store.begin().await.unwrap();
    tx.insert_customer(&a).await.unwrap();
    tx.insert_customer(&b).await.unwrap();
    tx.insert_bank_payment_method(&bank_pm(&a.id, &vault, Some("ext-1")))
        .await
        .unwrap();
    tx.insert_bank_payment_method(&bank_pm(&b.id, &vault, Some("ext-1")))
        .await
        .unwrap();
    tx.insert_bank_payment_method(&bank_pm(&a.id, &vault, None))
        .await
        .unwrap();
    tx.insert_bank_payment_method(&bank_pm(&a.id, &vault, None))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = db.store.begin().await.unwrap();
    let err = tx
        .insert_bank_payment_method(&bank_pm(&a.id, &vault, Some("ext-1")))
        .await
        .unwrap_err();
    assert!(err.is_conflict(), "{err:?}");
}

const HOUR: fn() -> Duration = || Duration::hours(24);

async fn idempotency_claims_replay_mismatch_and_in_flight(backend: TestBackend) {
    let db = TestDb::new(backend).await;
    let now = Utc::now();
    let claim = |hash: &'static [u8]| {
        let store = db.store.clone();
        async move {
            let mut tx = store.begin().await.unwrap();
            let c = tx
                .claim_idempotency_key("cus_x", "k1", hash, now, Duration::seconds(60), HOUR())
                .await
                .unwrap();
            tx.commit().await.unwrap();
            c
        }
    };
    let Claim::Acquired { token } = claim(b"h1").await else {
        panic!("first claim must win")
    };
    assert!(matches!(claim(b"h1").await, Claim::InFlight { .. }));
    assert_eq!(claim(b"h2").await, Claim::Mismatch);

    let mut tx = db.store.begin().await.unwrap();
    assert!(tx
        .complete_idempotency_key("cus_x", "k1", &token, 201, "{\"id\":1}")
        .await
        .unwrap());
    tx.commit().await.unwrap();
    assert_eq!(
        claim(b"h1").await,
        Claim::Replay {
            status: 201,
            body: "{\"id\":1}".into()
        }
    );
    assert_eq!(claim(b"h2").await, Claim::Mismatch);

    // Keys are scoped: the same key elsewhere is a different record.
    let mut tx = db.store.begin().await.unwrap();
    let other = tx
        .claim_idempotency_key("cus_y", "k1", b"h2", now, Duration::seconds(60), HOUR())
        .await
        .unwrap();
    assert!(matches!(other, Claim::Acquired { .. }));
}

async fn a_stale_idempotency_claim_is_taken_over_and_the_old_owner_cannot_complete(
    backend: TestBackend,
) {
    let db = TestDb::new(backend).await;
    let t0 = Utc::now();
    let mut tx = db.store.begin().await.unwrap();
    let Claim::Acquired { token: old } = tx
        .claim_idempotency_key("s", "k", b"h", t0, Duration::seconds(30), HOUR())
        .await
        .unwrap()
    else {
        panic!()
    };
    tx.commit().await.unwrap();

    let later = t0 + Duration::seconds(31);
    let mut tx = db.store.begin().await.unwrap();
    let Claim::Acquired { token: new } = tx
        .claim_idempotency_key("s", "k", b"h", later, Duration::seconds(30), HOUR())
        .await
        .unwrap()
    else {
        panic!("a claim whose lock expired must be taken over")
    };
    tx.commit().await.unwrap();
    assert_ne!(old, new);

    let mut tx = db.store.begin().await.unwrap();
    assert!(!tx
        .complete_idempotency_key("s", "k", &old, 200, "old")
        .await
        .unwrap());
    assert!(tx
        .complete_idempotency_key("s", "k", &new, 200, "new")
        .await
        .unwrap());
    tx.commit().await.unwrap();
}

async fn concurrent_claims_of_one_key_have_exactly_one_winner(backend: TestBackend) {
    let db = TestDb::new(backend).await;
    let now = Utc::now();
    let mut handles = Vec::new();
    for _ in 0..20 {
        let store = db.store.clone();
        handles.push(tokio::spawn(async move {
            let mut tx = store.begin().await.unwrap();
            let c = tx
                .claim_idempotency_key("s", "race", b"h", now, Duration::seconds(60), HOUR())
                .await
                .unwrap();
            tx.commit().await.unwrap();
            c
        }));
    }
    let mut winners = 0;
    for h in handles {
        match h.await.unwrap() {
            Claim::Acquired { .. } => winners += 1,
            Claim::InFlight { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(winners, 1);
}

async fn expired_idempotency_keys_are_purged(backend: TestBackend) {
    let db = TestDb::new(backend).await;
    let t0 = Utc::now();
    let mut tx = db.store.begin().await.unwrap();
    tx.claim_idempotency_key("s", "a", b"h", t0, Duration::seconds(1), Duration::hours(1))
        .await
        .unwrap();
    tx.claim_idempotency_key("s", "b", b"h", t0, Duration::seconds(1), Duration::hours(3))
        .await
        .unwrap();
    assert_eq!(
        tx.purge_expired_idempotency_keys(t0 + Duration::hours(2))
            .await
            .unwrap(),
        1
    );
    // After expiry the key can be used afresh, even with another request.
    let c = tx
        .claim_idempotency_key(
            "s",
            "b",
            b"other",
            t0 + Duration::hours(4),
            Duration::seconds(1),
            HOUR(),
        )
        .await
        .unwrap();
    assert!(matches!(c, Claim::Acquired { .. }));
}

async fn rolled_back_transactions_leave_nothing_behind(backend: TestBackend) {
    let db = TestDb::new(backend).await;
    let c = customer("Ghost");
    let mut tx = db.store.begin().await.unwrap();
    tx.insert_customer(&c).await.unwrap();
    drop(tx);
    let mut tx = db.store.read().await.unwrap();
    assert!(matches!(
        tx.get_customer(&c.id).await,
        Err(StoreError::NotFound)
    ));
}
