//! The operator console (`/console`) on both backends. Over plain HTTP:
//! a form posted without the session's CSRF token is refused (403) and
//! changes nothing; a session ends after its idle time; customer keys
//! cannot sign in; no page of the seeded console shows a full account or
//! card number and every page carries the CSP; sign-in, sign-out and
//! actions are audited as `console` with the operator's key and run the
//! API's own code; the collection search pages across customers with the
//! amount range in the query (`console/search.rs`). In a real browser (the system Chromium driven by
//! Playwright, `console/browser_flow.py`): the operator's day, with
//! screenshots under `target/console-screenshots/`.

use crate::support;

mod client;
mod search;
mod seed;

use client::Console;
use reqwest::StatusCode;
use search::the_search_pages_across_customers_and_filters_amounts_in_the_query;
use serde_json::Value;
use support::ach::collection;
use support::*;

on_both_backends!(
    a_form_without_the_csrf_token_is_refused_and_changes_nothing,
    a_session_expires_after_its_idle_time_and_sign_out_ends_it,
    a_customer_key_cannot_sign_in,
    in_production_the_cookie_is_secure_and_there_is_no_sandbox_clock,
    an_inbound_file_is_uploaded_only_with_the_token,
    no_page_shows_a_full_account_or_card_number,
    console_actions_are_audited_as_the_operator_through_the_console,
    the_search_pages_across_customers_and_filters_amounts_in_the_query,
    the_operator_flow_in_a_real_browser,
);

async fn signed_in(app: &TestApp) -> Console {
    let mut c = Console::new(&app.base);
    let r = c.sign_in(ADMIN_KEY).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/console");
    c
}

async fn a_form_without_the_csrf_token_is_refused_and_changes_nothing(b: Backend) {
    let app = spawn_app(b).await;
    let demo = seed::seed(&app).await;
    let mut c = signed_in(&app).await;
    let path = format!("/console/collections/{}/cancel", demo.to_cancel);

    for form in [
        vec![("reason", "no token")],
        vec![("csrf", "not-the-token"), ("reason", "wrong token")],
    ] {
        let r = c.post(&path, &form).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        assert_eq!(
            collection(&app, &demo.creds, &demo.to_cancel).await["status"],
            "pending"
        );
    }
    // Another session's token is no better.
    let mut other = signed_in(&app).await;
    let theirs = other.csrf().await;
    let r = c.post(&path, &[("csrf", &theirs)]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        collection(&app, &demo.creds, &demo.to_cancel).await["status"],
        "pending"
    );
    // Sign-out and the cutoff are forms too.
    assert_eq!(
        c.post("/console/sign-out", &[]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        c.post("/console/cutoff", &[]).await.status,
        StatusCode::FORBIDDEN
    );
    // The sign-in form without its double-submit token.
    let mut fresh = Console::new(&app.base);
    let r = fresh
        .post("/console/sign-in", &[("api_key", ADMIN_KEY)])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(!fresh.cookies.contains_key("inflow_console"));

    // With the token the same form works.
    let token = c.csrf().await;
    let r = c
        .post(&path, &[("csrf", &token), ("reason", "operator asked")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let col = collection(&app, &demo.creds, &demo.to_cancel).await;
    assert_eq!(col["status"], "cancelled");
    assert_eq!(col["statusReason"], "operator asked");
}

async fn a_session_expires_after_its_idle_time_and_sign_out_ends_it(b: Backend) {
    let app = spawn_app_with(b, |c| c.console.session_idle_secs = 1).await;
    let mut c = signed_in(&app).await;
    assert_eq!(c.get("/console/files").await.status, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let r = c.get("/console/files").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/console/sign-in?signin=expired");
    // Gone for good, not merely refused once.
    let r = c.get("/console").await;
    assert_eq!(r.location(), "/console/sign-in?signin=required");

    // Sign-out ends a session at once.
    let app = spawn_app(b).await;
    let mut c = signed_in(&app).await;
    let cookie = c.cookies["inflow_console"].clone();
    let token = c.csrf().await;
    let r = c.post("/console/sign-out", &[("csrf", &token)]).await;
    assert_eq!(r.location(), "/console/sign-in?signin=out");
    let mut replay = Console::new(&app.base);
    replay.cookies.insert("inflow_console".into(), cookie);
    assert_eq!(
        replay.get("/console").await.location(),
        "/console/sign-in?signin=required"
    );
}

async fn a_customer_key_cannot_sign_in(b: Backend) {
    let app = spawn_app(b).await;
    let (_, creds) = app.customer_with_key("Acme", serde_json::json!({})).await;
    let mut c = Console::new(&app.base);
    let r = c.sign_in(&creds.key).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(r.body.contains("Customer keys cannot sign in"));
    assert!(!c.cookies.contains_key("inflow_console"));
    let r = c.sign_in("ik_test_not_a_key").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(!c.cookies.contains_key("inflow_console"));
    assert_eq!(c.get("/console").await.status, StatusCode::SEE_OTHER);
}

async fn in_production_the_cookie_is_secure_and_there_is_no_sandbox_clock(b: Backend) {
    let app = spawn_app_with(b, |c| c.sandbox = false).await;
    let mut c = Console::new(&app.base);
    let r = c.sign_in(ADMIN_KEY).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let set: Vec<&str> = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    let session = set
        .iter()
        .find(|v| v.starts_with("inflow_console="))
        .expect("a session cookie");
    for attr in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/console"] {
        assert!(session.contains(attr), "{session}");
    }
    let overview = c.get("/console").await;
    assert_eq!(overview.status, StatusCode::OK, "{}", overview.body);
    assert!(
        !overview.body.contains("/console/clock"),
        "no clock in the navigation"
    );
    assert_eq!(c.get("/console/clock").await.status, StatusCode::NOT_FOUND);
    let token = overview.csrf();
    let r = c
        .post("/console/clock", &[("csrf", &token), ("days", "1")])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // In sandbox mode the cookie is not `Secure` (plain http on localhost).
    let app = spawn_app(b).await;
    let r = Console::new(&app.base).sign_in(ADMIN_KEY).await;
    let set: Vec<&str> = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(set.iter().all(|v| !v.contains("Secure")), "{set:?}");
}

async fn inbound_files(app: &TestApp) -> usize {
    let r = app.get(&admin(), "/v1/ach/files?direction=inbound").await;
    r.json()["data"].as_array().unwrap().len()
}

async fn an_inbound_file_is_uploaded_only_with_the_token(b: Backend) {
    let app = spawn_app(b).await;
    let bytes = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/ach-testdata/moov/test/testdata/return-WEB.ach"),
    )
    .unwrap();
    let mut c = signed_in(&app).await;
    let r = c.post_multipart("/console/inbound", &[], &bytes).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = c
        .post_multipart("/console/inbound", &[("csrf", "wrong")], &bytes)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(inbound_files(&app).await, 0);

    let token = c.csrf().await;
    let r = c
        .post_multipart("/console/inbound", &[("csrf", &token)], b"not a NACHA file")
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(inbound_files(&app).await, 0);
    let r = c
        .post_multipart("/console/inbound", &[("csrf", &token)], &bytes)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("The file was applied."), "{}", r.body);
    assert_eq!(inbound_files(&app).await, 1);
    let r = c
        .post_multipart("/console/inbound", &[("csrf", &token)], &bytes)
        .await;
    assert!(
        r.body.contains("applied before; nothing changed"),
        "{}",
        r.body
    );
    assert_eq!(inbound_files(&app).await, 1);
    let applied = audit(&app, "?action=ach.inbound_file_applied").await;
    assert_eq!(applied.len(), 1);
    assert_eq!(applied[0]["actor"]["type"], "console");
}

/// Visit every console page reachable by links from the overview (and
/// the confirmation pages), checking each.
async fn no_page_shows_a_full_account_or_card_number(b: Backend) {
    let app = spawn_app(b).await;
    let demo = seed::seed(&app).await;
    let mut c = signed_in(&app).await;
    let mut todo = vec![
        "/console".to_owned(),
        format!("/console/collections/{}/cancel", demo.pending),
        format!("/console/collections/{}/refund", demo.card_collection),
        format!("/console/collections?customer={}", demo.customer),
        "/console/cutoff".to_owned(),
    ];
    let mut seen = std::collections::BTreeSet::new();
    while let Some(path) = todo.pop() {
        if !seen.insert(path.clone()) || path.contains("/download") || path == "/console/sign-out" {
            continue;
        }
        let p = c.get(&path).await;
        if p.status == StatusCode::METHOD_NOT_ALLOWED {
            continue; // a form's POST-only target
        }
        assert_eq!(p.status, StatusCode::OK, "{path}: {}", p.body);
        let csp = p.headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("default-src 'self'") && csp.contains("script-src 'none'"),
            "{path}: {csp}"
        );
        for secret in [
            seed::PLAIN_ACCOUNT,
            seed::RETURNED_ACCOUNT,
            seed::CARD_NUMBER,
        ] {
            assert!(!p.body.contains(secret), "{path} shows {secret}");
        }
        assert!(!p.body.contains("<script"), "{path} has a script");
        todo.extend(p.links());
    }
    assert!(seen.len() >= 12, "crawled only {seen:?}");
    for page in [
        "/accounts/",
        "/api-keys",
        "/console/reports",
        "/console/webhooks",
        "/console/clock",
    ] {
        assert!(
            seen.iter().any(|p| p.contains(page)),
            "no {page} page in {seen:?}"
        );
    }
    // The file's page renders its entries, masked.
    let file = collection(&app, &demo.creds, &demo.filed).await["fileId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(seen.contains(&format!("/console/files/{file}")), "{seen:?}");
    let page = c.get(&format!("/console/files/{file}")).await.body;
    assert!(
        page.contains("6789") && page.contains(&demo.filed_trace),
        "{page}"
    );
    // The download is the file itself (it has to carry the account number).
    let d = c.get(&format!("/console/files/{file}/download")).await;
    assert_eq!(d.status, StatusCode::OK);
    assert!(d.body.starts_with("101 ") && d.body.contains(seed::PLAIN_ACCOUNT));
}

async fn audit(app: &TestApp, query: &str) -> Vec<Value> {
    let r = app.get(&admin(), &format!("/v1/audit-events{query}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json()["data"].as_array().unwrap().clone()
}

async fn console_actions_are_audited_as_the_operator_through_the_console(b: Backend) {
    let app = spawn_app(b).await;
    let demo = seed::seed(&app).await;
    let admin_key = app.get(&admin(), "/v1/api-keys").await.json()["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut c = signed_in(&app).await;
    let token = c.csrf().await;
    let r = c
        .post(
            &format!("/console/collections/{}/cancel", demo.to_cancel),
            &[("csrf", &token)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    let cancelled = audit(
        &app,
        &format!("?action=collection.cancelled&objectId={}", demo.to_cancel),
    )
    .await;
    assert_eq!(cancelled.len(), 1, "{cancelled:#?}");
    assert_eq!(cancelled[0]["actor"]["type"], "console");
    assert_eq!(cancelled[0]["actor"]["id"], admin_key.as_str());
    assert_eq!(cancelled[0]["actor"]["customerId"], demo.customer.as_str());
    // The same event the API writes.
    let events = support::card::events_for(&app, &demo.to_cancel).await;
    assert_eq!(
        events.last().map(String::as_str),
        Some("collection.cancelled")
    );

    let r = c.post("/console/cutoff", &[("csrf", &token)]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("1 file(s) created"), "{}", r.body);
    assert_eq!(
        collection(&app, &demo.creds, &demo.pending).await["status"],
        "submitted"
    );
    let cutoffs = audit(&app, "?action=ach.cutoff_run").await;
    assert_eq!(
        cutoffs
            .iter()
            .filter(|a| a["actor"]["type"] == "console")
            .count(),
        1,
        "{cutoffs:#?}"
    );

    let r = c
        .post(
            "/console/clock",
            &[
                ("csrf", &token),
                ("days", "0"),
                ("hours", "1"),
                ("minutes", "0"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = c
        .post("/console/clock", &[("csrf", &token), ("days", "-1")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let moved = audit(&app, "?action=sandbox.clock_advanced").await;
    assert!(
        moved.iter().any(|a| a["actor"]["type"] == "console"),
        "{moved:#?}"
    );

    let r = c.post("/console/ledger-check", &[("csrf", &token)]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Balanced:"), "{}", r.body);

    // The customer's fee schedule, from the prefilled form.
    let form = c.get(&format!("/console/fees/{}", demo.customer)).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains(r#"name="achFixed""#), "{}", form.body);
    let fees = format!("/console/fees/{}", demo.customer);
    let r = c
        .post(&fees, &[("csrf", &token), ("achFixed", "1.x")])
        .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "{} {}",
        r.location(),
        r.body
    );
    let r = c
        .post(
            &fees,
            &[
                ("csrf", &token),
                ("achFixed", "0.25"),
                ("achPercentageBps", "30"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let schedule = app
        .get(&admin(), &format!("/v1/fee-schedules/{}", demo.customer))
        .await
        .json();
    assert_eq!(schedule["source"], "customer", "{schedule:#}");
    assert_eq!(schedule["achFixed"], 25);
    assert_eq!(schedule["achPercentageBps"], 30);
    let updated = audit(
        &app,
        &format!("?action=fee_schedule.updated&objectId={}", demo.customer),
    )
    .await;
    assert_eq!(updated[0]["actor"]["type"], "console");

    // The customer's debit limits: one set, the others left without.
    let limits = format!("/console/customers/{}/limits", demo.customer);
    assert_eq!(c.get(&limits).await.status, StatusCode::OK);
    let r = c
        .post(
            &limits,
            &[
                ("csrf", &token),
                ("perEntryMax", "2,500.00"),
                ("dailyDebitMax", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let cus = app
        .get(&admin(), &format!("/v1/customers/{}", demo.customer))
        .await
        .json();
    assert_eq!(
        cus["achLimits"]["perEntryMax"]["value"], "250000",
        "{cus:#}"
    );
    assert!(cus["achLimits"]["dailyDebitMax"].is_null(), "{cus:#}");
    let r = c
        .post(&limits, &[("csrf", &token), ("perEntryMax", "-5")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);

    // Mark the filed collection's payment method validated.
    let pm = collection(&app, &demo.creds, &demo.filed).await["paymentMethodId"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = c
        .post(
            &format!(
                "/console/collections/{}/validate-payment-method",
                demo.filed
            ),
            &[("csrf", &token)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let pm_view = app
        .get(&demo.creds, &format!("/v1/payment-methods/{pm}"))
        .await
        .json();
    assert_eq!(pm_view["validation"]["status"], "validated", "{pm_view:#}");
    let updated = audit(
        &app,
        &format!("?action=payment_method.updated&objectId={pm}"),
    )
    .await;
    assert_eq!(updated[0]["actor"]["type"], "console");

    // Issue an operator key (shown once), sign in with it, revoke it: its session ends.
    let r = c
        .post(
            "/console/api-keys",
            &[
                ("csrf", &token),
                ("name", "night shift"),
                ("owner", "admin"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let at = r.body.find("ik_test_").expect("the new key is shown");
    let new_key: String = r.body[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let new_id = audit(&app, "?action=api_key.created").await[0]["objectId"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut night = Console::new(&app.base);
    assert_eq!(night.sign_in(&new_key).await.status, StatusCode::SEE_OTHER);
    assert_eq!(night.get("/console").await.status, StatusCode::OK);
    let keys = c.get("/console/api-keys").await;
    assert!(
        keys.body.contains(&new_id) && !keys.body.contains(&new_key),
        "the key's secret is shown once only"
    );
    let r = c
        .post(
            &format!("/console/api-keys/{new_id}/revoke"),
            &[("csrf", &token)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        night.get("/console").await.location(),
        "/console/sign-in?signin=required"
    );
    let revoked = audit(&app, &format!("?action=api_key.revoked&objectId={new_id}")).await;
    assert_eq!(revoked[0]["actor"]["type"], "console");

    let signed_in = audit(
        &app,
        &format!("?action=console.signed_in&actorKeyId={admin_key}"),
    )
    .await;
    assert_eq!(signed_in.len(), 1);
    assert_eq!(signed_in[0]["actor"]["id"], admin_key.as_str());
    c.post("/console/sign-out", &[("csrf", &token)]).await;
    assert_eq!(audit(&app, "?action=console.signed_out").await.len(), 1);
}

fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Python of the virtual environment with Playwright (installed by
/// `scripts/ensure-browser.sh` when missing).
fn browser_python() -> String {
    let out = std::process::Command::new(repo_root().join("scripts/ensure-browser.sh"))
        .output()
        .expect("run scripts/ensure-browser.sh");
    assert!(
        out.status.success(),
        "ensure-browser.sh: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_owned()
}

async fn the_operator_flow_in_a_real_browser(b: Backend) {
    let app = spawn_app(b).await;
    let demo = seed::seed(&app).await;
    let target =
        std::env::var("CARGO_TARGET_DIR").map_or_else(|_| repo_root().join("target"), Into::into);
    let shots = target
        .join("console-screenshots")
        .join(format!("{b:?}").to_lowercase());
    std::fs::create_dir_all(&shots).unwrap();
    let python = browser_python();
    let script = repo_root().join("crates/server/tests/api/console/browser_flow.py");
    let mut cmd = std::process::Command::new(python);
    cmd.arg(script)
        .env("CONSOLE_URL", format!("{}/console", app.base))
        .env("ADMIN_KEY", ADMIN_KEY)
        .env("TRACE", &demo.filed_trace)
        .env("FILED_ID", &demo.filed)
        .env("CANCEL_ID", &demo.to_cancel)
        .env("PENDING_ID", &demo.pending)
        .env("RETURN_ID", &demo.to_return)
        .env("SCREENSHOTS", &shots);
    // The server answers on this runtime's workers meanwhile.
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .expect("run the browser flow");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "browser flow failed:\n{log}");
    // What the browser did, seen from the API.
    assert_eq!(
        collection(&app, &demo.creds, &demo.to_cancel).await["status"],
        "cancelled"
    );
    assert_ne!(
        collection(&app, &demo.creds, &demo.pending).await["status"],
        "pending"
    );
    let returned = collection(&app, &demo.creds, &demo.to_return).await;
    assert_eq!(returned["status"], "returned", "{returned:#}");
    assert_eq!(returned["achReturnCode"], "R01");
    // The endpoint refused the cancellation's webhook while the clock moved.
    let refused = demo.receiver.log();
    assert!(
        refused
            .iter()
            .any(|r| r.event_type == "collection.cancelled" && r.status == 500),
        "{refused:#?}"
    );
    let redelivered = audit(&app, "?action=event.redelivered").await;
    assert_eq!(redelivered.len(), 1, "{redelivered:#?}");
    assert_eq!(redelivered[0]["actor"]["type"], "console");
    for name in ["overview", "collection", "file", "returns"] {
        assert!(
            shots.join(format!("{name}.png")).exists(),
            "no {name}.png in {shots:?}"
        );
    }
}
