//! `/v1/ach`: the operator's side of the ACH rail — handing Inflow the
//! return and notification-of-change files the bank sends back, the
//! outbound files and their delivery state, manual cutoffs. The operator's
//! delivery actions are in [`crate::api::ach_delivery`].

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

use inflow_engine::cutoff::CutoffSummary;
use inflow_engine::files::AchError;

use crate::error::{ApiError, ApiResult, ErrorBody, ErrorType};
use crate::http::audit::Audit;
use crate::http::auth::Auth;
use crate::http::upload::Upload;
use crate::state::AppState;

/// The raw bytes of a NACHA file (for the OpenAPI document).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct NachaFileBytes(pub Vec<u8>);

/// Upload a return/NOC file from the bank (operator keys; body = the NACHA file).
///
/// The body is the file as the bank sent it, `text/plain` or
/// `application/octet-stream`. It is streamed to disk, up to `[ach] max_inbound_file_bytes`
/// (100 MiB by default; 413 beyond, naming the limit), and applied in
/// chunks. Returns are matched to collections by the original trace number
/// (unknown traces are kept as unmatched), NOCs update the saved bank
/// account, and the same file uploaded twice changes nothing the second
/// time (`duplicate: true`): the file's SHA-256 is its identity.
#[utoipa::path(post, path = "/v1/ach/inbound", tag = "ach",
    request_body(description = "A NACHA return or NOC file, as the bank sent it",
        content((String = "text/plain"), (NachaFileBytes = "application/octet-stream"))),
    responses((status = 201, description = "The file was applied; the body is the ingestion report"),
        (status = 200, description = "The same file was applied before; nothing changed"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, description = "The file is larger than `ach.max_inbound_file_bytes`", body = ErrorBody)))]
pub async fn upload_inbound(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Extension(upload): Extension<Upload>,
    audit: Audit,
) -> ApiResult<Response> {
    auth.require_admin()?;
    let now = state.clock.now();
    // Read from the temp file as a stream; `upload` removes it when dropped.
    let result = inflow_engine::inbound::ingest_inbound_file(
        &state.store,
        &state.vault,
        &state.ach,
        upload.path(),
        "api-upload",
        now,
    )
    .await;
    drop(upload);
    match result {
        Ok(report) => {
            if !report.duplicate {
                // The counts, not the entries (up to a thousand of them).
                let mut after = serde_json::to_value(&report).unwrap_or_default();
                if let Some(o) = after.as_object_mut() {
                    o.remove("entries");
                    o.remove("warnings");
                }
                let file = report.file_id.clone();
                audit
                    .record_after(
                        &state,
                        "ach.inbound_file_applied",
                        ("ach_file", file),
                        None,
                        after,
                    )
                    .await;
            }
            let status = if report.duplicate {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            Ok((status, Json(report)).into_response())
        }
        Err(e) if e.is_rejection() => {
            let details = e.details();
            let shown: Vec<&str> = details.iter().take(20).map(String::as_str).collect();
            Err(ApiError::invalid(
                "invalid_ach_file",
                format!("the file was not applied: {}", shown.join("; ")),
                "body",
            ))
        }
        Err(e) => {
            tracing::error!(error = %e, "inbound ACH file could not be applied");
            Err(ApiError::internal())
        }
    }
}

/// An outbound or inbound NACHA file.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AchFileView {
    pub id: String,
    /// Always `ach_file`.
    pub object: &'static str,
    pub direction: String,
    pub status: String,
    pub file_name: String,
    pub creation_date: String,
    pub file_id_modifier: Option<String>,
    pub cutoff_at: Option<String>,
    pub batch_count: i64,
    pub entry_count: i64,
    pub total_debit: i64,
    pub total_credit: i64,
    pub sha256: Option<String>,
    pub created_at: String,
    /// Outbound files: whether the ODFI has the file (`built`, `uploading`,
    /// `uploaded`, `acknowledged` or `upload_failed`), attempts, last error,
    /// and who uploaded it when. Absent for inbound files.
    pub delivery: Option<inflow_engine::delivery::DeliveryView>,
}

impl AchFileView {
    /// The file row with its delivery state.
    pub fn with_delivery(
        f: inflow_store::repo::ach_files::AchFile,
        d: Option<&inflow_store::repo::ach_delivery::FileDelivery>,
    ) -> Self {
        let mut v = Self::from(f);
        v.delivery = d.map(Into::into);
        v
    }

    /// Read file `id` with its delivery state (404 when unknown).
    pub async fn load(tx: &mut inflow_store::Tx, id: &str) -> ApiResult<Self> {
        let f = tx
            .get_ach_file(id)
            .await
            .map_err(ApiError::not_found_if_missing("ACH file"))?;
        let d = tx.get_ach_file_delivery(id).await?;
        Ok(Self::with_delivery(f, d.as_ref()))
    }
}

impl From<inflow_store::repo::ach_files::AchFile> for AchFileView {
    fn from(f: inflow_store::repo::ach_files::AchFile) -> Self {
        use crate::api::common::time;
        Self {
            id: f.id,
            object: "ach_file",
            direction: f.direction,
            status: f.status,
            file_name: f.file_name,
            creation_date: f.creation_date.to_string(),
            file_id_modifier: f.file_id_modifier,
            cutoff_at: f.cutoff_at.map(time),
            batch_count: f.batch_count,
            entry_count: f.entry_count,
            total_debit: f.total_debit,
            total_credit: f.total_credit,
            sha256: f.sha256,
            created_at: time(f.created_at),
            delivery: None,
        }
    }
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FileListParams {
    pub limit: Option<u32>,
    pub starting_after: Option<String>,
    /// `outbound` or `inbound`.
    pub direction: Option<String>,
}

/// List NACHA files, newest first (operator keys).
#[utoipa::path(get, path = "/v1/ach/files", tag = "ach", params(FileListParams),
    responses((status = 200, body = crate::api::common::ListResponse<AchFileView>), (status = 403, body = ErrorBody)))]
pub async fn list_files(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    axum::extract::RawQuery(q): axum::extract::RawQuery,
) -> ApiResult<Json<crate::api::common::ListResponse<AchFileView>>> {
    auth.require_admin()?;
    let p: FileListParams = crate::http::body::parse_query(q.as_deref())?;
    if let Some(d) = p.direction.as_deref() {
        if !matches!(d, "outbound" | "inbound") {
            return Err(ApiError::invalid(
                "invalid_value",
                "direction must be `outbound` or `inbound`",
                "direction",
            ));
        }
    }
    let page_q = crate::api::common::PageParams {
        limit: p.limit,
        starting_after: p.starting_after,
    }
    .to_query()?;
    let mut tx = state.store.read().await?;
    let page = tx.list_ach_files(p.direction.as_deref(), &page_q).await?;
    let mut deliveries = std::collections::HashMap::new();
    for f in &page.data {
        if let Some(d) = tx.get_ach_file_delivery(&f.id).await? {
            deliveries.insert(f.id.clone(), d);
        }
    }
    tx.rollback().await?;
    Ok(Json(crate::api::common::ListResponse::from_page(
        page,
        |f| f.id.clone(),
        |f| {
            let d = deliveries.get(&f.id);
            AchFileView::with_delivery(f, d)
        },
    )))
}

/// Get a NACHA file's record (operator keys).
#[utoipa::path(get, path = "/v1/ach/files/{id}", tag = "ach", params(("id" = String, Path)),
    responses((status = 200, body = AchFileView), (status = 404, body = ErrorBody)))]
pub async fn get_file(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> ApiResult<Json<AchFileView>> {
    auth.require_admin()?;
    let mut tx = state.store.read().await?;
    let view = AchFileView::load(&mut tx, &id).await?;
    tx.rollback().await?;
    Ok(Json(view))
}

/// The NACHA text of an outbound file, exactly as written for the bank (operator keys).
#[utoipa::path(get, path = "/v1/ach/files/{id}/content", tag = "ach", params(("id" = String, Path)),
    responses((status = 200, description = "The file's bytes", content_type = "text/plain"), (status = 404, body = ErrorBody)))]
pub async fn file_content(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> ApiResult<Response> {
    auth.require_admin()?;
    let f = state
        .store
        .read()
        .await?
        .get_ach_file(&id)
        .await
        .map_err(ApiError::not_found_if_missing("ACH file"))?;
    if f.direction != "outbound" {
        return Err(ApiError::not_found("outbound ACH file"));
    }
    let bytes = inflow_engine::files::file_bytes(&state.store, &state.vault, &f.id)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, file = %f.id, "cannot rebuild an ACH file");
            ApiError::internal()
        })?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; charset=us-ascii",
        )],
        bytes,
    )
        .into_response())
}

/// A collection a cutoff failed instead of filing.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FailedCollectionView {
    pub collection_id: String,
    /// The reason recorded on the collection (`statusReason`).
    pub reason: String,
}

/// What a cutoff did.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CutoffView {
    /// Always `ach_cutoff`.
    pub object: &'static str,
    /// The files created, in File ID Modifier order: several when the due
    /// entries overflow one file's control totals or `max_entries_per_file`.
    pub files: Vec<AchFileView>,
    /// Collections that cannot be written to a NACHA file, now `failed`
    /// (each with a `collection.failed` event); everything else was filed.
    pub failed: Vec<FailedCollectionView>,
    /// Collections left `pending` for the next cutoff because the day's 36
    /// File ID Modifiers ran out.
    pub deferred: Vec<String>,
}

/// The answer when the cutoff committed but a later step failed: it says
/// what was committed (a retry must not expect nothing to have happened).
fn committed_but(summary: &CutoffSummary, step: &str, e: &AchError) -> ApiError {
    tracing::error!(error = %e, step, "a manual cutoff committed but a later step failed");
    let entries: i64 = summary.files.iter().map(|f| f.entry_count).sum();
    let ids: Vec<&str> = summary.files.iter().map(|f| f.file_id.as_str()).collect();
    let mut err = ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        ErrorType::ApiError,
        "cutoff_committed_step_failed",
        format!(
            "the cutoff committed: {entries} collection(s) filed in {} file(s) [{}] and {} failed; \
             {step} failed afterwards and is retried by the background jobs. Do not run the \
             cutoff again for them; see GET /v1/ach/files",
            ids.len(),
            ids.join(", "),
            summary.failed.len(),
        ),
    );
    err.retry_after = None;
    err
}

/// Run a cutoff now: every due pending collection goes into a file (operator keys).
///
/// While a same-day window of today is still ahead (of an ODFI's windows,
/// for that ODFI's entries), today's same-day entries go into a same-day
/// file for that window first; everything else
/// due goes into the standard file. Answers 201 when at least one file was
/// created, else 200 (nothing was due, or nothing due could be filed).
///
/// The files are then uploaded to the ODFI at once (their `delivery` shows
/// the outcome; a failed attempt is retried by the delivery job).
#[utoipa::path(post, path = "/v1/ach/cutoffs", tag = "ach",
    responses((status = 201, body = CutoffView), (status = 200, body = CutoffView, description = "No file was created"),
        (status = 409, body = ErrorBody, description = "`not_a_banking_day`; or `job_busy`: a cutoff is running on another node (answered after a few seconds' wait, with `Retry-After`); nothing changed"),
        (status = 500, body = ErrorBody, description = "`cutoff_committed_step_failed`: the cutoff committed (the message says what) but writing or uploading its files failed; the background jobs retry that. Any other 500 changed nothing"),
        (status = 503, body = ErrorBody, description = "The database is unavailable; nothing changed (`Retry-After`)")))]
pub async fn run_cutoff_now(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    audit: Audit,
) -> ApiResult<Response> {
    auth.require_admin()?;
    let now = state.clock.now();
    let today = inflow_core::calendar::local_date(now);
    let cutoffs = inflow_engine::cutoff::manual_cutoffs(&state.ach, now);
    if cutoffs.is_empty() {
        return Err(ApiError::conflict(
            "not_a_banking_day",
            format!(
                "{today} is not a banking day; the next cutoff is on {}",
                state.ach.calendar.next_banking_day(today)
            ),
        ));
    }
    inflow_engine::release::release_due(&state.store, &state.ach, now)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "release before a manual cutoff failed");
            ApiError::from(e)
        })?;
    let mut summary = inflow_engine::cutoff::CutoffSummary::default();
    for cutoff in &cutoffs {
        match inflow_engine::cutoff::run_scoped_cutoff_waiting(
            &state.store,
            &state.vault,
            &state.ach,
            cutoff,
            now,
            inflow_engine::leases::API_LEASE_WAIT,
        )
        .await
        {
            Ok(s) => summary.absorb(s),
            Err(AchError::FilesNotWritten { summary: s, source }) => {
                summary.absorb(*s);
                return Err(committed_but(&summary, "writing its files", &source));
            }
            Err(e) if summary.files.is_empty() && summary.failed.is_empty() => {
                tracing::error!(error = %e, "manual cutoff failed");
                return Err(e.into());
            }
            Err(e) => return Err(committed_but(&summary, "a further cutoff", &e)),
        }
    }
    if let Err(e) =
        inflow_engine::files::write_pending_files(&state.store, &state.vault, &state.ach).await
    {
        return Err(committed_but(&summary, "writing its files", &e));
    }
    match inflow_engine::delivery::upload::deliver_due_waiting(
        &state.store,
        &state.vault,
        &state.delivery,
        now,
        inflow_engine::leases::API_LEASE_WAIT,
    )
    .await
    {
        // The node holding the delivery lease uploads the new files too.
        Ok(_) | Err(AchError::Busy(_)) => {}
        Err(e) => return Err(committed_but(&summary, "uploading its files", &e)),
    }
    let mut files = Vec::with_capacity(summary.files.len());
    let mut tx = state.store.read().await?;
    for s in &summary.files {
        files.push(AchFileView::load(&mut tx, &s.file_id).await?);
    }
    tx.rollback().await?;
    let status = if files.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let view = CutoffView {
        object: "ach_cutoff",
        files,
        failed: summary
            .failed
            .into_iter()
            .map(|f| FailedCollectionView {
                collection_id: f.collection_id,
                reason: f.reason,
            })
            .collect(),
        deferred: summary.deferred,
    };
    let after = serde_json::json!({
        "files": view.files.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(),
        "failed": view.failed.len(),
        "deferred": view.deferred,
    });
    audit
        .record_after(
            &state,
            "ach.cutoff_run",
            ("ach_cutoff", today.to_string()),
            None,
            after,
        )
        .await;
    Ok((status, Json(view)).into_response())
}
