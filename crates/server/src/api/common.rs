//! Shapes shared by every resource: money, list pages, list parameters, timestamps.

use chrono::{DateTime, SecondsFormat, Utc};
use inflow_core::money::Money;
use inflow_store::{ListQuery, Page};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult};

/// An amount in minor units, as clients send it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoneyInput {
    /// ISO 4217 code; only `USD` today.
    #[schema(example = "USD")]
    pub currency: String,
    /// Minor units (cents) as a string of digits.
    #[schema(example = "250000")]
    pub value: String,
}

impl MoneyInput {
    pub fn parse(&self, field: &str) -> ApiResult<Money> {
        Ok(Money::parse(field, &self.currency, &self.value)?)
    }
}

/// An amount as Inflow returns it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MoneyOutput {
    pub currency: String,
    pub value: String,
    pub exponent: u32,
    /// Major units with the currency's decimals, for display only.
    #[schema(example = "2500.00")]
    pub display_value: String,
}

impl From<Money> for MoneyOutput {
    fn from(m: Money) -> Self {
        Self {
            currency: m.currency().code().to_owned(),
            value: m.minor().to_string(),
            exponent: m.currency().exponent(),
            display_value: m.display_value(),
        }
    }
}

/// `?limit=&startingAfter=`
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// 1 to 200, default 50.
    pub limit: Option<u32>,
    /// The id of the last object on the previous page.
    pub starting_after: Option<String>,
}

impl PageParams {
    pub fn to_query(&self) -> ApiResult<ListQuery> {
        let limit = self.limit.unwrap_or(ListQuery::DEFAULT_LIMIT);
        if !(1..=ListQuery::MAX_LIMIT).contains(&limit) {
            return Err(ApiError::invalid(
                "invalid_limit",
                format!("limit must be between 1 and {}", ListQuery::MAX_LIMIT),
                "limit",
            ));
        }
        let starting_after = match &self.starting_after {
            Some(c) if !is_cursor(c) => {
                return Err(ApiError::invalid(
                    "invalid_cursor",
                    "startingAfter must be the id of the last object of the previous page",
                    "startingAfter",
                ))
            }
            Some(c) => c.clone(),
            None => String::new(),
        };
        Ok(ListQuery {
            limit,
            starting_after,
        })
    }
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListResponse<T> {
    pub data: Vec<T>,
    pub has_more: bool,
    /// Pass as `startingAfter` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T> ListResponse<T> {
    pub fn from_page<U>(
        page: Page<U>,
        id_of: impl Fn(&U) -> String,
        render: impl FnMut(U) -> T,
    ) -> Self {
        let next_cursor = if page.has_more {
            page.data.last().map(&id_of)
        } else {
            None
        };
        Self {
            has_more: page.has_more,
            next_cursor,
            data: page.data.into_iter().map(render).collect(),
        }
    }
}

/// An optional RFC 3339 query parameter (`createdFrom` and friends).
pub fn instant(field: &str, s: &Option<String>) -> ApiResult<Option<DateTime<Utc>>> {
    s.as_deref()
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|d| d.with_timezone(&Utc))
                .map_err(|_| {
                    ApiError::invalid(
                        "invalid_date",
                        format!("{field} must be an RFC 3339 time"),
                        field,
                    )
                })
        })
        .transpose()
}

/// RFC 3339 with milliseconds, UTC.
pub fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn to_json<T: Serialize>(v: &T) -> ApiResult<serde_json::Value> {
    serde_json::to_value(v).map_err(|_| ApiError::internal())
}

/// How a refused `(customer, externalId)` unique constraint is reported.
pub fn external_id_conflict(what: &'static str) -> impl Fn(inflow_store::StoreError) -> ApiError {
    move |e| {
        if e.is_conflict() {
            ApiError::conflict(
                "external_id_taken",
                format!("another {what} of this customer already has this externalId"),
            )
            .with_param("externalId")
        } else {
            e.into()
        }
    }
}

/// What `startingAfter` may be: an object id as the API shows it (a
/// lowercase prefix, `_`, then up to 32 lowercase hex digits). Published in
/// the OpenAPI document as the parameter's pattern.
pub const CURSOR_PATTERN: &str = "^[a-z]{1,8}_[0-9a-f]{1,32}$";

/// Whether `cursor` matches [`CURSOR_PATTERN`].
pub fn is_cursor(cursor: &str) -> bool {
    let Some((prefix, body)) = cursor.split_once('_') else {
        return false;
    };
    (1..=8).contains(&prefix.len())
        && prefix.bytes().all(|b| b.is_ascii_lowercase())
        && (1..=32).contains(&body.len())
        && body
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod cursor_tests {
    use super::is_cursor;

    #[test]
    fn a_cursor_is_an_object_id_and_nothing_else() {
        for ok in ["cus_0192f1c4a1b27c3d8e9f00112233aabb", "len_42", "fil_0a"] {
            assert!(is_cursor(ok), "{ok}");
        }
        for bad in [
            "garbage",
            "",
            "cus_",
            "_00",
            "CUS_00",
            "cus_xyz",
            "cus_00_00",
            "abcdefghi_00",
        ] {
            assert!(!is_cursor(bad), "{bad}");
        }
    }
}
