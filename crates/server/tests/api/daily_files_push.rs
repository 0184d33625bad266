//! Daily files pushed to a customer's own folder (`[[report_delivery]]`,
//! here a local folder; SFTP is the same transport interface), on both
//! backends: only that customer's files, the bytes of the CSV download,
//! the delivery state on each file.

use crate::support;

use std::collections::BTreeSet;

use chrono::Days;
use inflow_core::calendar::{local_date, BankingCalendar};
use serde_json::json;
use support::ach::{advance_to_eastern, destination, sandbox_now};
use support::card::save_card;
use support::reports::{files_of, next_banking_day, sale};
use support::*;

on_both_backends!(a_customers_files_are_pushed_to_its_folder_and_no_one_elses);

async fn a_customers_files_are_pushed_to_its_folder_and_no_one_elses(b: Backend) {
    let mut app = spawn_app(b).await;
    let cal = BankingCalendar::federal_reserve();
    let (cus_a, a) = app.customer_with_key("Agency A", json!({})).await;
    let acc_a = destination(&app, &a).await;
    let (_, b_creds) = app.customer_with_key("Agency B", json!({})).await;
    let acc_b = destination(&app, &b_creds).await;
    let folder = app.data_dir.join("agency-a-sftp");
    let (out_dir, in_dir) = (folder.join("out"), folder.join("in"));
    std::fs::create_dir_all(&out_dir).unwrap();
    std::fs::create_dir_all(&in_dir).unwrap();
    let cus = cus_a.clone();
    let (o, i) = (out_dir.clone(), in_dir.clone());
    app.restart_with(move |c| {
        c.report_delivery = vec![inflow_server::report_delivery::ReportDeliverySettings {
            customer_id: cus,
            transport: inflow_server::odfi::TransportSettings::Local {
                outbound_dir: o,
                inbound_dir: i,
            },
            retry: Default::default(),
        }]
    })
    .await;

    let d = next_banking_day(&cal, local_date(sandbox_now(&app).await) + Days::new(1));
    advance_to_eastern(&app, d, 9, 0).await;
    let card = save_card(&app, &a, "4242424242424242").await;
    sale(&app, &a, &acc_a, &card, 10_000).await;
    let card_b = save_card(&app, &b_creds, "4242424242424242").await;
    sale(&app, &b_creds, &acc_b, &card_b, 7_000).await;
    advance_to_eastern(&app, d + Days::new(1), 2, 0).await;

    let mine = files_of(&app, &a, d).await;
    assert_eq!(mine.len(), 2, "{mine:#?}");
    let mut names = BTreeSet::new();
    for f in &mine {
        let id = f["id"].as_str().unwrap();
        let delivery = &f["delivery"];
        assert_eq!(delivery["status"], "uploaded", "{f:#}");
        let key = f["accountId"].as_str().unwrap_or(cus_a.as_str());
        let name = format!("inflow-daily-{d}-{key}-v1.csv");
        assert!(
            delivery["location"].as_str().unwrap().ends_with(&name),
            "{delivery}"
        );
        let pushed = std::fs::read_to_string(out_dir.join(&name)).unwrap();
        let downloaded = app
            .get(
                &a,
                &format!("/v1/reports/daily-files/{id}/content?format=csv"),
            )
            .await
            .text;
        assert_eq!(pushed, downloaded);
        names.insert(name);
    }
    let in_folder: BTreeSet<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(in_folder, names, "only customer A's files are pushed");
    let all = files_of(&app, &admin(), d).await;
    for f in all.iter().filter(|f| f["customerId"] != cus_a.as_str()) {
        assert!(f["delivery"].is_null(), "{f:#}");
    }
}
