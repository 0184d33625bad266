//! Creating customers.

use chrono::{DateTime, Utc};
use inflow_core::ids::CustomerId;
use inflow_core::model::{
    validate_ach_company_id, validate_ach_company_name, validate_allowed_company_names,
    validate_email, validate_metadata, AchLimits, AchPolicy, Customer, CustomerKind,
    CustomerStatus, Metadata, DEFAULT_CARD_DAILY_LIMIT,
};
use inflow_core::text::bounded_text;
use inflow_core::ValidationError;
use inflow_store::{StoreError, Tx};

/// A customer as an operator asks for it, before validation.
#[derive(Debug, Default, Clone)]
pub struct NewCustomer {
    pub name: String,
    pub kind: Option<CustomerKind>,
    pub email: Option<String>,
    pub allow_one_time_source: bool,
    pub require_signed_requests: bool,
    pub ach_company_name: Option<String>,
    pub ach_company_id: Option<String>,
    /// Other company names the customer may put on collections.
    pub allowed_company_names: Vec<String>,
    pub ach_policy: AchPolicy,
    /// Minor units; `None`: [`DEFAULT_CARD_DAILY_LIMIT`].
    pub card_daily_limit: Option<i64>,
    /// `None` fields: the operator's defaults.
    pub ach_limits: AchLimits,
    /// The customer's keys may issue API keys.
    pub can_manage_api_keys: bool,
    /// The customer's ODFI (already checked against the configuration);
    /// `None`: the default ODFI.
    pub odfi_id: Option<String>,
    pub metadata: Metadata,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateCustomerError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl NewCustomer {
    /// Validate into a customer created at `now`.
    pub fn build(self, now: DateTime<Utc>) -> Result<Customer, ValidationError> {
        let kind = self.kind.ok_or_else(|| {
            ValidationError::new(
                "kind",
                "required",
                "kind is required: individual or business",
            )
        })?;
        if self.allow_one_time_source && kind != CustomerKind::Business {
            return Err(ValidationError::new(
                "allowOneTimeSource",
                "one_time_source_business_only",
                "one-time bank account sources can only be enabled for business customers",
            ));
        }
        validate_metadata("metadata", &self.metadata)?;
        Ok(Customer {
            id: CustomerId::generate(now),
            name: bounded_text("name", &self.name, 1, 200)?,
            kind,
            email: self
                .email
                .as_deref()
                .map(|e| validate_email("email", e))
                .transpose()?,
            status: CustomerStatus::Active,
            allow_one_time_source: self.allow_one_time_source,
            require_signed_requests: self.require_signed_requests,
            ach_company_name: self
                .ach_company_name
                .as_deref()
                .map(|n| validate_ach_company_name("achCompanyName", n))
                .transpose()?,
            ach_company_id: self
                .ach_company_id
                .as_deref()
                .map(|n| validate_ach_company_id("achCompanyId", n))
                .transpose()?,
            allowed_company_names: validate_allowed_company_names(
                "allowedCompanyNames",
                &self.allowed_company_names,
            )?,
            ach_policy: self.ach_policy,
            card_daily_limit: self.card_daily_limit.unwrap_or(DEFAULT_CARD_DAILY_LIMIT),
            ach_limits: self.ach_limits,
            can_manage_api_keys: self.can_manage_api_keys,
            odfi_id: self.odfi_id,
            metadata: self.metadata,
            created_at: now,
            updated_at: now,
        })
    }
}

pub async fn create_customer(
    tx: &mut Tx,
    new: NewCustomer,
    audit: &inflow_engine::audit::AuditContext,
    now: DateTime<Utc>,
) -> Result<Customer, CreateCustomerError> {
    let customer = new.build(now)?;
    tx.insert_customer(&customer).await?;
    audit
        .change("customer.created", "customer", customer.id.as_str())
        .after(&crate::api::customers::CustomerResponse::from(
            customer.clone(),
        ))
        .record(tx, now)
        .await?;
    Ok(customer)
}
