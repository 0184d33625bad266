//! Fuzz target: the reader, the streaming validator, model validation,
//! writing and the CLI reports must never panic on any input, and a model
//! that validates must write back to bytes that read to the same model.
//! Strict mode must report the same findings as the default mode, all as
//! errors.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nacha::ValidateOptions;

fuzz_target!(|data: &[u8]| {
    let opts = ValidateOptions::default();
    let errors = nacha::validate(data, &opts);
    let strict = nacha::validate(data, &ValidateOptions::strict());
    assert_eq!(strict.len(), errors.len());
    assert!(strict.iter().all(|e| e.is_error()));
    let _ = nacha::report::validate_report(data, &opts).to_string();
    let _ = nacha::report::inspect(data, Default::default()).map(|r| r.to_string());
    let _ = nacha::read_from(data);
    if let Ok(file) = nacha::read(data) {
        let _ = file.validate(&opts);
        let out = file.to_bytes();
        let again = nacha::read(&out).expect("written output reads");
        if errors.is_empty() {
            // valid files round-trip exactly
            assert_eq!(again, file);
        }
    }
    let _ = errors.len();
});
