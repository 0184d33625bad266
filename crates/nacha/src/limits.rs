//! The largest values the numeric fields of the control records can carry
//! (NACHA record layouts; see `domain.md` §1.9–1.10), and the one computed
//! field that is truncated by rule instead.
//!
//! | Field | Width | Limit here |
//! |---|---|---|
//! | entry detail amount | 10 | [`MAX_ENTRY_AMOUNT`] |
//! | batch control total debit / credit | 12 | [`MAX_TOTAL_AMOUNT`] |
//! | batch control entry/addenda count | 6 | [`MAX_BATCH_ENTRY_ADDENDA_COUNT`] |
//! | file control total debit / credit | 12 | [`MAX_TOTAL_AMOUNT`] |
//! | file control entry/addenda count | 8 | [`MAX_FILE_ENTRY_ADDENDA_COUNT`] |
//! | file control batch count | 6 | [`MAX_BATCH_COUNT`] (the 7-digit batch number never gets there) |
//! | file control block count | 6 | [`MAX_BLOCK_COUNT`], so at most [`MAX_RECORDS`] records |
//! | entry hash (batch and file) | 10 | none: the sum keeps its rightmost 10 digits by rule |
//!
//! The block count binds before the file's entry/addenda count can: a file
//! of [`MAX_RECORDS`] records has fewer than 10 million entry and addenda
//! records, far below the 8-digit count's 99,999,999.

/// The largest amount one entry can carry, in cents (10 digits).
pub const MAX_ENTRY_AMOUNT: u64 = 9_999_999_999;
/// The largest total debit or credit of a batch or a file, in cents (12 digits).
pub const MAX_TOTAL_AMOUNT: u64 = 999_999_999_999;
/// The most entry and addenda records one batch can count (6 digits).
pub const MAX_BATCH_ENTRY_ADDENDA_COUNT: u64 = 999_999;
/// The most entry and addenda records one file can count (8 digits).
pub const MAX_FILE_ENTRY_ADDENDA_COUNT: u64 = 99_999_999;
/// The most batches one file can count (6 digits).
pub const MAX_BATCH_COUNT: u64 = 999_999;
/// The largest block count (6 digits); a block is 10 records.
pub const MAX_BLOCK_COUNT: u64 = 999_999;
/// The most records (file header and control, batch headers and controls,
/// entries, addenda; padding not counted) a file can have.
pub const MAX_RECORDS: u64 = MAX_BLOCK_COUNT * 10;

/// Which control field a batch's tallies overflow, if any.
pub fn batch_overflow(entry_addenda_count: u64, debit: u64, credit: u64) -> Option<&'static str> {
    if entry_addenda_count > MAX_BATCH_ENTRY_ADDENDA_COUNT {
        Some("batch entry/addenda count exceeds 999,999")
    } else if debit > MAX_TOTAL_AMOUNT || credit > MAX_TOTAL_AMOUNT {
        Some("batch totals overflow the batch control (12 digits)")
    } else {
        None
    }
}

/// Which control field a file's tallies overflow, if any. `records`
/// counts every record but padding.
pub fn file_overflow(
    batches: u64,
    records: u64,
    entry_addenda_count: u64,
    debit: u64,
    credit: u64,
) -> Option<&'static str> {
    if batches > MAX_BATCH_COUNT {
        Some("file batch count exceeds 999,999")
    } else if records > MAX_RECORDS {
        Some("file block count exceeds 999,999")
    } else if entry_addenda_count > MAX_FILE_ENTRY_ADDENDA_COUNT {
        Some("file entry/addenda count exceeds 99,999,999")
    } else if debit > MAX_TOTAL_AMOUNT || credit > MAX_TOTAL_AMOUNT {
        Some("file totals overflow the file control (12 digits)")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_control_field_overflows_one_past_its_width() {
        assert_eq!(
            batch_overflow(999_999, MAX_TOTAL_AMOUNT, MAX_TOTAL_AMOUNT),
            None
        );
        assert!(batch_overflow(1_000_000, 0, 0).is_some());
        assert!(batch_overflow(1, MAX_TOTAL_AMOUNT + 1, 0).is_some());
        assert!(batch_overflow(1, 0, MAX_TOTAL_AMOUNT + 1).is_some());

        let ok = file_overflow(999_999, 9_999_990, 9_000_000, MAX_TOTAL_AMOUNT, 0);
        assert_eq!(ok, None);
        assert!(file_overflow(1_000_000, 10, 1, 0, 0).is_some());
        assert!(file_overflow(1, 9_999_991, 1, 0, 0)
            .unwrap()
            .contains("block count"));
        assert!(file_overflow(1, 10, 100_000_000, 0, 0).is_some());
        assert!(file_overflow(1, 10, 1, MAX_TOTAL_AMOUNT + 1, 0).is_some());
    }
}
