//! OpenPGP for bank files, per ODFI and optional: outbound files encrypted
//! to the bank's public key and signed with ours ([`OutboundPgp`]); inbound
//! files decrypted with our key and their signature verified against the
//! bank's ([`InboundPgp`]), refusing unsigned or wrongly signed files when
//! verification is configured.
//!
//! Built on rpgp (`pgp`, pure Rust). Messages use what every deployed
//! OpenPGP tool reads, GnuPG 2.2 included: v4 keys, SEIPD v1 (with MDC)
//! and AES-256, SHA-256 signatures. Keys are loaded from ASCII armor or
//! binary ([`keys`]); secret keys never show in `Debug` output.

pub mod keys;
mod message;

pub use self::keys::{generate_key, BankPublicKey, GeneratedKey, OurSecretKey};
pub use self::message::{InboundPgp, Opened, OutboundPgp};

/// Why an OpenPGP operation failed. None of these is helped by retrying.
#[derive(Debug, thiserror::Error)]
pub enum PgpError {
    #[error("OpenPGP key cannot be read: {0}")]
    Key(String),
    #[error("the bank's key has no usable encryption key")]
    NoEncryptionKey,
    #[error("our key has no usable signing key")]
    NoSigningKey,
    #[error("encryption failed: {0}")]
    Encrypt(String),
    #[error("not an OpenPGP message: {0}")]
    Malformed(String),
    #[error("the file is not encrypted, and encryption is required")]
    NotEncrypted,
    #[error("the file is encrypted, and no decryption key is configured")]
    NoDecryptionKey,
    #[error("decryption failed (not encrypted to our key, wrong passphrase, or tampered): {0}")]
    Decrypt(String),
    #[error("the file is not signed, and a signature by the bank is required")]
    Unsigned,
    #[error("the file's signature is not a valid signature by the bank's key")]
    BadSignature,
}
