//! Saving a card: `POST /v1/payment-methods` with `type: "card"`.
//!
//! The number is validated (Luhn, brand, length) and sealed before it
//! reaches the store; the security code, when given, goes to the processor
//! once as a zero-amount verification and is then dropped.

use axum::http::StatusCode;
use axum::response::Response;
use chrono::Datelike;
use inflow_core::card::{CardNumber, CardPaymentMethod, Cvc, Expiry};
use inflow_core::ids::{CounterpartyId, CustomerId, PaymentMethodId};
use inflow_core::model::{validate_external_id, validate_metadata, Metadata, PaymentMethodStatus};
use inflow_core::text::bounded_text;
use inflow_engine::cards::processor::CardData;
use inflow_engine::cards::{CardError, ProcessorError};
use inflow_engine::view::card_payment_method_view;

use super::input::CardInput;
use crate::api::common::{external_id_conflict, to_json};
use crate::error::{ApiError, ApiResult};
use crate::http::auth::Auth;
use crate::http::idempotency::{run_write, WriteRequest};
use crate::state::AppState;

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
    let mut billing = card.billing_address;
    billing.postal_code = bounded_text(
        "card.billingAddress.postalCode",
        &billing.postal_code,
        3,
        10,
    )?;
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
                    .map_err(|_| {
                        ApiError::not_found("counterparty").with_param("counterpartyId")
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
