//! Transaction codes (entry positions 2-3), service class codes and the
//! debit/credit/prenote classification used by the validator and builder.

use std::fmt;

/// Which kind of account a transaction code addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountType {
    /// Demand deposit (checking), codes 2x.
    Checking,
    /// Savings, codes 3x.
    Savings,
    /// General ledger, codes 4x.
    GeneralLedger,
    /// Loan, codes 5x.
    Loan,
    /// Automated accounting advice, codes 8x.
    Advice,
}

/// A two-digit transaction code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TransactionCode(pub u8);

impl TransactionCode {
    /// Checking credit.
    pub const CHECKING_CREDIT: Self = Self(22);
    /// Checking credit prenote.
    pub const CHECKING_CREDIT_PRENOTE: Self = Self(23);
    /// Checking debit.
    pub const CHECKING_DEBIT: Self = Self(27);
    /// Checking debit prenote.
    pub const CHECKING_DEBIT_PRENOTE: Self = Self(28);
    /// Savings credit.
    pub const SAVINGS_CREDIT: Self = Self(32);
    /// Savings credit prenote.
    pub const SAVINGS_CREDIT_PRENOTE: Self = Self(33);
    /// Savings debit.
    pub const SAVINGS_DEBIT: Self = Self(37);
    /// Savings debit prenote.
    pub const SAVINGS_DEBIT_PRENOTE: Self = Self(38);

    /// Parses two ASCII digits.
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        match b {
            [a, c] if a.is_ascii_digit() && c.is_ascii_digit() => {
                Some(Self((a - b'0') * 10 + (c - b'0')))
            }
            _ => None,
        }
    }

    /// True for codes defined by the NACHA rules (including ADV 81-88).
    pub const fn is_known(self) -> bool {
        matches!(self.0, 21..=24 | 26..=29 | 31..=34 | 36..=39 | 41..=44 | 46..=49 | 51..=56 | 81..=88)
    }

    /// Account type addressed.
    pub const fn account_type(self) -> Option<AccountType> {
        match self.0 / 10 {
            2 => Some(AccountType::Checking),
            3 => Some(AccountType::Savings),
            4 => Some(AccountType::GeneralLedger),
            5 => Some(AccountType::Loan),
            8 => Some(AccountType::Advice),
            _ => None,
        }
    }

    /// Credit codes (last digit 1-4; ADV 81, 83, 85, 87).
    pub const fn is_credit(self) -> bool {
        if self.0 / 10 == 8 {
            return self.0 % 2 == 1;
        }
        matches!(self.0 % 10, 1..=4)
    }

    /// Debit codes (last digit 5-9; ADV 82, 84, 86, 88).
    pub const fn is_debit(self) -> bool {
        if self.0 / 10 == 8 {
            return self.0.is_multiple_of(2);
        }
        matches!(self.0 % 10, 5..=9)
    }

    /// Prenotification codes (x3, x8), which require a zero amount.
    pub const fn is_prenote(self) -> bool {
        self.0 / 10 != 8 && matches!(self.0 % 10, 3 | 8)
    }

    /// Zero-dollar remittance codes (x4, x9).
    pub const fn is_zero_dollar(self) -> bool {
        self.0 / 10 != 8 && matches!(self.0 % 10, 4 | 9)
    }

    /// Return / NOC codes (x1, x6).
    pub const fn is_return_or_noc(self) -> bool {
        self.0 / 10 != 8 && matches!(self.0 % 10, 1 | 6)
    }

    /// Live money-moving codes (x2, x7, and loan 55 reversal).
    pub const fn is_live(self) -> bool {
        self.0 / 10 != 8 && (matches!(self.0 % 10, 2 | 7) || self.0 == 55)
    }
}

impl fmt::Display for TransactionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}", self.0)
    }
}

impl serde::Serialize for TransactionCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.0)
    }
}

/// Batch service class code (batch header/control positions 2-4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum ServiceClass {
    /// 200: mixed debits and credits.
    Mixed,
    /// 220: credits only.
    CreditsOnly,
    /// 225: debits only.
    DebitsOnly,
    /// 280: automated accounting advices only.
    AdvOnly,
}

impl ServiceClass {
    /// The three-digit code.
    pub const fn code(self) -> u16 {
        match self {
            ServiceClass::Mixed => 200,
            ServiceClass::CreditsOnly => 220,
            ServiceClass::DebitsOnly => 225,
            ServiceClass::AdvOnly => 280,
        }
    }

    /// Looks up a numeric code.
    pub const fn from_code(c: u64) -> Option<Self> {
        match c {
            200 => Some(ServiceClass::Mixed),
            220 => Some(ServiceClass::CreditsOnly),
            225 => Some(ServiceClass::DebitsOnly),
            280 => Some(ServiceClass::AdvOnly),
            _ => None,
        }
    }

    /// Whether an entry with this transaction code may appear in the batch.
    pub const fn allows(self, tc: TransactionCode) -> bool {
        match self {
            ServiceClass::Mixed | ServiceClass::AdvOnly => true,
            ServiceClass::CreditsOnly => tc.is_credit(),
            ServiceClass::DebitsOnly => tc.is_debit(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_collection_codes() {
        assert!(TransactionCode::CHECKING_DEBIT.is_debit());
        assert!(TransactionCode::CHECKING_DEBIT.is_live());
        assert!(TransactionCode::SAVINGS_DEBIT_PRENOTE.is_prenote());
        assert!(TransactionCode::SAVINGS_DEBIT_PRENOTE.is_debit());
        assert!(TransactionCode(26).is_return_or_noc());
        assert!(TransactionCode(81).is_credit());
        assert!(TransactionCode(82).is_debit());
        assert!(!TransactionCode(25).is_known());
    }

    #[test]
    fn debits_only_service_class_rejects_credit_codes() {
        assert!(ServiceClass::DebitsOnly.allows(TransactionCode(27)));
        assert!(!ServiceClass::DebitsOnly.allows(TransactionCode(22)));
        assert!(ServiceClass::CreditsOnly.allows(TransactionCode(21)));
        assert!(ServiceClass::Mixed.allows(TransactionCode(22)));
    }
}
