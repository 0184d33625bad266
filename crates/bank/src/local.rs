//! [`LocalFolder`]: the bank is a pair of local directories. Sandbox mode
//! writes its files here today; a bank reached through a mounted share or a
//! separate file mover can use it too. Uploads follow the same protocol as
//! SFTP: temporary name, fsync, size and checksum check, rename.

use async_trait::async_trait;
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

use crate::error::TransportError;
use crate::transport::{
    content_hash, BankTransport, FetchedFile, FileName, PickupAction, RemoteFile, UploadReceipt,
};

/// Outbound and inbound directories on this machine.
#[derive(Debug, Clone)]
pub struct LocalFolder {
    pub outbound_dir: PathBuf,
    pub inbound_dir: PathBuf,
    /// What happens to an inbound file once applied; a relative `MoveTo`
    /// directory is taken relative to `inbound_dir`.
    pub pickup: PickupAction,
}

impl LocalFolder {
    pub fn new(outbound_dir: impl Into<PathBuf>, inbound_dir: impl Into<PathBuf>) -> Self {
        Self {
            outbound_dir: outbound_dir.into(),
            inbound_dir: inbound_dir.into(),
            pickup: PickupAction::MoveTo("processed".into()),
        }
    }

    async fn write_partial(&self, path: &Path, bytes: &[u8]) -> Result<(), TransportError> {
        let err = |op, e| TransportError::local(op, path, e);
        let mut f = tokio::fs::File::create(path)
            .await
            .map_err(|e| err("create", e))?;
        f.write_all(bytes).await.map_err(|e| err("write", e))?;
        f.sync_all().await.map_err(|e| err("fsync", e))?;
        Ok(())
    }
}

/// Whether `path` holds exactly `bytes` (`None` when it does not exist).
async fn same_content(path: &Path, bytes: &[u8]) -> Result<Option<bool>, TransportError> {
    match tokio::fs::read(path).await {
        Ok(existing) => Ok(Some(existing == bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(TransportError::local("read", path, e)),
    }
}

/// A free path for `name` in `dir`: `name`, then `name.1`, `name.2`, …
pub(crate) async fn free_local_path(dir: &Path, name: &str) -> PathBuf {
    let mut candidate = dir.join(name);
    let mut n = 1u32;
    while tokio::fs::try_exists(&candidate).await.unwrap_or(false) {
        candidate = dir.join(format!("{name}.{n}"));
        n += 1;
    }
    candidate
}

#[async_trait]
impl BankTransport for LocalFolder {
    fn describe(&self) -> String {
        format!("file://{}", self.outbound_dir.display())
    }

    async fn upload(&self, name: &FileName, bytes: &[u8]) -> Result<UploadReceipt, TransportError> {
        let dir = &self.outbound_dir;
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| TransportError::local("create directory", dir, e))?;
        let final_path = dir.join(name.as_str());
        let receipt = |already_present| UploadReceipt {
            name: name.clone(),
            location: format!("file://{}", final_path.display()),
            size: bytes.len() as u64,
            sha256: content_hash(bytes),
            already_present,
        };
        match same_content(&final_path, bytes).await? {
            Some(true) => return Ok(receipt(true)),
            Some(false) => {
                return Err(TransportError::Conflict {
                    path: final_path.display().to_string(),
                })
            }
            None => {}
        }
        let partial = dir.join(name.partial_name());
        self.write_partial(&partial, bytes).await?;
        if same_content(&partial, bytes).await? != Some(true) {
            return Err(TransportError::Verification {
                path: partial.display().to_string(),
                detail: "the bytes read back differ from the bytes written".into(),
            });
        }
        // rename(2) would replace a file that appeared meanwhile; hard-link
        // then unlink refuses instead, like SFTP's rename.
        match tokio::fs::hard_link(&partial, &final_path).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let _ = tokio::fs::remove_file(&partial).await;
                return match same_content(&final_path, bytes).await? {
                    Some(true) => Ok(receipt(true)),
                    _ => Err(TransportError::Conflict {
                        path: final_path.display().to_string(),
                    }),
                };
            }
            Err(e) => return Err(TransportError::local("link", &final_path, e)),
        }
        tokio::fs::remove_file(&partial)
            .await
            .map_err(|e| TransportError::local("remove", &partial, e))?;
        if let Ok(d) = tokio::fs::File::open(dir).await {
            let _ = d.sync_all().await;
        }
        Ok(receipt(false))
    }

    async fn list_inbound(&self) -> Result<Vec<RemoteFile>, TransportError> {
        let dir = &self.inbound_dir;
        let mut read = match tokio::fs::read_dir(dir).await {
            Ok(r) => r,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(TransportError::local("list", dir, e)),
        };
        let mut out = Vec::new();
        let list_err = |e| TransportError::local("list", dir, e);
        while let Some(entry) = read.next_entry().await.map_err(list_err)? {
            let meta = entry.metadata().await.map_err(list_err)?;
            let Ok(raw) = entry.file_name().into_string() else {
                continue;
            };
            if !meta.is_file() || FileName::is_in_progress(&raw) {
                continue;
            }
            if let Ok(name) = FileName::new(raw) {
                out.push(RemoteFile {
                    name,
                    size: meta.len(),
                    modified: meta.modified().ok(),
                });
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn fetch_inbound(&self, name: &FileName) -> Result<FetchedFile, TransportError> {
        let path = self.inbound_dir.join(name.as_str());
        let bytes = tokio::fs::read(&path)
            .await
            .map_err(|e| TransportError::local("read", &path, e))?;
        Ok(FetchedFile {
            name: name.clone(),
            sha256: content_hash(&bytes),
            bytes,
        })
    }

    async fn dispose_inbound(&self, name: &FileName) -> Result<(), TransportError> {
        let path = self.inbound_dir.join(name.as_str());
        match &self.pickup {
            PickupAction::Delete => tokio::fs::remove_file(&path)
                .await
                .map_err(|e| TransportError::local("remove", &path, e)),
            PickupAction::MoveTo(dir) => {
                let dir = self.inbound_dir.join(dir);
                tokio::fs::create_dir_all(&dir)
                    .await
                    .map_err(|e| TransportError::local("create directory", &dir, e))?;
                let target = free_local_path(&dir, name.as_str()).await;
                tokio::fs::rename(&path, &target)
                    .await
                    .map_err(|e| TransportError::local("move", &path, e))
            }
        }
    }
}
