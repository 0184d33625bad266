//! Secrets a bank connection needs (an SSH private key or password, a PGP
//! secret key and its passphrase), and where config may take them from:
//! inline, a file, or sealed with the operator's master key like Inflow's
//! other secrets at rest (`inflow_core::crypto::Vault`). A [`Secret`] never
//! shows its value in `Debug` or `Display`.

use base64::Engine as _;
use inflow_core::crypto::Vault;
use std::fmt;
use std::path::PathBuf;
use zeroize::Zeroize;

/// Prefix of a sealed secret's text form.
const SEALED_PREFIX: &str = "sealed:v1:";

/// A secret value. Its text is reachable only through [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// Where a secret comes from in configuration.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// The value itself (e.g. inline ASCII armor).
    Inline(Secret),
    /// A file holding the value.
    File(PathBuf),
    /// `sealed:v1:<base64>` made by [`seal`] under the same `context`.
    Sealed { sealed: String, context: String },
}

impl fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Inline(_) => f.write_str("Inline(<redacted>)"),
            Self::File(p) => f.debug_tuple("File").field(p).finish(),
            Self::Sealed { context, .. } => f
                .debug_struct("Sealed")
                .field("context", context)
                .finish_non_exhaustive(),
        }
    }
}

/// Why a secret could not be had.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("cannot read secret file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("sealed secret ({context}) needs the master key, and none was given")]
    NoVault { context: String },
    #[error(
        "sealed secret ({context}) cannot be opened: wrong master key, wrong context or damaged"
    )]
    Open { context: String },
    #[error("secret is not valid UTF-8 text")]
    NotText,
}

impl SecretSource {
    /// The secret's value. `vault` is needed only for sealed secrets.
    pub fn load(&self, vault: Option<&Vault>) -> Result<Secret, SecretError> {
        match self {
            Self::Inline(s) => Ok(s.clone()),
            Self::File(path) => {
                let bytes = std::fs::read(path).map_err(|source| SecretError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                String::from_utf8(bytes)
                    .map(Secret)
                    .map_err(|_| SecretError::NotText)
            }
            Self::Sealed { sealed, context } => {
                let vault = vault.ok_or_else(|| SecretError::NoVault {
                    context: context.clone(),
                })?;
                let open = || SecretError::Open {
                    context: context.clone(),
                };
                let b64 = sealed.strip_prefix(SEALED_PREFIX).ok_or_else(open)?;
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(b64.trim())
                    .map_err(|_| open())?;
                let plain = vault.open(&raw, context).map_err(|_| open())?;
                String::from_utf8(plain)
                    .map(Secret)
                    .map_err(|_| SecretError::NotText)
            }
        }
    }
}

/// Seal `value` under `context` (e.g. `bank:<odfi>:pgp-secret-key`) for
/// [`SecretSource::Sealed`].
pub fn seal(vault: &Vault, value: &Secret, context: &str) -> String {
    let sealed = vault.seal(value.expose().as_bytes(), context);
    format!(
        "{SEALED_PREFIX}{}",
        base64::engine::general_purpose::STANDARD.encode(sealed)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use inflow_core::crypto::MasterKey;

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        let s = Secret::new("hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
        let src = SecretSource::Inline(s);
        assert!(!format!("{src:?}").contains("hunter2"));
    }

    #[test]
    fn a_sealed_secret_opens_only_with_its_master_key_and_context() {
        let vault = Vault::new(&MasterKey::generate());
        let sealed = seal(&vault, &Secret::new("key material"), "bank:a:ssh");
        let src = SecretSource::Sealed {
            sealed: sealed.clone(),
            context: "bank:a:ssh".into(),
        };
        assert_eq!(src.load(Some(&vault)).unwrap().expose(), "key material");
        assert!(matches!(src.load(None), Err(SecretError::NoVault { .. })));
        let other = Vault::new(&MasterKey::generate());
        assert!(matches!(
            src.load(Some(&other)),
            Err(SecretError::Open { .. })
        ));
        let moved = SecretSource::Sealed {
            sealed,
            context: "bank:b:ssh".into(),
        };
        assert!(matches!(
            moved.load(Some(&vault)),
            Err(SecretError::Open { .. })
        ));
    }
}
