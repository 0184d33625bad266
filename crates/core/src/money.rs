//! Money in integer minor units.
//!
//! The API carries amounts as `{"currency":"USD","value":"250000"}`: a string
//! of minor units, so no client ever loses a cent to floating point. A
//! [`Money`] can only hold a non-negative amount in a supported currency.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::ValidationError;

/// Currencies Inflow settles in. ACH and US card acquiring are USD-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Currency {
    #[serde(rename = "USD")]
    Usd,
}

impl Currency {
    pub fn parse(field: &str, s: &str) -> Result<Self, ValidationError> {
        match s {
            "USD" => Ok(Currency::Usd),
            other => Err(ValidationError::new(
                field,
                "unsupported_currency",
                format!(
                    "currency `{}` is not supported; use USD",
                    crate::text::clip(other, 10)
                ),
            )),
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Currency::Usd => "USD",
        }
    }

    /// Number of decimal places between minor and major units.
    pub fn exponent(self) -> u32 {
        match self {
            Currency::Usd => 2,
        }
    }
}

/// A non-negative amount of money in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    currency: Currency,
    minor: i64,
}

/// Largest amount any single value may carry: a NACHA entry's 10-digit
/// amount field, $99,999,999.99.
pub const MAX_MINOR: i64 = 9_999_999_999;

impl Money {
    pub fn new(currency: Currency, minor: i64) -> Result<Self, ValidationError> {
        if minor < 0 {
            return Err(ValidationError::new(
                "amount.value",
                "invalid_amount",
                "amount must not be negative",
            ));
        }
        if minor > MAX_MINOR {
            return Err(ValidationError::new(
                "amount.value",
                "amount_too_large",
                format!("amount must be at most {MAX_MINOR} minor units"),
            ));
        }
        Ok(Self { currency, minor })
    }

    /// USD `minor` clamped into the valid range, for values validated on
    /// their way in (stored settings).
    pub fn usd_clamped(minor: i64) -> Self {
        Money {
            currency: Currency::Usd,
            minor: minor.clamp(0, MAX_MINOR),
        }
    }

    pub fn usd(minor: i64) -> Result<Self, ValidationError> {
        Self::new(Currency::Usd, minor)
    }

    /// Parse the API form: a currency code and a string of decimal digits
    /// giving minor units. `field` is the JSON path of the money object.
    pub fn parse(field: &str, currency: &str, value: &str) -> Result<Self, ValidationError> {
        let currency = Currency::parse(&format!("{field}.currency"), currency)?;
        let value_field = format!("{field}.value");
        if value.is_empty() {
            return Err(ValidationError::new(
                value_field,
                "required",
                "amount value must not be empty",
            ));
        }
        if !value.bytes().all(|b| b.is_ascii_digit()) {
            let why = if value.starts_with('-') {
                "amount must not be negative"
            } else if value.contains('.') || value.contains(',') {
                "amount is in minor units (cents) and must be a whole number, e.g. \"2500\" for $25.00"
            } else {
                "amount value must be a string of digits (minor units)"
            };
            return Err(ValidationError::new(value_field, "invalid_amount", why));
        }
        if value.len() > 1 && value.starts_with('0') {
            return Err(ValidationError::new(
                value_field,
                "invalid_amount",
                "amount value must not have leading zeros",
            ));
        }
        let minor: i64 = match value.parse() {
            Ok(v) if v <= MAX_MINOR => v,
            _ => {
                return Err(ValidationError::new(
                    value_field,
                    "amount_too_large",
                    format!("amount must be at most {MAX_MINOR} minor units"),
                ))
            }
        };
        Ok(Self { currency, minor })
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    pub fn minor(&self) -> i64 {
        self.minor
    }

    pub fn is_zero(&self) -> bool {
        self.minor == 0
    }

    /// `2500.00` for 250000 cents.
    pub fn display_value(&self) -> String {
        let exp = self.currency.exponent();
        let scale = 10i64.pow(exp);
        format!(
            "{}.{:0width$}",
            self.minor / scale,
            self.minor % scale,
            width = exp as usize
        )
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.display_value(), self.currency.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_minor_units_and_displays_major_units() {
        let m = Money::parse("amount", "USD", "250000").unwrap();
        assert_eq!(m.minor(), 250000);
        assert_eq!(m.display_value(), "2500.00");
        assert_eq!(Money::usd(5).unwrap().display_value(), "0.05");
        assert_eq!(Money::usd(0).unwrap().display_value(), "0.00");
    }

    #[test]
    fn rejects_decimals_negatives_and_oversize_amounts_naming_the_field() {
        for (value, code) in [
            ("25.00", "invalid_amount"),
            ("-100", "invalid_amount"),
            ("1e3", "invalid_amount"),
            ("", "required"),
            ("007", "invalid_amount"),
            ("10000000000", "amount_too_large"),
            ("99999999999999999999999", "amount_too_large"),
        ] {
            let err = Money::parse("amount", "USD", value).unwrap_err();
            assert_eq!(err.code, code, "{value}");
            assert_eq!(err.field, "amount.value");
        }
        let err = Money::parse("amount", "EUR", "100").unwrap_err();
        assert_eq!(err.field, "amount.currency");
    }

    proptest::proptest! {
        #[test]
        fn any_valid_amount_round_trips_through_its_string_form(v in 0i64..=MAX_MINOR) {
            let m = Money::parse("amount", "USD", &v.to_string()).unwrap();
            proptest::prop_assert_eq!(m.minor(), v);
            let display: f64 = m.display_value().parse().unwrap();
            proptest::prop_assert!((display * 100.0 - v as f64).abs() < 1.0);
        }
    }
}
