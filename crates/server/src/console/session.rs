//! Signing in and out, and the [`Operator`] every console page requires.
//!
//! An operator signs in with an operator (admin) API key: the console adds
//! no user store of its own, so there is one credential to issue, rotate
//! and revoke (`inflow api-keys`), and revoking a key ends its console
//! sessions at the next request. Customer keys are refused.
//!
//! The session is a random token in an `HttpOnly`, `SameSite=Strict`
//! cookie (`Secure` outside sandbox mode); the database keeps only its
//! SHA-256, so sessions work on every node. A session ends after
//! `session_idle_secs` unused, `session_max_secs` after sign-in, at
//! sign-out, or when its key is revoked. Times are wall-clock: moving the
//! sandbox clock neither ends nor extends a session.
//!
//! The sign-in form, having no session yet, is protected by a
//! double-submit token: a random value in a short-lived cookie that the
//! form must repeat.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration, Utc};
use inflow_core::crypto::{api_key_hash, random_token, sha256};
use inflow_core::ids::ApiKeyId;
use inflow_core::model::ApiKeyRole;
use inflow_engine::audit::{Actor, AuditContext};
use inflow_store::repo::console_sessions::ConsoleSession;
use inflow_store::StoreError;

use crate::console::csrf;
use crate::console::layout;
use crate::error::ApiError;
use crate::http::audit::{client_ip, Audit};
use crate::http::request_id::RequestId;
use crate::state::AppState;

/// The session cookie.
pub const SESSION_COOKIE: &str = "inflow_console";
/// The sign-in form's double-submit cookie.
pub const SIGN_IN_COOKIE: &str = "inflow_console_signin";

/// The signed-in operator of a console request.
#[derive(Debug, Clone)]
pub struct Operator {
    pub key_id: ApiKeyId,
    /// The key's name, shown in the header.
    pub key_name: String,
    /// This session's CSRF token.
    pub csrf: String,
    token_hash: String,
    /// Who acts (`console` + the key), from where, in which request.
    pub audit: Audit,
}

/// The value of cookie `name` in `headers`.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn hash_token(token: &str) -> String {
    hex::encode(sha256(token.as_bytes()))
}

fn set_cookie(state: &AppState, name: &str, value: &str, max_age: i64) -> HeaderValue {
    let secure = if state.config.sandbox { "" } else { "; Secure" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn to_sign_in(reason: &str) -> Response {
    Redirect::to(&format!("/console/sign-in?{reason}")).into_response()
}

fn audit_context(parts: &Parts, state: &AppState, key: &ApiKeyId) -> Audit {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    Audit(AuditContext {
        actor: Actor::Console(key.clone()),
        customer_id: None,
        request_id: parts.extensions.get::<RequestId>().map(|r| r.0.clone()),
        client_ip: client_ip(peer, &parts.headers, &state.config.trusted_proxies)
            .map(|ip| ip.to_string()),
    })
}

/// Whether a session stored at `s` is still alive at `now`.
fn alive(state: &AppState, s: &ConsoleSession, now: DateTime<Utc>) -> bool {
    let max = Duration::seconds(state.config.console.session_max_secs as i64);
    now < s.expires_at && now < s.created_at + max
}

impl FromRequestParts<AppState> for Operator {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(to_sign_in("signin=required"));
        };
        let token_hash = hash_token(token);
        let now = state.wall_clock.now();
        let found = load(state, &token_hash).await.map_err(layout::error_page)?;
        let Some((session, key_name)) = found else {
            return Err(to_sign_in("signin=required"));
        };
        if !alive(state, &session, now) {
            let mut tx = state
                .store
                .begin()
                .await
                .map_err(|e| layout::error_page(e.into()))?;
            tx.delete_console_session(&token_hash)
                .await
                .map_err(|e| layout::error_page(e.into()))?;
            tx.commit()
                .await
                .map_err(|e| layout::error_page(e.into()))?;
            return Err(to_sign_in("signin=expired"));
        }
        let idle = Duration::seconds(state.config.console.session_idle_secs as i64);
        let mut tx = state
            .store
            .begin()
            .await
            .map_err(|e| layout::error_page(e.into()))?;
        tx.touch_console_session(&token_hash, now, now + idle)
            .await
            .map_err(|e| layout::error_page(e.into()))?;
        tx.commit()
            .await
            .map_err(|e| layout::error_page(e.into()))?;
        let key_id = ApiKeyId::parse("session", &session.api_key_id)
            .map_err(|e| layout::error_page(e.into()))?;
        Ok(Operator {
            audit: audit_context(parts, state, &key_id),
            key_id,
            key_name,
            csrf: session.csrf_token,
            token_hash,
        })
    }
}

/// The session and its key's name, if the session exists and its key is
/// still an unrevoked operator key.
async fn load(
    state: &AppState,
    token_hash: &str,
) -> Result<Option<(ConsoleSession, String)>, ApiError> {
    let mut tx = state.store.read().await?;
    let session = match tx.get_console_session(token_hash).await {
        Ok(s) => s,
        Err(StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let Ok(key_id) = ApiKeyId::parse("session", &session.api_key_id) else {
        return Ok(None);
    };
    let key = tx.get_api_key(&key_id, None).await?;
    tx.rollback().await?;
    if key.revoked_at.is_some() || key.role != ApiKeyRole::Admin {
        return Ok(None);
    }
    Ok(Some((session, key.name)))
}

#[derive(serde::Deserialize)]
pub struct SignInQuery {
    signin: Option<String>,
}

/// `GET /console/sign-in`: the form, with a fresh double-submit token.
pub async fn sign_in_page(
    State(state): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<SignInQuery>,
) -> Response {
    let note = match q.signin.as_deref() {
        Some("expired") => Some("Your session expired. Sign in again."),
        Some("required") => Some("Sign in to use the console."),
        Some("out") => Some("You are signed out."),
        _ => None,
    };
    sign_in_form(&state, StatusCode::OK, note)
}

fn sign_in_form(state: &AppState, status: StatusCode, note: Option<&str>) -> Response {
    let token = random_token(32);
    let mut res = (status, layout::sign_in(&token, note, state.config.sandbox)).into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(state, SIGN_IN_COOKIE, &token, 1800),
    );
    res
}

/// `POST /console/sign-in`: an operator API key in, a session out.
pub async fn sign_in(
    State(state): State<AppState>,
    parts: axum::http::request::Parts,
    body: axum::body::Bytes,
) -> Response {
    let form = csrf::Fields::parse(&body);
    let expected = cookie(&parts.headers, SIGN_IN_COOKIE).unwrap_or("");
    if !csrf::same(expected, form.get("csrf").unwrap_or("")) {
        return csrf::refused();
    }
    let key = form.get("api_key").unwrap_or("").trim();
    let found = match find_key(&state, key).await {
        Ok(k) => k,
        Err(e) => return layout::error_page(e),
    };
    let key = match found {
        Some(k) if k.revoked_at.is_none() && k.role == ApiKeyRole::Admin => k,
        Some(k) if k.revoked_at.is_none() => {
            return sign_in_form(
                &state,
                StatusCode::FORBIDDEN,
                Some("Customer keys cannot sign in to the console; use an operator key."),
            )
        }
        _ => {
            return sign_in_form(
                &state,
                StatusCode::UNAUTHORIZED,
                Some("That API key is not valid."),
            )
        }
    };
    match start_session(&state, &parts, &key.id).await {
        Ok(token) => {
            let max = state.config.console.session_max_secs as i64;
            let mut res = Redirect::to("/console").into_response();
            let h = res.headers_mut();
            h.append(
                header::SET_COOKIE,
                set_cookie(&state, SESSION_COOKIE, &token, max),
            );
            h.append(
                header::SET_COOKIE,
                set_cookie(&state, SIGN_IN_COOKIE, "", 0),
            );
            res
        }
        Err(e) => layout::error_page(e),
    }
}

async fn find_key(
    state: &AppState,
    key: &str,
) -> Result<Option<inflow_core::model::ApiKey>, ApiError> {
    if key.is_empty() {
        return Ok(None);
    }
    let mut tx = state.store.read().await?;
    let found = tx.find_api_key_by_hash(&api_key_hash(key)).await?;
    tx.rollback().await?;
    Ok(found)
}

/// Store a new session for `key` and audit the sign-in; the token.
async fn start_session(
    state: &AppState,
    parts: &Parts,
    key: &ApiKeyId,
) -> Result<String, ApiError> {
    let token = random_token(43);
    let now = state.wall_clock.now();
    let idle = Duration::seconds(state.config.console.session_idle_secs as i64);
    let session = ConsoleSession {
        token_hash: hash_token(&token),
        api_key_id: key.to_string(),
        csrf_token: random_token(43),
        created_at: now,
        last_seen_at: now,
        expires_at: now + idle,
    };
    let audit = audit_context(parts, state, key).0;
    let business = state.clock.now();
    let session_ref = session_ref(&session.token_hash);
    state
        .store
        .write(move |tx| {
            Box::pin(async move {
                tx.insert_console_session(&session).await?;
                audit
                    .change("console.signed_in", "console_session", &session_ref)
                    .after(&serde_json::json!({ "apiKeyId": session.api_key_id }))
                    .record(tx, business)
                    .await?;
                Ok::<_, ApiError>(())
            })
        })
        .await?;
    Ok(token)
}

/// How the audit trail names a session: a prefix of its token's hash.
fn session_ref(token_hash: &str) -> String {
    format!("cs_{}", &token_hash[..16])
}

/// `POST /console/sign-out`.
pub async fn sign_out(
    State(state): State<AppState>,
    op: Operator,
    body: axum::body::Bytes,
) -> Response {
    if let Err(refused) = csrf::verify(&op, &body) {
        return refused.into_response();
    }
    let business = state.clock.now();
    let audit = op.audit.0.clone();
    let hash = op.token_hash.clone();
    let written = state
        .store
        .write(move |tx| {
            Box::pin(async move {
                tx.delete_console_session(&hash).await?;
                audit
                    .change("console.signed_out", "console_session", &session_ref(&hash))
                    .record(tx, business)
                    .await?;
                Ok::<_, ApiError>(())
            })
        })
        .await;
    if let Err(e) = written {
        return layout::error_page(e);
    }
    let mut res = to_sign_in("signin=out");
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, SESSION_COOKIE, "", 0),
    );
    res
}
