//! Saving a card: `POST /v1/payment-methods` with `type: "card"`.
//!
//! The number is validated (Luhn, brand, length) and sealed before it
//! reaches the store; the security code, when given, goes to the processor
//! once as a zero-amount verification and is then dropped. A saved card can
//! later be deactivated (or reactivated) and relabelled with
//! `PATCH /v1/payment-methods/{id}` ([`update`]).

use axum::http::StatusCode;
use axum::response::Response;
use chrono::Datelike;
use chrono::{DateTime, Utc};
use inflow_core::card::{BillingAddress, CardNumber, CardPaymentMethod, Cvc, Expiry};
use inflow_core::ids::{CounterpartyId, CustomerId, PaymentMethodId};
use inflow_core::model::{validate_external_id, validate_metadata, Metadata, PaymentMethodStatus};
use inflow_core::text::bounded_text;
use inflow_engine::cards::processor::CardData;
use inflow_engine::cards::{CardError, ProcessorError};
use inflow_engine::view::card_payment_method_view;
use inflow_store::Tx;

use super::input::CardInput;
use crate::api::common::{external_id_conflict, to_json};
use crate::api::payment_methods::UpdatePaymentMethodRequest;
use crate::error::{ApiError, ApiResult};
use crate::http::auth::Auth;
use crate::http::idempotency::{run_write, WriteRequest};
use crate::state::AppState;
use inflow_store::StoreError;

/// What a saved card shares with a saved bank account.
pub struct Common {
    pub counterparty_id: Option<String>,
    pub external_id: Option<String>,
    pub metadata: Metadata,
}

/// Validate and save a card.
pub async fn create(
    state: &AppState,
    auth: &Auth,
    req: &WriteRequest,
    customer_id: CustomerId,
    card: CardInput,
    common: Common,
) -> ApiResult<Response> {
    let Common {
        counterparty_id,
        external_id,
        metadata,
    } = common;
    inflow_engine::cards::capability::require_enabled(&state.card_processor.capabilities())?;
    let now = state.clock.now();
    let number = CardNumber::parse("card.number", &card.number)?;
    let expiry = Expiry::parse(card.exp_month, card.exp_year, now.date_naive()).map_err(|e| {
        let f = format!("card.{}", e.field);
        e.at(f)
    })?;
    let cvc = card
        .cvc
        .as_deref()
        .map(|c| Cvc::parse("card.cvc", c, number.brand()))
        .transpose()?;
    let holder_name = bounded_text("card.holderName", &card.holder_name, 1, 100)?;
    let billing = checked_billing_address("card.billingAddress", card.billing_address)?;
    let counterparty_id = counterparty_id
        .as_deref()
        .map(|c| CounterpartyId::parse("counterpartyId", c))
        .transpose()?;
    let external_id = external_id
        .as_deref()
        .map(|e| validate_external_id("externalId", e))
        .transpose()?;
    validate_metadata("metadata", &metadata)?;
    debug_assert!(expiry.year >= now.year());

    let id = PaymentMethodId::generate(now);
    let mut pm = CardPaymentMethod {
        number_sealed: state.vault.seal(number.expose().as_bytes(), id.as_str()),
        fingerprint: state.vault.fingerprint(&["card", number.expose()]),
        brand: number.brand(),
        last4: number.last4(),
        id,
        customer_id,
        counterparty_id,
        status: PaymentMethodStatus::Active,
        external_id,
        exp_month: expiry.month,
        exp_year: expiry.year,
        holder_name,
        billing_address: billing,
        cvc_check: "unchecked".into(),
        metadata,
        created_at: now,
        updated_at: now,
    };
    // The zero-amount verification moves no money, so it runs before (and
    // outside) the transaction that saves the card.
    if let Some(cvc) = &cvc {
        let answer = state
            .card_processor
            .verify(
                pm.id.as_str(),
                CardData {
                    payment_method_id: pm.id.as_str(),
                    number: &number,
                    exp_month: pm.exp_month,
                    exp_year: pm.exp_year,
                    cvc: Some(cvc),
                    postal_code: &pm.billing_address.postal_code,
                },
            )
            .await;
        pm.cvc_check = match answer {
            Ok(result) => result,
            // No answer: the card is saved unverified rather than refused.
            Err(ProcessorError::Unavailable(e)) => {
                tracing::warn!(payment_method = %pm.id, error = %e, "card verification got no answer; saved unchecked");
                "unchecked".into()
            }
            Err(e) => return Err(CardError::from(e).into()),
        };
    }
    drop(cvc);
    run_write(state, auth, req, move |tx| {
        Box::pin(async move {
            if let Some(cpt) = &pm.counterparty_id {
                tx.get_counterparty(&pm.customer_id, cpt)
                    .await
                    .map_err(|e| match e {
                        StoreError::NotFound => {
                            ApiError::not_found("counterparty").with_param("counterpartyId")
                        }
                        other => other.into(),
                    })?;
            }
            tx.insert_card_payment_method(&pm)
                .await
                .map_err(external_id_conflict("payment method"))?;
            Ok((
                StatusCode::CREATED,
                to_json(&card_payment_method_view(&pm))?,
            ))
        })
    })
    .await
}

/// The billing address as a card keeps it (`field` names it in errors):
/// the postal code (checked by AVS) is 3 to 10 characters.
fn checked_billing_address(field: &str, mut billing: BillingAddress) -> ApiResult<BillingAddress> {
    billing.postal_code =
        bounded_text(&format!("{field}.postalCode"), &billing.postal_code, 3, 10)?;
    Ok(billing)
}

/// `PATCH /v1/payment-methods/{id}` on a saved card: `status` (`active` or
/// `inactive`; blocking and unblocking is an operator action), `holderName`,
/// `billingAddress` (replaced whole), `externalId`, `metadata`. An inactive
/// card cannot be charged (`409 payment_method_not_active`). Bank-only
/// fields (`statusReason`, `validated`) are refused naming the field.
pub async fn update(
    tx: &mut Tx,
    customer_id: &CustomerId,
    id: &PaymentMethodId,
    body: UpdatePaymentMethodRequest,
    is_admin: bool,
    audit: &inflow_engine::audit::AuditContext,
    now: DateTime<Utc>,
) -> ApiResult<(StatusCode, serde_json::Value)> {
    let mut pm = tx
        .get_card_payment_method(customer_id, id)
        .await
        .map_err(ApiError::not_found_if_missing("payment method"))?;
    let before = card_payment_method_view(&pm);
    let bank_only = |field: &str, what: &str| {
        ApiError::invalid(
            "unexpected_field",
            format!("{field} applies to bank account payment methods; {what}"),
            field,
        )
    };
    if body.status_reason.is_some() {
        return Err(bank_only("statusReason", "a card keeps only its status"));
    }
    if body.validated.is_some() {
        return Err(bank_only("validated", "cards are not validated by prenote"));
    }
    if let Some(status) = body.status {
        let touches_block =
            status == PaymentMethodStatus::Blocked || pm.status == PaymentMethodStatus::Blocked;
        if touches_block && status != pm.status && !is_admin {
            return Err(ApiError::forbidden(
                "admin_key_required",
                "blocking and unblocking payment methods is an operator action",
            ));
        }
        pm.status = status;
    }
    if let Some(name) = body.holder_name {
        pm.holder_name = bounded_text("holderName", &name, 1, 100)?;
    }
    if let Some(billing) = body.billing_address {
        pm.billing_address = checked_billing_address("billingAddress", billing)?;
    }
    if let Some(ext) = body.external_id {
        pm.external_id = Some(validate_external_id("externalId", &ext)?);
    }
    if let Some(m) = body.metadata {
        validate_metadata("metadata", &m)?;
        pm.metadata = m;
    }
    pm.updated_at = now;
    tx.update_card_payment_method(&pm)
        .await
        .map_err(external_id_conflict("payment method"))?;
    let after = card_payment_method_view(&pm);
    audit
        .change("payment_method.updated", "payment_method", id.as_str())
        .before(&before)
        .after(&after)
        .record(tx, now)
        .await?;
    Ok((StatusCode::OK, to_json(&after)?))
}
