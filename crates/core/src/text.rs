//! Small text helpers shared by validators.

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

#[cfg(test)]
mod tests {
    use super::*;

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
