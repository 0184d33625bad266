//! The problems `inflow config check` looks for. Each check names itself
//! (`check` in the JSON output) and says whether what it found stops
//! `inflow serve` or production use (an error) or deserves attention (a
//! warning). The settings are validated by the same code `serve` runs
//! (`crate::bootstrap`, `crate::odfi`, `crate::report_delivery`); nothing
//! here changes the database or the data directory.

use inflow_core::crypto::{MasterKey, Vault};
use serde::Serialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::config::Config;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    pub severity: Severity,
    pub check: &'static str,
    pub message: String,
}

#[derive(Default)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    pub(super) fn error(&mut self, check: &'static str, message: impl Into<String>) {
        self.push(Severity::Error, check, message);
    }
    pub(super) fn warn(&mut self, check: &'static str, message: impl Into<String>) {
        self.push(Severity::Warning, check, message);
    }
    pub(super) fn push(
        &mut self,
        severity: Severity,
        check: &'static str,
        message: impl Into<String>,
    ) {
        let message = message.into();
        // `serve`'s validators overlap (the ODFI check runs inside the ACH one).
        if self.0.iter().any(|q| q.message == message) {
            return;
        }
        self.0.push(Problem {
            severity,
            check,
            message,
        });
    }
    /// Record `r`'s error (with its causes) under `check`.
    fn check<T>(&mut self, check: &'static str, r: anyhow::Result<T>) -> Option<T> {
        r.map_err(|e| self.error(check, format!("{e:#}"))).ok()
    }
}

/// Every problem found in `config`.
pub async fn find(config: &Config) -> Vec<Problem> {
    let mut p = Problems::default();
    settings(config, &mut p);
    let key = master_key(config, &mut p);
    if let Some(key) = key {
        let vault = Vault::new(&key);
        p.check("odfi", crate::odfi::delivery(config, &vault).map(drop));
        p.check(
            "report_delivery",
            crate::report_delivery::report_delivery(config, &vault).map(drop),
        );
    }
    cards(config, &mut p);
    listeners(config, &mut p);
    directories(config, &mut p);
    super::config_db::database(config, &mut p).await;
    p.0
}

/// The checks `serve` makes before it opens the database. The `[ach]`
/// check creates folders, so it runs against a scratch data directory.
fn settings(config: &Config, p: &mut Problems) {
    p.check(
        "bootstrap_admin",
        crate::bootstrap::check_bootstrap_admin(config),
    );
    p.check("odfi", crate::odfi::validate(config));
    p.check(
        "webhooks",
        crate::bootstrap::webhook_config(config).map(drop),
    );
    p.check("cards", crate::bootstrap::card_config(config).map(drop));
    let scratch = std::env::temp_dir().join(format!(
        "inflow-config-check-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    let mut probe = config.clone();
    probe.data_dir = scratch.clone();
    p.check("ach", crate::bootstrap::ach_config(&probe).map(drop));
    let _ = std::fs::remove_dir_all(&scratch);
}

/// The master key: present, valid, and not guessable.
fn master_key(config: &Config, p: &mut Problems) -> Option<MasterKey> {
    let Some(text) = &config.master_key else {
        if !config.sandbox {
            p.error("master_key", "production mode (sandbox = false) needs its own master key: set INFLOW_MASTER_KEY to the base64 of 32 random bytes (`openssl rand -base64 32`)");
            return None;
        }
        let file = config.data_dir.join("master.key");
        if !file.exists() {
            p.warn("master_key", format!("no master key is configured: this sandbox generates one into {} at its first start", file.display()));
            return Some(MasterKey::generate());
        }
        return p.check("master_key", crate::bootstrap::master_key(config));
    };
    let key = p.check(
        "master_key",
        MasterKey::from_base64(text).map_err(|e| {
            anyhow::anyhow!("INFLOW_MASTER_KEY / master_key is not the base64 of 32 bytes: {e}")
        }),
    )?;
    if let Some(why) = weakness(text) {
        let message =
            format!("the master key is weak: {why}; generate one with `openssl rand -base64 32`");
        if config.sandbox {
            p.warn("master_key", message);
        } else {
            p.error("master_key", message);
        }
    }
    Some(key)
}

/// Why the (valid) base64 key `text` is not 32 random bytes, if it is not.
fn weakness(text: &str) -> Option<&'static str> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()?;
    let mut distinct = bytes.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 16 {
        return Some("its bytes repeat (fewer than 16 distinct values in 32)");
    }
    if bytes.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        return Some("it is printable text (a password or a demo value), not random bytes");
    }
    None
}

fn cards(config: &Config, p: &mut Problems) {
    let default = if config.sandbox {
        "sandbox"
    } else {
        "disabled"
    };
    let stripe = &config.cards.stripe;
    match config.cards.processor.as_deref().unwrap_or(default) {
        "sandbox" if !config.sandbox => p.error("cards", "cards.processor = \"sandbox\" in production mode: the sandbox processor moves no money; set \"stripe\" (with cards.stripe.secret_key) or \"disabled\""),
        "sandbox" => {}
        "disabled" if !config.sandbox => p.warn("cards", "no card processor is configured (cards.processor): card requests answer 503 card_processing_unavailable"),
        "disabled" => {}
        "stripe" => match stripe.secret_key.as_deref().filter(|k| !k.trim().is_empty()) {
            None => p.error("cards", "cards.processor = \"stripe\" needs cards.stripe.secret_key (INFLOW_CARDS__STRIPE__SECRET_KEY)"),
            Some(k) if !config.sandbox && k.starts_with("sk_test_") => p.warn("cards", "the Stripe secret key is a test-mode key (sk_test_…) in production mode: Stripe moves no real money with it"),
            Some(_) if stripe.timeout_secs == 0 => p.error("cards", "cards.stripe.timeout_secs must be at least 1"),
            Some(_) => {}
        },
        other => p.error("cards", format!("cards.processor must be sandbox, stripe or disabled, not {other:?}")),
    }
}

/// The API and metrics listeners: distinct, and free to bind.
fn listeners(config: &Config, p: &mut Problems) {
    let metrics = config.metrics.listen.filter(|_| config.metrics.enabled);
    if let Some(m) = metrics {
        if m.port() != 0 && m.port() == config.listen.port() && overlaps(m, config.listen) {
            p.error("listen", format!("metrics.listen ({m}) and listen ({}) are the same address: give the metrics listener its own port", config.listen));
            return;
        }
    }
    for (name, addr) in [("listen", Some(config.listen)), ("metrics.listen", metrics)] {
        let Some(addr) = addr.filter(|a| a.port() != 0) else {
            continue;
        };
        if let Err(e) = std::net::TcpListener::bind(addr) {
            let hint = if e.kind() == std::io::ErrorKind::AddrInUse {
                " (is Inflow, or something else, already running there?)"
            } else {
                ""
            };
            p.error(
                "listen",
                format!("{name} = {addr} cannot be bound: {e}{hint}"),
            );
        }
    }
}

fn overlaps(a: SocketAddr, b: SocketAddr) -> bool {
    a.ip() == b.ip() || a.ip().is_unspecified() || b.ip().is_unspecified()
}

/// The folders Inflow writes: the data directory, its ACH folders and the
/// local transports' folders.
fn directories(config: &Config, p: &mut Problems) {
    let mut dirs: Vec<PathBuf> = vec![
        config.data_dir.clone(),
        config.data_dir.join("ach").join("outbound"),
        config.data_dir.join("ach").join("inbound"),
    ];
    let transports = config
        .odfi
        .iter()
        .filter_map(|o| o.transport.as_ref())
        .chain(config.report_delivery.iter().map(|r| &r.transport));
    for t in transports {
        if let crate::odfi::TransportSettings::Local {
            outbound_dir,
            inbound_dir,
        } = t
        {
            dirs.extend([outbound_dir.clone(), inbound_dir.clone()]);
        }
    }
    let mut failed: Vec<PathBuf> = Vec::new();
    for d in dirs {
        if failed.iter().any(|f| d.starts_with(f)) {
            continue;
        }
        if let Err(why) = writable(&d) {
            p.error(
                "directories",
                format!("{} is not writable: {why}", d.display()),
            );
            failed.push(d);
        }
    }
}

/// Can Inflow write in `dir` (or create it, when it does not exist yet)?
fn writable(dir: &Path) -> Result<(), String> {
    let mut at = dir;
    loop {
        match std::fs::metadata(at) {
            Ok(m) if m.is_dir() => break,
            Ok(_) => return Err(format!("{} is not a folder", at.display())),
            Err(_) => match at.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => at = parent,
                _ => return Ok(()),
            },
        }
    }
    let probe = at.join(format!(".inflow-write-check-{}", std::process::id()));
    match std::fs::File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(format!("cannot create a file in {}: {e}", at.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_master_keys_are_named_and_random_ones_are_not() {
        assert!(weakness("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").is_some());
        // "this-is-my-demo-master-key-32-by" as base64
        assert!(weakness("dGhpcy1pcy1teS1kZW1vLW1hc3Rlci1rZXktMzItYnk=").is_some());
        assert!(weakness(&MasterKey::generate().to_base64()).is_none());
    }
}
