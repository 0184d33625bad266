//! Webhooks in the domain: what an endpoint is, which URLs it may have,
//! which events it asks for, how a delivery is signed and when it is retried.
//!
//! - [`url`]: [`WebhookUrl`], `http`/`https` only, and the address rules that
//!   keep production endpoints off private networks (SSRF).
//! - [`event_types`]: the catalogue of event types and [`EventSelector`]
//!   (`"*"`, `"collection.*"`, exact types).
//! - [`signature`]: `Inflow-Signature: t=<unix>,v1=<hex>` — signing and the
//!   verification recipe integrators (and `inflow webhooks verify`) follow.
//! - [`retry`]: exponential backoff with jitter inside a retry window.
//! - [`model`]: the endpoint as the domain sees it.
//!
//! No I/O here: the dispatcher lives in the engine.

pub mod event_types;
pub mod model;
pub mod retry;
pub mod signature;
pub mod url;

pub use event_types::EventSelector;

/// Alert events about a customer's objects that also go to the operator's
/// endpoints (operator events, with no customer, always do).
pub const OPERATOR_ALERTS_ABOUT_CUSTOMERS: &[&str] = &["webhook_endpoint.disabled"];
pub use model::{DeliveryStatus, EndpointStatus, WebhookEndpoint};
pub use retry::RetryPolicy;
pub use url::WebhookUrl;
