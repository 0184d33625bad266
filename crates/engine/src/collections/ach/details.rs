//! The descriptive fields of a new ACH collection: metadata, external id,
//! reference, purpose, and the authorization (the request's, else the
//! customer's default; never obtained in the future).

use chrono::{DateTime, Duration, Utc};
use inflow_core::collection::Authorization;
use inflow_core::model::{validate_external_id, validate_metadata, Customer};
use inflow_core::text::bounded_text;
use inflow_core::Refusal;

use super::NewAchCollection;

/// The checked fields.
pub(super) struct Details {
    pub(super) external_id: Option<String>,
    pub(super) reference: Option<String>,
    pub(super) purpose: Option<String>,
    pub(super) authorization: Authorization,
}

pub(super) fn check(
    customer: &Customer,
    req: &NewAchCollection,
    now: DateTime<Utc>,
) -> Result<Details, Refusal> {
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
            Refusal::invalid(
                "missing_field",
                "authorization is required: the customer has no default authorization",
                "authorization",
            )
        })?;
    if authorization.obtained_at > now + Duration::minutes(5) {
        return Err(Refusal::invalid(
            "invalid_authorization",
            "authorization.obtainedAt is in the future",
            "authorization.obtainedAt",
        ));
    }
    Ok(Details {
        external_id,
        reference,
        purpose,
        authorization,
    })
}
