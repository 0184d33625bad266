//! `GET /v1/audit-events`: the audit trail (operator keys only), newest
//! first, filtered by actor key, action, object and time. Records are
//! written by the use cases in the transaction of each change
//! ([`inflow_engine::audit`]); nothing in the API changes or deletes them.

use axum::extract::{RawQuery, State};
use axum::{Extension, Json};
use inflow_core::ids::ApiKeyId;
use inflow_store::repo::audit::{AuditEvent, AuditFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::common::{instant, time, ListResponse, PageParams};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::auth::Auth;
use crate::http::body::parse_query;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditListParams {
    /// 1 to 200, default 50.
    pub limit: Option<u32>,
    /// The id of the last record on the previous page.
    pub starting_after: Option<String>,
    /// Records of actions taken with this API key (`key_…`).
    pub actor_key_id: Option<String>,
    /// One action, e.g. `customer.updated`.
    pub action: Option<String>,
    /// Records about this object (a `cus_…`, `key_…`, `col_…` id, …).
    pub object_id: Option<String>,
    /// RFC 3339, inclusive (the record's wall-clock time).
    pub created_from: Option<String>,
    /// RFC 3339, inclusive.
    pub created_to: Option<String>,
}

/// Who did it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditActorView {
    /// `api_key`, `console` (an operator signed in to the console with that key), `cli` (the `inflow` command line), `startup` or `system`.
    #[serde(rename = "type")]
    pub actor_type: String,
    /// The API key id, for `api_key` and `console`.
    pub id: Option<String>,
    /// The customer the request acted for, if any.
    pub customer_id: Option<String>,
}

/// One audit record: who, what, when, from where; the object before and
/// after (as the API shows it, secrets and account numbers masked).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEventView {
    #[schema(example = "aud_0192f1c4a1b27c3d8e9f00112233aabb")]
    pub id: String,
    /// Always `audit_event`.
    pub object: &'static str,
    pub actor: AuditActorView,
    /// e.g. `api_key.created`, `customer.updated`, `collection.cancelled`, `ach.cutoff_run`.
    pub action: String,
    /// e.g. `customer`, `api_key`, `collection`, `ach_file`, `sandbox_clock`.
    pub object_type: String,
    pub object_id: String,
    /// The request's `X-Request-Id`, if it came through the API.
    pub request_id: Option<String>,
    /// The client's address (see `trusted_proxies` for `X-Forwarded-For`).
    pub client_ip: Option<String>,
    /// The object before the change (`null` for a creation).
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    /// The object after the change (`null` for a deletion).
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    /// When it happened (wall clock).
    pub created_at: String,
    /// The business clock then (differs in the sandbox after clock advances).
    pub business_time: String,
}

pub fn audit_view(a: AuditEvent) -> AuditEventView {
    AuditEventView {
        id: a.id.to_string(),
        object: "audit_event",
        actor: AuditActorView {
            actor_type: a.actor_type,
            id: a.actor_id,
            customer_id: a.customer_id,
        },
        action: a.action,
        object_type: a.object_type,
        object_id: a.object_id,
        request_id: a.request_id,
        client_ip: a.client_ip,
        before: a.before,
        after: a.after,
        created_at: time(a.created_at),
        business_time: time(a.business_time),
    }
}

/// `1..=max` characters of `[a-z0-9_.]` (actions) or visible ASCII (object ids).
fn filter_value(field: &str, v: Option<String>, action: bool) -> ApiResult<Option<String>> {
    let Some(v) = v else { return Ok(None) };
    let ok = !v.is_empty()
        && v.len() <= 100
        && v.bytes().all(|b| {
            if action {
                b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.'
            } else {
                b.is_ascii_graphic()
            }
        });
    if !ok {
        let what = if action {
            "an action such as customer.updated (lowercase letters, digits, `_` and `.`)"
        } else {
            "an object id (1 to 100 visible ASCII characters)"
        };
        return Err(ApiError::invalid(
            "invalid_value",
            format!("{field} must be {what}"),
            field,
        ));
    }
    Ok(Some(v))
}

/// List audit records, newest first (operator keys only; customer keys
/// get `403 admin_key_required`).
#[utoipa::path(get, path = "/v1/audit-events", tag = "audit", params(AuditListParams),
    responses((status = 200, body = ListResponse<AuditEventView>), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<ListResponse<AuditEventView>>> {
    auth.require_admin()?;
    let p: AuditListParams = parse_query(q.as_deref())?;
    let page_q = PageParams {
        limit: p.limit,
        starting_after: p.starting_after.clone(),
    }
    .to_query()?;
    let actor_id = p
        .actor_key_id
        .as_deref()
        .map(|k| ApiKeyId::parse("actorKeyId", k).map(|k| k.to_string()))
        .transpose()?;
    let filter = AuditFilter {
        actor_id,
        action: filter_value("action", p.action, true)?,
        object_id: filter_value("objectId", p.object_id, false)?,
        created_from: instant("createdFrom", &p.created_from)?,
        created_to: instant("createdTo", &p.created_to)?,
    };
    let page = state
        .store
        .read()
        .await?
        .list_audit_events(&filter, &page_q)
        .await?;
    Ok(Json(ListResponse::from_page(
        page,
        |a| a.id.to_string(),
        audit_view,
    )))
}
