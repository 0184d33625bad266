//! Code tables: transaction codes, service classes, SEC codes, return
//! reason codes and notification-of-change codes.

pub mod change_code;
pub mod corrected_data;
pub mod reserved;
pub mod return_code;
pub mod sec;
pub mod transaction_code;

pub use change_code::{ChangeCode, CorrectedField};
pub use corrected_data::{CorrectedData, CorrectedDataError, Correction};
pub use reserved::ReservedDescription;
pub use return_code::{ReturnCategory, ReturnCode, ReturnWindow};
pub use sec::SecCode;
pub use transaction_code::{AccountType, ServiceClass, TransactionCode};
