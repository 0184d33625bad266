//! Uploading a return/NOC file the bank sent: a multipart form whose
//! `csrf` field must come first and match the session's token before a
//! byte of the file is stored; the file is then streamed to disk (up to
//! `ach.max_inbound_file_bytes`) and applied by the API's own
//! `POST /v1/ach/inbound` handler.

use axum::extract::{Multipart, State};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use maud::html;

use crate::console::act;
use crate::console::csrf;
use crate::console::layout::{error_page, page};
use crate::console::session::Operator;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

fn unreadable() -> ApiError {
    ApiError::invalid("unreadable_body", "the upload could not be read", "file")
}

/// `POST /console/inbound`.
pub async fn upload(State(state): State<AppState>, op: Operator, mut form: Multipart) -> Response {
    // The token first: nothing is stored for a form without it.
    let token = match form.next_field().await {
        Ok(Some(f)) if f.name() == Some("csrf") => f.text().await.unwrap_or_default(),
        _ => String::new(),
    };
    if !csrf::same(&op.csrf, &token) {
        return csrf::refused();
    }
    match apply(&state, &op, &mut form).await {
        Ok(v) => page(
            &op,
            "/console/files",
            "Inbound file applied",
            state.config.sandbox,
            html! {
                p.note role="status" {
                    @if v["duplicate"] == true { "This file was applied before; nothing changed." }
                    @else { "The file was applied." }
                }
                pre.scroll { (serde_json::to_string_pretty(&strip(v)).unwrap_or_default()) }
                p { a href="/console/files" { "All files" } }
            },
        )
        .into_response(),
        Err(e) => error_page(e),
    }
}

async fn apply(
    state: &AppState,
    op: &Operator,
    form: &mut Multipart,
) -> ApiResult<serde_json::Value> {
    let mut field = form
        .next_field()
        .await
        .map_err(|_| unreadable())?
        .filter(|f| f.name() == Some("file"))
        .ok_or_else(|| ApiError::invalid("missing_field", "choose the file to upload", "file"))?;
    // The part streams to disk through a channel: the form's field borrows
    // the request, the body writer needs a stream of its own.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(4);
    let chunks =
        futures_util::stream::unfold(rx, |mut rx| async { rx.recv().await.map(|c| (c, rx)) });
    let pump = async move {
        loop {
            let next = field.chunk().await.map_err(std::io::Error::other);
            let done = !matches!(next, Ok(Some(_)));
            let sent = match next {
                Ok(Some(c)) => tx.send(Ok(c)).await,
                Ok(None) => Ok(()),
                Err(e) => tx.send(Err(e)).await,
            };
            if done || sent.is_err() {
                break;
            }
        }
    };
    let dir = state.config.data_dir.join("ach").join("uploads");
    let store = crate::http::upload::stream_to_file(
        axum::body::Body::from_stream(chunks),
        &dir,
        state.config.ach.max_inbound_file_bytes,
        None,
    );
    let ((), file) = tokio::join!(pump, store);
    let file = file?;
    let auth = act::operator(op);
    let audit = act::audit(op, &auth);
    let res = crate::api::ach::upload_inbound(
        State(state.clone()),
        Extension(auth),
        Extension(std::sync::Arc::new(file)),
        audit,
    )
    .await?;
    act::json(res).await
}

/// The report without its per-entry list (it can hold a thousand entries).
fn strip(mut v: serde_json::Value) -> serde_json::Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("entries");
    }
    v
}

/// The upload form, for the files page.
pub fn form(op: &Operator) -> maud::Markup {
    html! {
        form.card method="post" action="/console/inbound" enctype="multipart/form-data" {
            (csrf::field(op))
            label for="inbound" { "Upload a return or NOC file from the bank" }
            input id="inbound" name="file" type="file" required;
            button type="submit" { "Apply the file" }
        }
    }
}
