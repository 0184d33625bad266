//! The parties a new collection is made for: the customer (active) and the
//! destination account (the customer's, not closed), locked before they are
//! read so a concurrent status change of either waits for this collection,
//! then moves it.

use inflow_core::model::{Account, Customer, CustomerStatus};
use inflow_core::Refusal;
use inflow_store::Tx;

use crate::collections::destination::DestinationRef;
use crate::usecase::UseCaseResult;

/// Lock the customer and the destination account, then check them.
pub(super) async fn lock_and_load(
    tx: &mut Tx,
    customer: &Customer,
    destination: &DestinationRef,
) -> UseCaseResult<Account> {
    let destination_id = match destination {
        DestinationRef::Id(id) => id.clone(),
        by_external_id => by_external_id.load(tx, &customer.id).await?.id,
    };
    let status = tx
        .lock_collection_parties(&customer.id, &destination_id)
        .await?;
    if status != CustomerStatus::Active {
        let why = format!(
            "customer {} is suspended; no collection can be made for it",
            customer.id
        );
        return Err(Refusal::conflict("customer_suspended", why).into());
    }
    let account = DestinationRef::Id(destination_id)
        .load(tx, &customer.id)
        .await
        .map_err(|e| e.map_refusal(|r| r.with_field(destination.param())))?;
    destination.refuse_closed(&account)?;
    Ok(account)
}
