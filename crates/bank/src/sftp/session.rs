//! Opening an SFTP session: TCP connect and SSH handshake with the host key
//! checked against the pins, authentication, the `sftp` subsystem. Each
//! step has its own timeout.

use russh::client::{self, Handle};
use russh::keys::{decode_secret_key, PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use russh_sftp::client::error::Error as SftpError;
use russh_sftp::client::SftpSession;
use russh_sftp::protocol::StatusCode;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::config::{SftpAuth, SftpConfig};
use super::hostkey::{fingerprint, HostKeyPins};
use crate::error::TransportError;

/// The client side of the SSH handshake: checks the server's host key.
struct HostKeyCheck {
    pins: HostKeyPins,
    host: String,
    port: u16,
    production: bool,
    /// The fingerprint the server offered, for the error message.
    offered: Arc<Mutex<Option<String>>>,
}

impl client::Handler for HostKeyCheck {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let PublicKeyOrCertificate::PublicKey { key, .. } = key else {
            self.record("an OpenSSH certificate (only pinned keys are trusted)".into());
            return Ok(false);
        };
        self.record(fingerprint(key));
        if self.pins.is_empty() && !self.production {
            tracing::warn!(
                host = %self.host, port = self.port, fingerprint = %fingerprint(key),
                "no pinned host key: accepting the server's key (never done in production)"
            );
            return Ok(true);
        }
        Ok(self.pins.accepts(key, &self.host, self.port))
    }
}

impl HostKeyCheck {
    fn record(&self, what: String) {
        if let Ok(mut slot) = self.offered.lock() {
            *slot = Some(what);
        }
    }
}

/// An authenticated SSH connection with its SFTP session.
pub(crate) struct Connection {
    handle: Handle<HostKeyCheck>,
    pub sftp: SftpSession,
    pub op_timeout: Duration,
}

impl Connection {
    /// Close politely (bounded); errors are irrelevant at this point.
    pub async fn close(self) {
        let _ = tokio::time::timeout(self.op_timeout, async {
            let _ = self.sftp.close().await;
            let _ = self
                .handle
                .disconnect(russh::Disconnect::ByApplication, "", "en")
                .await;
        })
        .await;
    }

    /// Run one SFTP request under the operation timeout.
    pub async fn op<T>(
        &self,
        op: &'static str,
        path: &str,
        fut: impl Future<Output = Result<T, SftpError>>,
    ) -> Result<T, TransportError> {
        match tokio::time::timeout(self.op_timeout, fut).await {
            Err(_) => Err(TransportError::Timeout {
                step: op,
                after: self.op_timeout,
            }),
            Ok(r) => r.map_err(|e| remote_error(op, path, e)),
        }
    }
}

/// Map an SFTP failure to our error, deciding whether a retry may help.
pub(crate) fn remote_error(op: &'static str, path: &str, e: SftpError) -> TransportError {
    let retryable = match &e {
        SftpError::Status(s) => match s.status_code {
            StatusCode::NoSuchFile => {
                return TransportError::NotFound { path: path.into() };
            }
            StatusCode::PermissionDenied | StatusCode::OpUnsupported | StatusCode::BadMessage => {
                false
            }
            _ => true,
        },
        SftpError::Limited(_) => false,
        SftpError::IO(_)
        | SftpError::Timeout
        | SftpError::UnexpectedPacket
        | SftpError::UnexpectedBehavior(_) => true,
    };
    TransportError::Remote {
        op,
        path: path.into(),
        detail: e.to_string(),
        retryable,
    }
}

async fn timed<T, E: std::fmt::Display>(
    step: &'static str,
    after: Duration,
    fut: impl Future<Output = Result<T, E>>,
    on_err: impl FnOnce(E) -> TransportError,
) -> Result<T, TransportError> {
    match tokio::time::timeout(after, fut).await {
        Err(_) => Err(TransportError::Timeout { step, after }),
        Ok(r) => r.map_err(on_err),
    }
}

/// Connect, check the host key, authenticate and start the SFTP subsystem.
pub(crate) async fn open(cfg: &SftpConfig) -> Result<Connection, TransportError> {
    cfg.validate()?;
    let t = cfg.timeouts;
    let ssh_config = Arc::new(client::Config {
        inactivity_timeout: Some(t.operation * 2),
        keepalive_interval: Some(t.operation / 2),
        keepalive_max: 2,
        nodelay: true,
        ..Default::default()
    });
    let offered = Arc::new(Mutex::new(None));
    let handler = HostKeyCheck {
        pins: cfg.host_keys.clone(),
        host: cfg.host.clone(),
        port: cfg.port,
        production: cfg.production,
        offered: offered.clone(),
    };
    let endpoint = cfg.endpoint();
    let connect = client::connect(ssh_config, (cfg.host.as_str(), cfg.port), handler);
    let mut handle = timed("connect", t.connect, connect, |e| match e {
        russh::Error::UnknownKey => TransportError::HostKeyRejected {
            endpoint: endpoint.clone(),
            offered: offered
                .lock()
                .ok()
                .and_then(|o| o.clone())
                .unwrap_or_else(|| "unknown".into()),
        },
        e => TransportError::Connect {
            endpoint: endpoint.clone(),
            detail: e.to_string(),
        },
    })
    .await?;
    authenticate(&mut handle, cfg).await?;
    let lost = |e: russh::Error| TransportError::Connect {
        endpoint: endpoint.clone(),
        detail: format!("sftp subsystem: {e}"),
    };
    let channel = timed(
        "open session channel",
        t.operation,
        handle.channel_open_session(),
        lost,
    )
    .await?;
    timed(
        "start sftp subsystem",
        t.operation,
        channel.request_subsystem(true, "sftp"),
        lost,
    )
    .await?;
    let sftp_config = russh_sftp::client::Config {
        request_timeout_secs: t.operation.as_secs().max(1),
        ..Default::default()
    };
    let sftp = timed(
        "sftp handshake",
        t.operation,
        SftpSession::new_with_config(channel.into_stream(), sftp_config),
        |e| remote_error("sftp handshake", "", e),
    )
    .await?;
    Ok(Connection {
        handle,
        sftp,
        op_timeout: t.operation,
    })
}

async fn authenticate(
    handle: &mut Handle<HostKeyCheck>,
    cfg: &SftpConfig,
) -> Result<(), TransportError> {
    let t = cfg.timeouts.auth;
    let endpoint = cfg.endpoint();
    let lost = |e: russh::Error| TransportError::Connect {
        endpoint: endpoint.clone(),
        detail: format!("authentication: {e}"),
    };
    let result = match &cfg.auth {
        SftpAuth::Password(p) => {
            timed(
                "authentication",
                t,
                handle.authenticate_password(&cfg.user, p.expose()),
                lost,
            )
            .await?
        }
        SftpAuth::Key {
            private_key,
            passphrase,
        } => {
            let key = decode_secret_key(
                private_key.expose(),
                passphrase.as_ref().map(|p| p.expose()),
            )
            .map_err(|e| TransportError::Config(format!("SSH private key cannot be read: {e}")))?;
            let hash = if key.algorithm().is_rsa() {
                timed("authentication", t, handle.best_supported_rsa_hash(), lost)
                    .await?
                    .flatten()
            } else {
                None
            };
            let key = PrivateKeyWithHashAlg::new(Arc::new(key), hash);
            timed(
                "authentication",
                t,
                handle.authenticate_publickey(&cfg.user, key),
                lost,
            )
            .await?
        }
    };
    if result.success() {
        Ok(())
    } else {
        Err(TransportError::AuthRejected {
            user: cfg.user.clone(),
        })
    }
}
