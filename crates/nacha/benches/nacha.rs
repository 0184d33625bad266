//! Benchmarks: parse + full validation, whole-file read, build and write of
//! generated PPD debit files with 100k and 500k entries.
//!
//! Run: `cargo bench -p inflow-nacha`

use divan::counter::{BytesCount, ItemsCount};
use divan::Bencher;
use nacha::*;

fn main() {
    divan::main();
}

const SIZES: &[usize] = &[100_000, 500_000];

fn build(entries: usize) -> NachaFile {
    let rt = |s: &str| RoutingNumber::parse(s).expect("valid");
    let mut b = FileBuilder::new(FileHeaderSpec::new(
        rt("231380104"),
        "1210428822",
        "FEDERAL RESERVE BANK",
        "ACME COLLECTIONS",
        Date::new(2025, 1, 3),
        'A',
    ))
    .batch(BatchSpec::new(
        ServiceClass::DebitsOnly,
        SecCode::Ppd,
        "ACME CORP",
        "1234567890",
        "PAYMENT",
        Date::new(2025, 1, 6),
        rt("121042882"),
    ));
    let rdfis = [rt("231380104"), rt("011000015"), rt("021000021")];
    let per_batch = 200;
    for i in 0..entries {
        if i > 0 && i % per_batch == 0 {
            b = b.batch(BatchSpec::new(
                ServiceClass::DebitsOnly,
                SecCode::Ppd,
                "ACME CORP",
                "1234567890",
                "PAYMENT",
                Date::new(2025, 1, 6),
                rt("121042882"),
            ));
        }
        b = b.entry(
            EntrySpec::new(
                TransactionCode::CHECKING_DEBIT,
                rdfis[i % 3],
                "123456789012",
                1 + (i as u64 % 100_000),
                "JANE Q CUSTOMER",
            )
            .individual_id("CUST-000123"),
        );
    }
    b.build().expect("builds")
}

#[divan::bench(args = SIZES, sample_count = 10)]
fn parse_and_validate(bencher: Bencher, n: usize) {
    let bytes = build(n).to_bytes();
    bencher.counter(BytesCount::of_slice(&bytes)).bench(|| {
        let errs = nacha::validate(divan::black_box(&bytes), &ValidateOptions::default());
        assert!(errs.is_empty());
    });
}

#[divan::bench(args = SIZES, sample_count = 10)]
fn read_model_and_validate(bencher: Bencher, n: usize) {
    let bytes = build(n).to_bytes();
    bencher.counter(ItemsCount::new(n)).bench(|| {
        let (file, errs) =
            nacha::read_validated(divan::black_box(&bytes), &ValidateOptions::default());
        assert!(errs.is_empty());
        file
    });
}

#[divan::bench(args = SIZES, sample_count = 10)]
fn write(bencher: Bencher, n: usize) {
    let file = build(n);
    let len = file.to_bytes().len();
    bencher
        .counter(BytesCount::new(len))
        .bench(|| divan::black_box(&file).to_bytes());
}

#[divan::bench(args = SIZES, sample_count = 5)]
fn build_and_write(bencher: Bencher, n: usize) {
    bencher
        .counter(ItemsCount::new(n))
        .bench(|| build(n).to_bytes());
}
