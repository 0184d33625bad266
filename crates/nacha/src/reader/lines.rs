//! Splits raw input into 94-byte records: handles `\n` and `\r\n`, a missing
//! final newline, blank lines, lines padded past 94 with spaces, short lines
//! (right-padded with spaces and flagged), UTF-8 lines of 94 characters but
//! more bytes, and files with no newlines at all (94-byte fixed blocks).
//!
//! Works on `&[u8]` ([`SliceLines`]) or any `BufRead` ([`ReadLines`])
//! without building a file model.

use crate::field::{RecordBytes, RECORD_LEN};
use crate::record::RawRecord;
use std::io::BufRead;

/// A tolerated or rejected deviation of a source line from 94 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineIssue {
    /// Line shorter than 94 characters; right-padded with spaces. Reported
    /// as an error only if the padded record is otherwise invalid.
    Short(usize),
    /// Line longer than 94 characters with non-space data past 94.
    Long(usize),
    /// Line of 94 UTF-8 characters that is longer than 94 bytes (holds
    /// multi-byte characters): the record is 94 positions, but not 94 bytes.
    Multibyte(usize),
}

/// The byte that stands for a non-ASCII character at its position in the
/// normalised record: its Latin-1 value when it has one (U+0080–U+00FF),
/// else 0x81 (a byte no NACHA field may hold).
fn stand_in(c: char) -> u8 {
    u8::try_from(u32::from(c))
        .ok()
        .filter(|b| *b >= 0x80)
        .unwrap_or(0x81)
}

/// One record cut from the input.
#[derive(Debug, Clone)]
pub struct RawLine {
    /// 1-based line number (record number in fixed-block files).
    pub line: u64,
    /// The record.
    pub record: RawRecord,
    /// Length deviation, if any.
    pub issue: Option<LineIssue>,
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Normalises one source line (without its line terminator) to a record.
pub fn normalize(line: &[u8]) -> (RawRecord, Option<LineIssue>) {
    let len = line.len();
    let mut rec: RecordBytes = [b' '; RECORD_LEN];
    if len == RECORD_LEN {
        rec.copy_from_slice(line);
        return (RawRecord::new(rec), None);
    }
    if len < RECORD_LEN {
        rec[..len].copy_from_slice(line);
        return (RawRecord::new(rec), Some(LineIssue::Short(len)));
    }
    if !line.is_ascii() {
        if let Ok(s) = std::str::from_utf8(line) {
            let chars = s.chars().count();
            let extra_blank = s.chars().skip(RECORD_LEN).all(|c| c == ' ');
            if chars <= RECORD_LEN || extra_blank {
                for (slot, c) in rec.iter_mut().zip(s.chars()) {
                    *slot = if c.is_ascii() { c as u8 } else { stand_in(c) };
                }
                let issue = if chars < RECORD_LEN {
                    LineIssue::Short(chars)
                } else {
                    LineIssue::Multibyte(len)
                };
                return (RawRecord::with_source(rec, line.into()), Some(issue));
            }
        }
    }
    if line[RECORD_LEN..].iter().all(|&b| b == b' ') {
        rec.copy_from_slice(&line[..RECORD_LEN]);
        return (RawRecord::new(rec), None);
    }
    rec.copy_from_slice(&line[..RECORD_LEN]);
    (RawRecord::new(rec), Some(LineIssue::Long(len)))
}

/// True when a first line should be read as concatenated 94-byte records.
fn is_fixed_block(line: &[u8]) -> bool {
    line.len() > RECORD_LEN
        && !line[RECORD_LEN..].iter().all(|&b| b == b' ')
        && (line.len().is_multiple_of(RECORD_LEN) || line.len() >= 2 * RECORD_LEN)
}

/// Record iterator over a byte slice.
#[derive(Debug, Clone)]
pub struct SliceLines<'a> {
    data: &'a [u8],
    pos: usize,
    line: u64,
    fixed: Option<(&'a [u8], usize)>,
}

impl<'a> SliceLines<'a> {
    /// Starts reading `data`.
    pub fn new(data: &'a [u8]) -> Self {
        SliceLines {
            data,
            pos: 0,
            line: 0,
            fixed: None,
        }
    }
}

impl Iterator for SliceLines<'_> {
    type Item = RawLine;

    fn next(&mut self) -> Option<RawLine> {
        loop {
            if let Some((block, off)) = self.fixed {
                if off < block.len() {
                    let end = (off + RECORD_LEN).min(block.len());
                    self.fixed = Some((block, end));
                    self.line += 1;
                    let (record, issue) = normalize(&block[off..end]);
                    return Some(RawLine {
                        line: self.line,
                        record,
                        issue,
                    });
                }
                self.fixed = None;
            }
            if self.pos >= self.data.len() {
                return None;
            }
            let rest = &self.data[self.pos..];
            let (raw, adv) = match memchr_nl(rest) {
                Some(i) => (&rest[..i], i + 1),
                None => (rest, rest.len()),
            };
            let first = self.pos == 0;
            self.pos += adv;
            let line = strip_cr(raw);
            if line.is_empty() {
                self.line += 1;
                continue;
            }
            if first && is_fixed_block(line) {
                self.fixed = Some((line, 0));
                continue;
            }
            self.line += 1;
            let (record, issue) = normalize(line);
            return Some(RawLine {
                line: self.line,
                record,
                issue,
            });
        }
    }
}

#[inline]
fn memchr_nl(s: &[u8]) -> Option<usize> {
    // 94-byte records: the newline is almost always at 94 or 95.
    for probe in [RECORD_LEN, RECORD_LEN + 1] {
        if s.get(probe) == Some(&b'\n') && !s[..probe].contains(&b'\n') {
            return Some(probe);
        }
    }
    s.iter().position(|&b| b == b'\n')
}

/// Record iterator over a `BufRead`. I/O errors end the iteration and are
/// available from [`ReadLines::io_error`].
pub struct ReadLines<R> {
    inner: R,
    buf: Vec<u8>,
    line: u64,
    first: bool,
    fixed: Vec<u8>,
    fixed_pos: usize,
    error: Option<std::io::Error>,
}

impl<R: BufRead> ReadLines<R> {
    /// Starts reading `inner`.
    pub fn new(inner: R) -> Self {
        ReadLines {
            inner,
            buf: Vec::with_capacity(128),
            line: 0,
            first: true,
            fixed: Vec::new(),
            fixed_pos: 0,
            error: None,
        }
    }

    /// The I/O error that stopped iteration, if any.
    pub fn io_error(&self) -> Option<&std::io::Error> {
        self.error.as_ref()
    }

    /// Takes the I/O error that stopped iteration, if any.
    pub fn take_io_error(&mut self) -> Option<std::io::Error> {
        self.error.take()
    }
}

impl<R: BufRead> Iterator for ReadLines<R> {
    type Item = RawLine;

    fn next(&mut self) -> Option<RawLine> {
        loop {
            if self.fixed_pos < self.fixed.len() {
                let end = (self.fixed_pos + RECORD_LEN).min(self.fixed.len());
                let (record, issue) = normalize(&self.fixed[self.fixed_pos..end]);
                self.fixed_pos = end;
                self.line += 1;
                return Some(RawLine {
                    line: self.line,
                    record,
                    issue,
                });
            }
            self.buf.clear();
            match self.inner.read_until(b'\n', &mut self.buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => {
                    self.error = Some(e);
                    return None;
                }
            }
            let first = std::mem::replace(&mut self.first, false);
            let line = strip_cr(self.buf.strip_suffix(b"\n").unwrap_or(&self.buf));
            if line.is_empty() {
                self.line += 1;
                continue;
            }
            if first && is_fixed_block(line) {
                self.fixed = line.to_vec();
                self.fixed_pos = 0;
                continue;
            }
            self.line += 1;
            let (record, issue) = normalize(line);
            return Some(RawLine {
                line: self.line,
                record,
                issue,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(c: u8) -> Vec<u8> {
        let mut v = vec![b' '; 94];
        v[0] = c;
        v
    }

    #[test]
    fn splits_crlf_and_missing_final_newline() {
        let mut data = rec(b'1');
        data.extend_from_slice(b"\r\n");
        data.extend(rec(b'9'));
        let lines: Vec<_> = SliceLines::new(&data).collect();
        assert_eq!(lines.len(), 2);
        assert!(lines.iter().all(|l| l.issue.is_none()));
        assert_eq!(lines[1].line, 2);
    }

    #[test]
    fn reads_files_without_newlines_as_fixed_blocks() {
        let mut data = rec(b'1');
        data.extend(rec(b'5'));
        data.extend(rec(b'9'));
        let lines: Vec<_> = SliceLines::new(&data).collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[1].record.bytes()[0], b'5');
        let lines2: Vec<_> = ReadLines::new(&data[..]).collect();
        assert_eq!(lines2.len(), 3);
    }

    #[test]
    fn flags_short_lines_and_trims_space_only_tails() {
        let mut data = b"9000".to_vec();
        data.push(b'\n');
        let mut long = rec(b'6');
        long.extend_from_slice(b"    ");
        data.extend(long);
        let lines: Vec<_> = SliceLines::new(&data).collect();
        assert_eq!(lines[0].issue, Some(LineIssue::Short(4)));
        assert_eq!(lines[1].issue, None);
    }

    #[test]
    fn maps_utf8_characters_to_single_positions() {
        let mut s = String::from("705");
        s.push('¦');
        s.push('日');
        s.push_str(&" ".repeat(89));
        let lines: Vec<_> = SliceLines::new(s.as_bytes()).collect();
        assert_eq!(lines[0].issue, Some(LineIssue::Multibyte(97)));
        assert_eq!(lines[0].record.bytes()[3], 0xA6, "Latin-1 value of ¦");
        assert_eq!(lines[0].record.bytes()[4], 0x81, "no Latin-1 value");
        assert_eq!(lines[0].record.output(), s.as_bytes());
    }
}
