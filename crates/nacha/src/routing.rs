//! ABA routing numbers: check-digit arithmetic (weights 3, 7, 1) and the
//! [`RoutingNumber`] newtype that can only hold a number whose check digit is
//! correct.

use std::fmt;

/// Error returned when a routing number cannot be constructed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoutingError {
    /// Not exactly nine ASCII digits.
    #[error("routing number must be 9 digits, found {0:?}")]
    Format(String),
    /// The ninth digit does not match the computed check digit.
    #[error("routing number {number} has check digit {found}, computed {computed}")]
    CheckDigit {
        /// The number as given.
        number: String,
        /// Ninth digit found.
        found: u8,
        /// Check digit computed from the first eight digits.
        computed: u8,
    },
    /// All zeros.
    #[error("routing number 000000000 is not valid")]
    Zero,
}

/// Computes the ABA check digit for the first eight digits of a routing
/// number. Returns `None` if `first8` is not eight ASCII digits.
pub fn check_digit(first8: &[u8]) -> Option<u8> {
    if first8.len() != 8 || !first8.iter().all(u8::is_ascii_digit) {
        return None;
    }
    const W: [u32; 8] = [3, 7, 1, 3, 7, 1, 3, 7];
    let sum: u32 = first8
        .iter()
        .zip(W)
        .map(|(&b, w)| u32::from(b - b'0') * w)
        .sum();
    Some(((10 - sum % 10) % 10) as u8)
}

/// A nine-digit ABA routing transit number with a verified check digit.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoutingNumber([u8; 9]);

impl RoutingNumber {
    /// Parses and checks a nine-digit routing number.
    pub fn parse(s: &str) -> Result<Self, RoutingError> {
        Self::from_bytes(s.as_bytes())
    }

    /// Like [`RoutingNumber::parse`] on raw bytes.
    pub fn from_bytes(b: &[u8]) -> Result<Self, RoutingError> {
        if b.len() != 9 || !b.iter().all(u8::is_ascii_digit) {
            return Err(RoutingError::Format(
                String::from_utf8_lossy(b).into_owned(),
            ));
        }
        if b.iter().all(|&c| c == b'0') {
            return Err(RoutingError::Zero);
        }
        let computed = check_digit(&b[..8]).unwrap_or(0);
        let found = b[8] - b'0';
        if computed != found {
            return Err(RoutingError::CheckDigit {
                number: String::from_utf8_lossy(b).into_owned(),
                found,
                computed,
            });
        }
        let mut a = [0u8; 9];
        a.copy_from_slice(b);
        Ok(RoutingNumber(a))
    }

    /// Builds a routing number from an 8-digit DFI identification by
    /// appending the computed check digit.
    pub fn from_dfi(first8: &[u8]) -> Result<Self, RoutingError> {
        let cd = check_digit(first8)
            .ok_or_else(|| RoutingError::Format(String::from_utf8_lossy(first8).into_owned()))?;
        let mut a = [0u8; 9];
        a[..8].copy_from_slice(first8);
        a[8] = b'0' + cd;
        Self::from_bytes(&a)
    }

    /// All nine digits.
    pub fn as_bytes(&self) -> &[u8; 9] {
        &self.0
    }

    /// All nine digits as text.
    pub fn as_str(&self) -> &str {
        // Always ASCII digits by construction.
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    /// The first eight digits (the DFI identification used in entries,
    /// batch headers and trace numbers).
    pub fn dfi(&self) -> &[u8] {
        &self.0[..8]
    }

    /// The eight-digit DFI identification as a number (entry-hash input).
    pub fn dfi_number(&self) -> u64 {
        crate::field::digits(self.dfi()).unwrap_or(0)
    }

    /// The ninth (check) digit.
    pub fn check_digit(&self) -> u8 {
        self.0[8] - b'0'
    }
}

impl fmt::Display for RoutingNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for RoutingNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RoutingNumber({})", self.as_str())
    }
}

impl std::str::FromStr for RoutingNumber {
    type Err = RoutingError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for RoutingNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

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
            assert!(RoutingNumber::parse(r).is_ok(), "{r}");
        }
    }

    #[test]
    fn rejects_routing_number_whose_check_digit_does_not_match() {
        let err = RoutingNumber::parse("121042883").unwrap_err();
        assert_eq!(
            err,
            RoutingError::CheckDigit {
                number: "121042883".into(),
                found: 3,
                computed: 2
            }
        );
    }

    #[test]
    fn rejects_all_zero_and_malformed_numbers() {
        assert_eq!(RoutingNumber::parse("000000000"), Err(RoutingError::Zero));
        assert!(matches!(
            RoutingNumber::parse("12104288"),
            Err(RoutingError::Format(_))
        ));
        assert!(matches!(
            RoutingNumber::parse("12104288X"),
            Err(RoutingError::Format(_))
        ));
    }

    #[test]
    fn from_dfi_appends_computed_check_digit() {
        assert_eq!(
            RoutingNumber::from_dfi(b"23138010").unwrap().as_str(),
            "231380104"
        );
    }
}
