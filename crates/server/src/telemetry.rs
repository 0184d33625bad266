//! Logging and tracing setup. Logs go to stderr so `--json` command output
//! on stdout stays machine-readable. `RUST_LOG` overrides the default
//! filter.
//!
//! Requests and background job steps run inside `tracing` spans (see
//! [`crate::http::access_log`] and `app::ach_jobs`). With
//! `[telemetry] otlp_endpoint` set, those spans are also exported as
//! OpenTelemetry traces over OTLP/HTTP (protobuf) to
//! `<otlp_endpoint>/v1/traces`, in batches, from a thread of their own; an
//! exporter that cannot reach its collector drops spans, never requests.

use anyhow::Context;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde::{Deserialize, Serialize};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::LogFormat;

/// `[telemetry]` in the TOML file (`INFLOW_TELEMETRY__<FIELD>`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct TelemetrySettings {
    /// The OTLP/HTTP collector, e.g. `http://127.0.0.1:4318` (spans go to
    /// its `/v1/traces`). Unset: no export.
    pub otlp_endpoint: Option<String>,
    /// `service.name` of the exported spans.
    pub service_name: String,
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        Self {
            otlp_endpoint: None,
            service_name: "inflow".into(),
        }
    }
}

impl TelemetrySettings {
    /// The traces URL, or why the endpoint is refused.
    pub fn traces_url(&self) -> anyhow::Result<Option<String>> {
        let Some(endpoint) = self.otlp_endpoint.as_deref().filter(|e| !e.is_empty()) else {
            return Ok(None);
        };
        if !endpoint.starts_with("http://") {
            anyhow::bail!(
                "telemetry.otlp_endpoint must be an http:// URL (this build sends OTLP/HTTP \
                 without TLS; run a collector beside the node); got {endpoint:?}"
            );
        }
        let base = endpoint.trim_end_matches('/');
        if base.ends_with("/v1/traces") {
            return Ok(Some(base.to_owned()));
        }
        Ok(Some(format!("{base}/v1/traces")))
    }
}

/// The trace exporter, if configured: [`Telemetry::shutdown`] sends what
/// is still buffered.
#[must_use = "call shutdown() before the process exits, or buffered spans are lost"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Flush the spans still buffered and stop the exporter.
    pub fn shutdown(self) {
        if let Some(provider) = self.provider {
            if let Err(e) = provider.shutdown() {
                eprintln!("warning: exporting the last traces failed: {e}");
            }
        }
    }
}

/// Install the global subscriber: the log format, and the OTLP exporter
/// when `settings` name an endpoint.
pub fn init(format: LogFormat, settings: &TelemetrySettings) -> anyhow::Result<Telemetry> {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let logs = match format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            // The request's or job step's span (request_id, route,
            // customer_id, …) on every line logged inside it.
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(std::io::stderr)
            .boxed(),
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .boxed(),
    };
    let provider = match settings.traces_url()? {
        Some(url) => Some(provider(&url, &settings.service_name)?),
        None => None,
    };
    let traces = provider.as_ref().map(|p| {
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer("inflow"))
            .boxed()
    });
    // The filter is a global layer, not a per-layer filter over
    // `logs.and_then(traces)`: with that arrangement (and no OTLP layer)
    // start-up warnings were lost on PostgreSQL — the production "card
    // processing is DISABLED" line among them (tests/api/cards_production.rs).
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(logs)
        .with(traces)
        .try_init();
    Ok(Telemetry { provider })
}

fn provider(url: &str, service_name: &str) -> anyhow::Result<SdkTracerProvider> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(url)
        .build()
        .with_context(|| format!("setting up the OTLP exporter for {url}"))?;
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(service_name.to_owned())
        .build();
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_traces_url_is_the_endpoint_plus_v1_traces_and_http_only() {
        let at = |e: &str| TelemetrySettings {
            otlp_endpoint: Some(e.into()),
            ..Default::default()
        };
        assert_eq!(TelemetrySettings::default().traces_url().unwrap(), None);
        assert_eq!(
            at("http://127.0.0.1:4318").traces_url().unwrap().as_deref(),
            Some("http://127.0.0.1:4318/v1/traces")
        );
        assert_eq!(
            at("http://c:4318/v1/traces/")
                .traces_url()
                .unwrap()
                .as_deref(),
            Some("http://c:4318/v1/traces")
        );
        let refused = at("https://collector:4318").traces_url().unwrap_err();
        assert!(refused.to_string().contains("telemetry.otlp_endpoint"));
        assert!(at("collector:4318").traces_url().is_err());
    }
}
