//! Request bodies: what a client sends to the main operations.

use serde_json::{json, Value};

use super::ids;
use super::FUTURE_EFFECTIVE_DATE;

/// `POST /v1/customers` (operator): a business that collects by ACH and card.
pub fn create_customer() -> Value {
    json!({
        "name": "Acme Utilities",
        "kind": "business",
        "email": "billing@acme-utilities.example",
        "achCompanyName": "ACME UTILITIES",
        "achCompanyId": "1234567890",
        "metadata": {"crmId": "A-1042"}
    })
}

/// `POST /v1/payment-methods`: a payer's checking account.
pub fn create_bank_payment_method() -> Value {
    json!({
        "type": "us_bank_account",
        "usBankAccount": {
            "routingNumber": "121042882",
            "accountNumber": "000123456789",
            "accountType": "checking",
            "holderName": "Jane Doe",
            "holderType": "individual"
        },
        "externalId": "payer-7781-checking",
        "metadata": {"payerId": "7781"}
    })
}

/// `POST /v1/payment-methods`: a card, its security code checked once.
pub fn create_card_payment_method() -> Value {
    json!({
        "type": "card",
        "card": {
            "number": "4242424242424242",
            "expMonth": 12,
            "expYear": 2030,
            "cvc": "123",
            "holderName": "Jane Doe",
            "billingAddress": {"line1": "1 Main St", "city": "Washington", "state": "DC", "postalCode": "20001", "country": "US"}
        },
        "externalId": "payer-7781-visa",
        "metadata": {"payerId": "7781"}
    })
}

/// `POST /v1/collections/ach`: a one-off WEB debit, authorised online.
pub fn ach_debit() -> Value {
    json!({
        "destinationAccountId": ids::ACCOUNT,
        "paymentMethodId": ids::BANK_PAYMENT_METHOD,
        "amount": {"currency": "USD", "value": "12500"},
        "secCode": "WEB",
        "authorization": {"type": "online", "obtainedAt": "2026-12-01T15:04:05Z", "ipAddress": "203.0.113.7"},
        "reference": "Invoice 2026-1187",
        "externalId": "inv-2026-1187",
        "metadata": {"invoiceId": "2026-1187"}
    })
}

/// `POST /v1/collections/ach`: a same-day debit (the next same-day window).
pub fn ach_same_day_debit() -> Value {
    json!({
        "destinationAccountId": ids::ACCOUNT,
        "paymentMethodId": ids::BANK_PAYMENT_METHOD,
        "amount": {"currency": "USD", "value": "4999"},
        "secCode": "WEB",
        "processingMode": "same_day",
        "authorization": {"type": "online", "obtainedAt": "2026-12-01T15:04:05Z", "ipAddress": "203.0.113.7"},
        "reference": "Late fee 2026-1187"
    })
}

/// `POST /v1/collections/ach`: a debit on a future banking day, held until
/// the banking day before; a phone authorisation.
pub fn ach_future_dated_debit() -> Value {
    json!({
        "destinationAccountId": ids::ACCOUNT,
        "paymentMethodId": ids::BANK_PAYMENT_METHOD,
        "amount": {"currency": "USD", "value": "30000"},
        "secCode": "TEL",
        "effectiveDate": FUTURE_EFFECTIVE_DATE,
        "authorization": {"type": "phone", "obtainedAt": "2026-12-01T15:04:05Z", "evidenceRef": "call-rec-55120"},
        "companyEntryDescription": "RENT",
        "reference": "Rent March 2027"
    })
}

/// `POST /v1/collections/card`: a sale (authorised and captured at once).
pub fn card_sale() -> Value {
    json!({
        "type": "sale",
        "destinationAccountId": ids::ACCOUNT,
        "paymentMethodId": ids::CARD_PAYMENT_METHOD,
        "amount": {"currency": "USD", "value": "8900"},
        "reference": "Order 5521",
        "externalId": "order-5521",
        "metadata": {"orderId": "5521"}
    })
}

/// `POST /v1/collections/{id}/refunds`: part of a card sale.
pub fn refund() -> Value {
    json!({
        "amount": {"currency": "USD", "value": "2500"},
        "reason": "One item returned",
        "metadata": {"rma": "RMA-301"}
    })
}

/// `POST /v1/collections/{id}/cancel`: an ACH debit not in a file yet.
pub fn cancel() -> Value {
    json!({"reason": "The payer paid by check"})
}

/// `POST /v1/webhook-endpoints`: collection and refund events.
pub fn create_webhook_endpoint() -> Value {
    json!({
        "url": "https://acme-utilities.example/inflow/webhooks",
        "enabledEvents": ["collection.*", "refund.*"],
        "description": "Billing system",
        "metadata": {"env": "production"}
    })
}
