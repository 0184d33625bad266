//! The transport interface the delivery and inbound jobs use, and the values
//! it speaks in. An implementation moves bytes; it decides nothing about
//! what a file means.

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use std::fmt;
use std::time::SystemTime;

use crate::error::TransportError;

/// A plain file name on the bank side: 1–255 bytes, no path separator, no
/// control character, not starting with `.` (names starting with `.` are
/// files being written, ours or the bank's, and are never listed).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileName(String);

impl FileName {
    pub fn new(name: impl Into<String>) -> Result<Self, TransportError> {
        let name = name.into();
        let reason = if name.is_empty() || name.len() > 255 {
            Some("must be 1 to 255 bytes")
        } else if name.contains(['/', '\\']) {
            Some("must not contain a path separator")
        } else if name.chars().any(char::is_control) {
            Some("must not contain control characters")
        } else if name.starts_with('.') {
            Some("must not start with '.'")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(TransportError::InvalidName { name, reason }),
            None => Ok(Self(name)),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name a file is written under before it is renamed to this one.
    /// It starts with `.` and ends in `.part`, which both the bank side and
    /// Inflow's own inbound folder treat as "still being written".
    pub fn partial_name(&self) -> String {
        format!(".{}.part", self.0)
    }

    /// Whether a listed name is a file still being written by someone.
    pub fn is_in_progress(name: &str) -> bool {
        name.starts_with('.') || name.ends_with(".part") || name.ends_with(".tmp")
    }
}

impl fmt::Display for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// Hex SHA-256 of `bytes`: the identity of a file's content.
pub fn content_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// What an upload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadReceipt {
    pub name: FileName,
    /// Where the file now is, for logs and events (`sftp://user@host:port/dir/name`).
    pub location: String,
    pub size: u64,
    /// Hex SHA-256 of the bytes sent.
    pub sha256: String,
    /// The same bytes were already there under the final name (an earlier
    /// attempt succeeded but its outcome was lost): nothing was sent again.
    pub already_present: bool,
}

/// A file waiting in the inbound directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteFile {
    pub name: FileName,
    pub size: u64,
    pub modified: Option<SystemTime>,
}

/// An inbound file's bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct FetchedFile {
    pub name: FileName,
    pub bytes: Vec<u8>,
    /// Hex SHA-256 of `bytes`: a file seen twice has the same hash.
    pub sha256: String,
}

impl fmt::Debug for FetchedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FetchedFile")
            .field("name", &self.name)
            .field("size", &self.bytes.len())
            .field("sha256", &self.sha256)
            .finish()
    }
}

/// What to do with an inbound file once it has been applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PickupAction {
    /// Remove it from the inbound directory.
    Delete,
    /// Move it into this directory (a free name is chosen if one with the
    /// same name is already there: `name.1`, `name.2`, …).
    MoveTo(String),
}

/// Moves files between Inflow and one ODFI.
///
/// Every method is bounded in time; an error says whether a retry may help
/// ([`TransportError::is_retryable`]). Retrying is the caller's business
/// (see [`crate::RetryPolicy`]).
#[async_trait]
pub trait BankTransport: Send + Sync {
    /// Where files go, for logs and events; never contains a secret.
    fn describe(&self) -> String;

    /// Deliver `bytes` under `name` in the outbound directory, atomically:
    /// written under [`FileName::partial_name`], verified, then renamed, so
    /// the bank never sees a partial file under the final name. If the
    /// same bytes are already there under `name`, nothing is sent and the
    /// receipt says `already_present`; different bytes there are a
    /// [`TransportError::Conflict`].
    async fn upload(&self, name: &FileName, bytes: &[u8]) -> Result<UploadReceipt, TransportError>;

    /// Files waiting in the inbound directory (regular files whose name is
    /// valid and not in progress), sorted by name.
    async fn list_inbound(&self) -> Result<Vec<RemoteFile>, TransportError>;

    /// One inbound file's bytes.
    async fn fetch_inbound(&self, name: &FileName) -> Result<FetchedFile, TransportError>;

    /// Delete or move an inbound file after it was applied (per configuration).
    async fn dispose_inbound(&self, name: &FileName) -> Result<(), TransportError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_plain_names() {
        assert!(FileName::new("ACH_20250101_01.txt").is_ok());
        for bad in ["", ".hidden", "a/b", "..", "a\\b", "a\nb"] {
            assert!(FileName::new(bad).is_err(), "{bad:?} accepted");
        }
        assert!(FileName::new("x".repeat(256)).is_err());
    }

    #[test]
    fn partial_names_are_seen_as_in_progress() {
        let n = FileName::new("f.ach").unwrap();
        assert!(FileName::is_in_progress(&n.partial_name()));
        assert!(!FileName::is_in_progress(n.as_str()));
    }
}
