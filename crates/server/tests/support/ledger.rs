//! Helpers for ledger checks over HTTP and in the store.

use reqwest::StatusCode;
use serde_json::Value;

use super::{Creds, TestApp};

/// An integer carried as a string of digits (money values, balances).
pub fn int(v: &Value) -> i64 {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an integer string: {v}"))
}

/// `(pending, available, total)` of a destination account, from its API.
pub async fn balances(app: &TestApp, creds: &Creds, account: &str) -> (i64, i64, i64) {
    let a = app.get(creds, &format!("/v1/accounts/{account}")).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let b = &a.json()["balances"];
    (int(&b["pending"]), int(&b["available"]), int(&b["total"]))
}

/// Every ledger transaction balances and every balance is the sum of its entries.
pub async fn ledger_is_sound(app: &TestApp) {
    let mut tx = app.db.store.read().await.unwrap();
    let check = tx.check_ledger().await.unwrap();
    assert!(check.is_ok(), "{check:?}");
}
