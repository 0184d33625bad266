//! The collection resource.

use inflow_core::bank::{AccountType, HolderType};
use inflow_core::collection::{
    AchCollection, AchEntryType, Authorization, AuthorizationType, CollectionStatus, HoldCode,
    PaymentType, ProcessingMode, SecCode,
};
use inflow_core::model::Metadata;
use inflow_core::money::Money;
use serde::Serialize;

use super::noc::{noc_view, NocView};
use super::time;
use utoipa::ToSchema;

/// An amount as Inflow returns it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MoneyView {
    pub currency: String,
    /// Minor units as a string of digits.
    #[schema(example = "250000")]
    pub value: String,
    pub exponent: u32,
    /// Major units with the currency's decimals, for display only.
    #[schema(example = "2500.00")]
    pub display_value: String,
}

impl From<Money> for MoneyView {
    fn from(m: Money) -> Self {
        Self {
            currency: m.currency().code().to_owned(),
            value: m.minor().to_string(),
            exponent: m.currency().exponent(),
            display_value: m.display_value(),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusChangeView {
    pub status: CollectionStatus,
    pub reason: Option<String>,
    pub at: String,
}

/// The bank account debited (masked).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BankSourceView {
    pub routing_number: String,
    pub last4: String,
    pub account_number_masked: String,
    pub account_type: AccountType,
    pub holder_name: String,
    pub holder_type: HolderType,
    pub fingerprint: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizationView {
    #[serde(rename = "type")]
    pub kind: AuthorizationType,
    pub obtained_at: String,
    pub ip_address: Option<String>,
    pub evidence_ref: Option<String>,
}

impl From<&Authorization> for AuthorizationView {
    fn from(a: &Authorization) -> Self {
        Self {
            kind: a.kind,
            obtained_at: time(a.obtained_at),
            ip_address: a.ip_address.clone(),
            evidence_ref: a.evidence_ref.clone(),
        }
    }
}

/// The fees charged on a collection, fixed when it was created.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeesView {
    /// The fixed per-debit fee.
    pub fixed: MoneyView,
    /// The same-day surcharge.
    pub same_day: MoneyView,
    /// The percentage fee (after its min/max caps).
    pub percentage: MoneyView,
    /// fixed + sameDay + percentage: deducted from the credit.
    pub total: MoneyView,
    /// Charged to the destination account only if the collection is returned.
    pub return_fee: MoneyView,
}

/// `minor` as a money object; a negative amount (a net credit after
/// refunds that kept their fees) keeps its sign.
pub(crate) fn money(currency: inflow_core::money::Currency, minor: i64) -> MoneyView {
    Money::new(currency, minor)
        .map(MoneyView::from)
        .unwrap_or_else(|_| {
            let positive = Money::new(currency, minor.saturating_neg()).map(MoneyView::from);
            MoneyView {
                currency: currency.code().to_owned(),
                value: minor.to_string(),
                exponent: currency.exponent(),
                display_value: match positive {
                    Ok(p) if minor < 0 => format!("-{}", p.display_value),
                    _ => minor.to_string(),
                },
            }
        })
}

/// The fees view of `fees`, of which `charged` is deducted.
pub(crate) fn fees_view(
    currency: inflow_core::money::Currency,
    fees: &inflow_core::fees::CollectionFees,
    charged: i64,
) -> FeesView {
    FeesView {
        fixed: money(currency, fees.fixed),
        same_day: money(currency, fees.same_day),
        percentage: money(currency, fees.percentage),
        total: money(currency, charged),
        return_fee: money(currency, fees.return_fee),
    }
}

/// A collection (pull payment).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CollectionView {
    #[schema(example = "col_0195f0c8a3c47d1e8a8b5f3e2d1c0b9a")]
    pub id: String,
    /// Always `collection`.
    pub object: &'static str,
    pub customer_id: String,
    /// `ach`
    pub rail: &'static str,
    #[serde(rename = "type")]
    pub kind: AchEntryType,
    /// Always `inbound`: collections pull money in.
    pub direction: &'static str,
    pub amount: MoneyView,
    pub fees: FeesView,
    /// What the destination account is credited: amount − fees.total.
    pub total_credit_amount: MoneyView,
    pub status: CollectionStatus,
    pub status_reason: Option<String>,
    /// While `on_hold`: what it waits for (`customer_suspended`,
    /// `destination_blocked`, `payment_method_blocked`,
    /// `payment_method_inactive`, `schedule_paused`, `prenote_pending`);
    /// `null` otherwise.
    pub hold_code: Option<HoldCode>,
    pub status_history: Vec<StatusChangeView>,
    /// Whether `POST /v1/collections/{id}/cancel` would succeed now.
    pub cancellable: bool,
    pub destination_account_id: String,
    pub payment_method_id: Option<String>,
    pub counterparty_id: Option<String>,
    pub source: BankSourceView,
    pub sec_code: SecCode,
    pub processing_mode: ProcessingMode,
    pub payment_type: Option<PaymentType>,
    /// The NACHA effective entry date (YYYY-MM-DD).
    pub effective_date: String,
    pub authorization: AuthorizationView,
    pub company_name: String,
    pub company_entry_description: String,
    pub addenda: Option<String>,
    pub reference: Option<String>,
    pub purpose: Option<String>,
    pub external_id: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: Metadata,
    /// Assigned when the entry is placed in a file.
    pub trace_number: Option<String>,
    pub file_id: Option<String>,
    pub ach_return_code: Option<String>,
    pub ach_return_description: Option<String>,
    pub noc: Option<NocView>,
    /// The recurring schedule this collection was created for (`sch_…`).
    pub schedule_id: Option<String>,
    /// Its occurrence number in that schedule (1-based).
    pub occurrence: Option<u32>,
    /// 0 for the occurrence's first presentment, 1 and 2 for retries of an R01/R09 return.
    pub retry: Option<u32>,
    /// For a retry: the occurrence's first collection.
    pub retry_of: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub submitted_at: Option<String>,
    pub completed_at: Option<String>,
    pub returned_at: Option<String>,
}

pub fn collection_view(c: &AchCollection) -> CollectionView {
    let cur = c.amount.currency();
    let charged = c.fees.total().clamp(0, c.amount.minor());
    CollectionView {
        id: c.id.to_string(),
        object: "collection",
        customer_id: c.customer_id.to_string(),
        rail: "ach",
        kind: c.entry_type,
        direction: "inbound",
        amount: c.amount.into(),
        fees: fees_view(cur, &c.fees, charged),
        total_credit_amount: money(cur, c.amount.minor() - charged),
        status: c.status,
        status_reason: c.status_reason.clone(),
        hold_code: c.hold.filter(|_| c.status == CollectionStatus::OnHold),
        status_history: c
            .status_history
            .iter()
            .map(|h| StatusChangeView {
                status: h.status,
                reason: h.reason.clone(),
                at: time(h.at),
            })
            .collect(),
        cancellable: c.status.is_cancellable(),
        destination_account_id: c.destination_account_id.to_string(),
        payment_method_id: c.payment_method_id.as_ref().map(|p| p.to_string()),
        counterparty_id: c.counterparty_id.as_ref().map(|p| p.to_string()),
        source: BankSourceView {
            routing_number: c.routing_number.to_string(),
            last4: c.account_last4.clone(),
            account_number_masked: format!("****{}", c.account_last4),
            account_type: c.account_type,
            holder_name: c.holder_name.clone(),
            holder_type: c.holder_type,
            fingerprint: c.account_fingerprint.clone(),
        },
        sec_code: c.sec_code,
        processing_mode: c.processing_mode,
        payment_type: c.payment_type,
        effective_date: c.effective_date.to_string(),
        authorization: AuthorizationView::from(&c.authorization),
        company_name: c.company_name.clone(),
        company_entry_description: c.company_entry_description.clone(),
        addenda: c.addenda.clone(),
        reference: c.reference.clone(),
        purpose: c.purpose.clone(),
        external_id: c.external_id.clone(),
        metadata: c.metadata.clone(),
        trace_number: c.trace_number.clone(),
        file_id: c.file_id.clone(),
        ach_return_code: c.return_code.clone(),
        ach_return_description: c
            .return_code
            .as_deref()
            .and_then(nacha::ReturnCode::parse)
            .map(|r| r.description().to_owned()),
        noc: c.noc_code.as_deref().map(|code| {
            noc_view(
                code,
                c.noc_corrected_data.as_deref(),
                c.noc_correction.as_ref(),
            )
        }),
        schedule_id: c.schedule.as_ref().map(|l| l.schedule_id.to_string()),
        occurrence: c.schedule.as_ref().map(|l| l.occurrence),
        retry: c.schedule.as_ref().map(|l| l.retry),
        retry_of: c
            .schedule
            .as_ref()
            .and_then(|l| l.retry_of.as_ref())
            .map(|r| r.to_string()),
        created_at: time(c.created_at),
        updated_at: time(c.updated_at),
        submitted_at: c.submitted_at.map(time),
        completed_at: c.completed_at.map(time),
        returned_at: c.returned_at.map(time),
    }
}
