//! The ledger under random lifecycles, on SQLite and PostgreSQL: for random
//! sequences of create / submit (in bulk, as the cutoff does) / complete /
//! return (also late, after completion) / cancel, every transaction
//! balances, every balance equals the sum of its entries and the model's
//! expectation, and the day's settlement report ties to the entries.
//! Plus: many parallel returns and completions on one destination account
//! on PostgreSQL lose no update.

use chrono::{DateTime, TimeZone, Utc};
use inflow_core::bank::{AccountType, HolderType, RoutingNumber};
use inflow_core::calendar::local_date;
use inflow_core::collection::*;
use inflow_core::fees::FeeSchedule;
use inflow_core::ids::{AccountId, CollectionId, CustomerId};
use inflow_core::model::*;
use inflow_core::money::{Currency, Money};
use inflow_engine::ledger;
use inflow_server::api::reports::settlement_report;
use inflow_store::testing::{TestBackend, TestDb};
use inflow_store::{Store, StoreError};
use proptest::prelude::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 20, 0, 0).unwrap()
}

fn schedule() -> FeeSchedule {
    FeeSchedule {
        ach_fixed: 25,
        ach_same_day_surcharge: 100,
        ach_percentage_bps: 80,
        ach_percentage_min: 10,
        ach_percentage_max: 500,
        ach_return_fee: 1_500,
        card_percentage_bps: 0,
        card_fixed: 0,
    }
}

/// A customer with `n` destination accounts.
async fn setup(store: &Store, n: usize) -> (CustomerId, Vec<AccountId>) {
    let t = now();
    let customer = Customer {
        id: CustomerId::generate(Utc::now()),
        name: "Acme".into(),
        kind: CustomerKind::Business,
        email: None,
        status: CustomerStatus::Active,
        allow_one_time_source: true,
        require_signed_requests: false,
        ach_company_name: Some("ACME".into()),
        ach_company_id: Some("1234567890".into()),
        ach_policy: Default::default(),
        card_daily_limit: inflow_core::model::DEFAULT_CARD_DAILY_LIMIT,
        metadata: Metadata::new(),
        created_at: t,
        updated_at: t,
    };
    let accounts: Vec<Account> = (0..n)
        .map(|i| Account {
            id: AccountId::generate(Utc::now()),
            customer_id: customer.id.clone(),
            name: format!("A{i}"),
            currency: Currency::parse("currency", "USD").unwrap(),
            status: AccountStatus::Active,
            external_id: None,
            metadata: Metadata::new(),
            created_at: t,
            updated_at: t,
        })
        .collect();
    let (c2, a2) = (customer.clone(), accounts.clone());
    store
        .write(move |tx| {
            Box::pin(async move {
                tx.insert_customer(&c2).await?;
                for a in &a2 {
                    tx.insert_account(a).await?;
                }
                Ok::<_, StoreError>(())
            })
        })
        .await
        .unwrap();
    (customer.id, accounts.into_iter().map(|a| a.id).collect())
}

fn debit(customer: &CustomerId, account: &AccountId, amount: i64, same_day: bool) -> AchCollection {
    let t = now();
    let mode = if same_day {
        ProcessingMode::SameDay
    } else {
        ProcessingMode::Standard
    };
    let day = local_date(t);
    AchCollection {
        id: CollectionId::generate(Utc::now()),
        customer_id: customer.clone(),
        entry_type: AchEntryType::Debit,
        status: CollectionStatus::Pending,
        status_reason: None,
        status_history: vec![],
        amount: Money::usd(amount).unwrap(),
        destination_account_id: account.clone(),
        payment_method_id: None,
        counterparty_id: None,
        routing_number: RoutingNumber::parse("r", "021000021").unwrap(),
        account_number_sealed: vec![0],
        account_last4: "6789".into(),
        account_fingerprint: "fp".into(),
        account_type: AccountType::Checking,
        holder_name: "Jane Doe".into(),
        holder_type: HolderType::Individual,
        sec_code: SecCode::Ppd,
        processing_mode: mode,
        payment_type: None,
        effective_date: day,
        release_date: day,
        authorization: Authorization {
            kind: AuthorizationType::Written,
            obtained_at: t,
            ip_address: None,
            evidence_ref: None,
        },
        company_name: "ACME".into(),
        company_id: "1234567890".into(),
        company_entry_description: "UTILITY".into(),
        addenda: None,
        reference: None,
        purpose: None,
        external_id: None,
        metadata: Metadata::new(),
        trace_number: None,
        file_id: None,
        return_code: None,
        return_trace: None,
        noc_code: None,
        noc_corrected_data: None,
        created_at: t,
        updated_at: t,
        submitted_at: None,
        completed_at: None,
        returned_at: None,
        hold: None,
        schedule: None,
        fees: schedule().ach_fees(amount, mode),
    }
}

#[derive(Debug, Clone)]
enum Op {
    Create {
        account: usize,
        amount: i64,
        same_day: bool,
    },
    /// The cutoff: every pending collection, in one bulk posting.
    Submit,
    Complete(usize),
    Return(usize),
    Cancel(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..2usize, 1i64..200_000, any::<bool>())
            .prop_map(|(account, amount, same_day)| Op::Create { account, amount, same_day }),
        1 => Just(Op::Submit),
        2 => (0..64usize).prop_map(Op::Complete),
        2 => (0..64usize).prop_map(Op::Return),
        1 => (0..64usize).prop_map(Op::Cancel),
    ]
}

/// Move collection `id` to `to` the way the engine's workers do: the
/// status update and its postings in one transaction.
async fn step(store: &Store, id: CollectionId, to: CollectionStatus) {
    store
        .write(move |tx| {
            Box::pin(async move {
                let mut c = tx.get_ach_collection(None, &id).await?;
                let from = c.status;
                if !from.can_become(to) {
                    return Ok::<_, StoreError>(());
                }
                c.transition(to, None, now()).unwrap();
                if tx.update_ach_collection_if(&c, from).await? {
                    ledger::on_status_change(tx, from, &c, now()).await?;
                }
                Ok(())
            })
        })
        .await
        .unwrap();
}

/// Through processing to completed (or straight to `to` otherwise).
async fn drive(store: &Store, id: &CollectionId, to: CollectionStatus) {
    if to == CollectionStatus::Completed {
        step(store, id.clone(), CollectionStatus::Processing).await;
    }
    step(store, id.clone(), to).await;
}

async fn run_case(store: &Store, ops: Vec<Op>) {
    let (customer, accounts) = setup(store, 2).await;
    let mut ids: Vec<CollectionId> = Vec::new();
    for op in ops {
        match op {
            Op::Create {
                account,
                amount,
                same_day,
            } => {
                let c = debit(&customer, &accounts[account], amount, same_day);
                if c.fees.total() > amount {
                    continue; // refused at creation
                }
                ids.push(c.id.clone());
                store
                    .write(move |tx| Box::pin(async move { tx.insert_ach_collection(&c).await }))
                    .await
                    .unwrap();
            }
            Op::Submit => {
                let ids2 = ids.clone();
                store
                    .write(move |tx| {
                        Box::pin(async move {
                            let mut due = Vec::new();
                            for c in tx.load_ach_collections(&ids2).await? {
                                if c.status == CollectionStatus::Pending {
                                    let mut c = c;
                                    c.transition(CollectionStatus::Submitted, None, now())
                                        .unwrap();
                                    due.push(c);
                                }
                            }
                            tx.update_ach_collections_if(&due, CollectionStatus::Pending)
                                .await?;
                            ledger::post_submitted(tx, &due, local_date(now()), now()).await
                        })
                    })
                    .await
                    .unwrap();
            }
            Op::Complete(i) | Op::Return(i) | Op::Cancel(i) if ids.is_empty() => {
                let _ = i;
            }
            Op::Complete(i) => drive(store, &ids[i % ids.len()], CollectionStatus::Completed).await,
            Op::Return(i) => drive(store, &ids[i % ids.len()], CollectionStatus::Returned).await,
            Op::Cancel(i) => drive(store, &ids[i % ids.len()], CollectionStatus::Cancelled).await,
        }
    }
    verify(store, &accounts, &ids).await;
}

/// The model: what each account's balances must be, from the collections'
/// final statuses (and whether a returned one had been submitted).
async fn verify(store: &Store, accounts: &[AccountId], ids: &[CollectionId]) {
    let mut tx = store.read().await.unwrap();
    let check = tx.check_ledger().await.unwrap();
    assert!(check.is_ok(), "{check:?}");
    let cs = tx.load_ach_collections(ids).await.unwrap();
    for a in accounts {
        let (mut pending, mut available) = (0i64, 0i64);
        for c in cs.iter().filter(|c| &c.destination_account_id == a) {
            let net = c.fees.net_of(c.amount.minor());
            let was_submitted = c.submitted_at.is_some();
            match c.status {
                CollectionStatus::Submitted | CollectionStatus::Processing => pending += net,
                CollectionStatus::Completed => available += net,
                CollectionStatus::Returned if was_submitted => available -= c.fees.return_fee,
                _ => {}
            }
        }
        let b = tx.ledger_balances(a).await.unwrap();
        assert_eq!(
            (b.pending, b.available),
            (pending, available),
            "account {a}"
        );
    }
    // The day's report ties: every account's net and fees come from clearing.
    let report = settlement_report(&mut tx, local_date(now())).await.unwrap();
    assert!(report.ties_out.accounts_match_clearing, "{report:?}");
    let mut total = 0i64;
    for line in &report.accounts {
        let id = AccountId::from_trusted(line.account_id.clone().unwrap());
        let b = tx.ledger_balances(&id).await.unwrap();
        assert_eq!(line.net.parse::<i64>().unwrap(), b.total(), "{line:?}");
        total += b.total();
    }
    assert_eq!(report.totals.net.parse::<i64>().unwrap(), total);
}

fn property(backend: TestBackend, cases: u32) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let db = rt.block_on(TestDb::new(backend));
    let config = ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(ops in proptest::collection::vec(op(), 1..40))| {
        rt.block_on(run_case(&db.store, ops));
    });
}

#[test]
fn random_lifecycles_keep_the_ledger_balanced_on_sqlite() {
    property(TestBackend::Sqlite, 24);
}

#[test]
fn random_lifecycles_keep_the_ledger_balanced_on_postgres() {
    property(TestBackend::Postgres, 12);
}

/// Many parallel completions and returns (some racing on the same
/// collection) on one destination account: balances stay exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_returns_and_completions_lose_no_update_on_postgres() {
    let db = TestDb::new(TestBackend::Postgres).await;
    let store = db.store.clone();
    let (customer, accounts) = setup(&store, 1).await;
    let account = accounts[0].clone();
    let mut due = Vec::new();
    for i in 0..40 {
        let mut c = debit(&customer, &account, 10_000 + i, false);
        c.transition(CollectionStatus::Submitted, None, now())
            .unwrap();
        c.transition(CollectionStatus::Processing, None, now())
            .unwrap();
        due.push(c);
    }
    let due2 = due.clone();
    store
        .write(move |tx| {
            Box::pin(async move {
                for c in &due2 {
                    tx.insert_ach_collection(c).await?;
                }
                ledger::post_submitted(tx, &due2, local_date(now()), now()).await
            })
        })
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for (i, c) in due.iter().enumerate() {
        let ops: &[CollectionStatus] = match i % 4 {
            0 => &[CollectionStatus::Completed],
            1 => &[CollectionStatus::Returned],
            // Racing: a completion and a return on the same collection.
            _ => &[CollectionStatus::Completed, CollectionStatus::Returned],
        };
        for to in ops {
            let (store, id, to) = (store.clone(), c.id.clone(), *to);
            tasks.push(tokio::spawn(async move {
                if to == CollectionStatus::Completed {
                    step(&store, id, to).await;
                } else {
                    // Like `apply_return`: an unconditional update after reading.
                    store
                        .write(move |tx| {
                            Box::pin(async move {
                                let mut c = tx.get_ach_collection(None, &id).await?;
                                let from = c.status;
                                if !from.can_become(CollectionStatus::Returned) {
                                    return Ok::<_, StoreError>(());
                                }
                                c.transition(CollectionStatus::Returned, None, now())
                                    .unwrap();
                                tx.update_ach_collection(&c).await?;
                                ledger::on_status_change(tx, from, &c, now()).await
                            })
                        })
                        .await
                        .unwrap();
                }
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    let ids: Vec<CollectionId> = due.iter().map(|c| c.id.clone()).collect();
    verify(&store, &[account], &ids).await;
}
