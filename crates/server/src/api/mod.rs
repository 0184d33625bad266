//! The HTTP API: routes, their OpenAPI description, and the middleware stack.

pub mod accounts;
pub mod ach;
pub mod ach_delivery;
pub mod ach_limits;
pub mod ach_refunds;
pub mod api_keys;
pub mod audit_events;
pub mod cards;
pub mod collections;
pub mod common;
mod conventions;
pub mod counterparties;
pub mod customers;
pub mod events;
pub mod examples;
pub mod health;
pub mod ledger;
pub mod payment_methods;
pub mod refunds;
pub mod reports;
pub mod reversals;
pub mod sandbox;
pub mod schedules;
pub mod webhook_deliveries;
pub mod webhook_endpoints;

use axum::http::StatusCode;
use axum::middleware;
use axum::response::IntoResponse;
use axum::Router;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

use crate::error::{ApiError, ErrorType};
use crate::http::{access_log, auth, request_id};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Inflow",
        description = "Self-hosted collections gateway: ACH debits and card transactions over a signed REST API.\n\n\
Authenticate with `Authorization: Bearer <api key>`. Signed requests add `X-Timestamp` (unix seconds, ±300 s), \
`X-Nonce` (optional, ≤128 visible ASCII characters) and `X-Signature: v2=<hex>`, the HMAC-SHA256 under the key's signing secret of \
`v2\\n<timestamp>\\n<nonce>\\n<METHOD>\\n<path?query>\\n<Idempotency-Key>\\n<Inflow-Customer>\\n<body>` \
(absent headers as empty lines). Each signature is accepted once (`401 signature_replayed`). \
Every POST accepts `Idempotency-Key`. Errors are `{\"error\":{\"type\",\"code\",\"message\",\"param\",\"requestId\"}}`.\n\n\
Webhooks are POSTed with `Inflow-Event-Id`, `Inflow-Event-Type`, `Inflow-Timestamp` and `Inflow-Signature: t=<unix>,v1=<hex>`, \
where each `v1` is HMAC-SHA256 of `<t>.<raw body>` under the endpoint's secret (two during a secret rotation); \
the body is the event as `GET /v1/events/{id}` shows it.",
        license(name = "Apache-2.0")
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "customers", description = "Businesses and agencies the operator serves (operator keys)"),
        (name = "api-keys", description = "Secret keys and their signing secrets"),
        (name = "accounts", description = "Destination accounts credited by collections, their balances and ledger entries"),
        (name = "fees", description = "Fee schedules per customer and the operator's default (operator)"),
        (name = "reports", description = "Settlement and return-rate reports (operator)"),
        (name = "counterparties", description = "Payers"),
        (name = "payment-methods", description = "Saved bank accounts and cards"),
        (name = "collections", description = "Pull payments: ACH debits and prenotes; card sales, authorizations, forces, voids and refunds"),
        (name = "schedules", description = "Recurring ACH debit schedules: each occurrence becomes an ACH collection"),
        (name = "ach", description = "NACHA files: cutoffs, outbound files, bank returns and notifications of change (operator)"),
        (name = "events", description = "What happened: the outbox every webhook is delivered from"),
        (name = "webhooks", description = "Webhook endpoints, their signing secrets and delivery logs"),
        (name = "sandbox", description = "Sandbox mode: move the clock (operator)"),
        (name = "health", description = "Liveness and readiness"),
        (name = "audit", description = "The audit trail: who changed what, when and from where (operator)"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("API key")
                    .build(),
            ),
        );
    }
}

fn v1_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(customers::create, customers::list))
        .routes(routes!(customers::get, customers::update))
        .routes(routes!(api_keys::create, api_keys::list))
        .routes(routes!(api_keys::get))
        .routes(routes!(api_keys::revoke))
        .routes(routes!(accounts::create, accounts::list))
        .routes(routes!(accounts::get, accounts::update))
        .routes(routes!(ledger::list_entries))
        .routes(routes!(ledger::get_fee_schedule, ledger::put_fee_schedule))
        .routes(routes!(reports::settlement::settlement))
        .routes(routes!(reports::return_rates))
        .routes(routes!(
            reports::daily_files::list,
            reports::daily_files::generate
        ))
        .routes(routes!(reports::daily_files::content))
        .routes(routes!(counterparties::create, counterparties::list))
        .routes(routes!(counterparties::get, counterparties::update))
        .routes(routes!(payment_methods::create, payment_methods::list))
        .routes(routes!(payment_methods::get, payment_methods::update))
        .routes(routes!(collections::create, collections::inquiry::list))
        .routes(routes!(collections::create_ach))
        .routes(routes!(collections::get))
        .routes(routes!(collections::cancel))
        .routes(routes!(reversals::reverse_one))
        .routes(routes!(cards::create_card))
        .routes(routes!(cards::capture))
        .routes(routes!(cards::void))
        .routes(routes!(cards::refund, refunds::list))
        .routes(routes!(refunds::get))
        .routes(routes!(cards::processor_info::get))
        .routes(routes!(schedules::create, schedules::list))
        .routes(routes!(schedules::get, schedules::update))
        .routes(routes!(schedules::pause))
        .routes(routes!(schedules::resume))
        .routes(routes!(schedules::cancel))
        .routes(routes!(ach::upload_inbound))
        .routes(routes!(ach::list_files))
        .routes(routes!(ach::get_file))
        .routes(routes!(ach::file_content))
        .routes(routes!(ach::run_cutoff_now))
        .routes(routes!(reversals::reverse_whole_file))
        .routes(routes!(ach_delivery::retry_file_upload))
        .routes(routes!(ach_delivery::mark_file_uploaded))
        .routes(routes!(ach_delivery::poll_inbound))
        .routes(routes!(events::list))
        .routes(routes!(events::get))
        .routes(routes!(events::redeliver))
        .routes(routes!(webhook_endpoints::create, webhook_endpoints::list))
        .routes(routes!(
            webhook_endpoints::get,
            webhook_endpoints::update,
            webhook_endpoints::delete
        ))
        .routes(routes!(webhook_endpoints::rotate_secret))
        .routes(routes!(webhook_deliveries::list))
        .routes(routes!(sandbox::get_clock))
        .routes(routes!(sandbox::advance_clock))
        .routes(routes!(audit_events::list))
        .routes(routes!(ledger::check))
}

fn public_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(cards::processor_webhooks::stripe_webhook))
}

/// The OpenAPI document, as served at `/openapi.json`.
pub fn openapi() -> serde_json::Value {
    let (_, mut api) = OpenApiRouter::<AppState>::with_openapi(ApiDoc::openapi())
        .merge(v1_routes())
        .merge(public_routes())
        .split_for_parts();
    conventions::apply(&mut api);
    let mut document = serde_json::to_value(&api).expect("the OpenAPI document serialises");
    conventions::constrain_fields(&mut document);
    conventions::add_links(&mut document);
    document
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let (v1, _) = v1_routes().split_for_parts();
    let (public, _) = public_routes().split_for_parts();
    // Route layers run outermost last: authentication, the key's rate limit,
    // then (sandbox) the shared clock, so a refused request reads nothing.
    let limits = crate::http::rate_limit::RateLimits::new(&state.config.rate_limit);
    let v1 = v1
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            crate::app::sandbox_clock::sync_before_request,
        ))
        .route_layer(middleware::from_fn_with_state(
            limits,
            crate::http::rate_limit::limit,
        ))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .route_layer(middleware::from_fn(access_log::record_route));
    let public = public
        .route(
            "/metrics",
            axum::routing::get(crate::metrics::api_port_metrics),
        )
        .route_layer(middleware::from_fn(access_log::record_route));
    let spec = openapi();
    let console = crate::console::router(state.clone());
    Router::new()
        .merge(v1)
        .merge(public)
        .merge(console)
        .merge(SwaggerUi::new("/docs").external_url_unchecked("/openapi.json", spec))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(access_log::log_request))
        .layer(middleware::from_fn(request_id::assign_request_id))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            ApiError::internal().into_response()
        }))
        .with_state(state)
}

/// `404 route_not_found`, as for a path no route matches.
pub fn route_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        ErrorType::NotFoundError,
        "route_not_found",
        "no such endpoint",
    )
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        ErrorType::NotFoundError,
        "route_not_found",
        "no such endpoint",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        ErrorType::InvalidRequestError,
        "method_not_allowed",
        "this endpoint does not support that HTTP method",
    )
}
