//! Creating and cancelling ACH collections: every rule an ACH debit must
//! pass before Inflow accepts it.
//!
//! Default SEC code (when the request names none): a **business** account
//! holder gets `CCD`; an **individual** gets the code that matches how the
//! debit was authorised — `online` → `WEB`, `phone` → `TEL`, `written` → `PPD`.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use inflow_core::bank::{AccountType, HolderType};
use inflow_core::calendar::timing::SAME_DAY_ENTRY_LIMIT_MINOR;
use inflow_core::calendar::{plan_entry, TimingError};
use inflow_core::collection::{
    AchCollection, AchEntryType, Authorization, AuthorizationType, CollectionStatus, HoldCode,
    PaymentType, ProcessingMode, SecCode, StatusChange,
};
use inflow_core::crypto::Vault;
use inflow_core::ids::{CollectionId, CounterpartyId, PaymentMethodId};
use inflow_core::model::{
    nacha_text, validate_ach_company_name, validate_external_id, validate_metadata, AccountStatus,
    AccountValidation, Customer, CustomerStatus, Metadata, ValidationMethod, ValidationStatus,
};
use inflow_core::money::Money;
use inflow_core::text::{bounded_text, validate_entry_description};
use inflow_engine::config::AchConfig;
use inflow_store::{StoreError, Tx};

use crate::app::ach_source::resolve_source;
use crate::app::destination::DestinationRef;
use crate::error::ApiError;

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

/// A collection request after JSON parsing, before the rules.
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
}

/// What the rules need besides the request.
pub struct Rules<'a> {
    pub ach: &'a AchConfig,
    pub vault: &'a Vault,
    pub default_company_name: &'a str,
    pub default_company_id: &'a str,
    pub duplicate_window: Duration,
}

fn invalid(code: &str, message: impl Into<String>, param: &str) -> ApiError {
    ApiError::invalid(code, message, param)
}

fn timing_error(e: TimingError) -> ApiError {
    let param = match e {
        TimingError::SameDayNotOffered => "processingMode",
        _ => "effectiveDate",
    };
    invalid(e.code(), e.to_string(), param)
}

/// The customer's account-validation policy for a live debit: `Ok(None)`
/// it may go, `Ok(Some(reason))` it waits for the account's prenote, and an
/// error when the account is not validated and no prenote is out.
fn validation_policy(
    customer: &Customer,
    entry_type: AchEntryType,
    sec_code: SecCode,
    validation: Option<&AccountValidation>,
) -> Result<Option<String>, ApiError> {
    let policy = &customer.ach_policy;
    let rule = if entry_type != AchEntryType::Debit {
        return Ok(None);
    } else if policy.require_prenote {
        "the customer requires a cleared prenote before live debits"
    } else if sec_code == SecCode::Web && policy.web_requires_validated_account {
        "the customer requires a validated account for WEB debits"
    } else {
        return Ok(None);
    };
    let refuse = |detail: &str| {
        Err(
            ApiError::conflict("account_not_validated", format!("{rule}; {detail}"))
                .with_param("paymentMethodId"),
        )
    };
    match validation {
        None => refuse("a one-time bank account cannot be validated; save it as a payment method and send a prenote"),
        Some(v) => match v.status {
            ValidationStatus::Validated => Ok(None),
            ValidationStatus::Pending => Ok(Some(format!(
                "held until prenote {} clears ({rule})",
                v.prenote_id
                    .as_ref()
                    .map(|p| p.to_string())
                    .unwrap_or_else(|| "of this account".into())
            ))),
            ValidationStatus::Failed => refuse("the account's prenote was returned; correct the account and send a new prenote"),
            ValidationStatus::Unvalidated => refuse("send a prenote (type `prenote`) first, or have the operator mark the account validated"),
        },
    }
}

fn default_sec_code(holder: HolderType, auth: AuthorizationType) -> SecCode {
    match (holder, auth) {
        (HolderType::Business, _) => SecCode::Ccd,
        (HolderType::Individual, AuthorizationType::Online) => SecCode::Web,
        (HolderType::Individual, AuthorizationType::Phone) => SecCode::Tel,
        (HolderType::Individual, AuthorizationType::Written) => SecCode::Ppd,
    }
}

/// Check every rule and build the collection (not yet stored).
pub async fn build_ach_collection(
    tx: &mut Tx,
    customer: &Customer,
    req: NewAchCollection,
    rules: &Rules<'_>,
    now: DateTime<Utc>,
) -> Result<AchCollection, ApiError> {
    // Amount rules by type.
    match req.entry_type {
        AchEntryType::Debit if req.amount.is_zero() => {
            return Err(invalid(
                "invalid_amount",
                "a debit's amount must be greater than zero",
                "amount.value",
            ))
        }
        AchEntryType::Prenote if !req.amount.is_zero() => {
            return Err(invalid(
                "invalid_amount",
                "a prenote's amount must be zero",
                "amount.value",
            ))
        }
        AchEntryType::Debit => inflow_engine::limits::check_per_entry(
            customer,
            rules.ach.debit_limits,
            req.amount.minor(),
        )?,
        _ => {}
    }
    let fees = tx
        .effective_fee_schedule(&customer.id)
        .await?
        .ach_fees(req.amount.minor(), req.processing_mode);
    if fees.total() > req.amount.minor() {
        return Err(invalid(
            "amount_below_fees",
            format!(
                "the amount must cover the fees charged on it ({} minor units)",
                fees.total()
            ),
            "amount.value",
        ));
    }
    if req.processing_mode == ProcessingMode::SameDay
        && req.amount.minor() > SAME_DAY_ENTRY_LIMIT_MINOR
    {
        return Err(invalid(
            "same_day_limit_exceeded",
            "Same Day ACH entries are limited to $1,000,000.00; use standard processing",
            "amount.value",
        ));
    }
    validate_metadata("metadata", &req.metadata)?;
    let external_id = req
        .external_id
        .as_deref()
        .map(|e| validate_external_id("externalId", e))
        .transpose()?;
    let reference = req
        .reference
        .as_deref()
        .map(|r| bounded_text("reference", r, 1, 100))
        .transpose()?;
    let purpose = req
        .purpose
        .as_deref()
        .map(|r| bounded_text("purpose", r, 1, 200))
        .transpose()?;
    let authorization = req
        .authorization
        .clone()
        .or_else(|| customer.ach_policy.default_authorization.clone())
        .ok_or_else(|| {
            invalid(
                "missing_field",
                "authorization is required: the customer has no default authorization",
                "authorization",
            )
        })?;
    if authorization.obtained_at > now + Duration::minutes(5) {
        return Err(invalid(
            "invalid_authorization",
            "authorization.obtainedAt is in the future",
            "authorization.obtainedAt",
        ));
    }

    let destination_id = match &req.destination {
        DestinationRef::Id(id) => id.clone(),
        by_external_id => by_external_id.load(tx, &customer.id).await?.id,
    };
    // Locked before they are read: a concurrent status change of the
    // customer or the account waits for this collection, then moves it.
    let status = tx
        .lock_collection_parties(&customer.id, &destination_id)
        .await?;
    if status != CustomerStatus::Active {
        let why = format!(
            "customer {} is suspended; no collection can be made for it",
            customer.id
        );
        return Err(ApiError::conflict("customer_suspended", why));
    }
    let destination = DestinationRef::Id(destination_id)
        .load(tx, &customer.id)
        .await
        .map_err(|e| e.with_param(req.destination.param()))?;
    if destination.status == AccountStatus::Closed {
        return Err(ApiError::conflict(
            "destination_account_closed",
            "the destination account is closed",
        )
        .with_param(req.destination.param()));
    }

    // Planned with the windows of the ODFI that will file the entry: the
    // destination account's, else the customer's, else the default.
    let odfi = rules
        .ach
        .effective_odfi(destination.odfi_id.as_deref(), customer.odfi_id.as_deref());
    let plan = plan_entry(
        &rules.ach.calendar,
        rules.ach.cutoffs_for(odfi),
        now,
        req.processing_mode,
        req.effective_date,
        rules.ach.effective_date_horizon_days,
    )
    .map_err(timing_error)?;

    let id = CollectionId::generate(now);
    let source = resolve_source(tx, customer, req.source, &id, rules.vault).await?;
    let counterparty_id = match &req.counterparty_id {
        Some(c) => {
            let cpt = CounterpartyId::parse("counterpartyId", c)?;
            tx.get_counterparty(&customer.id, &cpt)
                .await
                .map_err(|e| match e {
                    StoreError::NotFound => {
                        ApiError::not_found("counterparty").with_param("counterpartyId")
                    }
                    other => other.into(),
                })?;
            // A saved bank account belongs to one payer: a collection from
            // it is that payer's, never another's.
            match (&source.counterparty_id, &source.payment_method_id) {
                (Some(owner), Some(pm)) if *owner != cpt => {
                    return Err(ApiError::conflict(
                        "counterparty_mismatch",
                        format!("payment method {pm} belongs to counterparty {owner}, not {cpt}; leave counterpartyId out to use the payment method's"),
                    )
                    .with_param("counterpartyId"))
                }
                _ => {}
            }
            Some(cpt)
        }
        // Absent: the payment method's counterparty, if it has one.
        None => source.counterparty_id.clone(),
    };

    let sec_code = req
        .sec_code
        .unwrap_or_else(|| default_sec_code(source.holder_type, authorization.kind));
    if sec_code == SecCode::Ccd && source.holder_type == HolderType::Individual {
        return Err(invalid(
            "sec_code_mismatch",
            "CCD is for business accounts; debiting a consumer account with CCD invites an R05 return — use PPD, WEB or TEL",
            "secCode",
        ));
    }
    if sec_code.is_consumer()
        && source.holder_type == HolderType::Business
        && sec_code != SecCode::Ppd
    {
        return Err(invalid(
            "sec_code_mismatch",
            format!("{sec_code} is for consumer accounts; use CCD (or PPD)"),
            "secCode",
        ));
    }
    let payment_type = match (sec_code.has_payment_type(), req.payment_type) {
        (true, p) => Some(p.unwrap_or(PaymentType::Single)),
        (false, Some(_)) => {
            return Err(invalid(
                "payment_type_not_allowed",
                "paymentType applies to WEB and TEL entries only",
                "paymentType",
            ))
        }
        (false, None) => None,
    };
    let addenda = match req.addenda.as_deref() {
        Some(_) if !sec_code.allows_addenda() => {
            return Err(invalid(
                "addenda_not_allowed",
                "TEL entries cannot carry an addenda record",
                "addenda",
            ))
        }
        Some(a) => Some(nacha_text("addenda", a, 80)?),
        None => None,
    };
    let company_name = match req.company_name.as_deref() {
        Some(n) => validate_ach_company_name("companyName", n)?,
        None => customer.company_name_or(rules.default_company_name),
    };
    if !customer.may_use_company_name(rules.default_company_name, &company_name) {
        return Err(ApiError::forbidden(
            "company_name_not_allowed",
            format!("companyName {company_name:?} is not a company name the operator allowed this customer (allowedCompanyNames)"),
        )
        .with_param("companyName"));
    }
    let company_id = customer
        .ach_company_id
        .clone()
        .unwrap_or_else(|| rules.default_company_id.to_owned());
    let company_entry_description = match req.company_entry_description.as_deref() {
        Some(d) => validate_entry_description("companyEntryDescription", d)?,
        None if req.entry_type == AchEntryType::Prenote => "PRENOTE".to_owned(),
        None => "PAYMENT".to_owned(),
    };

    if !req.allow_duplicate {
        if let Some(first) = tx
            .find_duplicate_collection(
                &customer.id,
                &source.fingerprint,
                req.amount.minor(),
                req.entry_type,
                now - rules.duplicate_window,
            )
            .await?
        {
            return Err(ApiError::conflict(
                "duplicate_transaction",
                format!(
                    "{first} already collects the same amount from the same bank account within the duplicate window; \
                     send \"allowDuplicate\": true if this is intended"
                ),
            )
            .with_param("allowDuplicate"));
        }
    }

    // A prenote hold comes first: when it clears, a still-blocked
    // destination keeps the collection held (see `inflow_engine::holds`).
    let prenote_hold = validation_policy(
        customer,
        req.entry_type,
        sec_code,
        source.validation.as_ref(),
    )?;
    let (status, reason, hold) = if let Some(reason) = prenote_hold {
        (
            CollectionStatus::OnHold,
            Some(reason),
            Some(HoldCode::PrenotePending),
        )
    } else if destination.status == AccountStatus::Blocked {
        (
            CollectionStatus::OnHold,
            Some("destination account is blocked".to_owned()),
            Some(HoldCode::DestinationBlocked),
        )
    } else if plan.deferred {
        (
            CollectionStatus::Scheduled,
            Some(format!("held until {}", plan.release_date)),
            None,
        )
    } else {
        (CollectionStatus::Pending, None, None)
    };
    Ok(AchCollection {
        id,
        customer_id: customer.id.clone(),
        entry_type: req.entry_type,
        status,
        status_reason: reason.clone(),
        status_history: vec![StatusChange {
            status,
            reason,
            at: now,
        }],
        amount: req.amount,
        destination_account_id: destination.id,
        payment_method_id: source.payment_method_id,
        counterparty_id,
        routing_number: source.routing,
        account_number_sealed: source.sealed,
        account_last4: source.last4,
        account_fingerprint: source.fingerprint,
        account_type: source.account_type,
        holder_name: source.holder_name,
        holder_type: source.holder_type,
        sec_code,
        processing_mode: req.processing_mode,
        payment_type,
        effective_date: plan.effective_date,
        release_date: plan.release_date,
        authorization,
        company_name,
        company_id,
        company_entry_description,
        addenda,
        reference,
        purpose,
        external_id,
        metadata: req.metadata,
        trace_number: None,
        file_id: None,
        return_code: None,
        return_trace: None,
        noc_code: None,
        noc_corrected_data: None,
        noc_correction: None,
        created_at: now,
        updated_at: now,
        submitted_at: None,
        completed_at: None,
        returned_at: None,
        hold,
        schedule: None,
        fees,
    })
}

/// Store a new collection and its `collection.created` event.
pub async fn insert_collection(tx: &mut Tx, c: &AchCollection) -> Result<(), ApiError> {
    tx.insert_ach_collection(c).await.map_err(|e| match e {
        StoreError::Conflict(_) => ApiError::conflict(
            "external_id_taken",
            "another collection of this customer already has this externalId",
        )
        .with_param("externalId"),
        other => other.into(),
    })?;
    inflow_engine::events::collection_event(tx, "collection.created", c, c.created_at).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_sec_codes_follow_holder_and_authorization() {
        assert_eq!(
            default_sec_code(HolderType::Business, AuthorizationType::Online),
            SecCode::Ccd
        );
        assert_eq!(
            default_sec_code(HolderType::Individual, AuthorizationType::Online),
            SecCode::Web
        );
        assert_eq!(
            default_sec_code(HolderType::Individual, AuthorizationType::Phone),
            SecCode::Tel
        );
        assert_eq!(
            default_sec_code(HolderType::Individual, AuthorizationType::Written),
            SecCode::Ppd
        );
    }
}
