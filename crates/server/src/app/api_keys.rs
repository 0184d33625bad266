//! Issuing API keys. The secret key and its signing secret are returned once;
//! the key is stored hashed and the signing secret sealed.

use chrono::{DateTime, Utc};
use inflow_core::crypto::{api_key_hash, generate_api_key, generate_signing_secret, Vault};
use inflow_core::ids::{ApiKeyId, CustomerId};
use inflow_core::model::{ApiKey, ApiKeyRole};
use inflow_core::ValidationError;
use inflow_store::{StoreError, Tx};

/// A key just created, with the two secrets that are shown only now.
#[derive(Clone)]
pub struct IssuedKey {
    pub api_key: ApiKey,
    pub secret_key: String,
    pub signing_secret: String,
}

impl std::fmt::Debug for IssuedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedKey")
            .field("api_key", &self.api_key.id)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IssueKeyError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct KeyRequest {
    pub role: ApiKeyRole,
    pub customer_id: Option<CustomerId>,
    pub name: String,
    pub sandbox: bool,
    /// Use this key instead of a random one (the bootstrap admin key).
    pub fixed_key: Option<String>,
    pub fixed_signing_secret: Option<String>,
}

pub const MIN_FIXED_KEY_LEN: usize = 24;

pub async fn issue_api_key(
    tx: &mut Tx,
    vault: &Vault,
    req: KeyRequest,
    now: DateTime<Utc>,
) -> Result<IssuedKey, IssueKeyError> {
    let name = inflow_core::text::bounded_text("name", &req.name, 1, 100)?;
    match (req.role, &req.customer_id) {
        (ApiKeyRole::Customer, None) => {
            return Err(ValidationError::new(
                "customerId",
                "required",
                "a customer key needs the customer it belongs to",
            )
            .into())
        }
        (ApiKeyRole::Admin, Some(_)) => {
            return Err(ValidationError::new(
                "customerId",
                "not_allowed",
                "admin keys do not belong to a customer",
            )
            .into())
        }
        _ => {}
    }
    if let Some(customer) = &req.customer_id {
        tx.get_customer(customer).await?;
    }
    let secret_key = match req.fixed_key {
        Some(k) if k.len() < MIN_FIXED_KEY_LEN || !k.bytes().all(|b| b.is_ascii_graphic()) => {
            return Err(ValidationError::new(
                "key",
                "weak_key",
                format!(
                    "a supplied API key must be at least {MIN_FIXED_KEY_LEN} printable characters"
                ),
            )
            .into())
        }
        Some(k) => k,
        None => generate_api_key(req.sandbox),
    };
    let signing_secret = req
        .fixed_signing_secret
        .unwrap_or_else(generate_signing_secret);
    let id = ApiKeyId::generate(now);
    let api_key = ApiKey {
        signing_secret_sealed: vault.seal(signing_secret.as_bytes(), id.as_str()),
        id,
        customer_id: req.customer_id,
        role: req.role,
        name,
        prefix: secret_key.chars().take(12).collect(),
        key_hash: api_key_hash(&secret_key),
        created_at: now,
        revoked_at: None,
    };
    tx.insert_api_key(&api_key).await?;
    Ok(IssuedKey {
        api_key,
        secret_key,
        signing_secret,
    })
}
