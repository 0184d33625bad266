//! The sandbox clock is one business time for every node on a database: two
//! `inflow serve` nodes on one PostgreSQL database (or one SQLite file), an
//! advance on either is seen by the other on its next request, and advances
//! on both add up.

use crate::support;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use support::*;

on_both_backends!(an_advance_on_one_node_is_the_time_of_every_node);

async fn now_at(app: &mut TestApp, base: &str) -> DateTime<Utc> {
    let own = std::mem::replace(&mut app.base, base.to_owned());
    let r = app.get(&admin(), "/v1/sandbox/clock").await;
    app.base = own;
    assert_eq!(r.status, 200, "{}", r.text);
    DateTime::parse_from_rfc3339(r.json()["now"].as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

async fn advance_at(app: &mut TestApp, base: &str, body: serde_json::Value) {
    let own = std::mem::replace(&mut app.base, base.to_owned());
    let r = app.post(&admin(), "/v1/sandbox/clock/advance", body).await;
    app.base = own;
    assert_eq!(r.status, 200, "{}", r.text);
}

async fn an_advance_on_one_node_is_the_time_of_every_node(b: Backend) {
    let mut app = spawn_app(b).await;
    let second = start_node(&app.db.url, &app.master_key, &app.data_dir).await;
    let (one, two) = (app.base.clone(), format!("http://{}", second.addr));

    let start = now_at(&mut app, &two).await;
    advance_at(&mut app, &one, json!({"days": 1})).await;
    let seen_by_two = now_at(&mut app, &two).await;
    assert!(
        seen_by_two - start >= Duration::days(1),
        "node two still at {seen_by_two} after node one moved from {start} by a day"
    );
    assert!(seen_by_two - start < Duration::days(1) + Duration::minutes(5));

    // An advance on the second node adds to the first one's.
    advance_at(&mut app, &two, json!({"hours": 3})).await;
    let seen_by_one = now_at(&mut app, &one).await;
    let moved = seen_by_one - start;
    assert!(
        moved >= Duration::hours(27) && moved < Duration::hours(27) + Duration::minutes(5),
        "node one moved {moved} in all, not a day and three hours"
    );

    // A node started now begins at the shared time, not at the wall clock.
    let third = start_node(&app.db.url, &app.master_key, &app.data_dir).await;
    let seen_by_three = now_at(&mut app, &format!("http://{}", third.addr)).await;
    assert!(seen_by_three - start >= Duration::hours(27));
    third.shutdown().await;
    second.shutdown().await;
}
