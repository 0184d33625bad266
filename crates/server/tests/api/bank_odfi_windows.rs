//! Bank connectivity (#16), on both backends, through local-folder
//! transports: cutoff windows per ODFI (each ODFI's entries filed at its
//! own cutoff, effective dates planned with the entry's ODFI's windows),
//! destination accounts assigned to an ODFI apart from their customer,
//! acknowledgements matched by content (a mismatching one refused), a
//! return of a balanced file's offset entry recorded against its file,
//! and the `ach_file.upload_failed` event carrying what an operator needs;
//! a collection released from a hold planned again with its ODFI's windows.

use crate::support;

use inflow_server::odfi::{OdfiSettings, SettlementAccountSettings, TransportSettings};
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::ach::*;
use support::*;

on_both_backends!(
    each_odfi_files_its_entries_at_its_own_cutoff_and_plans_with_its_windows,
    an_account_odfi_is_set_by_operators_only_and_must_be_configured,
    an_acknowledgement_is_matched_by_content_and_a_mismatch_is_refused,
    a_returned_offset_entry_is_recorded_against_its_file_and_touches_no_collection,
    an_upload_failure_event_carries_what_the_operator_needs,
    a_released_hold_is_planned_again_with_its_odfis_windows,
);

/// A directory removed at the end of the test.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> Self {
        let p = std::env::temp_dir().join(format!(
            "inflow-odfi-windows-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An ODFI taking files through `<dir>/<id>/{to-bank,from-bank}`.
fn odfi(dir: &std::path::Path, id: &str, routing: &str, origin: &str) -> OdfiSettings {
    OdfiSettings {
        id: id.into(),
        routing_number: routing.into(),
        immediate_destination_name: id.to_uppercase(),
        immediate_origin: origin.into(),
        immediate_origin_name: "INFLOW TEST".into(),
        transport: Some(TransportSettings::Local {
            outbound_dir: dir.join(id).join("to-bank"),
            inbound_dir: dir.join(id).join("from-bank"),
        }),
        ..Default::default()
    }
}

/// `alpha`: standard cutoff 17:00 ET and no same-day windows; `beta`, the
/// default: the `[ach]` windows (standard cutoff 20:00 ET).
fn two_odfis(dir: &std::path::Path) -> Vec<OdfiSettings> {
    let mut alpha = odfi(dir, "alpha", "121042882", "1111111111");
    alpha.standard_cutoff = Some("17:00".into());
    alpha.same_day_windows = Some(Vec::new());
    alpha.file_name_pattern = Some("ALPHA-{date}-{modifier}.ach".into());
    let mut beta = odfi(dir, "beta", "021000021", "2222222222");
    beta.default = true;
    beta.file_name_pattern = Some("BETA-{date}-{modifier}.ach".into());
    vec![alpha, beta]
}

/// An operator key acting for customer `id`.
fn operator_for(id: &str) -> Creds {
    Creds {
        acting_for: Some(id.to_owned()),
        ..admin()
    }
}

/// The outbound files.
async fn outbound_files(app: &TestApp) -> Vec<Value> {
    let list = app
        .get(&admin(), "/v1/ach/files?direction=outbound&limit=100")
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    list.json()["data"].as_array().unwrap().clone()
}

/// The file's bytes as its ODFI got them.
fn delivered(dir: &std::path::Path, odfi: &str, f: &Value) -> String {
    let name = f["fileName"].as_str().unwrap();
    std::fs::read_to_string(dir.join(odfi).join("to-bank").join(name))
        .unwrap_or_else(|e| panic!("{name} was not delivered to {odfi}: {e}"))
}

/// The trace numbers of a file's entries, sorted.
fn traces(content: &str) -> Vec<String> {
    let mut t: Vec<String> = content
        .lines()
        .filter(|l| l.starts_with('6'))
        .map(|l| l[79..94].to_owned())
        .collect();
    t.sort();
    t
}

async fn trace_of(app: &TestApp, creds: &Creds, id: &str) -> String {
    collection(app, creds, id).await["traceNumber"]
        .as_str()
        .unwrap_or_else(|| panic!("{id} has no trace number"))
        .to_owned()
}

async fn each_odfi_files_its_entries_at_its_own_cutoff_and_plans_with_its_windows(b: Backend) {
    let dir = TempDir::new();
    let app = spawn_app_with(b, |c| c.odfi = two_odfis(&dir.0)).await;
    let cal = app.state().ach.calendar.clone();
    let today = inflow_core::calendar::local_date(sandbox_now(&app).await);
    let day = cal.next_banking_day(today);
    let (next, after_next) = (
        cal.next_banking_day(day),
        cal.next_banking_day(cal.next_banking_day(day)),
    );
    advance_to_eastern(&app, day, 12, 0).await;

    // Acme on alpha; Globex on beta (the default), with a second account
    // the operator assigns to alpha.
    let (_, acme) = app
        .customer_with_key("Acme", json!({"odfiId": "alpha"}))
        .await;
    let acme_dest = destination(&app, &acme).await;
    let acme_pm = make_pm(&app, &acme, "123456789").await;
    let (globex_id, globex) = app.customer_with_key("Globex", json!({})).await;
    let globex_main = destination(&app, &globex).await;
    let r = app
        .post(
            &operator_for(&globex_id),
            "/v1/accounts",
            json!({"name": "Via alpha", "odfiId": "alpha"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json()["odfiId"], "alpha", "{}", r.text);
    let globex_alpha = r.json()["id"].as_str().unwrap().to_owned();
    let globex_pm = make_pm(&app, &globex, "223456789").await;

    // Before both standard cutoffs: effective the next banking day.
    let mut ids = Vec::new();
    for (creds, dest, pm, amount) in [
        (&acme, &acme_dest, &acme_pm, "1000"),
        (&globex, &globex_main, &globex_pm, "1100"),
        (&globex, &globex_alpha, &globex_pm, "1200"),
    ] {
        let c = collect(&app, creds, dest, pm, amount, json!({})).await;
        assert_eq!(c["effectiveDate"], next.to_string(), "{c}");
        ids.push(c["id"].as_str().unwrap().to_owned());
    }

    // Alpha's 17:00 cutoff files Acme's entry and the one crediting
    // Globex's alpha account; beta's entry waits for 20:00.
    advance_to_eastern(&app, day, 17, 30).await;
    let files = outbound_files(&app).await;
    assert_eq!(files.len(), 1, "only alpha's cutoff has passed: {files:?}");
    assert_eq!(files[0]["delivery"]["odfiId"], "alpha", "{files:?}");
    let mut want = vec![
        trace_of(&app, &acme, &ids[0]).await,
        trace_of(&app, &globex, &ids[2]).await,
    ];
    want.sort();
    assert_eq!(traces(&delivered(&dir.0, "alpha", &files[0])), want);
    let waiting = collection(&app, &globex, &ids[1]).await;
    assert_eq!(waiting["status"], "pending", "{waiting}");

    // Between the cutoffs: alpha's entries now go to tomorrow's file (one
    // banking day later), beta's still to today's.
    let late_alpha = collect(&app, &acme, &acme_dest, &acme_pm, "2000", json!({})).await;
    assert_eq!(
        late_alpha["effectiveDate"],
        after_next.to_string(),
        "{late_alpha}"
    );
    let late_beta = collect(&app, &globex, &globex_main, &globex_pm, "2100", json!({})).await;
    assert_eq!(late_beta["effectiveDate"], next.to_string(), "{late_beta}");
    // Alpha offers no same-day processing.
    let r = try_collect(
        &app,
        &acme,
        &acme_dest,
        &acme_pm,
        "500",
        json!({"processingMode": "same_day"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(
        r.error_param().as_deref(),
        Some("processingMode"),
        "{}",
        r.text
    );

    // Beta's 20:00 cutoff files beta's two entries, not alpha's late one.
    advance_to_eastern(&app, day, 20, 30).await;
    let files = outbound_files(&app).await;
    assert_eq!(files.len(), 2, "{files:?}");
    let beta = files
        .iter()
        .find(|f| f["delivery"]["odfiId"] == "beta")
        .unwrap_or_else(|| panic!("no beta file: {files:?}"));
    let late_beta_id = late_beta["id"].as_str().unwrap();
    let mut want = vec![
        trace_of(&app, &globex, &ids[1]).await,
        trace_of(&app, &globex, late_beta_id).await,
    ];
    want.sort();
    assert_eq!(traces(&delivered(&dir.0, "beta", beta)), want);
    let late = collection(&app, &acme, late_alpha["id"].as_str().unwrap()).await;
    assert_eq!(late["status"], "pending", "{late}");

    // Alpha's next cutoff files it.
    advance_to_eastern(&app, next, 17, 30).await;
    let late = collection(&app, &acme, late_alpha["id"].as_str().unwrap()).await;
    assert_ne!(late["status"], "pending", "{late}");
    assert_eq!(outbound_files(&app).await.len(), 3);
}

async fn an_account_odfi_is_set_by_operators_only_and_must_be_configured(b: Backend) {
    let dir = TempDir::new();
    let app = spawn_app_with(b, |c| c.odfi = two_odfis(&dir.0)).await;
    let (id, creds) = app.customer_with_key("Acme", json!({})).await;
    let body = json!({"name": "Mine", "odfiId": "alpha"});
    let r = app.post(&creds, "/v1/accounts", body).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(r.error_param().as_deref(), Some("odfiId"), "{}", r.text);

    let op = operator_for(&id);
    let r = app
        .post(&op, "/v1/accounts", json!({"name": "X", "odfiId": "gamma"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.error_param().as_deref(), Some("odfiId"), "{}", r.text);
    assert!(r.text.contains("unknown_odfi"), "{}", r.text);

    let account = destination(&app, &creds).await;
    let path = format!("/v1/accounts/{account}");
    let r = app.get(&creds, &path).await;
    assert_eq!(r.json()["odfiId"], Value::Null, "{}", r.text);
    let r = patch(&app, &creds, &path, json!({"odfiId": "alpha"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = patch(&app, &op, &path, json!({"odfiId": "gamma"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.error_param().as_deref(), Some("odfiId"), "{}", r.text);
    let r = patch(&app, &op, &path, json!({"odfiId": "alpha"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["odfiId"], "alpha", "{}", r.text);
    // A customer may still rename it; the assignment stays.
    let r = patch(&app, &creds, &path, json!({"name": "Renamed"})).await;
    assert_eq!(r.json()["odfiId"], "alpha", "{}", r.text);
    let r = patch(&app, &op, &path, json!({"odfiId": null})).await;
    assert_eq!(r.json()["odfiId"], Value::Null, "null: the customer's ODFI");
}

async fn a_released_hold_is_planned_again_with_its_odfis_windows(b: Backend) {
    let dir = TempDir::new();
    let app = spawn_app_with(b, |c| c.odfi = two_odfis(&dir.0)).await;
    let cal = app.state().ach.calendar.clone();
    let today = inflow_core::calendar::local_date(sandbox_now(&app).await);
    let day = cal.next_banking_day(today);
    let next = cal.next_banking_day(day);
    advance_to_eastern(&app, day, 12, 0).await;
    let mut held = Vec::new();
    for (name, odfi) in [("Acme", json!("alpha")), ("Globex", Value::Null)] {
        let extra = match &odfi {
            Value::Null => json!({}),
            v => json!({ "odfiId": v }),
        };
        let (id, creds) = app.customer_with_key(name, extra).await;
        let dest = destination(&app, &creds).await;
        let pm = make_pm(&app, &creds, "123456789").await;
        let c = collect(&app, &creds, &dest, &pm, "1000", json!({})).await;
        assert_eq!(c["effectiveDate"], next.to_string(), "{c}");
        let path = format!("/v1/customers/{id}");
        let r = patch(&app, &admin(), &path, json!({"status": "suspended"})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        // Read by the operator: a suspended customer's key is refused.
        held.push((
            path,
            operator_for(&id),
            c["id"].as_str().unwrap().to_owned(),
        ));
    }
    // Released between alpha's 17:00 and beta's 20:00 cutoff.
    advance_to_eastern(&app, day, 17, 30).await;
    for (path, creds, id) in &held {
        assert_eq!(collection(&app, creds, id).await["status"], "on_hold");
        let r = patch(&app, &admin(), path, json!({"status": "active"})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let alpha = collection(&app, &held[0].1, &held[0].2).await;
    assert_eq!(
        alpha["effectiveDate"],
        cal.next_banking_day(next).to_string(),
        "alpha's cutoff of today has passed: {alpha}"
    );
    let beta = collection(&app, &held[1].1, &held[1].2).await;
    assert_eq!(beta["effectiveDate"], next.to_string(), "{beta}");
    assert_eq!(beta["status"], "pending", "{beta}");
}

/// The file's header and control records, as a bank echoes them.
fn echo(content: &str) -> String {
    let lines: Vec<&str> = content.lines().collect();
    let control = lines
        .iter()
        .rev()
        .find(|l| l.starts_with('9') && l.bytes().any(|b| b != b'9'))
        .unwrap();
    format!("{}\r\n{}\r\n", lines[0], control)
}

async fn poll(app: &TestApp) -> Vec<Value> {
    let r = app.post(&admin(), "/v1/ach/inbound/poll", json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json()["files"].as_array().unwrap().clone()
}

async fn events_of(app: &TestApp, id: &str) -> Vec<inflow_store::repo::events::Event> {
    let mut tx = app.db.store.read().await.unwrap();
    tx.events_for_object(id).await.unwrap()
}

/// One ODFI, `bank`, with `changes` applied; a debit of 10.00 from
/// `account` filed at the next cutoff. Returns the app, the customer's
/// key, the collection id and the file.
async fn one_filed_debit(
    b: Backend,
    dir: &std::path::Path,
    account: &str,
    changes: impl FnOnce(&mut OdfiSettings),
) -> (TestApp, Creds, String, Value) {
    let mut o = odfi(dir, "bank", "121042882", "1111111111");
    changes(&mut o);
    let app = spawn_app_with(b, |c| c.odfi = vec![o]).await;
    let (_, creds) = app.customer_with_key("Acme", json!({})).await;
    let dest = destination(&app, &creds).await;
    let pm = make_pm(&app, &creds, account).await;
    let c = collect(&app, &creds, &dest, &pm, "1000", json!({})).await;
    let today = inflow_core::calendar::local_date(sandbox_now(&app).await);
    let day = app.state().ach.calendar.next_banking_day(today);
    advance_to_eastern(&app, day, 20, 30).await;
    let files = outbound_files(&app).await;
    assert_eq!(files.len(), 1, "{files:?}");
    let id = c["id"].as_str().unwrap().to_owned();
    (app, creds, id, files[0].clone())
}

async fn an_acknowledgement_is_matched_by_content_and_a_mismatch_is_refused(b: Backend) {
    let dir = TempDir::new();
    let (app, _, _, file) = one_filed_debit(b, &dir.0, "123456789", |o| {
        o.ack_file_pattern = Some("{name}.ack".into())
    })
    .await;
    let (id, name) = (
        file["id"].as_str().unwrap(),
        file["fileName"].as_str().unwrap(),
    );
    assert_eq!(file["delivery"]["status"], "uploaded", "{file}");
    let content = delivered(&dir.0, "bank", &file);
    let inbound = dir.0.join("bank").join("from-bank");
    std::fs::create_dir_all(&inbound).unwrap();

    // Named after the file, but echoing other totals: refused.
    let good = echo(&content);
    let mut lines: Vec<String> = good.lines().map(str::to_owned).collect();
    lines[1].replace_range(31..43, "000000099999");
    std::fs::write(inbound.join(format!("{name}.ack")), lines.join("\n")).unwrap();
    let picked = poll(&app).await;
    assert_eq!(picked.len(), 1, "{picked:?}");
    assert_eq!(picked[0]["outcome"], "rejected", "{picked:?}");
    assert!(
        picked[0]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("total debit amount")),
        "{picked:?}"
    );
    let f = app
        .get(&admin(), &format!("/v1/ach/files/{id}"))
        .await
        .json();
    assert_eq!(f["delivery"]["status"], "uploaded", "{f}");
    let events = events_of(&app, id).await;
    let mismatch = events
        .iter()
        .find(|e| e.event_type == "ach_file.acknowledgement_mismatch")
        .expect("a mismatch event");
    assert!(
        mismatch.data["mismatch"]["differences"][0]
            .as_str()
            .unwrap()
            .contains("total debit amount"),
        "{}",
        mismatch.data
    );
    // A text that is no echo at all, under the file's ack name: refused too.
    std::fs::write(inbound.join(format!("{name}.ack")), "RECEIVED 1 FILE\n").unwrap();
    assert_eq!(poll(&app).await[0]["outcome"], "rejected");

    // A header-only file of the bank's own (the immediate fields the other
    // way round, same date and modifier) is no acknowledgement of ours.
    let mismatches = |events: &[inflow_store::repo::events::Event]| {
        events
            .iter()
            .filter(|e| e.event_type == "ach_file.acknowledgement_mismatch")
            .count()
    };
    let before = mismatches(&events_of(&app, id).await);
    let (header, control) = good.split_once("\r\n").unwrap();
    let theirs = format!(
        "{}{}{}{}\r\n{control}",
        &header[..3],
        &header[13..23],
        &header[3..13],
        &header[23..]
    );
    std::fs::write(inbound.join("EMPTY-RETURNS.ach"), theirs).unwrap();
    let picked = poll(&app).await;
    assert_ne!(picked[0]["outcome"], "acknowledged", "{picked:?}");
    assert_eq!(
        mismatches(&events_of(&app, id).await),
        before,
        "no false alarm"
    );

    // The right echo under a name of the bank's choosing: matched by content.
    std::fs::write(inbound.join("CONFIRM-0001.TXT"), &good).unwrap();
    let picked = poll(&app).await;
    assert_eq!(picked[0]["outcome"], "acknowledged", "{picked:?}");
    let f = app
        .get(&admin(), &format!("/v1/ach/files/{id}"))
        .await
        .json();
    assert_eq!(f["delivery"]["status"], "acknowledged", "{f}");
    assert!(events_of(&app, id)
        .await
        .iter()
        .any(|e| e.event_type == "ach_file.acknowledged"));
    assert_eq!(
        std::fs::read_dir(&inbound)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().is_file())
            .count(),
        0
    );
}

async fn a_returned_offset_entry_is_recorded_against_its_file_and_touches_no_collection(
    b: Backend,
) {
    let dir = TempDir::new();
    // The settlement account is one the sandbox bank returns (R03).
    let (app, creds, collection_id, file) = one_filed_debit(b, &dir.0, "123456789", |o| {
        o.balanced = true;
        o.settlement_account = Some(SettlementAccountSettings {
            routing_number: "021000021".into(),
            account_number: "9999000103".into(),
            account_type: "checking".into(),
            name: Some("Inflow Settlement".into()),
        });
    })
    .await;
    let content = delivered(&dir.0, "bank", &file);
    let offset_trace = content
        .lines()
        .find(|l| l.starts_with("622"))
        .map(|l| l[79..94].to_owned())
        .expect("the offset entry");
    let answers =
        inflow_engine::sandbox_bank::answer(content.as_bytes(), &app.state().ach).unwrap();
    assert_eq!(answers.len(), 1, "only the offset is returned");
    let inbound = dir.0.join("bank").join("from-bank");
    std::fs::create_dir_all(&inbound).unwrap();
    std::fs::write(inbound.join("RETURNS.ach"), answers[0].file.to_bytes()).unwrap();
    let picked = poll(&app).await;
    assert_eq!(picked[0]["outcome"], "applied", "{picked:?}");

    let c = collection(&app, &creds, &collection_id).await;
    assert_ne!(c["status"], "returned", "{c}");
    let file_id = file["id"].as_str().unwrap();
    let event = events_of(&app, file_id)
        .await
        .into_iter()
        .find(|e| e.event_type == "ach_file.offset_returned")
        .expect("an ach_file.offset_returned event");
    assert_eq!(event.customer_id, None, "an operator event");
    let r = &event.data["object"]["offsetReturn"];
    assert_eq!(r["code"], "R03", "{r}");
    assert_eq!(r["originalTrace"], offset_trace.as_str(), "{r}");
    assert_eq!(r["amount"], 1000, "{r}");
    let mut tx = app.db.store.read().await.unwrap();
    assert!(
        tx.unmatched_ach_returns(10).await.unwrap().is_empty(),
        "not recorded as unmatched"
    );
}

async fn an_upload_failure_event_carries_what_the_operator_needs(b: Backend) {
    let dir = TempDir::new();
    // The outbound "directory" is a file: every upload fails.
    std::fs::write(dir.0.join("blocker"), b"x").unwrap();
    let (app, _, _, file) = one_filed_debit(b, &dir.0, "123456789", |o| {
        o.transport = Some(TransportSettings::Local {
            outbound_dir: dir.0.join("blocker").join("to-bank"),
            inbound_dir: dir.0.join("from-bank"),
        });
        o.retry.max_attempts = 1;
    })
    .await;
    let id = file["id"].as_str().unwrap();
    assert_eq!(file["delivery"]["status"], "upload_failed", "{file}");
    let event = events_of(&app, id)
        .await
        .into_iter()
        .find(|e| e.event_type == "ach_file.upload_failed")
        .expect("an ach_file.upload_failed event");
    let alert = &event.data["alert"];
    assert_eq!(alert["severity"], "critical", "{alert}");
    assert_eq!(alert["fileId"], id, "{alert}");
    assert_eq!(alert["odfiId"], "bank", "{alert}");
    assert_eq!(alert["attempts"], 1, "{alert}");
    assert!(
        alert["lastError"].as_str().is_some_and(|e| !e.is_empty()),
        "{alert}"
    );
    assert_eq!(
        alert["actions"][0],
        format!("POST /v1/ach/files/{id}/retry-upload"),
        "{alert}"
    );
}

#[test]
fn odfi_cutoff_windows_that_cannot_work_are_refused_naming_the_setting() {
    let dir = TempDir::new();
    let mut config = inflow_server::config::Config {
        odfi: two_odfis(&dir.0),
        ..Default::default()
    };
    inflow_server::odfi::validate(&config).expect("valid windows");
    config.odfi[0].standard_cutoff = Some("25:00".into());
    let err = inflow_server::odfi::validate(&config)
        .unwrap_err()
        .to_string();
    assert!(err.contains("odfi[0].standard_cutoff"), "{err}");
    config.odfi[0].standard_cutoff = Some("12:00".into());
    config.odfi[0].same_day_windows = Some(vec!["10:00".into(), "13:00".into()]);
    let err = inflow_server::odfi::validate(&config)
        .unwrap_err()
        .to_string();
    assert!(err.contains("odfi[0].same_day_windows"), "{err}");
    assert!(err.contains("odfi[0].standard_cutoff"), "{err}");
    config.odfi[0].same_day_windows = Some(vec!["09:00".into()]);
    inflow_server::odfi::validate(&config).expect("one window before noon");
    config.odfi[1].same_day_windows = Some(vec!["2:30".into()]);
    let err = inflow_server::odfi::validate(&config)
        .unwrap_err()
        .to_string();
    assert!(err.contains("odfi[1]"), "{err}");
}
