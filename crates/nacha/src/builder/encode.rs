//! Record encoding for the builder: checks each input against its field
//! width, character set and the SEC / service class / transaction code
//! rules, and writes the file header, batch header, entry detail and
//! addenda 05 records. Control records are computed in [`super::controls`].

use super::{BatchSpec, BuildError, EntrySpec, FileHeaderSpec, PaymentType, PendingBatch};
use crate::codes::{SecCode, ServiceClass};
use crate::field::{put_alpha, put_num, RecordBytes};
use crate::model::Entry;
use crate::record::{self, Addenda, EntryDetail, RawRecord};

fn put_text(
    out: &mut [u8],
    value: &str,
    field: &'static str,
    required: bool,
    loc: &dyn Fn() -> String,
) -> Result<(), BuildError> {
    let v = value.as_bytes();
    let bad = |reason: String| BuildError::Field {
        location: loc(),
        field,
        reason,
    };
    if v.len() > out.len() {
        return Err(bad(format!(
            "{} characters exceed the field width {}",
            v.len(),
            out.len()
        )));
    }
    if let Some(c) = v.iter().find(|&&c| !(0x20..=0x7e).contains(&c)) {
        return Err(bad(format!("byte 0x{c:02x} is not printable ASCII")));
    }
    if required && value.bytes().all(|b| b == b'0' || b == b' ') {
        return Err(bad("must not be blank or all zeros".into()));
    }
    put_alpha(out, v);
    Ok(())
}

pub(super) fn file_header(h: &FileHeaderSpec<'_>) -> Result<RecordBytes, BuildError> {
    let loc = || "file header".to_string();
    let mut r = record::blank(b'1');
    r[1..3].copy_from_slice(b"01");
    r[3] = b' ';
    r[4..13].copy_from_slice(h.immediate_destination.as_bytes());
    let origin = h.immediate_origin;
    if origin.len() == 9 {
        r[13] = b' ';
        put_text(&mut r[14..23], origin, "immediate origin", true, &loc)?;
    } else {
        put_text(&mut r[13..23], origin, "immediate origin", true, &loc)?;
    }
    if origin.bytes().all(|c| c == b'0' || c == b' ') {
        return Err(BuildError::Field {
            location: loc(),
            field: "immediate origin",
            reason: "must not be all zeros".into(),
        });
    }
    if !h.creation_date.is_valid() {
        return Err(BuildError::Field {
            location: loc(),
            field: "file creation date",
            reason: "invalid date".into(),
        });
    }
    h.creation_date.put(&mut r[23..29]);
    match h.creation_time {
        Some((hh, mm)) if hh < 24 && mm < 60 => {
            put_num(&mut r[29..31], u64::from(hh));
            put_num(&mut r[31..33], u64::from(mm));
        }
        Some(_) => {
            return Err(BuildError::Field {
                location: loc(),
                field: "file creation time",
                reason: "invalid time".into(),
            })
        }
        None => {}
    }
    let m = h.file_id_modifier.to_ascii_uppercase();
    if !(m.is_ascii_uppercase() || m.is_ascii_digit()) {
        return Err(BuildError::Field {
            location: loc(),
            field: "file ID modifier",
            reason: format!("{m:?} is not A-Z or 0-9"),
        });
    }
    r[33] = m as u8;
    r[34..40].copy_from_slice(b"094101");
    put_text(
        &mut r[40..63],
        h.destination_name,
        "immediate destination name",
        false,
        &loc,
    )?;
    put_text(
        &mut r[63..86],
        h.origin_name,
        "immediate origin name",
        false,
        &loc,
    )?;
    put_text(
        &mut r[86..94],
        h.reference_code,
        "reference code",
        false,
        &loc,
    )?;
    Ok(r)
}

pub(super) fn batch_header(b: &BatchSpec<'_>, n: usize) -> Result<RecordBytes, BuildError> {
    let loc = || format!("batch {n}");
    if !b.sec.is_originatable() {
        return Err(BuildError::Rule {
            location: loc(),
            reason: format!("SEC code {} cannot be originated by this builder", b.sec),
        });
    }
    if b.service_class == ServiceClass::AdvOnly {
        return Err(BuildError::Rule {
            location: loc(),
            reason: "service class 280 is for ADV files only".into(),
        });
    }
    if n > 9_999_999 {
        return Err(BuildError::TooLarge("more than 9,999,999 batches"));
    }
    let mut r = record::blank(b'5');
    put_num(&mut r[1..4], u64::from(b.service_class.code()));
    put_text(&mut r[4..20], b.company_name, "company name", true, &loc)?;
    put_text(
        &mut r[20..40],
        b.company_discretionary_data,
        "company discretionary data",
        false,
        &loc,
    )?;
    put_text(
        &mut r[40..50],
        b.company_identification,
        "company identification",
        true,
        &loc,
    )?;
    r[50..53].copy_from_slice(&b.sec.as_bytes());
    put_text(
        &mut r[53..63],
        b.entry_description,
        "company entry description",
        true,
        &loc,
    )?;
    put_text(
        &mut r[63..69],
        b.descriptive_date,
        "company descriptive date",
        false,
        &loc,
    )?;
    if !b.effective_entry_date.is_valid() {
        return Err(BuildError::Field {
            location: loc(),
            field: "effective entry date",
            reason: "invalid date".into(),
        });
    }
    b.effective_entry_date.put(&mut r[69..75]);
    r[78] = b'1';
    r[79..87].copy_from_slice(b.odfi.dfi());
    put_num(&mut r[87..94], n as u64);
    Ok(r)
}

pub(super) fn entry(
    pb: &mut PendingBatch,
    e: &EntrySpec<'_>,
    bi: usize,
    next_seq: &mut u64,
) -> Result<Entry, BuildError> {
    let ei = pb.entries.len() + 1;
    let loc = || format!("batch {bi} entry {ei}");
    let rule = |reason: String| BuildError::Rule {
        location: loc(),
        reason,
    };
    let tc = e.transaction_code;
    if !(matches!(tc.0 / 10, 2 | 3) && (tc.is_live() || tc.is_prenote())) {
        return Err(rule(format!(
            "transaction code {tc} is not a checking/savings live or prenote code"
        )));
    }
    if !pb.service_class.allows(tc) {
        return Err(rule(format!(
            "transaction code {tc} is not allowed with service class {}",
            pb.service_class.code()
        )));
    }
    if tc.is_prenote() && e.amount_cents != 0 {
        return Err(rule("prenote entries must have amount 0".into()));
    }
    if tc.is_live() && e.amount_cents == 0 {
        return Err(rule("live entries must have a non-zero amount".into()));
    }
    if e.amount_cents > 9_999_999_999 {
        return Err(rule("amount exceeds 9,999,999,999 cents".into()));
    }
    let web_tel = matches!(pb.sec, SecCode::Web | SecCode::Tel);
    if pb.sec == SecCode::Tel {
        if e.addenda.is_some() {
            return Err(rule("TEL entries may not have addenda".into()));
        }
        if tc.is_credit() && !pb.reversal {
            return Err(rule(
                "TEL batches allow credits only with entry description REVERSAL".into(),
            ));
        }
        if tc.is_debit() && pb.reversal {
            return Err(rule(
                "a TEL REVERSAL batch reverses TEL debits: it holds only credits".into(),
            ));
        }
    }
    if web_tel != e.payment_type.is_some() {
        return Err(rule(
            "payment type is required for WEB/TEL entries and not allowed otherwise".into(),
        ));
    }
    let trace = match e.trace {
        Some(t) => {
            if t.value() / 10_000_000 != pb.odfi8 {
                return Err(rule(format!(
                    "trace number {:015} does not start with the batch ODFI identification {:08}",
                    t.value(),
                    pb.odfi8
                )));
            }
            *next_seq = (*next_seq).max(t.sequence() + 1);
            t.value()
        }
        None => {
            if *next_seq >= 10_000_000 {
                return Err(BuildError::TooLarge("trace sequence exceeds 9,999,999"));
            }
            let t = pb.odfi8 * 10_000_000 + *next_seq;
            *next_seq += 1;
            t
        }
    };
    if let Some(prev) = pb.last_trace {
        if trace <= prev {
            return Err(rule(format!(
                "trace number {trace:015} is not greater than the previous {prev:015}"
            )));
        }
    }
    pb.last_trace = Some(trace);
    let mut r = record::blank(b'6');
    put_num(&mut r[1..3], u64::from(tc.0));
    r[3..12].copy_from_slice(e.rdfi.as_bytes());
    put_text(
        &mut r[12..29],
        e.account_number,
        "DFI account number",
        false,
        &loc,
    )?;
    if e.account_number.trim().is_empty() {
        return Err(BuildError::Field {
            location: loc(),
            field: "DFI account number",
            reason: "must not be blank".into(),
        });
    }
    put_num(&mut r[29..39], e.amount_cents);
    put_text(
        &mut r[39..54],
        e.individual_id,
        "individual identification number",
        false,
        &loc,
    )?;
    put_text(
        &mut r[54..76],
        e.individual_name,
        "individual name",
        pb.sec.requires_individual_name(),
        &loc,
    )?;
    if e.individual_name.trim().is_empty() {
        return Err(BuildError::Field {
            location: loc(),
            field: "individual name",
            reason: "must not be blank".into(),
        });
    }
    match e.payment_type {
        Some(PaymentType::Recurring) => r[76] = b'R',
        Some(PaymentType::Single) => r[76] = b'S',
        None => put_text(
            &mut r[76..78],
            e.discretionary_data,
            "discretionary data",
            false,
            &loc,
        )?,
    }
    r[78] = if e.addenda.is_some() { b'1' } else { b'0' };
    put_num(&mut r[79..94], trace);
    let mut addenda = Vec::new();
    if let Some(text) = e.addenda {
        let mut a = record::blank(b'7');
        a[1..3].copy_from_slice(b"05");
        put_text(
            &mut a[3..83],
            text,
            "payment related information",
            false,
            &loc,
        )?;
        put_num(&mut a[83..87], 1);
        put_num(&mut a[87..94], trace % 10_000_000);
        addenda.push(Addenda(RawRecord::new(a)));
    }
    Ok(Entry {
        detail: EntryDetail(RawRecord::new(r)),
        addenda,
    })
}
