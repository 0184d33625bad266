//! `/v1/customers`: operator-managed customers.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json};
use inflow_core::ids::CustomerId;
use inflow_core::model::{
    validate_ach_company_id, validate_ach_company_name, validate_allowed_company_names,
    validate_email, validate_metadata, AchPolicy, Customer, CustomerKind, CustomerStatus, Metadata,
};
use inflow_core::text::bounded_text;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::ach_limits::{AchLimitsInput, AchLimitsView};
use crate::api::collections::AuthorizationInput;
use crate::api::common::{time, to_json, ListResponse, MoneyInput, PageParams};
use crate::app::customers::{create_customer, CreateCustomerError, NewCustomer};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::audit::Audit;
use crate::http::auth::Auth;
use crate::http::body::{parse_json, parse_query};
use crate::http::idempotency::{run_write, WriteRequest};
use crate::state::AppState;
use inflow_core::money::Money;
use inflow_engine::status_changes;
use inflow_engine::view::{AuthorizationView, MoneyView};

/// A per-card daily limit: zero or more (zero refuses every card charge).
fn card_daily_limit(input: &MoneyInput) -> ApiResult<i64> {
    Ok(input.parse("cardDailyLimit")?.minor())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateCustomerRequest {
    pub name: String,
    pub kind: CustomerKind,
    pub email: Option<String>,
    /// Allow collections from a one-time bank account in the request (business customers only).
    #[serde(default)]
    pub allow_one_time_source: bool,
    /// Reject this customer's unsigned requests.
    #[serde(default)]
    pub require_signed_requests: bool,
    /// NACHA company name (≤16 characters) for this customer's batches.
    pub ach_company_name: Option<String>,
    /// NACHA company identification (10 characters, e.g. `1` + EIN).
    pub ach_company_id: Option<String>,
    /// Other company names (each ≤16 NACHA characters, at most 20) this
    /// customer may put on a collection's `companyName`; its own
    /// `achCompanyName` is always allowed. Anything else is refused with
    /// `403 company_name_not_allowed`.
    #[serde(default)]
    pub allowed_company_names: Vec<String>,
    /// Live debits need a cleared prenote on the payment method first;
    /// debits made while the prenote is out are held until it clears.
    #[serde(default)]
    pub require_prenote: bool,
    /// WEB debits need a validated account (cleared prenote or operator flag).
    #[serde(default)]
    pub web_requires_validated_account: bool,
    /// Used by collections that carry no `authorization`.
    pub default_authorization: Option<AuthorizationInput>,
    /// The most one card may be charged per US/Eastern day (sales,
    /// authorizations and forces not declined or voided). Default 24999.99 USD.
    pub card_daily_limit: Option<MoneyInput>,
    /// Limits on the customer's ACH debits; absent or `null` fields take
    /// the operator's defaults.
    pub ach_limits: Option<AchLimitsInput>,
    /// The customer's own keys may issue API keys (`POST /v1/api-keys`). Default false.
    #[serde(default)]
    pub can_manage_api_keys: bool,
    /// The ODFI (`[[odfi]] id` in the configuration) whose files carry the
    /// customer's entries; absent or `null`: the default ODFI.
    #[schema(example = "first-bank")]
    pub odfi_id: Option<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub metadata: Metadata,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateCustomerRequest {
    pub name: Option<String>,
    pub email: Option<String>,
    pub status: Option<CustomerStatus>,
    pub allow_one_time_source: Option<bool>,
    pub require_signed_requests: Option<bool>,
    pub ach_company_name: Option<String>,
    pub ach_company_id: Option<String>,
    /// Replace the list of other company names the customer may use (`[]` clears it).
    pub allowed_company_names: Option<Vec<String>>,
    pub require_prenote: Option<bool>,
    pub web_requires_validated_account: Option<bool>,
    /// Replace the default authorization; `null` removes it.
    #[serde(default, deserialize_with = "crate::http::body::double_option")]
    #[schema(value_type = Option<AuthorizationInput>)]
    pub default_authorization: Option<Option<AuthorizationInput>>,
    pub card_daily_limit: Option<MoneyInput>,
    /// Change limits on the customer's ACH debits: a value sets one, `null`
    /// returns it to the operator's default, an absent field leaves it.
    pub ach_limits: Option<AchLimitsInput>,
    pub can_manage_api_keys: Option<bool>,
    /// Move the customer to another ODFI (`[[odfi]] id`); `null`: the
    /// default ODFI. Entries already in a file stay with their file.
    #[serde(default, deserialize_with = "crate::http::body::double_option")]
    #[schema(value_type = Option<String>)]
    pub odfi_id: Option<Option<String>>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Metadata>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerResponse {
    #[schema(example = "cus_0195f0c8a3c47d1e8a8b5f3e2d1c0b9a")]
    pub id: String,
    /// Always `customer`.
    pub object: &'static str,
    pub name: String,
    pub kind: CustomerKind,
    pub email: Option<String>,
    pub status: CustomerStatus,
    pub allow_one_time_source: bool,
    pub require_signed_requests: bool,
    pub ach_company_name: Option<String>,
    pub ach_company_id: Option<String>,
    /// Company names the customer may use besides `achCompanyName`.
    pub allowed_company_names: Vec<String>,
    pub require_prenote: bool,
    pub web_requires_validated_account: bool,
    pub default_authorization: Option<AuthorizationView>,
    pub card_daily_limit: MoneyView,
    /// The customer's own ACH debit limits (a `null` limit: the operator's default applies).
    pub ach_limits: AchLimitsView,
    /// The customer's own keys may issue API keys.
    pub can_manage_api_keys: bool,
    /// The ODFI whose files carry the customer's entries (`null`: the default ODFI).
    pub odfi_id: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: Metadata,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Customer> for CustomerResponse {
    fn from(c: Customer) -> Self {
        Self {
            id: c.id.to_string(),
            object: "customer",
            name: c.name,
            kind: c.kind,
            email: c.email,
            status: c.status,
            allow_one_time_source: c.allow_one_time_source,
            require_signed_requests: c.require_signed_requests,
            ach_company_name: c.ach_company_name,
            ach_company_id: c.ach_company_id,
            allowed_company_names: c.allowed_company_names,
            require_prenote: c.ach_policy.require_prenote,
            web_requires_validated_account: c.ach_policy.web_requires_validated_account,
            default_authorization: c
                .ach_policy
                .default_authorization
                .as_ref()
                .map(AuthorizationView::from),
            card_daily_limit: Money::usd_clamped(c.card_daily_limit).into(),
            ach_limits: c.ach_limits.into(),
            can_manage_api_keys: c.can_manage_api_keys,
            odfi_id: c.odfi_id,
            metadata: c.metadata,
            created_at: time(c.created_at),
            updated_at: time(c.updated_at),
        }
    }
}

impl From<CreateCustomerError> for ApiError {
    fn from(e: CreateCustomerError) -> Self {
        match e {
            CreateCustomerError::Invalid(v) => v.into(),
            CreateCustomerError::Store(s) => s.into(),
        }
    }
}

/// Create a customer (operator keys only). `odfiId` must name a configured
/// ODFI (`[[odfi]]`), else `400 unknown_odfi`.
#[utoipa::path(post, path = "/v1/customers", tag = "customers",
    request_body(content = CreateCustomerRequest, example = json!(crate::api::examples::create_customer())),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    responses((status = 201, body = CustomerResponse, example = json!(crate::api::examples::customer())), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Audit(audit): Audit,
    req: WriteRequest,
) -> ApiResult<Response> {
    auth.require_admin()?;
    let body: CreateCustomerRequest = parse_json(&req.body)?;
    let new = NewCustomer {
        name: body.name,
        kind: Some(body.kind),
        email: body.email,
        allow_one_time_source: body.allow_one_time_source,
        require_signed_requests: body.require_signed_requests,
        ach_company_name: body.ach_company_name,
        ach_company_id: body.ach_company_id,
        allowed_company_names: body.allowed_company_names,
        ach_policy: AchPolicy {
            require_prenote: body.require_prenote,
            web_requires_validated_account: body.web_requires_validated_account,
            default_authorization: body
                .default_authorization
                .map(|a| a.into_domain("defaultAuthorization"))
                .transpose()?,
        },
        card_daily_limit: body
            .card_daily_limit
            .as_ref()
            .map(card_daily_limit)
            .transpose()?,
        ach_limits: {
            let mut l = Default::default();
            if let Some(input) = &body.ach_limits {
                input.apply(&mut l)?;
            }
            l
        },
        can_manage_api_keys: body.can_manage_api_keys,
        odfi_id: body.odfi_id.map(|id| odfi_id(&state, id)).transpose()?,
        metadata: body.metadata,
    };
    let now = state.clock.now();
    // Validate before touching the database so bad input never claims a key.
    new.clone().build(now)?;
    run_write(&state, &auth, &req, move |tx| {
        Box::pin(async move {
            let customer = create_customer(tx, new, &audit, now).await?;
            Ok((
                StatusCode::CREATED,
                to_json(&CustomerResponse::from(customer))?,
            ))
        })
    })
    .await
}

/// List customers, newest first (operator keys only).
#[utoipa::path(get, path = "/v1/customers", tag = "customers", params(PageParams),
    responses((status = 200, body = ListResponse<CustomerResponse>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<ListResponse<CustomerResponse>>> {
    auth.require_admin()?;
    let params: PageParams = parse_query(q.as_deref())?;
    let page = state
        .store
        .read()
        .await?
        .list_customers(&params.to_query()?)
        .await?;
    Ok(Json(ListResponse::from_page(
        page,
        |c| c.id.to_string(),
        CustomerResponse::from,
    )))
}

/// Get a customer. A customer key may read only its own customer.
#[utoipa::path(get, path = "/v1/customers/{id}", tag = "customers", params(("id" = String, Path)),
    responses((status = 200, body = CustomerResponse), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> ApiResult<Json<CustomerResponse>> {
    let id = CustomerId::parse("id", &id).map_err(|_| ApiError::not_found("customer"))?;
    if !auth.is_admin() && auth.customer_id()? != &id {
        return Err(ApiError::not_found("customer"));
    }
    let customer = state
        .store
        .read()
        .await?
        .get_customer(&id)
        .await
        .map_err(ApiError::not_found_if_missing("customer"))?;
    Ok(Json(customer.into()))
}

/// Update a customer's settings (operator keys only). `odfiId` must name a
/// configured ODFI (`[[odfi]]`), else `400 unknown_odfi`; `null` returns the
/// customer to the default ODFI.
#[utoipa::path(patch, path = "/v1/customers/{id}", tag = "customers", params(("id" = String, Path)), request_body = UpdateCustomerRequest,
    responses((status = 200, body = CustomerResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    Audit(audit): Audit,
    req: WriteRequest,
) -> ApiResult<Response> {
    auth.require_admin()?;
    let id = CustomerId::parse("id", &id).map_err(|_| ApiError::not_found("customer"))?;
    let mut body: UpdateCustomerRequest = parse_json(&req.body)?;
    let odfi = body
        .odfi_id
        .take()
        .map(|v| v.map(|id| odfi_id(&state, id)).transpose())
        .transpose()?;
    let now = state.clock.now();
    let ach = state.ach.clone();
    let response = run_write(&state, &auth, &req, move |tx| {
        Box::pin(async move {
            let mut c = tx
                .get_customer(&id)
                .await
                .map_err(ApiError::not_found_if_missing("customer"))?;
            let was = c.status;
            let before = CustomerResponse::from(c.clone());
            if let Some(name) = body.name {
                c.name = bounded_text("name", &name, 1, 200)?;
            }
            if let Some(email) = body.email {
                c.email = Some(validate_email("email", &email)?);
            }
            if let Some(status) = body.status {
                c.status = status;
            }
            if let Some(v) = body.allow_one_time_source {
                if v && c.kind != CustomerKind::Business {
                    return Err(ApiError::invalid(
                        "one_time_source_business_only",
                        "one-time bank account sources can only be enabled for business customers",
                        "allowOneTimeSource",
                    ));
                }
                c.allow_one_time_source = v;
            }
            if let Some(v) = body.require_signed_requests {
                c.require_signed_requests = v;
            }
            if let Some(n) = body.ach_company_name {
                c.ach_company_name = Some(validate_ach_company_name("achCompanyName", &n)?);
            }
            if let Some(n) = body.ach_company_id {
                c.ach_company_id = Some(validate_ach_company_id("achCompanyId", &n)?);
            }
            if let Some(names) = body.allowed_company_names {
                c.allowed_company_names =
                    validate_allowed_company_names("allowedCompanyNames", &names)?;
            }
            if let Some(v) = body.require_prenote {
                c.ach_policy.require_prenote = v;
            }
            if let Some(v) = body.web_requires_validated_account {
                c.ach_policy.web_requires_validated_account = v;
            }
            if let Some(a) = body.default_authorization {
                c.ach_policy.default_authorization = a
                    .map(|a| a.into_domain("defaultAuthorization"))
                    .transpose()?;
            }
            if let Some(l) = &body.card_daily_limit {
                c.card_daily_limit = card_daily_limit(l)?;
            }
            if let Some(l) = &body.ach_limits {
                l.apply(&mut c.ach_limits)?;
            }
            if let Some(v) = body.can_manage_api_keys {
                c.can_manage_api_keys = v;
            }
            if let Some(v) = odfi {
                c.odfi_id = v;
            }
            if let Some(m) = body.metadata {
                validate_metadata("metadata", &m)?;
                c.metadata = m;
            }
            c.updated_at = now;
            tx.update_customer(&c).await?;
            // Suspended: unfiled collections held, schedules paused; active
            // again: released if nothing else holds them.
            status_changes::customer_status_changed(tx, &ach, &c, was, now).await?;
            let after = CustomerResponse::from(c);
            audit
                .change("customer.updated", "customer", &id.to_string())
                .before(&before)
                .after(&after)
                .record(tx, now)
                .await?;
            Ok((StatusCode::OK, to_json(&after)?))
        })
    })
    .await;
    state.auth_cache.invalidate();
    response
}

/// A customer's `odfiId`: one of the configured `[[odfi]]` profiles.
pub(crate) fn odfi_id(state: &AppState, id: String) -> Result<String, ApiError> {
    if state.ach.has_odfi(&id) {
        return Ok(id);
    }
    let message = match state.ach.odfis.split_first() {
        None => "no ODFI is configured (`[[odfi]]`): leave odfiId out or null".to_owned(),
        Some((default, others)) => {
            let mut known = format!("{} (the default)", default.id);
            for o in others {
                known.push_str(", ");
                known.push_str(&o.id);
            }
            format!("odfiId must name a configured ODFI: {known}")
        }
    };
    Err(ApiError::invalid("unknown_odfi", &message, "odfiId"))
}
