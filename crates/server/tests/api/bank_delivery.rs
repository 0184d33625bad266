//! Bank connectivity end to end, on both backends, against a real OpenSSH
//! server on loopback (`inflow_bank::testing::sshd`, installed by
//! `scripts/ensure-bank-tools.sh`) and the real `gpg` as the bank: a debit
//! created over HTTP is filed at the cutoff, encrypted to the bank's key,
//! signed with ours and uploaded to the ODFI's SFTP server; `gpg` there
//! decrypts and verifies it into the exact bytes Inflow shows, which
//! `achlens` accepts; a return file the bank encrypts, signs and drops in
//! the inbound directory is picked up and returns the collection (with its
//! webhook), the same file seen again changes nothing, an unsigned one is
//! refused, the bank's acknowledgement marks the file `acknowledged`; the SFTP server down for the
//! first attempts (retried, sent once); a wrong host key refused for good
//! (`upload_failed`, then marked uploaded by hand); an operator's retry.

use crate::support;

use chrono::NaiveDate;
use inflow_bank::pgp::{generate_key, OurSecretKey};
use inflow_bank::testing::gpg::TestGpg;
use inflow_bank::testing::sshd::{TestSshd, TEST_USER};
use inflow_bank::SftpAuth;
use inflow_server::odfi::{
    OdfiSettings, PgpSettings, RetrySettings, SftpSettings, TransportSettings,
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::ach::*;
use support::receiver::Receiver;
use support::*;

on_both_backends!(
    a_debit_is_uploaded_over_sftp_and_its_return_is_picked_up_once,
    a_server_down_at_cutoff_gets_the_file_once_when_it_is_back,
    a_wrong_host_key_is_refused_and_the_file_can_be_marked_uploaded_by_hand,
    an_operator_retries_a_file_whose_attempts_ran_out,
);

/// An ODFI on `server`, trusting `host_key_of`'s key, key authentication.
fn sftp_odfi(server: &TestSshd, host_key_of: &TestSshd, max_attempts: u32) -> OdfiSettings {
    let private_key = match server.sftp_config().auth {
        SftpAuth::Key { private_key, .. } => private_key.expose().to_owned(),
        SftpAuth::Password(_) => unreachable!("the harness's config uses a key"),
    };
    OdfiSettings {
        id: "firstbank".into(),
        routing_number: "121042882".into(),
        immediate_destination_name: "FIRST BANK".into(),
        immediate_origin: "1234567890".into(),
        immediate_origin_name: "INFLOW TEST".into(),
        transport: Some(TransportSettings::Sftp(SftpSettings {
            host: "127.0.0.1".into(),
            port: server.port(),
            user: TEST_USER.into(),
            private_key: Some(private_key),
            private_key_passphrase: None,
            password: None,
            known_hosts: host_key_of.known_hosts_line(),
            outbound_dir: "/outbound".into(),
            inbound_dir: "/inbound".into(),
            after_pickup: "move:processed".into(),
            verify_sha256: true,
            // Generous: the tests run beside others on a busy machine, and a
            // server that is down refuses at once anyway.
            timeout_secs: 30,
        })),
        retry: RetrySettings {
            max_attempts,
            initial_backoff_secs: 60,
            max_backoff_secs: 600,
        },
        ..Default::default()
    }
}

/// The bank's side of OpenPGP: its key pair in a gpg home that also knows
/// our public key.
struct Bank {
    gpg: TestGpg,
    fpr: String,
    ours: String,
    settings: PgpSettings,
    key_file: std::path::PathBuf,
}

impl Bank {
    fn new() -> Bank {
        let gpg = TestGpg::new();
        let fpr = gpg.generate_key("First Bank <ach@firstbank.test>");
        let generated = generate_key("Inflow <ops@inflow.test>").unwrap();
        gpg.import(&generated.public_armored);
        let ours = OurSecretKey::from_secret(&generated.secret_armored, None)
            .unwrap()
            .fingerprint();
        let key_file =
            std::env::temp_dir().join(format!("inflow-pgp-{}.asc", uuid::Uuid::new_v4().simple()));
        std::fs::write(&key_file, generated.secret_armored.expose()).unwrap();
        let settings = PgpSettings {
            bank_public_key: gpg.export_public(&fpr),
            our_secret_key: format!("file:{}", key_file.display()),
            our_secret_key_passphrase: None,
            armor: false,
            verify_inbound: true,
        };
        Bank {
            gpg,
            fpr,
            ours,
            settings,
            key_file,
        }
    }

    /// gpg decrypts `bytes` and finds our valid signature.
    fn open(&self, bytes: &[u8]) -> Vec<u8> {
        let out = self.gpg.run(&["--status-fd", "2", "--decrypt"], bytes);
        let status = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "gpg refused our file: {status}");
        let validsig = status
            .lines()
            .find(|l| l.contains("VALIDSIG"))
            .unwrap_or_else(|| panic!("not signed: {status}"));
        assert!(validsig.ends_with(&self.ours), "{validsig}");
        out.stdout
    }

    /// `plain` encrypted to us and signed by the bank.
    fn seal(&self, plain: &[u8]) -> Vec<u8> {
        self.gpg.ok(
            &[
                "--encrypt",
                "--sign",
                "--recipient",
                &self.ours,
                "--local-user",
                &self.fpr,
            ],
            plain,
        )
    }
}

impl Drop for Bank {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.key_file);
    }
}

/// Names in a directory of the SFTP server, sorted.
fn listing(server: &TestSshd, dir: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(server.path(dir))
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// A customer with a destination account and a debit on `account`.
async fn debit(app: &TestApp, account: &str) -> (Creds, String) {
    let (_, creds) = app.customer_with_key("Acme", json!({})).await;
    let dest = destination(app, &creds).await;
    let pm = make_pm(app, &creds, account).await;
    let c = collect(app, &creds, &dest, &pm, "4200", json!({})).await;
    (creds, c["id"].as_str().unwrap().to_owned())
}

/// Move the sandbox clock past the next banking day's standard cutoff.
async fn past_next_cutoff(app: &TestApp) -> NaiveDate {
    let today = inflow_core::calendar::local_date(sandbox_now(app).await);
    let day = app.state().ach.calendar.next_banking_day(today);
    advance_to_eastern(app, day, 20, 30).await;
    day
}

/// The only outbound file.
async fn outbound_file(app: &TestApp) -> Value {
    let list = app.get(&admin(), "/v1/ach/files?direction=outbound").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    let files = list.json()["data"].as_array().unwrap().clone();
    assert_eq!(files.len(), 1, "{}", list.text);
    files[0].clone()
}

async fn file(app: &TestApp, id: &str) -> Value {
    let r = app.get(&admin(), &format!("/v1/ach/files/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json()
}

async fn content(app: &TestApp, id: &str) -> Vec<u8> {
    let r = app
        .get(&admin(), &format!("/v1/ach/files/{id}/content"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.text.into_bytes()
}

async fn poll(app: &TestApp) -> Vec<Value> {
    let r = app.post(&admin(), "/v1/ach/inbound/poll", json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json()["files"].as_array().unwrap().clone()
}

async fn event_types(app: &TestApp, id: &str) -> Vec<String> {
    let mut tx = app.db.store.read().await.unwrap();
    tx.events_for_object(id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .collect()
}

fn achlens_accepts(path: &std::path::Path) {
    let out = std::process::Command::new("achlens")
        .arg("validate")
        .arg(path)
        .output()
        .expect("achlens is on PATH (scripts/achlens-check.sh)");
    assert!(
        out.status.success(),
        "achlens rejected {}:\n{}{}",
        path.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The uploaded file is on the server byte for byte (once `bank` has
/// decrypted it, with OpenPGP), alone, and valid; returns the NACHA bytes.
async fn assert_uploaded_once(
    app: &TestApp,
    server: &TestSshd,
    f: &Value,
    bank: Option<&Bank>,
) -> Vec<u8> {
    let id = f["id"].as_str().unwrap();
    let name = match bank {
        Some(_) => format!("{}.pgp", f["fileName"].as_str().unwrap()),
        None => f["fileName"].as_str().unwrap().to_owned(),
    };
    let name = name.as_str();
    let d = &f["delivery"];
    assert_eq!(d["status"], "uploaded", "{f}");
    assert_eq!(d["uploadedBy"], "delivery-job", "{f}");
    assert_eq!(d["odfiId"], "firstbank", "{f}");
    assert!(
        d["location"].as_str().unwrap().starts_with("sftp://"),
        "{f}"
    );
    assert_eq!(listing(server, "/outbound"), vec![name.to_owned()]);
    let remote = server.path(&format!("/outbound/{name}"));
    let mut bytes = std::fs::read(&remote).unwrap();
    if let Some(bank) = bank {
        assert!(!bytes.starts_with(b"101 "), "not in clear");
        bytes = bank.open(&bytes);
    }
    assert_eq!(bytes, content(app, id).await, "the exact bytes were sent");
    let plain = app.data_dir.join(format!("{id}.ach"));
    std::fs::write(&plain, &bytes).unwrap();
    achlens_accepts(&plain);
    bytes
}

/// The sandbox bank's R01 answer to `outbound` (the account ends in 0101).
fn return_file(app: &TestApp, outbound: &[u8]) -> Vec<u8> {
    let answers = inflow_engine::sandbox_bank::answer(outbound, &app.state().ach).unwrap();
    assert_eq!(answers.len(), 1);
    answers[0].file.to_bytes()
}

async fn a_debit_is_uploaded_over_sftp_and_its_return_is_picked_up_once(b: Backend) {
    let server = TestSshd::start();
    let bank = Bank::new();
    let mut odfi = sftp_odfi(&server, &server, 3);
    odfi.pgp = Some(bank.settings.clone());
    odfi.ack_file_pattern = Some("{name}.ack".into());
    let app = spawn_app_with(b, |c| c.odfi = vec![odfi]).await;
    let (creds, id) = debit(&app, "9999000101").await;
    let rx = Receiver::start().await;
    let r = app
        .post(
            &creds,
            "/v1/webhook-endpoints",
            json!({"url": rx.url, "enabledEvents": ["collection.returned"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    past_next_cutoff(&app).await;
    let f = outbound_file(&app).await;
    assert_eq!(f["delivery"]["attempts"], 1, "{f}");
    let bytes = assert_uploaded_once(&app, &server, &f, Some(&bank)).await;
    assert_eq!(collection(&app, &creds, &id).await["status"], "submitted");
    let fid = f["id"].as_str().unwrap();
    assert!(event_types(&app, fid)
        .await
        .contains(&"ach_file.uploaded".to_owned()));

    // The bank acknowledges the file: it echoes the file header and file
    // control (encrypted and signed, like everything it sends).
    let name = f["fileName"].as_str().unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    let control = text
        .lines()
        .rev()
        .find(|l| l.starts_with('9') && l.bytes().any(|b| b != b'9'))
        .unwrap();
    let echo = format!("{}\n{control}\n", text.lines().next().unwrap());
    server.drop_file(
        "/inbound",
        &format!("{name}.ack"),
        &bank.seal(echo.as_bytes()),
    );
    let picked = poll(&app).await;
    assert_eq!(picked.len(), 1, "{picked:?}");
    assert_eq!(picked[0]["outcome"], "acknowledged", "{picked:?}");
    assert_eq!(picked[0]["detail"], fid, "{picked:?}");
    let acked = file(&app, fid).await;
    assert_eq!(acked["delivery"]["status"], "acknowledged", "{acked}");
    assert!(acked["delivery"]["acknowledgedAt"].is_string(), "{acked}");
    assert!(event_types(&app, fid)
        .await
        .contains(&"ach_file.acknowledged".to_owned()));

    // A return encrypted to us but not signed by the bank is refused.
    let plain_return = return_file(&app, &bytes);
    let unsigned = bank
        .gpg
        .ok(&["--encrypt", "--recipient", &bank.ours], &plain_return);
    server.drop_file("/inbound", "RET-UNSIGNED.ach", &unsigned);
    let picked = poll(&app).await;
    assert_eq!(picked[0]["outcome"], "rejected", "{picked:?}");
    assert_eq!(collection(&app, &creds, &id).await["status"], "submitted");
    assert!(app
        .data_dir
        .join("ach/inbound/rejected/firstbank-RET-UNSIGNED.ach")
        .exists());

    let ret = bank.seal(&plain_return);
    server.drop_file("/inbound", "RET-0001.ach", &ret);
    let picked = poll(&app).await;
    assert_eq!(picked.len(), 1, "{picked:?}");
    assert_eq!(picked[0]["outcome"], "applied", "{picked:?}");
    assert_eq!(collection(&app, &creds, &id).await["status"], "returned");
    assert_eq!(listing(&server, "/inbound"), vec!["processed"]);

    // The bank sends the same file again under another name (encrypted
    // afresh): applied once.
    server.drop_file("/inbound", "RET-0001-resend.ach", &bank.seal(&plain_return));
    let picked = poll(&app).await;
    assert_eq!(picked[0]["outcome"], "duplicate", "{picked:?}");
    assert_eq!(
        listing(&server, "/inbound/processed"),
        vec![
            format!("{name}.ack"),
            "RET-0001-resend.ach".into(),
            "RET-0001.ach".into(),
            "RET-UNSIGNED.ach".into()
        ]
    );
    let returned = event_types(&app, &id)
        .await
        .into_iter()
        .filter(|t| t == "collection.returned")
        .count();
    assert_eq!(returned, 1);

    // The webhook goes out as business time moves on.
    advance_minutes(&app, 1).await;
    rx.wait_for(20, "collection.returned", |l| {
        l.iter()
            .any(|r| r.object_id == id && r.event_type == "collection.returned")
    })
    .await;
    app.stop().await;
}

async fn a_server_down_at_cutoff_gets_the_file_once_when_it_is_back(b: Backend) {
    let mut server = TestSshd::start();
    let bank = Bank::new();
    let mut odfi = sftp_odfi(&server, &server, 5);
    odfi.pgp = Some(bank.settings.clone());
    let app = spawn_app_with(b, |c| c.odfi = vec![odfi]).await;
    let (creds, id) = debit(&app, "9999000101").await;
    server.stop();

    past_next_cutoff(&app).await;
    let f = outbound_file(&app).await;
    let fid = f["id"].as_str().unwrap().to_owned();
    let d = &f["delivery"];
    // Tried at the cutoff (20:00), then again by the pass at 20:30: the
    // backoff (60 s) had passed. No clock step ends in between, whatever
    // the time the test starts at (`advance_to_eastern`; run with
    // INFLOW_TEST_CLOCK_START=14:15 to start where one used to).
    assert_eq!(d["status"], "built", "{f}");
    assert_eq!(d["attempts"], 2, "{f}");
    assert!(d["lastError"].as_str().unwrap().contains("connect"), "{f}");
    assert!(d["nextAttemptAt"].is_string(), "{f}");
    assert_eq!(collection(&app, &creds, &id).await["status"], "batched");

    // The third failure backs off further (120 s, then 240 s).
    advance_minutes(&app, 3).await;
    let f2 = file(&app, &fid).await;
    assert_eq!(f2["delivery"]["attempts"], 3, "{f2}");
    assert_eq!(f2["delivery"]["status"], "built", "{f2}");
    advance_minutes(&app, 1).await;
    assert_eq!(
        file(&app, &fid).await["delivery"]["attempts"],
        3,
        "backing off"
    );

    server.start_again();
    advance_minutes(&app, 5).await;
    let f3 = file(&app, &fid).await;
    assert_eq!(f3["delivery"]["attempts"], 4, "{f3}");
    let bytes = assert_uploaded_once(&app, &server, &f3, Some(&bank)).await;
    let c = collection(&app, &creds, &id).await;
    assert_eq!(c["status"], "submitted", "submitted once uploaded: {c}");

    // Later passes send nothing more.
    advance_minutes(&app, 30).await;
    assert_eq!(file(&app, &fid).await["delivery"]["attempts"], 4);
    assert_eq!(listing(&server, "/outbound").len(), 1);

    server.drop_file(
        "/inbound",
        "RET.ach",
        &bank.seal(&return_file(&app, &bytes)),
    );
    advance_minutes(&app, 1).await; // the scheduler polls too
    assert_eq!(collection(&app, &creds, &id).await["status"], "returned");
    app.stop().await;
}

async fn a_wrong_host_key_is_refused_and_the_file_can_be_marked_uploaded_by_hand(b: Backend) {
    let server = TestSshd::start();
    let impostor = TestSshd::start();
    let app = spawn_app_with(b, |c| c.odfi = vec![sftp_odfi(&server, &impostor, 5)]).await;
    let (creds, id) = debit(&app, "000123456789").await;

    past_next_cutoff(&app).await;
    let f = outbound_file(&app).await;
    let fid = f["id"].as_str().unwrap().to_owned();
    assert_eq!(f["delivery"]["status"], "upload_failed", "{f}");
    assert_eq!(
        f["delivery"]["attempts"], 1,
        "refused for good at once: {f}"
    );
    assert!(
        f["delivery"]["lastError"]
            .as_str()
            .unwrap()
            .contains("host key"),
        "{f}"
    );
    assert!(listing(&server, "/outbound").is_empty());
    assert!(event_types(&app, &fid)
        .await
        .contains(&"ach_file.upload_failed".to_owned()));
    // Built but not at the bank: `batched`, and no longer cancellable.
    assert_eq!(collection(&app, &creds, &id).await["status"], "batched");
    let r = app
        .post(&creds, &format!("/v1/collections/{id}/cancel"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);

    // Retrying does not help while the key is wrong.
    let r = app
        .post(
            &admin(),
            &format!("/v1/ach/files/{fid}/retry-upload"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["delivery"]["status"], "upload_failed");
    assert!(listing(&server, "/outbound").is_empty());

    // The operator sent it by hand.
    let r = app
        .post(
            &admin(),
            &format!("/v1/ach/files/{fid}/mark-uploaded"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let d = &r.json()["delivery"];
    assert_eq!(d["status"], "uploaded");
    assert!(d["uploadedBy"].as_str().unwrap().starts_with("key_"), "{d}");
    assert!(d["uploadedAt"].is_string());
    assert!(event_types(&app, &fid)
        .await
        .contains(&"ach_file.uploaded".to_owned()));
    let r = app
        .post(
            &admin(),
            &format!("/v1/ach/files/{fid}/mark-uploaded"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    advance_minutes(&app, 60).await;
    assert!(listing(&server, "/outbound").is_empty(), "never sent");
    assert_eq!(collection(&app, &creds, &id).await["status"], "submitted");
    app.stop().await;
}

async fn an_operator_retries_a_file_whose_attempts_ran_out(b: Backend) {
    let mut server = TestSshd::start();
    let app = spawn_app_with(b, |c| c.odfi = vec![sftp_odfi(&server, &server, 2)]).await;
    debit(&app, "000123456789").await;
    server.stop();
    past_next_cutoff(&app).await;
    advance_minutes(&app, 2).await;
    let f = outbound_file(&app).await;
    let fid = f["id"].as_str().unwrap().to_owned();
    assert_eq!(f["delivery"]["status"], "upload_failed", "{f}");
    assert_eq!(f["delivery"]["attempts"], 2, "{f}");
    let r = app
        .post(
            &admin(),
            &format!("/v1/ach/files/{fid}/retry-upload"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // Attempts counted afresh: the first failed, the job retries later.
    let d = &r.json()["delivery"];
    assert_eq!(
        (d["status"].as_str(), d["attempts"].as_i64()),
        (Some("built"), Some(1)),
        "{d}"
    );

    server.start_again();
    advance_minutes(&app, 2).await;
    let f = file(&app, &fid).await;
    assert_eq!(f["delivery"]["attempts"], 2, "{f}");
    assert_uploaded_once(&app, &server, &f, None).await;
    let r = app
        .post(
            &admin(),
            &format!("/v1/ach/files/{fid}/retry-upload"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    let r = app
        .post(&admin(), "/v1/ach/files/fil_nope/retry-upload", json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    app.stop().await;
}
