//! Loading OpenPGP keys from config (ASCII armor or binary) and making one.

use pgp::composed::{
    Deserializable, EncryptionCaps, KeyType, SecretKeyParamsBuilder, SignedPublicKey,
    SignedSecretKey, SubkeyParamsBuilder,
};
use pgp::crypto::ecc_curve::ECCCurve;
use pgp::crypto::hash::HashAlgorithm;
use pgp::crypto::sym::SymmetricKeyAlgorithm;
use pgp::types::{CompressionAlgorithm, KeyDetails, Password};
use smallvec::smallvec;
use std::fmt;

use super::PgpError;
use crate::secret::Secret;

/// The bank's public key (certificate): we encrypt to it and verify its signatures.
#[derive(Clone)]
pub struct BankPublicKey(pub(crate) SignedPublicKey);

impl BankPublicKey {
    /// From ASCII armor or binary; the key's self-signatures must verify.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PgpError> {
        let (key, _) =
            SignedPublicKey::from_reader_single(bytes).map_err(|e| PgpError::Key(e.to_string()))?;
        key.verify_bindings()
            .map_err(|e| PgpError::Key(e.to_string()))?;
        Ok(Self(key))
    }

    pub fn fingerprint(&self) -> String {
        hex::encode_upper(self.0.fingerprint().as_bytes())
    }
}

impl fmt::Debug for BankPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BankPublicKey({})", self.fingerprint())
    }
}

/// Our secret key (with its passphrase, if any): we sign with it and decrypt
/// with it. `Debug` shows the fingerprint only.
#[derive(Clone)]
pub struct OurSecretKey {
    pub(crate) key: SignedSecretKey,
    passphrase: Option<Secret>,
}

impl OurSecretKey {
    /// From ASCII armor or binary text (e.g. [`crate::SecretSource::load`]).
    pub fn from_secret(armored: &Secret, passphrase: Option<Secret>) -> Result<Self, PgpError> {
        let (key, _) = SignedSecretKey::from_reader_single(armored.expose().as_bytes())
            .map_err(|e| PgpError::Key(e.to_string()))?;
        key.verify_bindings()
            .map_err(|e| PgpError::Key(e.to_string()))?;
        Ok(Self { key, passphrase })
    }

    pub fn fingerprint(&self) -> String {
        hex::encode_upper(self.key.fingerprint().as_bytes())
    }

    /// Our public key, ASCII-armored, to give to the bank.
    pub fn public_armored(&self) -> Result<String, PgpError> {
        self.key
            .to_public_key()
            .to_armored_string(Default::default())
            .map_err(|e| PgpError::Key(e.to_string()))
    }

    pub(crate) fn password(&self) -> Password {
        match &self.passphrase {
            Some(p) => Password::from(p.expose()),
            None => Password::empty(),
        }
    }
}

impl fmt::Debug for OurSecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OurSecretKey({}, <secret redacted>)", self.fingerprint())
    }
}

/// A key made by [`generate_key`].
pub struct GeneratedKey {
    /// The secret key, ASCII-armored, unprotected: seal it before storing.
    pub secret_armored: Secret,
    /// The public key, ASCII-armored, for the bank.
    pub public_armored: String,
}

/// A new v4 key for `user_id`: an Ed25519 signing primary key with an
/// X25519 (ECDH) encryption subkey — the shape GnuPG makes by default and
/// every OpenPGP tool reads.
pub fn generate_key(user_id: &str) -> Result<GeneratedKey, PgpError> {
    let failed = |e: &dyn fmt::Display| PgpError::Key(e.to_string());
    let subkey = SubkeyParamsBuilder::default()
        .key_type(KeyType::ECDH(ECCCurve::Curve25519Legacy))
        .can_encrypt(EncryptionCaps::All)
        .build()
        .map_err(|e| failed(&e))?;
    let params = SecretKeyParamsBuilder::default()
        .key_type(KeyType::Ed25519Legacy)
        .can_certify(true)
        .can_sign(true)
        .primary_user_id(user_id.into())
        // Without preferences a sender falls back to the algorithms every
        // implementation must support: gpg then signs with SHA-1, which we
        // (rightly) refuse for Ed25519.
        .preferred_symmetric_algorithms(smallvec![
            SymmetricKeyAlgorithm::AES256,
            SymmetricKeyAlgorithm::AES128
        ])
        .preferred_hash_algorithms(smallvec![HashAlgorithm::Sha256, HashAlgorithm::Sha512])
        .preferred_compression_algorithms(smallvec![
            CompressionAlgorithm::ZLIB,
            CompressionAlgorithm::ZIP,
            CompressionAlgorithm::Uncompressed
        ])
        .subkeys(vec![subkey])
        .build()
        .map_err(|e| failed(&e))?;
    let key = params
        .generate(rand::thread_rng())
        .map_err(|e| failed(&e))?;
    let secret = key
        .to_armored_string(Default::default())
        .map_err(|e| failed(&e))?;
    let public = key
        .to_public_key()
        .to_armored_string(Default::default())
        .map_err(|e| failed(&e))?;
    Ok(GeneratedKey {
        secret_armored: Secret::new(secret),
        public_armored: public,
    })
}
