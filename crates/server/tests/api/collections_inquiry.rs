//! `GET /v1/collections` over both rails, on both backends: ACH and card
//! collections in one newest-first list with one cursor, each item as
//! `GET /v1/collections/{id}` shows it; filters that one rail has restrict
//! the list to it, and combined with the other rail are refused naming the
//! parameter; an amount range (`amountFrom`/`amountTo`) filters both rails
//! inside the query, so every page is full and paging stays exact.

use crate::support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::ach::{collect, destination, make_pm};
use support::card::{create_card_collection, save_card};
use support::*;

on_both_backends!(
    ach_and_card_collections_page_together_newest_first_each_exactly_once,
    one_rail_filters_restrict_the_list_and_shared_filters_cover_both_rails,
    an_amount_range_filters_both_rails_in_the_query_and_pages_correctly,
    a_filter_of_one_rail_with_the_other_rail_is_refused_naming_the_param,
);

struct Mix {
    creds: Creds,
    /// Every collection created, oldest first, with its rail.
    created: Vec<(String, &'static str)>,
    visa_pm: String,
}

/// Nine collections of one customer, ACH and card interleaved unevenly
/// (runs of each rail, so pages end inside runs and at switches).
async fn mix(app: &TestApp) -> Mix {
    let (_, creds) = app.customer_with_key("Mixed", json!({})).await;
    let account = destination(app, &creds).await;
    let bank_pm = make_pm(app, &creds, "000123456789").await;
    let visa_pm = save_card(app, &creds, "4242424242424242").await;
    let amex_pm = save_card(app, &creds, "378282246310005").await;
    let mut created = Vec::new();
    let plan = [
        "ach", "card", "card", "ach", "card", "ach", "ach", "ach", "card",
    ];
    for (i, rail) in plan.into_iter().enumerate() {
        let cents = (1000 + i * 100).to_string();
        let c = if rail == "ach" {
            collect(
                app,
                &creds,
                &account,
                &bank_pm,
                &cents,
                json!({"reference": format!("REF-{i}")}),
            )
            .await
        } else {
            let (pm, extra) = match i {
                1 => (
                    &visa_pm,
                    json!({"type": "force", "approvalCode": "VOICE77", "reference": format!("REF-{i}")}),
                ),
                2 => (&amex_pm, json!({"reference": "SHARED"})),
                _ => (&visa_pm, json!({"externalId": format!("card-{i}")})),
            };
            create_card_collection(app, &creds, &account, pm, "sale", &cents, extra).await
        };
        assert_eq!(c["rail"], rail, "{c}");
        created.push((c["id"].as_str().unwrap().to_owned(), rail));
    }
    // One ACH collection shares the reference of a card one.
    let c = collect(
        app,
        &creds,
        &account,
        &bank_pm,
        "9900",
        json!({"reference": "SHARED"}),
    )
    .await;
    created.push((c["id"].as_str().unwrap().to_owned(), "ach"));
    Mix {
        creds,
        created,
        visa_pm,
    }
}

/// Every page of `query` (without `limit`/`startingAfter`) with `limit`.
async fn all_pages(app: &TestApp, creds: &Creds, query: &str, limit: u32) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/v1/collections?limit={limit}");
        if !query.is_empty() {
            path = format!("{path}&{query}");
        }
        if let Some(c) = &cursor {
            path = format!("{path}&startingAfter={c}");
        }
        let r = app.get(creds, &path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
        let page = r.json();
        let data = page["data"].as_array().unwrap().clone();
        assert!(data.len() <= limit as usize, "{path}: page too long");
        items.extend(data);
        match page["nextCursor"].as_str() {
            Some(next) => {
                assert_eq!(page["hasMore"], true, "{path}");
                assert_eq!(Some(next), items.last().and_then(|i| i["id"].as_str()));
                cursor = Some(next.to_owned());
            }
            None => {
                assert_eq!(page["hasMore"], false, "{path}");
                return items;
            }
        }
        assert!(items.len() < 1000, "{path}: pagination does not end");
    }
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The created ids of `rail` (`None`: all), newest first.
fn newest_first(m: &Mix, rail: Option<&str>) -> Vec<String> {
    m.created
        .iter()
        .rev()
        .filter(|(_, r)| rail.is_none_or(|want| want == *r))
        .map(|(id, _)| id.clone())
        .collect()
}

async fn ach_and_card_collections_page_together_newest_first_each_exactly_once(b: Backend) {
    let app = spawn_app(b).await;
    let m = mix(&app).await;
    let expected = newest_first(&m, None);
    let mut sorted = expected.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(expected, sorted, "ids are time-ordered");
    for limit in [1, 2, 3, 4, 200] {
        let items = all_pages(&app, &m.creds, "", limit).await;
        assert_eq!(ids(&items), expected, "limit {limit}");
    }
    // Each item is exactly what GET /v1/collections/{id} shows.
    for item in all_pages(&app, &m.creds, "", 3).await {
        let id = item["id"].as_str().unwrap();
        let one = app
            .get(&m.creds, &format!("/v1/collections/{id}"))
            .await
            .json();
        assert_eq!(item, one, "{id}");
    }
    for rail in ["ach", "card"] {
        let items = all_pages(&app, &m.creds, &format!("rail={rail}"), 2).await;
        assert_eq!(ids(&items), newest_first(&m, Some(rail)), "rail={rail}");
        assert!(items.iter().all(|i| i["rail"] == rail));
    }
    // Another customer's collections stay out of the list.
    let (_, other) = app.customer_with_key("Other", json!({})).await;
    assert!(all_pages(&app, &other, "", 5).await.is_empty());
}

async fn one_rail_filters_restrict_the_list_and_shared_filters_cover_both_rails(b: Backend) {
    let app = spawn_app(b).await;
    let m = mix(&app).await;
    let get = |q: &'static str| {
        let (app, creds) = (&app, m.creds.clone());
        async move { ids(&all_pages(app, &creds, q, 2).await) }
    };
    let card = newest_first(&m, Some("card"));
    let ach = newest_first(&m, Some("ach"));
    // Card-only filters list card collections without `rail=card`.
    assert_eq!(get("brand=amex").await, [m.created[2].0.clone()]);
    assert_eq!(get("brand=visa").await.len(), 3);
    assert_eq!(get("last4=0005").await, [m.created[2].0.clone()]);
    assert_eq!(get("last4=4242&brand=visa").await.len(), 3);
    assert_eq!(get("approvalCode=VOICE77").await, [m.created[1].0.clone()]);
    assert_eq!(get("brand=amex&rail=card").await, [m.created[2].0.clone()]);
    // A status or type only one rail has restricts the list to that rail.
    assert_eq!(get("status=captured").await, card);
    assert_eq!(get("type=sale").await.len(), 3);
    assert_eq!(get("type=force").await, [m.created[1].0.clone()]);
    assert_eq!(get("status=pending").await, ach);
    assert_eq!(get("type=debit").await, ach);
    assert_eq!(get("secCode=PPD&status=pending").await, ach);
    assert!(get("status=completed").await.is_empty());
    // Shared filters apply to both rails, merged newest first.
    assert_eq!(
        get("reference=SHARED").await,
        [m.created[9].0.clone(), m.created[2].0.clone()]
    );
    assert_eq!(get("reference=REF-1").await, [m.created[1].0.clone()]);
    assert_eq!(get("reference=REF-3").await, [m.created[3].0.clone()]);
    assert_eq!(get("externalId=card-8").await, [m.created[8].0.clone()]);
    let by_pm = ids(&all_pages(&app, &m.creds, &format!("paymentMethodId={}", m.visa_pm), 2).await);
    assert_eq!(by_pm.len(), 3);
    assert!(get("createdFrom=2999-01-01T00:00:00Z").await.is_empty());
    assert_eq!(
        get("createdTo=2999-01-01T00:00:00Z").await,
        newest_first(&m, None)
    );
}

/// The created ids (of `rail`, `None`: all) whose amount is in
/// `from..=to` cents, newest first; `mix` made amounts 1000, 1100, … 1800
/// and a last one of 9900.
fn amounts_between(m: &Mix, rail: Option<&str>, from: i64, to: i64) -> Vec<String> {
    let cents = |i: usize| if i == 9 { 9900 } else { 1000 + 100 * i as i64 };
    let mut ids: Vec<String> = m
        .created
        .iter()
        .enumerate()
        .filter(|(i, (_, r))| {
            rail.is_none_or(|want| want == *r) && (from..=to).contains(&cents(*i))
        })
        .map(|(_, (id, _))| id.clone())
        .collect();
    ids.reverse();
    ids
}

async fn an_amount_range_filters_both_rails_in_the_query_and_pages_correctly(b: Backend) {
    let app = spawn_app(b).await;
    let m = mix(&app).await;
    for (query, rail, from, to) in [
        ("amountFrom=1200&amountTo=1600", None, 1200, 1600),
        ("amountFrom=1800", None, 1800, i64::MAX),
        ("amountTo=1000", None, 0, 1000),
        ("amountFrom=1400&amountTo=1400", None, 1400, 1400),
        ("amountFrom=0&amountTo=99999", None, 0, 99999),
        ("amountFrom=1201&amountTo=1299", None, 1201, 1299),
        (
            "amountFrom=1100&amountTo=1600&rail=card",
            Some("card"),
            1100,
            1600,
        ),
        (
            "amountFrom=1100&amountTo=1600&rail=ach",
            Some("ach"),
            1100,
            1600,
        ),
    ] {
        let expected = amounts_between(&m, rail, from, to);
        for limit in [1, 2, 3, 200] {
            let items = all_pages(&app, &m.creds, query, limit).await;
            assert_eq!(ids(&items), expected, "{query} limit {limit}");
            for i in &items {
                let v: i64 = i["amount"]["value"].as_str().unwrap().parse().unwrap();
                assert!((from..=to).contains(&v), "{query}: {i}");
            }
        }
    }
    // Both rails are in the range [1100, 1600] (ACH 1300, 1500, 1600; card 1100, 1200, 1400).
    let both = amounts_between(&m, None, 1100, 1600);
    assert_eq!(both.len(), 6);
    // Combined with another shared filter.
    assert_eq!(
        ids(&all_pages(&app, &m.creds, "reference=SHARED&amountFrom=5000", 1).await),
        [m.created[9].0.clone()]
    );
}

async fn a_filter_of_one_rail_with_the_other_rail_is_refused_naming_the_param(b: Backend) {
    let app = spawn_app(b).await;
    let (_, creds) = app.customer_with_key("Strict", json!({})).await;
    for (query, param, code) in [
        ("rail=ach&brand=visa", "brand", "rail_conflict"),
        ("rail=ach&last4=4242", "last4", "rail_conflict"),
        (
            "rail=ach&approvalCode=VOICE1",
            "approvalCode",
            "rail_conflict",
        ),
        ("rail=card&secCode=WEB", "secCode", "rail_conflict"),
        (
            "rail=card&traceNumber=121042880000001",
            "traceNumber",
            "rail_conflict",
        ),
        (
            "rail=card&counterpartyId=cpt_0195f0c8a3c47d1e8a8b5f3e2d1c0b9a",
            "counterpartyId",
            "rail_conflict",
        ),
        (
            "rail=card&effectiveDateFrom=2026-01-05",
            "effectiveDateFrom",
            "rail_conflict",
        ),
        (
            "rail=card&effectiveDateTo=2026-01-05",
            "effectiveDateTo",
            "rail_conflict",
        ),
        ("secCode=WEB&last4=4242", "last4", "rail_conflict"),
        (
            "brand=visa&traceNumber=121042880000001",
            "brand",
            "rail_conflict",
        ),
        ("rail=card&status=returned", "status", "rail_conflict"),
        ("rail=ach&status=captured", "status", "rail_conflict"),
        ("brand=visa&status=returned", "status", "rail_conflict"),
        ("rail=ach&type=sale", "type", "rail_conflict"),
        ("rail=card&type=prenote", "type", "rail_conflict"),
        ("status=captured&type=debit", "type", "rail_conflict"),
        ("status=paid", "status", "invalid_value"),
        ("type=refund", "type", "invalid_value"),
        ("rail=wire", "rail", "invalid_value"),
        ("brand=unionpay", "brand", "invalid_value"),
        ("last4=42", "last4", "invalid_value"),
        ("approvalCode=not-alnum", "approvalCode", "invalid_value"),
        ("amountFrom=-1", "amountFrom", "invalid_amount"),
        ("amountFrom=12.50", "amountFrom", "invalid_amount"),
        ("amountFrom=", "amountFrom", "invalid_amount"),
        ("amountFrom=%2B5", "amountFrom", "invalid_amount"),
        ("amountTo=ten", "amountTo", "invalid_amount"),
        (
            "amountTo=99999999999999999999",
            "amountTo",
            "invalid_amount",
        ),
        ("amountFrom=500&amountTo=499", "amountTo", "invalid_amount"),
        (
            "rail=card&amountFrom=2&amountTo=1",
            "amountTo",
            "invalid_amount",
        ),
    ] {
        let r = app.get(&creds, &format!("/v1/collections?{query}")).await;
        assert_eq!(
            (
                r.status,
                r.error_param().as_deref(),
                r.error_code().as_str()
            ),
            (StatusCode::BAD_REQUEST, Some(param), code),
            "{query}: {}",
            r.text
        );
    }
    // Both rails have `completed`: it filters each, with either rail.
    for query in [
        "status=completed",
        "rail=ach&status=completed",
        "rail=card&status=completed",
    ] {
        let r = app.get(&creds, &format!("/v1/collections?{query}")).await;
        assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text);
    }
}

/// A database that fails is a server error, never "no such collection": a
/// client told 404 would give up on a debit that exists. Renaming the ACH
/// table makes exactly the lookup fail (the key check and the transaction
/// still work), which is what an outage in the middle of a request does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_database_is_a_server_error_not_a_not_found() {
    let app = spawn_app(Backend::Postgres).await;
    let (_, creds) = app.customer_with_key("Outage", json!({})).await;
    let account = destination(&app, &creds).await;
    let pm = make_pm(&app, &creds, "000123456789").await;
    let c = collect(&app, &creds, &account, &pm, "1500", json!({})).await;
    let path = format!("/v1/collections/{}", c["id"].as_str().unwrap());
    assert_eq!(app.get(&creds, &path).await.status, 200);

    let db = sqlx::PgPool::connect(&app.db.url).await.unwrap();
    sqlx::query("ALTER TABLE collections RENAME TO collections_away")
        .execute(&db)
        .await
        .unwrap();
    let during = app.get(&creds, &path).await;
    sqlx::query("ALTER TABLE collections_away RENAME TO collections")
        .execute(&db)
        .await
        .unwrap();
    assert!(
        during.status.is_server_error(),
        "a failed lookup answered {} {}",
        during.status,
        during.text
    );
    assert_eq!(app.get(&creds, &path).await.status, 200);
}
