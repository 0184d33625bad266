//! `/v1/accounts`: the customer's destination accounts that collections credit.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json};
use inflow_core::ids::AccountId;
use inflow_core::model::{
    validate_external_id, validate_metadata, Account, AccountStatus, Metadata,
};
use inflow_core::money::Currency;
use inflow_core::text::bounded_text;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::common::{external_id_conflict, time, to_json, ListResponse, PageParams};
use crate::api::ledger::BalancesView;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::audit::Audit;
use crate::http::auth::Auth;
use crate::http::body::{parse_json, parse_query};
use crate::http::idempotency::{run_write, WriteRequest};
use crate::state::AppState;
use inflow_engine::status_changes;
use inflow_store::repo::ledger::Balances;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateAccountRequest {
    pub name: String,
    /// Only `USD`.
    pub currency: Option<String>,
    pub external_id: Option<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub metadata: Metadata,
    /// The `[[odfi]]` profile whose files carry the entries crediting this
    /// account (operator keys only; absent or `null`: the customer's ODFI).
    pub odfi_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateAccountRequest {
    pub name: Option<String>,
    /// `blocked` and re-activation are operator actions; `closed` is final.
    pub status: Option<AccountStatus>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Metadata>,
    /// Move the account to another ODFI (`[[odfi]] id`; operator keys
    /// only); `null`: back to the customer's ODFI. Entries already in a
    /// file stay with their file.
    #[serde(default, deserialize_with = "crate::http::body::double_option")]
    #[schema(value_type = Option<String>)]
    pub odfi_id: Option<Option<String>>,
    /// Operator only: let ACH refunds take the available balance below zero.
    pub allow_negative_balance: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountResponse {
    pub id: String,
    /// Always `account`.
    pub object: &'static str,
    pub customer_id: String,
    pub name: String,
    pub currency: String,
    pub status: AccountStatus,
    pub external_id: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: Metadata,
    /// The ODFI assigned to this account by the operator; `null`: the
    /// customer's ODFI files its entries.
    pub odfi_id: Option<String>,
    /// From the ledger: pending, available and total, in minor units.
    pub balances: BalancesView,
    /// Whether an ACH refund may take the available balance below zero (set by the operator).
    pub allow_negative_balance: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl AccountResponse {
    /// The account with its balances.
    pub fn with_balances(a: Account, b: Balances) -> Self {
        let mut r = Self::from(a);
        r.balances = BalancesView::new(&r.currency, b);
        r
    }
}

impl From<Account> for AccountResponse {
    fn from(a: Account) -> Self {
        Self {
            balances: BalancesView::new(a.currency.code(), Balances::default()),
            allow_negative_balance: false,
            id: a.id.to_string(),
            object: "account",
            customer_id: a.customer_id.to_string(),
            name: a.name,
            currency: a.currency.code().to_owned(),
            status: a.status,
            external_id: a.external_id,
            metadata: a.metadata,
            odfi_id: a.odfi_id,
            created_at: time(a.created_at),
            updated_at: time(a.updated_at),
        }
    }
}

/// Open a destination account.
///
/// Operator keys may assign it to an ODFI of its own (`odfiId`; `400
/// unknown_odfi` when not configured, `403` for a customer's key).
#[utoipa::path(post, path = "/v1/accounts", tag = "accounts", request_body = CreateAccountRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    responses((status = 201, body = AccountResponse), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Audit(audit): Audit,
    req: WriteRequest,
) -> ApiResult<Response> {
    let customer_id = auth.customer_id()?.clone();
    let body: CreateAccountRequest = parse_json(&req.body)?;
    let now = state.clock.now();
    validate_metadata("metadata", &body.metadata)?;
    let odfi_id = match body.odfi_id {
        None => None,
        Some(id) => {
            require_operator_for_odfi(&auth)?;
            Some(crate::api::customers::odfi_id(&state, id)?)
        }
    };
    let account = Account {
        id: AccountId::generate(now),
        customer_id,
        name: bounded_text("name", &body.name, 1, 200)?,
        currency: Currency::parse("currency", body.currency.as_deref().unwrap_or("USD"))?,
        status: AccountStatus::Active,
        external_id: body
            .external_id
            .as_deref()
            .map(|e| validate_external_id("externalId", e))
            .transpose()?,
        metadata: body.metadata,
        created_at: now,
        updated_at: now,
        odfi_id,
    };
    run_write(&state, &auth, &req, move |tx| {
        Box::pin(async move {
            tx.insert_account(&account)
                .await
                .map_err(external_id_conflict("account"))?;
            let view = AccountResponse::from(account);
            audit
                .change("account.created", "account", &view.id)
                .after(&view)
                .record(tx, now)
                .await?;
            Ok((StatusCode::CREATED, to_json(&view)?))
        })
    })
    .await
}

/// List destination accounts, newest first.
#[utoipa::path(get, path = "/v1/accounts", tag = "accounts", params(PageParams),
    responses((status = 200, body = ListResponse<AccountResponse>)))]
pub async fn list(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<ListResponse<AccountResponse>>> {
    let params: PageParams = parse_query(q.as_deref())?;
    let mut tx = state.store.read().await?;
    let page = tx
        .list_accounts(auth.customer_id()?, &params.to_query()?)
        .await?;
    let mut with = Vec::with_capacity(page.data.len());
    for a in &page.data {
        with.push((
            tx.ledger_balances(&a.id).await?,
            tx.account_allows_negative(&a.id).await?,
        ));
    }
    let mut balances = with.into_iter();
    Ok(Json(ListResponse::from_page(
        page,
        |a| a.id.to_string(),
        |a| {
            let (b, allow) = balances.next().unwrap_or_default();
            let mut r = AccountResponse::with_balances(a, b);
            r.allow_negative_balance = allow;
            r
        },
    )))
}

fn parse_id(id: &str) -> ApiResult<AccountId> {
    AccountId::parse("id", id).map_err(|_| ApiError::not_found("account"))
}

/// Get a destination account.
#[utoipa::path(get, path = "/v1/accounts/{id}", tag = "accounts", params(("id" = String, Path)),
    responses((status = 200, body = AccountResponse), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> ApiResult<Json<AccountResponse>> {
    let id = parse_id(&id)?;
    let mut tx = state.store.read().await?;
    let account = tx
        .get_account(auth.customer_id()?, &id)
        .await
        .map_err(ApiError::not_found_if_missing("account"))?;
    let balances = tx.ledger_balances(&account.id).await?;
    let allow = tx.account_allows_negative(&account.id).await?;
    let mut r = AccountResponse::with_balances(account, balances);
    r.allow_negative_balance = allow;
    Ok(Json(r))
}

/// Rename, block, unblock or close a destination account.
///
/// Operator keys may move it to another ODFI (`odfiId`; `400 unknown_odfi`
/// when not configured; `null`: back to the customer's ODFI) and allow a
/// negative available balance for ACH refunds (`allowNegativeBalance`).
#[utoipa::path(patch, path = "/v1/accounts/{id}", tag = "accounts", params(("id" = String, Path)), request_body = UpdateAccountRequest,
    responses((status = 200, body = AccountResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    Audit(audit): Audit,
    req: WriteRequest,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    let customer_id = auth.customer_id()?.clone();
    let mut body: UpdateAccountRequest = parse_json(&req.body)?;
    let odfi = match body.odfi_id.take() {
        None => None,
        Some(v) => {
            require_operator_for_odfi(&auth)?;
            Some(
                v.map(|id| crate::api::customers::odfi_id(&state, id))
                    .transpose()?,
            )
        }
    };
    let is_admin = auth.is_admin();
    let now = state.clock.now();
    let ach = state.ach.clone();
    run_write(&state, &auth, &req, move |tx| {
        Box::pin(async move {
            let mut a = tx
                .get_account(&customer_id, &id)
                .await
                .map_err(ApiError::not_found_if_missing("account"))?;
            // Read before any change: the collections follow the transition.
            let was = a.status;
            let before = AccountResponse::from(a.clone());
            if let Some(name) = body.name {
                a.name = bounded_text("name", &name, 1, 200)?;
            }
            if let Some(status) = body.status {
                if a.status == AccountStatus::Closed && status != AccountStatus::Closed {
                    return Err(ApiError::conflict(
                        "account_closed",
                        "a closed account cannot be reopened",
                    )
                    .with_param("status"));
                }
                let operator_only =
                    status == AccountStatus::Blocked || a.status == AccountStatus::Blocked;
                if operator_only && !is_admin && status != a.status {
                    return Err(ApiError::forbidden(
                        "admin_key_required",
                        "blocking and unblocking accounts is an operator action",
                    ));
                }
                a.status = status;
            }
            if let Some(m) = body.metadata {
                validate_metadata("metadata", &m)?;
                a.metadata = m;
            }
            if let Some(v) = odfi {
                a.odfi_id = v;
            }
            if let Some(allow) = body.allow_negative_balance {
                if !is_admin {
                    return Err(ApiError::forbidden(
                        "admin_key_required",
                        "allowing a negative balance is an operator action",
                    ));
                }
                tx.set_account_allows_negative(&a.id, allow).await?;
            }
            a.updated_at = now;
            tx.update_account(&a).await?;
            status_changes::destination_status_changed(tx, &ach, &a, was, now).await?;
            audit
                .change("account.updated", "account", a.id.as_str())
                .before(&before)
                .after(&AccountResponse::from(a.clone()))
                .record(tx, now)
                .await?;
            let balances = tx.ledger_balances(&a.id).await?;
            let allow = tx.account_allows_negative(&a.id).await?;
            let mut r = AccountResponse::with_balances(a, balances);
            r.allow_negative_balance = allow;
            Ok((StatusCode::OK, to_json(&r)?))
        })
    })
    .await
}

/// Assigning an account to an ODFI is an operator action.
fn require_operator_for_odfi(auth: &Auth) -> ApiResult<()> {
    if auth.is_admin() {
        return Ok(());
    }
    Err(ApiError::forbidden(
        "admin_key_required",
        "assigning a destination account to an ODFI (odfiId) is an operator action",
    )
    .with_param("odfiId"))
}
