//! The new ACH collection, assembled from the request and what the rules
//! checked and resolved (nothing here can refuse).

use chrono::{DateTime, Utc};
use inflow_core::calendar::EntryPlan;
use inflow_core::collection::{AchCollection, StatusChange};
use inflow_core::fees::CollectionFees;
use inflow_core::ids::{CollectionId, CounterpartyId};
use inflow_core::model::{Account, Customer};

use super::details::Details;
use super::entry::EntryFields;
use super::source::ResolvedSource;
use super::status::Initial;
use super::NewAchCollection;

/// Everything the collection is made of.
pub(super) struct Parts<'a> {
    pub(super) id: CollectionId,
    pub(super) customer: &'a Customer,
    pub(super) req: NewAchCollection,
    pub(super) destination: Account,
    pub(super) source: ResolvedSource,
    pub(super) counterparty_id: Option<CounterpartyId>,
    pub(super) plan: EntryPlan,
    pub(super) details: Details,
    pub(super) entry: EntryFields,
    pub(super) initial: Initial,
    pub(super) fees: CollectionFees,
    pub(super) now: DateTime<Utc>,
}

pub(super) fn collection(p: Parts<'_>) -> AchCollection {
    let (source, entry, details, now) = (p.source, p.entry, p.details, p.now);
    let Initial {
        status,
        reason,
        hold,
    } = p.initial;
    AchCollection {
        id: p.id,
        customer_id: p.customer.id.clone(),
        entry_type: p.req.entry_type,
        status,
        status_reason: reason.clone(),
        status_history: vec![StatusChange {
            status,
            reason,
            at: now,
        }],
        amount: p.req.amount,
        destination_account_id: p.destination.id,
        payment_method_id: source.payment_method_id,
        counterparty_id: p.counterparty_id,
        routing_number: source.routing,
        account_number_sealed: source.sealed,
        account_last4: source.last4,
        account_fingerprint: source.fingerprint,
        account_type: source.account_type,
        holder_name: source.holder_name,
        holder_type: source.holder_type,
        sec_code: entry.sec_code,
        processing_mode: p.req.processing_mode,
        payment_type: entry.payment_type,
        effective_date: p.plan.effective_date,
        release_date: p.plan.release_date,
        authorization: details.authorization,
        company_name: entry.company_name,
        company_id: entry.company_id,
        company_entry_description: entry.company_entry_description,
        addenda: entry.addenda,
        reference: details.reference,
        purpose: details.purpose,
        external_id: details.external_id,
        metadata: p.req.metadata,
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
        schedule: p.req.schedule,
        fees: p.fees,
    }
}
