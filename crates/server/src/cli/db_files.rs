//! Files for `inflow backup` and `inflow restore`: where the SQLite database
//! lives, writing a file under a temporary name and renaming it into place
//! (`0600`, synced), and whether a running Inflow has an SQLite database open.

use anyhow::{bail, Context};
use inflow_engine::private_fs;
use std::path::{Path, PathBuf};

use crate::config::Config;

/// The SQLite database file the configuration names; `None` on PostgreSQL.
pub fn sqlite_path(config: &Config) -> anyhow::Result<Option<PathBuf>> {
    let url = config.database_url();
    let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    else {
        return Ok(None);
    };
    let path = rest.split('?').next().unwrap_or(rest);
    if path.is_empty() || path == ":memory:" || path.starts_with("file:") {
        bail!("the database URL {url:?} does not name an SQLite file");
    }
    Ok(Some(PathBuf::from(path)))
}

/// Refuse to replace `path` unless `force`.
pub fn refuse_existing(path: &Path, force: bool, what: &str) -> anyhow::Result<()> {
    if !force && std::fs::symlink_metadata(path).is_ok() {
        bail!(
            "{} already exists: refusing to overwrite {what} (pass --force to replace it); nothing was changed",
            path.display()
        );
    }
    Ok(())
}

/// A new, empty, private temporary file beside `target` (same folder, so
/// the final rename is atomic).
pub fn temp_beside(target: &Path) -> anyhow::Result<PathBuf> {
    let dir = parent(target);
    let name = target
        .file_name()
        .with_context(|| format!("{} is not a file name", target.display()))?
        .to_string_lossy();
    let temp = dir.join(format!(".{name}.partial-{}", std::process::id()));
    let _ = std::fs::remove_file(&temp);
    private_fs::new_file_options()
        .open(&temp)
        .with_context(|| format!("creating {}", temp.display()))?;
    Ok(temp)
}

/// Make `temp` `0600`, sync it and rename it to `target`, then sync the folder.
pub fn publish(temp: &Path, target: &Path) -> anyhow::Result<u64> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(temp, std::fs::Permissions::from_mode(private_fs::FILE_MODE))
            .with_context(|| format!("making {} private", temp.display()))?;
    }
    let file = std::fs::File::open(temp).with_context(|| format!("opening {}", temp.display()))?;
    file.sync_all()
        .with_context(|| format!("syncing {}", temp.display()))?;
    let bytes = file.metadata()?.len();
    std::fs::rename(temp, target)
        .with_context(|| format!("renaming {} to {}", temp.display(), target.display()))?;
    sync_dir(&parent(target));
    Ok(bytes)
}

/// Remove `temp` after a failure (best effort).
pub fn discard(temp: &Path) {
    let _ = std::fs::remove_file(temp);
}

fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// `path` with `suffix` appended to its name (`inflow.db` → `inflow.db-wal`).
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Does another process have the SQLite database at `db` open? Every
/// connection to a WAL database holds a shared lock on its `-shm` file for
/// as long as it is open; an exclusive lock on the whole file is refused
/// while any such connection exists (POSIX record locks, which SQLite uses
/// on Unix). No `-shm` file: no connection.
#[cfg(unix)]
pub fn sqlite_in_use(db: &Path) -> anyhow::Result<bool> {
    use rustix::fs::{fcntl_lock, FlockOperation};
    let shm = with_suffix(db, "-shm");
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&shm)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e).with_context(|| format!("opening {}", shm.display())),
    };
    match fcntl_lock(&file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => {
            let _ = fcntl_lock(&file, FlockOperation::Unlock);
            Ok(false)
        }
        Err(e) if e == rustix::io::Errno::AGAIN || e == rustix::io::Errno::ACCESS => Ok(true),
        Err(e) => {
            Err(std::io::Error::from(e)).with_context(|| format!("locking {}", shm.display()))
        }
    }
}

#[cfg(not(unix))]
pub fn sqlite_in_use(_db: &Path) -> anyhow::Result<bool> {
    Ok(false)
}

/// The program `name` on `PATH`, if any.
pub fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sqlite_path_comes_from_the_url_or_the_data_dir() {
        let c = Config {
            database_url: Some("sqlite:///var/lib/inflow/x.db?mode=rwc".into()),
            ..Config::default()
        };
        assert_eq!(
            sqlite_path(&c).unwrap(),
            Some(PathBuf::from("/var/lib/inflow/x.db"))
        );
        let d = Config::default();
        assert_eq!(
            sqlite_path(&d).unwrap(),
            Some(PathBuf::from("./inflow-data/inflow.db"))
        );
        let p = Config {
            database_url: Some("postgres://u@h/d".into()),
            ..Config::default()
        };
        assert_eq!(sqlite_path(&p).unwrap(), None);
        let m = Config {
            database_url: Some("sqlite::memory:".into()),
            ..Config::default()
        };
        assert!(sqlite_path(&m).is_err());
    }
}
