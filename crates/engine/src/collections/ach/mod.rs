//! Creating an ACH collection (debit or prenote): every rule an ACH entry
//! must pass before Inflow accepts it, then its insert. The API's
//! `POST /v1/collections/ach` and the schedules job's occurrences go through
//! [`create_ach_collection`]; a schedule's dry run through
//! [`build_ach_collection`].
//!
//! The rules, in the order they are checked (the first refusal wins):
//! [`amount`] (by entry type, the per-entry limit, fees, the Same Day
//! limit), [`details`] (metadata, external id, reference, purpose,
//! authorization), [`parties`] (the customer and the destination account,
//! locked), [`timing`] (effective and release dates), [`source`] (the bank
//! account debited and the counterparty), [`entry`] (SEC code, payment type,
//! addenda, company name and description), [`status`] (duplicates, account
//! validation, the initial status); [`assemble`] builds the collection.
//!
//! Default SEC code (when the request names none): a **business** account
//! holder gets `CCD`; an **individual** gets the code that matches how the
//! debit was authorised — `online` → `WEB`, `phone` → `TEL`, `written` → `PPD`.

mod amount;
mod assemble;
mod details;
mod entry;
mod parties;
pub mod source;
mod status;
pub mod timing;

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use inflow_core::bank::{AccountType, HolderType};
use inflow_core::collection::{
    AchCollection, AchEntryType, Authorization, PaymentType, ProcessingMode, SecCode,
};
use inflow_core::crypto::Vault;
use inflow_core::ids::{CollectionId, PaymentMethodId};
use inflow_core::model::{
    AccountValidation, Customer, Metadata, ValidationMethod, ValidationStatus,
};
use inflow_core::money::Money;
use inflow_core::schedule::ScheduleLink;
use inflow_core::Refusal;
use inflow_store::{StoreError, Tx};

use super::destination::DestinationRef;
use crate::config::AchConfig;
use crate::usecase::{UseCaseError, UseCaseResult};

/// A one-time bank account given in the request.
#[derive(Debug, Clone)]
pub struct OneTimeSource {
    pub routing_number: String,
    pub account_number: String,
    pub account_type: AccountType,
    pub holder_name: String,
    pub holder_type: HolderType,
}

/// Where the money comes from.
#[derive(Debug, Clone)]
pub enum Source {
    PaymentMethod(PaymentMethodId),
    PaymentMethodExternalId(String),
    OneTime(OneTimeSource),
}

/// A collection request after parsing, before the rules.
#[derive(Debug, Clone)]
pub struct NewAchCollection {
    pub destination: DestinationRef,
    pub source: Source,
    pub counterparty_id: Option<String>,
    pub entry_type: AchEntryType,
    pub amount: Money,
    pub sec_code: Option<SecCode>,
    pub processing_mode: ProcessingMode,
    pub effective_date: Option<NaiveDate>,
    pub payment_type: Option<PaymentType>,
    /// `None`: the customer's default authorization applies.
    pub authorization: Option<Authorization>,
    pub company_name: Option<String>,
    pub company_entry_description: Option<String>,
    pub addenda: Option<String>,
    pub reference: Option<String>,
    pub purpose: Option<String>,
    pub external_id: Option<String>,
    pub metadata: Metadata,
    pub allow_duplicate: bool,
    /// A schedule's occurrence: its link (an occurrence has no external id;
    /// its link is unique, so a second insert of it is a store conflict).
    pub schedule: Option<ScheduleLink>,
}

/// What the rules need besides the request: the operator's settings.
#[derive(Clone)]
pub struct CollectionRules {
    pub ach: Arc<AchConfig>,
    pub vault: Arc<Vault>,
    pub default_company_name: String,
    pub default_company_id: String,
    pub duplicate_window: Duration,
}

/// Check every rule, the daily and monthly debit limits last, then store
/// the collection with its `collection.created` event.
pub async fn create_ach_collection(
    tx: &mut Tx,
    customer: &Customer,
    req: NewAchCollection,
    rules: &CollectionRules,
    now: DateTime<Utc>,
) -> UseCaseResult<AchCollection> {
    let collection = build_ach_collection(tx, customer, req, rules, now).await?;
    if collection.entry_type == AchEntryType::Debit {
        // Prenotes carry no amount.
        crate::limits::check_debit_totals(
            tx,
            customer,
            rules.ach.debit_limits,
            collection.amount.minor(),
            now,
        )
        .await?;
    }
    insert_collection(tx, &collection).await?;
    Ok(collection)
}

/// Check every rule and build the collection (not yet stored).
pub async fn build_ach_collection(
    tx: &mut Tx,
    customer: &Customer,
    req: NewAchCollection,
    rules: &CollectionRules,
    now: DateTime<Utc>,
) -> UseCaseResult<AchCollection> {
    let fees = amount::check(tx, customer, &req, rules).await?;
    let details = details::check(customer, &req, now)?;
    let destination = parties::lock_and_load(tx, customer, &req.destination).await?;
    let plan = timing::plan(rules, customer, &destination, &req, now)?;
    let id = CollectionId::generate(now);
    let source = source::resolve(tx, customer, &req.source, &id, &rules.vault).await?;
    let counterparty_id =
        source::counterparty(tx, customer, req.counterparty_id.as_deref(), &source).await?;
    let entry = entry::fields(customer, &req, &source, details.authorization.kind, rules)?;
    status::refuse_duplicate(tx, customer, &req, &source, rules, now).await?;
    let initial = status::initial(customer, &req, entry.sec_code, &source, &destination, &plan)?;
    Ok(assemble::collection(assemble::Parts {
        id,
        customer,
        req,
        destination,
        source,
        counterparty_id,
        plan,
        details,
        entry,
        initial,
        fees,
        now,
    }))
}

/// Store a new collection and its `collection.created` event; a prenote
/// from a saved account marks the account's validation pending.
pub async fn insert_collection(tx: &mut Tx, c: &AchCollection) -> UseCaseResult<()> {
    tx.insert_ach_collection(c).await.map_err(|e| match e {
        // An occurrence has no external id: its schedule link collided.
        StoreError::Conflict(_) if c.schedule.is_none() => UseCaseError::Refused(
            Refusal::conflict(
                "external_id_taken",
                "another collection of this customer already has this externalId",
            )
            .with_field("externalId"),
        ),
        other => other.into(),
    })?;
    crate::events::collection_event(tx, "collection.created", c, c.created_at).await?;
    if c.entry_type == AchEntryType::Prenote {
        if let Some(pm_id) = &c.payment_method_id {
            let mut pm = tx.get_bank_payment_method(&c.customer_id, pm_id).await?;
            if matches!(
                pm.validation.status,
                ValidationStatus::Unvalidated | ValidationStatus::Failed
            ) {
                pm.validation = AccountValidation {
                    status: ValidationStatus::Pending,
                    method: Some(ValidationMethod::Prenote),
                    prenote_id: Some(c.id.clone()),
                    validated_at: None,
                };
                pm.updated_at = c.created_at;
                tx.update_bank_payment_method(&pm).await?;
            }
        }
    }
    Ok(())
}
