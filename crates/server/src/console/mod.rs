//! The operator console at `/console`: server-rendered HTML (maud templates
//! compiled into the binary), plain HTML forms, charts drawn as SVG on the
//! server, and one embedded stylesheet. No script, no CDN, no build step.
//!
//! Layout: [`settings`] (the `[console]` section), [`session`] (sign-in
//! with an operator API key, server-side sessions), [`csrf`] (the form
//! token), [`headers`] (CSP and friends), [`assets`], [`layout`] (the page
//! shell), [`format`] (money, time, masking), [`svg_chart`], [`act`] (how
//! a console action calls the API's own handlers) and [`pages`].
//!
//! Every action calls the same handler function the `/v1` route calls,
//! with the signed-in operator's key as its `Auth` and an audit context
//! whose actor is `console` + that key: one implementation, the same
//! events and audit records.

pub mod act;
pub mod assets;
pub mod csrf;
pub mod format;
pub mod headers;
pub mod layout;
pub mod pages;
pub mod session;
pub mod settings;
pub mod svg_chart;

pub use settings::ConsoleSettings;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

/// The console's routes, under `/console`.
pub fn router(state: AppState) -> Router<AppState> {
    let pages = Router::new()
        .route("/console", get(pages::overview::show))
        .route("/console/", get(pages::overview::show))
        .route("/console/collections", get(pages::collections::search))
        .route("/console/collections/{id}", get(pages::collections::detail))
        .route(
            "/console/collections/{id}/{action}",
            get(pages::collections::confirm).post(pages::collections::perform),
        )
        .route("/console/ledger-check", post(pages::overview::check_ledger))
        .route("/console/files", get(pages::files::list))
        .route(
            "/console/inbound",
            post(pages::inbound::upload).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/console/files/{id}", get(pages::files::detail))
        .route("/console/files/{id}/download", get(pages::files::download))
        .route(
            "/console/cutoff",
            get(pages::files::confirm_cutoff).post(pages::files::run_cutoff),
        )
        .route(
            "/console/clock",
            get(pages::clock::show).post(pages::clock::advance),
        )
        .route("/console/webhooks", get(pages::webhooks::list))
        .route(
            "/console/events/{id}/redeliver",
            post(pages::webhooks::redeliver),
        )
        .route("/console/customers", get(pages::customers::list))
        .route(
            "/console/customers/{customer}/limits",
            get(pages::limits::edit).post(pages::limits::save),
        )
        .route(
            "/console/fees/{id}",
            get(pages::fees::edit).post(pages::fees::save),
        )
        .route(
            "/console/customers/{customer}/accounts/{id}",
            get(pages::account::show),
        )
        .route(
            "/console/api-keys",
            get(pages::api_keys::list).post(pages::api_keys::create),
        )
        .route(
            "/console/api-keys/{id}/revoke",
            get(pages::api_keys::confirm_revoke).post(pages::api_keys::revoke),
        )
        .route("/console/reports", get(pages::reports::show))
        .route("/console/sign-out", post(session::sign_out))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::app::sandbox_clock::sync_before_request,
        ));
    Router::new()
        .merge(pages)
        .route(
            "/console/sign-in",
            get(session::sign_in_page).post(session::sign_in),
        )
        .route("/console/assets/{name}", get(assets::serve))
        .layer(axum::middleware::from_fn(headers::security_headers))
}
