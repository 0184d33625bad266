//! Bank files uploaded to `POST /v1/ach/inbound`: the body is streamed to a
//! private temporary file (`<data_dir>/ach/uploads`, mode 0600) instead of
//! being buffered, up to `[ach] max_inbound_file_bytes`; a body over the
//! limit is refused with 413 as soon as it passes it. The signature, when
//! there is one, is checked over the bytes as they stream by. The handler
//! finds the file in the request's extensions ([`UploadedFile`]); it is
//! deleted when the request is done with it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::http::StatusCode;
use http_body_util::BodyExt;
use tokio::io::AsyncWriteExt;

use crate::error::{ApiError, ApiResult, ErrorType};
use crate::http::signature::Pending;

/// The path the upload route streams.
pub const UPLOAD_PATH: &str = "/v1/ach/inbound";

/// An uploaded body on disk, removed when the last reference goes.
#[derive(Debug)]
pub struct UploadedFile {
    path: PathBuf,
    /// Bytes received.
    pub len: u64,
}

impl UploadedFile {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for UploadedFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// What the handler gets: the uploaded file, shared (extensions are cloned).
pub type Upload = Arc<UploadedFile>;

/// 413 naming the upload limit and the setting that raises it.
pub fn upload_too_large(limit: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorType::InvalidRequestError,
        "body_too_large",
        format!(
            "ACH files uploaded to {UPLOAD_PATH} are limited to {limit} bytes \
             (setting `ach.max_inbound_file_bytes`)"
        ),
    )
    .with_param("body")
}

fn storage_error(e: std::io::Error) -> ApiError {
    tracing::error!(error = %e, "an uploaded ACH file could not be stored");
    ApiError::internal()
}

/// Stream `body` into a new private file under `dir`, feeding `signature`
/// on the way; at most `limit` bytes.
pub async fn stream_to_file(
    mut body: Body,
    dir: &Path,
    limit: u64,
    mut signature: Option<&mut Pending>,
) -> ApiResult<UploadedFile> {
    inflow_engine::private_fs::create_dir_all_async(dir)
        .await
        .map_err(storage_error)?;
    let path = dir.join(format!("upload-{}.tmp", uuid::Uuid::new_v4().simple()));
    let mut file = inflow_engine::private_fs::file_options_async()
        .open(&path)
        .await
        .map_err(storage_error)?;
    // From here the file is removed on every exit.
    let mut upload = UploadedFile { path, len: 0 };
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| {
            ApiError::invalid(
                "unreadable_body",
                "the request body could not be read",
                "body",
            )
        })?;
        let Ok(chunk) = frame.into_data() else {
            continue; // trailers
        };
        upload.len += chunk.len() as u64;
        if upload.len > limit {
            return Err(upload_too_large(limit));
        }
        if let Some(s) = signature.as_deref_mut() {
            s.update(&chunk);
        }
        file.write_all(&chunk).await.map_err(storage_error)?;
    }
    file.flush().await.map_err(storage_error)?;
    Ok(upload)
}
