//! The transport's one error type. Every error says whether trying again
//! later may help ([`TransportError::is_retryable`]): a server that is down
//! or a dropped connection may recover; a refused host key, refused
//! credentials or a conflicting remote file will not.

use std::time::Duration;

/// What went wrong moving a file to or from the bank.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The TCP connection or the SSH handshake failed (server down, network).
    #[error("cannot connect to {endpoint}: {detail}")]
    Connect { endpoint: String, detail: String },
    /// A network step took longer than its timeout.
    #[error("{step} timed out after {after:?}")]
    Timeout { step: &'static str, after: Duration },
    /// The server's host key is not one of the pinned keys.
    #[error("host key of {endpoint} ({offered}) is not a pinned key: connection refused")]
    HostKeyRejected { endpoint: String, offered: String },
    /// The server refused our credentials.
    #[error("the server refused authentication as {user}")]
    AuthRejected { user: String },
    /// A remote file operation failed.
    #[error("remote {op} of {path} failed: {detail}")]
    Remote {
        op: &'static str,
        path: String,
        detail: String,
        retryable: bool,
    },
    /// A file was not found (remote or local).
    #[error("{path} does not exist")]
    NotFound { path: String },
    /// The uploaded bytes do not match what we sent.
    #[error("verification of {path} failed: {detail}")]
    Verification { path: String, detail: String },
    /// A different file already exists under the final name.
    #[error("{path} already exists with different content; not overwritten")]
    Conflict { path: String },
    /// An inbound file is larger than the configured limit.
    #[error("{path} is {size} bytes, more than the limit of {limit}")]
    TooLarge { path: String, size: u64, limit: u64 },
    /// A file name that is not a plain, safe file name.
    #[error("invalid file name {name:?}: {reason}")]
    InvalidName { name: String, reason: &'static str },
    /// The transport's configuration cannot work.
    #[error("invalid bank transport configuration: {0}")]
    Config(String),
    /// A local file-system operation failed.
    #[error("local {op} of {path} failed: {source}")]
    Local {
        op: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl TransportError {
    /// Whether the same operation may succeed if tried again later.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Connect { .. } | Self::Timeout { .. } | Self::Verification { .. } => true,
            Self::Remote { retryable, .. } => *retryable,
            Self::Local { source, .. } => !matches!(
                source.kind(),
                std::io::ErrorKind::NotFound
                    | std::io::ErrorKind::PermissionDenied
                    | std::io::ErrorKind::InvalidInput
            ),
            Self::HostKeyRejected { .. }
            | Self::AuthRejected { .. }
            | Self::NotFound { .. }
            | Self::Conflict { .. }
            | Self::TooLarge { .. }
            | Self::InvalidName { .. }
            | Self::Config(_) => false,
        }
    }

    pub(crate) fn local(op: &'static str, path: &std::path::Path, source: std::io::Error) -> Self {
        if source.kind() == std::io::ErrorKind::NotFound {
            return Self::NotFound {
                path: path.display().to_string(),
            };
        }
        Self::Local {
            op,
            path: path.display().to_string(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_problems_are_retryable_and_trust_problems_are_not() {
        let down = TransportError::Connect {
            endpoint: "h:22".into(),
            detail: "refused".into(),
        };
        assert!(down.is_retryable());
        let key = TransportError::HostKeyRejected {
            endpoint: "h:22".into(),
            offered: "SHA256:x".into(),
        };
        assert!(!key.is_retryable());
        assert!(!TransportError::AuthRejected { user: "u".into() }.is_retryable());
        assert!(!TransportError::Conflict { path: "p".into() }.is_retryable());
    }
}
