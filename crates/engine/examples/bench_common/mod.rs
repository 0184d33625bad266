//! What the ACH benchmarks share: a throwaway database, an ACH
//! configuration writing under a temporary folder, one business customer
//! with one destination account, and many pending debits released on
//! Tuesday 2026-12-01 (effective Wednesday 2026-12-02).

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Instant;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use inflow_core::bank::{AccountType, HolderType, RoutingNumber};
use inflow_core::calendar::{BankingCalendar, Cutoff, CutoffSchedule};
use inflow_core::collection::*;
use inflow_core::crypto::{MasterKey, Vault};
use inflow_core::ids::{AccountId, CollectionId, CustomerId};
use inflow_core::model::*;
use inflow_core::money::{Currency, Money};
use inflow_engine::config::AchConfig;
use inflow_store::testing::{TestBackend, TestDb};

/// The day whose standard cutoff files the debits.
pub fn cutoff_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 1).expect("date")
}

/// When the debits were created.
pub fn created_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 15, 0, 0).unwrap()
}

/// `sqlite` (default) or `postgres` from the command line.
pub fn backend_arg(arg: Option<&str>) -> TestBackend {
    match arg {
        Some("postgres") => TestBackend::Postgres,
        _ => TestBackend::Sqlite,
    }
}

fn routing(s: &str) -> RoutingNumber {
    RoutingNumber::parse("routing", s).expect("routing number")
}

/// The benchmark's world.
pub struct Bench {
    pub db: TestDb,
    pub vault: Vault,
    pub cfg: AchConfig,
    pub dir: PathBuf,
}

impl Bench {
    /// A fresh database and configuration (folders under the temp dir).
    pub async fn new(backend: TestBackend, name: &str) -> Self {
        let db = TestDb::new(backend).await;
        let vault = Vault::new(&MasterKey::generate());
        let dir = std::env::temp_dir().join(format!(
            "inflow-{name}-{}",
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
        Bench {
            db,
            vault,
            cfg,
            dir,
        }
    }

    /// The standard cutoff of [`cutoff_day`].
    pub fn standard_cutoff(&self) -> Cutoff {
        self.cfg
            .cutoffs
            .cutoffs_on(&self.cfg.calendar, cutoff_day())
            .into_iter()
            .find(|c| c.is_standard())
            .expect("a standard cutoff")
    }

    /// Insert `count` pending debits of one customer; `account(i)` is the
    /// i-th debit's account number. Not timed by the caller's clock.
    pub async fn insert_pending_debits(&self, count: usize, account: impl Fn(usize) -> String) {
        let now = created_at();
        let (customer, destination) = self.insert_customer(now).await;
        let started = Instant::now();
        let mut batch = Vec::with_capacity(5_000);
        for i in 0..count {
            batch.push(self.debit(i, &customer, &destination, &account(i), now));
            if batch.len() == 5_000 || i + 1 == count {
                let chunk = std::mem::take(&mut batch);
                self.db
                    .store
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
    }

    async fn insert_customer(&self, now: DateTime<Utc>) -> (CustomerId, AccountId) {
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
            odfi_id: None,
        };
        let ids = (customer.id.clone(), account.id.clone());
        self.db
            .store
            .write(move |tx| {
                Box::pin(async move {
                    tx.insert_customer(&customer).await?;
                    tx.insert_account(&account).await
                })
            })
            .await
            .expect("customer");
        ids
    }

    fn debit(
        &self,
        i: usize,
        customer: &CustomerId,
        destination: &AccountId,
        account_number: &str,
        now: DateTime<Utc>,
    ) -> AchCollection {
        let descriptions = ["UTILITY", "WATER", "PERMIT", "TAX"];
        let id = CollectionId::generate(now);
        AchCollection {
            account_number_sealed: self.vault.seal(account_number.as_bytes(), id.as_str()),
            id,
            customer_id: customer.clone(),
            entry_type: AchEntryType::Debit,
            status: CollectionStatus::Pending,
            status_reason: None,
            status_history: vec![StatusChange {
                status: CollectionStatus::Pending,
                reason: None,
                at: now,
            }],
            amount: Money::usd(1_000 + (i as i64 % 50_000)).unwrap(),
            destination_account_id: destination.clone(),
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
            release_date: cutoff_day(),
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
        }
    }
}

/// Peak resident memory of this process in MiB (`VmHWM`), if Linux says.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Current resident memory of this process in MiB (`VmRSS`), if Linux says.
pub fn rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Give memory freed by the setup back to the system (glibc keeps it
/// otherwise, and it would hide what the measured phase allocates), then
/// reset the peak resident memory to the current one (`clear_refs` 5).
pub fn reset_peak_rss() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        // SAFETY: glibc's malloc_trim only releases free heap pages.
        unsafe {
            malloc_trim(0);
        }
    }
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}
