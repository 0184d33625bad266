//! Rate limits per API key (#15 item 3), on both backends: a low limit and
//! a burst of requests get some `429 rate_limited` with `Retry-After` and
//! the `RateLimit-*` headers; another key is unaffected; a refused write
//! changed nothing.

use crate::support;

use inflow_server::http::rate_limit::RateLimitSettings;
use reqwest::StatusCode;
use serde_json::json;
use support::*;

on_both_backends!(a_key_over_its_rate_gets_429_and_another_key_does_not);

async fn a_key_over_its_rate_gets_429_and_another_key_does_not(b: Backend) {
    let app = spawn_app_with(b, |c| {
        c.rate_limit = RateLimitSettings {
            requests_per_second: 1,
            burst: 5,
        }
    })
    .await;
    let (_, busy) = app.customer_with_key("Busy", json!({})).await;
    let (_, calm) = app.customer_with_key("Calm", json!({})).await;

    let started = std::time::Instant::now();
    let burst = (0..12).map(|_| app.get(&busy, "/v1/accounts"));
    let replies = futures_util::future::join_all(burst).await;
    // A burst of 5, plus one a second while the burst lasted.
    let allowed = 5 + started.elapsed().as_secs() as usize + 1;
    let (ok, limited): (Vec<_>, Vec<_>) = replies.iter().partition(|r| r.status == StatusCode::OK);
    assert!(ok.len() >= 5 && ok.len() <= allowed, "{} of 12", ok.len());
    assert!(!limited.is_empty());
    for r in &ok {
        assert_eq!(r.headers["ratelimit-limit"], "5");
        let remaining: u32 = r.headers["ratelimit-remaining"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(remaining < 5);
        assert!(r.headers.contains_key("ratelimit-reset"));
    }
    for r in &limited {
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
        assert_eq!(r.error_code(), "rate_limited", "{}", r.text);
        assert_eq!(r.json()["error"]["type"], "rate_limit_error");
        let wait: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=2).contains(&wait), "{wait}");
        assert_eq!(r.headers["ratelimit-limit"], "5");
        assert_eq!(r.headers["ratelimit-remaining"], "0");
        assert!(r.headers.contains_key("ratelimit-reset"));
    }

    // Another key has its own bucket.
    let r = app.get(&calm, "/v1/accounts").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.headers["ratelimit-remaining"], "4");

    // Refused writes changed nothing.
    let writes = (0..8).map(|i| app.post(&busy, "/v1/accounts", json!({"name": format!("A{i}")})));
    let replies = futures_util::future::join_all(writes).await;
    let created = replies
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    assert!(
        replies.iter().all(|r| matches!(
            r.status,
            StatusCode::CREATED | StatusCode::TOO_MANY_REQUESTS
        )),
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(created < 8, "{created}");
    // The rate refills: after the wait, the key is served again.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let r = app.get(&busy, "/v1/accounts").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.json()["data"].as_array().unwrap().len(),
        created,
        "{}",
        r.text
    );
    // Public endpoints are not limited per key.
    let r = app
        .send(None, reqwest::Method::GET, "/healthz", None, false, &[])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(!r.headers.contains_key("ratelimit-limit"));
}
