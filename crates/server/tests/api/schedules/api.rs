//! Creating, reading, listing and changing schedules over HTTP: precise 4xx
//! errors that name the field, scoping to the customer, idempotency, PATCH.

use chrono::{Datelike, Duration};
use inflow_core::calendar::BankingCalendar;
use reqwest::{Method, StatusCode};
use serde_json::json;

use super::common::*;
use crate::on_both_backends;
use crate::support::*;

on_both_backends!(
    bad_schedule_requests_are_refused_naming_the_field,
    a_schedule_shows_its_run_dates_and_only_to_its_customer,
);

async fn bad_schedule_requests_are_refused_naming_the_field(b: Backend) {
    let w = World::new(b).await;
    let pm = w.pm("000123456789").await;
    let start = (w.today().await + Duration::days(10)).to_string();
    let ok = json!({"frequency": "monthly", "startDate": start, "occurrences": 3});
    let cases = [
        (
            json!({"frequency": "daily", "startDate": start, "occurrences": 3}),
            "frequency",
            "invalid_field",
        ),
        (
            json!({"frequency": "monthly", "startDate": "2026-02-30", "occurrences": 3}),
            "startDate",
            "invalid_date",
        ),
        (
            json!({"frequency": "monthly", "startDate": start}),
            "endDate",
            "missing_field",
        ),
        (
            json!({"frequency": "monthly", "startDate": start, "occurrences": 3, "endDate": start}),
            "occurrences",
            "invalid_schedule_end",
        ),
        (
            json!({"frequency": "monthly", "startDate": start, "occurrences": 0}),
            "occurrences",
            "invalid_occurrences",
        ),
        (
            json!({"frequency": "monthly", "startDate": start, "occurrences": -2}),
            "occurrences",
            "invalid_occurrences",
        ),
        (
            json!({"frequency": "monthly", "startDate": start, "occurrences": 1001}),
            "occurrences",
            "invalid_occurrences",
        ),
        (
            json!({"frequency": "monthly", "startDate": start, "occurrences": 3, "dayOfMonth": 31}),
            "dayOfMonth",
            "invalid_day_of_month",
        ),
        (
            json!({"frequency": "monthly", "startDate": start, "occurrences": 3, "dayOfMonth": "first"}),
            "dayOfMonth",
            "invalid_day_of_month",
        ),
        (
            json!({"frequency": "weekly", "startDate": start, "occurrences": 3, "dayOfMonth": 5}),
            "dayOfMonth",
            "day_of_month_not_allowed",
        ),
        (
            json!({"frequency": "weekly", "startDate": start, "endDate": "2020-01-01"}),
            "endDate",
            "invalid_end_date",
        ),
        (
            json!({"frequency": "monthly", "startDate": "2020-01-01", "occurrences": 3}),
            "startDate",
            "start_date_too_soon",
        ),
        (
            json!({"frequency": "monthly", "startDate": start, "occurrences": 3, "retryPolicy": {"maxRetries": 3}}),
            "retryPolicy.maxRetries",
            "invalid_retry_policy",
        ),
        (
            json!({"frequency": "monthly", "startDate": start, "occurrences": 3, "companyEntryDescription": "RETRY PYMT"}),
            "companyEntryDescription",
            "reserved_entry_description",
        ),
        (
            json!({"frequency": "monthly", "startDate": start, "occurrences": 3, "companyEntryDescription": "reversal"}),
            "companyEntryDescription",
            "reserved_entry_description",
        ),
        (
            json!({"frequency": "monthly", "startDate": start, "occurrences": 3, "companyEntryDescription": "0000000000"}),
            "companyEntryDescription",
            "invalid_entry_description",
        ),
        (
            json!({"frequency": "monthly", "startDate": start, "occurrences": 3, "secCode": "CCD"}),
            "secCode",
            "sec_code_mismatch",
        ),
        (
            json!({"frequency": "monthly", "startDate": start, "occurrences": 3, "color": "red"}),
            "color",
            "unknown_field",
        ),
    ];
    for (extra, param, code) in cases {
        let r = w
            .app
            .post(
                &w.creds,
                "/v1/schedules",
                w.body(&pm, "2500", extra.clone()),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{extra}: {}", r.text);
        assert_eq!(
            (r.error_code().as_str(), r.error_param().as_deref()),
            (code, Some(param)),
            "{extra}: {}",
            r.text
        );
    }
    let r = w
        .app
        .post(&w.creds, "/v1/schedules", w.body(&pm, "0", ok.clone()))
        .await;
    assert_eq!(
        r.error_param().as_deref(),
        Some("amount.value"),
        "{}",
        r.text
    );
    let r = w
        .app
        .post(
            &w.creds,
            "/v1/schedules",
            w.body("pm_0000000000000000000000000000000a", "100", ok.clone()),
        )
        .await;
    assert_eq!(
        (r.status, r.error_param().as_deref()),
        (StatusCode::NOT_FOUND, Some("paymentMethodId")),
        "{}",
        r.text
    );
    let r = w
        .app
        .post(
            &w.creds,
            "/v1/schedules",
            w.body("card_1", "100", ok.clone()),
        )
        .await;
    assert_eq!(
        (r.status, r.error_param().as_deref()),
        (StatusCode::BAD_REQUEST, Some("paymentMethodId"))
    );

    // Nothing was created by any of them.
    let list = w.app.get(&w.creds, "/v1/schedules").await.json();
    assert_eq!(list["data"].as_array().unwrap().len(), 0, "{list}");
    let r = w.app.get(&w.creds, "/v1/schedules?status=sleeping").await;
    assert_eq!(r.error_param().as_deref(), Some("status"));
    w.app.stop().await;
}

async fn a_schedule_shows_its_run_dates_and_only_to_its_customer(b: Backend) {
    let w = World::new(b).await;
    let pm = w.pm("000123456789").await;
    let other_pm = w.pm("000987654321").await;
    let today = w.today().await;
    // The next 31st at least ten days away.
    let mut start = today + Duration::days(10);
    while start.day() != 31 {
        start += Duration::days(1);
    }
    let body = w.body(
        &pm,
        "4999",
        json!({"frequency": "monthly", "startDate": start.to_string(),
        "occurrences": 12, "externalId": "plan-7", "reference": "INV-7",
        "retryPolicy": {"maxRetries": 2}}),
    );
    let key = [("idempotency-key", "sched-1")];
    let text = body.to_string();
    let first = w
        .app
        .send(
            Some(&w.creds),
            Method::POST,
            "/v1/schedules",
            Some(&text),
            true,
            &key,
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let again = w
        .app
        .send(
            Some(&w.creds),
            Method::POST,
            "/v1/schedules",
            Some(&text),
            true,
            &key,
        )
        .await;
    assert_eq!(again.text, first.text);
    assert_eq!(again.headers.get("idempotent-replayed").unwrap(), "true");
    let s = first.json();
    let id = s["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("sch_"));
    assert_eq!(s["status"], "active");
    assert_eq!(
        (s["secCode"].as_str(), s["paymentType"].as_str()),
        (Some("WEB"), Some("recurring"))
    );
    assert_eq!(
        (s["totalOccurrences"].as_u64(), s["occurrences"].as_u64()),
        (Some(12), Some(12))
    );
    assert_eq!(
        s["retryPolicy"],
        json!({"maxRetries": 2, "daysAfterReturn": 3})
    );
    let cal = BankingCalendar::federal_reserve();
    let next: Vec<_> = s["nextRunDates"]
        .as_array()
        .unwrap()
        .iter()
        .map(date)
        .collect();
    assert_eq!(next.len(), 5);
    assert!(next.iter().all(|d| cal.is_banking_day(*d)), "{next:?}");
    assert!(next.windows(2).all(|p| p[0] < p[1]));
    assert_eq!(next[0], cal.banking_day_on_or_after(start));
    assert_eq!(w.events(&id).await, vec!["schedule.created"]);

    // A second schedule with the same externalId is refused.
    let r = w.app.post(&w.creds, "/v1/schedules", body.clone()).await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (StatusCode::CONFLICT, "external_id_taken")
    );

    // Another customer sees nothing of it.
    let (_, stranger) = w.app.customer_with_key("Other", json!({})).await;
    assert_eq!(
        w.app
            .get(&stranger, &format!("/v1/schedules/{id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let r = w
        .app
        .post(&stranger, &format!("/v1/schedules/{id}/pause"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        w.app.get(&stranger, "/v1/schedules").await.json()["data"],
        json!([])
    );
    let list = w
        .app
        .get(&w.creds, "/v1/schedules?externalId=plan-7")
        .await
        .json();
    assert_eq!(list["data"][0]["id"], id.as_str());

    // PATCH: amount and payment method for future occurrences.
    let r = w
        .app
        .call(
            &w.creds,
            Method::PATCH,
            &format!("/v1/schedules/{id}"),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (StatusCode::BAD_REQUEST, "nothing_to_change")
    );
    let r = w
        .app
        .call(
            &w.creds,
            Method::PATCH,
            &format!("/v1/schedules/{id}"),
            Some(json!({"amount": {"currency": "USD", "value": "-5"}})),
        )
        .await;
    assert_eq!(
        r.error_param().as_deref(),
        Some("amount.value"),
        "{}",
        r.text
    );
    let r = w.app.call(&w.creds, Method::PATCH, &format!("/v1/schedules/{id}"),
        Some(json!({"amount": {"currency": "USD", "value": "5250"}, "paymentMethodId": other_pm}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let s = r.json();
    assert_eq!(s["amount"]["value"], "5250");
    assert_eq!(s["paymentMethodId"], other_pm.as_str());
    assert!(s["amountChangedAt"].is_string(), "{s}");
    assert_eq!(s["amountHistory"][0]["from"]["value"], "4999");
    assert_eq!(s["amountHistory"][0]["fromOccurrence"], 1);
    assert_eq!(
        w.events(&id).await,
        vec!["schedule.created", "schedule.updated"]
    );

    // Lifecycle conflicts are 409s; resume needs a paused schedule.
    let r = w
        .app
        .post(&w.creds, &format!("/v1/schedules/{id}/resume"), json!({}))
        .await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (StatusCode::CONFLICT, "schedule_status_conflict")
    );
    let r = w
        .app
        .post(
            &w.creds,
            &format!("/v1/schedules/{id}/cancel"),
            json!({"reason": "customer moved"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (
            r.json()["status"].as_str(),
            r.json()["nextRunDates"].as_array().map(Vec::len)
        ),
        (Some("cancelled"), Some(0))
    );
    let r = w
        .app
        .post(&w.creds, &format!("/v1/schedules/{id}/pause"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = w
        .app
        .call(
            &w.creds,
            Method::PATCH,
            &format!("/v1/schedules/{id}"),
            Some(json!({"amount": {"currency": "USD", "value": "100"}})),
        )
        .await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (StatusCode::CONFLICT, "schedule_not_changeable")
    );
    w.app.stop().await;
}
