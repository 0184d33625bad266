//! Control records computed by the builder: batch controls (entry/addenda
//! count, entry hash, debit/credit totals) and the file control (batch
//! count, block count, counts, hash, totals). Nothing here is taken from
//! callers; a tally too large for its field is an error
//! ([`crate::limits`]), never silently truncated (only the entry hash is
//! cut to its rightmost 10 digits, as the rules say).

use super::{BuildError, PendingBatch};
use crate::codes::TransactionCode;
use crate::field::{put_num, rightmost, RecordBytes};
use crate::model::{Batch, NachaFile};
use crate::record::{self, BatchControl, BatchHeader, FileControl, FileHeader, RawRecord};

pub(super) fn finish(
    header: RecordBytes,
    pending: Vec<PendingBatch>,
) -> Result<NachaFile, BuildError> {
    let (mut count, mut hash, mut debit, mut credit, mut records) = (0u64, 0u64, 0u64, 0u64, 2u64);
    let mut batches = Vec::with_capacity(pending.len());
    for (i, pb) in pending.into_iter().enumerate() {
        if pb.entries.is_empty() {
            return Err(BuildError::EmptyBatch(i + 1));
        }
        let (mut c, mut h, mut d, mut cr) = (0u64, 0u64, 0u64, 0u64);
        for e in &pb.entries {
            let b = e.detail.bytes();
            c += 1 + e.addenda.len() as u64;
            h += crate::field::digits(&b[3..11]).unwrap_or(0);
            let amt = crate::field::digits(&b[29..39]).unwrap_or(0);
            let tc = TransactionCode::from_bytes(&b[1..3]).unwrap_or(TransactionCode(0));
            if tc.is_debit() {
                d += amt;
            } else {
                cr += amt;
            }
        }
        if let Some(why) = crate::limits::batch_overflow(c, d, cr) {
            return Err(BuildError::TooLarge(why));
        }
        let hb = &pb.header;
        let mut r = record::blank(b'8');
        r[1..4].copy_from_slice(&hb[1..4]);
        put_num(&mut r[4..10], c);
        put_num(&mut r[10..20], rightmost(h, 10));
        put_num(&mut r[20..32], d);
        put_num(&mut r[32..44], cr);
        r[44..54].copy_from_slice(&hb[40..50]);
        r[79..94].copy_from_slice(&hb[79..94]);
        count += c;
        hash += h;
        debit += d;
        credit += cr;
        records += 2 + c;
        batches.push(Batch {
            header: BatchHeader(RawRecord::new(pb.header)),
            entries: pb.entries,
            control: Some(BatchControl(RawRecord::new(r))),
        });
    }
    if let Some(why) =
        crate::limits::file_overflow(batches.len() as u64, records, count, debit, credit)
    {
        return Err(BuildError::TooLarge(why));
    }
    let mut r = record::blank(b'9');
    put_num(&mut r[1..7], batches.len() as u64);
    put_num(&mut r[7..13], records.div_ceil(10));
    put_num(&mut r[13..21], count);
    put_num(&mut r[21..31], rightmost(hash, 10));
    put_num(&mut r[31..43], debit);
    put_num(&mut r[43..55], credit);
    debug_assert_eq!(inconsistency(&batches, &r), None);
    Ok(NachaFile {
        header: Some(FileHeader(RawRecord::new(header))),
        batches,
        control: Some(FileControl(RawRecord::new(r))),
        padding_read: 0,
    })
}

/// What is wrong with the records `finish` produced, read back from their
/// bytes: a trace number not strictly greater than the one before it in its
/// batch (the entry encoder refuses those), or a file control whose entry
/// count, entry hash or totals are not the sums of the batch controls'.
/// Checked in debug builds, before any file is written.
fn inconsistency(batches: &[Batch], file_control: &RecordBytes) -> Option<String> {
    let num = |b: &RecordBytes, r: std::ops::Range<usize>| crate::field::digits(&b[r]).unwrap_or(0);
    let mut sums = [0u64; 4];
    for (i, batch) in batches.iter().enumerate() {
        let traces: Vec<u64> = batch
            .entries
            .iter()
            .map(|e| num(e.detail.bytes(), 79..94))
            .collect();
        if let Some(w) = traces.windows(2).find(|w| w[1] <= w[0]) {
            return Some(format!("batch {}: trace {} follows {}", i + 1, w[1], w[0]));
        }
        let Some(control) = batch.control.as_ref().map(|c| c.bytes()) else {
            return Some(format!("batch {} has no control record", i + 1));
        };
        for (sum, range) in sums.iter_mut().zip([4..10, 10..20, 20..32, 32..44]) {
            *sum += num(control, range);
        }
    }
    sums[1] = rightmost(sums[1], 10);
    let file = [13..21, 21..31, 31..43, 43..55].map(|r| num(file_control, r));
    (sums != file).then(|| format!("batch control sums {sums:?} but file control {file:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::*;

    fn two_entry_file() -> NachaFile {
        let rt = |s| RoutingNumber::parse(s).unwrap();
        let debit = |amount| {
            EntrySpec::new(
                TransactionCode::CHECKING_DEBIT,
                rt("231380104"),
                "12345",
                amount,
                "JANE DOE",
            )
        };
        FileBuilder::new(FileHeaderSpec::new(
            rt("231380104"),
            "1210428822",
            "FED",
            "ACME",
            Date::new(2025, 1, 3),
            'A',
        ))
        .batch(BatchSpec::new(
            ServiceClass::DebitsOnly,
            SecCode::Ppd,
            "ACME",
            "1234567890",
            "PAYMENT",
            Date::new(2025, 1, 6),
            rt("121042882"),
        ))
        .entry(debit(100))
        .entry(debit(250))
        .build()
        .unwrap()
    }

    #[test]
    fn a_built_file_is_consistent_and_a_broken_one_is_caught() {
        let file = two_entry_file();
        let control = *file.control.as_ref().unwrap().bytes();
        assert_eq!(inconsistency(&file.batches, &control), None);

        let mut swapped = file.clone();
        swapped.batches[0].entries.swap(0, 1);
        let why = inconsistency(&swapped.batches, &control).unwrap();
        assert!(why.contains("trace"), "{why}");

        let mut off = control;
        put_num(&mut off[31..43], 351);
        let why = inconsistency(&file.batches, &off).unwrap();
        assert!(why.ends_with("file control [2, 46276020, 351, 0]"), "{why}");
    }
}
