//! Issuing and revoking API keys. The secret key and its signing secret are
//! returned once; the key is stored hashed and the signing secret sealed.
//!
//! Each issue and revocation writes an operator event (`api_key.created`,
//! `api_key.revoked`, no customer: operator keys see it in `GET /v1/events`,
//! customers and their webhooks do not) in the same transaction, naming who
//! did it and never carrying a secret, and an audit record
//! (`api_key.created`, `api_key.revoked`).

use chrono::{DateTime, Utc};
use inflow_core::crypto::{api_key_hash, generate_api_key, generate_signing_secret, Vault};
use inflow_core::ids::{ApiKeyId, CustomerId, EventId};
use inflow_core::model::{ApiKey, ApiKeyRole};
use inflow_core::ValidationError;
use inflow_store::repo::events::Event;
use inflow_store::{StoreError, Tx};

use crate::api::api_keys::ApiKeyResponse;

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
    /// Refuse this key's unsigned requests.
    pub require_signed_requests: bool,
    /// Who asked, from where: for the event and the audit trail.
    pub audit: AuditContext,
}

/// Who issued or revoked a key (the audit trail's actor).
pub use inflow_engine::audit::Actor;
use inflow_engine::audit::AuditContext;

/// Record `api_key.<what>` about `key` (as `GET /v1/api-keys/{id}` shows it).
async fn key_event(
    tx: &mut Tx,
    what: &str,
    key: &ApiKey,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let view = serde_json::to_value(ApiKeyResponse::from(key.clone()))
        .map_err(|e| StoreError::Corrupt(format!("API key view: {e}")))?;
    tx.insert_event(&Event {
        id: EventId::generate(now),
        // Operator events: kept out of the customer's event list and webhooks
        // (`data.object.customerId` names the customer).
        customer_id: None,
        event_type: format!("api_key.{what}"),
        object_id: key.id.to_string(),
        data: serde_json::json!({ "object": view, "actor": actor.to_json() }),
        created_at: now,
    })
    .await
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
        require_signed_requests: req.require_signed_requests,
    };
    tx.insert_api_key(&api_key).await?;
    key_event(tx, "created", &api_key, &req.audit.actor, now).await?;
    req.audit
        .change("api_key.created", "api_key", api_key.id.as_str())
        .after(&ApiKeyResponse::from(api_key.clone()))
        .record(tx, now)
        .await?;
    Ok(IssuedKey {
        api_key,
        secret_key,
        signing_secret,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum RevokeKeyError {
    #[error("the last active admin key cannot be revoked")]
    LastAdminKey,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Revoke `key` (idempotent for a key already revoked) and record it. The
/// last active admin key cannot be revoked: the operator would be locked out.
pub async fn revoke_api_key(
    tx: &mut Tx,
    key: &ApiKey,
    audit: &AuditContext,
    now: DateTime<Utc>,
) -> Result<ApiKey, RevokeKeyError> {
    if key.revoked_at.is_some() {
        return Ok(key.clone());
    }
    if key.role == ApiKeyRole::Admin && tx.count_active_admin_keys().await? <= 1 {
        return Err(RevokeKeyError::LastAdminKey);
    }
    tx.revoke_api_key(&key.id, now).await?;
    let revoked = tx.get_api_key(&key.id, None).await?;
    key_event(tx, "revoked", &revoked, &audit.actor, now).await?;
    audit
        .change("api_key.revoked", "api_key", key.id.as_str())
        .before(&ApiKeyResponse::from(key.clone()))
        .after(&ApiKeyResponse::from(revoked.clone()))
        .record(tx, now)
        .await?;
    Ok(revoked)
}
