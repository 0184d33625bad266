//! The operator's actions for the bad day at the bank: retry an upload that
//! failed, record a file sent by hand, and poll the ODFIs' inbound
//! directories now.

use axum::extract::State;
use axum::{Extension, Json};
use inflow_engine::delivery::pickup::PickedUp;
use inflow_engine::delivery::upload::{deliver_due_waiting, mark_uploaded, retry_upload};
use inflow_engine::delivery::DeliveryError;
use inflow_engine::files::AchError;

use crate::api::ach::AchFileView;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::audit::Audit;
use crate::http::auth::Auth;
use crate::state::AppState;

fn delivery_error(e: DeliveryError) -> ApiError {
    match e {
        DeliveryError::Store(inflow_store::StoreError::NotFound)
        | DeliveryError::NotOutbound(_) => ApiError::not_found("outbound ACH file"),
        e @ DeliveryError::WrongState { .. } => {
            ApiError::conflict("invalid_delivery_state", e.to_string())
        }
        e => {
            tracing::error!(error = %e, "ACH file delivery action failed");
            ApiError::internal()
        }
    }
}

async fn file_view(state: &AppState, id: &str) -> ApiResult<Json<AchFileView>> {
    let mut tx = state.store.read().await?;
    let view = AchFileView::load(&mut tx, id).await?;
    tx.rollback().await?;
    Ok(Json(view))
}

/// Try an `upload_failed` file again now (operator keys).
///
/// The file goes back to `built` with its attempts counted afresh and one
/// attempt is made at once; the answer shows its outcome (`uploaded`, or
/// `built` with the error and the next automatic attempt). 409 when the
/// file is not `upload_failed`.
#[utoipa::path(post, path = "/v1/ach/files/{id}/retry-upload", tag = "ach", params(("id" = String, Path)),
    responses((status = 200, body = AchFileView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn retry_file_upload(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    axum::extract::Path(id): axum::extract::Path<String>,
    Audit(audit): Audit,
) -> ApiResult<Json<AchFileView>> {
    auth.require_admin()?;
    let now = state.clock.now();
    retry_upload(&state.store, &id, &audit, now)
        .await
        .map_err(delivery_error)?;
    let waited = inflow_engine::leases::API_LEASE_WAIT;
    match deliver_due_waiting(&state.store, &state.vault, &state.delivery, now, waited).await {
        // Another node is delivering: its delivery job uploads this file too.
        Ok(_) | Err(AchError::Busy(_)) => {}
        Err(e) => {
            tracing::error!(error = %e, file = %id, "delivery after retry-upload failed");
            return Err(ApiError::internal());
        }
    }
    file_view(&state, &id).await
}

/// Record that a file was sent to the bank by hand (operator keys): it
/// becomes `uploaded` by this key, now, with an `ach_file.uploaded` event,
/// and the delivery job never sends it. 409 unless the file is `built` or
/// `upload_failed`.
#[utoipa::path(post, path = "/v1/ach/files/{id}/mark-uploaded", tag = "ach", params(("id" = String, Path)),
    responses((status = 200, body = AchFileView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn mark_file_uploaded(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    axum::extract::Path(id): axum::extract::Path<String>,
    Audit(audit): Audit,
) -> ApiResult<Json<AchFileView>> {
    auth.require_admin()?;
    let now = state.clock.now();
    mark_uploaded(&state.store, &id, auth.key_id.as_str(), &audit, now)
        .await
        .map_err(delivery_error)?;
    file_view(&state, &id).await
}

/// One file an inbound poll found.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PickedUpView {
    pub odfi_id: String,
    /// The remote file name (empty when the directory could not be listed).
    pub name: String,
    /// `applied`, `duplicate` (its content was applied before),
    /// `acknowledged` (the bank's acknowledgement of the outbound file
    /// named in `detail`), `rejected`
    /// (kept in the local `rejected/` folder) or `failed` (left on the
    /// server for the next poll).
    pub outcome: &'static str,
    pub detail: Option<String>,
}

impl From<PickedUp> for PickedUpView {
    fn from(p: PickedUp) -> Self {
        let (odfi_id, name, outcome, detail) = match p {
            PickedUp::Applied { odfi, name } => (odfi, name, "applied", None),
            PickedUp::Duplicate { odfi, name } => (odfi, name, "duplicate", None),
            PickedUp::Acknowledged {
                odfi,
                name,
                file_id,
            } => (odfi, name, "acknowledged", Some(file_id)),
            PickedUp::Rejected { odfi, name, reason } => (odfi, name, "rejected", Some(reason)),
            PickedUp::Failed { odfi, name, error } => (odfi, name, "failed", Some(error)),
        };
        Self {
            odfi_id,
            name,
            outcome,
            detail,
        }
    }
}

/// What an inbound poll did.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InboundPollView {
    /// Always `ach_inbound_poll`.
    pub object: &'static str,
    pub files: Vec<PickedUpView>,
}

/// Poll every ODFI's inbound directory now (operator keys), as the
/// scheduler does on every tick: new return/NOC files are applied, files
/// whose content was applied before are only removed.
#[utoipa::path(post, path = "/v1/ach/inbound/poll", tag = "ach",
    responses((status = 200, body = InboundPollView), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`job_busy`: another node is polling the ODFIs (answered after a few seconds' wait, with `Retry-After`); nothing changed")))]
pub async fn poll_inbound(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    audit: Audit,
) -> ApiResult<Json<InboundPollView>> {
    auth.require_admin()?;
    let now = state.clock.now();
    let picked = inflow_engine::delivery::pickup::pickup_inbound_waiting(
        &state.store,
        &state.vault,
        &state.ach,
        &state.delivery,
        now,
        inflow_engine::leases::API_LEASE_WAIT,
    )
    .await
    .map_err(|e| match e {
        // Another node is polling: nothing was done here.
        AchError::Busy(_) => ApiError::from(e),
        e => {
            tracing::error!(error = %e, "inbound poll failed");
            ApiError::internal()
        }
    })?;
    let view = InboundPollView {
        object: "ach_inbound_poll",
        files: picked.into_iter().map(Into::into).collect(),
    };
    if !view.files.is_empty() {
        let after = serde_json::to_value(&view).unwrap_or_default();
        audit
            .record_after(
                &state,
                "ach.inbound_polled",
                ("ach_inbound_poll", "odfi".into()),
                None,
                after,
            )
            .await;
    }
    Ok(Json(view))
}
