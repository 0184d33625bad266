//! The request body of `POST /v1/collections` and `POST /v1/collections/ach`.

use chrono::{DateTime, NaiveDate, Utc};
use inflow_core::bank::{AccountType, HolderType};
use inflow_core::collection::{
    AchEntryType, Authorization, AuthorizationType, PaymentType, ProcessingMode, SecCode,
};
use inflow_core::ids::PaymentMethodId;
use inflow_core::model::Metadata;
use inflow_engine::collections::ach::{NewAchCollection, OneTimeSource, Source};
use inflow_engine::collections::destination::DestinationRef;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::api::common::MoneyInput;
use crate::error::{ApiError, ApiResult};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OneTimeSourceInput {
    pub routing_number: String,
    pub account_number: String,
    pub account_type: AccountType,
    pub holder_name: String,
    pub holder_type: HolderType,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthorizationInput {
    #[serde(rename = "type")]
    pub kind: AuthorizationType,
    /// When the payer authorised the debit (RFC 3339).
    pub obtained_at: DateTime<Utc>,
    pub ip_address: Option<String>,
    /// Your reference to the stored proof (recording, signed form, web log).
    pub evidence_ref: Option<String>,
}

impl AuthorizationInput {
    /// Check the fields; `field` names the object in errors (`authorization`).
    pub fn into_domain(self, field: &str) -> ApiResult<Authorization> {
        if let Some(ip) = &self.ip_address {
            if ip.parse::<std::net::IpAddr>().is_err() {
                return Err(ApiError::invalid(
                    "invalid_ip_address",
                    format!("{field}.ipAddress must be an IPv4 or IPv6 address"),
                    format!("{field}.ipAddress"),
                ));
            }
        }
        let evidence_field = format!("{field}.evidenceRef");
        Ok(Authorization {
            kind: self.kind,
            obtained_at: self.obtained_at,
            ip_address: self.ip_address,
            evidence_ref: self
                .evidence_ref
                .as_deref()
                .map(|e| inflow_core::text::bounded_text(&evidence_field, e, 1, 500))
                .transpose()?,
        })
    }
}

/// Create an ACH debit or prenote.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateCollectionRequest {
    /// `ach` (required on `POST /v1/collections`, implied on `/v1/collections/ach`).
    pub rail: Option<String>,
    /// The customer's account the money goes to (`acc_…`)…
    pub destination_account_id: Option<String>,
    /// …or the same addressed by your `externalId` (exactly one of the two).
    pub destination_account_external_id: Option<String>,
    /// A saved bank account (`pm_…`)…
    pub payment_method_id: Option<String>,
    /// …or the same addressed by your `externalId`…
    pub payment_method_external_id: Option<String>,
    /// …or a one-time bank account (business customers with `allowOneTimeSource`).
    pub one_time_source: Option<OneTimeSourceInput>,
    pub counterparty_id: Option<String>,
    /// `debit` (default) or `prenote`.
    #[serde(rename = "type")]
    pub kind: Option<AchEntryType>,
    pub amount: MoneyInput,
    /// Default: CCD for business accounts; for individuals WEB (online), TEL (phone) or PPD (written).
    pub sec_code: Option<SecCode>,
    /// `standard` (default) or `same_day`.
    pub processing_mode: Option<ProcessingMode>,
    /// A future banking day (YYYY-MM-DD): a deferred debit, held until one banking day before.
    #[schema(value_type = Option<String>, example = "2026-12-01")]
    pub effective_date: Option<String>,
    /// WEB/TEL only: `single` (default) or `recurring`.
    pub payment_type: Option<PaymentType>,
    /// The payer's authorisation; required unless the customer has a `defaultAuthorization`.
    pub authorization: Option<AuthorizationInput>,
    /// Statement text overrides (NACHA company name ≤16, entry description ≤10).
    /// The company name is the originator the bank and the payer see: only
    /// the customer's `achCompanyName` or one of its `allowedCompanyNames`
    /// (set by the operator); anything else is `403 company_name_not_allowed`.
    pub company_name: Option<String>,
    pub company_entry_description: Option<String>,
    /// Up to 80 characters of payment-related information (not for TEL).
    pub addenda: Option<String>,
    pub reference: Option<String>,
    pub purpose: Option<String>,
    /// Your id for this collection; unique per customer.
    pub external_id: Option<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub metadata: Metadata,
    /// Create it even if it looks like a duplicate.
    #[serde(default)]
    pub allow_duplicate: bool,
}

impl CreateCollectionRequest {
    /// Field-level checks that need no database.
    pub fn into_new(self, rail_required: bool) -> ApiResult<NewAchCollection> {
        match (self.rail.as_deref(), rail_required) {
            (Some("ach"), _) | (None, false) => {}
            (None, true) => {
                return Err(ApiError::invalid(
                    "missing_field",
                    "rail is required: `ach`",
                    "rail",
                ))
            }
            (Some("card"), _) => {
                return Err(ApiError::invalid(
                    "invalid_value",
                    "this endpoint creates ACH collections; send card collections to POST /v1/collections/card (or POST /v1/collections with \"rail\": \"card\")",
                    "rail",
                ))
            }
            (Some(other), _) => {
                return Err(ApiError::invalid(
                    "invalid_value",
                    format!(
                        "`{}` is not a rail; expected `ach`",
                        inflow_core::text::clip(other, 20)
                    ),
                    "rail",
                ))
            }
        }
        let sources = [
            self.payment_method_id.is_some(),
            self.payment_method_external_id.is_some(),
            self.one_time_source.is_some(),
        ];
        let source = match (
            self.payment_method_id,
            self.payment_method_external_id,
            self.one_time_source,
        ) {
            (Some(id), None, None) => {
                Source::PaymentMethod(PaymentMethodId::parse("paymentMethodId", &id)?)
            }
            (None, Some(ext), None) => Source::PaymentMethodExternalId(ext),
            (None, None, Some(s)) => Source::OneTime(OneTimeSource {
                routing_number: s.routing_number,
                account_number: s.account_number,
                account_type: s.account_type,
                holder_name: s.holder_name,
                holder_type: s.holder_type,
            }),
            _ => {
                let message = if sources.iter().any(|s| *s) {
                    "give only one source: paymentMethodId, paymentMethodExternalId or oneTimeSource"
                } else {
                    "a source is required: paymentMethodId, paymentMethodExternalId or oneTimeSource"
                };
                return Err(ApiError::invalid(
                    "invalid_source",
                    message,
                    "paymentMethodId",
                ));
            }
        };
        let effective_date = self
            .effective_date
            .as_deref()
            .map(|d| {
                NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                    ApiError::invalid(
                        "invalid_date",
                        "effectiveDate must be a date like 2026-12-01",
                        "effectiveDate",
                    )
                })
            })
            .transpose()?;
        let destination = DestinationRef::from_fields(
            self.destination_account_id,
            self.destination_account_external_id,
        )?;
        Ok(NewAchCollection {
            destination,
            source,
            counterparty_id: self.counterparty_id,
            entry_type: self.kind.unwrap_or(AchEntryType::Debit),
            amount: self.amount.parse("amount")?,
            sec_code: self.sec_code,
            processing_mode: self.processing_mode.unwrap_or(ProcessingMode::Standard),
            effective_date,
            payment_type: self.payment_type,
            authorization: self
                .authorization
                .map(|a| a.into_domain("authorization"))
                .transpose()?,
            company_name: self.company_name,
            company_entry_description: self.company_entry_description,
            addenda: self.addenda,
            reference: self.reference,
            purpose: self.purpose,
            external_id: self.external_id,
            metadata: self.metadata,
            allow_duplicate: self.allow_duplicate,
            schedule: None,
        })
    }
}
