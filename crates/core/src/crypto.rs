//! Secrets at rest and request signatures.
//!
//! - Account numbers (and later card numbers) are sealed with AES-256-GCM
//!   under a key derived from the operator's master key; the row id is bound
//!   in as associated data so a ciphertext cannot be moved to another row.
//! - A keyed fingerprint (HMAC-SHA256) recognises the same bank account
//!   without decrypting anything.
//! - API keys are random 256-bit tokens stored only as SHA-256 hashes (a slow
//!   password hash buys nothing for keys with this much entropy).
//! - Request signatures live in [`crate::request_signature`] (v1 helpers are
//!   re-exported here).

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::fmt;

type HmacSha256 = Hmac<Sha256>;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("master key must be 32 bytes encoded as base64 (e.g. `openssl rand -base64 32`)")]
    BadMasterKey,
    #[error("ciphertext could not be decrypted: wrong master key or corrupted data")]
    Decrypt,
}

/// The operator's 256-bit master key. Never printed.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

impl MasterKey {
    pub fn from_base64(s: &str) -> Result<Self, CryptoError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(s.trim())
            .map_err(|_| CryptoError::BadMasterKey)?;
        let arr: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::BadMasterKey)?;
        Ok(Self(arr))
    }

    pub fn generate() -> Self {
        let mut k = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut k);
        Self(k)
    }

    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.0)
    }

    fn derive(&self, label: &str) -> [u8; 32] {
        let mut mac =
            <HmacSha256 as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(label.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

const SEAL_VERSION: u8 = 1;

/// Encrypts and fingerprints sensitive values with keys derived from the master key.
#[derive(Clone)]
pub struct Vault {
    cipher: Aes256Gcm,
    fingerprint_key: [u8; 32],
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Vault(<keys redacted>)")
    }
}

impl Vault {
    pub fn new(master: &MasterKey) -> Self {
        let enc = master.derive("inflow/v1/encryption");
        Self {
            cipher: <Aes256Gcm as KeyInit>::new_from_slice(&enc).expect("32-byte key"),
            fingerprint_key: master.derive("inflow/v1/fingerprint"),
        }
    }

    /// `version || nonce || ciphertext+tag`, bound to `context` (e.g. the row id).
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Vec<u8> {
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut out = Vec::with_capacity(1 + 12 + ct.len());
        out.push(SEAL_VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    pub fn open(&self, sealed: &[u8], context: &str) -> Result<Vec<u8>, CryptoError> {
        if sealed.len() < 1 + 12 + 16 || sealed[0] != SEAL_VERSION {
            return Err(CryptoError::Decrypt);
        }
        self.cipher
            .decrypt(
                Nonce::from_slice(&sealed[1..13]),
                Payload {
                    msg: &sealed[13..],
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Decrypt)
    }

    /// A stable, keyed fingerprint of `parts` (hex, 32 chars). Equal inputs give
    /// equal fingerprints under the same master key; nothing can be recovered from it.
    pub fn fingerprint(&self, parts: &[&str]) -> String {
        let mut mac =
            <HmacSha256 as Mac>::new_from_slice(&self.fingerprint_key).expect("any key length");
        for p in parts {
            mac.update(&(p.len() as u32).to_be_bytes());
            mac.update(p.as_bytes());
        }
        hex::encode(&mac.finalize().into_bytes()[..16])
    }
}

pub(crate) fn random_alphanumeric(len: usize) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::rngs::OsRng;
    (0..len)
        .map(|_| {
            // Rejection sampling keeps the distribution uniform.
            loop {
                let b = (rng.next_u32() & 0x3f) as usize;
                if b < ALPHABET.len() {
                    return ALPHABET[b] as char;
                }
            }
        })
        .collect()
}

/// A new secret API key: `ik_test_…` in sandbox mode, `ik_live_…` otherwise.
pub fn generate_api_key(sandbox: bool) -> String {
    format!(
        "ik_{}_{}",
        if sandbox { "test" } else { "live" },
        random_alphanumeric(43)
    )
}

/// `len` random characters from `[0-9A-Za-z]` (the operating system's
/// generator): console session and CSRF tokens.
pub fn random_token(len: usize) -> String {
    random_alphanumeric(len)
}

/// A new request-signing secret for an API key.
pub fn generate_signing_secret() -> String {
    format!("iss_{}", random_alphanumeric(43))
}

/// How an API key is stored and looked up.
pub fn api_key_hash(key: &str) -> Vec<u8> {
    Sha256::digest(key.as_bytes()).to_vec()
}

/// SHA-256 of arbitrary bytes (idempotency request fingerprints).
pub fn sha256(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}

/// v1 request signatures (deprecated; see [`crate::request_signature`]).
pub use crate::request_signature::{sign_request, verify_request_signature};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_context() {
        let vault = Vault::new(&MasterKey::generate());
        let sealed = vault.seal(b"000123456789", "pm_1");
        assert!(!sealed.windows(12).any(|w| w == b"000123456789"));
        assert_eq!(vault.open(&sealed, "pm_1").unwrap(), b"000123456789");
        assert_eq!(vault.open(&sealed, "pm_2"), Err(CryptoError::Decrypt));
        let other = Vault::new(&MasterKey::generate());
        assert_eq!(other.open(&sealed, "pm_1"), Err(CryptoError::Decrypt));
        assert_eq!(vault.open(&sealed[..10], "pm_1"), Err(CryptoError::Decrypt));
    }

    #[test]
    fn fingerprints_are_stable_per_key_and_separate_their_parts() {
        let key = MasterKey::generate();
        let a = Vault::new(&key);
        let b = Vault::new(&key);
        assert_eq!(
            a.fingerprint(&["121042882", "123"]),
            b.fingerprint(&["121042882", "123"])
        );
        assert_ne!(
            a.fingerprint(&["12104288", "2123"]),
            a.fingerprint(&["121042882", "123"])
        );
        assert_ne!(
            a.fingerprint(&["x"]),
            Vault::new(&MasterKey::generate()).fingerprint(&["x"])
        );
    }

    #[test]
    fn master_key_parses_only_32_byte_base64() {
        let k = MasterKey::generate();
        assert!(MasterKey::from_base64(&k.to_base64()).is_ok());
        assert_eq!(
            MasterKey::from_base64("c2hvcnQ=").unwrap_err(),
            CryptoError::BadMasterKey
        );
        assert_eq!(
            MasterKey::from_base64("not base64!").unwrap_err(),
            CryptoError::BadMasterKey
        );
        assert_eq!(format!("{k:?}"), "MasterKey(<redacted>)");
    }

    #[test]
    fn request_signatures_verify_and_any_change_breaks_them() {
        let secret = generate_signing_secret();
        let sig = sign_request(&secret, "1700000000", "POST", "/v1/x?a=1", b"{}");
        assert!(verify_request_signature(
            &secret,
            "1700000000",
            "POST",
            "/v1/x?a=1",
            b"{}",
            &sig
        ));
        assert!(!verify_request_signature(
            &secret,
            "1700000001",
            "POST",
            "/v1/x?a=1",
            b"{}",
            &sig
        ));
        assert!(!verify_request_signature(
            &secret,
            "1700000000",
            "GET",
            "/v1/x?a=1",
            b"{}",
            &sig
        ));
        assert!(!verify_request_signature(
            &secret,
            "1700000000",
            "POST",
            "/v1/x",
            b"{}",
            &sig
        ));
        assert!(!verify_request_signature(
            &secret,
            "1700000000",
            "POST",
            "/v1/x?a=1",
            b"{ }",
            &sig
        ));
        assert!(!verify_request_signature(
            &secret,
            "1700000000",
            "POST",
            "/v1/x?a=1",
            b"{}",
            "zz"
        ));
    }

    #[test]
    fn signature_matches_what_openssl_computes_for_the_documented_recipe() {
        // printf '1700000000\nPOST\n/v1/payment-methods?x=1\n{"a":1}' | openssl dgst -sha256 -hmac iss_testsecret
        let sig = sign_request(
            "iss_testsecret",
            "1700000000",
            "POST",
            "/v1/payment-methods?x=1",
            br#"{"a":1}"#,
        );
        assert_eq!(
            sig,
            "e308f3c6cbd8502cecf55ca844b602fe22f89351be62cae172d39bbb760b723f"
        );
    }

    #[test]
    fn api_keys_are_prefixed_by_mode_and_unique() {
        let a = generate_api_key(true);
        assert!(a.starts_with("ik_test_") && a.len() == 8 + 43);
        assert!(generate_api_key(false).starts_with("ik_live_"));
        assert_ne!(a, generate_api_key(true));
        assert_eq!(api_key_hash(&a).len(), 32);
    }
}
