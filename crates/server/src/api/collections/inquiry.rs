//! `GET /v1/collections`: one inquiry over both rails.
//!
//! Without `rail` the list holds ACH and card collections together, newest
//! first, each shown as `GET /v1/collections/{id}` shows it. The two rails
//! live in two tables that share the time-ordered `col_` id space, so a page
//! is the merge of one page of each, read with the same cursor in one
//! transaction. A filter that only one rail has (and a `status` or `type`
//! value that only one rail uses) restricts the list to that rail; combined
//! with the other rail it is a 400 naming the parameter.

use axum::extract::{RawQuery, State};
use axum::{Extension, Json};
use chrono::NaiveDate;
use inflow_core::card::{CardBrand, CardStatus, CardTxType};
use inflow_core::collection::{AchEntryType, CollectionStatus, Rail, SecCode};
use inflow_core::ids::{CounterpartyId, CustomerId, PaymentMethodId};
use inflow_engine::view::{
    card_collection_view, collection_view, CardCollectionView, CollectionView,
};
use inflow_store::repo::card_collections::CardCollectionFilter;
use inflow_store::repo::collections::CollectionFilter;
use inflow_store::Page;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::common::{instant, ListResponse, PageParams};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::auth::Auth;
use crate::http::body::parse_query;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CollectionListParams {
    /// 1 to 200, default 50.
    pub limit: Option<u32>,
    /// The id of the last collection on the previous page.
    pub starting_after: Option<String>,
    /// `ach` or `card`; default: both rails, newest first.
    pub rail: Option<String>,
    /// A status of either rail; a status only one rail has (`returned`,
    /// `captured`, …) restricts the list to that rail; `completed` and
    /// `pending` match both.
    pub status: Option<String>,
    /// `debit` or `prenote` (ACH), `sale`, `authorization` or `force` (card):
    /// restricts the list to that rail.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
    /// ACH only.
    pub sec_code: Option<String>,
    /// Both rails.
    pub payment_method_id: Option<String>,
    /// ACH only.
    pub counterparty_id: Option<String>,
    /// Both rails.
    pub external_id: Option<String>,
    /// Both rails.
    pub reference: Option<String>,
    /// ACH only.
    pub trace_number: Option<String>,
    /// RFC 3339, both rails.
    pub created_from: Option<String>,
    /// RFC 3339, both rails.
    pub created_to: Option<String>,
    /// YYYY-MM-DD, ACH only.
    pub effective_date_from: Option<String>,
    /// YYYY-MM-DD, ACH only.
    pub effective_date_to: Option<String>,
    /// Card only: `visa`, `mastercard`, `amex`, `discover`, `diners` or `jcb`.
    pub brand: Option<String>,
    /// Card only: the card number's last 4 digits.
    pub last4: Option<String>,
    /// Card only: the processor's approval code.
    pub approval_code: Option<String>,
    /// Both rails: the smallest amount, in minor units (cents), inclusive.
    #[param(value_type = Option<i64>, minimum = 0)]
    pub amount_from: Option<String>,
    /// Both rails: the largest amount, in minor units (cents), inclusive;
    /// not below `amountFrom`.
    #[param(value_type = Option<i64>, minimum = 0)]
    pub amount_to: Option<String>,
}

/// `amountFrom` / `amountTo` as minor units: non-negative integers, the
/// first not above the second; a 400 naming the parameter otherwise.
fn amount_range(p: &CollectionListParams) -> ApiResult<(Option<i64>, Option<i64>)> {
    let parse = |field: &str, v: &Option<String>| -> ApiResult<Option<i64>> {
        v.as_deref()
            .map(|s| {
                s.parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 0 && s.bytes().all(|b| b.is_ascii_digit()))
                    .ok_or_else(|| {
                        ApiError::invalid(
                            "invalid_amount",
                            format!(
                                "{field} must be a whole number of minor units (cents), 0 or more"
                            ),
                            field,
                        )
                    })
            })
            .transpose()
    };
    let from = parse("amountFrom", &p.amount_from)?;
    let to = parse("amountTo", &p.amount_to)?;
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            return Err(ApiError::invalid(
                "invalid_amount",
                "amountTo must not be below amountFrom",
                "amountTo",
            ));
        }
    }
    Ok((from, to))
}

/// A collection in a list, as `GET /v1/collections/{id}` shows it: ACH
/// (`rail: ach`) or card (`rail: card`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
#[schema(discriminator(property_name = "rail", mapping(
    ("ach" = "#/components/schemas/CollectionView"),
    ("card" = "#/components/schemas/CardCollectionView")
)))]
pub enum CollectionListItem {
    Ach(Box<CollectionView>),
    Card(Box<CardCollectionView>),
}

impl CollectionListItem {
    fn id(&self) -> &str {
        match self {
            CollectionListItem::Ach(v) => &v.id,
            CollectionListItem::Card(v) => &v.id,
        }
    }
}

/// List collections of both rails, newest first, with filters.
#[utoipa::path(get, path = "/v1/collections", tag = "collections", params(CollectionListParams),
    description = "ACH and card collections together, newest first (one cursor pages through both), \
        each as `GET /v1/collections/{id}` shows it. `rail=ach` or `rail=card` restricts the list. \
        `secCode`, `counterpartyId`, `traceNumber` and `effectiveDate…` filter ACH collections only, \
        `brand`, `last4` and `approvalCode` card collections only, and so do `status` and `type` values \
        that only one rail has: such a filter restricts the list to its rail, and combined with the other \
        rail (explicitly or through another filter) is a 400 `rail_conflict` whose `param` names it. \
        `paymentMethodId`, `externalId`, `reference`, `createdFrom`/`createdTo` and \
        `amountFrom`/`amountTo` (minor units, inclusive; a bad or inverted range is a 400 naming the \
        parameter) apply to both rails.",
    responses((status = 200, body = ListResponse<CollectionListItem>, description = "ACH and card collections, newest first"),
        (status = 400, body = ErrorBody, description = "A bad filter, or filters of different rails (`rail_conflict`); `param` names it")))]
pub async fn list(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<ListResponse<CollectionListItem>>> {
    let customer = auth.customer_id()?;
    inquire(&state, Some(customer), q.as_deref())
        .await
        .map(Json)
}

/// The inquiry behind `GET /v1/collections` for the query string `q`:
/// `customer`'s collections, or with `None` every customer's, one list
/// newest first. `None` is for the operator console only; the API always
/// scopes to the caller's customer.
pub(crate) async fn inquire(
    state: &AppState,
    customer: Option<&CustomerId>,
    q: Option<&str>,
) -> ApiResult<ListResponse<CollectionListItem>> {
    let p: CollectionListParams = parse_query(q)?;
    let page_q = PageParams {
        limit: p.limit,
        starting_after: p.starting_after.clone(),
    }
    .to_query()?;
    let rail = rail_of(&p)?;
    let amounts = amount_range(&p)?;
    let ach = rail
        .is_none_or(|r| r == Rail::Ach)
        .then(|| ach_filter(&p, amounts))
        .transpose()?;
    let card = rail
        .is_none_or(|r| r == Rail::Card)
        .then(|| card_filter(&p, amounts))
        .transpose()?;
    let mut tx = state.store.read().await?;
    let ach = match ach {
        Some(f) => Some(
            tx.list_ach_collections(customer, &f, &page_q)
                .await?
                .map(|c| CollectionListItem::Ach(Box::new(collection_view(&c)))),
        ),
        None => None,
    };
    let card = match card {
        Some(f) => Some(
            tx.list_card_collections(customer, &f, &page_q)
                .await?
                .map(|c| CollectionListItem::Card(Box::new(card_collection_view(&c)))),
        ),
        None => None,
    };
    drop(tx);
    let page = match (ach, card) {
        (Some(a), Some(c)) => Page::merge_newest_first(a, c, &page_q, CollectionListItem::id),
        (Some(only), None) | (None, Some(only)) => only,
        (None, None) => Page {
            data: Vec::new(),
            has_more: false,
        },
    };
    Ok(ListResponse::from_page(page, |c| c.id().to_owned(), |c| c))
}

fn rail_name(rail: Rail) -> &'static str {
    match rail {
        Rail::Ach => "ACH",
        Rail::Card => "card",
    }
}

/// The rail the list is restricted to so far, and what restricted it.
struct Restriction {
    rail: Rail,
    by: String,
}

/// Restrict the list to `rail` because of `param`; a 400 naming `param` if
/// something before it restricted the list to the other rail.
fn restrict(
    current: &mut Option<Restriction>,
    rail: Rail,
    param: &str,
    why: String,
) -> ApiResult<()> {
    match current {
        Some(r) if r.rail != rail => Err(ApiError::invalid(
            "rail_conflict",
            format!(
                "{why}, but {} restricts the list to {} collections",
                r.by,
                rail_name(r.rail)
            ),
            param,
        )),
        Some(_) => Ok(()),
        None => {
            *current = Some(Restriction {
                rail,
                by: param.to_owned(),
            });
            Ok(())
        }
    }
}

/// The rail of a `status` or `type` value: `Some` if only one rail has it,
/// `None` if both do, a 400 naming `param` if neither does.
fn rail_of_value(
    param: &str,
    value: &str,
    what: &str,
    ach: &[&str],
    card: &[&str],
) -> ApiResult<Option<Rail>> {
    match (ach.contains(&value), card.contains(&value)) {
        (true, true) => Ok(None),
        (true, false) => Ok(Some(Rail::Ach)),
        (false, true) => Ok(Some(Rail::Card)),
        (false, false) => Err(ApiError::invalid(
            "invalid_value",
            format!(
                "`{}` is not a collection {what}; ACH: {}; card: {}",
                inflow_core::text::clip(value, 30),
                ach.join(", "),
                card.join(", ")
            ),
            param,
        )),
    }
}

/// Which rail the request lists: `None` for both.
fn rail_of(p: &CollectionListParams) -> ApiResult<Option<Rail>> {
    let mut current = None;
    if let Some(r) = p.rail.as_deref() {
        let rail = Rail::parse("rail", r)?;
        current = Some(Restriction {
            rail,
            by: format!("rail={r}"),
        });
    }
    let one_rail_filters = [
        ("secCode", p.sec_code.is_some(), Rail::Ach),
        ("counterpartyId", p.counterparty_id.is_some(), Rail::Ach),
        ("traceNumber", p.trace_number.is_some(), Rail::Ach),
        (
            "effectiveDateFrom",
            p.effective_date_from.is_some(),
            Rail::Ach,
        ),
        ("effectiveDateTo", p.effective_date_to.is_some(), Rail::Ach),
        ("brand", p.brand.is_some(), Rail::Card),
        ("last4", p.last4.is_some(), Rail::Card),
        ("approvalCode", p.approval_code.is_some(), Rail::Card),
    ];
    for (param, given, rail) in one_rail_filters {
        if given {
            let why = format!("{param} filters {} collections only", rail_name(rail));
            restrict(&mut current, rail, param, why)?;
        }
    }
    let statuses: (Vec<_>, Vec<_>) = (
        CollectionStatus::ALL.iter().map(|s| s.as_str()).collect(),
        CardStatus::ALL.iter().map(|s| s.as_str()).collect(),
    );
    let types: (Vec<_>, Vec<_>) = (
        AchEntryType::ALL.iter().map(|s| s.as_str()).collect(),
        CardTxType::ALL.iter().map(|s| s.as_str()).collect(),
    );
    for (param, value, what, (ach, card)) in [
        ("status", &p.status, "status", statuses),
        ("type", &p.kind, "type", types),
    ] {
        let Some(value) = value.as_deref() else {
            continue;
        };
        if let Some(rail) = rail_of_value(param, value, what, &ach, &card)? {
            let why = format!("{param} `{value}` is a {} {what}", rail_name(rail));
            restrict(&mut current, rail, param, why)?;
        }
    }
    Ok(current.map(|r| r.rail))
}

fn day(field: &str, s: &Option<String>) -> ApiResult<Option<NaiveDate>> {
    s.as_deref()
        .map(|v| {
            NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| {
                ApiError::invalid(
                    "invalid_date",
                    format!("{field} must be a date like 2026-12-01"),
                    field,
                )
            })
        })
        .transpose()
}

fn payment_method(p: &CollectionListParams) -> ApiResult<Option<PaymentMethodId>> {
    Ok(p.payment_method_id
        .as_deref()
        .map(|s| PaymentMethodId::parse("paymentMethodId", s))
        .transpose()?)
}

fn ach_filter(
    p: &CollectionListParams,
    (amount_from, amount_to): (Option<i64>, Option<i64>),
) -> ApiResult<CollectionFilter> {
    Ok(CollectionFilter {
        status: p
            .status
            .as_deref()
            .map(|s| CollectionStatus::parse("status", s))
            .transpose()?,
        rail: Some(Rail::Ach.as_str().to_owned()),
        entry_type: p
            .kind
            .as_deref()
            .map(|s| AchEntryType::parse("type", s))
            .transpose()?,
        sec_code: p
            .sec_code
            .as_deref()
            .map(|s| SecCode::parse("secCode", s))
            .transpose()?,
        payment_method_id: payment_method(p)?,
        counterparty_id: p
            .counterparty_id
            .as_deref()
            .map(|s| CounterpartyId::parse("counterpartyId", s))
            .transpose()?,
        external_id: p.external_id.clone(),
        reference: p.reference.clone(),
        trace_number: p.trace_number.clone(),
        created_from: instant("createdFrom", &p.created_from)?,
        created_to: instant("createdTo", &p.created_to)?,
        effective_from: day("effectiveDateFrom", &p.effective_date_from)?,
        effective_to: day("effectiveDateTo", &p.effective_date_to)?,
        amount_from,
        amount_to,
    })
}

fn card_filter(
    p: &CollectionListParams,
    (amount_from, amount_to): (Option<i64>, Option<i64>),
) -> ApiResult<CardCollectionFilter> {
    if let Some(l) = p.last4.as_deref() {
        if l.len() != 4 || !l.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::invalid(
                "invalid_value",
                "last4 must be the last 4 digits of a card number",
                "last4",
            ));
        }
    }
    if let Some(c) = p.approval_code.as_deref() {
        if c.is_empty() || c.len() > 12 || !c.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(ApiError::invalid(
                "invalid_value",
                "approvalCode must be 1 to 12 letters or digits",
                "approvalCode",
            ));
        }
    }
    Ok(CardCollectionFilter {
        status: p
            .status
            .as_deref()
            .map(|s| CardStatus::parse("status", s))
            .transpose()?,
        tx_type: p
            .kind
            .as_deref()
            .map(|s| CardTxType::parse("type", s))
            .transpose()?,
        brand: p
            .brand
            .as_deref()
            .map(|s| CardBrand::parse("brand", s))
            .transpose()?,
        last4: p.last4.clone(),
        approval_code: p.approval_code.clone(),
        payment_method_id: payment_method(p)?,
        external_id: p.external_id.clone(),
        reference: p.reference.clone(),
        created_from: instant("createdFrom", &p.created_from)?,
        created_to: instant("createdTo", &p.created_to)?,
        amount_from,
        amount_to,
    })
}
