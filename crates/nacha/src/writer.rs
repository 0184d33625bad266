//! Writing a [`NachaFile`]: every record followed by `\n`, then all-9
//! padding records up to a multiple of 10 records. Output goes into one
//! preallocated buffer; no per-field allocation.
//!
//! Records are written exactly as held in the model, so a file that was
//! read is reproduced byte for byte (line endings normalised to `\n`,
//! space-only tails past position 94 dropped, padding recomputed).
//! Controls of files made by [`crate::FileBuilder`] are computed by the
//! builder. [`NachaFile::to_checked_bytes`] is the writer Inflow uses for
//! files it sends: it validates the output in strict mode first.

use crate::field::RECORD_LEN;
use crate::model::NachaFile;
use crate::validate::{ValidateOptions, ValidationError};
use std::io::Write;

const PADDING: [u8; RECORD_LEN] = [b'9'; RECORD_LEN];

impl NachaFile {
    /// Number of all-9 records the writer appends.
    pub fn padding_needed(&self) -> usize {
        (10 - self.record_count() % 10) % 10
    }

    /// Appends the file to `out`.
    pub fn write_into(&self, out: &mut Vec<u8>) {
        let n = self.record_count() + self.padding_needed();
        out.reserve(n * (RECORD_LEN + 1));
        for r in self.records() {
            out.extend_from_slice(r.output());
            out.push(b'\n');
        }
        for _ in 0..self.padding_needed() {
            out.extend_from_slice(&PADDING);
            out.push(b'\n');
        }
    }

    /// The file as bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.write_into(&mut v);
        v
    }

    /// The file as bytes, validated in strict mode
    /// ([`ValidateOptions::strict`], plus `require_padding`): any finding,
    /// warning or error, is returned instead of the bytes. Every file
    /// Inflow writes goes through this check.
    pub fn to_checked_bytes(&self) -> Result<Vec<u8>, Vec<ValidationError>> {
        let bytes = self.to_bytes();
        let opts = ValidateOptions {
            require_padding: true,
            ..ValidateOptions::strict()
        };
        let findings = crate::validate(&bytes, &opts);
        if findings.is_empty() {
            Ok(bytes)
        } else {
            Err(findings)
        }
    }

    /// Writes the file to `w` in 64 KiB chunks.
    pub fn write_to<W: Write>(&self, w: &mut W) -> std::io::Result<()> {
        const CHUNK: usize = 64 * 1024;
        let mut buf = Vec::with_capacity(CHUNK + 2 * (RECORD_LEN + 1));
        for r in self.records() {
            buf.extend_from_slice(r.output());
            buf.push(b'\n');
            if buf.len() >= CHUNK {
                w.write_all(&buf)?;
                buf.clear();
            }
        }
        for _ in 0..self.padding_needed() {
            buf.extend_from_slice(&PADDING);
            buf.push(b'\n');
        }
        w.write_all(&buf)
    }
}
