//! How the console writes values: money as `$1,250.00`, times in the
//! operator's time zone with its abbreviation, cutoffs in US/Eastern, and
//! account numbers masked to their last four digits.

use crate::console::csrf::Fields;
use crate::error::{ApiError, ApiResult};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// Minor units (cents) as dollars: `$1,250.00`, `-$3.05`.
pub fn money(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let dollars = (abs / 100).to_string();
    let mut grouped = String::with_capacity(dollars.len() + dollars.len() / 3);
    for (i, c) in dollars.chars().enumerate() {
        if i > 0 && (dollars.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}${grouped}.{:02}", abs % 100)
}

/// A money string of the API (`"125000"`, minor units) as dollars; the
/// text itself when it is not a number.
pub fn money_str(minor: &str) -> String {
    minor
        .parse::<i64>()
        .map(money)
        .unwrap_or_else(|_| minor.to_owned())
}

/// `2026-12-05 11:02 EST` in `tz`.
pub fn time(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string()
}

/// An RFC 3339 time of the API in `tz`; the text itself when unparsable.
pub fn time_str(s: &str, tz: Tz) -> String {
    DateTime::parse_from_rfc3339(s)
        .map(|t| time(t.with_timezone(&Utc), tz))
        .unwrap_or_else(|_| s.to_owned())
}

/// A cutoff time, always in US/Eastern and labelled so.
pub fn eastern(t: DateTime<Utc>) -> String {
    format!(
        "{} (US/Eastern)",
        t.with_timezone(&inflow_core::calendar::EASTERN)
            .format("%Y-%m-%d %H:%M %Z")
    )
}

/// `••••6789`: only the last four characters of an account or card number.
pub fn mask(number: &str) -> String {
    let chars: Vec<char> = number.chars().collect();
    let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
    format!("••••{tail}")
}

/// A rate (0.0–1.0) as a percentage with two decimals.
pub fn percent(rate: f64) -> String {
    format!("{:.2}%", rate * 100.0)
}

/// Amount bounds in dollars (`12.50`) as cents.
pub fn amount_bound(f: &Fields, field: &str) -> ApiResult<Option<i64>> {
    let Some(v) = f.filled(field) else {
        return Ok(None);
    };
    dollars_to_cents(v).map(Some).ok_or_else(|| {
        ApiError::invalid("invalid_amount", "amounts are dollars, e.g. 1250.00", field)
    })
}

/// `"1,250.5"` or `"$1250.50"` as 125050 cents; `None` for anything but
/// digits with at most two decimals (no sign: a console amount is never
/// negative), or a value too large.
fn dollars_to_cents(v: &str) -> Option<i64> {
    let v = v.replace([',', '$'], "");
    let (whole, cents) = v.split_once('.').unwrap_or((&v, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(cents) || cents.len() > 2 {
        return None;
    }
    let cents: i64 = format!("{cents:0<2}").parse().ok()?;
    whole
        .parse::<i64>()
        .ok()?
        .checked_mul(100)?
        .checked_add(cents)
}

/// Cents as a form field's dollar value (`125050` → `1250.50`): what
/// [`amount_bound`] reads back.
pub fn dollars_input(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, (cents % 100).abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_grouped_with_two_decimals() {
        assert_eq!(money(125_000), "$1,250.00");
        assert_eq!(money(5), "$0.05");
        assert_eq!(money(-305), "-$3.05");
        assert_eq!(money(12_345_678_901), "$123,456,789.01");
        assert_eq!(money_str("99900"), "$999.00");
    }

    #[test]
    fn numbers_are_masked_to_four_digits() {
        assert_eq!(mask("000123456789"), "••••6789");
        assert_eq!(mask("12"), "••••12");
    }

    #[test]
    fn times_carry_their_zone() {
        let t = DateTime::parse_from_rfc3339("2026-12-05T16:15:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(time(t, chrono_tz::America::Chicago), "2026-12-05 10:15 CST");
        assert_eq!(eastern(t), "2026-12-05 11:15 EST (US/Eastern)");
    }

    #[test]
    fn dollars_become_cents_and_signs_are_refused() {
        assert_eq!(dollars_to_cents("1,250.5"), Some(125_050));
        assert_eq!(dollars_to_cents("$7"), Some(700));
        assert_eq!(dollars_to_cents("0.05"), Some(5));
        for bad in [
            "-5.50",
            "5.-5",
            "+5",
            "1.234",
            ".5",
            "ten",
            "",
            "99999999999999999999",
        ] {
            assert_eq!(dollars_to_cents(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_dollar_field_reads_back_as_the_same_cents() {
        assert_eq!(dollars_input(125_050), "1250.50");
        assert_eq!(dollars_to_cents(&dollars_input(7)), Some(7));
    }
}
