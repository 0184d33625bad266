//! Customer ACH policy and the banking calendar over HTTP, on both backends,
//! with the sandbox clock and bank: prenotes that validate accounts and
//! release held debits (or fail them when returned), validated accounts for
//! WEB, default authorizations, every documented magic account, and
//! weekends, holidays and same-day roll-over.

use crate::support;

use inflow_core::calendar::{local_date, BankingCalendar};
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::ach::*;
use support::*;

on_both_backends!(
    a_prenote_validates_the_account_and_releases_debits_held_for_it,
    a_returned_prenote_fails_the_debits_held_for_it,
    web_debits_need_a_validated_account_when_the_policy_says_so,
    a_default_authorization_stands_in_for_a_missing_one,
    every_magic_account_gets_its_answer,
    weekends_holidays_and_late_same_day_requests_roll_forward,
);

fn statuses(c: &Value) -> Vec<String> {
    c["statusHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap().to_owned())
        .collect()
}

async fn a_prenote_validates_the_account_and_releases_debits_held_for_it(b: Backend) {
    let app = spawn_app(b).await;
    let (_, creds) = app
        .customer_with_key("Acme", json!({"requirePrenote": true}))
        .await;
    let dest = destination(&app, &creds).await;
    let pm = make_pm(&app, &creds, "000123456789").await;

    let refused = try_collect(&app, &creds, &dest, &pm, "5000", json!({})).await;
    assert_eq!(
        (refused.status, refused.error_code().as_str()),
        (StatusCode::CONFLICT, "account_not_validated"),
        "{}",
        refused.text
    );
    assert_eq!(refused.error_param().as_deref(), Some("paymentMethodId"));

    let prenote = collect(&app, &creds, &dest, &pm, "0", json!({"type": "prenote"})).await;
    let prenote_id = prenote["id"].as_str().unwrap();
    let v = payment_method(&app, &creds, &pm).await["validation"].clone();
    assert_eq!(
        (v["status"].as_str(), v["prenoteId"].as_str()),
        (Some("pending"), Some(prenote_id)),
        "{v}"
    );

    let held = collect(&app, &creds, &dest, &pm, "5000", json!({})).await;
    assert_eq!(held["status"], "on_hold", "{held}");
    assert!(
        held["statusReason"].as_str().unwrap().contains(prenote_id),
        "{held}"
    );

    // Three banking days after its effective date the prenote is accepted.
    advance_days(&app, 10).await;
    let p = collection(&app, &creds, prenote_id).await;
    assert_eq!(p["status"], "completed", "{p}");
    let v = payment_method(&app, &creds, &pm).await["validation"].clone();
    assert_eq!(
        (v["status"].as_str(), v["method"].as_str()),
        (Some("validated"), Some("prenote")),
        "{v}"
    );
    let d = collection(&app, &creds, held["id"].as_str().unwrap()).await;
    let history = statuses(&d);
    assert_eq!(&history[..2], ["on_hold", "pending"], "{d}");
    assert!(
        matches!(
            d["status"].as_str(),
            Some("submitted" | "processing" | "completed")
        ),
        "released and filed: {d}"
    );

    // From now on live debits go straight out.
    let next = collect(&app, &creds, &dest, &pm, "7000", json!({})).await;
    assert_eq!(next["status"], "pending", "{next}");
    app.stop().await;
}

async fn a_returned_prenote_fails_the_debits_held_for_it(b: Backend) {
    let app = spawn_app(b).await;
    let (_, creds) = app
        .customer_with_key("Acme", json!({"requirePrenote": true}))
        .await;
    let dest = destination(&app, &creds).await;
    let pm = make_pm(&app, &creds, "9999000103").await; // the sandbox bank answers R03
    let prenote = collect(&app, &creds, &dest, &pm, "0", json!({"type": "prenote"})).await;
    let held = collect(&app, &creds, &dest, &pm, "5000", json!({})).await;
    assert_eq!(held["status"], "on_hold");

    advance_days(&app, 10).await;
    let p = collection(&app, &creds, prenote["id"].as_str().unwrap()).await;
    assert_eq!(
        (p["status"].as_str(), p["achReturnCode"].as_str()),
        (Some("returned"), Some("R03")),
        "{p}"
    );
    let m = payment_method(&app, &creds, &pm).await;
    assert_eq!(m["validation"]["status"], "failed", "{m}");
    assert_eq!(m["status"], "blocked", "R03 blocks the account: {m}");
    let d = collection(&app, &creds, held["id"].as_str().unwrap()).await;
    assert_eq!(d["status"], "failed", "{d}");
    assert!(d["statusReason"].as_str().unwrap().contains("R03"), "{d}");
    assert!(d["traceNumber"].is_null(), "never filed: {d}");
    app.stop().await;
}

async fn web_debits_need_a_validated_account_when_the_policy_says_so(b: Backend) {
    let app = spawn_app(b).await;
    let (customer, creds) = app
        .customer_with_key("Acme", json!({"webRequiresValidatedAccount": true}))
        .await;
    let dest = destination(&app, &creds).await;
    let pm = make_pm(&app, &creds, "000123456789").await;
    let web = json!({"secCode": "WEB", "authorization": {"type": "online", "obtainedAt": "2026-01-05T10:00:00Z", "ipAddress": "203.0.113.9"}});

    let refused = try_collect(&app, &creds, &dest, &pm, "5000", web.clone()).await;
    assert_eq!(
        (refused.status, refused.error_code().as_str()),
        (StatusCode::CONFLICT, "account_not_validated"),
        "{}",
        refused.text
    );
    // Other SEC codes are not bound by this policy.
    let ppd = collect(&app, &creds, &dest, &pm, "5100", json!({"secCode": "PPD"})).await;
    assert_eq!(ppd["status"], "pending");

    // Only the operator may vouch for an account.
    let by_customer = patch(
        &app,
        &creds,
        &format!("/v1/payment-methods/{pm}"),
        json!({"validated": true}),
    )
    .await;
    assert_eq!(
        by_customer.status,
        StatusCode::FORBIDDEN,
        "{}",
        by_customer.text
    );
    let operator = Creds {
        acting_for: Some(customer),
        ..admin()
    };
    let r = patch(
        &app,
        &operator,
        &format!("/v1/payment-methods/{pm}"),
        json!({"validated": true}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (
            r.json()["validation"]["status"].as_str(),
            r.json()["validation"]["method"].as_str()
        ),
        (Some("validated"), Some("operator"))
    );
    let ok = collect(&app, &creds, &dest, &pm, "5000", web).await;
    assert_eq!(
        (ok["status"].as_str(), ok["secCode"].as_str()),
        (Some("pending"), Some("WEB"))
    );
    app.stop().await;
}

async fn a_default_authorization_stands_in_for_a_missing_one(b: Backend) {
    let app = spawn_app(b).await;
    let (_, plain) = app.customer_with_key("Plain", json!({})).await;
    let dest = destination(&app, &plain).await;
    let pm = make_pm(&app, &plain, "000123456789").await;
    let missing = try_collect(
        &app,
        &plain,
        &dest,
        &pm,
        "5000",
        json!({"authorization": null}),
    )
    .await;
    assert_eq!(
        (missing.status, missing.error_param().as_deref()),
        (StatusCode::BAD_REQUEST, Some("authorization")),
        "{}",
        missing.text
    );

    let bad = app
        .post(
            &admin(),
            "/v1/customers",
            json!({"name": "Bad", "kind": "business",
                   "defaultAuthorization": {"type": "written", "obtainedAt": "2026-01-05T10:00:00Z", "ipAddress": "nope"}}),
        )
        .await;
    assert_eq!(
        (bad.status, bad.error_param().as_deref()),
        (
            StatusCode::BAD_REQUEST,
            Some("defaultAuthorization.ipAddress")
        ),
        "{}",
        bad.text
    );

    let (_, creds) = app
        .customer_with_key(
            "Agency",
            json!({"defaultAuthorization": {"type": "written", "obtainedAt": "2025-06-01T00:00:00Z", "evidenceRef": "master agreement 2025"}}),
        )
        .await;
    let dest = destination(&app, &creds).await;
    let pm = make_pm(&app, &creds, "000123456789").await;
    let c = collect(
        &app,
        &creds,
        &dest,
        &pm,
        "5000",
        json!({"authorization": null}),
    )
    .await;
    assert_eq!(
        c["authorization"]["evidenceRef"], "master agreement 2025",
        "{c}"
    );
    assert_eq!(
        c["secCode"], "PPD",
        "written authorization of an individual: PPD"
    );
    // A request's own authorization wins.
    let own = collect(
        &app,
        &creds,
        &dest,
        &pm,
        "6000",
        json!({"authorization": {"type": "phone", "obtainedAt": "2026-02-01T00:00:00Z"}}),
    )
    .await;
    assert_eq!(
        (
            own["authorization"]["type"].as_str(),
            own["secCode"].as_str()
        ),
        (Some("phone"), Some("TEL"))
    );
    app.stop().await;
}

/// The magic accounts of docs/sandbox.md, each with what the sandbox bank answers.
const RETURNS: [(&str, &str); 9] = [
    ("9999000101", "R01"),
    ("9999000102", "R02"),
    ("9999000103", "R03"),
    ("9999000104", "R04"),
    ("9999000107", "R07"),
    ("9999000110", "R10"),
    ("9999000116", "R16"),
    ("9999000120", "R20"),
    ("9999000129", "R29"),
];
const NOCS: [(&str, &str); 5] = [
    ("9999100001", "C01"),
    ("9999100002", "C02"),
    ("9999100003", "C03"),
    ("9999100004", "C04"),
    ("9999100005", "C05"),
];

async fn every_magic_account_gets_its_answer(b: Backend) {
    let app = spawn_app(b).await;
    let (_, creds) = app.customer_with_key("Acme", json!({})).await;
    let dest = destination(&app, &creds).await;
    let mut returns = Vec::new();
    for (i, (account, code)) in RETURNS.iter().enumerate() {
        let pm = make_pm(&app, &creds, account).await;
        let c = collect(
            &app,
            &creds,
            &dest,
            &pm,
            &format!("{}", 1000 + i),
            json!({}),
        )
        .await;
        returns.push((c["id"].as_str().unwrap().to_owned(), pm, *code));
    }
    let mut nocs = Vec::new();
    for (i, (account, code)) in NOCS.iter().enumerate() {
        let pm = make_pm(&app, &creds, account).await;
        let before = payment_method(&app, &creds, &pm).await;
        let c = collect(
            &app,
            &creds,
            &dest,
            &pm,
            &format!("{}", 2000 + i),
            json!({}),
        )
        .await;
        nocs.push((c["id"].as_str().unwrap().to_owned(), pm, before, *code));
    }
    let silent_pm = make_pm(&app, &creds, "9999999999").await;
    let silent = collect(&app, &creds, &dest, &silent_pm, "3000", json!({})).await;

    advance_days(&app, 14).await;

    let blocking = ["R02", "R03", "R04", "R07", "R10", "R16", "R20", "R29"];
    for (id, pm, code) in &returns {
        let c = collection(&app, &creds, id).await;
        assert_eq!(
            (c["status"].as_str(), c["achReturnCode"].as_str()),
            (Some("returned"), Some(*code)),
            "{c}"
        );
        assert!(c["achReturnDescription"]
            .as_str()
            .is_some_and(|d| !d.is_empty()));
        let m = payment_method(&app, &creds, pm).await;
        let expected = if blocking.contains(code) {
            "blocked"
        } else {
            "active"
        };
        assert_eq!(m["status"], expected, "{code}: {m}");
    }
    for (id, pm, before, code) in &nocs {
        let c = collection(&app, &creds, id).await;
        assert_eq!(c["noc"]["code"], *code, "{c}");
        assert_eq!(
            c["status"], "completed",
            "a NOC does not return the entry: {c}"
        );
        let m = payment_method(&app, &creds, pm).await;
        if *code == "C04" {
            // A corrected name is recorded on the collection only (docs/sandbox.md).
            assert_eq!(m["usBankAccount"], before["usBankAccount"], "{m}");
            continue;
        }
        assert_ne!(
            (
                &m["usBankAccount"]["routingNumber"],
                &m["usBankAccount"]["fingerprint"],
                &m["usBankAccount"]["accountType"]
            ),
            (
                &before["usBankAccount"]["routingNumber"],
                &before["usBankAccount"]["fingerprint"],
                &before["usBankAccount"]["accountType"]
            ),
            "{code} corrected the payment method: {m}"
        );
    }
    let s = collection(&app, &creds, silent["id"].as_str().unwrap()).await;
    assert_eq!(
        s["status"], "processing",
        "the never-answered account stays processing: {s}"
    );
    app.stop().await;
}

async fn weekends_holidays_and_late_same_day_requests_roll_forward(b: Backend) {
    let app = spawn_app(b).await;
    let (_, creds) = app.customer_with_key("Acme", json!({})).await;
    let dest = destination(&app, &creds).await;
    let pm = make_pm(&app, &creds, "000123456789").await;
    let cal = BankingCalendar::federal_reserve();

    // The next Friday that is a banking day, after the last same-day window.
    let mut friday = local_date(sandbox_now(&app).await).succ_opt().unwrap();
    while friday.format("%a").to_string() != "Fri" || !cal.is_banking_day(friday) {
        friday = friday.succ_opt().unwrap();
    }
    advance_to_eastern(&app, friday, 17, 0).await;
    let monday_or_later = cal.next_banking_day(friday);
    let late_same_day = collect(
        &app,
        &creds,
        &dest,
        &pm,
        "1500",
        json!({"processingMode": "same_day"}),
    )
    .await;
    assert_eq!(
        late_same_day["effectiveDate"].as_str(),
        Some(monday_or_later.to_string().as_str()),
        "after the last window a same-day entry settles on the next banking day: {late_same_day}"
    );
    let standard = collect(&app, &creds, &dest, &pm, "1600", json!({})).await;
    assert_eq!(
        standard["effectiveDate"].as_str(),
        Some(monday_or_later.to_string().as_str()),
        "{standard}"
    );
    let saturday = friday.succ_opt().unwrap();
    let weekend = try_collect(
        &app,
        &creds,
        &dest,
        &pm,
        "1700",
        json!({"effectiveDate": saturday.to_string()}),
    )
    .await;
    assert_eq!(
        (
            weekend.status,
            weekend.error_code().as_str(),
            weekend.error_param().as_deref()
        ),
        (
            StatusCode::BAD_REQUEST,
            "effective_date_not_banking_day",
            Some("effectiveDate")
        ),
        "{}",
        weekend.text
    );
    // The standard debit is in Friday's standard cutoff file; the same-day
    // entry waits for the first same-day window of its effective date.
    advance_to_eastern(&app, friday, 21, 0).await;
    let s = collection(&app, &creds, standard["id"].as_str().unwrap()).await;
    assert_eq!(s["status"], "submitted", "{s}");
    let sd = collection(&app, &creds, late_same_day["id"].as_str().unwrap()).await;
    assert_eq!(sd["status"], "pending", "{sd}");
    advance_to_eastern(&app, monday_or_later, 11, 0).await;
    let sd = collection(&app, &creds, late_same_day["id"].as_str().unwrap()).await;
    assert!(
        matches!(sd["status"].as_str(), Some("submitted" | "processing")),
        "{sd}"
    );
    assert_eq!(
        sd["effectiveDate"].as_str(),
        Some(monday_or_later.to_string().as_str())
    );
    assert!(
        sd["statusHistory"][1]["reason"]
            .as_str()
            .unwrap()
            .contains("same-day window 1"),
        "{sd}"
    );

    // The next weekday holiday: a debit asked for the banking day before it
    // settles after it, and the holiday itself is refused.
    let mut holiday = monday_or_later.succ_opt().unwrap();
    while cal.is_banking_day(holiday)
        || matches!(holiday.format("%a").to_string().as_str(), "Sat" | "Sun")
    {
        holiday = holiday.succ_opt().unwrap();
    }
    let eve = cal.previous_banking_day(holiday);
    advance_to_eastern(&app, eve, 12, 0).await;
    let refused = try_collect(
        &app,
        &creds,
        &dest,
        &pm,
        "1800",
        json!({"effectiveDate": holiday.to_string()}),
    )
    .await;
    assert_eq!(
        refused.error_code(),
        "effective_date_not_banking_day",
        "{}",
        refused.text
    );
    let over = collect(&app, &creds, &dest, &pm, "1900", json!({})).await;
    assert_eq!(
        over["effectiveDate"].as_str(),
        Some(cal.next_banking_day(holiday).to_string().as_str()),
        "a debit made the day before {holiday} settles after it: {over}"
    );
    app.stop().await;
}
