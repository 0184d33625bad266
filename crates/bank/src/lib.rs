//! Bank connectivity for Inflow: moving files to and from the ODFI.
//!
//! - [`BankTransport`]: the narrow interface the delivery and inbound jobs use
//!   (upload a named file atomically, list/fetch inbound files, dispose of a
//!   picked-up file), with two implementations: [`LocalFolder`] (what sandbox
//!   mode uses: an outbound and an inbound directory) and [`Sftp`] (the
//!   bank's SFTP server, host key pinned).
//! - [`RetryPolicy`]: bounded retries with exponential backoff for the caller.
//! - [`inbound::poll`]: one inbound pass with deduplication by content hash.
//! - [`pgp`]: OpenPGP encrypt-and-sign for outbound files, decrypt-and-verify
//!   for inbound files (rpgp, pure Rust).
//! - [`secret`]: secrets from config (inline, a file, or sealed with the
//!   operator's master key), never shown by `Debug`.
//!
//! Nothing here knows about the database or the engine: the engine's
//! delivery job and inbound pickup (`inflow_engine::delivery`) compose these
//! parts (see `docs/bank-connectivity.md`).

pub mod error;
pub mod inbound;
pub mod local;
pub mod pgp;
pub mod retry;
pub mod secret;
pub mod sftp;
#[cfg(feature = "testing")]
pub mod testing;
pub mod transport;

pub use error::TransportError;
pub use local::LocalFolder;
pub use retry::RetryPolicy;
pub use secret::{Secret, SecretSource};
pub use sftp::{HostKeyPins, PickupAction, Sftp, SftpAuth, SftpConfig, Timeouts, VerifyMode};
pub use transport::{BankTransport, FetchedFile, FileName, RemoteFile, UploadReceipt};
