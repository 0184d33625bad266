//! The strictness rule classes on fixtures of our own
//! (`tests/data/strict`, written by its `gen.py`): mandatory fields all
//! zeros or spaces, reserved company entry descriptions, the TEL reversal
//! direction, trace numbers outside the batch's ODFI, records that are not
//! 94 bytes and bytes outside the NACHA character set — each reported with
//! its line, column and field.

use nacha::{Rule, Severity, ValidateOptions, ValidationError};
use std::path::Path;

fn findings(name: &str, opts: &ValidateOptions) -> Vec<ValidationError> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/strict")
        .join(name);
    let data = std::fs::read(&path).expect("fixture readable");
    nacha::validate(&data, opts)
}

/// (rule, line, column, field, severity) of every finding.
type Found = (Rule, u64, Option<u32>, Option<&'static str>, Severity);

fn summary(f: &[ValidationError]) -> Vec<Found> {
    f.iter()
        .map(|e| (e.rule, e.line, e.column, e.field, e.severity))
        .collect()
}

fn only_error(name: &str, rule: Rule, line: u64, column: u32, field: &'static str) {
    for opts in [ValidateOptions::default(), ValidateOptions::strict()] {
        assert_eq!(
            summary(&findings(name, &opts)),
            [(rule, line, Some(column), Some(field), Severity::Error)],
            "{name} (strict: {})",
            opts.strict
        );
    }
}

fn clean(name: &str) {
    for opts in [ValidateOptions::default(), ValidateOptions::strict()] {
        let f = findings(name, &opts);
        assert!(f.is_empty(), "{name} should be clean: {f:?}");
    }
}

#[test]
fn the_base_fixture_and_legitimate_variants_are_clean() {
    clean("valid-ppd-debit.ach");
    clean("zero-receiving-company-ccd.ach");
    clean("tel-reversal-credit.ach");
    clean("return-fee-debit.ach");
    clean("cie-credit.ach");
}

#[test]
fn company_fields_of_only_zeros_or_spaces_are_refused_with_position() {
    only_error(
        "zero-company-name.ach",
        Rule::MandatoryField,
        2,
        5,
        "company name",
    );
    only_error(
        "blank-company-name.ach",
        Rule::MandatoryField,
        2,
        5,
        "company name",
    );
    only_error(
        "zero-company-identification.ach",
        Rule::MandatoryField,
        2,
        41,
        "company identification",
    );
    only_error(
        "zero-entry-description.ach",
        Rule::MandatoryField,
        2,
        54,
        "company entry description",
    );
}

#[test]
fn a_receiver_name_of_only_zeros_or_spaces_is_refused_where_the_sec_code_needs_one() {
    for f in [
        "zero-individual-name-web.ach",
        "zero-individual-name-tel.ach",
        "blank-individual-name-ppd.ach",
    ] {
        only_error(f, Rule::MandatoryField, 3, 55, "individual name");
    }
    // CIE (and MTE) entries carry the name at 40-54, as moov reads them
    only_error(
        "zero-individual-name-cie.ach",
        Rule::MandatoryField,
        3,
        40,
        "individual name",
    );
    only_error(
        "blank-account-ppd.ach",
        Rule::MandatoryField,
        3,
        13,
        "DFI account number",
    );
    let msg = findings("zero-individual-name-web.ach", &ValidateOptions::default())[0].to_string();
    assert_eq!(
        msg,
        "line 3, column 55: entry detail: individual name is mandatory in a WEB batch and must not be all zeros or spaces"
    );
}

#[test]
fn a_tel_reversal_holding_a_debit_is_refused() {
    only_error(
        "tel-reversal-debit.ach",
        Rule::ReversalDirection,
        3,
        2,
        "transaction code",
    );
}

#[test]
fn reserved_descriptions_are_refused_on_entries_they_cannot_describe() {
    only_error(
        "return-fee-credit.ach",
        Rule::ReservedDescription,
        3,
        2,
        "transaction code",
    );
    only_error(
        "autoenroll-ppd.ach",
        Rule::ReservedDescription,
        2,
        54,
        "company entry description",
    );
}

#[test]
fn a_trace_number_outside_the_batch_odfi_is_refused_unless_custom_traces_are_allowed() {
    only_error(
        "trace-not-odfi.ach",
        Rule::TracePrefix,
        3,
        80,
        "trace number",
    );
    let relaxed = ValidateOptions {
        custom_trace_numbers: true,
        ..ValidateOptions::default()
    };
    assert!(findings("trace-not-odfi.ach", &relaxed).is_empty());
}

#[test]
fn a_utf8_name_is_a_95_byte_record_refused_in_strict_mode_and_flagged_by_default() {
    let want = |s| {
        vec![
            (
                Rule::InvalidCharacter,
                3,
                Some(58),
                Some("individual name"),
                s,
            ),
            (Rule::RecordLength, 3, Some(95), None, s),
        ]
    };
    // moov-io/ach counts characters and accepts É: a warning by default...
    let default = findings("utf8-name-95-bytes.ach", &ValidateOptions::default());
    assert_eq!(summary(&default), want(Severity::Warning));
    assert_eq!(
        default[1].to_string(),
        "line 3, column 95: entry detail: warning: record must be 94 bytes, found 95"
    );
    // The model read from it says the same.
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/strict/utf8-name-95-bytes.ach");
    let model = nacha::read(&std::fs::read(path).expect("fixture")).expect("reads");
    assert_eq!(
        summary(&model.validate(&ValidateOptions::default())),
        want(Severity::Warning)
    );
    // ...and refused in strict mode, which every file Inflow writes passes.
    let strict = findings("utf8-name-95-bytes.ach", &ValidateOptions::strict());
    assert_eq!(summary(&strict), want(Severity::Error));
    assert_eq!(
        strict[0].to_string(),
        "line 3, column 58: entry detail: individual name holds 'É' (U+00C9), outside the NACHA character set"
    );
}

#[test]
fn a_character_outside_latin1_is_refused_in_every_mode() {
    let f = findings("cjk-name.ach", &ValidateOptions::default());
    assert_eq!(
        summary(&f)[0],
        (
            Rule::InvalidCharacter,
            3,
            Some(60),
            Some("individual name"),
            Severity::Error
        )
    );
    assert!(f[0].message.contains("'日' (U+65E5)"), "{}", f[0]);
}

#[test]
fn a_record_longer_than_94_bytes_is_refused_with_its_column() {
    let f = findings("long-record-96.ach", &ValidateOptions::default());
    assert_eq!(
        summary(&f),
        [(Rule::RecordLength, 3, Some(95), None, Severity::Error)]
    );
}

mod builder {
    use nacha::*;

    fn rt(s: &str) -> RoutingNumber {
        RoutingNumber::parse(s).expect("routing")
    }

    fn build(
        sec: SecCode,
        company: &str,
        desc: &str,
        tc: TransactionCode,
        name: &str,
    ) -> Result<NachaFile, BuildError> {
        let scc = if tc.is_debit() {
            ServiceClass::DebitsOnly
        } else {
            ServiceClass::CreditsOnly
        };
        let mut e = EntrySpec::new(tc, rt("231380104"), "12345", 100, name);
        if matches!(sec, SecCode::Web | SecCode::Tel) {
            e.payment_type = Some(PaymentType::Single);
        }
        FileBuilder::new(FileHeaderSpec::new(
            rt("231380104"),
            "1210428822",
            "FED",
            "ACME",
            Date::new(2025, 1, 3),
            'A',
        ))
        .batch(BatchSpec::new(
            scc,
            sec,
            company,
            "1234567890",
            desc,
            Date::new(2025, 1, 6),
            rt("121042882"),
        ))
        .entry(e)
        .build()
    }

    fn field_of(r: Result<NachaFile, BuildError>) -> &'static str {
        match r {
            Err(BuildError::Field { field, .. }) => field,
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn the_builder_refuses_what_the_validator_refuses() {
        let debit = TransactionCode::CHECKING_DEBIT;
        assert!(build(SecCode::Ppd, "ACME", "PAYMENT", debit, "JANE DOE").is_ok());
        assert_eq!(
            field_of(build(SecCode::Ppd, "0000", "PAYMENT", debit, "JANE")),
            "company name"
        );
        assert_eq!(
            field_of(build(SecCode::Ppd, "ACME", "0000000000", debit, "JANE")),
            "company entry description"
        );
        assert_eq!(
            field_of(build(SecCode::Web, "ACME", "PAYMENT", debit, "0000000")),
            "individual name"
        );
        // a CCD receiving company name is not one of the names moov requires
        assert!(build(SecCode::Ccd, "ACME", "PAYMENT", debit, "0000000").is_ok());
        assert!(matches!(
            build(SecCode::Tel, "ACME", "REVERSAL", debit, "JANE"),
            Err(BuildError::Rule { .. })
        ));
    }
}

#[test]
fn a_batch_mixing_forward_entries_and_returns_is_refused() {
    for opts in [ValidateOptions::default(), ValidateOptions::strict()] {
        assert_eq!(
            summary(&findings("mixed-forward-and-return.ach", &opts)),
            [(Rule::EntryCategory, 4, None, None, Severity::Error)]
        );
    }
}

#[test]
fn a_dne_prenote_needs_a_government_originator() {
    only_error(
        "dne-prenote-osc1.ach",
        Rule::OriginatorStatusCode,
        2,
        79,
        "originator status code",
    );
    clean("dne-prenote-osc2.ach");
}
