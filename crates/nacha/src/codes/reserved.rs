//! Company entry descriptions NACHA reserves for particular kinds of entry
//! (a reversal, a return fee, a reinitiated entry, a reclamation, an
//! automated enrollment, a non-settled entry). An ordinary forward entry
//! must not use them; [`SecCode::requires_individual_name`] lists the SEC
//! codes whose entries must name the receiver.

use super::SecCode;
use std::fmt;

/// A reserved company entry description.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReservedDescription {
    /// `REVERSAL`: reverses an erroneous entry or file.
    Reversal,
    /// `RETURN FEE`: a fee debited for a returned entry.
    ReturnFee,
    /// `RETRY PYMT`: a debit reinitiated after an R01/R09 return.
    RetryPayment,
    /// `RECLAIM`: a reclamation debit of a benefit payment.
    Reclaim,
    /// `AUTOENROLL`: an automated enrollment entry (SEC code ENR).
    AutoEnroll,
    /// `NONSETTLED`: an entry correcting one that did not settle.
    NonSettled,
}

impl ReservedDescription {
    /// Every reserved description.
    pub const ALL: [ReservedDescription; 6] = [
        Self::Reversal,
        Self::ReturnFee,
        Self::RetryPayment,
        Self::Reclaim,
        Self::AutoEnroll,
        Self::NonSettled,
    ];

    /// The description as written in the batch header.
    pub const fn text(self) -> &'static str {
        match self {
            Self::Reversal => "REVERSAL",
            Self::ReturnFee => "RETURN FEE",
            Self::RetryPayment => "RETRY PYMT",
            Self::Reclaim => "RECLAIM",
            Self::AutoEnroll => "AUTOENROLL",
            Self::NonSettled => "NONSETTLED",
        }
    }

    /// The reserved description `field` holds (trimmed, any case), if any.
    pub fn of(field: &[u8]) -> Option<Self> {
        let t = field.trim_ascii();
        Self::ALL
            .into_iter()
            .find(|r| t.eq_ignore_ascii_case(r.text().as_bytes()))
    }

    /// True for descriptions whose entries are always debits to the
    /// receiver (return fees, reinitiated debits, reclamations).
    pub const fn debits_only(self) -> bool {
        matches!(self, Self::ReturnFee | Self::RetryPayment | Self::Reclaim)
    }
}

impl fmt::Display for ReservedDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

impl SecCode {
    /// SEC codes whose entries must carry the receiver's (individual or
    /// receiving company) name, not all zeros or spaces — the list moov-io/ach
    /// checks: ARC, BOC, CIE, DNE, ENR, MTE, POP, POS, PPD, RCK, SHR, TEL, WEB.
    pub const fn requires_individual_name(self) -> bool {
        matches!(
            self,
            SecCode::Arc
                | SecCode::Boc
                | SecCode::Cie
                | SecCode::Dne
                | SecCode::Enr
                | SecCode::Mte
                | SecCode::Pop
                | SecCode::Pos
                | SecCode::Ppd
                | SecCode::Rck
                | SecCode::Shr
                | SecCode::Tel
                | SecCode::Web
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_descriptions_match_trimmed_in_any_case() {
        assert_eq!(
            ReservedDescription::of(b"REVERSAL  "),
            Some(ReservedDescription::Reversal)
        );
        assert_eq!(
            ReservedDescription::of(b"return fee"),
            Some(ReservedDescription::ReturnFee)
        );
        assert_eq!(ReservedDescription::of(b"PAYMENT   "), None);
        assert_eq!(ReservedDescription::of(b"REVERSALS "), None);
    }

    #[test]
    fn consumer_and_point_of_sale_codes_require_a_receiver_name() {
        assert!(SecCode::Ppd.requires_individual_name());
        assert!(SecCode::Shr.requires_individual_name());
        assert!(!SecCode::Ccd.requires_individual_name());
        assert!(!SecCode::Iat.requires_individual_name());
    }
}
