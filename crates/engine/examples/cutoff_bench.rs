//! How long a standard cutoff takes over many pending collections: from the
//! start of the cutoff to the NACHA file fsynced on disk.
//!
//! ```sh
//! cargo run --release -p inflow-engine --example cutoff_bench -- sqlite 100000
//! cargo run --release -p inflow-engine --example cutoff_bench -- postgres 100000
//! ```
//!
//! PostgreSQL comes from `INFLOW_TEST_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); a throwaway database is
//! created and dropped. The collections are inserted first (not timed).

use std::time::Instant;

use chrono::{NaiveDate, TimeZone, Utc};
use inflow_core::bank::{AccountType, HolderType, RoutingNumber};
use inflow_core::calendar::{BankingCalendar, CutoffSchedule};
use inflow_core::collection::*;
use inflow_core::crypto::{MasterKey, Vault};
use inflow_core::ids::{AccountId, CollectionId, CustomerId};
use inflow_core::model::*;
use inflow_core::money::{Currency, Money};
use inflow_engine::config::AchConfig;
use inflow_engine::cutoff::run_cutoff;
use inflow_store::testing::{TestBackend, TestDb};

fn routing(s: &str) -> RoutingNumber {
    RoutingNumber::parse("routing", s).expect("routing number")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let backend = match args.next().as_deref() {
        Some("postgres") => TestBackend::Postgres,
        _ => TestBackend::Sqlite,
    };
    let count: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(100_000);

    let db = TestDb::new(backend).await;
    let vault = Vault::new(&MasterKey::generate());
    let dir = std::env::temp_dir().join(format!(
        "inflow-cutoff-bench-{}",
        inflow_core::ids::new_id_body(Utc::now())
    ));
    let cfg = AchConfig {
        immediate_destination: routing("231380104"),
        immediate_destination_name: "Federal Reserve Bank".into(),
        immediate_origin: "1234567890".into(),
        immediate_origin_name: "Inflow Operator".into(),
        odfi_routing: routing("121042882"),
        outbound_dir: dir.join("outbound"),
        inbound_dir: dir.join("inbound"),
        good_funds_banking_days: 2,
        prenote_wait_banking_days: 3,
        calendar: BankingCalendar::federal_reserve(),
        cutoffs: CutoffSchedule::default(),
        effective_date_horizon_days: 365,
        sandbox_bank: false,
        max_entries_per_file: inflow_engine::config::DEFAULT_MAX_ENTRIES_PER_FILE,
        debit_limits: Default::default(),
        file_rules: Default::default(),
        odfis: Vec::new(),
    };

    // Tuesday 2026-12-01: its standard cutoff takes everything released by then.
    let day = NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
    let now = Utc.with_ymd_and_hms(2026, 11, 30, 15, 0, 0).unwrap();
    let customer = Customer {
        id: CustomerId::generate(now),
        name: "Bench Utilities".into(),
        kind: CustomerKind::Business,
        email: None,
        status: CustomerStatus::Active,
        allow_one_time_source: true,
        require_signed_requests: false,
        ach_company_name: Some("BENCH UTILITIES".into()),
        ach_company_id: Some("1234567890".into()),
        allowed_company_names: Vec::new(),
        ach_policy: AchPolicy::default(),
        card_daily_limit: inflow_core::model::DEFAULT_CARD_DAILY_LIMIT,
        ach_limits: Default::default(),
        can_manage_api_keys: false,
        odfi_id: None,
        metadata: Metadata::new(),
        created_at: now,
        updated_at: now,
    };
    let account = Account {
        id: AccountId::generate(now),
        customer_id: customer.id.clone(),
        name: "Operating".into(),
        currency: Currency::parse("currency", "USD").unwrap(),
        status: AccountStatus::Active,
        external_id: None,
        metadata: Metadata::new(),
        created_at: now,
        updated_at: now,
    };
    let (c2, a2) = (customer.clone(), account.clone());
    db.store
        .write(move |tx| {
            Box::pin(async move {
                tx.insert_customer(&c2).await?;
                tx.insert_account(&a2).await
            })
        })
        .await
        .expect("customer");

    let started = Instant::now();
    let descriptions = ["UTILITY", "WATER", "PERMIT", "TAX"];
    let mut batch = Vec::with_capacity(5_000);
    for i in 0..count {
        let id = CollectionId::generate(now);
        batch.push(AchCollection {
            account_number_sealed: vault
                .seal(format!("{:012}", 10_000 + i).as_bytes(), id.as_str()),
            id,
            customer_id: customer.id.clone(),
            entry_type: AchEntryType::Debit,
            status: CollectionStatus::Pending,
            status_reason: None,
            status_history: vec![StatusChange {
                status: CollectionStatus::Pending,
                reason: None,
                at: now,
            }],
            amount: Money::usd(1_000 + (i as i64 % 50_000)).unwrap(),
            destination_account_id: account.id.clone(),
            payment_method_id: None,
            counterparty_id: None,
            routing_number: routing("021000021"),
            account_last4: "0000".into(),
            account_fingerprint: format!("fp{i}"),
            account_type: AccountType::Checking,
            holder_name: "JANE DOE".into(),
            holder_type: HolderType::Individual,
            sec_code: SecCode::Ppd,
            processing_mode: ProcessingMode::Standard,
            payment_type: None,
            effective_date: NaiveDate::from_ymd_opt(2026, 12, 2).unwrap(),
            release_date: day,
            authorization: Authorization {
                kind: AuthorizationType::Written,
                obtained_at: now,
                ip_address: None,
                evidence_ref: None,
            },
            company_name: "BENCH UTILITIES".into(),
            company_id: "1234567890".into(),
            company_entry_description: descriptions[i % descriptions.len()].into(),
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
            created_at: now,
            updated_at: now,
            submitted_at: None,
            completed_at: None,
            returned_at: None,
            hold: None,
            schedule: None,
            fees: inflow_core::fees::CollectionFees {
                fixed: 25,
                ..Default::default()
            },
        });
        if batch.len() == 5_000 || i + 1 == count {
            let chunk = std::mem::take(&mut batch);
            db.store
                .write(move |tx| {
                    Box::pin(async move {
                        for c in &chunk {
                            tx.insert_ach_collection(c).await?;
                        }
                        Ok::<_, inflow_store::StoreError>(())
                    })
                })
                .await
                .expect("insert");
        }
    }
    eprintln!(
        "inserted {count} pending collections in {:.1?}",
        started.elapsed()
    );

    let cutoff = cfg
        .cutoffs
        .cutoffs_on(&cfg.calendar, day)
        .into_iter()
        .find(|c| c.is_standard())
        .expect("a standard cutoff");
    let started = Instant::now();
    let summary = run_cutoff(&db.store, &vault, &cfg, &cutoff, cutoff.at)
        .await
        .expect("cutoff");
    let elapsed = started.elapsed();
    let size: u64 = summary
        .files
        .iter()
        .map(|f| {
            std::fs::metadata(cfg.outbound_dir.join(&f.file_name))
                .map(|m| m.len())
                .unwrap_or(0)
        })
        .sum();
    let names: Vec<&str> = summary.files.iter().map(|f| f.file_name.as_str()).collect();
    println!(
        "{backend:?}: cutoff of {} collections ({} batches) -> {} ({:.1} MB) in {:.2?}",
        summary.files.iter().map(|f| f.entry_count).sum::<i64>(),
        summary.files.iter().map(|f| f.batch_count).sum::<i64>(),
        names.join(", "),
        size as f64 / 1e6,
        elapsed
    );
    let _ = std::fs::remove_dir_all(&dir);
}
