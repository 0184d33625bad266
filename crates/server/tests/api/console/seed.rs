//! Demo data for the console tests, made through the API as a customer
//! would: a customer with a destination account, saved bank accounts (one
//! the sandbox bank returns R01 for) and a card, a webhook endpoint that
//! refuses one kind of event, a cutoff already run (so traces exist), and two pending
//! debits left for the console to act on.

use inflow_core::calendar::{local_date, BankingCalendar};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::ach::*;
use crate::support::card::*;
use crate::support::receiver::{Answer, Receiver};
use crate::support::*;

/// Full account numbers and the card number: no console page may show them.
pub const PLAIN_ACCOUNT: &str = "000123456789";
pub const RETURNED_ACCOUNT: &str = "9999000101";
pub const CARD_NUMBER: &str = "4242424242424242";

pub struct Demo {
    pub customer: String,
    pub creds: Creds,
    /// Filed by the seed's cutoff; its trace number.
    pub filed: String,
    pub filed_trace: String,
    /// Filed too, to an account the sandbox bank returns (R01).
    pub to_return: String,
    /// Pending: the one to cancel and one for the console's cutoff.
    pub to_cancel: String,
    pub pending: String,
    pub card_collection: String,
    /// Answers `collection.cancelled` with 500, everything else with 200.
    pub receiver: Receiver,
}

async fn debit(app: &TestApp, creds: &Creds, dest: &str, pm: &str, cents: &str) -> Value {
    collect(app, creds, dest, pm, cents, json!({"allowDuplicate": true})).await
}

/// Seed `app` (its clock is moved to 11:00 US/Eastern of the next banking day).
pub async fn seed(app: &TestApp) -> Demo {
    let today = local_date(sandbox_now(app).await);
    let day = BankingCalendar::federal_reserve().next_banking_day(today);
    advance_to_eastern(app, day, 11, 0).await;
    let (customer, creds) = app.customer_with_key("Acme Utilities", json!({})).await;
    let dest = destination(app, &creds).await;
    let plain = make_pm(app, &creds, PLAIN_ACCOUNT).await;
    let returned = make_pm(app, &creds, RETURNED_ACCOUNT).await;

    let receiver = Receiver::start().await;
    // Failing for one kind of event: its deliveries retry (and can be
    // redelivered) without the endpoint being disabled.
    receiver.respond(|r| {
        if r.event_type == "collection.cancelled" {
            Answer::status(500)
        } else {
            Answer::ok()
        }
    });
    let r = app
        .post(
            &creds,
            "/v1/webhook-endpoints",
            json!({"url": receiver.url, "enabledEvents": "*"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    let filed = debit(app, &creds, &dest, &plain, "125000").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let to_return = debit(app, &creds, &dest, &returned, "4250").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app.post(&admin(), "/v1/ach/cutoffs", json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let filed_trace = collection(app, &creds, &filed).await["traceNumber"]
        .as_str()
        .expect("the filed collection has a trace number")
        .to_owned();

    let to_cancel = debit(app, &creds, &dest, &plain, "9900").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let pending = debit(app, &creds, &dest, &plain, "31415").await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let card = save_card(app, &creds, CARD_NUMBER).await;
    let card_collection =
        create_card_collection(app, &creds, &dest, &card, "sale", "2500", json!({})).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
    Demo {
        customer,
        creds,
        filed,
        filed_trace,
        to_return,
        to_cancel,
        pending,
        card_collection,
        receiver,
    }
}
