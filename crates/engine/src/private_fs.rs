//! Files and folders that only Inflow's own user can read.
//!
//! Everything under the data directory can hold secrets: the master key, the
//! demo credentials, the database, and NACHA files full of account numbers.
//! The `inflow` binary sets its umask to `0077` at start-up; these helpers
//! also give every folder mode `0700` and every file `0600` explicitly where
//! Inflow creates them, so the modes hold under any umask (tests, embedding)
//! — and [`tighten`] fixes what an older version created more openly.

use std::io;
use std::path::Path;

/// Mode of the folders Inflow creates.
pub const DIR_MODE: u32 = 0o700;
/// Mode of the files Inflow creates.
pub const FILE_MODE: u32 = 0o600;

/// `create_dir_all` with mode `0700` for every folder it creates.
pub fn create_dir_all(path: &Path) -> io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(DIR_MODE);
    }
    b.create(path)
}

/// [`create_dir_all`] for async code.
pub async fn create_dir_all_async(path: &Path) -> io::Result<()> {
    let mut b = tokio::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    b.mode(DIR_MODE);
    b.create(path).await
}

/// Options that create a new file with mode `0600` for writing.
pub fn new_file_options() -> std::fs::OpenOptions {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(FILE_MODE);
    }
    opts
}

/// Options that create (or truncate) a file with mode `0600`, for async code.
pub fn file_options_async() -> tokio::fs::OpenOptions {
    let mut opts = tokio::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    opts.mode(FILE_MODE);
    opts
}

/// Write `bytes` to `path` (created `0600`, or truncated), async.
pub async fn write_async(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut f = file_options_async().open(path).await?;
    f.write_all(bytes).await?;
    f.sync_all().await
}

/// Make `path` (a file or folder) private if it is not: group and other
/// permissions removed. Symbolic links are left alone.
pub fn make_private(path: &Path) -> io::Result<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::symlink_metadata(path)?;
        if meta.file_type().is_symlink() {
            return Ok(false);
        }
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & !0o077))?;
            return Ok(true);
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(false)
}

/// Make `path` and everything under it private ([`make_private`]);
/// returns how many entries changed. Missing paths are skipped.
pub fn tighten(path: &Path) -> io::Result<u64> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut changed = u64::from(make_private(path)?);
    if meta.is_dir() {
        for entry in std::fs::read_dir(path)? {
            changed += tighten(&entry?.path())?;
        }
    }
    Ok(changed)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn folders_and_files_are_created_private_and_open_ones_are_tightened() {
        let root = std::env::temp_dir().join(format!(
            "inflow-private-{}",
            inflow_core::ids::new_id_body(chrono::Utc::now())
        ));
        let deep = root.join("a").join("b");
        create_dir_all(&deep).unwrap();
        assert_eq!(
            (mode(&root), mode(&root.join("a")), mode(&deep)),
            (0o700, 0o700, 0o700)
        );
        let f = deep.join("x");
        std::io::Write::write_all(&mut new_file_options().open(&f).unwrap(), b"x").unwrap();
        assert_eq!(mode(&f), 0o600);

        std::fs::set_permissions(&deep, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(tighten(&root).unwrap(), 2);
        assert_eq!((mode(&deep), mode(&f)), (0o700, 0o600));
        assert_eq!(tighten(&root).unwrap(), 0);
        assert_eq!(tighten(&root.join("missing")).unwrap(), 0);
        let _ = std::fs::remove_dir_all(&root);
    }
}
