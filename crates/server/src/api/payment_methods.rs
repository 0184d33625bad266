//! `/v1/payment-methods`: saved bank accounts (cards come with the card rail).
//!
//! The account number is sealed before it reaches the store and never
//! leaves again except masked; the fingerprint recognises the same account.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json};
use inflow_core::bank::{AccountNumber, AccountType, HolderType, RoutingNumber};
use inflow_core::collection::HoldCode;
use inflow_core::ids::{CounterpartyId, PaymentMethodId};
use inflow_core::model::{
    validate_external_id, validate_metadata, AccountValidation, BankPaymentMethod, Metadata,
    PaymentMethodStatus, PaymentMethodType, ValidationMethod, ValidationStatus,
};
use inflow_core::text::{bounded_text, validate_holder_name};
use inflow_engine::view::{payment_method_view, PaymentMethodView};
use inflow_engine::{holds, status_changes};
use inflow_store::repo::payment_methods::PaymentMethodFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::common::{external_id_conflict, to_json, ListResponse, PageParams};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::audit::Audit;
use crate::http::auth::Auth;
use crate::http::body::{parse_json, parse_query};
use crate::http::idempotency::{run_write, WriteRequest};
use crate::state::AppState;
use inflow_store::StoreError;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UsBankAccountInput {
    /// Nine-digit ABA routing number (check digit verified).
    #[schema(example = "121042882")]
    pub routing_number: String,
    /// 4 to 17 letters, digits or hyphens.
    #[schema(example = "000123456789")]
    pub account_number: String,
    pub account_type: AccountType,
    pub holder_name: String,
    pub holder_type: HolderType,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreatePaymentMethodRequest {
    #[serde(rename = "type")]
    pub kind: PaymentMethodType,
    pub us_bank_account: Option<UsBankAccountInput>,
    /// For `type: card`.
    pub card: Option<crate::api::cards::CardInput>,
    pub counterparty_id: Option<String>,
    /// Your own id for this payment method; unique per customer.
    pub external_id: Option<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub metadata: Metadata,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdatePaymentMethodRequest {
    /// `active` or `inactive`; `blocked` (and unblocking) is an operator action.
    pub status: Option<PaymentMethodStatus>,
    pub status_reason: Option<String>,
    pub holder_name: Option<String>,
    /// Cards only: the new billing address (replaces the old one whole).
    pub billing_address: Option<inflow_core::card::BillingAddress>,
    pub external_id: Option<String>,
    /// Operator only: mark the account validated (`true`, e.g. after a
    /// micro-deposit check done elsewhere) or clear the validation (`false`).
    pub validated: Option<bool>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Metadata>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PaymentMethodListParams {
    pub limit: Option<u32>,
    pub starting_after: Option<String>,
    pub external_id: Option<String>,
    pub counterparty_id: Option<String>,
    /// Find every saved copy of one bank account.
    pub fingerprint: Option<String>,
}

/// Save a bank account to collect from.
/// A saved payment method as the API returns it: a bank account or a card,
/// told apart by `type`. (Schema only: each handler renders its own view.)
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[schema(discriminator(property_name = "type", mapping(
    ("us_bank_account" = "#/components/schemas/PaymentMethodView"),
    ("card" = "#/components/schemas/CardPaymentMethodView")
)))]
#[allow(dead_code)]
pub enum AnyPaymentMethodView {
    UsBankAccount(PaymentMethodView),
    Card(inflow_engine::view::CardPaymentMethodView),
}

#[utoipa::path(post, path = "/v1/payment-methods", tag = "payment-methods",
    request_body(content = CreatePaymentMethodRequest, examples(
        ("bankAccount" = (summary = "A payer's checking account", value = json!(crate::api::examples::create_bank_payment_method()))),
        ("card" = (summary = "A card", value = json!(crate::api::examples::create_card_payment_method()))))),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    responses((status = 201, body = AnyPaymentMethodView, examples(
        ("bankAccount" = (summary = "A saved bank account", value = json!(crate::api::examples::bank_payment_method()))),
        ("card" = (summary = "A saved card", value = json!(crate::api::examples::card_payment_method()))))), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    req: WriteRequest,
) -> ApiResult<Response> {
    let customer_id = auth.customer_id()?.clone();
    let body: CreatePaymentMethodRequest = parse_json(&req.body)?;
    if body.kind == PaymentMethodType::Card {
        let card = body.card.ok_or_else(|| {
            ApiError::invalid("missing_field", "card is required for type card", "card")
        })?;
        return crate::api::cards::payment_method::create(
            &state,
            &auth,
            &req,
            customer_id,
            card,
            crate::api::cards::payment_method::Common {
                counterparty_id: body.counterparty_id,
                external_id: body.external_id,
                metadata: body.metadata,
            },
        )
        .await;
    }
    let bank = body.us_bank_account.ok_or_else(|| {
        ApiError::invalid(
            "missing_field",
            "usBankAccount is required for type us_bank_account",
            "usBankAccount",
        )
    })?;
    let routing = RoutingNumber::parse("usBankAccount.routingNumber", &bank.routing_number)?;
    let number = AccountNumber::parse("usBankAccount.accountNumber", &bank.account_number)?;
    let holder_name = validate_holder_name("usBankAccount.holderName", &bank.holder_name, 22 * 4)?;
    let counterparty_id = body
        .counterparty_id
        .as_deref()
        .map(|c| CounterpartyId::parse("counterpartyId", c))
        .transpose()?;
    let external_id = body
        .external_id
        .as_deref()
        .map(|e| validate_external_id("externalId", e))
        .transpose()?;
    validate_metadata("metadata", &body.metadata)?;

    let now = state.clock.now();
    let id = PaymentMethodId::generate(now);
    let pm = BankPaymentMethod {
        account_number_sealed: state.vault.seal(number.expose().as_bytes(), id.as_str()),
        fingerprint: state
            .vault
            .fingerprint(&[&routing.as_string(), number.expose()]),
        account_last4: number.last4(),
        id,
        customer_id,
        counterparty_id,
        status: PaymentMethodStatus::Active,
        status_reason: None,
        external_id,
        routing_number: routing,
        account_type: bank.account_type,
        holder_name,
        holder_type: bank.holder_type,
        validation: Default::default(),
        metadata: body.metadata,
        created_at: now,
        updated_at: now,
    };
    run_write(&state, &auth, &req, move |tx| {
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
            tx.insert_bank_payment_method(&pm)
                .await
                .map_err(external_id_conflict("payment method"))?;
            Ok((StatusCode::CREATED, to_json(&payment_method_view(&pm))?))
        })
    })
    .await
}

/// List payment methods, newest first.
#[utoipa::path(get, path = "/v1/payment-methods", tag = "payment-methods", params(PaymentMethodListParams),
    responses((status = 200, body = ListResponse<PaymentMethodView>)))]
pub async fn list(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<ListResponse<PaymentMethodView>>> {
    let params: PaymentMethodListParams = parse_query(q.as_deref())?;
    let page_q = PageParams {
        limit: params.limit,
        starting_after: params.starting_after,
    }
    .to_query()?;
    let filter = PaymentMethodFilter {
        external_id: params.external_id,
        counterparty_id: params
            .counterparty_id
            .as_deref()
            .map(|c| CounterpartyId::parse("counterpartyId", c))
            .transpose()?,
        fingerprint: params.fingerprint,
    };
    let page = state
        .store
        .read()
        .await?
        .list_bank_payment_methods(auth.customer_id()?, &filter, &page_q)
        .await?;
    Ok(Json(ListResponse::from_page(
        page,
        |p| p.id.to_string(),
        |p| payment_method_view(&p),
    )))
}

fn parse_id(id: &str) -> ApiResult<PaymentMethodId> {
    PaymentMethodId::parse("id", id).map_err(|_| ApiError::not_found("payment method"))
}

/// Get a payment method.
#[utoipa::path(get, path = "/v1/payment-methods/{id}", tag = "payment-methods", params(("id" = String, Path)),
    responses((status = 200, body = AnyPaymentMethodView, description = "A bank account (`type: us_bank_account`) or a card (`type: card`)"), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let id = parse_id(&id)?;
    let mut tx = state.store.read().await?;
    let customer = auth.customer_id()?;
    if let Ok(pm) = tx.get_bank_payment_method(customer, &id).await {
        return Ok(Json(to_json(&payment_method_view(&pm))?));
    }
    let card = tx
        .get_card_payment_method(customer, &id)
        .await
        .map_err(ApiError::not_found_if_missing("payment method"))?;
    Ok(Json(to_json(
        &inflow_engine::view::card_payment_method_view(&card),
    )?))
}

/// Activate, deactivate, block or relabel a payment method: a bank account
/// or a card (cards also take `billingAddress`; `statusReason` and
/// `validated` are for bank accounts only).
#[utoipa::path(patch, path = "/v1/payment-methods/{id}", tag = "payment-methods", params(("id" = String, Path)), request_body = UpdatePaymentMethodRequest,
    responses((status = 200, body = AnyPaymentMethodView, description = "The bank account (`type: us_bank_account`) or card (`type: card`) as changed"), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    Audit(audit): Audit,
    req: WriteRequest,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    let customer_id = auth.customer_id()?.clone();
    let body: UpdatePaymentMethodRequest = parse_json(&req.body)?;
    let is_admin = auth.is_admin();
    let now = state.clock.now();
    let ach = state.ach.clone();
    run_write(&state, &auth, &req, move |tx| {
        Box::pin(async move {
            let mut pm = match tx.get_bank_payment_method(&customer_id, &id).await {
                Ok(pm) => pm,
                Err(inflow_store::StoreError::NotFound) => {
                    return crate::api::cards::payment_method::update(
                        tx,
                        &customer_id,
                        &id,
                        body,
                        is_admin,
                        &audit,
                        now,
                    )
                    .await
                }
                Err(e) => return Err(e.into()),
            };
            if body.billing_address.is_some() {
                return Err(ApiError::invalid(
                    "unexpected_field",
                    "billingAddress applies to card payment methods; a bank account has a holderName only",
                    "billingAddress",
                ));
            }
            let was = pm.status;
            let before = payment_method_view(&pm);
            if let Some(status) = body.status {
                let touches_block = status == PaymentMethodStatus::Blocked
                    || pm.status == PaymentMethodStatus::Blocked;
                if touches_block && status != pm.status && !is_admin {
                    return Err(ApiError::forbidden(
                        "admin_key_required",
                        "blocking and unblocking payment methods is an operator action",
                    ));
                }
                pm.status = status;
                pm.status_reason = body
                    .status_reason
                    .as_deref()
                    .map(|r| bounded_text("statusReason", r, 1, 200))
                    .transpose()?;
            }
            if let Some(name) = body.holder_name {
                pm.holder_name = validate_holder_name("holderName", &name, 88)?;
            }
            if let Some(ext) = body.external_id {
                pm.external_id = Some(validate_external_id("externalId", &ext)?);
            }
            if let Some(m) = body.metadata {
                validate_metadata("metadata", &m)?;
                pm.metadata = m;
            }
            if let Some(validated) = body.validated {
                if !is_admin {
                    return Err(ApiError::forbidden(
                        "admin_key_required",
                        "marking an account validated is an operator action",
                    ));
                }
                pm.validation = if validated {
                    AccountValidation {
                        status: ValidationStatus::Validated,
                        method: Some(ValidationMethod::Operator),
                        prenote_id: None,
                        validated_at: Some(now),
                    }
                } else {
                    AccountValidation::default()
                };
            }
            pm.updated_at = now;
            tx.update_bank_payment_method(&pm)
                .await
                .map_err(external_id_conflict("payment method"))?;
            status_changes::payment_method_status_changed(tx, &ach, &pm, was, now).await?;
            if body.validated == Some(true) {
                holds::release(
                    tx,
                    &ach,
                    HoldCode::PrenotePending,
                    Some(&pm.id),
                    None,
                    "the operator validated the account",
                    now,
                )
                .await?;
            }
            let after = payment_method_view(&pm);
            audit
                .change("payment_method.updated", "payment_method", pm.id.as_str())
                .before(&before)
                .after(&after)
                .record(tx, now)
                .await?;
            Ok((StatusCode::OK, to_json(&after)?))
        })
    })
    .await
}
