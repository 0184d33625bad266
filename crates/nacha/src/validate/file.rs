//! File-level records: the file header (fields, immediate destination
//! check digit, immediate origin, file ID modifier, position) and the file
//! control (uniqueness, layout); its tallies are compared in
//! [`super::controls`].

use super::checker::Checker;
use super::error::{Rule, ValidationError};
use super::fields::{check_fields, check_routing, show};
use crate::field::{self, RecordBytes};
use crate::record::layout as L;
use crate::record::RecordKind;

impl Checker {
    pub(super) fn file_header(&mut self, line: u64, b: &RecordBytes) {
        let k = RecordKind::FileHeader;
        if self.header_seen {
            self.err(
                line,
                k,
                Rule::DuplicateFileHeader,
                None,
                "more than one file header".into(),
            );
            return;
        }
        self.header_seen = true;
        if self.any_record {
            self.err(
                line,
                k,
                Rule::RecordOrder,
                None,
                "file header must be the first record".into(),
            );
        }
        check_fields(&mut self.errors, line, k, b, L::file_header::ALL);
        let dest = L::file_header::IMMEDIATE_DESTINATION;
        let dv = dest.span.of(b);
        let digits = field::trimmed(dv);
        if digits.is_empty() {
            self.err(
                line,
                k,
                Rule::MandatoryField,
                Some(dest.name),
                "immediate destination is blank".into(),
            );
        } else if !self.opts.skip_destination_check_digit {
            check_routing(&mut self.errors, line, k, dest.name, digits.as_bytes());
        }
        let orig = L::file_header::IMMEDIATE_ORIGIN;
        let ov = field::trimmed(orig.span.of(b));
        if ov.is_empty() || ov.bytes().all(|c| c == b'0') {
            self.push(
                ValidationError::new(
                    line,
                    k,
                    Rule::ImmediateOrigin,
                    "immediate origin must not be blank or all zeros",
                )
                .field(orig.name)
                .found(&ov),
            );
        }
        let m = b[33];
        if !(m.is_ascii_uppercase() || m.is_ascii_digit()) {
            let f = L::file_header::FILE_ID_MODIFIER;
            self.push(
                ValidationError::new(
                    line,
                    k,
                    Rule::FileIdModifier,
                    format!(
                        "file ID modifier must be A-Z or 0-9, found {:?}",
                        show(&[m])
                    ),
                )
                .field(f.name)
                .found(show(&[m])),
            );
        }
    }

    pub(super) fn file_control(&mut self, line: u64, b: &RecordBytes) {
        let k = RecordKind::FileControl;
        if self.control_seen {
            self.err(
                line,
                k,
                Rule::DuplicateFileControl,
                None,
                "more than one file control".into(),
            );
            return;
        }
        self.close_batch_without_control();
        self.control_seen = true;
        let adv = self.adv_file && self.batch_count > 0;
        check_fields(
            &mut self.errors,
            line,
            k,
            b,
            if adv {
                L::adv_file_control::ALL
            } else {
                L::file_control::ALL
            },
        );
        self.file_tallies(line, b, adv);
    }
}
