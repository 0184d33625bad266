//! Several ODFIs at once, on both backends: customers assigned to an ODFI
//! by `odfiId` (absent: the default), one cutoff building one file per
//! ODFI with that ODFI's header values and only its customers' entries
//! (each file checked by `achlens`), each delivered through its own
//! transport, and a return picked up from the second ODFI's inbound
//! folder; an unknown `odfiId` refused; two profiles with one id, two
//! defaults, or (in production) an ODFI without a transport refused.

use crate::support;

use inflow_server::odfi::{OdfiSettings, TransportSettings};
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::ach::*;
use support::*;

on_both_backends!(
    one_cutoff_builds_one_file_per_odfi_with_its_customers_entries,
    an_unknown_odfi_id_is_refused,
);

/// An ODFI taking files through `<dir>/<id>/{to-bank,from-bank}`.
fn odfi(dir: &std::path::Path, id: &str, routing: &str, origin: &str, name: &str) -> OdfiSettings {
    OdfiSettings {
        id: id.into(),
        routing_number: routing.into(),
        immediate_destination_name: name.into(),
        immediate_origin: origin.into(),
        immediate_origin_name: "INFLOW TEST".into(),
        transport: Some(TransportSettings::Local {
            outbound_dir: dir.join(id).join("to-bank"),
            inbound_dir: dir.join(id).join("from-bank"),
        }),
        ..Default::default()
    }
}

/// Two ODFIs: `alpha` listed first, `beta` the default by its flag.
fn two_odfis(dir: &std::path::Path) -> Vec<OdfiSettings> {
    let alpha = odfi(dir, "alpha", "121042882", "1111111111", "ALPHA BANK");
    let mut beta = odfi(dir, "beta", "021000021", "2222222222", "BETA BANK");
    beta.default = true;
    beta.file_name_pattern = Some("BETA-{date}-{modifier}.ach".into());
    vec![alpha, beta]
}

/// The file's bytes as the bank got them (through its own transport),
/// accepted by `achlens`.
fn achlens_accepts(app: &TestApp, dir: &std::path::Path, odfi: &str, f: &Value) -> String {
    let name = f["fileName"].as_str().unwrap();
    let path = dir.join(odfi).join("to-bank").join(name);
    let bytes =
        std::fs::read(&path).unwrap_or_else(|e| panic!("{name} was not delivered to {odfi}: {e}"));
    let copy = app.data_dir.join(name);
    std::fs::write(&copy, &bytes).unwrap();
    let out = std::process::Command::new("achlens")
        .arg("validate")
        .arg(&copy)
        .output()
        .expect("achlens is on PATH (scripts/achlens-check.sh)");
    assert!(
        out.status.success(),
        "achlens rejected {name}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(bytes).unwrap()
}

/// The trace numbers of a file's entries.
fn traces(content: &str) -> Vec<String> {
    content
        .lines()
        .filter(|l| l.starts_with('6'))
        .map(|l| l[79..94].to_owned())
        .collect()
}

async fn one_cutoff_builds_one_file_per_odfi_with_its_customers_entries(b: Backend) {
    let dir = app_dir();
    let app = spawn_app_with(b, |c| c.odfi = two_odfis(&dir)).await;
    // Acme on alpha by odfiId; Globex with none (the default: beta);
    // Initech on alpha, then moved to beta by PATCH.
    let mut on = Vec::new();
    for (name, odfi_id, account) in [
        ("Acme", json!("alpha"), "9999000001"),
        ("Globex", Value::Null, "9999000101"),
        ("Initech", json!("alpha"), "9999000002"),
    ] {
        let extra = match &odfi_id {
            Value::Null => json!({}),
            v => json!({ "odfiId": v }),
        };
        let (id, creds) = app.customer_with_key(name, extra).await;
        let got = app.get(&admin(), &format!("/v1/customers/{id}")).await;
        assert_eq!(got.json()["odfiId"], odfi_id, "{}", got.text);
        let dest = destination(&app, &creds).await;
        let pm = make_pm(&app, &creds, account).await;
        let c = collect(&app, &creds, &dest, &pm, "1000", json!({})).await;
        on.push((id, creds, c["id"].as_str().unwrap().to_owned()));
    }
    let moved = patch(
        &app,
        &admin(),
        &format!("/v1/customers/{}", on[2].0),
        json!({"odfiId": "beta"}),
    )
    .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    assert_eq!(moved.json()["odfiId"], "beta");

    let today = inflow_core::calendar::local_date(sandbox_now(&app).await);
    let day = app.state().ach.calendar.next_banking_day(today);
    advance_to_eastern(&app, day, 20, 30).await;

    let list = app
        .get(&admin(), "/v1/ach/files?direction=outbound&limit=100")
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    let files = list.json()["data"].as_array().unwrap().clone();
    assert_eq!(files.len(), 2, "one file per ODFI: {files:?}");
    let file_of = |prefix: &str| {
        files
            .iter()
            .find(|f| f["fileName"].as_str().unwrap().starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} file in {files:?}"))
            .clone()
    };
    let (alpha, beta) = (file_of("INFLOW-"), file_of("BETA-"));
    assert_ne!(alpha["fileIdModifier"], beta["fileIdModifier"], "{files:?}");
    let trace = |i: usize| {
        let app = &app;
        let (creds, id) = (on[i].1.clone(), on[i].2.clone());
        async move {
            collection(app, &creds, &id).await["traceNumber"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    for (f, odfi, dest, origin, routing8, members) in [
        (
            &alpha,
            "alpha",
            " 121042882",
            "1111111111",
            "12104288",
            vec![0],
        ),
        (
            &beta,
            "beta",
            " 021000021",
            "2222222222",
            "02100002",
            vec![1, 2],
        ),
    ] {
        assert_eq!(f["delivery"]["status"], "uploaded", "{f}");
        assert_eq!(f["delivery"]["odfiId"], odfi, "{f}");
        let content = achlens_accepts(&app, &dir, odfi, f);
        let header = content.lines().next().unwrap();
        assert_eq!(&header[3..13], dest, "{odfi}: {header}");
        assert_eq!(&header[13..23], origin, "{odfi}: {header}");
        let mut want = Vec::new();
        for i in members {
            want.push(trace(i).await);
        }
        let mut got = traces(&content);
        got.sort();
        want.sort();
        assert_eq!(
            got, want,
            "{odfi}'s file holds exactly its customers' entries"
        );
        assert!(got.iter().all(|t| t.starts_with(routing8)), "{got:?}");
    }

    // Globex's debit (account …0101) is returned through beta's inbound folder.
    let beta_bytes = std::fs::read(
        dir.join("beta")
            .join("to-bank")
            .join(beta["fileName"].as_str().unwrap()),
    )
    .unwrap();
    let answers = inflow_engine::sandbox_bank::answer(&beta_bytes, &app.state().ach).unwrap();
    assert_eq!(answers.len(), 1);
    let inbound = dir.join("beta").join("from-bank");
    std::fs::create_dir_all(&inbound).unwrap();
    std::fs::write(inbound.join("RETURNS.ach"), answers[0].file.to_bytes()).unwrap();
    let r = app.post(&admin(), "/v1/ach/inbound/poll", json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let c = collection(&app, &on[1].1, &on[1].2).await;
    assert_eq!(c["status"], "returned", "{c}");
    let _ = std::fs::remove_dir_all(&dir);
}

async fn an_unknown_odfi_id_is_refused(b: Backend) {
    let dir = app_dir();
    let app = spawn_app_with(b, |c| c.odfi = two_odfis(&dir)).await;
    let body = json!({"name": "Acme", "kind": "business", "odfiId": "gamma"});
    let r = app.post(&admin(), "/v1/customers", body).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.error_param().as_deref(), Some("odfiId"), "{}", r.text);
    assert!(r.text.contains("beta (the default), alpha"), "{}", r.text);

    let (id, _) = app.customer_with_key("Acme", json!({})).await;
    let path = format!("/v1/customers/{id}");
    let r = patch(&app, &admin(), &path, json!({"odfiId": "gamma"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.error_param().as_deref(), Some("odfiId"), "{}", r.text);
    let r = patch(&app, &admin(), &path, json!({"odfiId": "alpha"})).await;
    assert_eq!(r.json()["odfiId"], "alpha", "{}", r.text);
    let r = patch(&app, &admin(), &path, json!({"odfiId": null})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["odfiId"], Value::Null, "null: back to the default");

    // Without any `[[odfi]]` (the sandbox), no odfiId is accepted.
    let sandbox = spawn_app(b).await;
    let body = json!({"name": "Acme", "kind": "business", "odfiId": "alpha"});
    let r = sandbox.post(&admin(), "/v1/customers", body).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.error_param().as_deref(), Some("odfiId"), "{}", r.text);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn two_profiles_with_one_id_are_refused() {
    let dir = app_dir();
    let mut config = inflow_server::config::Config::default();
    let mut odfis = two_odfis(&dir);
    odfis[1].id = "alpha".into();
    config.odfi = odfis;
    let err = inflow_server::odfi::validate(&config)
        .unwrap_err()
        .to_string();
    assert!(err.contains("odfi[1].id \"alpha\""), "{err}");
    assert!(err.contains("odfi[0]"), "{err}");

    let mut odfis = two_odfis(&dir);
    odfis[0].default = true;
    config.odfi = odfis;
    let err = inflow_server::odfi::validate(&config)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("only one ODFI may have default = true"),
        "{err}"
    );

    config.odfi = two_odfis(&dir);
    inflow_server::odfi::validate(&config).expect("two distinct ODFIs are fine");

    // In production every ODFI needs a transport.
    config.sandbox = false;
    inflow_server::odfi::validate(&config).expect("both have one");
    config.odfi[1].transport = None;
    let err = inflow_server::odfi::validate(&config)
        .unwrap_err()
        .to_string();
    assert!(err.contains("odfi[1] (`beta`) has no transport"), "{err}");
}

/// A fresh directory for the ODFIs' folders.
fn app_dir() -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!(
        "inflow-bank-odfis-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&p).unwrap();
    p
}
