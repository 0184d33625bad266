//! Company/batch header record (type `5`).

use super::layout::batch_header as L;
use super::{record_wrapper, RawRecord};
use crate::codes::{SecCode, ServiceClass};

/// The batch header record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BatchHeader(pub(crate) RawRecord);
record_wrapper!(BatchHeader);

impl BatchHeader {
    /// Numeric service class code (None if not digits).
    pub fn service_class_code(&self) -> Option<u64> {
        self.0.num(L::SERVICE_CLASS_CODE.span)
    }
    /// Service class, if it is one of 200/220/225/280.
    pub fn service_class(&self) -> Option<ServiceClass> {
        self.service_class_code().and_then(ServiceClass::from_code)
    }
    /// SEC code.
    pub fn sec_code(&self) -> SecCode {
        SecCode::from_bytes(self.0.field(L::SEC_CODE.span))
    }
    /// Company name (for IAT: the IAT indicator field).
    pub fn company_name(&self) -> String {
        self.0.text(L::COMPANY_NAME.span)
    }
    /// Company discretionary data.
    pub fn company_discretionary_data(&self) -> String {
        self.0.text(L::COMPANY_DISCRETIONARY_DATA.span)
    }
    /// Company identification (for IAT: originator identification).
    pub fn company_identification(&self) -> String {
        self.0.text(L::COMPANY_IDENTIFICATION.span)
    }
    /// Company entry description.
    pub fn company_entry_description(&self) -> String {
        self.0.text(L::COMPANY_ENTRY_DESCRIPTION.span)
    }
    /// Company descriptive date.
    pub fn company_descriptive_date(&self) -> String {
        self.0.text(L::COMPANY_DESCRIPTIVE_DATE.span)
    }
    /// Effective entry date `YYMMDD`.
    pub fn effective_entry_date(&self) -> String {
        self.0.text(L::EFFECTIVE_ENTRY_DATE.span)
    }
    /// Settlement date (Julian day, blank on originated files).
    pub fn settlement_date(&self) -> String {
        self.0.text(L::SETTLEMENT_DATE.span)
    }
    /// Originator status code byte.
    pub fn originator_status_code(&self) -> u8 {
        self.0.bytes()[78]
    }
    /// ODFI identification (8 digits).
    pub fn odfi_identification(&self) -> &[u8] {
        self.0.field(L::ODFI_IDENTIFICATION.span)
    }
    /// Batch number.
    pub fn batch_number(&self) -> Option<u64> {
        self.0.num(L::BATCH_NUMBER.span)
    }
    /// True for IAT batch headers (SEC `IAT`, or an IAT NOC batch).
    pub fn is_iat(&self) -> bool {
        self.sec_code() == SecCode::Iat || self.0.field(L::COMPANY_NAME.span).starts_with(b"IATCOR")
    }
}
