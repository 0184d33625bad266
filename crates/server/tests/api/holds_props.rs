//! Random interleavings of status changes (customers, destination accounts,
//! payment methods), new debits (standard and deferred) and clock advances
//! that run cutoffs, over HTTP on SQLite and PostgreSQL. After every step:
//! - no entry was filed unless its customer, destination account and
//!   payment method were all active when its cutoff ran;
//! - every unfiled collection is where the model says: `scheduled` or
//!   `pending` only when all its parties are active, `on_hold` with the
//!   code of the first reason that applies otherwise, `failed` once its
//!   destination account is closed;
//! - a new debit is refused exactly when a party forbids it.
//!
//! At the end everything is reactivated: nothing stays held, and the next
//! cutoffs file every collection that did not fail.
//!
//! Seeded (`INFLOW_HOLDS_SEED` replays one seed); each run takes a few seconds.

use crate::support;

use std::collections::{HashMap, HashSet};

use chrono::Duration;
use inflow_core::calendar::{local_date, BankingCalendar};
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::ach::*;
use support::*;

on_both_backends!(random_status_changes_and_cutoffs_never_file_an_ineligible_entry);

const STEPS: usize = 60;
const SEEDS: [u64; 2] = [0x5EED_0001, 0x5EED_0002];

/// splitmix64: a tiny deterministic generator, enough for choosing steps.
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
        self.next() % n
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
}

/// A customer as the model knows it: statuses by id.
struct Customer {
    id: String,
    op: Creds,
    suspended: bool,
    accounts: Vec<(String, &'static str)>,
    pms: Vec<(String, &'static str)>,
}

/// The parties of a collection: (customer index, account index, pm index).
type Parties = (usize, usize, usize);

struct Model {
    customers: Vec<Customer>,
    collections: HashMap<String, Parties>,
    filed: HashSet<String>,
    /// Collections seen `on_hold` (to show the run exercised holds).
    held_ever: HashSet<String>,
    next_amount: u64,
}

impl Model {
    /// The reason a collection with these parties may not go on, in the
    /// documented order: `Err` fails it, `Ok(Some(code))` holds it.
    fn verdict(&self, (c, a, p): Parties) -> Result<Option<&'static str>, ()> {
        let cus = &self.customers[c];
        match (cus.accounts[a].1, cus.suspended, cus.pms[p].1) {
            ("closed", _, _) => Err(()),
            (_, true, _) => Ok(Some("customer_suspended")),
            ("blocked", _, _) => Ok(Some("destination_blocked")),
            (_, _, "blocked") => Ok(Some("payment_method_blocked")),
            (_, _, "inactive") => Ok(Some("payment_method_inactive")),
            _ => Ok(None),
        }
    }
}

async fn setup(app: &TestApp) -> Model {
    let mut customers = Vec::new();
    for (n, name) in ["Acme", "Globex"].iter().enumerate() {
        let (id, creds) = app.customer_with_key(name, json!({})).await;
        let op = Creds {
            acting_for: Some(id.clone()),
            ..admin()
        };
        let mut accounts = Vec::new();
        let mut pms = Vec::new();
        for i in 0..2 {
            accounts.push((destination(app, &creds).await, "active"));
            let number = format!("00012345{n}{i}");
            pms.push((make_pm(app, &creds, &number).await, "active"));
        }
        customers.push(Customer {
            id,
            op,
            suspended: false,
            accounts,
            pms,
        });
    }
    Model {
        customers,
        collections: HashMap::new(),
        filed: HashSet::new(),
        held_ever: HashSet::new(),
        next_amount: 1000,
    }
}

async fn create_debit(app: &TestApp, m: &mut Model, rng: &mut Rng) {
    let parties = (
        rng.below(2) as usize,
        rng.below(2) as usize,
        rng.below(2) as usize,
    );
    let (c, a, p) = parties;
    m.next_amount += 1;
    let mut extra = json!({});
    if rng.below(3) == 0 {
        let cal = BankingCalendar::federal_reserve();
        let today = local_date(sandbox_now(app).await);
        let day = cal.banking_day_on_or_after(today + Duration::days(3 + rng.below(6) as i64));
        extra = json!({"effectiveDate": day.to_string()});
    }
    let cus = &m.customers[c];
    let (dest, pm) = (&cus.accounts[a].0, &cus.pms[p].0);
    let amount = m.next_amount.to_string();
    let r = try_collect(app, &cus.op, dest, pm, &amount, extra).await;
    let refusal = match (cus.suspended, cus.accounts[a].1, cus.pms[p].1) {
        (true, _, _) => Some("customer_suspended"),
        (_, "closed", _) => Some("destination_account_closed"),
        (_, _, "active") => None,
        _ => Some("payment_method_not_active"),
    };
    match refusal {
        Some(code) => assert_eq!(
            (r.status, r.error_code().as_str()),
            (StatusCode::CONFLICT, code),
            "{}",
            r.text
        ),
        None => {
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
            m.collections
                .insert(r.json()["id"].as_str().unwrap().to_owned(), parties);
        }
    }
}

async fn change_status(app: &TestApp, m: &mut Model, rng: &mut Rng) {
    let c = rng.below(2) as usize;
    let op = m.customers[c].op.clone();
    match rng.below(5) {
        0 => {
            let suspended = rng.below(2) == 0;
            let status = if suspended { "suspended" } else { "active" };
            let path = format!("/v1/customers/{}", m.customers[c].id);
            let r = patch(app, &admin(), &path, json!({ "status": status })).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            m.customers[c].suspended = suspended;
        }
        1 | 2 => {
            let a = rng.below(2) as usize;
            let status = *rng.pick(&["active", "blocked", "active", "blocked", "closed"]);
            let (id, now) = m.customers[c].accounts[a].clone();
            let path = format!("/v1/accounts/{id}");
            let r = patch(app, &op, &path, json!({ "status": status })).await;
            if now == "closed" && status != "closed" {
                assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
            } else {
                assert_eq!(r.status, StatusCode::OK, "{}", r.text);
                m.customers[c].accounts[a].1 = status;
            }
        }
        _ => {
            let p = rng.below(2) as usize;
            let status = *rng.pick(&["active", "inactive", "blocked"]);
            let path = format!("/v1/payment-methods/{}", m.customers[c].pms[p].0);
            let r = patch(app, &op, &path, json!({ "status": status })).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            m.customers[c].pms[p].1 = status;
        }
    }
}

/// Every collection of every customer, by id.
async fn all_collections(app: &TestApp, m: &Model) -> HashMap<String, Value> {
    let mut out = HashMap::new();
    for cus in &m.customers {
        let mut path = "/v1/collections?limit=100".to_owned();
        loop {
            let page = app.get(&cus.op, &path).await.json();
            for c in page["data"].as_array().unwrap() {
                out.insert(c["id"].as_str().unwrap().to_owned(), c.clone());
            }
            match page["nextCursor"].as_str() {
                Some(next) if page["hasMore"] == true => {
                    path = format!("/v1/collections?limit=100&startingAfter={next}");
                }
                _ => break,
            }
        }
    }
    out
}

/// The model's invariants over what the API shows. `eligible_at_cutoff`:
/// the verdicts in force during the clock advance just made, if one was.
async fn check(app: &TestApp, m: &mut Model, eligible_at_cutoff: Option<&HashSet<String>>) {
    let seen = all_collections(app, m).await;
    assert_eq!(seen.len(), m.collections.len());
    for (id, parties) in &m.collections {
        let c = &seen[id];
        let ctx = format!("{parties:?} {c}");
        if c["traceNumber"].is_string() {
            if m.filed.insert(id.clone()) {
                let ok = eligible_at_cutoff.is_some_and(|e| e.contains(id));
                assert!(ok, "filed although not eligible at its cutoff: {ctx}");
            }
            continue;
        }
        let status = c["status"].as_str().unwrap();
        match m.verdict(*parties) {
            Err(()) => assert_eq!(status, "failed", "{ctx}"),
            Ok(Some(code)) => {
                assert_eq!(
                    (status, c["holdCode"].as_str()),
                    ("on_hold", Some(code)),
                    "{ctx}"
                );
                m.held_ever.insert(id.clone());
            }
            Ok(None) => assert!(matches!(status, "pending" | "scheduled"), "{ctx}"),
        }
    }
}

async fn run(app: &TestApp, seed: u64) {
    let mut rng = Rng(seed);
    let mut m = setup(app).await;
    for _ in 0..STEPS {
        match rng.below(10) {
            0..=3 => create_debit(app, &mut m, &mut rng).await,
            4..=6 => change_status(app, &mut m, &mut rng).await,
            _ => {
                let eligible: HashSet<String> = m
                    .collections
                    .iter()
                    .filter(|(_, p)| m.verdict(**p) == Ok(None))
                    .map(|(id, _)| id.clone())
                    .collect();
                advance_minutes(app, 60 + rng.below(30 * 60) as i64).await;
                check(app, &mut m, Some(&eligible)).await;
                continue;
            }
        }
        check(app, &mut m, None).await;
    }
    // Everything active again (closed accounts stay closed).
    for c in 0..m.customers.len() {
        let cus = &m.customers[c];
        let path = format!("/v1/customers/{}", cus.id);
        let r = patch(app, &admin(), &path, json!({"status": "active"})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        for (id, status) in &cus.accounts {
            if *status == "blocked" {
                let path = format!("/v1/accounts/{id}");
                let r = patch(app, &cus.op, &path, json!({"status": "active"})).await;
                assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            }
        }
        for (id, _) in &cus.pms {
            let path = format!("/v1/payment-methods/{id}");
            let r = patch(app, &cus.op, &path, json!({"status": "active"})).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        }
        let cus = &mut m.customers[c];
        cus.suspended = false;
        for a in cus.accounts.iter_mut().filter(|a| a.1 == "blocked") {
            a.1 = "active";
        }
        for p in cus.pms.iter_mut() {
            p.1 = "active";
        }
    }
    check(app, &mut m, None).await;
    let eligible: HashSet<String> = m.collections.keys().cloned().collect();
    advance_minutes(app, 12 * 24 * 60).await;
    check(app, &mut m, Some(&eligible)).await;
    let mut failed = 0;
    for (id, parties) in &m.collections {
        if !m.filed.contains(id) {
            assert!(m.verdict(*parties).is_err(), "{id} was never filed");
            failed += 1;
        }
    }
    eprintln!(
        "seed {seed}: {} collections, {} filed, {failed} failed, {} held at some point",
        m.collections.len(),
        m.filed.len(),
        m.held_ever.len()
    );
}

async fn random_status_changes_and_cutoffs_never_file_an_ineligible_entry(b: Backend) {
    let seeds: Vec<u64> = match std::env::var("INFLOW_HOLDS_SEED") {
        Ok(s) => vec![s.parse().expect("INFLOW_HOLDS_SEED is a u64")],
        Err(_) => SEEDS.to_vec(),
    };
    for seed in seeds {
        eprintln!("holds_props seed {seed}");
        let app = spawn_app(b).await;
        run(&app, seed).await;
        app.stop().await;
    }
}
