//! `inflow restore --from FILE`: put a backup made by `inflow backup` back
//! as the configured database, then run the ledger check on it.
//!
//! SQLite: the file is checked first (an SQLite database whose integrity
//! check passes, with Inflow's migrations table, and migrations that are
//! this build's first ones); the restore refuses while a process has the
//! database open (the server must be stopped) and, without `--force`,
//! when the database file exists. With `--force` the old database (and its
//! write-ahead log) is kept as `<name>.before-restore-<timestamp>`. The copy
//! is written beside the database, made `0600` and renamed into place;
//! stale `-wal`/`-shm` files are removed first so SQLite cannot replay an
//! old log onto the restored file.
//!
//! PostgreSQL: `pg_restore` into the configured database, which must be
//! empty unless `--force` (then `--clean --if-exists`).

use anyhow::{bail, Context};
use clap::Args;
use inflow_store::backup::{describe_mismatch, inspect_sqlite_file, MigrationReport};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::backup::connect;
use super::db_files::{
    discard, publish, refuse_existing, sqlite_in_use, sqlite_path, temp_beside, with_suffix,
};
use super::pg_tools;
use crate::config::Config;

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup to restore (made by `inflow backup`).
    #[arg(long, value_name = "FILE")]
    pub from: PathBuf,
    /// Replace an existing database (SQLite: kept as
    /// `<name>.before-restore-<timestamp>`; PostgreSQL: `pg_restore --clean`).
    #[arg(long)]
    pub force: bool,
}

pub async fn run(config: Config, args: RestoreArgs) -> anyhow::Result<ExitCode> {
    if !args.from.is_file() {
        bail!("{} is not a file; nothing was changed", args.from.display());
    }
    match sqlite_path(&config)? {
        Some(db) => sqlite(&config, &db, &args).await?,
        None => postgres(&config.database_url(), &args).await?,
    }
    // The store opens as `serve` opens it (pending migrations applied).
    let store = crate::bootstrap::open_store(&config)
        .await
        .context("opening the restored database")?;
    println!("ledger check of the restored database:");
    let code = super::ledger::check(&store, false).await?;
    store.close().await;
    Ok(code)
}

async fn sqlite(config: &Config, db: &Path, args: &RestoreArgs) -> anyhow::Result<()> {
    let report = inspect_sqlite_file(&args.from).await.with_context(|| {
        format!(
            "{} cannot be restored; nothing was changed",
            args.from.display()
        )
    })?;
    if config.database_url.is_none() {
        inflow_engine::private_fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating {}", config.data_dir.display()))?;
    }
    if sqlite_in_use(db)? {
        bail!(
            "{} is in use by a running process (an Inflow server?): stop the server before restoring; nothing was changed",
            db.display()
        );
    }
    refuse_existing(db, args.force, "the current database")?;
    let temp = temp_beside(db)?;
    if let Err(e) = std::fs::copy(&args.from, &temp) {
        discard(&temp);
        return Err(e).with_context(|| format!("copying {}", args.from.display()));
    }
    let kept = set_aside(db)?;
    let bytes = match publish(&temp, db) {
        Ok(b) => b,
        Err(e) => {
            discard(&temp);
            return Err(e);
        }
    };
    println!(
        "restored {} ({bytes} bytes) to {}",
        args.from.display(),
        db.display()
    );
    if let Some(k) = kept {
        println!("  the previous database is kept as {}", k.display());
    }
    describe(&report.migrations);
    println!(
        "  {} ACH collections, {} card collections, {} customers",
        report.counts.ach_collections, report.counts.card_collections, report.counts.customers
    );
    Ok(())
}

/// Move an existing database and its log out of the way (kept as
/// `<name>.before-restore-<timestamp>[-wal]`), and remove stale `-wal`
/// and `-shm` files.
fn set_aside(db: &Path) -> anyhow::Result<Option<PathBuf>> {
    let wal = with_suffix(db, "-wal");
    let shm = with_suffix(db, "-shm");
    let mut kept = None;
    if db.exists() {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        let old = with_suffix(db, &format!(".before-restore-{stamp}"));
        std::fs::rename(db, &old)
            .with_context(|| format!("keeping the old database as {}", old.display()))?;
        if wal.exists() {
            std::fs::rename(&wal, with_suffix(&old, "-wal"))
                .with_context(|| format!("keeping {}", wal.display()))?;
        }
        kept = Some(old);
    }
    for stale in [&wal, &shm] {
        match std::fs::remove_file(stale) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("removing {}", stale.display())),
        }
    }
    Ok(kept)
}

fn describe(m: &MigrationReport) {
    println!(
        "  schema: migration {} ({} applied; this build knows up to {}{})",
        m.current(),
        m.applied.len(),
        m.latest_known,
        if m.pending.is_empty() {
            String::new()
        } else {
            format!(", {} pending migration(s) are applied now", m.pending.len())
        }
    );
}

async fn postgres(url: &str, args: &RestoreArgs) -> anyhow::Result<()> {
    let store = connect(url).await?;
    let version = store
        .postgres_server_version()
        .await?
        .context("not a PostgreSQL database")?;
    let pg_restore = pg_tools::find("pg_restore", version)?;
    let marks = pg_tools::archive_migrations(&pg_restore, &args.from).with_context(|| {
        format!(
            "{} cannot be restored; nothing was changed",
            args.from.display()
        )
    })?;
    let migrations = MigrationReport::compare("postgres", &marks);
    if !migrations.is_compatible() {
        bail!(
            "{} cannot be restored by this version of Inflow: {}; nothing was changed",
            args.from.display(),
            describe_mismatch(&migrations)
        );
    }
    let relations = store.user_relation_count().await?;
    store.close().await;
    if relations > 0 && !args.force {
        bail!(
            "the database is not empty ({relations} tables, views or sequences): restore into an empty \
             database, or pass --force to drop and replace what the backup holds (pg_restore --clean); \
             nothing was changed"
        );
    }
    let mut opts: Vec<&std::ffi::OsStr> = vec![
        "--no-owner".as_ref(),
        "--no-privileges".as_ref(),
        "--exit-on-error".as_ref(),
        "--single-transaction".as_ref(),
    ];
    if args.force {
        opts.push("--clean".as_ref());
        opts.push("--if-exists".as_ref());
    }
    opts.push(args.from.as_os_str());
    pg_tools::run(&pg_restore, url, &opts)?;
    println!("restored {} with pg_restore", args.from.display());
    describe(&migrations);
    Ok(())
}
