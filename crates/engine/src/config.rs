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
    /// The cutoff windows: the `[ach]` ones, or with `[[odfi]]` profiles the
    /// default ODFI's (each profile may override them, [`OdfiProfile::cutoffs`]).
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
    /// What the ODFI asks of its files beyond the header values.
    pub file_rules: FileRules,
    /// Several ODFIs (`[[odfi]]` profiles), the default first: the header
    /// fields above are the default's. Empty: one ODFI, the header fields
    /// above, and every entry is filed with it. With profiles, a cutoff
    /// builds one file set per profile from the entries of the customers
    /// assigned to it ([`AchConfig::for_odfi`]).
    pub odfis: Vec<OdfiProfile>,
}

/// One originating bank's header values and file rules.
#[derive(Debug, Clone)]
pub struct OdfiProfile {
    /// The profile's id (`[[odfi]] id`), recorded on its files.
    pub id: String,
    pub immediate_destination: RoutingNumber,
    pub immediate_destination_name: String,
    pub immediate_origin: String,
    pub immediate_origin_name: String,
    pub odfi_routing: RoutingNumber,
    pub max_entries_per_file: u64,
    pub file_rules: FileRules,
    /// The ODFI's cutoff windows (same-day windows and standard cutoff,
    /// US/Eastern): its own, or the `[ach]` ones when it sets none. Its
    /// files are built only at these cutoffs, and its customers' entries
    /// get their effective dates from them.
    pub cutoffs: CutoffSchedule,
}

impl AchConfig {
    /// The id of the default ODFI (`None` without `[[odfi]]` profiles).
    pub fn default_odfi_id(&self) -> Option<&str> {
        self.odfis.first().map(|o| o.id.as_str())
    }

    /// Whether `id` names a configured ODFI profile.
    pub fn has_odfi(&self, id: &str) -> bool {
        self.odfis.iter().any(|o| o.id == id)
    }

    /// The effective ODFI of an entry: its destination account's, else its
    /// customer's, else the default (`None` without profiles).
    pub fn effective_odfi<'a>(
        &'a self,
        account_odfi: Option<&'a str>,
        customer_odfi: Option<&'a str>,
    ) -> Option<&'a str> {
        account_odfi
            .or(customer_odfi)
            .or_else(|| self.default_odfi_id())
    }

    /// The cutoff windows of ODFI `odfi` (`None`, or an id that is not
    /// configured: the default's, [`AchConfig::cutoffs`]). Effective dates
    /// and same-day eligibility of an entry are planned with its ODFI's.
    pub fn cutoffs_for(&self, odfi: Option<&str>) -> &CutoffSchedule {
        odfi.and_then(|id| self.odfis.iter().find(|o| o.id == id))
            .map_or(&self.cutoffs, |o| &o.cutoffs)
    }

    /// This configuration with `odfi`'s header values, file rules and cutoffs.
    pub fn for_odfi(&self, odfi: &OdfiProfile) -> AchConfig {
        AchConfig {
            immediate_destination: odfi.immediate_destination.clone(),
            immediate_destination_name: odfi.immediate_destination_name.clone(),
            immediate_origin: odfi.immediate_origin.clone(),
            immediate_origin_name: odfi.immediate_origin_name.clone(),
            odfi_routing: odfi.odfi_routing.clone(),
            max_entries_per_file: odfi.max_entries_per_file,
            file_rules: odfi.file_rules.clone(),
            cutoffs: odfi.cutoffs.clone(),
            ..self.clone()
        }
    }
}

/// What an ODFI asks of its files (`[[odfi]]`; the defaults are Inflow's
/// own files).
#[derive(Debug, Clone, Default)]
pub struct FileRules {
    /// Balanced files: every batch ends with a credit entry to this account
    /// for the batch's debit total.
    pub offset: Option<OffsetAccount>,
    /// Debits and credits in separate files: with `offset`, each debit file
    /// gets a companion file holding only its offset credits.
    pub separate_debits_and_credits: bool,
    /// The outbound file name, with `{date}` (YYYYMMDD), `{yymmdd}`,
    /// `{modifier}` and `{kind}` (`debits`, or `credits` for a companion
    /// file of offsets); `None`: `INFLOW-{date}-{modifier}.ach`.
    pub file_name_pattern: Option<String>,
    /// The File ID Modifiers to use, in order (`None`: A–Z, then 0–9).
    pub file_id_modifiers: Option<String>,
    /// The file header's reference code (≤ 8 characters; empty: blank).
    pub reference_code: String,
    /// Company identification written in every batch header instead of the
    /// customer's (some ODFIs assign one to the originator).
    pub company_id: Option<String>,
}

/// The operator's settlement account at the ODFI, credited by the offset
/// entries of balanced files.
#[derive(Clone)]
pub struct OffsetAccount {
    pub routing: RoutingNumber,
    pub account_number: inflow_core::bank::AccountNumber,
    pub account_type: inflow_core::bank::AccountType,
    /// The receiver name of the offset entries (≤ 22 characters).
    pub name: String,
}

impl std::fmt::Debug for OffsetAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OffsetAccount")
            .field("routing", &self.routing)
            .field("account_type", &self.account_type)
            .finish_non_exhaustive()
    }
}

/// The default [`AchConfig::max_entries_per_file`]: 100,000 entries, a file
/// of about 10 MB.
pub const DEFAULT_MAX_ENTRIES_PER_FILE: u64 = 100_000;
