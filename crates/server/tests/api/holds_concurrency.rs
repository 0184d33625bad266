//! Debits created while their destination account is blocked and unblocked
//! concurrently, on SQLite and PostgreSQL: whatever the interleaving, once
//! the dust settles every collection not yet in a file agrees with the
//! account's final status — none left `pending` on a blocked account, none
//! left `on_hold` on an active one (a creation and a status change are kept
//! apart by the party locks on PostgreSQL).

use crate::support;

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::json;
use support::ach::*;
use support::*;

on_both_backends!(debits_created_during_block_and_unblock_end_consistent_with_the_account);

const ROUNDS: usize = 12;
const CREATORS: usize = 4;
const DEBITS_EACH: usize = 3;

async fn debits_created_during_block_and_unblock_end_consistent_with_the_account(b: Backend) {
    let app = spawn_app(b).await;
    let (customer, creds) = app.customer_with_key("Acme", json!({})).await;
    let dest = destination(&app, &creds).await;
    let pm = make_pm(&app, &creds, "000123456789").await;
    let op = Creds {
        acting_for: Some(customer),
        ..admin()
    };
    let mut amount = 1000;
    for round in 0..ROUNDS {
        let status = if round % 2 == 0 { "blocked" } else { "active" };
        let creators = (0..CREATORS).map(|_| {
            let (app, creds, dest, pm) = (&app, &creds, &dest, &pm);
            amount += DEBITS_EACH;
            let first = amount;
            async move {
                for i in 0..DEBITS_EACH {
                    let cents = (first + i).to_string();
                    let extra = json!({"allowDuplicate": true});
                    let r = try_collect(app, creds, dest, pm, &cents, extra).await;
                    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
                }
            }
        });
        // The status change lands while the creations are under way.
        let change = async {
            tokio::time::sleep(std::time::Duration::from_millis(3 * round as u64)).await;
            let path = format!("/v1/accounts/{dest}");
            let r = patch(&app, &op, &path, json!({ "status": status })).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        };
        tokio::join!(join_all(creators), change);

        let unfiled = |s: &str| format!("/v1/collections?limit=100&status={s}");
        let pending = app.get(&creds, &unfiled("pending")).await.json();
        let held = app.get(&creds, &unfiled("on_hold")).await.json();
        let (pending, held) = (
            pending["data"].as_array().unwrap().len(),
            held["data"].as_array().unwrap().len(),
        );
        match status {
            "blocked" => assert_eq!(pending, 0, "round {round}: pending on a blocked account"),
            _ => assert_eq!(held, 0, "round {round}: held on an active account"),
        }
    }
    app.stop().await;
}
