//! Control tallies: compares the counts, entry hash and totals a batch or
//! file control claims with what the records actually hold.
use super::checker::Checker;
use super::error::{Rule, ValidationError};
use crate::field::{self, RecordBytes, Span};
use crate::record::RecordKind;

impl Checker {
    pub(super) fn compare(
        &mut self,
        line: u64,
        k: RecordKind,
        checks: &[(&'static str, Rule, Span, u64)],
        b: &RecordBytes,
    ) {
        for &(name, rule, span, want) in checks {
            if let Some(found) = field::digits(span.of(b)) {
                if found != want {
                    self.push(
                        ValidationError::new(
                            line,
                            k,
                            rule,
                            format!("{name} {found} does not match computed {want}"),
                        )
                        .field(name)
                        .values(want, found),
                    );
                }
            }
        }
    }
}
