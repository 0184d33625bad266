//! Configuration: built-in defaults, then an optional TOML file, then
//! `INFLOW_*` environment variables (each overriding the one before).
//!
//! The defaults run out of the box: SQLite under `./inflow-data/`, sandbox
//! mode on, listening on 127.0.0.1:8080.

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// The originating bank and the ACH schedule (`[ach]` in the TOML file,
/// `INFLOW_ACH__<FIELD>` in the environment).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AchSettings {
    /// The ODFI's routing number; its first 8 digits begin every trace number.
    pub odfi_routing: String,
    /// File header immediate destination (the ODFI or its ACH operator).
    pub immediate_destination: String,
    pub immediate_destination_name: String,
    /// File header immediate origin (10 characters assigned by the ODFI).
    pub immediate_origin: String,
    pub immediate_origin_name: String,
    /// Company name/id for customers that have none of their own.
    pub default_company_name: String,
    pub default_company_id: String,
    /// Same-day windows, US/Eastern `HH:MM`, ascending.
    pub same_day_windows: Vec<String>,
    /// The next-day (standard) cutoff, US/Eastern `HH:MM`.
    pub standard_cutoff: String,
    /// Extra closures (YYYY-MM-DD) on top of the Federal Reserve holidays.
    pub extra_closures: Vec<String>,
    pub good_funds_banking_days: u32,
    pub prenote_wait_banking_days: u32,
    pub effective_date_horizon_days: u32,
    /// Window for duplicate detection, in hours.
    pub duplicate_window_hours: u32,
    /// The most entries one outbound NACHA file may hold; a cutoff with
    /// more writes several files.
    pub max_entries_per_file: u64,
    /// Largest single ACH debit, in minor units, for customers without
    /// their own `achLimits.perEntryMax` (unset: no limit beyond NACHA's
    /// $99,999,999.99).
    pub default_per_entry_max: Option<i64>,
    /// Most a customer's ACH debits created in one US/Eastern day may add
    /// up to, in minor units, unless the customer has its own (unset: no limit).
    pub default_daily_debit_max: Option<i64>,
    /// The same per US/Eastern calendar month.
    pub default_monthly_debit_max: Option<i64>,
    /// Largest bank file `POST /v1/ach/inbound` accepts, in bytes (streamed
    /// to disk; larger bodies are refused with 413).
    pub max_inbound_file_bytes: u64,
}

/// The default `ach.max_inbound_file_bytes`: 100 MB, about 500,000 returns.
pub const DEFAULT_MAX_INBOUND_FILE_BYTES: u64 = 100 * 1024 * 1024;

impl Default for AchSettings {
    fn default() -> Self {
        Self {
            odfi_routing: "121042882".into(),
            immediate_destination: "121042882".into(),
            immediate_destination_name: "SANDBOX ODFI".into(),
            immediate_origin: "1234567890".into(),
            immediate_origin_name: "INFLOW SANDBOX".into(),
            default_company_name: "INFLOW SANDBOX".into(),
            default_company_id: "1234567890".into(),
            same_day_windows: vec!["10:00".into(), "14:00".into(), "16:15".into()],
            standard_cutoff: "20:00".into(),
            extra_closures: Vec::new(),
            good_funds_banking_days: 2,
            prenote_wait_banking_days: 3,
            effective_date_horizon_days: 365,
            duplicate_window_hours: 24,
            max_entries_per_file: inflow_engine::config::DEFAULT_MAX_ENTRIES_PER_FILE,
            default_per_entry_max: None,
            default_daily_debit_max: None,
            default_monthly_debit_max: None,
            max_inbound_file_bytes: DEFAULT_MAX_INBOUND_FILE_BYTES,
        }
    }
}

/// Webhook delivery (`[webhooks]` in the TOML file, `INFLOW_WEBHOOKS__<FIELD>`
/// in the environment).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookSettings {
    /// How often the dispatcher looks for due deliveries when no write woke
    /// it, in milliseconds (0 turns the background dispatcher off).
    pub poll_interval_ms: u64,
    /// One delivery attempt may take this long.
    pub timeout_secs: u64,
    /// The first retry waits about this long (then 2×, 4×, … with jitter).
    pub retry_base_ms: u64,
    /// The longest wait between two attempts.
    pub retry_max_delay_secs: u64,
    /// Retries stop this long after the delivery was created; it is then `failed`.
    pub retry_window_hours: u32,
    /// Disable an endpoint after this many deliveries in a row failed for good (0: never).
    pub disable_after_failures: u32,
    /// How long a dispatcher's claim on a delivery lasts; must exceed `timeout_secs`.
    pub claim_ttl_secs: u64,
    /// Deliveries claimed at a time.
    pub batch_size: u32,
    /// Attempts in flight at once per node.
    pub concurrency: u32,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            poll_interval_ms: 500,
            timeout_secs: 10,
            retry_base_ms: 30_000,
            retry_max_delay_secs: 6 * 3600,
            retry_window_hours: 72,
            disable_after_failures: 5,
            claim_ttl_secs: 60,
            batch_size: 64,
            concurrency: 16,
        }
    }
}

/// The card rail (`[cards]` in the TOML file, `INFLOW_CARDS__<FIELD>` in
/// the environment).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct CardSettings {
    /// Days an uncaptured authorization lives before Inflow voids it.
    pub authorization_ttl_days: u32,
    /// When the processor's daily batch closes, `HH:MM` US/Eastern;
    /// captured collections settle (`completed`) then.
    pub batch_close: String,
    /// `sandbox`, `stripe` or `disabled`. Unset: the sandbox processor in
    /// sandbox mode, `disabled` in production (card requests answer 503).
    /// Production mode refuses to start with `sandbox`.
    pub processor: Option<String>,
    /// `[cards.stripe]`, used when `processor = "stripe"`.
    pub stripe: StripeSettings,
}

impl Default for CardSettings {
    fn default() -> Self {
        Self {
            authorization_ttl_days: 7,
            batch_close: "22:00".into(),
            processor: None,
            stripe: StripeSettings::default(),
        }
    }
}

/// One Stripe account (`[cards.stripe]`, `INFLOW_CARDS__STRIPE__<FIELD>`).
#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct StripeSettings {
    /// `sk_live_…` or `sk_test_…`; better given in the environment
    /// (`INFLOW_CARDS__STRIPE__SECRET_KEY`). Never logged.
    pub secret_key: Option<String>,
    /// Stripe's API (a localstripe in tests).
    pub api_base: String,
    /// A request's answer counts as lost after this long (then 202 and
    /// reconciliation).
    pub timeout_secs: u64,
    /// The signing secret (`whsec_…`) of the webhook endpoint configured
    /// at Stripe for `POST /v1/processors/stripe/webhooks` (disputes).
    /// Without it the endpoint answers 404 and disputes arrive through
    /// reconciliation only. Never logged.
    pub webhook_secret: Option<String>,
}

impl Default for StripeSettings {
    fn default() -> Self {
        Self {
            secret_key: None,
            api_base: "https://api.stripe.com".into(),
            timeout_secs: 20,
            webhook_secret: None,
        }
    }
}

impl std::fmt::Debug for StripeSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeSettings")
            .field(
                "secret_key",
                &self.secret_key.as_ref().map(|_| "<redacted>"),
            )
            .field("api_base", &self.api_base)
            .field("timeout_secs", &self.timeout_secs)
            .field(
                "webhook_secret",
                &self.webhook_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `sqlite://…` or `postgres://…`; default: `sqlite://<data_dir>/inflow.db`.
    pub database_url: Option<String>,
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// Base64 of 32 random bytes. Generated into `<data_dir>/master.key` in sandbox mode if absent.
    pub master_key: Option<String>,
    /// Sandbox mode: demo credentials, test keys (`ik_test_…`), sandbox clock and bank.
    pub sandbox: bool,
    pub log_format: LogFormat,
    /// How long idempotency records are kept.
    pub idempotency_ttl_hours: u32,
    /// Allowed distance between a signed request's `X-Timestamp` and now.
    pub signature_tolerance_secs: i64,
    /// Operator (admin) keys must sign every request. Default (unset): on in
    /// production mode, off in sandbox mode. A key created with
    /// `requireSignedRequests` must sign whatever this says.
    pub require_signed_operator_requests: Option<bool>,
    /// Accept deprecated v1 signatures (bare hex), and then only on requests
    /// without `Idempotency-Key` or `Inflow-Customer`. Default (unset): on in
    /// sandbox mode, off in production mode.
    pub accept_v1_signatures: Option<bool>,
    /// The most accepted signatures a SQLite node remembers (replay memory;
    /// PostgreSQL nodes share a table instead). When full, the oldest are
    /// forgotten and requests signed before them are refused.
    pub signature_replay_capacity: usize,
    /// How long authentication lookups are cached (0 disables). Changes made
    /// on this node take effect at once; on other nodes within this time.
    pub auth_cache_ttl_secs: u64,
    /// Request bodies larger than this are refused with 413.
    pub max_body_bytes: usize,
    /// If set when the database has no admin key, this becomes the first operator key.
    pub bootstrap_admin_key: Option<String>,
    /// Signing secret for the bootstrap admin key (generated if absent).
    pub bootstrap_admin_signing_secret: Option<String>,
    /// How often the background scheduler looks for due work, in seconds (0 = never; tests drive it).
    pub scheduler_interval_secs: u64,
    pub ach: AchSettings,
    pub webhooks: WebhookSettings,
    pub cards: CardSettings,
    /// Per-API-key request rate (`[rate_limit]`, `INFLOW_RATE_LIMIT__<FIELD>`).
    pub rate_limit: crate::http::rate_limit::RateLimitSettings,
    /// The originating banks (`[[odfi]]`); see [`crate::odfi`]. Empty in
    /// sandbox mode: the built-in sandbox ODFI and its simulated bank.
    pub odfi: Vec<crate::odfi::OdfiSettings>,
    /// Customers' folders their daily reconciliation files are pushed to
    /// (`[[report_delivery]]`); see [`crate::report_delivery`].
    pub report_delivery: Vec<crate::report_delivery::ReportDeliverySettings>,
    /// `GET /metrics` (`[metrics]`, `INFLOW_METRICS__<FIELD>`); see [`crate::metrics`].
    pub metrics: crate::metrics::MetricsSettings,
    /// On SIGTERM/Ctrl-C: stop accepting at once, then give in-flight
    /// requests and background jobs this long to finish before they are
    /// abandoned (their leases and claims lapse) and the process exits.
    pub shutdown_grace_secs: u64,
    /// Proxies (IP addresses) whose `X-Forwarded-For` is believed: the
    /// audit trail records a request's client IP from the connection, or
    /// — when the connection comes from one of these — from the
    /// right-most `X-Forwarded-For` address that is not a trusted proxy.
    /// Empty (the default): the header is ignored.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Alerts (`[alerts]`, `INFLOW_ALERTS__<FIELD>`).
    pub alerts: AlertSettings,
    /// Trace export (`[telemetry]`, `INFLOW_TELEMETRY__<FIELD>`); see [`crate::telemetry`].
    pub telemetry: crate::telemetry::TelemetrySettings,
    /// The operator console at `/console` (`[console]`, `INFLOW_CONSOLE__<FIELD>`).
    pub console: crate::console::ConsoleSettings,
}

/// Alerts as events (`[alerts]` in the TOML file).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AlertSettings {
    /// How often each node runs the ledger check (`ledger.check_failed`
    /// when it fails), in seconds; 0: only on demand (`POST
    /// /v1/ledger/check`, `inflow ledger check`).
    pub ledger_check_interval_secs: u64,
}

impl Default for AlertSettings {
    fn default() -> Self {
        Self {
            ledger_check_interval_secs: 3600,
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url),
            )
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field(
                "master_key",
                &self.master_key.as_ref().map(|_| "<redacted>"),
            )
            .field("sandbox", &self.sandbox)
            .field("log_format", &self.log_format)
            .field("idempotency_ttl_hours", &self.idempotency_ttl_hours)
            .field(
                "bootstrap_admin_key",
                &self.bootstrap_admin_key.as_ref().map(|_| "<redacted>"),
            )
            .field("odfi", &self.odfi)
            .field("report_delivery", &self.report_delivery)
            .finish_non_exhaustive()
    }
}

/// A database URL without its password.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &url[scheme_end + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./inflow-data"),
            master_key: None,
            sandbox: true,
            log_format: LogFormat::Text,
            idempotency_ttl_hours: 24,
            signature_tolerance_secs: 300,
            require_signed_operator_requests: None,
            accept_v1_signatures: None,
            signature_replay_capacity: 500_000,
            max_body_bytes: 1024 * 1024,
            auth_cache_ttl_secs: 5,
            scheduler_interval_secs: 5,
            ach: AchSettings::default(),
            webhooks: WebhookSettings::default(),
            cards: CardSettings::default(),
            rate_limit: Default::default(),
            odfi: Vec::new(),
            report_delivery: Vec::new(),
            trusted_proxies: Vec::new(),
            alerts: AlertSettings::default(),
            telemetry: Default::default(),
            console: Default::default(),
            bootstrap_admin_key: None,
            bootstrap_admin_signing_secret: None,
            metrics: Default::default(),
            shutdown_grace_secs: 30,
        }
    }
}

impl Config {
    /// Load from defaults, `file` (or `./inflow.toml` when it exists) and the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, Box<figment::Error>> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) => fig = fig.merge(Toml::file_exact(path)),
            None if Path::new("inflow.toml").exists() => {
                fig = fig.merge(Toml::file_exact("inflow.toml"))
            }
            None => {}
        }
        fig = fig.merge(
            Env::prefixed("INFLOW_")
                .ignore(&["config", "test_pg_url"])
                .split("__"),
        );
        fig.extract().map_err(Box::new)
    }

    /// Must operator keys sign? (See `require_signed_operator_requests`.)
    pub fn operator_requests_must_be_signed(&self) -> bool {
        self.require_signed_operator_requests
            .unwrap_or(!self.sandbox)
    }

    /// Are v1 signatures still accepted? (See `accept_v1_signatures`.)
    pub fn v1_signatures_accepted(&self) -> bool {
        self.accept_v1_signatures.unwrap_or(self.sandbox)
    }

    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("inflow.db").display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_run_sandbox_on_sqlite_in_the_data_dir() {
        let c = Config::default();
        assert!(c.sandbox);
        assert_eq!(c.database_url(), "sqlite://./inflow-data/inflow.db");
    }

    #[test]
    fn production_mode_defaults_to_signed_operator_requests_and_v2_only() {
        let sandbox = Config::default();
        assert!(!sandbox.operator_requests_must_be_signed());
        assert!(sandbox.v1_signatures_accepted());
        let production = Config {
            sandbox: false,
            ..Config::default()
        };
        assert!(production.operator_requests_must_be_signed());
        assert!(!production.v1_signatures_accepted());
        let relaxed = Config {
            require_signed_operator_requests: Some(false),
            accept_v1_signatures: Some(true),
            ..production
        };
        assert!(!relaxed.operator_requests_must_be_signed());
        assert!(relaxed.v1_signatures_accepted());
    }

    #[test]
    fn rate_limits_come_from_the_file() {
        let dir = std::env::temp_dir().join(format!("inflow-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("rate.toml");
        std::fs::write(&file, "[rate_limit]\nrequests_per_second = 7\nburst = 30\n").unwrap();
        let c = Config::load(Some(&file)).unwrap();
        assert_eq!(
            (c.rate_limit.requests_per_second, c.rate_limit.burst),
            (7, 30)
        );
        let defaults = Config::default().rate_limit;
        assert!(defaults.requests_per_second >= 100 && defaults.burst >= 1000);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn database_passwords_are_redacted_from_debug_output() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
        let c = Config {
            master_key: Some("k".into()),
            database_url: Some("postgres://u:pw@h/d".into()),
            ..Config::default()
        };
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("pw@") && dbg.contains("<redacted>"));
    }
}
