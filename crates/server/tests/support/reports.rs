//! Helpers for the daily reconciliation files tests: listing a day's
//! files, downloading them as JSON lines or CSV, a card sale.

use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use inflow_core::calendar::BankingCalendar;
use reqwest::StatusCode;
use serde_json::Value;

use super::card::charge;
use super::{Creds, TestApp};

/// A captured card sale of `cents` from `pm` into `account`; its id.
pub async fn sale(app: &TestApp, creds: &Creds, account: &str, pm: &str, cents: i64) -> String {
    let r = app
        .post(
            creds,
            "/v1/collections/card",
            charge(account, pm, "sale", cents),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json()["id"].as_str().unwrap().to_owned()
}

/// The first banking day after `day`.
pub fn next_banking_day(cal: &BankingCalendar, mut day: NaiveDate) -> NaiveDate {
    day = day + Days::new(1);
    while !cal.is_banking_day(day) {
        day = day + Days::new(1);
    }
    day
}

/// The current files of `day` the caller may see (all pages).
pub async fn files_of(app: &TestApp, creds: &Creds, day: NaiveDate) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after = String::new();
    loop {
        let mut path = format!("/v1/reports/daily-files?date={day}&limit=2");
        if !after.is_empty() {
            path.push_str(&format!("&startingAfter={after}"));
        }
        let r = app.get(creds, &path).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let page = r.json();
        out.extend(page["data"].as_array().unwrap().iter().cloned());
        match page["nextCursor"].as_str() {
            Some(c) => after = c.to_owned(),
            None => return out,
        }
    }
}

/// The file of `scope` (`operator`, `customer` or `account` with `key`) among `files`.
pub fn file_for<'a>(files: &'a [Value], scope: &str, key: Option<&str>) -> &'a Value {
    files
        .iter()
        .find(|f| {
            f["scope"] == scope
                && match scope {
                    "account" => f["accountId"].as_str() == key,
                    "customer" => f["customerId"].as_str() == key,
                    _ => true,
                }
        })
        .unwrap_or_else(|| panic!("no {scope} file {key:?} in {files:#?}"))
}

/// The JSON lines of file `id`, checking the download headers.
pub async fn jsonl(app: &TestApp, creds: &Creds, id: &str) -> Vec<Value> {
    let r = app
        .get(
            creds,
            &format!("/v1/reports/daily-files/{id}/content?format=jsonl"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/jsonl"));
    let disposition = r.headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"inflow-daily-")
            && disposition.ends_with(".jsonl\""),
        "{disposition}"
    );
    r.text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The CSV of file `id`, parsed with a CSV reader, as column → text maps.
pub async fn csv_rows(app: &TestApp, creds: &Creds, id: &str) -> Vec<HashMap<String, String>> {
    let r = app
        .get(creds, &format!("/v1/reports/daily-files/{id}/content"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(r.headers["content-disposition"]
        .to_str()
        .unwrap()
        .ends_with(".csv\""));
    let mut reader = csv::Reader::from_reader(r.text.as_bytes());
    reader
        .deserialize()
        .collect::<Result<Vec<HashMap<String, String>>, _>>()
        .unwrap()
}

/// A JSON value as the CSV shows it (null is empty).
pub fn as_csv(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
