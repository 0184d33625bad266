//! What an SFTP connection to one ODFI needs: where, as whom, which host
//! keys to trust, which remote directories, and how long each step may take.

use std::time::Duration;

use super::hostkey::HostKeyPins;
use crate::error::TransportError;
use crate::secret::Secret;
use crate::transport::PickupAction;

/// How we prove who we are.
#[derive(Debug, Clone)]
pub enum SftpAuth {
    /// An OpenSSH (or PKCS#8 PEM) private key, optionally encrypted.
    Key {
        private_key: Secret,
        passphrase: Option<Secret>,
    },
    Password(Secret),
}

/// How an upload is checked before it is renamed to its final name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyMode {
    /// The remote size equals the size sent.
    Size,
    /// The size, and the SHA-256 of the bytes read back from the server
    /// (costs a second transfer; for servers without a checksum extension,
    /// which OpenSSH's is not).
    SizeAndSha256,
}

/// Time limits for each network step, so that nothing hangs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP connection and SSH handshake (key exchange, host key check).
    pub connect: Duration,
    /// Authentication.
    pub auth: Duration,
    /// Each SFTP request (open, write of one chunk, stat, rename, …).
    pub operation: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(15),
            auth: Duration::from_secs(15),
            operation: Duration::from_secs(30),
        }
    }
}

/// One ODFI's SFTP server.
#[derive(Debug, Clone)]
pub struct SftpConfig {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub auth: SftpAuth,
    /// The server's host keys we trust. Anything else is refused.
    pub host_keys: HostKeyPins,
    /// Production refuses to connect without a pinned host key (no trust
    /// on first use). Outside production an empty pin list accepts any key,
    /// with a warning in the log.
    pub production: bool,
    /// Remote directory outbound files are uploaded to.
    pub outbound_dir: String,
    /// Remote directory the bank leaves files for us in.
    pub inbound_dir: String,
    /// What happens to an inbound file once applied (`MoveTo` a remote
    /// directory; relative to `inbound_dir` unless it starts with `/`).
    pub pickup: PickupAction,
    pub verify: VerifyMode,
    pub timeouts: Timeouts,
    /// Larger inbound files are refused rather than read into memory.
    pub max_inbound_bytes: u64,
}

impl SftpConfig {
    /// A configuration with the defaults: port 22, directories `outbound`
    /// and `inbound`, picked-up files moved to `inbound/processed`, size
    /// verification, default timeouts, inbound files up to 256 MiB.
    pub fn new(host: impl Into<String>, user: impl Into<String>, auth: SftpAuth) -> Self {
        Self {
            host: host.into(),
            port: 22,
            user: user.into(),
            auth,
            host_keys: HostKeyPins::default(),
            production: true,
            outbound_dir: "outbound".into(),
            inbound_dir: "inbound".into(),
            pickup: PickupAction::MoveTo("processed".into()),
            verify: VerifyMode::Size,
            timeouts: Timeouts::default(),
            max_inbound_bytes: 256 * 1024 * 1024,
        }
    }

    /// `host:port`, for messages.
    pub fn endpoint(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// Refuse a configuration that cannot work or is unsafe.
    pub fn validate(&self) -> Result<(), TransportError> {
        let bad = |m: &str| Err(TransportError::Config(m.to_string()));
        if self.host.trim().is_empty() {
            return bad("host is empty");
        }
        if self.user.trim().is_empty() {
            return bad("user is empty");
        }
        if self.port == 0 {
            return bad("port must be 1 to 65535");
        }
        if self.production && self.host_keys.is_empty() {
            return bad(
                "production refuses to connect without a pinned host key (no trust on first use): \
                 set the server's key in known_hosts or `ssh-ed25519 AAAA…` form",
            );
        }
        for (what, dir) in [
            ("outbound_dir", &self.outbound_dir),
            ("inbound_dir", &self.inbound_dir),
        ] {
            if dir.trim().is_empty() || dir.contains('\0') {
                return Err(TransportError::Config(format!(
                    "{what} is empty or invalid"
                )));
            }
        }
        if let PickupAction::MoveTo(dir) = &self.pickup {
            if dir.trim().is_empty() || dir.contains('\0') {
                return bad("pickup move directory is empty or invalid");
            }
        }
        if self.timeouts.connect.is_zero()
            || self.timeouts.auth.is_zero()
            || self.timeouts.operation.is_zero()
        {
            return bad("timeouts must be positive");
        }
        Ok(())
    }

    /// The remote directory picked-up files move to.
    pub(crate) fn pickup_dir(&self) -> Option<String> {
        match &self.pickup {
            PickupAction::Delete => None,
            PickupAction::MoveTo(d) if d.starts_with('/') => Some(d.clone()),
            PickupAction::MoveTo(d) => Some(join(&self.inbound_dir, d)),
        }
    }
}

/// `dir/name` with one slash.
pub(crate) fn join(dir: &str, name: &str) -> String {
    format!("{}/{}", dir.trim_end_matches('/'), name)
}
