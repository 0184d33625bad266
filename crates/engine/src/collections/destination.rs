//! The account a collection pays into, addressed by Inflow's id
//! (`destinationAccountId`) or by the customer's own (`destinationAccountExternalId`):
//! exactly one of the two, on every request that names a destination.

use inflow_core::ids::{AccountId, CustomerId};
use inflow_core::model::{validate_external_id, Account, AccountStatus};
use inflow_core::Refusal;
use inflow_store::Tx;

use crate::usecase::{missing_as, UseCaseResult};

/// How a request named its destination account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DestinationRef {
    Id(AccountId),
    ExternalId(String),
}

impl DestinationRef {
    /// Exactly one of `destinationAccountId` and `destinationAccountExternalId`.
    pub fn from_fields(id: Option<String>, external_id: Option<String>) -> Result<Self, Refusal> {
        match (id, external_id) {
            (Some(id), None) => Ok(Self::Id(AccountId::parse("destinationAccountId", &id)?)),
            (None, Some(ext)) => Ok(Self::ExternalId(validate_external_id(
                "destinationAccountExternalId",
                &ext,
            )?)),
            (Some(_), Some(_)) => Err(Refusal::invalid(
                "invalid_destination",
                "give only one of destinationAccountId and destinationAccountExternalId",
                "destinationAccountExternalId",
            )),
            (None, None) => Err(Refusal::invalid(
                "missing_field",
                "destinationAccountId (or destinationAccountExternalId) is required",
                "destinationAccountId",
            )),
        }
    }

    /// The request field this reference came from, for refusals.
    pub fn param(&self) -> &'static str {
        match self {
            Self::Id(_) => "destinationAccountId",
            Self::ExternalId(_) => "destinationAccountExternalId",
        }
    }

    /// The customer's account; `resource_not_found` naming the field when
    /// there is none (a store failure stays a store failure).
    pub async fn load(&self, tx: &mut Tx, customer: &CustomerId) -> UseCaseResult<Account> {
        let found = match self {
            Self::Id(id) => tx.get_account(customer, id).await,
            Self::ExternalId(ext) => tx.get_account_by_external_id(customer, ext).await,
        };
        found.map_err(missing_as(|| {
            Refusal::not_found("destination account").with_field(self.param())
        }))
    }

    /// A closed account takes no new collection (`destination_account_closed`).
    pub fn refuse_closed(&self, account: &Account) -> Result<(), Refusal> {
        if account.status == AccountStatus::Closed {
            return Err(Refusal::conflict(
                "destination_account_closed",
                "the destination account is closed",
            )
            .with_field(self.param()));
        }
        Ok(())
    }
}
