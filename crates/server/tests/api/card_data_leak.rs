//! Card data never leaks, on both backends: the real `inflow serve` binary
//! (debug logging, JSON log lines captured from its stdout and stderr) runs
//! saved cards with a security code, sales and authorizations with one,
//! captures, refunds, voids, declines, a processor timeout and refused
//! requests; then no card number (PAN) and no CVC may appear
//!
//! * in the database: on SQLite in the raw bytes of the database file and
//!   its `-wal` and `-shm` files, and on both backends in every row of every
//!   table rendered as text (`SELECT t::text` on PostgreSQL, `quote()` of
//!   each column on SQLite);
//! * in anything the server logged;
//! * in any event (`GET /v1/events`, every page) or webhook delivery body.
//!
//! The numbers are sent with spaces and hyphens, so each is looked for as
//! sent and as bare digits, each also in hex and base64; binary values
//! (bytea, BLOB) are decoded and searched as bytes. Stored idempotent
//! responses are checked to be sealed with the master key (and to hold no
//! card data once opened), and stored card numbers to be sealed.
//!
//! The test was seen to fail (then reverted) when the server logged the
//! card request at debug level, kept the idempotency request fingerprint
//! as the plain request, and copied a CVC and a PAN into card collections.

use crate::support;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use inflow_core::crypto::{MasterKey, Vault};
use inflow_store::testing::TestDb;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::{Connection, PgConnection, SqliteConnection};
use support::card::{card_body, charge};
use support::receiver::Receiver;
use support::*;

on_both_backends!(no_pan_or_cvc_in_the_database_the_logs_events_or_webhooks);

/// A test card: the number as the payer types it, and its security code.
///
/// The CVCs are numbers nothing else in this test produces: no amount (in
/// cents or as `displayValue`), month, year, postal code, last 4, HTTP
/// status (1xx–5xx) or port (ephemeral ports have 5 digits) is one of them.
/// A CVC is only 3 or 4 digits, so it cannot be looked for as a bare
/// substring: ids are random hex and timestamps are long digit runs, which
/// contain any 3 digits sooner or later. [`standing_alone`] therefore only
/// counts the digits where they are a number of their own, with no letter,
/// digit or `.` on either side: a CVC kept in a column (`,947,` in a
/// PostgreSQL row, `'947'` in SQLite's `quote()`), in JSON (`"cvc":"947"`)
/// or in a log field (`cvc=947`) stands exactly like that, while a piece of
/// a hex id (`col_…a947f…`), of a timestamp (`…00.947Z`, `…947000`), of an
/// approval code (6 hex characters) or of a float (`latency_ms: 12.947`)
/// never does. [`after_key`] adds the shapes with a key in front
/// (`"cvc":"947"`, `cvc: Some("947")`, also `cvc 947.`): in SQLite's raw
/// pages and in decoded binary values bytes run together with nothing
/// between them (and random bytes would sooner or later spell any 3
/// digits), so there only the keyed shape, or a binary value that is
/// exactly the CVC, counts; the per-row text catches a bare column.
struct TestCard {
    typed: &'static str,
    cvc: &'static str,
}

const MASTERCARD: TestCard = TestCard {
    typed: "5555 5555 5555 4444",
    cvc: "947",
};
const AMEX: TestCard = TestCard {
    typed: "3782-822463-10005",
    cvc: "6183",
};
const DECLINED: TestCard = TestCard {
    typed: "4000 0000 0000 0002",
    cvc: "862",
};
const WRONG_CVC: TestCard = TestCard {
    typed: "4000-0000-0000-0127",
    cvc: "759",
};
const DISCOVER: TestCard = TestCard {
    typed: "6011 1111 1111 1117",
    cvc: "638",
};
const TIMEOUT: TestCard = TestCard {
    typed: "4000000000000036",
    cvc: "884",
};
const CARDS: [&TestCard; 6] = [
    &MASTERCARD,
    &AMEX,
    &DECLINED,
    &WRONG_CVC,
    &DISCOVER,
    &TIMEOUT,
];

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

fn hex(bytes: &[u8], upper: bool) -> String {
    bytes
        .iter()
        .map(|b| {
            if upper {
                format!("{b:02X}")
            } else {
                format!("{b:02x}")
            }
        })
        .collect()
}

/// Every shape of a card number a leak could give it: as typed, the bare
/// digits, the digits' ASCII in hex (how PostgreSQL prints a bytea and
/// SQLite's `quote()` a BLOB), and the base64 of the digits at each of the
/// three alignments a base64 encoder could meet them at.
fn pan_shapes(typed: &str) -> Vec<(String, Vec<u8>)> {
    use base64::Engine;
    let d = digits(typed);
    let mut shapes = Vec::new();
    for (name, form) in [("digits", d.as_str()), ("as typed", typed)] {
        if name == "as typed" && form == d {
            continue;
        }
        shapes.push((name.to_owned(), form.as_bytes().to_vec()));
        shapes.push((
            format!("{name}, hex"),
            hex(form.as_bytes(), false).into_bytes(),
        ));
        shapes.push((
            format!("{name}, HEX"),
            hex(form.as_bytes(), true).into_bytes(),
        ));
        for shift in 0..3 {
            let rest = &form.as_bytes()[shift..];
            let whole = &rest[..rest.len() / 3 * 3];
            let b64 = base64::engine::general_purpose::STANDARD.encode(whole);
            shapes.push((format!("{name}, base64+{shift}"), b64.into_bytes()));
        }
    }
    shapes
}

fn find(hay: &[u8], needle: &[u8]) -> Vec<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return Vec::new();
    }
    hay.windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect()
}

/// A number of its own: no letter, digit or `.` on either side.
fn joins(c: char) -> bool {
    c.is_alphanumeric() || c == '.'
}

/// Where `cvc` stands alone in `text` (see [`TestCard`]).
fn standing_alone(text: &str, cvc: &str) -> Option<usize> {
    text.match_indices(cvc)
        .find(|(i, _)| {
            let before = text[..*i].chars().next_back();
            let after = text[i + cvc.len()..].chars().next();
            !before.is_some_and(joins) && !after.is_some_and(joins)
        })
        .map(|(i, _)| i)
}

/// The binary values in a row rendered as text: PostgreSQL prints a bytea
/// as `\x` and hex digits, SQLite's `quote()` a BLOB as `X'…'`.
fn blobs(row: &str) -> Vec<Vec<u8>> {
    let bytes = row.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 2 <= bytes.len() {
        let start = match &bytes[i..i + 2] {
            b"\\x" | b"X'" => i + 2,
            _ => {
                i += 1;
                continue;
            }
        };
        let len = bytes[start..]
            .iter()
            .take_while(|b| b.is_ascii_hexdigit())
            .count();
        let decoded = (0..len / 2)
            .map(|k| u8::from_str_radix(&row[start + 2 * k..start + 2 * k + 2], 16).unwrap())
            .collect::<Vec<u8>>();
        if !decoded.is_empty() {
            out.push(decoded);
        }
        i = start + len;
    }
    out
}

/// Where `cvc` follows a security-code key within 20 bytes, not inside a
/// longer run of digits (see [`TestCard`]).
fn after_key(hay: &[u8], cvc: &str) -> Option<usize> {
    let lower = hay.to_ascii_lowercase();
    find(hay, cvc.as_bytes()).into_iter().find(|&i| {
        let end = i + cvc.len();
        let digit_before = i > 0 && hay[i - 1].is_ascii_digit();
        let digit_after = end < hay.len() && hay[end].is_ascii_digit();
        let window = &lower[i.saturating_sub(20)..i];
        !digit_before
            && !digit_after
            && ["cvc", "cvv", "cid", "security"]
                .iter()
                .any(|k| !find(window, k.as_bytes()).is_empty())
    })
}

fn context(hay: &[u8], at: usize) -> String {
    let from = at.saturating_sub(60);
    let to = (at + 60).min(hay.len());
    String::from_utf8_lossy(&hay[from..to])
        .chars()
        .map(|c| if c.is_control() { '·' } else { c })
        .collect()
}

/// Every card number and CVC found in `hay`, described with `place`.
fn leaks(place: &str, hay: &[u8], text_shaped: bool) -> Vec<String> {
    let mut found = Vec::new();
    for card in CARDS {
        for (shape, needle) in pan_shapes(card.typed) {
            if let Some(&at) = find(hay, &needle).first() {
                found.push(format!(
                    "{place}: PAN {} ({shape}) in …{}…",
                    card.typed,
                    context(hay, at)
                ));
            }
        }
        if let Some(at) = after_key(hay, card.cvc) {
            found.push(format!(
                "{place}: CVC {} after a key in …{}…",
                card.cvc,
                context(hay, at)
            ));
        }
        if text_shaped {
            let text = String::from_utf8_lossy(hay);
            if let Some(at) = standing_alone(&text, card.cvc) {
                found.push(format!(
                    "{place}: CVC {} in …{}…",
                    card.cvc,
                    context(text.as_bytes(), at)
                ));
            }
        }
    }
    found
}

/// [`leaks`] in a row rendered as text, and in its binary values decoded:
/// a card number in any shape, a CVC after a key or as the whole value.
fn row_leaks(place: &str, row: &str) -> Vec<String> {
    let mut found = leaks(place, row.as_bytes(), true);
    for blob in blobs(row) {
        found.extend(leaks(&format!("{place} (binary)"), &blob, false));
        if let Some(card) = CARDS.iter().find(|c| blob == c.cvc.as_bytes()) {
            found.push(format!("{place}: CVC {} as a binary value", card.cvc));
        }
    }
    found
}

#[test]
fn the_leak_detectors_find_every_shape_and_ignore_ids_times_and_floats() {
    use base64::Engine;
    let pan = "5555555555554444";
    let sealed_json = base64::engine::general_purpose::STANDARD
        .encode(format!(r#"{{"card":{{"number":"{pan}"}}}}"#));
    for hay in [
        format!("number={pan}"),
        "card 5555 5555 5555 4444".to_owned(),
        format!(r"(pm_1,\\x{})", hex(pan.as_bytes(), false)),
        format!("X'{}'", hex(pan.as_bytes(), true)),
        format!("response {sealed_json}"),
    ] {
        assert!(!leaks("t", hay.as_bytes(), true).is_empty(), "{hay}");
    }
    for hay in [
        r#"{"cvc":"947"}"#,
        "(pm_1,947,visa)",
        "'pass','947','visa'",
        "cvc=947 brand=mastercard",
        r#"Card { cvc: Some("947") }"#,
    ] {
        assert!(!leaks("t", hay.as_bytes(), true).is_empty(), "{hay}");
    }
    // Binary values: decoded, a keyed CVC or one that is the whole value.
    let cvc_json = hex(br#"{"cvc":"947"}"#, false);
    for row in [
        r"(pm_1,\\x393437,visa)".to_owned(),
        "'pass',X'393437','visa'".to_owned(),
        format!(r#"(idem,"\\x{cvc_json}",201)"#),
        format!("X'{}'", hex(b"5555 5555 5555 4444", true)),
    ] {
        assert!(!row_leaks("t", &row).is_empty(), "{row}");
    }
    assert!(row_leaks("t", r"(pm_1,\\x39343701ff,visa)").is_empty());
    // Raw SQLite pages: only a keyed CVC is recognisable.
    assert!(!leaks("t", br#"x{"cvc":"947"}x"#, false).is_empty());
    assert!(!leaks("t", b"\x01\x02cvc\x00\x03947\x00", false).is_empty());
    for hay in [
        "col_0195f0c8a3c47d1e8a8b5f3e2d1c0947",
        "col_947f0c8a3c47d1e8a8b5f3e2d1c0b9a",
        "2026-01-05T10:00:00.947Z",
        r#""latency_ms":12.947,"status":201"#,
        "created_at 1767607200947000",
        "elapsed=947µs approval A3F947",
        "flushed 9470 bytes, 1947 rows",
    ] {
        assert!(leaks("t", hay.as_bytes(), true).is_empty(), "{hay}");
    }
}

/// `inflow serve` as a child process; killed when dropped.
struct Server {
    child: Child,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Start `inflow serve` on `db` with debug logging (JSON lines) going to
/// `<dir>/server.log`, and wait until it answers.
async fn serve(db: &TestDb, master_key: &str, dir: &Path) -> (Server, String) {
    let port = free_port();
    let log = dir.join("server.log");
    let out = std::fs::File::create(&log).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_inflow"))
        .args(["--log-format", "json", "serve"])
        .current_dir(dir)
        .env("INFLOW_LISTEN", format!("127.0.0.1:{port}"))
        .env("INFLOW_DATABASE_URL", &db.url)
        .env("INFLOW_DATA_DIR", dir.join("data"))
        .env("INFLOW_MASTER_KEY", master_key)
        .env("INFLOW_SANDBOX", "true")
        .env("INFLOW_BOOTSTRAP_ADMIN_KEY", ADMIN_KEY)
        .env("INFLOW_BOOTSTRAP_ADMIN_SIGNING_SECRET", ADMIN_SECRET)
        .env("INFLOW_SCHEDULER_INTERVAL_SECS", "0")
        .env("INFLOW_WEBHOOKS__POLL_INTERVAL_MS", "100")
        .env("RUST_LOG", "debug")
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .stdin(Stdio::null())
        .spawn()
        .expect("spawn inflow serve");
    let mut server = Server { child, log };
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            panic!(
                "inflow serve exited during start-up ({status}):\n{}",
                std::fs::read_to_string(&server.log).unwrap_or_default()
            );
        }
        let up = reqwest::get(format!("{base}/healthz"))
            .await
            .is_ok_and(|r| r.status().is_success());
        if up {
            return (server, base);
        }
        assert!(Instant::now() < deadline, "inflow serve did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A POST that must be answered `status`; returns the body.
async fn answered(app: &TestApp, creds: &Creds, path: &str, body: Value, status: u16) -> Value {
    let r = app.post(creds, path, body).await;
    assert_eq!(r.status.as_u16(), status, "POST {path}: {}", r.text);
    r.json()
}

/// A POST with an `Idempotency-Key`, sent twice: the second is a replay.
async fn twice(app: &TestApp, creds: &Creds, path: &str, body: Value, key: &str) -> Value {
    let text = body.to_string();
    let mut first = Value::Null;
    for round in 0..2 {
        let r = app
            .send(
                Some(creds),
                Method::POST,
                path,
                Some(&text),
                true,
                &[("idempotency-key", key)],
            )
            .await;
        assert!(r.status.is_success(), "POST {path}: {}", r.text);
        if round == 0 {
            first = r.json();
        } else {
            assert_eq!(r.headers.get("idempotent-replayed").unwrap(), "true");
            assert_eq!(r.json(), first);
        }
    }
    first
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

fn with_cvc(mut body: Value, cvc: &str) -> Value {
    body["cvc"] = json!(cvc);
    body
}

/// Save each card with its CVC; returns the `pm_…` ids in [`CARDS`] order.
async fn save_cards(app: &TestApp, creds: &Creds) -> Vec<String> {
    let mut ids = Vec::new();
    for (i, card) in CARDS.into_iter().enumerate() {
        let body = card_body(card.typed, Some(card.cvc));
        // The timeout card's verification gets no answer: saved unchecked.
        let key = format!("pm-{i}");
        let pm = twice(app, creds, "/v1/payment-methods", body, &key).await;
        let expected_check = match card.typed {
            t if t == WRONG_CVC.typed => "fail",
            t if t == DECLINED.typed || t == TIMEOUT.typed => "unchecked",
            _ => "pass",
        };
        assert_eq!(pm["cvcCheck"], expected_check, "{pm}");
        ids.push(id(&pm));
    }
    // Refused requests that carry a card number and a code.
    let pan = digits(MASTERCARD.typed);
    for (body, param) in [
        (
            card_body(MASTERCARD.typed, Some("94")),
            "card.cvc".to_owned(),
        ),
        (
            json!({"type": "card", "card": {"number": MASTERCARD.typed, "expMonth": 12, "expYear": 2040,
                "cvv": MASTERCARD.cvc, "holderName": "Jane Doe", "billingAddress": {"postalCode": "20001"}}}),
            "card.cvv".to_owned(),
        ),
        (
            json!({"type": "card", "card": {"number": pan.parse::<u64>().unwrap(), "expMonth": 12,
                "expYear": 2040, "cvc": MASTERCARD.cvc, "holderName": "Jane Doe",
                "billingAddress": {"postalCode": "20001"}}}),
            "card.number".to_owned(),
        ),
    ] {
        let r = app.post(creds, "/v1/payment-methods", body).await;
        assert_eq!(
            (r.status, r.error_param()),
            (StatusCode::BAD_REQUEST, Some(param)),
            "{}",
            r.text
        );
        // The error names the field, never repeats the number.
        assert!(!r.text.contains(&pan), "{}", r.text);
    }
    ids
}

/// Sales, authorizations, captures, refunds, voids, declines and a timeout.
async fn run_card_operations(app: &TestApp, creds: &Creds, account: &str, pms: &[String]) {
    let [mc, amex, declined, wrong_cvc, discover, timeout] = pms else {
        panic!("six cards")
    };
    let card = "/v1/collections/card";
    let sale = twice(
        app,
        creds,
        card,
        with_cvc(charge(account, mc, "sale", "1500"), MASTERCARD.cvc),
        "sale-mc",
    )
    .await;
    assert_eq!(sale["status"], "captured");
    let refunds = format!("/v1/collections/{}/refunds", id(&sale));
    let part = json!({"amount": {"currency": "USD", "value": "500"}, "reason": "damaged"});
    twice(app, creds, &refunds, part, "refund-mc").await;
    let rest = answered(app, creds, &refunds, json!({}), 201).await;
    assert_eq!(rest["collection"]["status"], "refunded");

    let auth = answered(
        app,
        creds,
        card,
        with_cvc(charge(account, amex, "authorization", "5000"), AMEX.cvc),
        201,
    )
    .await;
    assert_eq!(auth["status"], "authorized");
    let capture = json!({"amount": {"currency": "USD", "value": "4000"}});
    let path = format!("/v1/collections/{}/capture", id(&auth));
    twice(app, creds, &path, capture, "capture-amex").await;
    let path = format!("/v1/collections/{}/void", id(&auth));
    let voided = answered(app, creds, &path, json!({"reason": "cancelled"}), 200).await;
    assert_eq!(voided["status"], "voided");
    let auth = answered(
        app,
        creds,
        card,
        with_cvc(charge(account, amex, "authorization", "700"), AMEX.cvc),
        201,
    )
    .await;
    let path = format!("/v1/collections/{}/void", id(&auth));
    answered(app, creds, &path, json!({}), 200).await;

    for (pm, cvc, kind, code) in [
        (declined, DECLINED.cvc, "sale", "generic_decline"),
        (declined, DECLINED.cvc, "authorization", "generic_decline"),
        (wrong_cvc, WRONG_CVC.cvc, "sale", "incorrect_cvc"),
    ] {
        let c = answered(
            app,
            creds,
            card,
            with_cvc(charge(account, pm, kind, "2500"), cvc),
            201,
        )
        .await;
        assert_eq!(
            (c["status"].as_str(), c["processor"]["declineCode"].as_str()),
            (Some("declined"), Some(code))
        );
    }

    let mut force = charge(account, discover, "force", "1234");
    force["approvalCode"] = json!("VOICE9");
    answered(app, creds, card, force, 201).await;
    let sale = answered(
        app,
        creds,
        card,
        with_cvc(charge(account, discover, "sale", "2200"), DISCOVER.cvc),
        201,
    )
    .await;
    let path = format!("/v1/collections/{}/refunds", id(&sale));
    answered(app, creds, &path, json!({}), 201).await;

    let r = app
        .post(
            creds,
            card,
            with_cvc(charge(account, timeout, "sale", "2500"), TIMEOUT.cvc),
        )
        .await;
    // The answer is lost: accepted, pending, resolved later without the CVC.
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    // Reading the cards back (list filters, one by one) must not leak either.
    let list = app.get(creds, "/v1/collections?last4=4444").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    for pm in pms {
        let r = app.get(creds, &format!("/v1/payment-methods/{pm}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
}

/// Every page of `/v1/events` as `creds` sees them.
async fn all_events(app: &TestApp, creds: &Creds) -> Vec<Value> {
    let mut events = Vec::new();
    let mut cursor = String::new();
    loop {
        let mut path = "/v1/events?limit=7".to_owned();
        if !cursor.is_empty() {
            path = format!("{path}&startingAfter={cursor}");
        }
        let page = app.get(creds, &path).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        let page = page.json();
        events.extend(page["data"].as_array().unwrap().iter().cloned());
        match page["nextCursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => return events,
        }
    }
}

/// A connection of the test's own to the test database.
enum Db {
    Pg(PgConnection),
    Lite(SqliteConnection),
}

macro_rules! on_conn {
    ($db:expr, $c:ident => $e:expr) => {
        match $db {
            Db::Pg($c) => $e,
            Db::Lite($c) => $e,
        }
    };
}

impl Db {
    async fn open(url: &str) -> Db {
        if url.starts_with("sqlite") {
            Db::Lite(SqliteConnection::connect(url).await.unwrap())
        } else {
            Db::Pg(PgConnection::connect(url).await.unwrap())
        }
    }

    /// `(table, row as text)` for every row of every table.
    async fn every_row(&mut self) -> Vec<(String, String)> {
        let mut rows = Vec::new();
        match self {
            Db::Pg(c) => {
                let tables: Vec<String> = sqlx::query_scalar(
                    "SELECT format('%I.%I', table_schema, table_name) FROM information_schema.tables \
                     WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')",
                )
                .fetch_all(&mut *c)
                .await
                .unwrap();
                for t in tables {
                    let sql = format!("SELECT t::text FROM {t} t");
                    let texts: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                        .fetch_all(&mut *c)
                        .await
                        .unwrap();
                    rows.extend(texts.into_iter().map(|r| (t.clone(), r)));
                }
            }
            Db::Lite(c) => {
                let tables: Vec<String> =
                    sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
                        .fetch_all(&mut *c)
                        .await
                        .unwrap();
                for t in tables {
                    let columns: Vec<String> =
                        sqlx::query_scalar("SELECT name FROM pragma_table_info($1)")
                            .bind(&t)
                            .fetch_all(&mut *c)
                            .await
                            .unwrap();
                    let row = columns
                        .iter()
                        .map(|col| format!("quote(\"{col}\")"))
                        .collect::<Vec<_>>()
                        .join(" || ',' || ");
                    let sql = format!("SELECT {row} FROM \"{t}\"");
                    let texts: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                        .fetch_all(&mut *c)
                        .await
                        .unwrap();
                    rows.extend(texts.into_iter().map(|r| (t.clone(), r)));
                }
            }
        }
        assert!(rows.len() > 50, "suspiciously few rows: {}", rows.len());
        rows
    }

    async fn sealed_numbers(&mut self) -> Vec<(String, Vec<u8>)> {
        on_conn!(self, c => sqlx::query_as("SELECT id, number_sealed FROM card_payment_methods")
            .fetch_all(c)
            .await
            .unwrap())
    }

    async fn idempotency_records(&mut self) -> Vec<(String, String, String)> {
        on_conn!(self, c => sqlx::query_as("SELECT scope, idem_key, response_body FROM idempotency_keys")
            .fetch_all(c)
            .await
            .unwrap())
    }
}

/// Stored card numbers open to the PANs; stored idempotent responses are
/// base64 of AES-GCM sealed with the master key (not JSON, not readable),
/// and open to responses that hold no card data either.
async fn assert_sealed(db: &mut Db, master_key: &str) -> Vec<String> {
    use base64::Engine;
    let vault = Vault::new(&MasterKey::from_base64(master_key).unwrap());
    let pans: HashSet<String> = CARDS.iter().map(|c| digits(c.typed)).collect();
    let sealed = db.sealed_numbers().await;
    assert_eq!(sealed.len(), CARDS.len());
    let mut found = Vec::new();
    for (pm, number) in sealed {
        let opened = vault.open(&number, &pm).unwrap_or_default();
        if !pans.contains(&String::from_utf8_lossy(&opened).into_owned()) {
            found.push(format!("{pm}: the stored card number is not sealed"));
        }
    }
    let records = db.idempotency_records().await;
    let keys: HashSet<&str> = records.iter().map(|(_, k, _)| k.as_str()).collect();
    for key in ["sale-mc", "refund-mc", "capture-amex", "pm-0"] {
        assert!(keys.contains(key), "no idempotency record for {key}");
    }
    for (scope, key, body) in &records {
        assert!(
            !body.trim_start().starts_with('{'),
            "{key}: stored in clear"
        );
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(body)
            .expect("base64");
        assert!(serde_json::from_slice::<Value>(&bytes).is_err(), "{key}");
        let opened = vault
            .open(&bytes, &format!("idem:{scope}:{key}"))
            .unwrap_or_else(|_| panic!("{key}: not sealed with the master key"));
        let response: Value = serde_json::from_slice(&opened).expect("a JSON response");
        assert!(response["id"].is_string(), "{key}: {response}");
        found.extend(leaks(&format!("idempotent response {key}"), &opened, true));
    }
    found
}

/// The raw bytes of the SQLite database file, its `-wal` and `-shm`.
fn sqlite_files(url: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let path = url
        .trim_start_matches("sqlite://")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let files: Vec<_> = ["", "-wal", "-shm"]
        .iter()
        .map(|suffix| PathBuf::from(format!("{path}{suffix}")))
        .filter(|p| p.exists())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    let wal = files
        .iter()
        .find(|(p, _)| p.to_string_lossy().ends_with("-wal"));
    assert!(
        wal.is_some_and(|(_, b)| !b.is_empty()),
        "the server has a write-ahead log while it runs"
    );
    files
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

async fn no_pan_or_cvc_in_the_database_the_logs_events_or_webhooks(b: Backend) {
    let db = TestDb::new(b).await;
    let dir = std::env::temp_dir().join(format!("inflow-leak-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let master_key = MasterKey::generate().to_base64();
    let (server, base) = serve(&db, &master_key, &dir).await;
    let app = TestApp::attach(base, db, master_key.clone(), dir.clone());

    let (_, creds) = app.customer_with_key("Card shop", json!({})).await;
    let before_endpoint: HashSet<String> = all_events(&app, &creds).await.iter().map(id).collect();
    let receiver = Receiver::start().await;
    answered(
        &app,
        &creds,
        "/v1/webhook-endpoints",
        json!({"url": receiver.url, "enabledEvents": "*"}),
        201,
    )
    .await;
    let account = id(&answered(&app, &creds, "/v1/accounts", json!({"name": "Main"}), 201).await);
    let pms = save_cards(&app, &creds).await;
    run_card_operations(&app, &creds, &account, &pms).await;

    // (c) Events, every page, and every webhook delivered for them.
    let events = all_events(&app, &admin()).await;
    let mine: HashSet<String> = all_events(&app, &creds)
        .await
        .iter()
        .map(id)
        .filter(|e| !before_endpoint.contains(e))
        .collect();
    assert!(mine.len() > 10, "{} events", mine.len());
    let types: HashSet<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    for t in [
        "collection.captured",
        "collection.refunded",
        "collection.voided",
        "collection.declined",
    ] {
        assert!(types.contains(t), "no {t} event among {types:?}");
    }
    receiver
        .wait_for(60, "every event delivered", |log| {
            let got: HashSet<&str> = log
                .iter()
                .filter(|r| r.acknowledged())
                .map(|r| r.event_id.as_str())
                .collect();
            mine.iter().all(|e| got.contains(e.as_str()))
        })
        .await;
    let mut found = Vec::new();
    for e in &events {
        found.extend(leaks(
            &format!("event {}", id(e)),
            e.to_string().as_bytes(),
            true,
        ));
    }
    for r in receiver.log() {
        found.extend(leaks(&format!("webhook {}", r.event_id), &r.body, true));
    }

    // (a) The database, while the server runs (so the WAL is there).
    if b == Backend::Sqlite {
        for (path, bytes) in sqlite_files(&app.db.url) {
            found.extend(leaks(&path.display().to_string(), &bytes, false));
        }
    }
    let mut conn = Db::open(&app.db.url).await;
    for (table, row) in conn.every_row().await {
        found.extend(row_leaks(&format!("table {table}"), &row));
    }
    found.extend(assert_sealed(&mut conn, &master_key).await);
    drop(conn);
    for file in files_under(&dir.join("data")) {
        let bytes = std::fs::read(&file).unwrap_or_default();
        found.extend(leaks(&file.display().to_string(), &bytes, true));
    }

    // (b) Everything the server logged.
    let log_path = server.log.clone();
    drop(server);
    let logs = std::fs::read(&log_path).unwrap();
    let text = String::from_utf8_lossy(&logs);
    assert!(text.contains(r#""level":"DEBUG""#), "debug logging is on");
    for route in ["/v1/payment-methods", "/v1/collections/card"] {
        assert!(
            text.lines()
                .any(|l| l.contains(&format!(r#""route":"{route}""#))
                    && l.contains(r#""status":201"#)),
            "no log line for {route}"
        );
    }
    assert!(
        text.contains(r#""status":202"#),
        "the lost processor answer is logged"
    );
    found.extend(leaks("server log", &logs, true));

    assert!(found.is_empty(), "card data leaked:\n{}", found.join("\n"));
    drop(app);
    let _ = std::fs::remove_dir_all(&dir);
}
