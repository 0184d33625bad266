//! ODFI profiles (`[[odfi]]` in the TOML file; the whole list as an inline
//! array in `INFLOW_ODFI`), validated into the engine's header settings and
//! the delivery job's transports.
//!
//! Secrets (`private_key`, `private_key_passphrase`, `password`) take one
//! of four forms: `sealed:v1:…` (sealed with the master key under the
//! context `bank:<odfi id>:<field>`, made by `inflow bank seal`),
//! `file:/path`, `env:VARIABLE`, or the value itself.
//!
//! Sandbox mode without an `[[odfi]]` uses the built-in sandbox ODFI (the
//! `[ach]` header values and the simulated bank). Production mode refuses
//! to start without an ODFI that has a transport.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use inflow_bank::pgp::{BankPublicKey, InboundPgp, OurSecretKey, OutboundPgp};
use inflow_bank::{
    HostKeyPins, LocalFolder, PickupAction, RetryPolicy, Secret, SecretSource, Sftp, SftpAuth,
    SftpConfig, Timeouts, VerifyMode,
};
use inflow_core::crypto::Vault;
use inflow_engine::delivery::{Delivery, Odfi};
use serde::{Deserialize, Serialize};

use crate::config::Config;

/// One originating bank.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OdfiSettings {
    /// A short name (`[a-z0-9_-]`, 1–32 characters), shown on files and
    /// used as a customer's `odfiId`; unique among the profiles.
    pub id: String,
    /// The default ODFI: it files the entries of customers without an
    /// `odfiId`. At most one; without any, the first profile listed.
    pub default: bool,
    /// The ODFI's routing number: its first 8 digits begin every trace
    /// number and batch header.
    pub routing_number: String,
    /// File header immediate destination (default: `routing_number`).
    pub immediate_destination: Option<String>,
    pub immediate_destination_name: String,
    /// File header immediate origin: 10 characters assigned by the ODFI.
    pub immediate_origin: String,
    pub immediate_origin_name: String,
    /// The most entries per file, offsets included (default 100,000); a
    /// cutoff with more writes several files.
    pub max_entries_per_file: Option<u64>,
    /// Balanced files: every batch ends with an offsetting credit (code 22,
    /// or 32 for savings) to `settlement_account` for the batch's debits.
    pub balanced: bool,
    /// `[odfi.settlement_account]`: required when `balanced`.
    pub settlement_account: Option<SettlementAccountSettings>,
    /// Debits and credits in separate files: with `balanced`, each file of
    /// debits gets a companion file holding only its offset credits.
    pub separate_debits_and_credits: bool,
    /// The outbound file name: `{date}` (YYYYMMDD) or `{yymmdd}`, and
    /// `{modifier}` are required; `{kind}` is `debits` or `credits`.
    /// Default `INFLOW-{date}-{modifier}.ach`.
    pub file_name_pattern: Option<String>,
    /// The File ID Modifiers to use, in order (default
    /// `ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789`); e.g. `"0123456789"` for a
    /// bank that wants digits.
    pub file_id_modifiers: Option<String>,
    /// The file header's reference code (up to 8 characters).
    pub reference_code: Option<String>,
    /// Company identification the ODFI assigned to the operator, written
    /// in every batch header instead of each customer's.
    pub company_id: Option<String>,
    /// This bank's Same Day ACH windows, US/Eastern `HH:MM`, ascending
    /// (`[]`: the bank offers no same-day processing). Unset: the `[ach]`
    /// windows. Its files are built at these windows only, and its entries
    /// get their effective dates from them.
    pub same_day_windows: Option<Vec<String>>,
    /// This bank's standard (next-day) cutoff, US/Eastern `HH:MM`. Unset:
    /// `[ach] standard_cutoff`.
    pub standard_cutoff: Option<String>,
    /// How files reach the bank; required in production mode.
    pub transport: Option<TransportSettings>,
    pub retry: RetrySettings,
    /// `[odfi.pgp]`: OpenPGP for this bank's files (optional).
    pub pgp: Option<PgpSettings>,
    /// The name of the bank's acknowledgement of a file, `{name}` standing
    /// for the outbound file's name (e.g. `"{name}.ack"`). Unset: the bank
    /// sends no acknowledgements and files stay `uploaded`.
    pub ack_file_pattern: Option<String>,
}

/// `[odfi.settlement_account]`: the operator's account the offset entries
/// of balanced files credit.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettlementAccountSettings {
    pub routing_number: String,
    pub account_number: String,
    /// `checking` (default) or `savings`.
    #[serde(default = "checking")]
    pub account_type: String,
    /// The offset entries' receiver name (default: `immediate_origin_name`).
    pub name: Option<String>,
}

fn checking() -> String {
    "checking".into()
}

/// `[odfi.pgp]`: outbound files encrypted to the bank's key and signed with
/// ours (uploaded as `<name>.pgp`); inbound files decrypted with ours and,
/// unless `verify_inbound = false`, refused when not signed by the bank.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PgpSettings {
    /// The bank's public key: ASCII armor, or `file:/path`.
    pub bank_public_key: String,
    /// Our secret key (secret form, see the module documentation; the
    /// sealed context is `bank:<odfi id>:our_secret_key`).
    pub our_secret_key: String,
    pub our_secret_key_passphrase: Option<String>,
    /// ASCII-armored outbound files instead of binary OpenPGP.
    #[serde(default)]
    pub armor: bool,
    #[serde(default = "yes")]
    pub verify_inbound: bool,
}

fn yes() -> bool {
    true
}

impl std::fmt::Debug for OdfiSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OdfiSettings")
            .field("id", &self.id)
            .field("routing_number", &self.routing_number)
            .field("transport", &self.transport.as_ref().map(|t| t.kind()))
            .finish_non_exhaustive()
    }
}

/// `[odfi.transport]`: `kind = "sftp"` or `kind = "local"`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum TransportSettings {
    Sftp(SftpSettings),
    /// Two local folders (a bank connector that moves files itself).
    Local {
        outbound_dir: PathBuf,
        inbound_dir: PathBuf,
    },
}

impl TransportSettings {
    fn kind(&self) -> &'static str {
        match self {
            Self::Sftp(_) => "sftp",
            Self::Local { .. } => "local",
        }
    }
}

/// The bank's SFTP server.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SftpSettings {
    pub host: String,
    #[serde(default = "default_port")]
    pub port: u16,
    pub user: String,
    /// OpenSSH private key (secret form, see the module documentation).
    pub private_key: Option<String>,
    pub private_key_passphrase: Option<String>,
    /// Password authentication instead of a key (secret form).
    pub password: Option<String>,
    /// The server's host key(s): known_hosts lines or `ssh-ed25519 AAAA…`.
    /// Required in production mode (no trust on first use).
    #[serde(default)]
    pub known_hosts: String,
    #[serde(default = "default_outbound")]
    pub outbound_dir: String,
    #[serde(default = "default_inbound")]
    pub inbound_dir: String,
    /// `delete`, or `move:<dir>` (relative to `inbound_dir` unless absolute).
    #[serde(default = "default_after_pickup")]
    pub after_pickup: String,
    /// Also read an upload back and compare its SHA-256 (default: size only).
    #[serde(default)]
    pub verify_sha256: bool,
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

fn default_port() -> u16 {
    22
}
fn default_outbound() -> String {
    "outbound".into()
}
fn default_inbound() -> String {
    "inbound".into()
}
fn default_after_pickup() -> String {
    "move:processed".into()
}
fn default_timeout() -> u64 {
    30
}

/// `[odfi.retry]`: automatic upload attempts per file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetrySettings {
    pub max_attempts: u32,
    pub initial_backoff_secs: u64,
    pub max_backoff_secs: u64,
}

impl Default for RetrySettings {
    fn default() -> Self {
        let d = RetryPolicy::default();
        Self {
            max_attempts: d.max_attempts,
            initial_backoff_secs: d.initial_backoff.as_secs(),
            max_backoff_secs: d.max_backoff.as_secs(),
        }
    }
}

/// The configured ODFIs, the default first: the one with `default = true`,
/// or else the first listed. The default files the entries of customers
/// with no `odfiId` and the outbound files recorded before ODFIs had ids.
pub fn ordered(config: &Config) -> Vec<&OdfiSettings> {
    let mut list: Vec<&OdfiSettings> = config.odfi.iter().collect();
    if let Some(i) = list.iter().position(|o| o.default) {
        let d = list.remove(i);
        list.insert(0, d);
    }
    list
}

/// The ODFI whose header values the cutoff uses by default.
pub fn header_odfi(config: &Config) -> Option<&OdfiSettings> {
    ordered(config).into_iter().next()
}

/// The cutoff windows of profile `o`: its own `same_day_windows` and
/// `standard_cutoff` where set, the `[ach]` ones otherwise. Errors name the
/// setting (`odfi[1].standard_cutoff`).
pub fn cutoff_windows(
    config: &Config,
    o: &OdfiSettings,
) -> anyhow::Result<inflow_core::calendar::CutoffSchedule> {
    let i = config
        .odfi
        .iter()
        .position(|p| p.id == o.id)
        .unwrap_or_default();
    let own = o.same_day_windows.is_some() || o.standard_cutoff.is_some();
    let (at, windows, standard) = (
        format!("odfi[{i}]"),
        o.same_day_windows
            .as_ref()
            .map(|w| (format!("odfi[{i}].same_day_windows"), w))
            .unwrap_or(("ach.same_day_windows".into(), &config.ach.same_day_windows)),
        o.standard_cutoff
            .as_ref()
            .map(|t| (format!("odfi[{i}].standard_cutoff"), t))
            .unwrap_or(("ach.standard_cutoff".into(), &config.ach.standard_cutoff)),
    );
    let time = |field: &str, s: &str| {
        chrono::NaiveTime::parse_from_str(s, "%H:%M")
            .map_err(|_| anyhow::anyhow!("{field}: `{s}` is not HH:MM (US/Eastern)"))
    };
    let parsed = windows
        .1
        .iter()
        .map(|w| time(&windows.0, w))
        .collect::<anyhow::Result<Vec<_>>>()?;
    inflow_core::calendar::CutoffSchedule::new(parsed, time(&standard.0, standard.1)?).map_err(
        |e| {
            if own {
                anyhow::anyhow!("{at} cutoff windows ({}, {}): {e}", windows.0, standard.0)
            } else {
                anyhow::anyhow!("ach cutoff schedule: {e}")
            }
        },
    )
}

/// Check the `[[odfi]]` list without touching secrets or the network.
pub fn validate(config: &Config) -> anyhow::Result<()> {
    let defaults: Vec<&str> = config
        .odfi
        .iter()
        .filter(|o| o.default)
        .map(|o| o.id.as_str())
        .collect();
    if defaults.len() > 1 {
        bail!(
            "odfi: only one ODFI may have default = true, got {}",
            defaults.join(", ")
        );
    }
    for (i, o) in config.odfi.iter().enumerate() {
        if let Some(j) = config.odfi[..i].iter().position(|p| p.id == o.id) {
            bail!(
                "odfi[{i}].id {:?} is already the id of odfi[{j}]: every ODFI needs its own id",
                o.id
            );
        }
    }
    for (i, o) in config.odfi.iter().enumerate() {
        let at = format!("odfi[{i}]");
        let id_ok = (1..=32).contains(&o.id.len())
            && o.id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !id_ok {
            bail!(
                "{at}.id must be 1 to 32 characters of a-z, 0-9, `-` or `_`, got {:?}",
                o.id
            );
        }
        if let Some(p) = &o.ack_file_pattern {
            if p.matches("{name}").count() != 1 || p.contains('/') {
                bail!("{at}.ack_file_pattern must contain `{{name}}` once and no `/`, got {p:?}");
            }
        }
        cutoff_windows(config, o)?;
        if o.retry.max_attempts == 0 {
            bail!("{at}.retry.max_attempts must be at least 1");
        }
        if let Some(TransportSettings::Sftp(s)) = &o.transport {
            if s.private_key.is_none() && s.password.is_none() {
                bail!("{at}.transport.private_key or {at}.transport.password is required for sftp");
            }
            if !config.sandbox && s.known_hosts.trim().is_empty() {
                bail!("{at}.transport.known_hosts is required in production mode: the SFTP server's host key must be pinned");
            }
            if s.timeout_secs == 0 {
                bail!("{at}.transport.timeout_secs must be at least 1");
            }
            pickup_action(&at, &s.after_pickup)?;
        }
    }
    if !config.sandbox && config.odfi.len() > 1 {
        // Each bank's files must reach it: without a transport they would
        // count as delivered to the sandbox bank.
        if let Some(i) = config.odfi.iter().position(|o| o.transport.is_none()) {
            bail!(
                "production mode (sandbox = false): odfi[{i}] (`{}`) has no transport; every ODFI needs \
                 `[odfi.transport]` (odfi[{i}].transport, e.g. kind = \"sftp\")",
                config.odfi[i].id
            );
        }
    }
    if !config.sandbox && !config.odfi.iter().any(|o| o.transport.is_some()) {
        bail!(
            "production mode (sandbox = false) needs an ODFI to deliver files to: configure an `[[odfi]]` \
             with `[odfi.transport]` (odfi[0].transport, e.g. kind = \"sftp\"); see README \"Connecting a real bank\""
        );
    }
    Ok(())
}

fn pickup_action(at: &str, s: &str) -> anyhow::Result<PickupAction> {
    match s.split_once(':') {
        _ if s == "delete" => Ok(PickupAction::Delete),
        Some(("move", dir)) if !dir.trim().is_empty() => Ok(PickupAction::MoveTo(dir.to_owned())),
        _ => bail!("{at}.transport.after_pickup must be `delete` or `move:<dir>`, got {s:?}"),
    }
}

/// A secret in one of the config forms (see the module documentation).
fn secret(vault: &Vault, odfi: &str, field: &str, text: &str) -> anyhow::Result<Secret> {
    let at = format!("odfi `{odfi}` {field}");
    let source = if text.starts_with("sealed:") {
        SecretSource::Sealed {
            sealed: text.to_owned(),
            // `transport.password` → `bank:<odfi>:password`.
            context: format!("bank:{odfi}:{}", field.rsplit('.').next().unwrap_or(field)),
        }
    } else if let Some(path) = text.strip_prefix("file:") {
        SecretSource::File(PathBuf::from(path))
    } else if let Some(var) = text.strip_prefix("env:") {
        let value = std::env::var(var).with_context(|| format!("{at}: ${var} is not set"))?;
        SecretSource::Inline(Secret::new(value))
    } else {
        SecretSource::Inline(Secret::new(text))
    };
    source.load(Some(vault)).with_context(|| at)
}

/// The OpenPGP settings of ODFI `id`, keys loaded and checked.
fn pgp(vault: &Vault, id: &str, p: &PgpSettings) -> anyhow::Result<(OutboundPgp, InboundPgp)> {
    let public = match p.bank_public_key.strip_prefix("file:") {
        Some(path) => std::fs::read(path)
            .with_context(|| format!("odfi `{id}` pgp.bank_public_key: reading {path}"))?,
        None => p.bank_public_key.as_bytes().to_vec(),
    };
    let bank = BankPublicKey::from_bytes(&public)
        .map_err(|e| anyhow::anyhow!("odfi `{id}` pgp.bank_public_key: {e}"))?;
    let passphrase = p
        .our_secret_key_passphrase
        .as_deref()
        .map(|t| secret(vault, id, "our_secret_key_passphrase", t))
        .transpose()?;
    let ours = OurSecretKey::from_secret(
        &secret(vault, id, "our_secret_key", &p.our_secret_key)?,
        passphrase,
    )
    .map_err(|e| anyhow::anyhow!("odfi `{id}` pgp.our_secret_key: {e}"))?;
    let outbound = OutboundPgp {
        recipient: bank.clone(),
        signer: Some(ours.clone()),
        armor: p.armor,
    };
    let inbound = InboundPgp {
        decrypt_with: Some(ours),
        verify_with: p.verify_inbound.then_some(bank),
    };
    Ok((outbound, inbound))
}

pub(crate) fn sftp_config(
    vault: &Vault,
    sandbox: bool,
    id: &str,
    s: &SftpSettings,
) -> anyhow::Result<SftpConfig> {
    let auth = match (&s.private_key, &s.password) {
        (Some(key), _) => SftpAuth::Key {
            private_key: secret(vault, id, "transport.private_key", key)?,
            passphrase: s
                .private_key_passphrase
                .as_deref()
                .map(|p| secret(vault, id, "transport.private_key_passphrase", p))
                .transpose()?,
        },
        (None, Some(pw)) => SftpAuth::Password(secret(vault, id, "transport.password", pw)?),
        (None, None) => bail!("odfi `{id}`: sftp needs private_key or password"),
    };
    let mut cfg = SftpConfig::new(&s.host, &s.user, auth);
    cfg.port = s.port;
    cfg.host_keys = HostKeyPins::parse(&s.known_hosts)
        .with_context(|| format!("odfi `{id}` transport.known_hosts"))?;
    cfg.production = !sandbox;
    cfg.outbound_dir = s.outbound_dir.clone();
    cfg.inbound_dir = s.inbound_dir.clone();
    cfg.pickup = pickup_action(&format!("odfi `{id}`"), &s.after_pickup)?;
    cfg.verify = if s.verify_sha256 {
        VerifyMode::SizeAndSha256
    } else {
        VerifyMode::Size
    };
    let t = Duration::from_secs(s.timeout_secs);
    cfg.timeouts = Timeouts {
        connect: t,
        auth: t,
        operation: t,
    };
    cfg.validate()
        .map_err(|e| anyhow::anyhow!("odfi `{id}` transport: {e}"))?;
    Ok(cfg)
}

/// The delivery job's ODFIs: the configured ones with their transports
/// (secrets loaded, SFTP settings checked), or the sandbox's simulated
/// bank when none is configured.
pub fn delivery(config: &Config, vault: &Vault) -> anyhow::Result<Delivery> {
    validate(config)?;
    let spool_dir = config.data_dir.join("ach").join("pgp-outbound");
    if config.odfi.is_empty() {
        return Ok(Delivery::sandbox(spool_dir));
    }
    let mut odfis = Vec::with_capacity(config.odfi.len());
    // The default first: files with no ODFI recorded go to it.
    for o in ordered(config) {
        let transport: Option<Arc<dyn inflow_bank::BankTransport>> = match &o.transport {
            None => None,
            Some(TransportSettings::Local {
                outbound_dir,
                inbound_dir,
            }) => Some(Arc::new(LocalFolder::new(outbound_dir, inbound_dir))),
            Some(TransportSettings::Sftp(s)) => {
                let cfg = sftp_config(vault, config.sandbox, &o.id, s)?;
                Some(Arc::new(Sftp::new(cfg).map_err(|e| {
                    anyhow::anyhow!("odfi `{}` transport: {e}", o.id)
                })?))
            }
        };
        let (pgp_out, pgp_in) = match &o.pgp {
            Some(p) => {
                let (out, inb) = pgp(vault, &o.id, p)?;
                (Some(out), Some(inb))
            }
            None => (None, None),
        };
        odfis.push(Odfi {
            id: o.id.clone(),
            transport,
            pgp_out,
            pgp_in,
            ack_pattern: o.ack_file_pattern.clone(),
            retry: RetryPolicy {
                max_attempts: o.retry.max_attempts,
                initial_backoff: Duration::from_secs(o.retry.initial_backoff_secs),
                max_backoff: Duration::from_secs(o.retry.max_backoff_secs),
            },
        });
    }
    Ok(Delivery { odfis, spool_dir })
}

#[cfg(test)]
mod tests {
    use super::*;
    use inflow_core::crypto::MasterKey;

    #[test]
    fn a_sealed_secret_opens_only_for_its_odfi_and_field() {
        let vault = Vault::new(&MasterKey::generate());
        let sealed =
            inflow_bank::secret::seal(&vault, &Secret::new("hunter2"), "bank:first:password");
        let opened = secret(&vault, "first", "transport.password", &sealed).unwrap();
        assert_eq!(opened.expose(), "hunter2");
        assert!(secret(&vault, "other", "transport.password", &sealed).is_err());
        assert!(secret(&vault, "first", "transport.private_key", &sealed).is_err());
        assert_eq!(
            secret(&vault, "first", "x", "plain").unwrap().expose(),
            "plain"
        );
        let err = secret(
            &vault,
            "first",
            "x",
            "env:INFLOW_TEST_SURELY_UNSET_VARIABLE",
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("INFLOW_TEST_SURELY_UNSET_VARIABLE"));
    }

    #[test]
    fn after_pickup_is_delete_or_a_move() {
        assert_eq!(pickup_action("x", "delete").unwrap(), PickupAction::Delete);
        assert_eq!(
            pickup_action("x", "move:done").unwrap(),
            PickupAction::MoveTo("done".into())
        );
        for bad in ["", "move:", "keep", "move: "] {
            assert!(pickup_action("x", bad).is_err(), "{bad:?}");
        }
    }
}
