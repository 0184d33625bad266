//! moov's three large gzipped fixtures (≈9.6 MB, 19 MB and 48 MB unpacked)
//! read, stream and validate cleanly.

use flate2::read::GzDecoder;
use std::io::Read;
use std::path::Path;

fn unpack(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/ach-testdata/moov/test/testdata/large-files")
        .join(name);
    let mut out = Vec::new();
    GzDecoder::new(std::fs::File::open(path).expect("fixture present"))
        .read_to_end(&mut out)
        .expect("gunzip");
    out
}

fn check(name: &str, batches: usize, entries: usize) {
    let data = unpack(name);
    let errors = nacha::validate(&data, &nacha::ValidateOptions::default());
    assert!(
        errors.is_empty(),
        "{name}: {:?}",
        &errors[..errors.len().min(5)]
    );
    let file = nacha::read(&data).expect("reads");
    assert_eq!(file.batches.len(), batches);
    assert_eq!(file.entry_count(), entries);
    let streamed = nacha::reader::batches(nacha::reader::records_from(&data[..])).count();
    assert_eq!(streamed, batches);
}

#[test]
fn ccd_100k_entries_with_addenda_validate() {
    check(
        "CCD+addenda05-200-batches-100000-entries.ach.gz",
        200,
        100_000,
    );
}

#[test]
fn ppd_100k_entries_validate() {
    check("PPD-200-batches-100000-entries.ach.gz", 200, 100_199);
}

#[test]
fn ppd_500k_entries_validate() {
    check("PPD-2500-batches-500000-entries.ach.gz", 2500, 502_499);
}
