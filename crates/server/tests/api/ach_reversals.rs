//! Reversals of erroneous ACH debits (operator), over HTTP on both
//! backends: a collection's reversing entry and a whole file's reversing
//! file, filed at the next cutoff as credits with the entry description
//! `REVERSAL` (checked by achlens and `inflow ach validate`), the originals
//! `reversed` with their ledger undone; idempotent; the five-banking-day
//! window across a weekend and a holiday; a returned collection refused.

use crate::support;

use chrono::{Datelike, NaiveDate, Weekday};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::ach::*;
use support::credits::*;
use support::ledger::{balances, ledger_is_sound};
use support::*;

on_both_backends!(
    a_reversal_is_a_credit_filed_at_the_next_cutoff_and_undoes_the_debit,
    a_whole_file_is_reversed_by_a_balanced_reversing_file,
    the_reversal_window_is_five_banking_days_across_a_weekend_and_a_holiday,
    a_returned_collection_is_not_reversed,
    a_tel_debit_is_reversed_by_a_tel_credit_and_refunded_by_a_ppd_credit,
);

async fn reverse(app: &TestApp, creds: &Creds, id: &str, body: Value) -> Reply {
    app.post(creds, &format!("/v1/collections/{id}/reversal"), body)
        .await
}

async fn a_reversal_is_a_credit_filed_at_the_next_cutoff_and_undoes_the_debit(b: Backend) {
    let dir = TempDir::new();
    let app = spawn_app_with(b, |c| c.odfi = vec![odfi(dir.path(), false)]).await;
    let d = filed_debit(&app, "12345", json!({})).await;
    until_completed(&app, &d.creds, &d.id).await;
    let (pending0, available0, _) = balances(&app, &d.creds, &d.dest).await;
    assert_eq!(pending0, 0);
    assert!(available0 > 0);

    let r = reverse(&app, &d.creds, &d.id, json!({"reason": "duplicate"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "operator only: {}", r.text);
    let r = reverse(&app, &admin(), &d.id, json!({"reason": "mistake"})).await;
    assert_eq!(
        (r.status, r.error_param().as_deref()),
        (StatusCode::BAD_REQUEST, Some("reason")),
        "{}",
        r.text
    );
    let r = reverse(&app, &admin(), &d.id, json!({})).await;
    assert_eq!(
        (r.status, r.error_param().as_deref()),
        (StatusCode::BAD_REQUEST, Some("reason")),
        "{}",
        r.text
    );

    let body = json!({"reason": "duplicate"}).to_string();
    let path = format!("/v1/collections/{}/reversal", d.id);
    let op = admin();
    let send = || {
        app.send(
            Some(&op),
            Method::POST,
            &path,
            Some(&body),
            true,
            &[("idempotency-key", "rev-1")],
        )
    };
    let first = send().await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let again = send().await;
    assert_eq!(
        (again.status, &again.text),
        (StatusCode::CREATED, &first.text),
        "an idempotent retry"
    );
    let twice = reverse(&app, &admin(), &d.id, json!({"reason": "duplicate"})).await;
    assert_eq!(
        (twice.status, twice.error_code().as_str()),
        (StatusCode::CONFLICT, "already_reversed"),
        "{}",
        twice.text
    );
    let rv = first.json();
    assert_eq!(
        (
            rv["object"].as_str(),
            rv["status"].as_str(),
            rv["companyEntryDescription"].as_str()
        ),
        (Some("reversal"), Some("pending"), Some("REVERSAL")),
        "{rv}"
    );
    let rid = rv["id"].as_str().unwrap().to_owned();
    // A refund of a collection being reversed is refused.
    let r = app
        .post(
            &d.creds,
            &format!("/v1/collections/{}/refunds", d.id),
            json!({}),
        )
        .await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (StatusCode::CONFLICT, "collection_reversed"),
        "{}",
        r.text
    );

    past_next_cutoff(&app).await;
    let c = collection(&app, &d.creds, &d.id).await;
    assert_eq!(c["status"], "reversed", "{c}");
    let files = outbound_files(&app).await;
    let f = files.last().unwrap();
    let bytes = checked_content(&app, f["id"].as_str().unwrap()).await;
    let bs = batches(&bytes);
    assert_eq!(bs.len(), 1, "{bs:?}");
    let batch = &bs[0];
    assert_eq!(
        (
            batch.service_class.as_str(),
            batch.sec.as_str(),
            batch.description.as_str(),
            batch.company_id.as_str()
        ),
        ("220", "PPD", "REVERSAL", "1234567890"),
        "{batch:?}"
    );
    assert_eq!(batch.entries.len(), 1);
    assert_eq!(
        (
            batch.entries[0].0.as_str(),
            batch.entries[0].1.as_str(),
            batch.entries[0].2
        ),
        ("22", PAYER, 12345),
        "the debit's opposite: {batch:?}"
    );

    let (_, available1, _) = balances(&app, &d.creds, &d.dest).await;
    assert_eq!(available1, 0, "the debit's postings are undone");
    assert!(event_types(&app, &d.id)
        .await
        .contains(&"collection.reversed".to_owned()));
    let ev = event_types(&app, &rid).await;
    assert_eq!(
        &ev[..3],
        ["reversal.created", "reversal.batched", "reversal.submitted"],
        "{ev:?}"
    );
    ledger_is_sound(&app).await;
    app.stop().await;
}

async fn a_whole_file_is_reversed_by_a_balanced_reversing_file(b: Backend) {
    let dir = TempDir::new();
    let app = spawn_app_with(b, |c| c.odfi = vec![odfi(dir.path(), true)]).await;
    let (_, creds) = app.customer_with_key("Acme", json!({})).await;
    let dest = destination(&app, &creds).await;
    let pm = make_pm(&app, &creds, PAYER).await;
    let mut ids = Vec::new();
    for a in ["1000", "2000", "3500"] {
        let c = collect(&app, &creds, &dest, &pm, a, json!({"allowDuplicate": true})).await;
        ids.push(c["id"].as_str().unwrap().to_owned());
    }
    past_next_cutoff(&app).await;
    let file_id = collection(&app, &creds, &ids[0]).await["fileId"]
        .as_str()
        .unwrap()
        .to_owned();

    let r = app
        .post(
            &creds,
            &format!("/v1/ach/files/{file_id}/reversal"),
            json!({"reason": "duplicate"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = app
        .post(
            &admin(),
            &format!("/v1/ach/files/{file_id}/reversal"),
            json!({"reason": "duplicate"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let fr = r.json();
    assert_eq!(fr["reversals"].as_array().unwrap().len(), 3, "{fr}");
    let r = app
        .post(
            &admin(),
            &format!("/v1/ach/files/{file_id}/reversal"),
            json!({"reason": "duplicate"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);

    let before = outbound_files(&app).await.len();
    past_next_cutoff(&app).await;
    let files = outbound_files(&app).await;
    assert_eq!(files.len(), before + 1, "one reversing file: {files:?}");
    let rid = fr["reversals"][0]["id"].as_str().unwrap();
    let reversal_file = {
        let mut tx = app.db.store.read().await.unwrap();
        tx.get_ach_credit_entry(rid).await.unwrap().file_id.unwrap()
    };
    let bytes = checked_content(&app, &reversal_file).await;
    let bs = batches(&bytes);
    assert_eq!(bs.len(), 1, "{bs:?}");
    let batch = &bs[0];
    assert_eq!(
        (batch.service_class.as_str(), batch.description.as_str()),
        ("200", "REVERSAL"),
        "{batch:?}"
    );
    assert_eq!(
        batch.control_debit, batch.control_credit,
        "balanced: {batch:?}"
    );
    let mut credits: Vec<i64> = batch
        .entries
        .iter()
        .filter(|e| e.0 == "22")
        .map(|e| e.2)
        .collect();
    credits.sort();
    assert_eq!(credits, vec![1000, 2000, 3500]);
    let offset = batch.entries.last().unwrap();
    assert_eq!(
        (offset.0.as_str(), offset.1.as_str(), offset.2),
        ("27", SETTLEMENT, 6500)
    );
    for id in &ids {
        assert_eq!(collection(&app, &creds, id).await["status"], "reversed");
    }
    let (pending, available, _) = balances(&app, &creds, &dest).await;
    assert_eq!((pending, available), (0, 0));
    ledger_is_sound(&app).await;
    app.stop().await;
}

/// `n` banking days after `from`, skipping weekends and `closed`, by hand.
fn by_hand(from: NaiveDate, n: u32, closed: NaiveDate) -> NaiveDate {
    let mut d = from;
    let mut left = n;
    while left > 0 {
        d = d.succ_opt().unwrap();
        if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && d != closed {
            left -= 1;
        }
    }
    d
}

async fn the_reversal_window_is_five_banking_days_across_a_weekend_and_a_holiday(b: Backend) {
    // A closure two weekdays after the first possible settlement date (the
    // first banking day after the next cutoff) makes a holiday in the window.
    let probe = spawn_app(b).await;
    let today = inflow_core::calendar::local_date(sandbox_now(&probe).await);
    probe.stop().await;
    let cal = inflow_core::calendar::BankingCalendar::federal_reserve();
    let settles = cal.next_banking_day(cal.next_banking_day(today));
    let holiday = cal.add_banking_days(settles, 2);
    let dir = TempDir::new();
    let app = spawn_app_with(b, |c| {
        c.odfi = vec![odfi(dir.path(), false)];
        c.ach.extra_closures = vec![holiday.to_string()];
    })
    .await;
    let (_, creds) = app.customer_with_key("Acme", json!({})).await;
    let dest = destination(&app, &creds).await;
    let pm = make_pm(&app, &creds, PAYER).await;
    let mut ids = Vec::new();
    for a in ["1000", "2000"] {
        let c = collect(&app, &creds, &dest, &pm, a, json!({"allowDuplicate": true})).await;
        ids.push(c["id"].as_str().unwrap().to_owned());
    }
    past_next_cutoff(&app).await;
    let c = collection(&app, &creds, &ids[0]).await;
    let effective =
        NaiveDate::parse_from_str(c["effectiveDate"].as_str().unwrap(), "%Y-%m-%d").unwrap();
    assert_eq!(effective, settles, "{c}");
    let deadline = by_hand(settles, 5, holiday);
    assert!(
        (deadline - settles).num_days() >= 8,
        "a weekend and the holiday are skipped: {settles} → {deadline}"
    );
    assert_eq!(
        inflow_engine::credits::reversals::reversal_deadline(&app.state().ach.calendar, effective),
        deadline
    );

    // On the last day: accepted.
    advance_to_eastern(&app, deadline, 9, 0).await;
    let r = reverse(&app, &admin(), &ids[0], json!({"reason": "wrong_amount"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    // The next banking day: refused, naming the deadline.
    let next = app.state().ach.calendar.next_banking_day(deadline);
    advance_to_eastern(&app, next, 9, 0).await;
    let r = reverse(&app, &admin(), &ids[1], json!({"reason": "wrong_amount"})).await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (StatusCode::CONFLICT, "reversal_window_closed"),
        "{}",
        r.text
    );
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&deadline.to_string()),
        "{}",
        r.text
    );
    assert_eq!(
        collection(&app, &creds, &ids[0]).await["status"],
        "reversed"
    );
    ledger_is_sound(&app).await;
    app.stop().await;
}

async fn a_returned_collection_is_not_reversed(b: Backend) {
    let dir = TempDir::new();
    let app = spawn_app_with(b, |c| c.odfi = vec![odfi(dir.path(), false)]).await;
    let (_, creds) = app.customer_with_key("Acme", json!({})).await;
    let dest = destination(&app, &creds).await;
    let pm = make_pm(&app, &creds, PAYER).await;
    let mut ids = Vec::new();
    for a in ["4200", "1800"] {
        let c = collect(&app, &creds, &dest, &pm, a, json!({"allowDuplicate": true})).await;
        ids.push(c["id"].as_str().unwrap().to_owned());
    }
    past_next_cutoff(&app).await;
    let file_id = collection(&app, &creds, &ids[0]).await["fileId"]
        .as_str()
        .unwrap()
        .to_owned();
    let bytes = checked_content(&app, &file_id).await;
    // The second debit's reversal is asked before its return arrives.
    let r = reverse(&app, &admin(), &ids[1], json!({"reason": "duplicate"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let pending_reversal = r.json()["id"].as_str().unwrap().to_owned();

    let report = upload_returns(&app, return_file_for(&app, &bytes)).await;
    assert_eq!(report["collectionsChanged"], 2, "{report}");
    assert_eq!(
        collection(&app, &creds, &ids[0]).await["status"],
        "returned"
    );

    // Returned: refused.
    let r = reverse(&app, &admin(), &ids[0], json!({"reason": "duplicate"})).await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (StatusCode::CONFLICT, "collection_returned"),
        "{}",
        r.text
    );
    let r = app
        .post(
            &admin(),
            &format!("/v1/ach/files/{file_id}/reversal"),
            json!({"reason": "duplicate"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);

    // Returned after the reversal was asked: the cutoff cancels it, files nothing.
    let before = outbound_files(&app).await.len();
    past_next_cutoff(&app).await;
    assert_eq!(
        outbound_files(&app).await.len(),
        before,
        "no reversing file"
    );
    let e = {
        let mut tx = app.db.store.read().await.unwrap();
        tx.get_ach_credit_entry(&pending_reversal).await.unwrap()
    };
    assert_eq!((e.status.as_str(), e.file_id), ("cancelled", None));
    assert_eq!(
        event_types(&app, &pending_reversal).await,
        vec!["reversal.created", "reversal.cancelled"]
    );
    assert_eq!(
        collection(&app, &creds, &ids[1]).await["status"],
        "returned"
    );
    ledger_is_sound(&app).await;
    app.stop().await;
}

async fn a_tel_debit_is_reversed_by_a_tel_credit_and_refunded_by_a_ppd_credit(b: Backend) {
    let dir = TempDir::new();
    let app = spawn_app_with(b, |c| c.odfi = vec![odfi(dir.path(), false)]).await;
    let (_, creds) = app.customer_with_key("Phone Co", json!({})).await;
    let dest = destination(&app, &creds).await;
    let pm = make_pm(&app, &creds, PAYER).await;
    let phone = json!({"allowDuplicate": true, "authorization": {"type": "phone", "obtainedAt": "2026-02-01T00:00:00Z"}});
    let mut ids = Vec::new();
    for a in ["1200", "300"] {
        let c = collect(&app, &creds, &dest, &pm, a, phone.clone()).await;
        assert_eq!(c["secCode"], "TEL", "{c}");
        ids.push(c["id"].as_str().unwrap().to_owned());
    }
    past_next_cutoff(&app).await;
    until_completed(&app, &creds, &ids[0]).await;
    let r = reverse(&app, &admin(), &ids[0], json!({"reason": "wrong_receiver"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json()["secCode"], "TEL");
    let r = app
        .post(
            &creds,
            &format!("/v1/collections/{}/refunds", ids[1]),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    past_next_cutoff(&app).await;
    let files = outbound_files(&app).await;
    let credit_file = files
        .iter()
        .rfind(|f| f["totalCredit"].as_i64() == Some(1500))
        .unwrap_or_else(|| panic!("a credit file of 1500: {files:?}"));
    let bytes = checked_content(&app, credit_file["id"].as_str().unwrap()).await;
    let mut seen: Vec<(String, String, i64)> = batches(&bytes)
        .iter()
        .map(|b| (b.sec.clone(), b.description.clone(), b.control_credit))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            ("PPD".into(), "REFUND".into(), 300),
            ("TEL".into(), "REVERSAL".into(), 1200)
        ]
    );
    ledger_is_sound(&app).await;
    app.stop().await;
}
