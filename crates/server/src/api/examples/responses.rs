//! Response bodies: what the server answers the main operations, for the
//! requests of `requests.rs` (same ids, amounts and references). Fees are
//! those of a fee schedule of 0.25 USD per ACH debit and 2.9 % + 0.30 USD
//! per card capture.

use serde_json::{json, Value};

use super::ids;

const CREATED: &str = "2026-12-07T15:30:12.345Z";
const LATER: &str = "2026-12-07T15:42:03.120Z";

/// An amount as the API shows it.
fn money(cents: i64) -> Value {
    json!({
        "currency": "USD",
        "value": cents.to_string(),
        "exponent": 2,
        "displayValue": format!("{}.{:02}", cents / 100, cents % 100)
    })
}

fn fees(fixed: i64, percentage: i64) -> Value {
    json!({
        "fixed": money(fixed),
        "sameDay": money(0),
        "percentage": money(percentage),
        "total": money(fixed + percentage),
        "returnFee": money(0)
    })
}

/// `POST /v1/customers`.
pub fn customer() -> Value {
    json!({
        "id": ids::CUSTOMER,
        "object": "customer",
        "name": "Acme Utilities",
        "kind": "business",
        "email": "billing@acme-utilities.example",
        "status": "active",
        "allowOneTimeSource": false,
        "requireSignedRequests": false,
        "achCompanyName": "ACME UTILITIES",
        "achCompanyId": "1234567890",
        "allowedCompanyNames": [],
        "requirePrenote": false,
        "webRequiresValidatedAccount": false,
        "defaultAuthorization": null,
        "cardDailyLimit": money(2_499_999),
        "achLimits": {"perEntryMax": null, "dailyDebitMax": null, "monthlyDebitMax": null},
        "canManageApiKeys": false,
        "odfiId": null,
        "metadata": {"crmId": "A-1042"},
        "createdAt": CREATED,
        "updatedAt": CREATED
    })
}

fn bank_account() -> Value {
    json!({
        "routingNumber": "121042882",
        "last4": "6789",
        "accountNumberMasked": "****6789",
        "accountType": "checking",
        "holderName": "Jane Doe",
        "holderType": "individual",
        "fingerprint": "0d830a145a26fab3cfd954e234114ca7"
    })
}

fn card() -> Value {
    json!({
        "brand": "visa",
        "last4": "4242",
        "expMonth": 12,
        "expYear": 2030,
        "holderName": "Jane Doe",
        "fingerprint": "5ef9124f9b9359c1097765204c6f0bc4"
    })
}

/// `POST /v1/payment-methods`, a bank account (the account number masked).
pub fn bank_payment_method() -> Value {
    json!({
        "id": ids::BANK_PAYMENT_METHOD,
        "object": "payment_method",
        "type": "us_bank_account",
        "customerId": ids::CUSTOMER,
        "counterpartyId": null,
        "status": "active",
        "statusReason": null,
        "externalId": "payer-7781-checking",
        "usBankAccount": bank_account(),
        "validation": {"status": "unvalidated", "method": null, "prenoteId": null, "validatedAt": null},
        "metadata": {"payerId": "7781"},
        "createdAt": CREATED,
        "updatedAt": CREATED
    })
}

/// `POST /v1/payment-methods`, a card (never its number or security code).
pub fn card_payment_method() -> Value {
    json!({
        "id": ids::CARD_PAYMENT_METHOD,
        "object": "payment_method",
        "type": "card",
        "customerId": ids::CUSTOMER,
        "counterpartyId": null,
        "status": "active",
        "externalId": "payer-7781-visa",
        "card": card(),
        "billingAddress": {
            "line1": "1 Main St", "line2": null, "city": "Washington", "state": "DC",
            "postalCode": "20001", "country": "US"
        },
        "cvcCheck": "pass",
        "metadata": {"payerId": "7781"},
        "createdAt": CREATED,
        "updatedAt": CREATED
    })
}

/// The one-off debit with `history` as its status history (the last is its status).
fn ach_debit_view(history: &[(&str, Option<&str>, &str)]) -> Value {
    let (status, reason, updated) = *history.last().expect("a status");
    let history: Vec<Value> = history
        .iter()
        .map(|(status, reason, at)| json!({"status": status, "reason": reason, "at": at}))
        .collect();
    let mut view = json!({
        "id": ids::ACH_COLLECTION,
        "object": "collection",
        "customerId": ids::CUSTOMER,
        "rail": "ach",
        "type": "debit",
        "direction": "inbound",
        "amount": money(12_500),
        "fees": fees(25, 0),
        "totalCreditAmount": money(12_475),
        "status": status,
        "statusReason": reason,
        "holdCode": null,
        "statusHistory": history,
        "cancellable": status == "pending",
        "destinationAccountId": ids::ACCOUNT,
        "paymentMethodId": ids::BANK_PAYMENT_METHOD,
        "counterpartyId": null,
        "source": bank_account(),
        "secCode": "WEB",
        "processingMode": "standard",
        "paymentType": "single",
        "effectiveDate": "2026-12-08",
        "authorization": {
            "type": "online", "obtainedAt": "2026-12-01T15:04:05.000Z",
            "ipAddress": "203.0.113.7", "evidenceRef": null
        },
    });
    extend(
        &mut view,
        json!({
            "companyName": "ACME UTILITIES",
            "companyEntryDescription": "PAYMENT",
            "addenda": null,
            "reference": "Invoice 2026-1187",
            "purpose": null,
            "externalId": "inv-2026-1187",
            "metadata": {"invoiceId": "2026-1187"},
            "traceNumber": null,
            "fileId": null,
            "achReturnCode": null,
            "achReturnDescription": null,
            "noc": null,
            "scheduleId": null,
            "occurrence": null,
            "retry": null,
            "retryOf": null,
            "createdAt": CREATED,
            "updatedAt": updated,
            "submittedAt": null,
            "completedAt": null,
            "returnedAt": null
        }),
    );
    view
}

/// `view` with the fields of `more` added (one `json!` per half keeps the
/// macro within the compiler's recursion limit).
fn extend(view: &mut Value, more: Value) {
    if let (Some(view), Value::Object(more)) = (view.as_object_mut(), more) {
        view.extend(more);
    }
}

/// `POST /v1/collections/ach` and `GET /v1/collections/{id}`: the one-off
/// debit, pending until the next cutoff puts it in a file.
pub fn ach_collection() -> Value {
    ach_debit_view(&[("pending", None, CREATED)])
}

/// `POST /v1/collections/{id}/cancel`: the debit, cancelled.
pub fn cancelled_ach_collection() -> Value {
    ach_debit_view(&[
        ("pending", None, CREATED),
        ("cancelled", Some("The payer paid by check"), LATER),
    ])
}

/// The card sale after `refunded` cents were refunded (at `LATER`).
fn card_sale_view(refunded: i64) -> Value {
    let (fixed, percentage) = (30, 258);
    let mut history = vec![
        json!({"status": "pending", "reason": "sale sent to the processor", "at": CREATED}),
        json!({"status": "authorized", "reason": "approved", "at": CREATED}),
        json!({"status": "captured", "reason": "sale captured", "at": CREATED}),
    ];
    let (status, reason, updated) = if refunded == 0 {
        ("captured", "sale captured".to_owned(), CREATED)
    } else {
        let reason = format!("{refunded} refunded ({refunded} of 8900 in total)");
        history.push(json!({"status": "partially_refunded", "reason": reason, "at": LATER}));
        ("partially_refunded", reason, LATER)
    };
    let mut view = json!({
        "id": ids::CARD_COLLECTION,
        "object": "collection",
        "customerId": ids::CUSTOMER,
        "rail": "card",
        "type": "sale",
        "direction": "inbound",
        "amount": money(8_900),
        "authorizedAmount": money(8_900),
        "capturedAmount": money(8_900),
        "refundedAmount": money(refunded),
        "fees": fees(fixed, percentage),
        "totalCreditAmount": money(8_900 - fixed - percentage - refunded),
        "status": status,
        "statusReason": reason,
        "statusHistory": history,
        "capturable": false,
        "voidable": refunded == 0,
        "refundable": true,
    });
    extend(
        &mut view,
        json!({
            "destinationAccountId": ids::ACCOUNT,
            "paymentMethodId": ids::CARD_PAYMENT_METHOD,
            "card": card(),
            "processor": {
                "approvalCode": "34DF5E",
                "reference": format!("sbx_{}", ids::CARD_COLLECTION),
                "declineCode": null,
                "declineMessage": null,
                "cvcResult": "unchecked"
            },
            "externalId": "order-5521",
            "reference": "Order 5521",
            "metadata": {"orderId": "5521"},
            "createdAt": CREATED,
            "updatedAt": updated,
            "authorizedAt": CREATED,
            "capturedAt": CREATED,
            "voidedAt": null,
            "completedAt": null,
            "expiresAt": null,
            "settled": false,
            "batchId": null,
            "pendingOperation": null
        }),
    );
    view
}

/// `POST /v1/collections/card` and `GET /v1/collections/{id}`: the sale, captured.
pub fn card_collection() -> Value {
    card_sale_view(0)
}

/// `POST /v1/collections/{id}/refunds`: the refund, with the sale after it.
pub fn refund_view() -> Value {
    json!({
        "id": ids::REFUND,
        "object": "refund",
        "rail": "card",
        "customerId": ids::CUSTOMER,
        "collectionId": ids::CARD_COLLECTION,
        "amount": money(2_500),
        "reason": "One item returned",
        "status": "succeeded",
        "failureReason": null,
        "processorReference": format!("sbx_{}", ids::REFUND),
        "ach": null,
        "metadata": {"rma": "RMA-301"},
        "createdAt": LATER,
        "collection": card_sale_view(2_500)
    })
}

/// `POST /v1/webhook-endpoints`: the endpoint and its signing secret, shown once.
pub fn webhook_endpoint() -> Value {
    json!({
        "id": ids::WEBHOOK_ENDPOINT,
        "object": "webhook_endpoint",
        "customerId": ids::CUSTOMER,
        "url": "https://acme-utilities.example/inflow/webhooks",
        "enabledEvents": ["collection.*", "refund.*"],
        "description": "Billing system",
        "status": "enabled",
        "disabledReason": null,
        "disabledAt": null,
        "consecutiveFailures": 0,
        "previousSecretExpiresAt": null,
        "metadata": {"env": "production"},
        "createdAt": CREATED,
        "updatedAt": CREATED,
        "secret": "whsec_gR2cH2E27M1DFhTS9C43p9JPApgaDCAXbeQiJTysEPR"
    })
}
