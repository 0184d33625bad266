//! Settings the ACH workers need, independent of how the server reads them.

use inflow_core::bank::RoutingNumber;
use inflow_core::calendar::{BankingCalendar, CutoffSchedule};
use inflow_core::model::AchLimits;
use std::path::PathBuf;

/// The originating bank (ODFI) and where files go.
#[derive(Debug, Clone)]
pub struct AchConfig {
    /// File header "immediate destination": the ODFI's or the ACH operator's routing number.
    pub immediate_destination: RoutingNumber,
    pub immediate_destination_name: String,
    /// File header "immediate origin": 10 characters assigned by the ODFI (often `1` + EIN, or ` ` + routing).
    pub immediate_origin: String,
    pub immediate_origin_name: String,
    /// The ODFI's routing number: its first 8 digits start every trace number and batch header.
    pub odfi_routing: RoutingNumber,
    /// Outbound NACHA files are written here (`<data_dir>/ach/outbound`).
    pub outbound_dir: PathBuf,
    /// Return and NOC files are picked up from here (`<data_dir>/ach/inbound`).
    pub inbound_dir: PathBuf,
    /// Banking days after the effective date before a debit's funds are available.
    pub good_funds_banking_days: u32,
    /// Banking days after a prenote's effective date before it counts as validated.
    pub prenote_wait_banking_days: u32,
    pub calendar: BankingCalendar,
    pub cutoffs: CutoffSchedule,
    /// How far ahead an effective date may be, in calendar days.
    pub effective_date_horizon_days: u32,
    /// Run the simulated bank that answers outbound files with returns and NOCs.
    pub sandbox_bank: bool,
    /// The most entries one outbound file may hold; a cutoff with more
    /// writes several files (at least 1).
    pub max_entries_per_file: u64,
    /// Debit limits for customers that have none of their own (`None`: no limit).
    pub debit_limits: AchLimits,
}

/// The default [`AchConfig::max_entries_per_file`]: 100,000 entries, a file
/// of about 10 MB.
pub const DEFAULT_MAX_ENTRIES_PER_FILE: u64 = 100_000;
