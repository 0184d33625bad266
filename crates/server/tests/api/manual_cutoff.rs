//! A manual cutoff (`POST /v1/ach/cutoffs`) while a same-day window of
//! today is still ahead files today's same-day entries in a same-day file,
//! effective today, and everything else in the standard file; only when no
//! window is left today does it run the standard cutoff alone.
//! On both backends, over HTTP, with the sandbox clock at 10:06 ET (after
//! the 10:00 window, before 14:00 and 16:15).
//!
//! Seen to fail before the fix: at 10:06 ET the same-day debit went into
//! the standard file, its effective date moved to the next banking day with
//! "missed the same-day windows of …".

use crate::support;

use chrono::NaiveDate;
use inflow_core::calendar::{local_date, BankingCalendar};
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::ach::*;
use support::*;

on_both_backends!(
    a_manual_cutoff_with_a_window_still_open_files_same_day_entries_same_day,
    a_manual_cutoff_after_the_last_window_runs_only_the_standard_cutoff,
);

struct Setup {
    app: TestApp,
    creds: Creds,
    dest: String,
    pm: String,
    day: NaiveDate,
}

async fn setup(b: Backend, hour: u32, minute: u32) -> Setup {
    let app = spawn_app(b).await;
    let today = local_date(sandbox_now(&app).await);
    let day = BankingCalendar::federal_reserve().next_banking_day(today);
    advance_to_eastern(&app, day, hour, minute).await;
    let (_, creds) = app.customer_with_key("Acme", json!({})).await;
    let dest = destination(&app, &creds).await;
    let pm = make_pm(&app, &creds, "000123456789").await;
    Setup {
        app,
        creds,
        dest,
        pm,
        day,
    }
}

impl Setup {
    async fn debit(&self, amount: &str, extra: Value) -> Value {
        let extra = {
            let mut e = extra;
            e["allowDuplicate"] = json!(true);
            e
        };
        let r = try_collect(&self.app, &self.creds, &self.dest, &self.pm, amount, extra).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.json()
    }

    async fn cutoff(&self) -> Value {
        let r = self.app.post(&admin(), "/v1/ach/cutoffs", json!({})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.json()
    }

    async fn collection(&self, c: &Value) -> Value {
        collection(&self.app, &self.creds, c["id"].as_str().unwrap()).await
    }

    /// The batch header effective entry dates (YYMMDD) of a file.
    async fn effective_dates(&self, file: &Value) -> Vec<String> {
        let path = format!("/v1/ach/files/{}/content", file["id"].as_str().unwrap());
        let r = self.app.get(&admin(), &path).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.text
            .lines()
            .filter(|l| l.starts_with('5'))
            .map(|l| l[69..75].to_owned())
            .collect()
    }
}

fn yymmdd(d: NaiveDate) -> String {
    d.format("%y%m%d").to_string()
}

async fn a_manual_cutoff_with_a_window_still_open_files_same_day_entries_same_day(b: Backend) {
    let s = setup(b, 10, 6).await;
    let same_day = s.debit("1500", json!({"processingMode": "same_day"})).await;
    assert_eq!(same_day["effectiveDate"], s.day.to_string());
    let standard = s.debit("2500", json!({})).await;
    let next = BankingCalendar::federal_reserve().next_banking_day(s.day);
    assert_eq!(standard["effectiveDate"], next.to_string());

    let run = s.cutoff().await;
    let files = run["files"].as_array().unwrap();
    assert_eq!(files.len(), 2, "a same-day file and a standard file: {run}");
    assert_eq!(s.effective_dates(&files[0]).await, [yymmdd(s.day)]);
    assert_eq!(files[0]["totalDebit"], 1500, "the same-day file");
    assert_eq!(s.effective_dates(&files[1]).await, [yymmdd(next)]);
    assert_eq!(files[1]["totalDebit"], 2500, "the standard file");

    let c = s.collection(&same_day).await;
    assert_eq!(c["status"], "submitted", "{c}");
    assert_eq!(c["effectiveDate"], s.day.to_string(), "not moved: {c}");
    assert!(
        !c.to_string().contains("missed the same-day windows"),
        "{c}"
    );
    assert_eq!(s.collection(&standard).await["status"], "submitted");
}

async fn a_manual_cutoff_after_the_last_window_runs_only_the_standard_cutoff(b: Backend) {
    let s = setup(b, 16, 30).await;
    let next = BankingCalendar::federal_reserve().next_banking_day(s.day);
    let late = s.debit("1700", json!({})).await;
    assert_eq!(late["effectiveDate"], next.to_string(), "{late}");
    let run = s.cutoff().await;
    let files = run["files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{run}");
    assert_eq!(s.effective_dates(&files[0]).await, [yymmdd(next)]);
    assert_eq!(s.collection(&late).await["status"], "submitted");
}
