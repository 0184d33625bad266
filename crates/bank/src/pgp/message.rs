//! Encrypt-and-sign for outbound files, decrypt-and-verify for inbound ones.

use pgp::composed::{ArmorOptions, Message, MessageBuilder, SignedPublicKey, SignedPublicSubKey};
use pgp::crypto::hash::HashAlgorithm;
use pgp::crypto::sym::SymmetricKeyAlgorithm;
use pgp::packet::Signature;
use pgp::types::{KeyDetails, SigningKey, VerifyingKey};

use super::keys::{BankPublicKey, OurSecretKey};
use super::PgpError;

/// How outbound files are protected for one ODFI.
#[derive(Debug, Clone)]
pub struct OutboundPgp {
    /// The bank's key: files are encrypted to it.
    pub recipient: BankPublicKey,
    /// Our key: files are signed with it (`None`: encrypted only).
    pub signer: Option<OurSecretKey>,
    /// ASCII armor instead of binary OpenPGP.
    pub armor: bool,
}

/// How inbound files are opened for one ODFI.
#[derive(Debug, Clone)]
pub struct InboundPgp {
    /// Our key: when set, inbound files must be encrypted to it.
    pub decrypt_with: Option<OurSecretKey>,
    /// The bank's key: when set, inbound files must carry a valid signature by it.
    pub verify_with: Option<BankPublicKey>,
}

/// An opened inbound file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub plaintext: Vec<u8>,
    /// Fingerprint of the bank key that signed it, when verification is on.
    pub signed_by: Option<String>,
}

fn is_usable_subkey(sub: &SignedPublicSubKey, want: fn(&Signature) -> bool) -> bool {
    sub.signatures.iter().any(want)
}

fn encrypts(sig: &Signature) -> bool {
    let f = sig.key_flags();
    f.encrypt_comms() || f.encrypt_storage()
}

fn signs(sig: &Signature) -> bool {
    sig.key_flags().sign()
}

impl OutboundPgp {
    /// Encrypt (and sign) `plaintext`; `file_name` goes into the literal
    /// data packet.
    pub fn protect(&self, file_name: &str, plaintext: &[u8]) -> Result<Vec<u8>, PgpError> {
        let enc = |e: pgp::errors::Error| PgpError::Encrypt(e.to_string());
        let cert = &self.recipient.0;
        let subkey = cert
            .public_subkeys
            .iter()
            .find(|s| s.algorithm().can_encrypt() && is_usable_subkey(s, encrypts));
        let mut rng = rand::thread_rng();
        let mut builder = MessageBuilder::from_bytes(file_name.to_string(), plaintext.to_vec())
            .seipd_v1(&mut rng, SymmetricKeyAlgorithm::AES256);
        match subkey {
            Some(sub) => builder.encrypt_to_key(&mut rng, sub).map_err(enc)?,
            None if cert.algorithm().can_encrypt() => {
                builder.encrypt_to_key(&mut rng, cert).map_err(enc)?
            }
            None => return Err(PgpError::NoEncryptionKey),
        };
        if let Some(signer) = &self.signer {
            builder.sign(
                signing_key(signer)?,
                signer.password(),
                HashAlgorithm::Sha256,
            );
        }
        if self.armor {
            builder
                .to_armored_string(&mut rng, ArmorOptions::default())
                .map(String::into_bytes)
                .map_err(enc)
        } else {
            builder.to_vec(&mut rng).map_err(enc)
        }
    }
}

/// The key that signs for us: a signing subkey if there is one, else the primary key.
fn signing_key(ours: &OurSecretKey) -> Result<&dyn SigningKey, PgpError> {
    let key = &ours.key;
    if let Some(sub) = key
        .secret_subkeys
        .iter()
        .find(|s| s.key.algorithm().can_sign() && s.signatures.iter().any(signs))
    {
        return Ok(&sub.key);
    }
    if key.primary_key.algorithm().can_sign() {
        return Ok(&key.primary_key);
    }
    Err(PgpError::NoSigningKey)
}

/// The bank's keys that may have signed: its primary key and signing subkeys.
fn verifying_keys(cert: &SignedPublicKey) -> Vec<&dyn VerifyingKey> {
    let mut keys: Vec<&dyn VerifyingKey> = vec![cert];
    for sub in &cert.public_subkeys {
        if is_usable_subkey(sub, signs) {
            keys.push(sub);
        }
    }
    keys
}

fn parse(bytes: &[u8]) -> Result<Message<'_>, PgpError> {
    let malformed = |e: pgp::errors::Error| PgpError::Malformed(e.to_string());
    let trimmed = bytes.trim_ascii_start();
    if trimmed.starts_with(b"-----BEGIN PGP") {
        Message::from_armor(trimmed)
            .map(|(m, _)| m)
            .map_err(malformed)
    } else {
        Message::from_bytes(bytes).map_err(malformed)
    }
}

impl InboundPgp {
    /// Decrypt and verify an inbound file as configured.
    pub fn open(&self, bytes: &[u8]) -> Result<Opened, PgpError> {
        let mut msg = parse(bytes)?;
        if msg.is_encrypted() {
            let key = self
                .decrypt_with
                .as_ref()
                .ok_or(PgpError::NoDecryptionKey)?;
            msg = msg
                .decrypt(&key.password(), &key.key)
                .map_err(|e| PgpError::Decrypt(e.to_string()))?;
        } else if self.decrypt_with.is_some() {
            return Err(PgpError::NotEncrypted);
        }
        if msg.is_compressed() {
            msg = msg
                .decompress()
                .map_err(|e| PgpError::Malformed(e.to_string()))?;
        }
        let plaintext = msg
            .as_data_vec()
            .map_err(|e| PgpError::Decrypt(e.to_string()))?;
        let Some(bank) = &self.verify_with else {
            return Ok(Opened {
                plaintext,
                signed_by: None,
            });
        };
        if !msg.is_signed() {
            return Err(PgpError::Unsigned);
        }
        let valid = verifying_keys(&bank.0)
            .into_iter()
            .any(|k| msg.verify(k).is_ok());
        if !valid {
            return Err(PgpError::BadSignature);
        }
        Ok(Opened {
            plaintext,
            signed_by: Some(bank.fingerprint()),
        })
    }
}
