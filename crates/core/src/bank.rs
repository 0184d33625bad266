//! US bank account values: ABA routing numbers, account numbers, account and
//! holder types. Each validates on construction.

use std::fmt;

use crate::ValidationError;

/// A nine-digit ABA routing transit number with a valid check digit.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RoutingNumber([u8; 9]);

/// The ABA check digit (9th digit) for the first eight digits.
pub fn aba_check_digit(first8: &[u8; 8]) -> u8 {
    const WEIGHTS: [u32; 8] = [3, 7, 1, 3, 7, 1, 3, 7];
    let sum: u32 = first8
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(*d) * w)
        .sum();
    ((10 - sum % 10) % 10) as u8
}

impl RoutingNumber {
    pub fn parse(field: &str, s: &str) -> Result<Self, ValidationError> {
        let bytes = s.as_bytes();
        if bytes.len() != 9 || !bytes.iter().all(u8::is_ascii_digit) {
            return Err(ValidationError::new(
                field,
                "invalid_routing_number",
                "routing number must be exactly 9 digits",
            ));
        }
        let mut digits = [0u8; 9];
        for (d, b) in digits.iter_mut().zip(bytes) {
            *d = b - b'0';
        }
        let prefix = digits[0] * 10 + digits[1];
        let known_prefix = matches!(prefix, 0..=12 | 21..=32 | 61..=72 | 80);
        if !known_prefix || digits.iter().all(|d| *d == 0) {
            return Err(ValidationError::new(
                field,
                "invalid_routing_number",
                format!("routing number {s} does not start with a Federal Reserve routing symbol (00-12, 21-32, 61-72, 80)"),
            ));
        }
        let first8: [u8; 8] = [
            digits[0], digits[1], digits[2], digits[3], digits[4], digits[5], digits[6], digits[7],
        ];
        let expected = aba_check_digit(&first8);
        if digits[8] != expected {
            return Err(ValidationError::new(
                field,
                "invalid_routing_number",
                format!("routing number {s} fails the ABA check digit: last digit is {}, expected {expected}", digits[8]),
            ));
        }
        Ok(Self(digits))
    }

    pub fn as_string(&self) -> String {
        self.0.iter().map(|d| char::from(b'0' + d)).collect()
    }
}

impl fmt::Display for RoutingNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_string())
    }
}

impl fmt::Debug for RoutingNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RoutingNumber({self})")
    }
}

/// A DFI account number: 4 to 17 letters, digits or hyphens (NACHA's field is
/// 17 characters wide). Never printed in full by `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct AccountNumber(String);

impl AccountNumber {
    pub fn parse(field: &str, s: &str) -> Result<Self, ValidationError> {
        let len = s.chars().count();
        if !(4..=17).contains(&len) {
            return Err(ValidationError::new(
                field,
                "invalid_account_number",
                format!("account number must be 4 to 17 characters, got {len}"),
            ));
        }
        if !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(ValidationError::new(
                field,
                "invalid_account_number",
                "account number may contain only digits, letters and hyphens",
            ));
        }
        Ok(Self(s.to_ascii_uppercase()))
    }

    /// The full number. Only for encryption at rest and for writing NACHA files.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn last4(&self) -> String {
        let n = self.0.len();
        self.0[n.saturating_sub(4)..].to_owned()
    }

    /// `****6789`
    pub fn masked(&self) -> String {
        format!("****{}", self.last4())
    }
}

impl fmt::Debug for AccountNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountNumber({})", self.masked())
    }
}

impl fmt::Display for AccountNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

macro_rules! string_enum {
    ($(#[doc = $doc:literal])* $name:ident, $what:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }

        // Written by hand rather than derived: the derive does not see the
        // `serde(rename)` of a macro-expanded literal and published the
        // Rust variant names instead of the values on the wire.
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                let doc: &[&str] = &[$($doc),*];
                let description = doc.iter().map(|line| line.trim()).collect::<Vec<_>>().join("\n");
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .description((!description.is_empty()).then_some(description))
                    .enum_values(Some([$($text),+]))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(field: &str, s: &str) -> Result<Self, $crate::ValidationError> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err($crate::ValidationError::new(
                        field,
                        "invalid_value",
                        format!(
                            "`{}` is not a valid {}; expected one of: {}",
                            crate::text::clip(other, 30),
                            $what,
                            [$($text),+].join(", ")
                        ),
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use string_enum;

string_enum!(
    /// Checking (DDA) or savings; decides the NACHA transaction code family.
    AccountType, "account type" { Checking => "checking", Savings => "savings" });
string_enum!(
    /// Whether the account holder is a consumer or a business; decides the
    /// default SEC code (consumer: PPD/WEB/TEL, business: CCD).
    HolderType, "holder type" { Individual => "individual", Business => "business" });

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_known_valid_routing_numbers() {
        for r in [
            "121042882",
            "011000015",
            "021000021",
            "231380104",
            "091000019",
            "011401533",
        ] {
            assert_eq!(
                RoutingNumber::parse("routingNumber", r)
                    .unwrap()
                    .to_string(),
                r
            );
        }
    }

    #[test]
    fn rejects_a_routing_number_whose_check_digit_does_not_match() {
        let err = RoutingNumber::parse("routingNumber", "121042883").unwrap_err();
        assert_eq!(err.code, "invalid_routing_number");
        assert!(err.message.contains("expected 2"), "{}", err.message);
    }

    #[test]
    fn rejects_malformed_routing_numbers() {
        for r in [
            "",
            "12104288",
            "1210428822",
            "12104288a",
            "000000000",
            "991042880",
        ] {
            assert!(RoutingNumber::parse("routingNumber", r).is_err(), "{r}");
        }
    }

    #[test]
    fn account_numbers_are_length_checked_and_never_printed_in_full() {
        assert!(AccountNumber::parse("accountNumber", "123").is_err());
        assert!(AccountNumber::parse("accountNumber", "123456789012345678").is_err());
        assert!(AccountNumber::parse("accountNumber", "1234 5678").is_err());
        let a = AccountNumber::parse("accountNumber", "000123456789").unwrap();
        assert_eq!(a.masked(), "****6789");
        assert_eq!(format!("{a:?}"), "AccountNumber(****6789)");
        assert_eq!(format!("{a}"), "****6789");
        assert!(!format!("{a:?}").contains("123456789"));
    }

    #[test]
    fn string_enums_name_the_allowed_values() {
        let err = AccountType::parse("accountType", "money_market").unwrap_err();
        assert!(err.message.contains("checking, savings"));
        assert_eq!(
            HolderType::parse("holderType", "business").unwrap(),
            HolderType::Business
        );
    }

    proptest::proptest! {
        #[test]
        fn every_eight_digit_prefix_with_its_computed_check_digit_is_accepted(n in 10_000_000u32..13_000_000u32) {
            let s = format!("{n:08}");
            let mut first8 = [0u8; 8];
            for (d, b) in first8.iter_mut().zip(s.bytes()) { *d = b - b'0'; }
            let full = format!("{s}{}", aba_check_digit(&first8));
            proptest::prop_assert!(RoutingNumber::parse("r", &full).is_ok());
        }
    }
}
