//! Small text helpers shared by validators, and the rules for text that is
//! written into NACHA fields: the NACHA form of a name (accents dropped,
//! upper case), receiver names that must say something, and company entry
//! descriptions NACHA reserves.

use crate::ValidationError;

/// At most `max` characters of `s`, for echoing user input in error messages
/// without letting a megabyte of it through.
pub fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// Validate a free-text field: trimmed length within bounds, no control characters.
pub fn bounded_text(
    field: &str,
    value: &str,
    min: usize,
    max: usize,
) -> Result<String, crate::ValidationError> {
    let v = value.trim();
    let len = v.chars().count();
    if len < min {
        return Err(crate::ValidationError::new(
            field,
            if min == 1 { "required" } else { "too_short" },
            if min == 1 {
                format!("{field} must not be empty")
            } else {
                format!("{field} must be at least {min} characters")
            },
        ));
    }
    if len > max {
        return Err(crate::ValidationError::new(
            field,
            "too_long",
            format!("{field} must be at most {max} characters, got {len}"),
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(crate::ValidationError::new(
            field,
            "invalid_characters",
            format!("{field} must not contain control characters"),
        ));
    }
    Ok(v.to_owned())
}

/// The NACHA form of `c`: upper-cased printable ASCII, a Latin-1 letter
/// without its accent, a space for tabs and line ends, or `None` when it
/// has no form in the NACHA character set.
pub fn nacha_char(c: char) -> Option<char> {
    Some(match c {
        'À'..='Å' | 'à'..='å' => 'A',
        'Ç' | 'ç' => 'C',
        'È'..='Ë' | 'è'..='ë' => 'E',
        'Ì'..='Ï' | 'ì'..='ï' => 'I',
        'Ñ' | 'ñ' => 'N',
        'Ò'..='Ö' | 'Ø' | 'ò'..='ö' | 'ø' => 'O',
        'Ù'..='Ü' | 'ù'..='ü' => 'U',
        'Ý' | 'ý' | 'ÿ' => 'Y',
        '\t' | '\n' | '\r' => ' ',
        c if (' '..='~').contains(&c) => c.to_ascii_uppercase(),
        _ => return None,
    })
}

/// Text for a NACHA alphanumeric field: [`nacha_char`] of every character
/// (characters with no NACHA form dropped), trimmed, at most `width`.
pub fn nacha_form(s: &str, width: usize) -> String {
    let out: String = s.chars().filter_map(nacha_char).collect();
    let trimmed: String = out.trim().chars().take(width).collect();
    trimmed.trim_end().to_owned()
}

/// True when `s` is nothing but zeros and spaces (empty included): what a
/// mandatory NACHA field must never be.
pub fn zeros_or_spaces(s: &str) -> bool {
    s.bytes().all(|b| b == b'0' || b == b' ')
}

/// A bank account holder's name (the receiver's name in the NACHA entry):
/// 1–`max` characters without control characters, every character with a
/// NACHA form ([`nacha_char`]; accented Latin letters lose the accent), and
/// not only zeros and spaces (PPD, WEB and TEL entries must name the
/// receiver).
pub fn validate_holder_name(field: &str, s: &str, max: usize) -> Result<String, ValidationError> {
    let v = bounded_text(field, s, 1, max)?;
    if let Some(c) = v.chars().find(|&c| nacha_char(c).is_none()) {
        return Err(ValidationError::new(
            field,
            "invalid_characters",
            format!(
                "{field} contains {c:?}, which has no form in the NACHA character set \
                 (letters, digits, spaces and ASCII punctuation; accents are dropped)"
            ),
        ));
    }
    if zeros_or_spaces(&nacha_form(&v, 22)) {
        return Err(ValidationError::new(
            field,
            "invalid_name",
            format!("{field} must name the account holder, not be all zeros or spaces"),
        ));
    }
    Ok(v)
}

/// A company entry description for an ordinary forward entry: NACHA text of
/// 1–10 characters, not only zeros and spaces, and none of the descriptions
/// NACHA reserves (`REVERSAL`, `RETURN FEE`, `RETRY PYMT`, `RECLAIM`,
/// `AUTOENROLL`, `NONSETTLED`). Stored upper case.
pub fn validate_entry_description(field: &str, s: &str) -> Result<String, ValidationError> {
    let d = crate::model::nacha_text(field, s, 10)?;
    if zeros_or_spaces(&d) {
        return Err(ValidationError::new(
            field,
            "invalid_entry_description",
            format!("{field} must not be all zeros or spaces"),
        ));
    }
    if let Some(r) = nacha::ReservedDescription::of(d.as_bytes()) {
        return Err(ValidationError::new(
            field,
            "reserved_entry_description",
            format!(
                "{field} {r:?} is reserved by NACHA for {}; ordinary entries cannot use it",
                reserved_use(r)
            ),
        ));
    }
    Ok(d)
}

fn reserved_use(r: nacha::ReservedDescription) -> &'static str {
    use nacha::ReservedDescription as R;
    match r {
        R::Reversal => "reversing entries",
        R::ReturnFee => "return fee entries",
        R::RetryPayment => "reinitiated (retried) entries",
        R::Reclaim => "reclamation entries",
        R::AutoEnroll => "automated enrollment (ENR) entries",
        R::NonSettled => "entries correcting non-settled entries",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holder_names_must_have_a_nacha_form_that_names_someone() {
        assert_eq!(
            validate_holder_name("holderName", "José Ñúñez", 88).unwrap(),
            "José Ñúñez"
        );
        assert_eq!(nacha_form("José Ñúñez", 22), "JOSE NUNEZ");
        let e = validate_holder_name("holderName", "0000000", 88).unwrap_err();
        assert_eq!((e.field.as_str(), e.code), ("holderName", "invalid_name"));
        let e = validate_holder_name("holderName", "Jane 日本", 88).unwrap_err();
        assert_eq!(e.code, "invalid_characters");
        assert!(e.message.contains("'日'"), "{}", e.message);
    }

    #[test]
    fn entry_descriptions_refuse_zeros_and_reserved_words() {
        assert_eq!(
            validate_entry_description("d", "Payroll").unwrap(),
            "PAYROLL"
        );
        for (bad, code) in [
            ("0000000000", "invalid_entry_description"),
            ("reversal", "reserved_entry_description"),
            ("RETURN FEE", "reserved_entry_description"),
            ("RETRY PYMT", "reserved_entry_description"),
            ("NONSETTLED", "reserved_entry_description"),
            ("RECLAIM", "reserved_entry_description"),
            ("AUTOENROLL", "reserved_entry_description"),
            ("Café", "invalid_characters"),
        ] {
            assert_eq!(
                validate_entry_description("d", bad).unwrap_err().code,
                code,
                "{bad}"
            );
        }
    }

    #[test]
    fn clip_keeps_short_text_and_cuts_long_text_on_a_char_boundary() {
        assert_eq!(clip("abc", 5), "abc");
        assert_eq!(clip("ééééé", 2), "éé…");
    }

    #[test]
    fn bounded_text_trims_and_rejects_control_characters() {
        assert_eq!(bounded_text("name", "  Ann ", 1, 10).unwrap(), "Ann");
        assert_eq!(
            bounded_text("name", "", 1, 10).unwrap_err().code,
            "required"
        );
        assert_eq!(
            bounded_text("name", "a\u{7}b", 1, 10).unwrap_err().code,
            "invalid_characters"
        );
        assert_eq!(
            bounded_text("name", "abcdefghijk", 1, 10).unwrap_err().code,
            "too_long"
        );
    }
}
