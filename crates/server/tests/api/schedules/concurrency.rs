//! Two schedule job runners at once on one database never create an
//! occurrence twice: the schedule row lock and the conditional
//! `next_occurrence` update serialise them, and the unique index on
//! `(schedule_id, occurrence, retry_number)` is the last line.

use chrono::{Duration, NaiveTime, TimeZone, Utc};
use inflow_core::calendar::EASTERN;
use inflow_engine::schedules::materialise_without_lease;
use inflow_store::StoreError;
use serde_json::json;

use super::common::*;
use crate::on_both_backends;
use crate::support::*;

on_both_backends!(two_job_runners_never_create_an_occurrence_twice);

async fn two_job_runners_never_create_an_occurrence_twice(b: Backend) {
    let w = World::new(b).await;
    let pm = w.pm("000123456789").await;
    let start = w.today().await + Duration::days(10);
    let mut ids = Vec::new();
    for (freq, n) in [("weekly", 20), ("every_two_weeks", 10), ("monthly", 5)] {
        let s = w
            .create(w.body(
                &pm,
                "2500",
                json!({"frequency": freq, "startDate": start.to_string(), "occurrences": n}),
            ))
            .await;
        ids.push(s["id"].as_str().unwrap().to_owned());
    }

    // Two runners walk the same 160 days side by side, each day at noon ET,
    // without the job lease (correctness must not rest on it).
    let state = w.app.state().clone();
    let rules = state.collection_rules();
    let noon = NaiveTime::from_hms_opt(12, 0, 0).unwrap();
    for day in 0..160 {
        let date = w.today().await + Duration::days(day);
        let now = EASTERN
            .from_local_datetime(&date.and_time(noon))
            .single()
            .unwrap()
            .with_timezone(&Utc);
        let runners: Vec<_> = (0..2)
            .map(|_| {
                let (store, rules) = (state.store.clone(), rules.clone());
                tokio::spawn(async move { materialise_without_lease(&store, &rules, now).await })
            })
            .collect();
        for r in runners {
            r.await.unwrap().unwrap();
        }
    }

    let total: Vec<u64> = vec![20, 10, 5];
    for (id, n) in ids.iter().zip(total) {
        let s = w.schedule(id).await;
        assert_eq!(s["status"], "completed", "{s}");
        let made = collections(&s);
        let mut occ: Vec<u64> = made.iter().map(|(o, _, _)| *o).collect();
        occ.dedup();
        assert_eq!(
            occ,
            (1..=n).collect::<Vec<_>>(),
            "{id}: each occurrence once"
        );
        assert_eq!(
            made.len() as u64,
            n,
            "{id}: no second collection for any occurrence"
        );
        let created = w
            .events(id)
            .await
            .iter()
            .filter(|e| *e == "schedule.completed")
            .count();
        assert_eq!(created, 1);
    }

    // The database itself refuses a second collection for an occurrence.
    let mut tx = state.store.begin().await.unwrap();
    let first = tx
        .schedule_collections(&inflow_core::ids::ScheduleId::from_trusted(ids[0].clone()))
        .await
        .unwrap()
        .remove(0);
    let mut copy = first.clone();
    copy.id = inflow_core::ids::CollectionId::generate(Utc::now());
    let err = tx.insert_ach_collection(&copy).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    drop(tx);
    w.app.stop().await;
}
