//! Every representative file the writer produces passes our validator, reads
//! back to the same model, and passes the independent validator `achlens`
//! (PyPI `achlens==0.1.7`, installed by `scripts/achlens-check.sh`).

use nacha::*;
use std::process::Command;

fn rt(s: &str) -> RoutingNumber {
    RoutingNumber::parse(s).expect("valid routing number")
}

fn header() -> FileHeaderSpec<'static> {
    let mut h = FileHeaderSpec::new(
        rt("231380104"),
        "1210428822",
        "Federal Reserve Bank",
        "Acme Collections",
        Date::new(2025, 1, 3),
        'A',
    );
    h.creation_time = Some((10, 30));
    h
}

fn batch(scc: ServiceClass, sec: SecCode, desc: &'static str) -> BatchSpec<'static> {
    BatchSpec::new(
        scc,
        sec,
        "Acme Corp",
        "1234567890",
        desc,
        Date::new(2025, 1, 6),
        rt("121042882"),
    )
}

fn debit(tc: TransactionCode, amount: u64) -> EntrySpec<'static> {
    EntrySpec::new(tc, rt("231380104"), "1234567890", amount, "Jane Doe").individual_id("INV-0001")
}

fn files() -> Vec<(&'static str, NachaFile)> {
    let d = TransactionCode::CHECKING_DEBIT;
    let web = |e: EntrySpec<'static>| e.payment_type(PaymentType::Single);
    let tel = |e: EntrySpec<'static>| e.payment_type(PaymentType::Recurring);
    let build = |b: BatchBuilder| b.build().expect("builds");
    vec![
        (
            "ppd-debit",
            build(
                FileBuilder::new(header())
                    .batch(batch(ServiceClass::DebitsOnly, SecCode::Ppd, "PAYMENT"))
                    .entry(debit(d, 12345)),
            ),
        ),
        (
            "ccd-debit",
            build(
                FileBuilder::new(header())
                    .batch(batch(ServiceClass::DebitsOnly, SecCode::Ccd, "INVOICE"))
                    .entry(debit(d, 50_000))
                    .entry(debit(d, 1)),
            ),
        ),
        (
            "web-debit",
            build(
                FileBuilder::new(header())
                    .batch(batch(ServiceClass::DebitsOnly, SecCode::Web, "PURCHASE"))
                    .entry(web(debit(d, 2500)))
                    .entry(debit(d, 99).payment_type(PaymentType::Recurring)),
            ),
        ),
        (
            "tel-debit",
            build(
                FileBuilder::new(header())
                    .batch(batch(ServiceClass::DebitsOnly, SecCode::Tel, "PHONE PAY"))
                    .entry(tel(debit(d, 4200))),
            ),
        ),
        (
            "prenotes",
            build(
                FileBuilder::new(header())
                    .batch(batch(ServiceClass::DebitsOnly, SecCode::Ppd, "PRENOTE"))
                    .entry(debit(TransactionCode::CHECKING_DEBIT_PRENOTE, 0))
                    .entry(debit(TransactionCode::SAVINGS_DEBIT_PRENOTE, 0)),
            ),
        ),
        (
            "savings-debit",
            build(
                FileBuilder::new(header())
                    .batch(batch(ServiceClass::DebitsOnly, SecCode::Ppd, "PAYMENT"))
                    .entry(debit(TransactionCode::SAVINGS_DEBIT, 7700)),
            ),
        ),
        (
            "addenda",
            build(
                FileBuilder::new(header())
                    .batch(batch(ServiceClass::DebitsOnly, SecCode::Ppd, "PAYMENT"))
                    .entry(debit(d, 100).addenda("ORDER 42 invoice payment"))
                    .entry(debit(d, 200)),
            ),
        ),
        (
            "multi-batch",
            build(
                FileBuilder::new(header())
                    .trace_sequence_start(100)
                    .batch(batch(ServiceClass::DebitsOnly, SecCode::Ppd, "PAYMENT"))
                    .entry(debit(d, 100))
                    .batch(batch(ServiceClass::DebitsOnly, SecCode::Web, "PURCHASE"))
                    .entry(web(debit(d, 200)))
                    .batch(batch(ServiceClass::DebitsOnly, SecCode::Ccd, "INVOICE"))
                    .entry(debit(d, 300).addenda("RMR*IV*12345"))
                    .entry(debit(TransactionCode::SAVINGS_DEBIT, 400)),
            ),
        ),
        (
            "credits",
            build(
                FileBuilder::new(header())
                    .batch(batch(ServiceClass::CreditsOnly, SecCode::Ppd, "REFUND"))
                    .entry(debit(TransactionCode::CHECKING_CREDIT, 1500))
                    .entry(debit(TransactionCode::SAVINGS_CREDIT, 250)),
            ),
        ),
        (
            "mixed-200",
            build(
                FileBuilder::new(header())
                    .batch(batch(ServiceClass::Mixed, SecCode::Ppd, "ADJUSTMENT"))
                    .entry(debit(d, 1000))
                    .entry(debit(TransactionCode::CHECKING_CREDIT, 400))
                    .entry(debit(TransactionCode::SAVINGS_CREDIT_PRENOTE, 0)),
            ),
        ),
        (
            "explicit-traces",
            build(
                FileBuilder::new(header())
                    .batch(batch(ServiceClass::DebitsOnly, SecCode::Web, "PURCHASE"))
                    .entry(
                        web(debit(d, 10))
                            .trace(TraceNumber::new(&rt("121042882"), 5000).expect("trace")),
                    )
                    .entry(web(debit(d, 20))),
            ),
        ),
    ]
}

#[test]
fn written_files_validate_and_read_back_identically() {
    for (name, file) in files() {
        let bytes = file.to_bytes();
        // files Inflow writes are checked in strict mode (warnings are errors)
        assert!(
            file.validate(&ValidateOptions::strict()).is_empty(),
            "{name}: {:?}",
            file.validate(&ValidateOptions::strict())
        );
        let errs = nacha::validate(
            &bytes,
            &ValidateOptions {
                require_padding: true,
                ..ValidateOptions::strict()
            },
        );
        assert!(errs.is_empty(), "{name}: {errs:?}");
        assert_eq!(
            file.to_checked_bytes().expect("passes strict validation"),
            bytes,
            "{name}"
        );
        assert_eq!(nacha::read(&bytes).expect("reads"), file, "{name}");
    }
}

#[test]
fn written_files_pass_achlens() {
    let found = Command::new("achlens")
        .arg("--help")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "\n\n*** achlens is not on PATH. Run scripts/achlens-check.sh (pip install achlens==0.1.7). ***\n\n"
    );
    let dir = std::env::temp_dir().join(format!("inflow-nacha-achlens-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut failures = Vec::new();
    for (name, file) in files() {
        let path = dir.join(format!("{name}.ach"));
        std::fs::write(&path, file.to_bytes()).expect("write file");
        let out = Command::new("achlens")
            .arg("validate")
            .arg(&path)
            .output()
            .expect("run achlens");
        if !out.status.success() {
            failures.push(format!("{name}: {}", String::from_utf8_lossy(&out.stdout)));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        failures.is_empty(),
        "achlens rejected:\n{}",
        failures.join("\n")
    );
}
