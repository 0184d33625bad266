//! Record types of a NACHA file. Every record keeps its 94 raw bytes (so a
//! file read and written again is byte-for-byte identical) and exposes typed
//! accessors that parse fields on demand straight from those bytes.
//!
//! Field layouts live in [`layout`]; one module per record type adds the
//! typed accessors.

pub mod addenda;
pub mod adv;
pub mod batch_control;
pub mod batch_header;
pub mod entry_detail;
pub mod file_control;
pub mod file_header;
pub mod iat;
pub mod layout;

use crate::field::{self, RecordBytes, Span, RECORD_LEN};

pub use addenda::{Addenda, AddendaKind, NocInfo, ReturnInfo};
pub use adv::{AdvBatchControl, AdvEntryDetail, AdvFileControl};
pub use batch_control::BatchControl;
pub use batch_header::BatchHeader;
pub use entry_detail::EntryDetail;
pub use file_control::FileControl;
pub use file_header::FileHeader;
pub use iat::{IatBatchHeader, IatEntryDetail};

/// The record type code in position 1, as a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// `1` file header.
    FileHeader,
    /// `5` batch header.
    BatchHeader,
    /// `6` entry detail.
    EntryDetail,
    /// `7` addenda.
    Addenda,
    /// `8` batch control.
    BatchControl,
    /// `9` file control.
    FileControl,
    /// All-`9` blocking record.
    Padding,
    /// Anything else (unknown record type, unreadable line).
    Unknown,
}

impl RecordKind {
    /// Classifies a record by its first byte(s).
    pub fn of(rec: &RecordBytes) -> RecordKind {
        match rec[0] {
            b'1' => RecordKind::FileHeader,
            b'5' => RecordKind::BatchHeader,
            b'6' => RecordKind::EntryDetail,
            b'7' => RecordKind::Addenda,
            b'8' => RecordKind::BatchControl,
            b'9' if rec.iter().all(|&b| b == b'9') => RecordKind::Padding,
            b'9' => RecordKind::FileControl,
            _ => RecordKind::Unknown,
        }
    }

    /// Human name used in error messages.
    pub const fn name(self) -> &'static str {
        match self {
            RecordKind::FileHeader => "file header",
            RecordKind::BatchHeader => "batch header",
            RecordKind::EntryDetail => "entry detail",
            RecordKind::Addenda => "addenda",
            RecordKind::BatchControl => "batch control",
            RecordKind::FileControl => "file control",
            RecordKind::Padding => "padding",
            RecordKind::Unknown => "record",
        }
    }
}

impl std::fmt::Display for RecordKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The 94 bytes of one record, plus the original source bytes when the
/// source line was not exactly those 94 bytes (a line of 94 UTF-8
/// characters that is longer than 94 bytes). In that case every multi-byte
/// character is represented in `bytes` by one byte (its Latin-1 value, or
/// 0x81 when it has none), so field
/// positions still line up, and writing reproduces the original line.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RawRecord {
    bytes: RecordBytes,
    source: Option<Box<[u8]>>,
}

impl RawRecord {
    /// Wraps 94 bytes.
    pub const fn new(bytes: RecordBytes) -> Self {
        RawRecord {
            bytes,
            source: None,
        }
    }

    /// Wraps normalised bytes and the original (wider) source line.
    pub(crate) fn with_source(bytes: RecordBytes, source: Box<[u8]>) -> Self {
        RawRecord {
            bytes,
            source: Some(source),
        }
    }

    /// The 94 (normalised) bytes.
    #[inline]
    pub fn bytes(&self) -> &RecordBytes {
        &self.bytes
    }

    /// The bytes to write out: the original source line if there was one.
    #[inline]
    pub fn output(&self) -> &[u8] {
        self.source.as_deref().unwrap_or(&self.bytes)
    }

    /// The original source line when it differed from the 94 bytes.
    pub fn source(&self) -> Option<&[u8]> {
        self.source.as_deref()
    }

    /// The character at 0-based position `p`, shown for a message: the
    /// source character (`'é' (U+00E9)`) for a record read from a UTF-8
    /// line, else the byte (`byte 0xE9`).
    pub fn char_at(&self, p: usize) -> String {
        let src = self
            .source
            .as_deref()
            .and_then(|s| std::str::from_utf8(s).ok());
        match src.and_then(|s| s.chars().nth(p)) {
            Some(c) => format!("{c:?} (U+{:04X})", u32::from(c)),
            None => format!("byte 0x{:02X}", self.bytes.get(p).copied().unwrap_or(b' ')),
        }
    }

    /// Bytes of a field.
    #[inline]
    pub fn field(&self, span: Span) -> &[u8] {
        span.of(&self.bytes)
    }

    /// Text of an alphanumeric field (trailing spaces trimmed). For a record
    /// read from a UTF-8 line, the original characters are returned.
    pub fn text(&self, span: Span) -> String {
        match &self.source {
            Some(src) => match std::str::from_utf8(src) {
                Ok(s) => {
                    let t: String = s.chars().skip(span.start - 1).take(span.len).collect();
                    t.trim_end_matches(' ').to_string()
                }
                Err(_) => field::text(self.field(span)).into_owned(),
            },
            None => field::text(self.field(span)).into_owned(),
        }
    }

    /// Numeric value of an all-digit field.
    #[inline]
    pub fn num(&self, span: Span) -> Option<u64> {
        field::digits(self.field(span))
    }

    /// The record kind.
    pub fn kind(&self) -> RecordKind {
        RecordKind::of(&self.bytes)
    }
}

impl std::fmt::Debug for RawRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.output()))
    }
}

/// A blank record (all spaces) with `kind` in position 1.
pub(crate) fn blank(kind: u8) -> RecordBytes {
    let mut b = [b' '; RECORD_LEN];
    b[0] = kind;
    b
}

/// Implements the common wrapper API for a record newtype.
macro_rules! record_wrapper {
    ($t:ident) => {
        impl $t {
            /// Wraps raw record bytes without checking them.
            pub fn from_raw(raw: $crate::record::RawRecord) -> Self {
                $t(raw)
            }
            /// The raw record.
            pub fn raw(&self) -> &$crate::record::RawRecord {
                &self.0
            }
            /// The 94 bytes.
            pub fn bytes(&self) -> &$crate::field::RecordBytes {
                self.0.bytes()
            }
        }
    };
}
pub(crate) use record_wrapper;
