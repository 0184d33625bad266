//! What a prenote's outcome does to its account: a prenote that clears
//! (no return within the wait) validates the saved payment method and
//! releases the debits held for it; a returned prenote marks the account
//! `failed` and fails those debits. Runs in the caller's transaction.

use chrono::{DateTime, Utc};
use inflow_core::collection::{AchCollection, AchEntryType, HoldCode};
use inflow_core::model::{AccountValidation, ValidationMethod, ValidationStatus};
use inflow_store::Tx;

use crate::config::AchConfig;
use crate::events::payment_method_event;
use crate::files::AchError;
use crate::holds;

/// `prenote` has just completed.
pub async fn cleared(
    tx: &mut Tx,
    cfg: &AchConfig,
    prenote: &AchCollection,
    now: DateTime<Utc>,
) -> Result<(), AchError> {
    let Some(pm_id) = prenote_payment_method(prenote) else {
        return Ok(());
    };
    let mut pm = tx
        .get_bank_payment_method(&prenote.customer_id, pm_id)
        .await?;
    if pm.validation.status != ValidationStatus::Validated {
        pm.validation = AccountValidation {
            status: ValidationStatus::Validated,
            method: Some(ValidationMethod::Prenote),
            prenote_id: Some(prenote.id.clone()),
            validated_at: Some(now),
        };
        pm.updated_at = now;
        tx.update_bank_payment_method(&pm).await?;
        payment_method_event(tx, &pm, now).await?;
    }
    holds::release(
        tx,
        cfg,
        HoldCode::PrenotePending,
        Some(pm_id),
        None,
        &format!("prenote {} cleared", prenote.id),
        now,
    )
    .await?;
    Ok(())
}

/// `prenote` has just been returned with `reason` (`R03: No account…`).
pub async fn returned(
    tx: &mut Tx,
    cfg: &AchConfig,
    prenote: &AchCollection,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), AchError> {
    let Some(pm_id) = prenote_payment_method(prenote) else {
        return Ok(());
    };
    let mut pm = tx
        .get_bank_payment_method(&prenote.customer_id, pm_id)
        .await?;
    // A prenote sent after the account was validated (by the operator or an
    // earlier prenote) still tells that the account is gone.
    pm.validation = AccountValidation {
        status: ValidationStatus::Failed,
        method: Some(ValidationMethod::Prenote),
        prenote_id: Some(prenote.id.clone()),
        validated_at: None,
    };
    pm.updated_at = now;
    tx.update_bank_payment_method(&pm).await?;
    payment_method_event(tx, &pm, now).await?;
    holds::fail(
        tx,
        cfg,
        HoldCode::PrenotePending,
        Some(pm_id),
        None,
        &format!("prenote {} was returned ({reason})", prenote.id),
        now,
    )
    .await?;
    Ok(())
}

fn prenote_payment_method(c: &AchCollection) -> Option<&inflow_core::ids::PaymentMethodId> {
    (c.entry_type == AchEntryType::Prenote)
        .then_some(c.payment_method_id.as_ref())
        .flatten()
}
