//! How a file's entries form batches: the batch key (company, SEC code,
//! description, effective date), and the split of each key's run of
//! entries where a control field would overflow (`nacha::plan`). The
//! cutoff plans its files with the same rules, so a file's batches can be
//! rebuilt from its entries alone (with the same offset mode: a balanced
//! file's batches hold at most one entry amount, and count their offset).

use chrono::NaiveDate;
use inflow_core::collection::AchCollection;

use super::nacha_text;

/// The batch a collection goes in: company name, company id, SEC code,
/// entry description and effective date (all batches are 225, debits only).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct BatchKey {
    pub company_name: String,
    pub company_id: String,
    pub sec_code: &'static str,
    pub description: String,
    pub effective_date: NaiveDate,
}

impl BatchKey {
    pub(crate) fn of(c: &AchCollection) -> Self {
        BatchKey {
            company_name: nacha_text(&c.company_name, 16),
            company_id: nacha_text(&c.company_id, 10),
            sec_code: c.sec_code.as_str(),
            description: nacha_text(&c.company_entry_description, 10),
            effective_date: c.effective_date,
        }
    }
}

/// The addenda text of a collection's entry, if it has one.
pub(crate) fn entry_addenda(c: &AchCollection) -> Option<String> {
    c.addenda
        .as_deref()
        .filter(|_| c.sec_code.allows_addenda())
        .map(|a| nacha_text(a, 80))
        .filter(|a| !a.is_empty())
}

/// What the batch and file planner needs of an entry (a debit).
pub(crate) fn plan_entry(amount: u64, addenda: bool) -> nacha::plan::PlanEntry {
    nacha::plan::PlanEntry {
        amount,
        credit: false,
        addenda: u32::from(addenda),
    }
}

/// The batches (indexes into the entries, in order) of one file's entries,
/// as the cutoff planned them; an error when they do not fit one file.
pub(crate) fn file_batches<'k>(
    entries: impl IntoIterator<Item = (&'k BatchKey, nacha::plan::PlanEntry)>,
    offsets: nacha::plan::Offsets,
) -> Result<Vec<Vec<usize>>, String> {
    let mut plan = nacha::plan::plan(
        entries,
        nacha::plan::PlanLimits::fields_only().with_offsets(offsets),
    );
    if let Some(i) = plan.refused.first() {
        return Err(format!(
            "entry {} has an amount beyond the 10-digit entry field",
            i + 1
        ));
    }
    match plan.files.len() {
        0 => Ok(Vec::new()),
        1 => Ok(plan.files.remove(0).batches),
        n => Err(format!(
            "the entries need {n} files: their counts or totals overflow one file control"
        )),
    }
}
