//! Where an ACH debit's money comes from: a saved bank account (by id or
//! external id) or a one-time account, resolved and checked. A card given
//! where a bank account is expected is `409 wrong_rail`.

use inflow_core::bank::{AccountNumber, AccountType, HolderType, RoutingNumber};
use inflow_core::crypto::Vault;
use inflow_core::ids::{CollectionId, CounterpartyId, PaymentMethodId};
use inflow_core::model::{AccountValidation, Customer, CustomerKind, PaymentMethodStatus};
use inflow_core::text::validate_holder_name;
use inflow_store::{StoreError, Tx};

use crate::app::collections::Source;
use crate::error::ApiError;

/// The source account, resolved and checked: routing, sealed number (under
/// the new collection's id), last 4, fingerprint, type, holder.
pub(crate) struct ResolvedSource {
    pub(crate) payment_method_id: Option<PaymentMethodId>,
    pub(crate) counterparty_id: Option<CounterpartyId>,
    pub(crate) routing: RoutingNumber,
    pub(crate) sealed: Vec<u8>,
    pub(crate) last4: String,
    pub(crate) fingerprint: String,
    pub(crate) account_type: AccountType,
    pub(crate) holder_name: String,
    pub(crate) holder_type: HolderType,
    /// `None` for a one-time source, which can never be validated.
    pub(crate) validation: Option<AccountValidation>,
}

pub(crate) async fn resolve_source(
    tx: &mut Tx,
    customer: &Customer,
    source: Source,
    id: &CollectionId,
    vault: &Vault,
) -> Result<ResolvedSource, ApiError> {
    let (pm_id, param) = match source {
        Source::OneTime(s) => {
            if customer.kind != CustomerKind::Business || !customer.allow_one_time_source {
                return Err(ApiError::forbidden(
                    "one_time_source_not_allowed",
                    "one-time bank account sources are allowed only for business customers the operator enabled them for",
                ));
            }
            let routing = RoutingNumber::parse("oneTimeSource.routingNumber", &s.routing_number)?;
            let number = AccountNumber::parse("oneTimeSource.accountNumber", &s.account_number)?;
            let holder_name = validate_holder_name("oneTimeSource.holderName", &s.holder_name, 88)?;
            return Ok(ResolvedSource {
                payment_method_id: None,
                counterparty_id: None,
                sealed: vault.seal(number.expose().as_bytes(), id.as_str()),
                fingerprint: vault.fingerprint(&[&routing.as_string(), number.expose()]),
                last4: number.last4(),
                routing,
                account_type: s.account_type,
                holder_name,
                holder_type: s.holder_type,
                validation: None,
            });
        }
        Source::PaymentMethod(pm_id) => (pm_id, "paymentMethodId"),
        Source::PaymentMethodExternalId(ext) => {
            let filter = inflow_store::repo::payment_methods::PaymentMethodFilter {
                external_id: Some(ext.clone()),
                ..Default::default()
            };
            let found = tx
                .list_bank_payment_methods(
                    &customer.id,
                    &filter,
                    &inflow_store::ListQuery::first(1),
                )
                .await?
                .data
                .into_iter()
                .next();
            match found {
                Some(pm) => (pm.id, "paymentMethodExternalId"),
                None => {
                    let card = tx
                        .get_card_payment_method_by_external_id(&customer.id, &ext)
                        .await;
                    return Err(missing_bank_account(
                        card.map(|c| c.id),
                        "paymentMethodExternalId",
                    ));
                }
            }
        }
    };
    // Locked, then read: the status checked below is current.
    tx.lock_collection_payment_method(&pm_id).await?;
    let pm = match tx.get_bank_payment_method(&customer.id, &pm_id).await {
        Ok(pm) => pm,
        Err(StoreError::NotFound) => {
            let card = tx.get_card_payment_method(&customer.id, &pm_id).await;
            return Err(missing_bank_account(card.map(|c| c.id), param));
        }
        Err(other) => return Err(other.into()),
    };
    if pm.status != PaymentMethodStatus::Active {
        return Err(ApiError::conflict(
            "payment_method_not_active",
            format!(
                "payment method {} is {}{}; only active bank accounts can be debited",
                pm.id,
                pm.status,
                pm.status_reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            ),
        )
        .with_param("paymentMethodId"));
    }
    let plain = vault
        .open(&pm.account_number_sealed, pm.id.as_str())
        .map_err(|_| {
            tracing::error!(payment_method = %pm.id, "cannot decrypt a stored account number");
            ApiError::internal()
        })?;
    Ok(ResolvedSource {
        payment_method_id: Some(pm.id),
        counterparty_id: pm.counterparty_id,
        sealed: vault.seal(&plain, id.as_str()),
        last4: pm.account_last4,
        fingerprint: pm.fingerprint,
        routing: pm.routing_number,
        account_type: pm.account_type,
        holder_name: pm.holder_name,
        holder_type: pm.holder_type,
        validation: Some(pm.validation),
    })
}

/// Why no bank account answered to `param`: the customer's card payment
/// method of that id or external id (`409 wrong_rail`), or none (404).
fn missing_bank_account(card: Result<PaymentMethodId, StoreError>, param: &str) -> ApiError {
    match card {
        Ok(id) => ApiError::wrong_rail(format!(
            "{id} is a card payment method; ACH collections debit bank accounts (use POST /v1/collections/card for a card)"
        ))
        .with_param(param),
        Err(StoreError::NotFound) => ApiError::not_found("payment method").with_param(param),
        Err(other) => other.into(),
    }
}
