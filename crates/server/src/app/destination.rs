//! The account a collection pays into, addressed by Inflow's id
//! (`destinationAccountId`) or by the customer's own (`destinationAccountExternalId`):
//! exactly one of the two, on every request that names a destination.

use inflow_core::ids::{AccountId, CustomerId};
use inflow_core::model::{validate_external_id, Account};
use inflow_store::{StoreError, Tx};

use crate::error::{ApiError, ApiResult};

/// How a request named its destination account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DestinationRef {
    Id(AccountId),
    ExternalId(String),
}

impl DestinationRef {
    /// Exactly one of `destinationAccountId` and `destinationAccountExternalId`.
    pub fn from_fields(id: Option<String>, external_id: Option<String>) -> ApiResult<Self> {
        match (id, external_id) {
            (Some(id), None) => Ok(Self::Id(AccountId::parse("destinationAccountId", &id)?)),
            (None, Some(ext)) => Ok(Self::ExternalId(validate_external_id(
                "destinationAccountExternalId",
                &ext,
            )?)),
            (Some(_), Some(_)) => Err(ApiError::invalid(
                "invalid_destination",
                "give only one of destinationAccountId and destinationAccountExternalId",
                "destinationAccountExternalId",
            )),
            (None, None) => Err(ApiError::invalid(
                "missing_field",
                "destinationAccountId (or destinationAccountExternalId) is required",
                "destinationAccountId",
            )),
        }
    }

    /// The request field this reference came from, for errors.
    pub fn param(&self) -> &'static str {
        match self {
            Self::Id(_) => "destinationAccountId",
            Self::ExternalId(_) => "destinationAccountExternalId",
        }
    }

    /// The customer's account; `404` naming the field when there is none.
    pub async fn load(&self, tx: &mut Tx, customer: &CustomerId) -> ApiResult<Account> {
        let found = match self {
            Self::Id(id) => tx.get_account(customer, id).await,
            Self::ExternalId(ext) => tx.get_account_by_external_id(customer, ext).await,
        };
        found.map_err(|e| match e {
            StoreError::NotFound => {
                ApiError::not_found("destination account").with_param(self.param())
            }
            other => other.into(),
        })
    }
}
