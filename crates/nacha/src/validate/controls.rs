//! Control tallies: compares the counts, entry hash and totals a batch or
//! file control claims with what the records actually hold.
//!
//! Batch control disagreements are errors. The file control's tallies
//! (batch count, block count, entry/addenda count, entry hash, debit and
//! credit totals) are redundant — every one of them can be recomputed from
//! the batches, and tolerant receivers such as moov-io/ach do recompute
//! them — so their disagreements are warnings unless
//! [`super::ValidateOptions::strict`] is set. One exception, as in moov: a
//! batch count, block count, entry/addenda count or entry hash of zero
//! where the file has something to count is a blank mandatory field, an
//! error in every mode.

use super::checker::{BatchState, Checker};
use super::error::{Rule, Severity, ValidationError};
use crate::field::{self, RecordBytes, Span};
use crate::record::layout as L;
use crate::record::RecordKind;

/// One tally: field name, rule, where the claimed value is, computed value.
type Tally = (&'static str, Rule, Span, u64);

/// File control tallies that must not be zero (moov rejects a zero value
/// as a blank mandatory field instead of recomputing it).
const MANDATORY: &[Rule] = &[
    Rule::BatchCount,
    Rule::BlockCount,
    Rule::EntryAddendaCount,
    Rule::EntryHash,
];

impl Checker {
    /// Batch control vs the batch's entries and addenda (always errors).
    pub(super) fn batch_tallies(&mut self, line: u64, b: &RecordBytes, bs: &BatchState) {
        use L::batch_control as C;
        let (dspan, cspan) = if bs.is_adv() {
            (
                L::adv_batch_control::TOTAL_DEBIT.span,
                L::adv_batch_control::TOTAL_CREDIT.span,
            )
        } else {
            (C::TOTAL_DEBIT.span, C::TOTAL_CREDIT.span)
        };
        let checks = [
            (
                C::ENTRY_ADDENDA_COUNT.name,
                Rule::EntryAddendaCount,
                C::ENTRY_ADDENDA_COUNT.span,
                bs.records,
            ),
            (
                C::ENTRY_HASH.name,
                Rule::EntryHash,
                C::ENTRY_HASH.span,
                field::rightmost(bs.hash, 10),
            ),
            (C::TOTAL_DEBIT.name, Rule::TotalDebit, dspan, bs.debit),
            (C::TOTAL_CREDIT.name, Rule::TotalCredit, cspan, bs.credit),
        ];
        self.compare(
            line,
            RecordKind::BatchControl,
            &checks,
            b,
            Severity::Error,
            &[],
        );
    }

    /// File control vs the whole file (warnings unless strict). `adv`
    /// selects the ADV file control layout (20-digit totals).
    pub(super) fn file_tallies(&mut self, line: u64, b: &RecordBytes, adv: bool) {
        use L::file_control as F;
        let (dspan, cspan) = if adv {
            (
                L::adv_file_control::TOTAL_DEBIT.span,
                L::adv_file_control::TOTAL_CREDIT.span,
            )
        } else {
            (F::TOTAL_DEBIT.span, F::TOTAL_CREDIT.span)
        };
        let checks = [
            (
                F::BATCH_COUNT.name,
                Rule::BatchCount,
                F::BATCH_COUNT.span,
                self.batch_count,
            ),
            (
                F::BLOCK_COUNT.name,
                Rule::BlockCount,
                F::BLOCK_COUNT.span,
                self.records.div_ceil(10),
            ),
            (
                F::ENTRY_ADDENDA_COUNT.name,
                Rule::EntryAddendaCount,
                F::ENTRY_ADDENDA_COUNT.span,
                self.entry_addenda,
            ),
            (
                F::ENTRY_HASH.name,
                Rule::EntryHash,
                F::ENTRY_HASH.span,
                field::rightmost(self.hash, 10),
            ),
            (F::TOTAL_DEBIT.name, Rule::TotalDebit, dspan, self.debit),
            (F::TOTAL_CREDIT.name, Rule::TotalCredit, cspan, self.credit),
        ];
        let severity = self.tolerated();
        self.compare(
            line,
            RecordKind::FileControl,
            &checks,
            b,
            severity,
            MANDATORY,
        );
    }

    fn compare(
        &mut self,
        line: u64,
        k: RecordKind,
        checks: &[Tally],
        b: &RecordBytes,
        severity: Severity,
        mandatory: &[Rule],
    ) {
        for &(name, rule, span, want) in checks {
            if let Some(found) = field::digits(span.of(b)) {
                if found != want {
                    let blank = found == 0 && mandatory.contains(&rule);
                    let mut msg = format!("{name} {found} does not match computed {want}");
                    if blank {
                        msg.push_str(" (a zero count or hash is not allowed)");
                    }
                    self.push(
                        ValidationError::new(line, k, rule, msg)
                            .field(name)
                            .values(want, found)
                            .severity(if blank { Severity::Error } else { severity }),
                    );
                }
            }
        }
    }
}
