//! Property tests: files the writer produces from arbitrary valid inputs read
//! back to the same model and pass the validator; the reader and validator
//! never panic on arbitrary bytes.

use nacha::*;
use proptest::prelude::*;

const ROUTINGS: &[&str] = &[
    "121042882",
    "011000015",
    "021000021",
    "231380104",
    "091000019",
    "011401533",
];

fn rt(i: usize) -> RoutingNumber {
    RoutingNumber::parse(ROUTINGS[i % ROUTINGS.len()]).expect("valid")
}

#[derive(Debug, Clone)]
struct E {
    tc: u8,
    rdfi: usize,
    account: String,
    amount: u64,
    name: String,
    id: String,
    addenda: Option<String>,
    recurring: bool,
}

#[derive(Debug, Clone)]
struct B {
    sec: usize,
    scc: usize,
    company: String,
    desc: String,
    entries: Vec<E>,
}

fn text(max: usize, min: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[A-Za-z0-9 .,*#/-]{{{min},{max}}}"))
        .expect("regex")
        .prop_filter("not blank or all zeros", move |s| {
            min == 0 || !s.bytes().all(|b| b == b'0' || b == b' ')
        })
}

fn entry() -> impl Strategy<Value = E> {
    (
        prop::sample::select(vec![22u8, 23, 27, 28, 32, 33, 37, 38]),
        0usize..6,
        text(17, 1),
        1u64..9_999_999_999,
        text(22, 1),
        text(15, 0),
        prop::option::of(text(80, 0)),
        any::<bool>(),
    )
        .prop_map(
            |(tc, rdfi, account, amount, name, id, addenda, recurring)| E {
                tc,
                rdfi,
                account,
                amount,
                name,
                id,
                addenda,
                recurring,
            },
        )
}

fn batch() -> impl Strategy<Value = B> {
    (
        0usize..4,
        0usize..3,
        text(16, 1),
        text(10, 1),
        prop::collection::vec(entry(), 1..6),
    )
        .prop_map(|(sec, scc, company, desc, entries)| B {
            sec,
            scc,
            company,
            desc,
            entries,
        })
}

/// Adjusts arbitrary inputs to the rules (prenotes zero, TEL debits without
/// addenda, service class matching the codes) and builds the file.
fn build(batches: &[B], seq: u32) -> NachaFile {
    let mut fb = FileBuilder::new(FileHeaderSpec::new(
        rt(3),
        "1210428822",
        "FED",
        "ACME",
        Date::new(2025, 2, 28),
        'Z',
    ))
    .trace_sequence_start(seq);
    let mut bb: Option<BatchBuilder> = None;
    for b in batches {
        let sec = [SecCode::Ppd, SecCode::Ccd, SecCode::Web, SecCode::Tel][b.sec];
        let mut scc = [
            ServiceClass::Mixed,
            ServiceClass::CreditsOnly,
            ServiceClass::DebitsOnly,
        ][b.scc];
        if sec == SecCode::Tel {
            scc = ServiceClass::DebitsOnly;
        }
        let spec = BatchSpec::new(
            scc,
            sec,
            &b.company,
            "1234567890",
            &b.desc,
            Date::new(2025, 3, 3),
            rt(0),
        );
        let mut cur = match bb.take() {
            Some(x) => x.batch(spec),
            None => std::mem::replace(
                &mut fb,
                FileBuilder::new(FileHeaderSpec::new(
                    rt(3),
                    "1",
                    "",
                    "",
                    Date::new(2025, 1, 1),
                    'A',
                )),
            )
            .batch(spec),
        };
        for e in &b.entries {
            let mut tc = e.tc;
            match scc {
                ServiceClass::CreditsOnly if tc % 10 >= 5 => tc -= 5,
                ServiceClass::DebitsOnly if tc % 10 < 5 => tc += 5,
                _ => {}
            }
            let t = TransactionCode(tc);
            let amount = if t.is_prenote() { 0 } else { e.amount };
            let mut s =
                EntrySpec::new(t, rt(e.rdfi), &e.account, amount, &e.name).individual_id(&e.id);
            if matches!(sec, SecCode::Web | SecCode::Tel) {
                s = s.payment_type(if e.recurring {
                    PaymentType::Recurring
                } else {
                    PaymentType::Single
                });
            }
            if sec != SecCode::Tel {
                if let Some(a) = &e.addenda {
                    s = s.addenda(a);
                }
            }
            cur = cur.entry(s);
        }
        bb = Some(cur);
    }
    match bb {
        Some(b) => b.build().expect("valid inputs build"),
        None => fb.build().expect("empty file builds"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn written_files_read_back_identically_and_validate(batches in prop::collection::vec(batch(), 1..5), seq in 1u32..9_000_000) {
        let file = build(&batches, seq);
        let bytes = file.to_bytes();
        let back = nacha::read(&bytes).expect("reads");
        prop_assert_eq!(&back, &file);
        // written files are checked in strict mode: no error and no warning
        let opts = ValidateOptions { require_padding: true, ..ValidateOptions::strict() };
        let errs = nacha::validate(&bytes, &opts);
        prop_assert!(errs.is_empty(), "{:?}", errs);
        prop_assert!(file.validate(&ValidateOptions::strict()).is_empty());
        prop_assert_eq!(file.to_checked_bytes().expect("passes strict validation"), bytes.clone());
        prop_assert_eq!(back.to_bytes(), bytes);
    }

    #[test]
    fn reader_and_validator_never_panic_on_arbitrary_bytes(data in prop::collection::vec(any::<u8>(), 0..2000)) {
        let _ = nacha::read(&data);
        let _ = nacha::validate(&data, &ValidateOptions::default());
        let _ = nacha::validate(&data, &ValidateOptions::strict());
        let _ = nacha::report::inspect(&data, Default::default());
        let _ = nacha::read_from(&data[..]);
    }

    #[test]
    fn validator_never_panics_on_mutated_valid_files(batches in prop::collection::vec(batch(), 1..3), flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..20)) {
        let mut bytes = build(&batches, 1).to_bytes();
        for (i, b) in flips {
            let at = i.index(bytes.len());
            bytes[at] = b;
        }
        let tolerant = nacha::validate(&bytes, &ValidateOptions::default());
        let strict = nacha::validate(&bytes, &ValidateOptions::strict());
        // strict mode reports exactly the same findings, all as errors
        prop_assert_eq!(tolerant.len(), strict.len());
        prop_assert!(strict.iter().all(|e| e.is_error()));
        if let Ok(f) = nacha::read(&bytes) {
            let _ = f.validate(&ValidateOptions::default());
            let _ = f.to_bytes();
        }
        let _ = nacha::report::inspect(&bytes, Default::default());
    }
}
