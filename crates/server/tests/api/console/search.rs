//! The console's collection search over plain HTTP: without a customer it
//! is one list across customers, newest first, paged by its "Next page"
//! link; the amount range is part of the query, so it pages correctly too.

use reqwest::StatusCode;
use serde_json::json;

use super::client::Console;
use crate::support::ach::{collect, destination, make_pm};
use crate::support::card::{create_card_collection, save_card};
use crate::support::*;

/// A collection made for the test: its id, customer and amount in cents.
struct Made {
    id: String,
    customer: String,
    cents: i64,
}

/// Ten collections of three customers, interleaved unevenly across
/// customers and rails; amounts 10.00, 11.00, … 19.00 in creation order.
async fn made(app: &TestApp) -> Vec<Made> {
    let mut who = Vec::new();
    for name in ["Alpha Water", "Beta Power", "Gamma Gas"] {
        let (customer, creds) = app.customer_with_key(name, json!({})).await;
        let dest = destination(app, &creds).await;
        let bank = make_pm(app, &creds, "000123456789").await;
        let card = save_card(app, &creds, "4242424242424242").await;
        who.push((customer, creds, dest, bank, card));
    }
    let plan = [0, 1, 1, 2, 0, 0, 2, 1, 0, 2];
    let mut out = Vec::new();
    for (i, w) in plan.into_iter().enumerate() {
        let (customer, creds, dest, bank, card) = &who[w];
        let cents = 1000 + 100 * i64::try_from(i).unwrap();
        let c = if i % 3 == 1 {
            create_card_collection(
                app,
                creds,
                dest,
                card,
                "sale",
                &cents.to_string(),
                json!({}),
            )
            .await
        } else {
            collect(app, creds, dest, bank, &cents.to_string(), json!({})).await
        };
        out.push(Made {
            id: c["id"].as_str().unwrap().to_owned(),
            customer: customer.clone(),
            cents,
        });
    }
    out
}

/// The ids listed by the search at `path` and by each "Next page" after it.
async fn every_page(c: &mut Console, path: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut next = Some(path.to_owned());
    while let Some(path) = next.take() {
        let page = c.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        let links = page.links();
        let rows: Vec<String> = links
            .iter()
            .filter_map(|l| l.strip_prefix("/console/collections/"))
            .filter(|id| id.starts_with("col_"))
            .map(str::to_owned)
            .collect();
        assert!(rows.len() <= 2, "{path}: more rows than the page size");
        ids.extend(rows);
        next = links.into_iter().find(|l| l.contains("after="));
        assert!(ids.len() < 100, "paging does not end");
    }
    ids
}

/// The made ids passing `keep`, newest first.
fn newest_first(made: &[Made], keep: impl Fn(&Made) -> bool) -> Vec<String> {
    let mut ids: Vec<String> = made
        .iter()
        .filter(|m| keep(m))
        .map(|m| m.id.clone())
        .collect();
    ids.sort_by(|a, b| b.cmp(a));
    ids
}

pub async fn the_search_pages_across_customers_and_filters_amounts_in_the_query(b: Backend) {
    let app = spawn_app(b).await;
    let made = made(&app).await;
    let created: Vec<String> = made.iter().rev().map(|m| m.id.clone()).collect();
    assert_eq!(
        created,
        newest_first(&made, |_| true),
        "ids are time-ordered"
    );
    let mut c = Console::new(&app.base);
    let r = c.sign_in(ADMIN_KEY).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    // Every customer's collections, each exactly once, newest first.
    let all = every_page(&mut c, "/console/collections?limit=2").await;
    assert_eq!(all, created);

    // The amount range is part of the query: pages hold only matches.
    let mid = every_page(&mut c, "/console/collections?min=12.00&max=16&limit=2").await;
    assert_eq!(
        mid,
        newest_first(&made, |m| (1200..=1600).contains(&m.cents))
    );
    let exact = every_page(&mut c, "/console/collections?min=15&max=15.00&limit=2").await;
    assert_eq!(exact, newest_first(&made, |m| m.cents == 1500));

    // One customer's, with and without an amount range.
    let beta = made[1].customer.clone();
    let only = every_page(
        &mut c,
        &format!("/console/collections?customer={beta}&limit=2"),
    )
    .await;
    assert_eq!(only, newest_first(&made, |m| m.customer == beta));
    let cheap = every_page(
        &mut c,
        &format!("/console/collections?customer={beta}&max=12&limit=2"),
    )
    .await;
    assert_eq!(
        cheap,
        newest_first(&made, |m| m.customer == beta && m.cents <= 1200)
    );

    // A range upside down, a negative amount, a bad page size: refused, naming the field.
    for (query, field) in [
        ("min=20&max=10", "max"),
        ("min=-1", "min"),
        ("max=ten", "max"),
        ("limit=0", "limit"),
    ] {
        let r = c.get(&format!("/console/collections?{query}")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}: {}", r.body);
        assert!(
            r.body.contains(&format!("<code>{field}</code>")),
            "{query}: {}",
            r.body
        );
    }
}
