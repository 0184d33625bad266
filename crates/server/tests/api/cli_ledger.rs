//! `inflow ledger check` exit codes, and what the database itself refuses:
//! unbalanced transactions, entries added to a sealed transaction, and any
//! change to posted entries — on SQLite and PostgreSQL.

use crate::support;

use chrono::{TimeZone, Utc};
use inflow_core::ids::{AccountId, LedgerTransactionId};
use inflow_core::money::Currency;
use inflow_store::repo::ledger::{kind, Direction, LedgerAccount, NewEntry, NewLedgerTransaction};
use inflow_store::testing::TestDb;
use inflow_store::{Store, StoreError};
use support::{on_both_backends, Backend};

on_both_backends!(
    ledger_check_exits_non_zero_when_a_balance_disagrees,
    the_database_refuses_unbalanced_or_changed_postings
);

fn usd() -> Currency {
    Currency::parse("currency", "USD").unwrap()
}

fn posting(entries: Vec<(LedgerAccount, Direction, i64)>) -> NewLedgerTransaction {
    let now = Utc.with_ymd_and_hms(2026, 11, 24, 20, 0, 0).unwrap();
    let id = LedgerTransactionId::generate(Utc::now());
    NewLedgerTransaction {
        reference: id.to_string(),
        id,
        kind: "adjustment",
        collection_id: None,
        account_id: None,
        currency: usd(),
        posted_on: now.date_naive(),
        gross_amount: 0,
        created_at: now,
        entries: entries
            .into_iter()
            .map(|(account, direction, amount)| NewEntry {
                account,
                direction,
                amount,
            })
            .collect(),
    }
}

fn balanced() -> NewLedgerTransaction {
    posting(vec![
        (
            LedgerAccount::operator(kind::ACH_CLEARING, usd()),
            Direction::Debit,
            1_000,
        ),
        (
            LedgerAccount::operator(kind::FEE_REVENUE, usd()),
            Direction::Credit,
            1_000,
        ),
    ])
}

async fn post(store: &Store, t: NewLedgerTransaction) -> Result<(), StoreError> {
    store
        .write(move |tx| Box::pin(async move { tx.post_ledger_transactions(&[t]).await }))
        .await
}

async fn exec(store: &Store, sql: &'static str) -> Result<(), StoreError> {
    store
        .write(move |tx| Box::pin(async move { tx.execute_raw(sql).await }))
        .await
}

fn check(db: &TestDb) -> (i32, String) {
    let dir = std::env::temp_dir().join(format!(
        "inflow-ledger-cli-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_inflow"))
        .args(["ledger", "check"])
        .current_dir(&dir)
        .env("INFLOW_DATABASE_URL", &db.url)
        .env("INFLOW_DATA_DIR", &dir)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

async fn ledger_check_exits_non_zero_when_a_balance_disagrees(b: Backend) {
    let db = TestDb::new(b).await;
    post(&db.store, balanced()).await.unwrap();
    let (code, out) = tokio::task::block_in_place(|| check(&db));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ledger OK"), "{out}");
    exec(
        &db.store,
        "UPDATE ledger_accounts SET balance = balance + 1 WHERE id = 'fee_revenue:USD'",
    )
    .await
    .unwrap();
    let (code, out) = tokio::task::block_in_place(|| check(&db));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("MISMATCH fee_revenue:USD"), "{out}");
}

async fn the_database_refuses_unbalanced_or_changed_postings(b: Backend) {
    let db = TestDb::new(b).await;
    let acc = AccountId::generate(Utc::now());
    // The code refuses an unbalanced posting before the database would.
    let unbalanced = posting(vec![
        (
            LedgerAccount::operator(kind::ACH_CLEARING, usd()),
            Direction::Debit,
            1_000,
        ),
        (
            LedgerAccount::operator(kind::FEE_REVENUE, usd()),
            Direction::Credit,
            999,
        ),
    ]);
    assert!(post(&db.store, unbalanced).await.is_err());
    let _ = acc;
    post(&db.store, balanced()).await.unwrap();
    // And the database refuses what the code might get wrong.
    for sql in [
        "UPDATE ledger_entries SET amount = amount + 1",
        "DELETE FROM ledger_entries",
        "UPDATE ledger_transactions SET total_debits = 5, total_credits = 5",
        "DELETE FROM ledger_transactions",
        // A transaction whose totals disagree with its (zero) entries.
        "INSERT INTO ledger_transactions (id, kind, reference, currency, posted_on, gross_amount, entry_count, \
         total_debits, total_credits, created_at) VALUES ('ltx_x', 'adjustment', 'x', 'USD', '2026-11-24', 0, 2, 5, 5, 0)",
        // Debits that differ from credits.
        "INSERT INTO ledger_transactions (id, kind, reference, currency, posted_on, gross_amount, entry_count, \
         total_debits, total_credits, created_at) VALUES ('ltx_y', 'adjustment', 'y', 'USD', '2026-11-24', 0, 2, 5, 6, 0)",
        // An entry without a transaction (deferred foreign key, at commit).
        "INSERT INTO ledger_entries (id, transaction_id, ledger_account_id, direction, amount, created_at) \
         VALUES ('len_x', 'ltx_missing', 'fee_revenue:USD', 'credit', 5, 0)",
    ] {
        assert!(exec(&db.store, sql).await.is_err(), "accepted: {sql}");
    }
    let mut tx = db.store.read().await.unwrap();
    let c = tx.check_ledger().await.unwrap();
    assert!(c.is_ok() && c.transactions == 1 && c.entries == 2, "{c:?}");
}
