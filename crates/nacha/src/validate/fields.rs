//! Table-driven format checks of individual fields (character set, digits,
//! dates, constants) plus the routing check-digit rule.

use super::error::{Rule, ValidationError};
use crate::field::{self, RecordBytes};
use crate::record::layout::{FieldDef, FieldKind};
use crate::record::RecordKind;

/// Shows bytes for an error message (non-printable bytes escaped).
pub(crate) fn show(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        if (0x20..0x7f).contains(&b) {
            s.push(char::from(b));
        } else {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    s
}

/// The name of the field holding 1-based position `pos` of a record of
/// `kind`, for the layouts the validator knows without batch context
/// (addenda types are told apart by their type code).
pub(crate) fn field_at(kind: RecordKind, rec: &RecordBytes, pos: usize) -> Option<&'static str> {
    use crate::record::layout as L;
    let defs: &[FieldDef] = match kind {
        RecordKind::FileHeader => L::file_header::ALL,
        RecordKind::BatchHeader => L::batch_header::ALL,
        RecordKind::EntryDetail => L::entry_detail::ALL,
        RecordKind::BatchControl => L::batch_control::ALL,
        RecordKind::FileControl => L::file_control::ALL,
        RecordKind::Addenda => return addenda_field_at(rec, pos),
        _ => return None,
    };
    defs.iter()
        .find(|d| (d.span.start..d.span.start + d.span.len).contains(&pos))
        .map(|d| d.name)
}

fn addenda_field_at(rec: &RecordBytes, pos: usize) -> Option<&'static str> {
    (&rec[1..3] == b"05" && (4..=83).contains(&pos)).then_some("payment related information")
}

/// True when a mandatory alphanumeric field holds nothing but zeros and
/// spaces (moov's "contains only spaces and zeros").
pub(crate) fn zeros_or_spaces(v: &[u8]) -> bool {
    v.iter().all(|&b| b == b'0' || b == b' ')
}

/// Checks every non-special field of `defs` and pushes findings.
pub(crate) fn check_fields(
    out: &mut Vec<ValidationError>,
    line: u64,
    kind: RecordKind,
    rec: &RecordBytes,
    defs: &[FieldDef],
) {
    for d in defs {
        let v = d.span.of(rec);
        let bad = match d.kind {
            FieldKind::Alpha => {
                if let Some(p) = field::first_control(v) {
                    out.push(
                        ValidationError::new(
                            line,
                            kind,
                            Rule::InvalidCharacter,
                            format!(
                                "{} contains control character 0x{:02x} at position {}",
                                d.name,
                                v[p],
                                d.span.start + p
                            ),
                        )
                        .field(d.name)
                        .found(show(v)),
                    );
                }
                continue;
            }
            FieldKind::Numeric => (!field::is_digits(v)).then_some((Rule::NotNumeric, "digits")),
            FieldKind::NumericOrBlank => (!field::is_digits(v) && !field::is_blank(v))
                .then_some((Rule::NotNumeric, "digits or blanks")),
            FieldKind::Date => {
                (!field::is_yymmdd(v)).then_some((Rule::InvalidDate, "a YYMMDD date"))
            }
            FieldKind::DateOrBlank => (!field::is_yymmdd(v) && !field::is_blank(v))
                .then_some((Rule::InvalidDate, "a YYMMDD date or blanks")),
            FieldKind::TimeOrBlank => (!field::is_hhmm(v) && !field::is_blank(v))
                .then_some((Rule::InvalidDate, "an HHMM time or blanks")),
            FieldKind::Const(c) => (v != c).then_some((Rule::InvalidConstant, "")),
            FieldKind::Special => None,
        };
        if let Some((rule, what)) = bad {
            let msg = match d.kind {
                FieldKind::Const(c) => {
                    format!("{} must be {:?}, found {:?}", d.name, show(c), show(v))
                }
                _ => format!("{} must be {}, found {:?}", d.name, what, show(v)),
            };
            let mut e = ValidationError::new(line, kind, rule, msg)
                .field(d.name)
                .found(show(v));
            if let FieldKind::Const(c) = d.kind {
                e.expected = Some(show(c));
            }
            out.push(e);
        }
    }
}

/// Checks that `digits9` (8-digit identification + check digit) has a
/// correct check digit. `field_name` names the field in errors.
pub(crate) fn check_routing(
    out: &mut Vec<ValidationError>,
    line: u64,
    kind: RecordKind,
    field_name: &'static str,
    digits9: &[u8],
) {
    if digits9.len() != 9 || !field::is_digits(digits9) {
        out.push(
            ValidationError::new(
                line,
                kind,
                Rule::NotNumeric,
                format!(
                    "{field_name} must be a 9-digit routing number, found {:?}",
                    show(digits9)
                ),
            )
            .field(field_name)
            .found(show(digits9)),
        );
        return;
    }
    if let Some(cd) = crate::routing::check_digit(&digits9[..8]) {
        let found = digits9[8] - b'0';
        if cd != found {
            out.push(
                ValidationError::new(
                    line,
                    kind,
                    Rule::CheckDigit,
                    if field_name.ends_with("check digit") {
                        format!("{field_name} {found} does not match computed {cd}")
                    } else {
                        format!("{field_name} check digit {found} does not match computed {cd}")
                    },
                )
                .field(field_name)
                .values(cd, found),
            );
        }
    }
}
