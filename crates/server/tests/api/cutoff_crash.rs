//! Crash test of the ACH cutoff: `inflow serve` is killed with SIGKILL at
//! random points while `POST /v1/ach/cutoffs` files a few thousand pending
//! collections, then restarted, on SQLite and on PostgreSQL.
//!
//! Each round inserts a few hundred new `pending` collections (several
//! companies, SEC codes, descriptions and effective dates, so files have
//! many batches; at most [`MAX_ENTRIES_PER_FILE`] per file, so each cutoff
//! writes several files in its one transaction) while the server is stopped, starts it, asks for a cutoff
//! and kills the process after a random delay (a seeded PRNG; the seed is
//! printed, and `INFLOW_CRASH_SEED` replays the same choices, though not the
//! same timing) that spreads from "before the request is handled" to "after
//! the file is on disk", measured either from the request or from the moment
//! the cutoff logs its file (just before it commits). The server is
//! then started again (start-up writes any file whose rows committed but
//! whose bytes did not reach the disk) and stopped, and these invariants are
//! checked:
//!
//! 1. every collection is either `pending` with no trace number and no
//!    file, or `batched`/`submitted` (the file not yet / already handed to
//!    the delivery job) with a trace number and the id of a file row that
//!    exists;
//! 2. every outbound file row is `written`, its bytes are on disk under its
//!    name with the recorded SHA-256, and they parse and validate strictly
//!    (the `nacha` crate; at the end also the external validator `achlens`);
//!    no other `.ach` file is in the outbound folder;
//! 3. the entries in each file's bytes are exactly the collections the
//!    database puts in that file (trace numbers, amounts, account numbers,
//!    individual ids; the row's counts and totals agree), and no trace number
//!    or collection is in two files;
//! 4. after a last cutoff that is not interrupted, every collection inserted
//!    is in exactly one file.
//!
//! Every round also needs the restarted server to cut again at once: a
//! cutoff killed while holding the `ach.cutoff` lease must not block the
//! next one until the lease expires.
//!
//! Where each kill landed (before the cutoff committed; after it committed
//! but before the file was marked written; after that) is read from the
//! database before the restart and printed, without asserting on the
//! distribution: the point is only that the kills land in different places.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use inflow_core::bank::{AccountType, HolderType, RoutingNumber};
use inflow_core::collection::*;
use inflow_core::crypto::{MasterKey, Vault};
use inflow_core::ids::{AccountId, CollectionId, CustomerId};
use inflow_core::model::*;
use inflow_core::money::{Currency, Money};
use inflow_store::repo::ach_files::{AchFile, OUTBOUND, STATUS_CREATED, STATUS_WRITTEN};
use inflow_store::testing::{TestBackend, TestDb};
use inflow_store::ListQuery;

const ADMIN_KEY: &str = "ik_test_crash_test_bootstrap_admin_key_0001";
const ADMIN_SECRET: &str = "iss_crash_test_bootstrap_admin_signing_secret";
/// Rounds that are killed, after one uninterrupted calibration round.
const KILL_ROUNDS: usize = 10;
/// New pending collections per round.
const PER_ROUND: usize = 300;
/// What the cutoff logs inside its transaction for each file, before it commits.
const FILE_CREATED_LOG: &str = "outbound ACH file created";
/// `[ach] max_entries_per_file` of the server: a round's cutoff writes two
/// files or more, and the day's 36 File ID Modifiers still cover every
/// cutoff of the test.
const MAX_ENTRIES_PER_FILE: usize = 200;

/// The banking day of every cutoff: the first one at least two days ahead
/// of the wall clock whose next two days are banking days too (the sandbox
/// clock can only be set ahead of the wall clock).
fn cutoff_day() -> NaiveDate {
    static DAY: std::sync::LazyLock<NaiveDate> = std::sync::LazyLock::new(|| {
        let cal = inflow_core::calendar::BankingCalendar::federal_reserve();
        let mut day = inflow_core::calendar::local_date(Utc::now()) + chrono::Days::new(2);
        while !(cal.is_banking_day(day)
            && cal.is_banking_day(day + chrono::Days::new(1))
            && cal.is_banking_day(day + chrono::Days::new(2)))
        {
            day = day + chrono::Days::new(1);
        }
        day
    });
    *DAY
}

/// Inflow's "now" during the test: 12:00 US/Eastern on [`cutoff_day`].
fn sandbox_now() -> DateTime<Utc> {
    inflow_core::calendar::eastern_instant(
        cutoff_day(),
        chrono::NaiveTime::from_hms_opt(12, 0, 0).unwrap(),
    )
}

/// splitmix64: small, seeded, good enough to pick delays and amounts.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// What a collection must look like in its file.
struct Expected {
    amount: i64,
    account: String,
}

/// Where a kill landed, judged from the database before the restart.
#[derive(Debug, Default)]
struct KillPoints {
    before_commit: usize,
    committed_not_written: usize,
    after_written: usize,
}

struct Harness {
    db: TestDb,
    dir: PathBuf,
    log: PathBuf,
    master_key: String,
    vault: Vault,
    client: reqwest::Client,
    child: Option<Child>,
    base: String,
    customers: Vec<(Customer, Account)>,
    expected: HashMap<String, Expected>,
    ids: Vec<CollectionId>,
    rng: Rng,
    next_account: u64,
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            eprintln!(
                "server logs and outbound files kept in {}",
                self.dir.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn routing(s: &str) -> RoutingNumber {
    RoutingNumber::parse("routing", s).unwrap()
}

impl Harness {
    async fn new(backend: TestBackend, seed: u64) -> Self {
        let db = TestDb::new(backend).await;
        let dir =
            std::env::temp_dir().join(format!("inflow-crash-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = MasterKey::generate();
        let now = sandbox_now() - chrono::Duration::hours(1);
        let mut customers = Vec::new();
        for (name, company_id) in [
            ("Acme Utilities", "1111111111"),
            ("River Water Co", "2222222222"),
        ] {
            let customer = Customer {
                id: CustomerId::generate(now),
                name: name.into(),
                kind: CustomerKind::Business,
                email: None,
                status: CustomerStatus::Active,
                allow_one_time_source: true,
                require_signed_requests: false,
                ach_company_name: Some(name.to_uppercase()),
                ach_company_id: Some(company_id.into()),
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
            customers.push((customer, account));
        }
        // Inflow's sandbox clock: wall clock + this offset, restored at boot.
        let offset_ms = (sandbox_now() - Utc::now()).num_milliseconds();
        let rows = customers.clone();
        db.store
            .write(move |tx| {
                Box::pin(async move {
                    for (c, a) in &rows {
                        tx.insert_customer(c).await?;
                        tx.insert_account(a).await?;
                    }
                    tx.put_setting("sandbox.clock_offset_ms", &offset_ms.to_string())
                        .await
                })
            })
            .await
            .expect("customers and clock");
        Harness {
            log: dir.join("server.log"),
            dir,
            master_key: key.to_base64(),
            vault: Vault::new(&key),
            client: reqwest::Client::new(),
            child: None,
            base: String::new(),
            customers,
            expected: HashMap::new(),
            ids: Vec::new(),
            rng: Rng(seed),
            next_account: 0,
            db,
        }
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn outbound_dir(&self) -> PathBuf {
        self.data_dir().join("ach").join("outbound")
    }

    /// Insert `n` pending collections released on the cutoff day (server stopped).
    async fn insert_pending(&mut self, n: usize) {
        assert!(self.child.is_none(), "insert while the server is stopped");
        let now = sandbox_now() - chrono::Duration::minutes(30);
        let descriptions = ["UTILITY", "WATER", "PERMIT"];
        let mut rows = Vec::with_capacity(n);
        for _ in 0..n {
            let i = self.next_account;
            self.next_account += 1;
            let (customer, account) = &self.customers[self.rng.below(2) as usize];
            let sec = [SecCode::Ppd, SecCode::Ccd, SecCode::Web][self.rng.below(3) as usize];
            let id = CollectionId::generate(now);
            let number = format!("{:010}", 4_000_000_000u64 + i);
            let amount = 100 + self.rng.below(250_000) as i64;
            let addenda =
                (sec.allows_addenda() && self.rng.below(4) == 0).then(|| format!("INVOICE {i}"));
            self.expected.insert(
                id.to_string(),
                Expected {
                    amount,
                    account: number.clone(),
                },
            );
            self.ids.push(id.clone());
            rows.push(AchCollection {
                account_number_sealed: self.vault.seal(number.as_bytes(), id.as_str()),
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
                amount: Money::usd(amount).unwrap(),
                destination_account_id: account.id.clone(),
                payment_method_id: None,
                counterparty_id: None,
                routing_number: routing(["021000021", "011000015", "091000019"][i as usize % 3]),
                account_last4: number[number.len() - 4..].to_owned(),
                account_fingerprint: format!("fp{i}"),
                account_type: if i.is_multiple_of(5) {
                    AccountType::Savings
                } else {
                    AccountType::Checking
                },
                holder_name: format!("Holder {i}"),
                holder_type: if sec == SecCode::Ccd {
                    HolderType::Business
                } else {
                    HolderType::Individual
                },
                sec_code: sec,
                processing_mode: ProcessingMode::Standard,
                payment_type: sec.has_payment_type().then_some(PaymentType::Recurring),
                effective_date: cutoff_day() + chrono::Days::new(1 + self.rng.below(2)),
                release_date: cutoff_day(),
                authorization: Authorization {
                    kind: AuthorizationType::Written,
                    obtained_at: now,
                    ip_address: None,
                    evidence_ref: None,
                },
                company_name: customer.ach_company_name.clone().unwrap(),
                company_id: customer.ach_company_id.clone().unwrap(),
                company_entry_description: descriptions[self.rng.below(3) as usize].into(),
                addenda,
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
                fees: Default::default(),
            });
        }
        for chunk in rows.chunks(500) {
            let chunk = chunk.to_vec();
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
                .expect("insert collections");
        }
    }

    /// Start `inflow serve` and wait until it answers `/healthz` (start-up,
    /// including finishing interrupted files, is done by then).
    async fn start(&mut self) {
        assert!(self.child.is_none());
        let port = free_port();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_inflow"))
            .arg("serve")
            .current_dir(&self.dir)
            .env("INFLOW_LISTEN", format!("127.0.0.1:{port}"))
            .env("INFLOW_DATABASE_URL", &self.db.url)
            .env("INFLOW_DATA_DIR", self.data_dir())
            .env("INFLOW_MASTER_KEY", &self.master_key)
            .env("INFLOW_SANDBOX", "true")
            .env("INFLOW_BOOTSTRAP_ADMIN_KEY", ADMIN_KEY)
            .env("INFLOW_BOOTSTRAP_ADMIN_SIGNING_SECRET", ADMIN_SECRET)
            .env("INFLOW_SCHEDULER_INTERVAL_SECS", "0")
            .env(
                "INFLOW_ACH__MAX_ENTRIES_PER_FILE",
                MAX_ENTRIES_PER_FILE.to_string(),
            )
            .env("RUST_LOG", "info")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn inflow serve");
        self.child = Some(child);
        self.base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                self.child = None;
                panic!(
                    "inflow serve exited during start-up ({status}):\n{}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            let up = self
                .client
                .get(format!("{}/healthz", self.base))
                .timeout(Duration::from_secs(5))
                .send()
                .await
                .map(|r| r.status().is_success())
                .unwrap_or(false);
            if up {
                return;
            }
            assert!(Instant::now() < deadline, "inflow serve did not come up");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// How long the server log is now.
    fn log_len(&self) -> u64 {
        std::fs::metadata(&self.log).map(|m| m.len()).unwrap_or(0)
    }

    /// Wait (polling every millisecond) until the log written after `from`
    /// contains `needle`; `false` if `limit` passes or `done` says to stop first.
    async fn wait_for_log(
        &self,
        from: u64,
        needle: &str,
        limit: Duration,
        done: impl Fn() -> bool,
    ) -> bool {
        use std::io::{Read, Seek};
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            let mut text = Vec::new();
            if let Ok(mut f) = std::fs::File::open(&self.log) {
                if f.seek(std::io::SeekFrom::Start(from)).is_ok() {
                    let _ = f.read_to_end(&mut text);
                }
            }
            if String::from_utf8_lossy(&text).contains(needle) {
                return true;
            }
            if done() {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        false
    }

    /// SIGKILL the server and wait until nothing it started is still running.
    async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL");
            child.wait().unwrap();
        }
        self.db.wait_for_orphaned_backends().await;
    }

    /// `POST /v1/ach/cutoffs`, signed by the bootstrap admin.
    fn cutoff_request(&self) -> reqwest::RequestBuilder {
        let path = "/v1/ach/cutoffs";
        let request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("authorization", format!("Bearer {ADMIN_KEY}"));
        let ts = Utc::now().timestamp().to_string();
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let sig = inflow_core::request_signature::sign_v2(
            ADMIN_SECRET,
            &inflow_core::request_signature::SignedRequest {
                timestamp: &ts,
                nonce: &nonce,
                method: "POST",
                path_and_query: path,
                idempotency_key: "",
                customer: "",
                body: b"",
            },
        );
        request
            .header("x-timestamp", ts)
            .header("x-nonce", nonce)
            .header("x-signature", sig)
    }

    /// An uninterrupted cutoff; returns how long it took and how long
    /// after its file was created (as far as the log tells) it answered.
    async fn cutoff(&self) -> (Duration, Duration) {
        let from = self.log_len();
        let started = Instant::now();
        let request = self.cutoff_request().send();
        let call = tokio::spawn(async move {
            let resp = request.await.expect("cutoff");
            (
                Instant::now(),
                resp.status(),
                resp.text().await.unwrap_or_default(),
            )
        });
        let created = self
            .wait_for_log(from, FILE_CREATED_LOG, Duration::from_secs(120), || {
                call.is_finished()
            })
            .await
            .then(Instant::now);
        let (answered, status, body) = call.await.unwrap();
        assert!(status.is_success(), "cutoff: {status} {body}");
        let after_created = created
            .map(|c| answered.saturating_duration_since(c))
            .unwrap_or_default();
        (answered - started, after_created)
    }

    /// Every outbound file row.
    async fn outbound_files(&self) -> Vec<AchFile> {
        let mut tx = self.db.store.read().await.unwrap();
        let mut q = ListQuery::first(ListQuery::MAX_LIMIT);
        let mut files = Vec::new();
        loop {
            let page = tx.list_ach_files(Some(OUTBOUND), &q).await.unwrap();
            q.starting_after = page.data.last().map(|f| f.id.clone()).unwrap_or_default();
            files.extend(page.data);
            if !page.has_more {
                break;
            }
        }
        tx.rollback().await.unwrap();
        files
    }

    /// Check invariants 1–3 (and 4 when `all_filed`); returns how many
    /// collections are filed and how many are still pending.
    async fn check(&self, all_filed: bool, run_achlens: bool) -> (usize, usize) {
        let files = self.outbound_files().await;
        let by_id: HashMap<&str, &AchFile> = files.iter().map(|f| (f.id.as_str(), f)).collect();
        let mut tx = self.db.store.read().await.unwrap();
        let collections = tx.load_ach_collections(&self.ids).await.unwrap();
        let mut listed: HashMap<String, Vec<CollectionId>> = HashMap::new();
        for f in &files {
            listed.insert(
                f.id.clone(),
                tx.ach_file_collection_ids(&f.id).await.unwrap(),
            );
        }
        tx.rollback().await.unwrap();

        // 1. pending and unfiled, or submitted with a trace and an existing file.
        let mut in_file: HashMap<&str, BTreeMap<String, &AchCollection>> = HashMap::new();
        let mut pending = 0;
        for c in &collections {
            match c.status {
                CollectionStatus::Pending => {
                    assert!(
                        c.trace_number.is_none() && c.file_id.is_none(),
                        "pending collection {} has a trace or file: {:?} {:?}",
                        c.id,
                        c.trace_number,
                        c.file_id
                    );
                    pending += 1;
                }
                // `batched` when the kill came before the file was handed to
                // the (sandbox) delivery job; in a file either way.
                CollectionStatus::Batched | CollectionStatus::Submitted => {
                    let trace = c.trace_number.clone().unwrap_or_else(|| {
                        panic!("submitted collection {} has no trace number", c.id)
                    });
                    let file = c
                        .file_id
                        .as_deref()
                        .unwrap_or_else(|| panic!("submitted collection {} has no file", c.id));
                    assert!(
                        by_id.contains_key(file),
                        "collection {} names file {file}, which has no row",
                        c.id
                    );
                    let dup = in_file.entry(file).or_default().insert(trace.clone(), c);
                    assert!(dup.is_none(), "trace {trace} twice in file {file}");
                }
                other => panic!("collection {} is {other:?}", c.id),
            }
        }
        if all_filed {
            assert_eq!(pending, 0, "collections left pending after the last cutoff");
        }

        // 2. and 3. every file written, on disk, valid, and exactly its collections.
        let mut traces_seen: HashSet<String> = HashSet::new();
        let mut ids_seen: HashSet<String> = HashSet::new();
        let mut filed = 0;
        let mut names = HashSet::new();
        for f in &files {
            assert_eq!(
                f.status, STATUS_WRITTEN,
                "file {} ({}) not written",
                f.id, f.file_name
            );
            assert!(
                names.insert(f.file_name.clone()),
                "two rows named {}",
                f.file_name
            );
            let path = self.outbound_dir().join(&f.file_name);
            let bytes = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("file {} missing at {}: {e}", f.id, path.display()));
            assert_eq!(
                f.sha256.as_deref(),
                Some(inflow_engine::files::sha256_hex(&bytes).as_str()),
                "{} on disk differs from its recorded SHA-256",
                f.file_name
            );
            let report = nacha::report::validate_report(&bytes, &nacha::ValidateOptions::strict());
            assert!(
                report.errors.is_empty() && report.warnings.is_empty(),
                "{} is not strictly valid:\n{report}",
                f.file_name
            );
            let parsed = nacha::read(&bytes)
                .unwrap_or_else(|e| panic!("{} does not parse: {e}", f.file_name));
            let mine = in_file.remove(f.id.as_str()).unwrap_or_default();
            let listed_ids: Vec<String> = listed[&f.id].iter().map(|i| i.to_string()).collect();
            let mine_ids: Vec<String> = mine.values().map(|c| c.id.to_string()).collect();
            assert_eq!(listed_ids, mine_ids, "file {}: collections by trace", f.id);

            let mut entries = 0usize;
            let mut total = 0i64;
            for batch in &parsed.batches {
                for e in &batch.entries {
                    let d = String::from_utf8_lossy(&e.detail.bytes()[..]).into_owned();
                    let trace = &d[79..94];
                    let amount: i64 = d[29..39].parse().unwrap();
                    let account = d[12..29].trim_end();
                    let individual = d[39..54].trim_end();
                    let c = mine.get(trace).unwrap_or_else(|| {
                        panic!(
                            "{}: entry with trace {trace} is not one of its collections",
                            f.file_name
                        )
                    });
                    let want = &self.expected[c.id.as_str()];
                    let id = c.id.as_str();
                    assert_eq!(amount, want.amount, "{}: amount of {id}", f.file_name);
                    assert_eq!(account, want.account, "{}: account of {id}", f.file_name);
                    assert_eq!(
                        individual,
                        id[id.len() - 15..].to_ascii_uppercase(),
                        "{}: individual id of trace {trace}",
                        f.file_name
                    );
                    assert!(
                        traces_seen.insert(trace.to_owned()),
                        "trace {trace} in two files"
                    );
                    assert!(
                        ids_seen.insert(id.to_owned()),
                        "collection {id} in two files"
                    );
                    entries += 1;
                    total += amount;
                }
            }
            assert_eq!(
                entries,
                mine.len(),
                "{}: entries vs collections",
                f.file_name
            );
            assert_eq!(
                f.entry_count as usize, entries,
                "{}: entry count",
                f.file_name
            );
            assert_eq!(f.total_debit, total, "{}: total debit", f.file_name);
            assert_eq!(
                f.batch_count as usize,
                parsed.batches.len(),
                "{}: batches",
                f.file_name
            );
            filed += entries;
            if run_achlens {
                achlens_validate(&path);
            }
        }
        assert!(
            in_file.is_empty(),
            "collections name files that were not listed: {:?}",
            in_file.keys()
        );
        assert_eq!(filed + pending, self.ids.len());

        // No other NACHA file in the outbound folder.
        let on_disk: HashSet<String> = std::fs::read_dir(self.outbound_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect();
        assert_eq!(on_disk, names, "outbound folder vs file rows");
        (filed, pending)
    }

    /// Judge where the kill landed from the state it left.
    async fn judge(&self, files_before: usize, points: &mut KillPoints) -> &'static str {
        let files = self.outbound_files().await;
        if files.len() == files_before {
            points.before_commit += 1;
            return "before the cutoff committed";
        }
        // Newest first: the files of the cutoff that was killed.
        let new = &files[..files.len() - files_before];
        assert!(
            new.len() > 1,
            "a cutoff of more than {MAX_ENTRIES_PER_FILE} entries writes several files"
        );
        match new.iter().find(|f| f.status == STATUS_CREATED) {
            Some(f) => {
                points.committed_not_written += 1;
                if self.outbound_dir().join(&f.file_name).exists() {
                    "after commit, some bytes on disk, before every file was marked written"
                } else {
                    "after commit, before all the bytes were on disk"
                }
            }
            None => {
                points.after_written += 1;
                "after the files were written"
            }
        }
    }
}

fn achlens_validate(path: &Path) {
    let found = Command::new("achlens")
        .arg("--help")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "\n\n*** achlens is not on PATH. Run scripts/achlens-check.sh (pip install achlens==0.1.7). ***\n\n"
    );
    let out = Command::new("achlens")
        .arg("validate")
        .arg(path)
        .output()
        .expect("run achlens");
    assert!(
        out.status.success(),
        "achlens rejected {}:\n{}{}",
        path.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn crash_during_cutoffs(backend: TestBackend) {
    let seed = std::env::var("INFLOW_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    println!("{backend:?}: seed {seed} (replay with INFLOW_CRASH_SEED={seed})");
    let started = Instant::now();
    let mut h = Harness::new(backend, seed).await;

    // Calibration: one uninterrupted cutoff, to know how long one takes.
    h.insert_pending(PER_ROUND).await;
    h.start().await;
    let (took, tail) = h.cutoff().await;
    h.kill().await;
    let per_entry = took / PER_ROUND as u32;
    println!(
        "{backend:?}: calibration cutoff of {PER_ROUND} took {took:.2?}, {tail:.2?} of it after the file was created"
    );
    h.check(false, false).await;

    let mut points = KillPoints::default();
    let mut pending = 0;
    for round in 1..=KILL_ROUNDS {
        let round_started = Instant::now();
        h.insert_pending(PER_ROUND).await;
        pending += PER_ROUND;
        h.start().await;
        let files_before = h.outbound_files().await.len();
        let from = h.log_len();
        // Every other round (at random) times the kill from the request,
        // anywhere from "at once" to a good while after the cutoff should be
        // done; the others from the moment the cutoff logs its file (just
        // before it commits), to land more kills around the commit and the
        // writing of the bytes, a small part of the whole.
        let after_log = h.rng.below(2) == 0;
        let span = if after_log {
            tail * 2 + Duration::from_millis(5)
        } else {
            per_entry * pending as u32 * 3 / 2 + Duration::from_millis(20)
        };
        let delay = Duration::from_micros(h.rng.below(span.as_micros() as u64 + 1));
        let request = h.cutoff_request().send();
        let call = tokio::spawn(async move { request.await.map(|r| r.status()) });
        if after_log {
            let limit = per_entry * pending as u32 * 10 + Duration::from_secs(30);
            h.wait_for_log(from, FILE_CREATED_LOG, limit, || call.is_finished())
                .await;
        }
        tokio::time::sleep(delay).await;
        h.kill().await;
        let answered = call.await.unwrap();
        let landed = h.judge(files_before, &mut points).await;
        h.start().await;
        h.kill().await;
        let (filed, left) = h.check(false, false).await;
        println!(
            "{backend:?}: round {round}: killed {delay:.2?} (of up to {span:.2?}) after {} ({landed}; answered: {}); {filed} filed, {left} pending; round took {:.1?}",
            if after_log { "the file was logged" } else { "the request" },
            answered.map(|s| s.to_string()).unwrap_or_else(|_| "no".into()),
            round_started.elapsed()
        );
        pending = left;
    }

    // A last cutoff, not interrupted, takes whatever is left (and a few more).
    h.insert_pending(PER_ROUND).await;
    h.start().await;
    h.cutoff().await;
    h.kill().await;
    let (filed, left) = h.check(true, true).await;
    assert_eq!((filed, left), (h.ids.len(), 0));
    // A kill while the bytes were being written leaves a hidden temporary
    // file (never under a `.ach` name); start-up removes those of dead
    // processes, since they hold account numbers.
    let temporaries = std::fs::read_dir(h.outbound_dir())
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            let name = name.to_string_lossy();
            name.starts_with('.') && name.ends_with(".tmp")
        })
        .count();
    assert_eq!(
        temporaries, 0,
        "temp files of killed writers are removed at start-up"
    );
    println!(
        "{backend:?}: {filed} collections in {} files; kills {points:?}; {:.1?} in all",
        h.outbound_files().await.len(),
        started.elapsed()
    );
}

mod sqlite {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sigkill_during_cutoffs_leaves_each_collection_in_exactly_one_valid_file() {
        super::crash_during_cutoffs(super::TestBackend::Sqlite).await
    }
}

mod postgres {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sigkill_during_cutoffs_leaves_each_collection_in_exactly_one_valid_file() {
        super::crash_during_cutoffs(super::TestBackend::Postgres).await
    }
}
