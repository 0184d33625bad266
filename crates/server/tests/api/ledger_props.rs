//! The ledger under random lifecycles, on SQLite and PostgreSQL: for random
//! sequences of ACH create / submit (in bulk, as the cutoff does) / complete
//! / return (also late, after completion) / cancel, interleaved with card
//! sale / authorization / capture (partial) / void / refund (partial) /
//! lost processor answers and their reconciliation / batch close — all
//! through the engine's real card code and the sandbox processor — every
//! transaction balances, every balance equals the sum of its entries and
//! the model's expectation, the processor's books equal Inflow's, and the
//! day's settlement report ties to the entries.
//! Plus: many parallel returns and completions on one destination account
//! on PostgreSQL lose no update.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use inflow_core::bank::{AccountType, HolderType, RoutingNumber};
use inflow_core::calendar::local_date;
use inflow_core::card::{
    BillingAddress, CardCollection, CardNumber, CardPaymentMethod, CardStatus, CardTxType,
    ProcessorCall,
};
use inflow_core::collection::*;
use inflow_core::crypto::{MasterKey, Vault};
use inflow_core::fees::FeeSchedule;
use inflow_core::ids::{AccountId, CollectionId, CustomerId, PaymentMethodId};
use inflow_core::model::*;
use inflow_core::money::{Currency, Money};
use inflow_engine::cards::call::{make_call, record_attempt};
use inflow_engine::cards::jobs;
use inflow_engine::cards::reserve::{
    reserve_capture, reserve_create, reserve_refund, reserve_void, RefundAsk,
};
use inflow_engine::cards::{CardConfig, CardError, NewCardCollection, SandboxProcessor};
use inflow_engine::ledger;
use inflow_server::api::reports::settlement_report;
use inflow_store::testing::{TestBackend, TestDb};
use inflow_store::{Store, StoreError};
use proptest::prelude::*;
use std::sync::atomic::{AtomicI64, Ordering};

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
        card_percentage_bps: 290,
        card_fixed: 30,
        card_dispute_fee: 1_500,
    }
}

#[derive(Debug)]
struct FixedClock;

impl inflow_core::clock::Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        now()
    }
}

/// What the card operations need.
struct Cards {
    vault: Vault,
    processor: SandboxProcessor,
    cfg: CardConfig,
    /// An ordinary card, and one whose processor answers get lost.
    pms: [CardPaymentMethod; 2],
}

/// Batch closes so far, across cases (each closes a later day).
static BATCH_DAYS: AtomicI64 = AtomicI64::new(0);

async fn cards_setup(store: &Store, customer: &CustomerId) -> Cards {
    let vault = Vault::new(&MasterKey::generate());
    let pm = |number: &str| {
        let n = CardNumber::parse("number", number).unwrap();
        let id = PaymentMethodId::generate(Utc::now());
        CardPaymentMethod {
            number_sealed: vault.seal(n.expose().as_bytes(), id.as_str()),
            fingerprint: vault.fingerprint(&["card", n.expose()]),
            brand: n.brand(),
            last4: n.last4(),
            id,
            customer_id: customer.clone(),
            counterparty_id: None,
            status: PaymentMethodStatus::Active,
            external_id: None,
            exp_month: 12,
            exp_year: 2040,
            holder_name: "Jane Doe".into(),
            billing_address: BillingAddress {
                postal_code: "20001".into(),
                ..Default::default()
            },
            cvc_check: "unchecked".into(),
            metadata: Metadata::new(),
            created_at: now(),
            updated_at: now(),
        }
    };
    let pms = [pm("4242424242424242"), pm("4000000000000036")];
    let (p2, cus) = (pms.clone(), customer.clone());
    store
        .write(move |tx| {
            Box::pin(async move {
                tx.put_fee_schedule(cus.as_str(), &schedule(), now())
                    .await?;
                for p in &p2 {
                    tx.insert_card_payment_method(p).await?;
                }
                Ok::<_, StoreError>(())
            })
        })
        .await
        .unwrap();
    Cards {
        vault,
        processor: SandboxProcessor::new(store.clone(), std::sync::Arc::new(FixedClock)),
        cfg: CardConfig::default(),
        pms,
    }
}

/// Make a reserved call and record its answer (or its absence).
async fn call_processor(store: &Store, k: &Cards, call: ProcessorCall) {
    let attempt = make_call(store, &k.processor, &k.vault, &call, None)
        .await
        .unwrap();
    let cfg = k.cfg.clone();
    store
        .write(move |tx| {
            Box::pin(async move {
                record_attempt(tx, &cfg, call, Some(attempt), now())
                    .await
                    .map(|_| ())
            })
        })
        .await
        .unwrap();
}

/// Reserve with `reserve`; a refusal (state, amount) is a valid outcome.
async fn card_step<F>(store: &Store, k: &Cards, reserve: F)
where
    F: for<'t> FnOnce(
            &'t mut inflow_store::Tx,
        ) -> inflow_store::WriteFuture<'t, ProcessorCall, CardError>
        + Send
        + 'static,
{
    match store.write(reserve).await {
        Ok(call) => call_processor(store, k, call).await,
        Err(CardError::Refused(r))
            if matches!(
                r.kind,
                inflow_core::RefusalKind::Conflict | inflow_core::RefusalKind::Unprocessable
            ) => {}
        Err(e) => panic!("{e}"),
    }
}

/// Retry every unanswered call (the reconciliation job), without a batch
/// close: an hour after the latest instant any job ran at (batch closes
/// move the job clock days ahead), twice, so a call whose first retry lost
/// its answer too is answered by the second.
async fn reconcile(store: &Store, k: &Cards) -> Vec<NaiveDate> {
    let closed = BATCH_DAYS.load(Ordering::SeqCst);
    let latest = if closed == 0 {
        now()
    } else {
        let day = local_date(now()) + chrono::Duration::days(closed - 1);
        inflow_core::calendar::eastern_instant(day, k.cfg.batch_close).max(now())
    };
    let mut days = Vec::new();
    for hours in [1, 2] {
        let at = latest + chrono::Duration::hours(hours);
        jobs::run_due(store, &k.processor, &k.vault, &k.cfg, at, at)
            .await
            .unwrap();
        days.push(local_date(at));
    }
    days
}

/// Close the next batch day (after reconciling, so every capture posts today).
async fn batch_close(store: &Store, k: &Cards) -> Vec<NaiveDate> {
    let days = reconcile(store, k).await;
    let n = BATCH_DAYS.fetch_add(1, Ordering::SeqCst);
    let day = local_date(now()) + chrono::Duration::days(n);
    let close = inflow_core::calendar::eastern_instant(day, k.cfg.batch_close);
    let from = close - chrono::Duration::minutes(1);
    jobs::run_due(
        store,
        &k.processor,
        &k.vault,
        &k.cfg,
        from,
        close + chrono::Duration::minutes(1),
    )
    .await
    .unwrap();
    days
}

/// `pct`% of `of`, at least 1.
fn part(of: i64, pct: i64) -> i64 {
    (of * pct / 100).max(1)
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
        allowed_company_names: Vec::new(),
        ach_policy: Default::default(),
        card_daily_limit: 1_000_000_000_000,
        ach_limits: Default::default(),
        can_manage_api_keys: false,
        odfi_id: None,
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
            odfi_id: None,
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
        noc_correction: None,
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
    /// A sale or an authorization, on the ordinary card or the one whose answers get lost.
    CardCreate {
        account: usize,
        amount: i64,
        sale: bool,
        lost: bool,
    },
    CardCapture(usize, i64),
    CardVoid(usize),
    CardRefund(usize, i64),
    Reconcile,
    BatchClose,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..2usize, 1i64..200_000, any::<bool>())
            .prop_map(|(account, amount, same_day)| Op::Create { account, amount, same_day }),
        1 => Just(Op::Submit),
        2 => (0..64usize).prop_map(Op::Complete),
        2 => (0..64usize).prop_map(Op::Return),
        1 => (0..64usize).prop_map(Op::Cancel),
        3 => (0..2usize, 1i64..200_000, any::<bool>(), proptest::bool::weighted(0.25))
            .prop_map(|(account, amount, sale, lost)| Op::CardCreate { account, amount, sale, lost }),
        2 => (0..64usize, 1i64..=100).prop_map(|(i, pct)| Op::CardCapture(i, pct)),
        1 => (0..64usize).prop_map(Op::CardVoid),
        2 => (0..64usize, 1i64..=100).prop_map(|(i, pct)| Op::CardRefund(i, pct)),
        1 => Just(Op::Reconcile),
        1 => Just(Op::BatchClose),
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
    let k = cards_setup(store, &customer).await;
    let mut ids: Vec<CollectionId> = Vec::new();
    let mut cards: Vec<CollectionId> = Vec::new();
    // The days postings may land on (reconciliation runs later than `now`).
    let mut days = std::collections::BTreeSet::from([local_date(now())]);
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
            Op::CardCreate {
                account,
                amount,
                sale,
                lost,
            } => {
                let new = NewCardCollection {
                    customer_id: customer.clone(),
                    tx_type: if sale {
                        CardTxType::Sale
                    } else {
                        CardTxType::Authorization
                    },
                    amount: Money::usd(amount).unwrap(),
                    destination_account_id: accounts[account].clone(),
                    payment_method: k.pms[usize::from(lost)].clone(),
                    approval_code: None,
                    external_id: None,
                    reference: None,
                    metadata: Metadata::new(),
                    duplicate_window: None,
                    capabilities: inflow_engine::cards::CardProcessor::capabilities(&k.processor),
                };
                let (c, call) = store
                    .write(move |tx| {
                        Box::pin(async move { reserve_create(tx, new, None, now()).await })
                    })
                    .await
                    .unwrap();
                cards.push(c.id);
                call_processor(store, &k, call).await;
            }
            Op::CardCapture(_, _) | Op::CardVoid(_) | Op::CardRefund(_, _) if cards.is_empty() => {}
            Op::CardCapture(i, pct) => {
                let (cus, id) = (customer.clone(), cards[i % cards.len()].clone());
                card_step(store, &k, move |tx| {
                    Box::pin(async move {
                        let c = tx.get_card_collection(None, &id).await?;
                        let amount = Money::usd(part(c.authorized_minor, pct)).unwrap();
                        reserve_capture(tx, &cus, &id, Some(amount), None, now())
                            .await
                            .map(|r| r.1)
                    })
                })
                .await;
            }
            Op::CardVoid(i) => {
                let (cus, id) = (customer.clone(), cards[i % cards.len()].clone());
                card_step(store, &k, move |tx| {
                    Box::pin(async move {
                        reserve_void(tx, &cus, &id, None, None, now())
                            .await
                            .map(|r| r.1)
                    })
                })
                .await;
            }
            Op::CardRefund(i, pct) => {
                let (cus, id) = (customer.clone(), cards[i % cards.len()].clone());
                card_step(store, &k, move |tx| {
                    Box::pin(async move {
                        let c = tx.get_card_collection(None, &id).await?;
                        let amount = Money::usd(part(c.refundable_minor(), pct)).unwrap();
                        reserve_refund(
                            tx,
                            &cus,
                            &id,
                            RefundAsk {
                                amount: Some(amount),
                                ..Default::default()
                            },
                            None,
                            now(),
                        )
                        .await
                        .map(|r| r.1)
                    })
                })
                .await;
            }
            Op::Reconcile => days.extend(reconcile(store, &k).await),
            Op::BatchClose => days.extend(batch_close(store, &k).await),
        }
    }
    // Every call answered before checking (the lost-answer card's first answers).
    days.extend(reconcile(store, &k).await);
    verify(store, &accounts, &ids, &cards, &days).await;
}

/// A card collection's expected (pending, available): captured less fees,
/// refunds taken from pending first until settlement; voided and declined
/// move nothing.
fn card_model(c: &CardCollection) -> (i64, i64) {
    use CardStatus::*;
    if !matches!(
        c.status,
        Captured | Completed | PartiallyRefunded | Refunded
    ) {
        return (0, 0);
    }
    let net = c.captured_minor - c.fees().total();
    let refunded = c.refunded_minor;
    if c.is_settled() {
        (0, net - refunded)
    } else {
        let from_pending = refunded.min(net);
        (net - from_pending, -(refunded - from_pending))
    }
}

/// The model: what each account's balances must be, from the collections'
/// final statuses (and whether a returned one had been submitted).
async fn verify(
    store: &Store,
    accounts: &[AccountId],
    ids: &[CollectionId],
    cards: &[CollectionId],
    days: &std::collections::BTreeSet<NaiveDate>,
) {
    let mut tx = store.read().await.unwrap();
    let check = tx.check_ledger().await.unwrap();
    assert!(check.is_ok(), "{check:?}");
    let cs = tx.load_ach_collections(ids).await.unwrap();
    let mut card_collections = Vec::new();
    for id in cards {
        let c = tx.get_card_collection(None, id).await.unwrap();
        assert!(c.pending_operation.is_none(), "{c:?}");
        assert_ne!(c.status, CardStatus::Pending);
        // The processor's books agree with Inflow's.
        if let Some(p) = c.processor_ref.as_deref() {
            let t = tx.sandbox_card_transaction(p).await.unwrap().unwrap();
            if c.status != CardStatus::Voided {
                assert_eq!(
                    (t.captured, t.refunded),
                    (c.captured_minor, c.refunded_minor),
                    "{c:?}"
                );
            }
            assert_eq!(tx.sandbox_card_counts(id.as_str()).await.unwrap().0, 1);
        }
        card_collections.push(c);
    }
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
        for c in card_collections
            .iter()
            .filter(|c| &c.destination_account_id == a)
        {
            let (p, av) = card_model(c);
            pending += p;
            available += av;
        }
        let b = tx.ledger_balances(a).await.unwrap();
        assert_eq!(
            (b.pending, b.available),
            (pending, available),
            "account {a}"
        );
    }
    // Each day's report ties (every account's net and fees come from
    // clearing; the card settlements match the batch closes), and an account's nets over the days add up to its total.
    let mut nets = std::collections::HashMap::<String, i64>::new();
    for day in days {
        let report = settlement_report(&mut tx, *day).await.unwrap();
        assert!(report.ties_out.accounts_match_clearing, "{report:?}");
        assert!(
            report.ties_out.card_settled_matches_batch_closes,
            "{:?}",
            report.card
        );
        let mut sum = 0i64;
        for line in &report.accounts {
            let net = line.net.parse::<i64>().unwrap();
            sum += net;
            *nets.entry(line.account_id.clone().unwrap()).or_default() += net;
        }
        assert_eq!(report.totals.net.parse::<i64>().unwrap(), sum);
    }
    for a in accounts {
        let b = tx.ledger_balances(a).await.unwrap();
        assert_eq!(
            nets.get(a.as_str()).copied().unwrap_or(0),
            b.total(),
            "account {a}"
        );
    }
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
    verify(
        &store,
        &[account],
        &ids,
        &[],
        &std::collections::BTreeSet::from([local_date(now())]),
    )
    .await;
}
