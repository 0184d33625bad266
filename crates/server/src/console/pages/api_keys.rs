//! API keys: the operator's and each customer's, issuing one (its key and
//! signing secret shown on the next page only, once) and revoking one after
//! a confirmation — through the API's own handlers.

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use inflow_store::ListQuery;
use maud::{html, Markup};
use serde_json::{json, Value};

use crate::api::api_keys::ApiKeyResponse;
use crate::console::act;
use crate::console::csrf;
use crate::console::format::time_str;
use crate::console::layout::{error_page, page};
use crate::console::session::Operator;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// (owner label, owner customer id, its keys), the operator's first.
type Group = (String, Option<String>, Vec<ApiKeyResponse>);

async fn load(state: &AppState, op: &Operator) -> ApiResult<Vec<Group>> {
    let list = |auth| {
        crate::api::api_keys::list(
            State(state.clone()),
            Extension(auth),
            RawQuery(Some("limit=200".into())),
        )
    };
    let Json(ops) = list(act::operator(op)).await?;
    let mut groups = vec![("Operator keys".to_owned(), None, ops.data)];
    let mut tx = state.store.read().await?;
    let customers = tx
        .list_customers(&ListQuery::first(ListQuery::MAX_LIMIT))
        .await?
        .data;
    tx.rollback().await?;
    for c in customers {
        let Json(keys) = list(act::acting_for(state, op, c.id.as_str()).await?).await?;
        groups.push((c.name, Some(c.id.to_string()), keys.data));
    }
    Ok(groups)
}

/// `GET /console/api-keys`.
pub async fn list(State(state): State<AppState>, op: Operator) -> Response {
    match load(&state, &op).await {
        Ok(groups) => page(
            &op,
            "/console/api-keys",
            "API keys",
            state.config.sandbox,
            body(&state, &op, &groups),
        )
        .into_response(),
        Err(e) => error_page(e),
    }
}

fn body(state: &AppState, op: &Operator, groups: &[Group]) -> Markup {
    let tz = super::tz(state);
    html! {
        form.card method="post" action="/console/api-keys" {
            (csrf::field(op))
            h2 { "Issue a key" }
            label for="k-name" { "Name" } input id="k-name" name="name" required maxlength="100";
            label for="k-owner" { "For" }
            select id="k-owner" name="owner" {
                option value="admin" { "The operator (an operator key)" }
                @for (name, id, _) in groups.iter().skip(1) { option value=(id.as_deref().unwrap_or("")) { (name) } }
            }
            button type="submit" { "Issue the key" }
        }
        @for (name, _, keys) in groups {
            h2 { (name) }
            table {
                thead { tr { th scope="col" { "Key" } th scope="col" { "Name" } th scope="col" { "Starts with" } th scope="col" { "Created" } th scope="col" { "State" } th scope="col" { "Action" } } }
                tbody {
                    @for k in keys {
                        tr {
                            td { (k.id) } td { (k.name) } td { code { (k.prefix) "…" } } td { (time_str(&k.created_at, tz)) }
                            td { @if let Some(r) = &k.revoked_at { "revoked " (time_str(r, tz)) } @else { "active" } }
                            td { @if k.revoked_at.is_none() { a href=(format!("/console/api-keys/{}/revoke", k.id)) { "Revoke…" } } }
                        }
                    }
                    @if keys.is_empty() { tr { td colspan="6" { "No keys." } } }
                }
            }
        }
    }
}

/// `POST /console/api-keys`: issue a key; the only page that shows its secrets.
pub async fn create(
    State(state): State<AppState>,
    op: Operator,
    body: axum::body::Bytes,
) -> Response {
    let f = match csrf::verify(&op, &body) {
        Ok(f) => f,
        Err(refused) => return refused.into_response(),
    };
    match issue(&state, &op, &f).await {
        Ok(v) => page(&op, "/console/api-keys", "Key issued", state.config.sandbox, html! {
            p.note role="status" { "Copy the key and its signing secret now: they are not shown again." }
            dl.facts {
                dt { "Key id" } dd { (v["apiKey"]["id"].as_str().unwrap_or("")) }
                dt { "API key" } dd { code { (v["key"].as_str().unwrap_or("")) } }
                dt { "Signing secret" } dd { code { (v["signingSecret"].as_str().unwrap_or("")) } }
            }
            p { a href="/console/api-keys" { "Back to the keys" } }
        })
        .into_response(),
        Err(e) => error_page(e),
    }
}

async fn issue(state: &AppState, op: &Operator, f: &csrf::Fields) -> ApiResult<Value> {
    let name = f
        .filled("name")
        .ok_or_else(|| ApiError::invalid("missing_field", "name the key", "name"))?;
    let (auth, body) = match f.filled("owner") {
        None | Some("admin") => (act::operator(op), json!({"name": name, "role": "admin"})),
        Some(customer) => (
            act::acting_for(state, op, customer).await?,
            json!({"name": name, "role": "customer", "customerId": customer}),
        ),
    };
    let audit = act::audit(op, &auth);
    let res = crate::api::api_keys::create(
        State(state.clone()),
        Extension(auth),
        audit,
        act::write(body),
    )
    .await?;
    act::json(res).await
}

/// `GET /console/api-keys/{id}/revoke`: the confirmation.
pub async fn confirm_revoke(
    State(state): State<AppState>,
    op: Operator,
    Path(id): Path<String>,
) -> Response {
    page(&op, "/console/api-keys", &format!("Revoke {id}?"), state.config.sandbox, html! {
        p { "Requests with this key are refused from now on, and console sessions signed in with it end." }
        form.card method="post" action=(format!("/console/api-keys/{id}/revoke")) {
            (csrf::field(&op))
            div.actions { button.danger type="submit" { "Yes, revoke" } a href="/console/api-keys" { "No, go back" } }
        }
    })
    .into_response()
}

/// `POST /console/api-keys/{id}/revoke`.
pub async fn revoke(
    State(state): State<AppState>,
    op: Operator,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    if let Err(refused) = csrf::verify(&op, &body) {
        return refused.into_response();
    }
    let auth = act::operator(&op);
    let audit = act::audit(&op, &auth);
    match crate::api::api_keys::revoke(
        State(state.clone()),
        Extension(auth),
        Path(id),
        audit,
        act::write(json!({})),
    )
    .await
    {
        Ok(_) => Redirect::to("/console/api-keys").into_response(),
        Err(e) => error_page(e),
    }
}
