//! Card numbers (Luhn, brand by IIN prefix, masked in `Debug`/`Display`),
//! security codes (never printed) and expiry dates.

use std::fmt;

use chrono::{Datelike, NaiveDate};

use crate::bank::string_enum;
use crate::ValidationError;

string_enum!(
/// The card network, detected from the number's IIN prefix.
CardBrand, "card brand" {
    Visa => "visa", Mastercard => "mastercard", Amex => "amex",
    Discover => "discover", Diners => "diners", Jcb => "jcb",
});

impl CardBrand {
    /// Detect the brand from the leading digits (longest prefixes first).
    pub fn detect(digits: &str) -> Option<CardBrand> {
        let prefix = |n: usize| -> Option<u32> { digits.get(..n).and_then(|p| p.parse().ok()) };
        let in_range =
            |n: usize, lo: u32, hi: u32| prefix(n).is_some_and(|p| (lo..=hi).contains(&p));
        if in_range(6, 622_126, 622_925)
            || in_range(4, 6011, 6011)
            || in_range(3, 644, 649)
            || in_range(2, 65, 65)
        {
            Some(CardBrand::Discover)
        } else if in_range(4, 3528, 3589) {
            Some(CardBrand::Jcb)
        } else if in_range(4, 2221, 2720) || in_range(2, 51, 55) {
            Some(CardBrand::Mastercard)
        } else if in_range(2, 34, 34) || in_range(2, 37, 37) {
            Some(CardBrand::Amex)
        } else if in_range(3, 300, 305) || in_range(2, 36, 36) || in_range(2, 38, 39) {
            Some(CardBrand::Diners)
        } else if digits.starts_with('4') {
            Some(CardBrand::Visa)
        } else {
            None
        }
    }

    /// The number lengths the brand issues.
    pub fn valid_length(self, len: usize) -> bool {
        match self {
            CardBrand::Visa => matches!(len, 13 | 16 | 19),
            CardBrand::Mastercard => len == 16,
            CardBrand::Amex => len == 15,
            CardBrand::Discover | CardBrand::Jcb => (16..=19).contains(&len),
            CardBrand::Diners => (14..=19).contains(&len),
        }
    }

    /// Length of the card security code (Amex CID: 4).
    pub fn cvc_length(self) -> usize {
        if self == CardBrand::Amex {
            4
        } else {
            3
        }
    }
}

/// The Luhn (mod 10) check over a string of ASCII digits.
pub fn luhn_valid(digits: &str) -> bool {
    let mut sum = 0u32;
    for (i, b) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum.is_multiple_of(10)
}

/// A primary account number that passed Luhn and brand checks. Prints as
/// `visa ****4242`; the digits leave only through [`CardNumber::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct CardNumber {
    digits: String,
    brand: CardBrand,
}

impl CardNumber {
    /// Parse a number given by a payer; spaces and hyphens are ignored.
    pub fn parse(field: &str, s: &str) -> Result<Self, ValidationError> {
        let digits: String = s.chars().filter(|c| *c != ' ' && *c != '-').collect();
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ValidationError::new(
                field,
                "invalid_card_number",
                "the card number must contain only digits",
            ));
        }
        if !(12..=19).contains(&digits.len()) {
            return Err(ValidationError::new(
                field,
                "invalid_card_number",
                "a card number has 12 to 19 digits",
            ));
        }
        if !luhn_valid(&digits) {
            return Err(ValidationError::new(
                field,
                "invalid_card_number",
                "the card number fails its check digit (Luhn)",
            ));
        }
        let brand = CardBrand::detect(&digits).ok_or_else(|| {
            ValidationError::new(field, "unsupported_card_brand", "the card brand is not accepted: Visa, Mastercard, American Express, Discover, Diners Club or JCB")
        })?;
        if !brand.valid_length(digits.len()) {
            return Err(ValidationError::new(
                field,
                "invalid_card_number",
                format!("a {brand} card number cannot have {} digits", digits.len()),
            ));
        }
        Ok(Self { digits, brand })
    }

    pub fn brand(&self) -> CardBrand {
        self.brand
    }

    pub fn last4(&self) -> String {
        self.digits[self.digits.len() - 4..].to_owned()
    }

    /// The full number: only to seal it or hand it to the processor.
    pub fn expose(&self) -> &str {
        &self.digits
    }
}

impl fmt::Debug for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CardNumber({} ****{})", self.brand, self.last4())
    }
}

impl fmt::Display for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ****{}", self.brand, self.last4())
    }
}

/// A card security code (CVC/CVV/CID): never stored, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Cvc(String);

impl Cvc {
    pub fn parse(field: &str, s: &str, brand: CardBrand) -> Result<Self, ValidationError> {
        if s.len() != brand.cvc_length() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ValidationError::new(
                field,
                "invalid_cvc",
                format!("a {brand} security code has {} digits", brand.cvc_length()),
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Cvc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cvc(***)")
    }
}

/// A card's expiry: valid through the last day of its month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    pub month: u32,
    pub year: i32,
}

impl Expiry {
    /// The most years ahead an expiry may be.
    pub const MAX_YEARS_AHEAD: i32 = 20;

    /// Check a month (1–12) and a four-digit year against `today`.
    pub fn parse(month: u32, year: i32, today: NaiveDate) -> Result<Self, ValidationError> {
        if !(1..=12).contains(&month) {
            return Err(ValidationError::new(
                "expMonth",
                "invalid_expiry",
                "expMonth must be 1 to 12",
            ));
        }
        if !(2000..=9999).contains(&year) {
            return Err(ValidationError::new(
                "expYear",
                "invalid_expiry",
                "expYear must have four digits, like 2030",
            ));
        }
        let e = Self { month, year };
        if e.expired_on(today) {
            return Err(ValidationError::new(
                "expYear",
                "card_expired",
                format!("the card expired at the end of {month:02}/{year}"),
            ));
        }
        if year > today.year() + Self::MAX_YEARS_AHEAD {
            return Err(ValidationError::new(
                "expYear",
                "invalid_expiry",
                format!("expYear is more than {} years ahead", Self::MAX_YEARS_AHEAD),
            ));
        }
        Ok(e)
    }

    /// Has the card expired by `day`?
    pub fn expired_on(&self, day: NaiveDate) -> bool {
        (day.year(), day.month()) > (self.year, self.month)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_accepts_test_cards_and_refuses_a_changed_digit() {
        for n in [
            "4242424242424242",
            "4111111111111111",
            "378282246310005",
            "6011111111111117",
            "30569309025904",
            "3530111333300000",
            "2223003122003222",
        ] {
            assert!(luhn_valid(n), "{n}");
        }
        assert!(!luhn_valid("4242424242424241"));
        let e = CardNumber::parse("number", "4242424242424241").unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.code),
            ("number", "invalid_card_number")
        );
    }

    #[test]
    fn brands_are_detected_by_prefix() {
        for (n, b) in [
            ("4242424242424242", CardBrand::Visa),
            ("4222222222222", CardBrand::Visa),
            ("5555555555554444", CardBrand::Mastercard),
            ("2223003122003222", CardBrand::Mastercard),
            ("378282246310005", CardBrand::Amex),
            ("371449635398431", CardBrand::Amex),
            ("6011111111111117", CardBrand::Discover),
            ("6011000990139424", CardBrand::Discover),
            ("30569309025904", CardBrand::Diners),
            ("3530111333300000", CardBrand::Jcb),
        ] {
            assert_eq!(CardNumber::parse("n", n).unwrap().brand(), b, "{n}");
        }
        assert_eq!(
            CardBrand::detect("2720990000000000"),
            Some(CardBrand::Mastercard)
        );
        assert_eq!(CardBrand::detect("2721000000000000"), None);
        assert_eq!(
            CardBrand::detect("6221260000000000"),
            Some(CardBrand::Discover)
        );
        assert_eq!(CardBrand::detect("9999999999999995"), None);
    }

    #[test]
    fn wrong_lengths_and_letters_are_refused() {
        assert!(CardNumber::parse("n", "42424242424242a2").is_err());
        assert!(CardNumber::parse("n", "").is_err());
        // A Luhn-valid 15-digit Visa.
        assert!(CardNumber::parse("n", "424242424242428").is_err());
        assert_eq!(
            CardNumber::parse("n", "4242 4242-4242 4242")
                .unwrap()
                .expose(),
            "4242424242424242"
        );
    }

    #[test]
    fn the_number_is_masked_when_printed() {
        let n = CardNumber::parse("n", "4242424242424242").unwrap();
        assert_eq!(format!("{n}"), "visa ****4242");
        assert!(!format!("{n:?}").contains("424242424242"));
        let c = Cvc::parse("cvc", "123", n.brand()).unwrap();
        assert_eq!(format!("{c:?}"), "Cvc(***)");
        assert!(Cvc::parse("cvc", "123", CardBrand::Amex).is_err());
        assert!(Cvc::parse("cvc", "12a", CardBrand::Visa).is_err());
    }

    #[test]
    fn expiry_runs_through_the_end_of_its_month() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        assert!(Expiry::parse(3, 2026, d(2026, 3, 31)).is_ok());
        assert_eq!(
            Expiry::parse(3, 2026, d(2026, 4, 1)).unwrap_err().code,
            "card_expired"
        );
        assert_eq!(
            Expiry::parse(13, 2030, d(2026, 4, 1)).unwrap_err().field,
            "expMonth"
        );
        assert_eq!(
            Expiry::parse(0, 2030, d(2026, 4, 1)).unwrap_err().field,
            "expMonth"
        );
        assert!(Expiry::parse(1, 2047, d(2026, 4, 1)).is_err());
        assert!(Expiry::parse(1, 26, d(2026, 4, 1)).is_err());
    }
}
