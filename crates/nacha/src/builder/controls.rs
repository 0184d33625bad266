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
    Ok(NachaFile {
        header: Some(FileHeader(RawRecord::new(header))),
        batches,
        control: Some(FileControl(RawRecord::new(r))),
        padding_read: 0,
    })
}
