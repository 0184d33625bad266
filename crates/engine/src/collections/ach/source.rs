//! Where an ACH debit's money comes from: a saved bank account (by id or
//! external id) or a one-time account, resolved and checked; and the
//! counterparty (payer) it is collected from. A card given where a bank
//! account is expected is a `wrong_rail` conflict.

use inflow_core::bank::{AccountNumber, AccountType, HolderType, RoutingNumber};
use inflow_core::crypto::Vault;
use inflow_core::ids::{CollectionId, CounterpartyId, PaymentMethodId};
use inflow_core::model::{AccountValidation, Customer, CustomerKind, PaymentMethodStatus};
use inflow_core::text::validate_holder_name;
use inflow_core::Refusal;
use inflow_store::{StoreError, Tx};

use super::{OneTimeSource, Source};
use crate::usecase::{missing_as, UseCaseError, UseCaseResult};

/// The source account, resolved and checked: routing, sealed number (under
/// the new collection's id), last 4, fingerprint, type, holder.
pub struct ResolvedSource {
    pub payment_method_id: Option<PaymentMethodId>,
    pub counterparty_id: Option<CounterpartyId>,
    pub routing: RoutingNumber,
    pub sealed: Vec<u8>,
    pub last4: String,
    pub fingerprint: String,
    pub account_type: AccountType,
    pub holder_name: String,
    pub holder_type: HolderType,
    /// `None` for a one-time source, which can never be validated.
    pub validation: Option<AccountValidation>,
}

/// Resolve and check the source of collection `id`.
pub async fn resolve(
    tx: &mut Tx,
    customer: &Customer,
    source: &Source,
    id: &CollectionId,
    vault: &Vault,
) -> UseCaseResult<ResolvedSource> {
    let (pm_id, field) = match source {
        Source::OneTime(s) => return Ok(one_time(customer, s, id, vault)?),
        Source::PaymentMethod(pm_id) => (pm_id.clone(), "paymentMethodId"),
        Source::PaymentMethodExternalId(ext) => (
            by_external_id(tx, customer, ext).await?,
            "paymentMethodExternalId",
        ),
    };
    // Locked, then read: the status checked below is current.
    tx.lock_collection_payment_method(&pm_id).await?;
    let pm = match tx.get_bank_payment_method(&customer.id, &pm_id).await {
        Ok(pm) => pm,
        Err(StoreError::NotFound) => {
            let card = tx.get_card_payment_method(&customer.id, &pm_id).await;
            return Err(missing_bank_account(card.map(|c| c.id), field));
        }
        Err(other) => return Err(other.into()),
    };
    if pm.status != PaymentMethodStatus::Active {
        let reason = pm
            .status_reason
            .as_deref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default();
        return Err(Refusal::conflict(
            "payment_method_not_active",
            format!(
                "payment method {} is {}{reason}; only active bank accounts can be debited",
                pm.id, pm.status,
            ),
        )
        .with_field("paymentMethodId")
        .into());
    }
    let plain = vault
        .open(&pm.account_number_sealed, pm.id.as_str())
        .map_err(|_| {
            tracing::error!(payment_method = %pm.id, "cannot decrypt a stored account number");
            StoreError::Corrupt(format!(
                "the account number of {} cannot be decrypted",
                pm.id
            ))
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

/// A one-time account: for business customers the operator enabled it for.
fn one_time(
    customer: &Customer,
    s: &OneTimeSource,
    id: &CollectionId,
    vault: &Vault,
) -> Result<ResolvedSource, Refusal> {
    if customer.kind != CustomerKind::Business || !customer.allow_one_time_source {
        return Err(Refusal::forbidden(
            "one_time_source_not_allowed",
            "one-time bank account sources are allowed only for business customers the operator enabled them for",
        ));
    }
    let routing = RoutingNumber::parse("oneTimeSource.routingNumber", &s.routing_number)?;
    let number = AccountNumber::parse("oneTimeSource.accountNumber", &s.account_number)?;
    let holder_name = validate_holder_name("oneTimeSource.holderName", &s.holder_name, 88)?;
    Ok(ResolvedSource {
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
    })
}

/// The id of the customer's bank account with external id `ext`.
async fn by_external_id(
    tx: &mut Tx,
    customer: &Customer,
    ext: &str,
) -> UseCaseResult<PaymentMethodId> {
    let filter = inflow_store::repo::payment_methods::PaymentMethodFilter {
        external_id: Some(ext.to_owned()),
        ..Default::default()
    };
    let found = tx
        .list_bank_payment_methods(&customer.id, &filter, &inflow_store::ListQuery::first(1))
        .await?
        .data
        .into_iter()
        .next();
    match found {
        Some(pm) => Ok(pm.id),
        None => {
            let card = tx
                .get_card_payment_method_by_external_id(&customer.id, ext)
                .await;
            Err(missing_bank_account(
                card.map(|c| c.id),
                "paymentMethodExternalId",
            ))
        }
    }
}

/// Why no bank account answered to `field`: the customer's card payment
/// method of that id or external id (`wrong_rail`), or none (not found).
fn missing_bank_account(card: Result<PaymentMethodId, StoreError>, field: &str) -> UseCaseError {
    match card {
        Ok(id) => Refusal::wrong_rail(format!(
            "{id} is a card payment method; ACH collections debit bank accounts (use POST /v1/collections/card for a card)"
        ))
        .with_field(field)
        .into(),
        Err(StoreError::NotFound) => Refusal::not_found("payment method").with_field(field).into(),
        Err(other) => other.into(),
    }
}

/// The counterparty the collection is from: the request's (which must be
/// the customer's, and the saved account's owner if it has one), else the
/// saved account's.
pub async fn counterparty(
    tx: &mut Tx,
    customer: &Customer,
    requested: Option<&str>,
    source: &ResolvedSource,
) -> UseCaseResult<Option<CounterpartyId>> {
    let Some(c) = requested else {
        return Ok(source.counterparty_id.clone());
    };
    let cpt = CounterpartyId::parse("counterpartyId", c)?;
    tx.get_counterparty(&customer.id, &cpt)
        .await
        .map_err(missing_as(|| {
            Refusal::not_found("counterparty").with_field("counterpartyId")
        }))?;
    // A saved bank account belongs to one payer: a collection from it is
    // that payer's, never another's.
    if let (Some(owner), Some(pm)) = (&source.counterparty_id, &source.payment_method_id) {
        if *owner != cpt {
            return Err(Refusal::conflict(
                "counterparty_mismatch",
                format!("payment method {pm} belongs to counterparty {owner}, not {cpt}; leave counterpartyId out to use the payment method's"),
            )
            .with_field("counterpartyId")
            .into());
        }
    }
    Ok(Some(cpt))
}
