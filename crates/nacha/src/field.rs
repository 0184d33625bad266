//! Fixed-width field helpers: reading numbers and text straight out of a
//! 94-byte record and writing left-justified alphanumeric / right-justified
//! numeric fields into a record buffer without intermediate allocations.
//!
//! Positions in this crate are the 1-based, inclusive positions used by the
//! NACHA rules (`pos(4, 13)` is bytes `3..13` of the record).

/// Length of every NACHA record.
pub const RECORD_LEN: usize = 94;

/// One 94-byte record.
pub type RecordBytes = [u8; RECORD_LEN];

/// A field location: 1-based start position and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// 1-based start position.
    pub start: usize,
    /// Width in bytes.
    pub len: usize,
}

impl Span {
    /// Span from 1-based inclusive positions `from..=to`.
    pub const fn pos(from: usize, to: usize) -> Span {
        Span {
            start: from,
            len: to + 1 - from,
        }
    }

    /// The byte range inside a record.
    #[inline]
    pub const fn range(self) -> core::ops::Range<usize> {
        (self.start - 1)..(self.start - 1 + self.len)
    }

    /// The bytes of this field.
    #[inline]
    pub fn of(self, rec: &RecordBytes) -> &[u8] {
        &rec[self.range()]
    }
}

/// Parses an all-digit field; `None` if any byte is not `0`-`9`.
#[inline]
pub fn digits(bytes: &[u8]) -> Option<u64> {
    let mut v: u64 = 0;
    for &b in bytes {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v.wrapping_mul(10).wrapping_add(u64::from(d));
    }
    Some(v)
}

/// True when every byte is an ASCII space.
#[inline]
pub fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(|&b| b == b' ')
}

/// True when every byte is `0`-`9`.
#[inline]
pub fn is_digits(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_digit)
}

/// Position (0-based within the field) of the first control character
/// (below 0x20 or DEL), if any.
#[inline]
pub fn first_control(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b < 0x20 || b == 0x7f)
}

/// Field text with trailing spaces removed, decoded lossily (non-UTF-8 bytes
/// become U+FFFD). Borrowed when the bytes are valid UTF-8.
pub fn text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    let end = bytes.iter().rposition(|&b| b != b' ').map_or(0, |p| p + 1);
    String::from_utf8_lossy(&bytes[..end])
}

/// Field text with leading and trailing spaces removed.
pub fn trimmed(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    let start = bytes.iter().position(|&b| b != b' ').unwrap_or(bytes.len());
    text(&bytes[start..])
}

/// Writes `value` right-justified and zero-filled into `out`, keeping the
/// rightmost digits if it does not fit.
#[inline]
pub fn put_num(out: &mut [u8], mut value: u64) {
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// Writes `value` left-justified and space-filled into `out`, upper-casing
/// ASCII letters. The caller must have checked that it fits.
#[inline]
pub fn put_alpha(out: &mut [u8], value: &[u8]) {
    let n = value.len().min(out.len());
    for (slot, &b) in out[..n].iter_mut().zip(value) {
        *slot = b.to_ascii_uppercase();
    }
    for slot in &mut out[n..] {
        *slot = b' ';
    }
}

/// Rightmost `digits` decimal digits of `v`.
#[inline]
pub fn rightmost(v: u64, digits: u32) -> u64 {
    v % 10u64.pow(digits)
}

/// True for a valid `YYMMDD` date (month 1-12, day valid for the month;
/// years are taken as 20YY for the leap-year rule).
pub fn is_yymmdd(bytes: &[u8]) -> bool {
    if bytes.len() != 6 {
        return false;
    }
    let (Some(y), Some(m), Some(d)) = (
        digits(&bytes[0..2]),
        digits(&bytes[2..4]),
        digits(&bytes[4..6]),
    ) else {
        return false;
    };
    (1..=12).contains(&m) && d >= 1 && d <= days_in_month(2000 + y as u32, m as u32) as u64
}

/// Days in a month of the proleptic Gregorian calendar.
pub fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        _ => 0,
    }
}

/// True for a valid `HHMM` time.
pub fn is_hhmm(bytes: &[u8]) -> bool {
    bytes.len() == 4
        && matches!((digits(&bytes[0..2]), digits(&bytes[2..4])), (Some(h), Some(m)) if h < 24 && m < 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_rejects_spaces_and_letters() {
        assert_eq!(digits(b"0012"), Some(12));
        assert_eq!(digits(b" 12"), None);
        assert_eq!(digits(b"1A"), None);
    }

    #[test]
    fn put_num_zero_fills_and_keeps_rightmost_digits() {
        let mut b = [0u8; 5];
        put_num(&mut b, 42);
        assert_eq!(&b, b"00042");
        put_num(&mut b, 1234567);
        assert_eq!(&b, b"34567");
    }

    #[test]
    fn put_alpha_uppercases_and_space_fills() {
        let mut b = [0u8; 6];
        put_alpha(&mut b, b"ab1");
        assert_eq!(&b, b"AB1   ");
    }

    #[test]
    fn yymmdd_checks_calendar() {
        assert!(is_yymmdd(b"240229"));
        assert!(!is_yymmdd(b"230229"));
        assert!(!is_yymmdd(b"231301"));
        assert!(!is_yymmdd(b"      "));
    }

    #[test]
    fn text_trims_trailing_spaces_only() {
        assert_eq!(text(b" AB  "), " AB");
        assert_eq!(trimmed(b" AB  "), "AB");
    }
}
