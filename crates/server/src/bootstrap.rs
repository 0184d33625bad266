//! Turning a [`Config`] into a running application state: data directory,
//! master key, database and migrations (and sealing secrets older versions
//! stored in clear), clock, and the first admin key.
//!
//! Everything created under the data directory is its owner's only
//! (folders `0700`, files `0600`, see [`inflow_engine::private_fs`]), and
//! start-up tightens what an older version created more openly.

use anyhow::{bail, Context};
use inflow_core::clock::{SandboxClock, SharedClock, SystemClock};
use inflow_core::crypto::{MasterKey, Vault};
use inflow_core::model::ApiKeyRole;
use inflow_engine::private_fs;
use inflow_store::Store;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::app::api_keys::{issue_api_key, Actor, KeyRequest};
use crate::config::Config;
use crate::state::AppState;

/// Credentials of the demo admin key made on a sandbox's first start.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoCredentials {
    pub key_id: String,
    pub api_key: String,
    pub signing_secret: String,
}

pub struct Prepared {
    pub state: AppState,
    /// Set in sandbox mode: the demo admin credentials to print.
    pub demo: Option<DemoCredentials>,
    /// Set in sandbox mode when this start created the operator key from
    /// `INFLOW_BOOTSTRAP_ADMIN_KEY`: its credentials, to print (the signing
    /// secret is generated unless `INFLOW_BOOTSTRAP_ADMIN_SIGNING_SECRET`
    /// gave it, and shown nowhere else).
    pub bootstrap: Option<DemoCredentials>,
}

/// Production mode with `INFLOW_BOOTSTRAP_ADMIN_KEY` needs the key's signing
/// secret too: operator requests must be signed there, and a generated
/// secret would be shown nowhere.
pub fn check_bootstrap_admin(config: &Config) -> anyhow::Result<()> {
    if !config.sandbox
        && config.bootstrap_admin_key.is_some()
        && config.bootstrap_admin_signing_secret.is_none()
    {
        bail!(
            "production mode (sandbox = false) with INFLOW_BOOTSTRAP_ADMIN_KEY needs its signing secret: \
             set INFLOW_BOOTSTRAP_ADMIN_SIGNING_SECRET (bootstrap_admin_signing_secret) to a secret of your own \
             (e.g. `openssl rand -hex 32`); Inflow will not generate one it cannot show"
        );
    }
    Ok(())
}

/// Write `contents` to a new file readable only by its owner.
fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let mut f = private_fs::new_file_options()
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(contents)?;
    f.sync_all()?;
    Ok(())
}

/// The master key from the configuration, or in sandbox mode from (or newly
/// written to) `<data_dir>/master.key`.
pub fn master_key(config: &Config) -> anyhow::Result<MasterKey> {
    if let Some(k) = &config.master_key {
        return MasterKey::from_base64(k).context("INFLOW_MASTER_KEY / master_key");
    }
    if !config.sandbox {
        bail!(
            "production mode (sandbox = false) needs its own master key: set INFLOW_MASTER_KEY to the base64 of 32 random bytes \
             (e.g. `openssl rand -base64 32`) and keep it safe; without it no stored account number can be read"
        );
    }
    private_fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating {}", config.data_dir.display()))?;
    let path = config.data_dir.join("master.key");
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        return MasterKey::from_base64(&text)
            .with_context(|| format!("{} is not a valid master key", path.display()));
    }
    let key = MasterKey::generate();
    write_private(&path, key.to_base64().as_bytes())?;
    tracing::warn!(
        path = %path.display(),
        "GENERATED A NEW MASTER KEY for this sandbox. Production deployments must supply their own via INFLOW_MASTER_KEY; \
         losing this key makes every stored account number unreadable."
    );
    Ok(key)
}

pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let url = config.database_url();
    if url.starts_with("sqlite:") && config.database_url.is_none() {
        private_fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating {}", config.data_dir.display()))?;
    }
    let store = Store::connect(&url)
        .await
        .with_context(|| format!("connecting to {}", crate::config::redact_url(&url)))?;
    store
        .migrate()
        .await
        .context("applying database migrations")?;
    Ok(store)
}

/// Validate the `[ach]` settings into the engine's configuration and make its folders.
pub fn ach_config(config: &Config) -> anyhow::Result<inflow_engine::config::AchConfig> {
    use inflow_core::bank::RoutingNumber;
    use inflow_core::calendar::{BankingCalendar, CutoffSchedule};
    let a = &config.ach;
    let time = |field: &str, s: &str| {
        chrono::NaiveTime::parse_from_str(s, "%H:%M")
            .with_context(|| format!("ach.{field}: `{s}` is not HH:MM"))
    };
    let windows = a
        .same_day_windows
        .iter()
        .map(|w| time("same_day_windows", w))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let cutoffs = CutoffSchedule::new(windows, time("standard_cutoff", &a.standard_cutoff)?)
        .map_err(|e| anyhow::anyhow!("ach cutoff schedule: {e}"))?;
    let closures = a
        .extra_closures
        .iter()
        .map(|d| {
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .with_context(|| format!("ach.extra_closures: `{d}` is not YYYY-MM-DD"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let routing = |field: &str, s: &str| {
        RoutingNumber::parse(field, s).map_err(|e| anyhow::anyhow!("ach.{field}: {}", e.message))
    };
    if a.immediate_origin.len() != 10 {
        bail!(
            "ach.immediate_origin must be exactly 10 characters (e.g. `1` + EIN), got `{}`",
            a.immediate_origin
        );
    }
    if !(1..=nacha::limits::MAX_RECORDS).contains(&a.max_entries_per_file) {
        bail!(
            "ach.max_entries_per_file must be 1 to {}",
            nacha::limits::MAX_RECORDS
        );
    }
    let limit = |field: &str, v: Option<i64>| match v {
        Some(n) if !(0..=inflow_core::model::MAX_ACH_LIMIT).contains(&n) => Err(anyhow::anyhow!(
            "ach.{field} must be 0 to {} (minor units), got {n}",
            inflow_core::model::MAX_ACH_LIMIT
        )),
        v => Ok(v),
    };
    let debit_limits = inflow_core::model::AchLimits {
        per_entry_max: limit("default_per_entry_max", a.default_per_entry_max)?,
        daily_debit_max: limit("default_daily_debit_max", a.default_daily_debit_max)?,
        monthly_debit_max: limit("default_monthly_debit_max", a.default_monthly_debit_max)?,
    };
    let outbound_dir = config.data_dir.join("ach").join("outbound");
    let inbound_dir = config.data_dir.join("ach").join("inbound");
    private_fs::create_dir_all(&inbound_dir)
        .with_context(|| format!("creating {}", inbound_dir.display()))?;
    // An unwritable outbound folder must not keep the API down: the file
    // writes are retried by the background tick and `/readyz` reports it.
    if let Err(e) = private_fs::create_dir_all(&outbound_dir) {
        tracing::error!(path = %outbound_dir.display(), error = %e,
            "cannot create the outbound ACH folder; serving anyway, file writes are retried");
    }
    crate::odfi::validate(config)?;
    let odfis = crate::odfi::ordered(config)
        .into_iter()
        .map(|o| {
            let h = odfi_header(o)?;
            Ok(inflow_engine::config::OdfiProfile {
                id: o.id.clone(),
                immediate_destination: h.destination,
                immediate_destination_name: h.destination_name,
                immediate_origin: h.origin,
                immediate_origin_name: h.origin_name,
                odfi_routing: h.odfi,
                max_entries_per_file: h.max_entries,
                file_rules: h.file_rules,
                cutoffs: crate::odfi::cutoff_windows(config, o)?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let header = match crate::odfi::header_odfi(config) {
        Some(o) => odfi_header(o)?,
        None => Header {
            destination: routing("immediate_destination", &a.immediate_destination)?,
            destination_name: a.immediate_destination_name.clone(),
            origin: a.immediate_origin.clone(),
            origin_name: a.immediate_origin_name.clone(),
            odfi: routing("odfi_routing", &a.odfi_routing)?,
            max_entries: a.max_entries_per_file,
            file_rules: Default::default(),
        },
    };
    Ok(inflow_engine::config::AchConfig {
        immediate_destination: header.destination,
        immediate_destination_name: header.destination_name,
        immediate_origin: header.origin,
        immediate_origin_name: header.origin_name,
        odfi_routing: header.odfi,
        outbound_dir,
        inbound_dir,
        good_funds_banking_days: a.good_funds_banking_days,
        prenote_wait_banking_days: a.prenote_wait_banking_days,
        calendar: BankingCalendar::federal_reserve().with_extra_closures(closures),
        // With profiles, the default ODFI's windows (its own or `[ach]`'s).
        cutoffs: odfis.first().map_or(cutoffs, |o| o.cutoffs.clone()),
        effective_date_horizon_days: a.effective_date_horizon_days,
        // A configured ODFI's own bank answers its files.
        sandbox_bank: config.sandbox && config.odfi.is_empty(),
        max_entries_per_file: header.max_entries,
        debit_limits,
        file_rules: header.file_rules,
        odfis,
    })
}

/// The file header values the cutoff writes.
struct Header {
    destination: inflow_core::bank::RoutingNumber,
    destination_name: String,
    origin: String,
    origin_name: String,
    odfi: inflow_core::bank::RoutingNumber,
    max_entries: u64,
    file_rules: inflow_engine::config::FileRules,
}

/// The header values of an `[[odfi]]` profile (instead of `[ach]`'s).
fn odfi_header(o: &crate::odfi::OdfiSettings) -> anyhow::Result<Header> {
    use inflow_core::bank::RoutingNumber;
    let at = format!("odfi `{}`", o.id);
    let routing = |field: &str, s: &str| {
        RoutingNumber::parse(field, s).map_err(|e| anyhow::anyhow!("{at}.{field}: {}", e.message))
    };
    if o.immediate_origin.len() != 10 {
        bail!(
            "{at}.immediate_origin must be exactly 10 characters (e.g. `1` + EIN), got `{}`",
            o.immediate_origin
        );
    }
    for (field, v) in [
        ("immediate_destination_name", &o.immediate_destination_name),
        ("immediate_origin_name", &o.immediate_origin_name),
    ] {
        if v.trim().is_empty() {
            bail!("{at}.{field} is required");
        }
    }
    let max_entries = o
        .max_entries_per_file
        .unwrap_or(inflow_engine::config::DEFAULT_MAX_ENTRIES_PER_FILE);
    if !(1..=nacha::limits::MAX_RECORDS).contains(&max_entries) {
        bail!(
            "{at}.max_entries_per_file must be 1 to {}",
            nacha::limits::MAX_RECORDS
        );
    }
    let odfi = routing("routing_number", &o.routing_number)?;
    Ok(Header {
        destination: match &o.immediate_destination {
            Some(d) => routing("immediate_destination", d)?,
            None => odfi.clone(),
        },
        destination_name: o.immediate_destination_name.clone(),
        origin: o.immediate_origin.clone(),
        origin_name: o.immediate_origin_name.clone(),
        odfi,
        max_entries,
        file_rules: crate::odfi_files::file_rules(o)?,
    })
}

/// Validate the `[cards]` settings.
pub fn card_config(config: &Config) -> anyhow::Result<inflow_engine::cards::CardConfig> {
    let c = &config.cards;
    if !(1..=30).contains(&c.authorization_ttl_days) {
        bail!("cards.authorization_ttl_days must be 1 to 30");
    }
    let batch_close = chrono::NaiveTime::parse_from_str(&c.batch_close, "%H:%M").map_err(|_| {
        anyhow::anyhow!(
            "cards.batch_close must be HH:MM (24-hour, US/Eastern), not {:?}",
            c.batch_close
        )
    })?;
    Ok(inflow_engine::cards::CardConfig {
        authorization_ttl_days: c.authorization_ttl_days,
        batch_close,
    })
}

/// Validate the `[webhooks]` settings into the dispatcher's configuration.
pub fn webhook_config(config: &Config) -> anyhow::Result<inflow_engine::webhooks::DispatchConfig> {
    use std::time::Duration;
    let w = &config.webhooks;
    if w.timeout_secs == 0 {
        bail!("webhooks.timeout_secs must be at least 1");
    }
    if w.claim_ttl_secs <= w.timeout_secs {
        bail!(
            "webhooks.claim_ttl_secs ({}) must exceed webhooks.timeout_secs ({}): a claim must outlive the attempt it covers",
            w.claim_ttl_secs,
            w.timeout_secs
        );
    }
    if w.retry_window_hours == 0 || w.retry_base_ms == 0 || w.retry_max_delay_secs == 0 {
        bail!(
            "webhooks.retry_window_hours, retry_base_ms and retry_max_delay_secs must be positive"
        );
    }
    Ok(inflow_engine::webhooks::DispatchConfig {
        timeout: Duration::from_secs(w.timeout_secs),
        retry: inflow_core::webhook::RetryPolicy {
            base: chrono::Duration::milliseconds(
                i64::try_from(w.retry_base_ms).unwrap_or(i64::MAX / 4),
            ),
            max_delay: chrono::Duration::seconds(
                i64::try_from(w.retry_max_delay_secs).unwrap_or(i64::MAX / 4_000),
            ),
            window: chrono::Duration::hours(i64::from(w.retry_window_hours)),
        },
        claim_ttl: Duration::from_secs(w.claim_ttl_secs),
        batch: w.batch_size.clamp(1, 1000),
        concurrency: w.concurrency.clamp(1, 256) as usize,
        disable_after_failures: w.disable_after_failures,
        allow_private_targets: config.sandbox,
        ..Default::default()
    })
}

/// Make the data directory and everything in it its owner's only, as
/// this version creates them: an older version left folders `0755` and
/// the database and bank files `0644`. A failure is logged, not fatal
/// (the operator may share the folder on purpose).
pub fn secure_data_dir(config: &Config) {
    match private_fs::tighten(&config.data_dir) {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            data_dir = %config.data_dir.display(),
            entries = n,
            "made the data directory's files 0600 and folders 0700 (they were readable by others)"
        ),
        Err(e) => tracing::warn!(
            data_dir = %config.data_dir.display(),
            error = %e,
            "could not make every file in the data directory private"
        ),
    }
}

/// Seal the NOC corrected data older versions stored in clear (idempotent).
pub async fn seal_legacy_secrets(store: &Store, vault: &Vault) -> anyhow::Result<u64> {
    let report = inflow_engine::inbound::legacy::seal_plaintext_corrected_data(store, vault)
        .await
        .context("sealing NOC corrected data stored in clear by an earlier version")?;
    Ok(report.total())
}

/// `inflow migrate`: migrations, then the sealing step when there is
/// anything to seal (which needs the master key). Returns the store and
/// how many rows were sealed.
pub async fn migrate(config: &Config) -> anyhow::Result<(Store, u64)> {
    secure_data_dir(config);
    let store = open_store(config).await?;
    let pending = inflow_engine::inbound::legacy::count_plaintext_corrected_data(&store).await?;
    if pending == 0 {
        return Ok((store, 0));
    }
    let key = master_key(config).context(
        "the database holds NOC corrected data in clear that must be sealed with the master key",
    )?;
    let sealed = seal_legacy_secrets(&store, &Vault::new(&key)).await?;
    Ok((store, sealed))
}

/// The card processor the configuration names. Production mode never
/// simulates: it refuses to start with the sandbox processor, and without
/// any processor it starts with card processing off (503
/// `card_processing_unavailable`), saying so.
pub fn card_processor(
    config: &Config,
    store: &Store,
    vault: &Arc<Vault>,
    clock: &SharedClock,
) -> anyhow::Result<Arc<dyn inflow_engine::cards::CardProcessor>> {
    use inflow_engine::cards::{
        DisabledProcessor, SandboxProcessor, StripeConfig, StripeProcessor,
    };
    let default = if config.sandbox {
        "sandbox"
    } else {
        "disabled"
    };
    let name = config.cards.processor.as_deref().unwrap_or(default);
    match name {
        "sandbox" if !config.sandbox => bail!(
            "cards.processor = \"sandbox\" in production mode (sandbox = false): the sandbox processor moves no money, \
             so production refuses it. Set cards.processor = \"stripe\" with cards.stripe.secret_key \
             (INFLOW_CARDS__STRIPE__SECRET_KEY), or \"disabled\" to run without cards"
        ),
        "sandbox" => Ok(Arc::new(SandboxProcessor::new(store.clone(), clock.clone()))),
        "disabled" => {
            tracing::warn!(
                "card processing is DISABLED: no card processor is configured (cards.processor); \
                 card requests answer 503 card_processing_unavailable"
            );
            Ok(Arc::new(DisabledProcessor))
        }
        "stripe" => {
            let s = &config.cards.stripe;
            let key = s.secret_key.as_deref().filter(|k| !k.trim().is_empty()).context(
                "cards.processor = \"stripe\" needs cards.stripe.secret_key (INFLOW_CARDS__STRIPE__SECRET_KEY)",
            )?;
            if !config.sandbox && key.starts_with("sk_test_") {
                tracing::warn!("the Stripe secret key is a test-mode key (sk_test_…): Stripe moves no real money with it");
            }
            if s.timeout_secs == 0 {
                bail!("cards.stripe.timeout_secs must be at least 1");
            }
            let cfg = StripeConfig {
                api_base: s.api_base.clone(),
                secret_key: key.to_owned(),
                timeout: std::time::Duration::from_secs(s.timeout_secs),
            };
            let p = StripeProcessor::new(&cfg, store.clone(), vault.clone())
                .map_err(|e| anyhow::anyhow!(e))?;
            tracing::info!(api = %s.api_base, "card processor: stripe");
            Ok(Arc::new(p))
        }
        other => bail!("cards.processor must be sandbox, stripe or disabled, not {other:?}"),
    }
}

pub async fn prepare(config: Config) -> anyhow::Result<Prepared> {
    secure_data_dir(&config);
    let key = master_key(&config)?;
    check_bootstrap_admin(&config)?;
    crate::odfi::validate(&config)?;
    config.console.validate()?;
    let ach = Arc::new(ach_config(&config)?);
    let webhook_config = webhook_config(&config)?;
    let store = open_store(&config).await?;
    let vault = Arc::new(Vault::new(&key));
    let delivery = Arc::new(crate::odfi::delivery(&config, &vault)?);
    let report_delivery = Arc::new(crate::report_delivery::report_delivery(&config, &vault)?);
    seal_legacy_secrets(&store, &vault).await?;
    let (clock, sandbox_clock): (SharedClock, _) = if config.sandbox {
        let c = Arc::new(SandboxClock::default());
        (c.clone(), Some(c))
    } else {
        (Arc::new(SystemClock), None)
    };
    let auth_cache = Arc::new(crate::http::auth_cache::AuthCache::new(
        std::time::Duration::from_secs(config.auth_cache_ttl_secs),
    ));
    let wall_clock: SharedClock = Arc::new(SystemClock);
    let replay = Arc::new(crate::http::replay::ReplayMemory::for_store(
        &store,
        config.signature_replay_capacity,
        wall_clock.now(),
    ));
    let webhooks = Arc::new(
        inflow_engine::webhooks::Dispatcher::new(
            store.clone(),
            vault.clone(),
            clock.clone(),
            wall_clock.clone(),
            webhook_config,
        )
        .context("starting the webhook dispatcher")?,
    );
    let card_config = card_config(&config)?;
    let card_processor = card_processor(&config, &store, &vault, &clock)?;
    let state = AppState {
        webhooks,
        ach,
        delivery,
        report_delivery,
        auth_cache,
        store,
        vault,
        clock,
        wall_clock,
        sandbox_clock,
        config: Arc::new(config),
        in_flight: Default::default(),
        replay,
        card_processor,
        cards: Arc::new(card_config),
        draining: Default::default(),
    };
    // The sandbox clock starts where the database says (restart, or other nodes).
    crate::app::sandbox_clock::sync(&state).await?;
    // Finish any NACHA file whose rows committed but whose bytes were not written.
    // A folder that cannot be written is not a reason to refuse to serve:
    // the background tick retries the write and `/readyz` says so.
    match inflow_engine::files::write_pending_files(&state.store, &state.vault, &state.ach).await {
        Ok(_) => {}
        Err(e @ inflow_engine::files::AchError::Io { .. }) => tracing::error!(
            error = %e,
            "pending ACH files not written at start-up; serving anyway, the background tick retries"
        ),
        Err(e) => return Err(anyhow::anyhow!("writing pending ACH files: {e}")),
    }
    let (demo, bootstrap) = match ensure_admin_key(&state).await? {
        AdminAccess::Demo(d) => (Some(d), None),
        AdminAccess::Bootstrap(b) => (None, Some(b)),
        AdminAccess::Existing => (None, None),
    };
    Ok(Prepared {
        state,
        demo,
        bootstrap,
    })
}

fn demo_file(config: &Config) -> PathBuf {
    config.data_dir.join("demo-credentials.json")
}

/// How an operator gets in, for start-up to print.
enum AdminAccess {
    /// The sandbox demo key (made now or on an earlier start).
    Demo(DemoCredentials),
    /// The key just made from `INFLOW_BOOTSTRAP_ADMIN_KEY` (sandbox mode).
    Bootstrap(DemoCredentials),
    /// Nothing to print.
    Existing,
}

/// Make sure an operator can get in: the bootstrap key from the environment,
/// or in sandbox mode a demo key whose credentials are kept beside the data.
async fn ensure_admin_key(state: &AppState) -> anyhow::Result<AdminAccess> {
    let config = &state.config;
    let mut tx = state.store.begin().await?;
    // Nodes starting together: one makes the key, the others then see it.
    tx.lock_job("bootstrap.admin_key").await?;
    if tx.count_active_admin_keys().await? > 0 {
        drop(tx);
        if config.sandbox {
            if let Ok(text) = std::fs::read_to_string(demo_file(config)) {
                if let Ok(demo) = serde_json::from_str(&text) {
                    return Ok(AdminAccess::Demo(demo));
                }
            }
        }
        return Ok(AdminAccess::Existing);
    }
    let now = state.clock.now();
    if let Some(key) = &config.bootstrap_admin_key {
        let issued = issue_api_key(
            &mut tx,
            &state.vault,
            KeyRequest {
                role: ApiKeyRole::Admin,
                customer_id: None,
                name: "bootstrap admin".into(),
                sandbox: config.sandbox,
                fixed_key: Some(key.clone()),
                fixed_signing_secret: config.bootstrap_admin_signing_secret.clone(),
                require_signed_requests: false,
                audit: inflow_engine::audit::AuditContext::of(Actor::Startup),
            },
            now,
        )
        .await
        .context("creating the bootstrap admin key from INFLOW_BOOTSTRAP_ADMIN_KEY")?;
        tx.commit().await?;
        tracing::info!(key_id = %issued.api_key.id, "created the first admin key from INFLOW_BOOTSTRAP_ADMIN_KEY");
        if !config.sandbox {
            return Ok(AdminAccess::Existing);
        }
        return Ok(AdminAccess::Bootstrap(DemoCredentials {
            key_id: issued.api_key.id.to_string(),
            api_key: issued.secret_key,
            signing_secret: issued.signing_secret,
        }));
    }
    if !config.sandbox {
        tracing::warn!("no admin key exists: create one with `inflow api-keys create --admin` or set INFLOW_BOOTSTRAP_ADMIN_KEY");
        return Ok(AdminAccess::Existing);
    }
    let issued = issue_api_key(
        &mut tx,
        &state.vault,
        KeyRequest {
            role: ApiKeyRole::Admin,
            customer_id: None,
            name: "sandbox demo admin".into(),
            sandbox: true,
            fixed_key: None,
            fixed_signing_secret: None,
            require_signed_requests: false,
            audit: inflow_engine::audit::AuditContext::of(Actor::Startup),
        },
        now,
    )
    .await?;
    let demo = DemoCredentials {
        key_id: issued.api_key.id.to_string(),
        api_key: issued.secret_key,
        signing_secret: issued.signing_secret,
    };
    private_fs::create_dir_all(&config.data_dir)?;
    let path = demo_file(config);
    let _ = std::fs::remove_file(&path);
    write_private(&path, serde_json::to_string_pretty(&demo)?.as_bytes())?;
    tx.commit().await?;
    Ok(AdminAccess::Demo(demo))
}
