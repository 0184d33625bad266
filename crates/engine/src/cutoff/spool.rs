//! A file the cutoff built, kept in an anonymous temporary file (deleted
//! when dropped) from when it is built until the transaction commits and
//! the file is written to the outbound folder: the bytes of a cutoff's many
//! files are never all in memory at once.

use std::io::{Read, Seek, SeekFrom, Write};

use crate::files::AchError;

/// The bytes of one built file, on disk.
pub(crate) struct Spooled {
    file: std::fs::File,
    len: usize,
}

impl Spooled {
    /// Keep `bytes` (of file `file_id`, for errors) in a temporary file.
    pub(crate) fn new(file_id: &str, bytes: &[u8]) -> Result<Self, AchError> {
        let io = |source| AchError::Io {
            file_id: file_id.to_owned(),
            path: std::env::temp_dir(),
            source,
        };
        let mut file = tempfile::tempfile().map_err(io)?;
        file.write_all(bytes).map_err(io)?;
        Ok(Spooled {
            file,
            len: bytes.len(),
        })
    }

    /// The bytes back.
    pub(crate) fn read(mut self, file_id: &str) -> Result<Vec<u8>, AchError> {
        let io = |source| AchError::Io {
            file_id: file_id.to_owned(),
            path: std::env::temp_dir(),
            source,
        };
        let mut bytes = Vec::with_capacity(self.len);
        self.file.seek(SeekFrom::Start(0)).map_err(io)?;
        self.file.read_to_end(&mut bytes).map_err(io)?;
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spooled_bytes_come_back_unchanged() {
        let bytes: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let spooled = Spooled::new("fil_test", &bytes).unwrap();
        assert_eq!(spooled.read("fil_test").unwrap(), bytes);
    }
}
