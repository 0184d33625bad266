//! [`Sftp`]: the bank's SFTP server as a [`BankTransport`], on `russh` and
//! `russh-sftp` (pure Rust, async on tokio).
//!
//! Each call opens one authenticated session and closes it: a delivery or a
//! poll is a handful of calls every few minutes, and a fresh session never
//! inherits a half-dead connection. Every network step is bounded by
//! [`Timeouts`].

mod config;
mod hostkey;
mod session;

pub use self::config::{SftpAuth, SftpConfig, Timeouts, VerifyMode};
pub use self::hostkey::{fingerprint, HostKeyPins};
pub use crate::transport::PickupAction;

use async_trait::async_trait;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use self::config::join;
use self::session::Connection;
use crate::error::TransportError;
use crate::transport::{
    content_hash, BankTransport, FetchedFile, FileName, RemoteFile, UploadReceipt,
};

/// Bytes written or read per SFTP call group, each under the operation timeout.
const CHUNK: usize = 256 * 1024;

/// One ODFI's SFTP server.
#[derive(Debug, Clone)]
pub struct Sftp {
    cfg: SftpConfig,
}

impl Sftp {
    /// Checks the configuration (a production configuration without a
    /// pinned host key is refused here, before any connection).
    pub fn new(cfg: SftpConfig) -> Result<Self, TransportError> {
        cfg.validate()?;
        Ok(Self { cfg })
    }

    pub fn config(&self) -> &SftpConfig {
        &self.cfg
    }

    /// Run `f` on a fresh session, then close it.
    async fn with_session<T>(
        &self,
        f: impl AsyncFnOnce(&Connection) -> Result<T, TransportError>,
    ) -> Result<T, TransportError> {
        let conn = session::open(&self.cfg).await?;
        let out = f(&conn).await;
        conn.close().await;
        out
    }

    fn location(&self, path: &str) -> String {
        format!(
            "sftp://{}@{}/{}",
            self.cfg.user,
            self.cfg.endpoint(),
            path.trim_start_matches('/')
        )
    }
}

/// Map a failed write or read on an open remote file.
fn io_error(op: &'static str, path: &str, e: std::io::Error) -> TransportError {
    TransportError::Remote {
        op,
        path: path.into(),
        detail: e.to_string(),
        retryable: true,
    }
}

async fn bounded<T>(
    conn: &Connection,
    op: &'static str,
    path: &str,
    fut: impl std::future::Future<Output = std::io::Result<T>>,
) -> Result<T, TransportError> {
    match tokio::time::timeout(conn.op_timeout, fut).await {
        Err(_) => Err(TransportError::Timeout {
            step: op,
            after: conn.op_timeout,
        }),
        Ok(r) => r.map_err(|e| io_error(op, path, e)),
    }
}

/// Size of a remote file, `None` when it does not exist.
async fn remote_size(conn: &Connection, path: &str) -> Result<Option<u64>, TransportError> {
    match conn.op("stat", path, conn.sftp.metadata(path)).await {
        Ok(meta) => Ok(Some(meta.size.unwrap_or(0))),
        Err(TransportError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Read a whole remote file, refusing more than `limit` bytes.
async fn read_all(conn: &Connection, path: &str, limit: u64) -> Result<Vec<u8>, TransportError> {
    let mut file = conn.op("open", path, conn.sftp.open(path)).await?;
    let mut out = Vec::new();
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = bounded(conn, "read", path, file.read(&mut buf)).await?;
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
        if out.len() as u64 > limit {
            return Err(TransportError::TooLarge {
                path: path.into(),
                size: out.len() as u64,
                limit,
            });
        }
    }
    let _ = tokio::time::timeout(conn.op_timeout, file.shutdown()).await;
    Ok(out)
}

/// Whether `path` already holds `bytes`: `None` if absent.
async fn holds(
    conn: &Connection,
    path: &str,
    bytes: &[u8],
) -> Result<Option<bool>, TransportError> {
    match remote_size(conn, path).await? {
        None => Ok(None),
        Some(size) if size != bytes.len() as u64 => Ok(Some(false)),
        Some(_) => {
            let back = read_all(conn, path, bytes.len() as u64).await?;
            Ok(Some(back == bytes))
        }
    }
}

impl Sftp {
    async fn upload_on(
        &self,
        conn: &Connection,
        name: &FileName,
        bytes: &[u8],
    ) -> Result<UploadReceipt, TransportError> {
        let dir = &self.cfg.outbound_dir;
        let final_path = join(dir, name.as_str());
        let partial = join(dir, &name.partial_name());
        let receipt = |already_present| UploadReceipt {
            name: name.clone(),
            location: self.location(&final_path),
            size: bytes.len() as u64,
            sha256: content_hash(bytes),
            already_present,
        };
        match holds(conn, &final_path, bytes).await? {
            Some(true) => return Ok(receipt(true)),
            Some(false) => return Err(TransportError::Conflict { path: final_path }),
            None => {}
        }
        self.write_partial(conn, &partial, bytes).await?;
        if let Err(e) = self.verify_partial(conn, &partial, bytes).await {
            let _ = conn
                .op("remove", &partial, conn.sftp.remove_file(&partial))
                .await;
            return Err(e);
        }
        match conn
            .op("rename", &partial, conn.sftp.rename(&partial, &final_path))
            .await
        {
            Ok(()) => Ok(receipt(false)),
            // SFTP v3 rename refuses an existing target: someone (an earlier
            // attempt whose reply was lost) put a file there meanwhile.
            Err(rename_err) => match holds(conn, &final_path, bytes).await {
                Ok(Some(true)) => {
                    let _ = conn
                        .op("remove", &partial, conn.sftp.remove_file(&partial))
                        .await;
                    Ok(receipt(true))
                }
                Ok(Some(false)) => Err(TransportError::Conflict { path: final_path }),
                _ => Err(rename_err),
            },
        }
    }

    async fn write_partial(
        &self,
        conn: &Connection,
        path: &str,
        bytes: &[u8],
    ) -> Result<(), TransportError> {
        let mut file = conn.op("create", path, conn.sftp.create(path)).await?;
        for chunk in bytes.chunks(CHUNK) {
            bounded(conn, "write", path, file.write_all(chunk)).await?;
        }
        bounded(conn, "flush", path, file.flush()).await?;
        conn.op("fsync", path, file.sync_all()).await?;
        bounded(conn, "close", path, file.shutdown()).await
    }

    async fn verify_partial(
        &self,
        conn: &Connection,
        path: &str,
        bytes: &[u8],
    ) -> Result<(), TransportError> {
        let expected = bytes.len() as u64;
        let size = remote_size(conn, path).await?.unwrap_or(0);
        if size != expected {
            return Err(TransportError::Verification {
                path: path.into(),
                detail: format!("the server holds {size} bytes, {expected} were sent"),
            });
        }
        if self.cfg.verify == VerifyMode::SizeAndSha256 {
            let back = read_all(conn, path, expected).await?;
            if content_hash(&back) != content_hash(bytes) {
                return Err(TransportError::Verification {
                    path: path.into(),
                    detail: "the SHA-256 of the bytes read back differs".into(),
                });
            }
        }
        Ok(())
    }
}

#[async_trait]
impl BankTransport for Sftp {
    fn describe(&self) -> String {
        self.location(&self.cfg.outbound_dir)
    }

    async fn upload(&self, name: &FileName, bytes: &[u8]) -> Result<UploadReceipt, TransportError> {
        self.with_session(async |conn| self.upload_on(conn, name, bytes).await)
            .await
    }

    async fn list_inbound(&self) -> Result<Vec<RemoteFile>, TransportError> {
        let dir = &self.cfg.inbound_dir;
        let entries = self
            .with_session(async |conn| conn.op("list", dir, conn.sftp.read_dir(dir)).await)
            .await?;
        let mut out: Vec<RemoteFile> = entries
            .filter(|e| e.file_type().is_file() && !FileName::is_in_progress(&e.file_name()))
            .filter_map(|e| {
                let meta = e.metadata();
                Some(RemoteFile {
                    name: FileName::new(e.file_name()).ok()?,
                    size: meta.size.unwrap_or(0),
                    modified: meta.modified().ok(),
                })
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn fetch_inbound(&self, name: &FileName) -> Result<FetchedFile, TransportError> {
        let path = join(&self.cfg.inbound_dir, name.as_str());
        let bytes = self
            .with_session(async |conn| read_all(conn, &path, self.cfg.max_inbound_bytes).await)
            .await?;
        Ok(FetchedFile {
            name: name.clone(),
            sha256: content_hash(&bytes),
            bytes,
        })
    }

    async fn dispose_inbound(&self, name: &FileName) -> Result<(), TransportError> {
        let path = join(&self.cfg.inbound_dir, name.as_str());
        let Some(dir) = self.cfg.pickup_dir() else {
            return self
                .with_session(async |conn| {
                    conn.op("remove", &path, conn.sftp.remove_file(&path)).await
                })
                .await;
        };
        self.with_session(async |conn| {
            if remote_size(conn, &dir).await?.is_none() {
                conn.op("create directory", &dir, conn.sftp.create_dir(&dir))
                    .await?;
            }
            let mut target = join(&dir, name.as_str());
            let mut n = 1u32;
            while remote_size(conn, &target).await?.is_some() {
                target = join(&dir, &format!("{name}.{n}"));
                n += 1;
            }
            conn.op("move", &path, conn.sftp.rename(&path, &target))
                .await
        })
        .await
    }
}
