//! A simulated year with the sandbox clock and bank: monthly on the 31st and
//! on the last day, every two weeks across holidays, end by count and by
//! date, pause and resume, cancel, stop on an R02 return, and the R01
//! retry policy — all in one year of sandbox time per backend.

use chrono::{Datelike, Duration, NaiveDate};
use inflow_core::calendar::BankingCalendar;
use inflow_core::schedule::{DayOfMonth, Frequency, Recurrence, ScheduleEnd};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::common::*;
use crate::on_both_backends;
use crate::support::*;

on_both_backends!(a_year_of_schedules);

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

/// The run dates the schedule must have used.
fn expected_runs(
    f: Frequency,
    start: NaiveDate,
    dom: Option<DayOfMonth>,
    end: ScheduleEnd,
) -> Vec<NaiveDate> {
    let r = Recurrence::new(f, start, dom, end).unwrap();
    let cal = BankingCalendar::federal_reserve();
    (1..=r.total())
        .map(|n| r.run_date(&cal, n).unwrap())
        .collect()
}

/// Every occurrence created exactly once, on its run date, and completed.
async fn assert_ran(w: &World, s: &Value, runs: &[NaiveDate]) {
    assert_eq!(s["status"], "completed", "{s}");
    let made = collections(s);
    assert_eq!(made.len(), runs.len(), "{s}");
    for ((occ, retry, c), run) in made.iter().zip(runs) {
        assert_eq!(*retry, 0);
        assert_eq!(date(&c["effectiveDate"]), *run, "occurrence {occ}: {c}");
        assert_eq!(c["status"], "completed", "{c}");
    }
    // The collection itself links back to the schedule and is a recurring WEB debit.
    let full = w.collection(made[0].2["id"].as_str().unwrap()).await;
    assert_eq!(full["scheduleId"], s["id"]);
    assert_eq!(
        (full["occurrence"].as_u64(), full["paymentType"].as_str()),
        (Some(1), Some("recurring"))
    );
    let events = w.events(s["id"].as_str().unwrap()).await;
    assert_eq!(events.first().map(String::as_str), Some("schedule.created"));
    assert_eq!(
        events.last().map(String::as_str),
        Some("schedule.completed"),
        "{events:?}"
    );
}

async fn a_year_of_schedules(b: Backend) {
    let w = World::new(b).await;
    let good = w.pm("000123456789").await;
    let r01 = w.pm("9999000101").await;
    let r02 = w.pm("9999000102").await;
    let r16 = w.pm("9999000116").await;
    let soon_inactive = w.pm("000111222333").await;
    let t0 = w.today().await;
    let start = t0 + Duration::days(7);
    let mut the_31st = start;
    while the_31st.day() != 31 {
        the_31st += Duration::days(1);
    }
    let end_last = start + Duration::days(330);

    let s31 = w
        .create(w.body(
            &good,
            "3100",
            json!({"frequency": "monthly", "startDate": the_31st.to_string(), "occurrences": 12}),
        ))
        .await;
    let slast = w
        .create(w.body(
            &good,
            "3000",
            json!({"frequency": "monthly", "dayOfMonth": "last",
        "startDate": start.to_string(), "endDate": end_last.to_string()}),
        ))
        .await;
    let s2w = w.create(w.body(&good, "1400", json!({"frequency": "every_two_weeks", "startDate": start.to_string(), "occurrences": 26}))).await;
    let spause = w
        .create(w.body(
            &good,
            "700",
            json!({"frequency": "weekly", "startDate": start.to_string(), "occurrences": 12}),
        ))
        .await;
    let scancel = w
        .create(w.body(
            &good,
            "710",
            json!({"frequency": "weekly", "startDate": start.to_string(), "occurrences": 30}),
        ))
        .await;
    let sstop = w
        .create(w.body(
            &r02,
            "5000",
            json!({"frequency": "monthly", "startDate": start.to_string(), "occurrences": 6}),
        ))
        .await;
    let sretry = w
        .create(w.body(
            &r01,
            "6000",
            json!({"frequency": "monthly", "startDate": start.to_string(), "occurrences": 2,
        "retryPolicy": {"maxRetries": 2, "daysAfterReturn": 3}}),
        ))
        .await;

    let shold = w
        .create(w.body(
            &good,
            "720",
            json!({"frequency": "weekly",
        "startDate": (start + Duration::days(4)).to_string(), "occurrences": 4}),
        ))
        .await;
    let sr16 = w
        .create(w.body(
            &r16,
            "1600",
            json!({"frequency": "monthly", "startDate": start.to_string(), "occurrences": 3}),
        ))
        .await;
    let sinactive = w
        .create(w.body(
            &soon_inactive,
            "1700",
            json!({"frequency": "monthly",
        "startDate": (start + Duration::days(5)).to_string(), "occurrences": 2}),
        ))
        .await;
    // The payer's bank account is switched off before the first occurrence is due.
    let r = w
        .app
        .call(
            &w.creds,
            Method::PATCH,
            &format!("/v1/payment-methods/{soon_inactive}"),
            Some(json!({"status": "inactive"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    // Day 20: pause one weekly schedule, cancel another.
    w.advance_days(20).await;

    // A pause and an immediate resume: the held occurrence goes out as planned.
    let hid = id(&shold);
    let r = w
        .app
        .post(&w.creds, &format!("/v1/schedules/{hid}/pause"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let held_now: Vec<Value> = collections(&r.json())
        .into_iter()
        .map(|(_, _, c)| c)
        .filter(|c| c["status"] == "on_hold")
        .collect();
    assert_eq!(held_now.len(), 1, "{}", r.text);
    let r = w
        .app
        .post(&w.creds, &format!("/v1/schedules/{hid}/resume"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let c = w.collection(held_now[0]["id"].as_str().unwrap()).await;
    assert!(
        matches!(c["status"].as_str(), Some("scheduled" | "pending")),
        "{c}"
    );

    // R16 blocked the payment method: the schedule paused with the reason and
    // cannot resume until it debits another account.
    let rid = id(&sr16);
    let s = w.schedule(&rid).await;
    assert_eq!(s["status"], "paused", "{s}");
    assert!(
        s["statusReason"].as_str().unwrap().contains("is blocked"),
        "{s}"
    );
    let r = w
        .app
        .post(&w.creds, &format!("/v1/schedules/{rid}/resume"), json!({}))
        .await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (StatusCode::CONFLICT, "payment_method_not_active")
    );
    let r = w
        .app
        .call(
            &w.creds,
            Method::PATCH,
            &format!("/v1/schedules/{rid}"),
            Some(json!({"paymentMethodId": good})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = w
        .app
        .post(&w.creds, &format!("/v1/schedules/{rid}/resume"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    // Switching the payment method off paused that schedule at once.
    let s = w.schedule(&id(&sinactive)).await;
    assert_eq!(s["status"], "paused", "{s}");
    assert!(
        s["statusReason"].as_str().unwrap().ends_with("is inactive"),
        "{s}"
    );
    assert_eq!(collections(&s).len(), 0);

    let (pid, cid) = (id(&spause), id(&scancel));
    let r = w
        .app
        .post(
            &w.creds,
            &format!("/v1/schedules/{pid}/pause"),
            json!({"reason": "payer on holiday"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let paused = r.json();
    assert_eq!(
        (paused["status"].as_str(), paused["statusReason"].as_str()),
        (Some("paused"), Some("payer on holiday"))
    );
    let held: Vec<String> = collections(&paused)
        .iter()
        .filter(|(_, _, c)| c["status"] == "on_hold")
        .map(|(_, _, c)| id(c))
        .collect();
    let made_before_pause = collections(&paused).len();
    let r = w
        .app
        .post(&w.creds, &format!("/v1/schedules/{cid}/cancel"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let cancelled = r.json();
    assert_eq!(cancelled["status"], "cancelled");
    let made_before_cancel = collections(&cancelled).len();
    assert!(made_before_cancel >= 2, "{cancelled}");
    for (_, _, c) in collections(&cancelled) {
        assert!(
            matches!(
                c["status"].as_str(),
                Some("submitted" | "processing" | "completed" | "cancelled")
            ),
            "{c}"
        );
    }

    // The first R02 return stopped its schedule; R01 returns are being retried.
    let stopped = w.schedule(&id(&sstop)).await;
    assert_eq!(stopped["status"], "stopped", "{stopped}");
    assert!(
        stopped["statusReason"].as_str().unwrap().contains("R02"),
        "{stopped}"
    );
    assert_eq!(
        collections(&stopped).len(),
        1,
        "nothing after the stop: {stopped}"
    );
    assert_eq!(
        w.events(&id(&sstop)).await.last().map(String::as_str),
        Some("schedule.stopped")
    );

    // Thirty days later the paused schedule has created nothing; resume it.
    w.advance_days(30).await;
    assert_eq!(
        collections(&w.schedule(&pid).await).len(),
        made_before_pause,
        "nothing while paused"
    );
    let r = w
        .app
        .post(&w.creds, &format!("/v1/schedules/{pid}/resume"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let resumed = r.json();
    assert_eq!(resumed["status"], "active");
    let skipped = resumed["occurrenceList"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["status"] == "skipped")
        .count();
    assert!(
        skipped >= 3,
        "run dates during the pause are skipped: {resumed}"
    );
    for h in &held {
        let c = w.collection(h).await;
        assert_eq!(c["status"], "cancelled", "held past its date: {c}");
    }

    // Raise the amount of S31's future occurrences.
    let s31_id = id(&s31);
    let r = w
        .app
        .call(
            &w.creds,
            Method::PATCH,
            &format!("/v1/schedules/{s31_id}"),
            Some(json!({"amount": {"currency": "USD", "value": "3300"}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let from_occurrence = r.json()["amountHistory"][0]["fromOccurrence"]
        .as_u64()
        .unwrap();

    // The rest of the year, until every run is more than a week old.
    let runs = expected_runs(
        Frequency::Monthly,
        the_31st,
        None,
        ScheduleEnd::Occurrences(12),
    );
    let last = *runs.last().unwrap();
    let days = (last - w.today().await).num_days().max(0) as u32 + 10;
    w.advance_days(days.max(330)).await;

    let s = w.schedule(&s31_id).await;
    assert_ran(&w, &s, &runs).await;
    for (occ, _, c) in collections(&s) {
        let want = if occ >= from_occurrence {
            "3300"
        } else {
            "3100"
        };
        assert_eq!(c["amount"]["value"], want, "occurrence {occ}");
    }

    let s = w.schedule(&id(&slast)).await;
    let runs = expected_runs(
        Frequency::Monthly,
        start,
        Some(DayOfMonth::Last),
        ScheduleEnd::EndDate(end_last),
    );
    assert_eq!(s["totalOccurrences"].as_u64(), Some(runs.len() as u64));
    assert_ran(&w, &s, &runs).await;

    let s = w.schedule(&id(&s2w)).await;
    let runs = expected_runs(
        Frequency::EveryTwoWeeks,
        start,
        None,
        ScheduleEnd::Occurrences(26),
    );
    assert_ran(&w, &s, &runs).await;

    let s = w.schedule(&pid).await;
    assert_eq!(s["status"], "completed", "{s}");
    let list = s["occurrenceList"].as_array().unwrap();
    assert_eq!(list.len(), 12);
    assert_eq!(
        list.iter().filter(|o| o["status"] == "skipped").count(),
        skipped
    );
    assert_eq!(
        w.events(&pid)
            .await
            .iter()
            .filter(|e| e.starts_with("schedule."))
            .cloned()
            .collect::<Vec<_>>(),
        vec![
            "schedule.created",
            "schedule.paused",
            "schedule.resumed",
            "schedule.completed"
        ]
    );

    let s = w.schedule(&cid).await;
    assert_eq!(
        (s["status"].as_str(), collections(&s).len()),
        (Some("cancelled"), made_before_cancel),
        "{s}"
    );

    // R01: each occurrence presented three times (two retries), then no more.
    let s = w.schedule(&id(&sretry)).await;
    assert_eq!(s["status"], "completed", "{s}");
    let made = collections(&s);
    assert_eq!(made.len(), 6, "{s}");
    for (occ, retry, c) in &made {
        assert_eq!(c["achReturnCode"], "R01", "{c}");
        let full = w.collection(c["id"].as_str().unwrap()).await;
        if *retry == 0 {
            assert_eq!(full["companyEntryDescription"], "PAYMENT");
            assert!(full["retryOf"].is_null());
        } else {
            assert_eq!(full["companyEntryDescription"], "RETRY PYMT");
            let first = made.iter().find(|(o, r, _)| o == occ && *r == 0).unwrap();
            assert_eq!(full["retryOf"], first.2["id"]);
            assert_eq!(
                full["amount"]["value"], "6000",
                "same amount as the original"
            );
            assert!(
                date(&full["effectiveDate"])
                    <= date(&first.2["effectiveDate"]) + Duration::days(180)
            );
        }
    }
    w.app.stop().await;
}
