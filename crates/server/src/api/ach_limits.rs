//! `achLimits` on a customer: the operator's limits on its ACH debits
//! (per entry, daily, monthly), as given in `POST`/`PATCH /v1/customers`
//! and as shown on the customer. `null` means "the operator's default"
//! (`[ach] default_*` in the configuration).

use inflow_core::model::{AchLimits, MAX_ACH_LIMIT};
use inflow_core::money::{Currency, MAX_MINOR};
use inflow_engine::view::MoneyView;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::common::MoneyInput;
use crate::error::{ApiError, ApiResult};

/// Limits on a customer's ACH debits. Each field: an amount, `null` for
/// the operator's default, or absent (on `PATCH`: unchanged).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AchLimitsInput {
    /// The largest single debit (at most 99999999.99 USD, NACHA's own maximum).
    #[serde(default, deserialize_with = "crate::http::body::double_option")]
    #[schema(value_type = Option<MoneyInput>)]
    pub per_entry_max: Option<Option<MoneyInput>>,
    /// The most the customer's debits created in one US/Eastern day may add
    /// up to (failed and cancelled ones do not count).
    #[serde(default, deserialize_with = "crate::http::body::double_option")]
    #[schema(value_type = Option<MoneyInput>)]
    pub daily_debit_max: Option<Option<MoneyInput>>,
    /// The same per US/Eastern calendar month.
    #[serde(default, deserialize_with = "crate::http::body::double_option")]
    #[schema(value_type = Option<MoneyInput>)]
    pub monthly_debit_max: Option<Option<MoneyInput>>,
}

impl AchLimitsInput {
    /// Apply to `limits`: a value sets it, `null` returns it to the
    /// operator's default, an absent field leaves it alone.
    pub fn apply(&self, limits: &mut AchLimits) -> ApiResult<()> {
        let mut next = *limits;
        let fields = [
            (
                &self.per_entry_max,
                &mut next.per_entry_max,
                "perEntryMax",
                MAX_MINOR,
            ),
            (
                &self.daily_debit_max,
                &mut next.daily_debit_max,
                "dailyDebitMax",
                MAX_ACH_LIMIT,
            ),
            (
                &self.monthly_debit_max,
                &mut next.monthly_debit_max,
                "monthlyDebitMax",
                MAX_ACH_LIMIT,
            ),
        ];
        for (input, slot, name, max) in fields {
            match input {
                None => {}
                Some(None) => *slot = None,
                Some(Some(m)) => *slot = Some(parse_limit(&format!("achLimits.{name}"), m, max)?),
            }
        }
        *limits = next;
        Ok(())
    }
}

/// A limit amount: USD, minor units as digits, at most `max`.
fn parse_limit(field: &str, m: &MoneyInput, max: i64) -> ApiResult<i64> {
    Currency::parse(&format!("{field}.currency"), &m.currency)?;
    let value_field = format!("{field}.value");
    let v = &m.value;
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) || (v.len() > 1 && v.starts_with('0'))
    {
        return Err(ApiError::invalid(
            "invalid_amount",
            "a limit must be a string of digits (minor units) without leading zeros",
            value_field,
        ));
    }
    match v.parse::<i64>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(ApiError::invalid(
            "amount_too_large",
            format!("this limit may be at most {max} minor units"),
            value_field,
        )),
    }
}

/// A customer's own debit limits; `null`: the operator's default applies.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AchLimitsView {
    pub per_entry_max: Option<MoneyView>,
    pub daily_debit_max: Option<MoneyView>,
    pub monthly_debit_max: Option<MoneyView>,
}

/// `minor` USD as the API shows money (limits may exceed one entry's maximum).
fn usd_view(minor: i64) -> MoneyView {
    MoneyView {
        currency: "USD".into(),
        value: minor.to_string(),
        exponent: 2,
        display_value: format!("{}.{:02}", minor / 100, minor % 100),
    }
}

impl From<AchLimits> for AchLimitsView {
    fn from(l: AchLimits) -> Self {
        AchLimitsView {
            per_entry_max: l.per_entry_max.map(usd_view),
            daily_debit_max: l.daily_debit_max.map(usd_view),
            monthly_debit_max: l.monthly_debit_max.map(usd_view),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(value: &str) -> MoneyInput {
        MoneyInput {
            currency: "USD".into(),
            value: value.into(),
        }
    }

    #[test]
    fn limits_are_set_reset_and_left_alone_field_by_field() {
        let mut l = AchLimits {
            per_entry_max: Some(5),
            daily_debit_max: Some(6),
            monthly_debit_max: Some(7),
        };
        let patch = AchLimitsInput {
            per_entry_max: Some(Some(input("100"))),
            daily_debit_max: Some(None),
            monthly_debit_max: None,
        };
        patch.apply(&mut l).unwrap();
        assert_eq!(
            l,
            AchLimits {
                per_entry_max: Some(100),
                daily_debit_max: None,
                monthly_debit_max: Some(7)
            }
        );
    }

    #[test]
    fn bad_limits_name_their_field() {
        let mut l = AchLimits::default();
        let cases = [
            ("perEntryMax", "10000000000", "achLimits.perEntryMax.value"),
            ("dailyDebitMax", "01", "achLimits.dailyDebitMax.value"),
            ("monthlyDebitMax", "1e3", "achLimits.monthlyDebitMax.value"),
            (
                "monthlyDebitMax",
                "1000000000000000",
                "achLimits.monthlyDebitMax.value",
            ),
        ];
        for (field, value, param) in cases {
            let v: AchLimitsInput = serde_json::from_value(
                serde_json::json!({ field: {"currency": "USD", "value": value} }),
            )
            .unwrap();
            let e = v.apply(&mut l).unwrap_err();
            assert_eq!(e.param.as_deref(), Some(param), "{field}={value}");
        }
        assert_eq!(l, AchLimits::default(), "nothing changed");
        let eur: AchLimitsInput = serde_json::from_value(
            serde_json::json!({"dailyDebitMax": {"currency": "EUR", "value": "1"}}),
        )
        .unwrap();
        let e = eur.apply(&mut l).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("achLimits.dailyDebitMax.currency"));
    }
}
