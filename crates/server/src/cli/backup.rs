//! `inflow backup --to FILE`: a consistent copy of the database taken while
//! the server runs and writes.
//!
//! SQLite: `VACUUM INTO` through the store's reader pool — one read
//! transaction, so the copy is a transactionally consistent snapshot while
//! writers carry on (WAL mode), checked with `PRAGMA integrity_check`
//! before it is renamed into place. (The online backup API is not
//! reachable through sqlx without unsafe FFI on the raw handle; `VACUUM
//! INTO` gives the same consistency and a compacted file.)
//! PostgreSQL: `pg_dump --format=custom` (see [`super::pg_tools`]).
//!
//! The file is written under a temporary name, made `0600` (it holds sealed
//! account data) and renamed; an existing file is replaced only with `--force`.

use anyhow::{bail, Context};
use clap::Args;
use inflow_store::backup::{inspect_sqlite_file, Counts, MigrationReport};
use inflow_store::Store;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use super::db_files::{discard, publish, refuse_existing, sqlite_path, temp_beside};
use super::pg_tools;
use crate::config::{redact_url, Config};

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Where to write the backup.
    #[arg(long, value_name = "FILE")]
    pub to: PathBuf,
    /// Replace FILE if it exists.
    #[arg(long)]
    pub force: bool,
}

/// How long connecting to the database may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Connect without migrating or creating anything, within [`CONNECT_TIMEOUT`].
pub async fn connect(url: &str) -> anyhow::Result<Store> {
    match tokio::time::timeout(CONNECT_TIMEOUT, Store::connect(url)).await {
        Ok(r) => r.with_context(|| format!("connecting to {}", redact_url(url))),
        Err(_) => bail!(
            "connecting to {}: no answer within {} s",
            redact_url(url),
            CONNECT_TIMEOUT.as_secs()
        ),
    }
}

pub async fn run(config: Config, args: BackupArgs) -> anyhow::Result<ExitCode> {
    refuse_existing(&args.to, args.force, "it")?;
    let written = match sqlite_path(&config)? {
        Some(db) => sqlite(&db, &args.to).await?,
        None => postgres(&config.database_url(), &args.to).await?,
    };
    println!(
        "backup written: {} ({} bytes, {})",
        args.to.display(),
        written.bytes,
        written.backend
    );
    println!(
        "  schema: migration {} of this build's {} ({} applied)",
        written.migrations.current(),
        written.migrations.latest_known,
        written.migrations.applied.len()
    );
    println!(
        "  {}: {} ACH collections, {} card collections, {} customers",
        written.counts_note,
        written.counts.ach_collections,
        written.counts.card_collections,
        written.counts.customers
    );
    Ok(ExitCode::SUCCESS)
}

struct Written {
    backend: String,
    bytes: u64,
    migrations: MigrationReport,
    counts: Counts,
    counts_note: &'static str,
}

async fn sqlite(db: &Path, to: &Path) -> anyhow::Result<Written> {
    if !db.is_file() {
        bail!("there is no SQLite database at {}", db.display());
    }
    let store = connect(&format!("sqlite://{}", db.display())).await?;
    let temp = temp_beside(to)?;
    let result = async {
        store
            .snapshot_sqlite_into(&temp)
            .await
            .context("copying the database (VACUUM INTO)")?;
        store.close().await;
        let report = inspect_sqlite_file(&temp)
            .await
            .context("checking the copy")?;
        let bytes = publish(&temp, to)?;
        anyhow::Ok(Written {
            backend: "sqlite, VACUUM INTO".into(),
            bytes,
            migrations: report.migrations,
            counts: report.counts,
            counts_note: "in the backup",
        })
    }
    .await;
    if result.is_err() {
        discard(&temp);
    }
    result
}

async fn postgres(url: &str, to: &Path) -> anyhow::Result<Written> {
    let store = connect(url).await?;
    let version = store
        .postgres_server_version()
        .await?
        .context("not a PostgreSQL database")?;
    let pg_dump = pg_tools::find("pg_dump", version)?;
    let migrations = store.migration_report().await?;
    if migrations.applied.is_empty() {
        bail!("the database has no Inflow migrations applied: it is not an Inflow database (yet); nothing was written");
    }
    let counts = store.counts().await?;
    store.close().await;
    let temp = temp_beside(to)?;
    let result = pg_tools::run(
        &pg_dump,
        url,
        &[
            "--format=custom".as_ref(),
            "--file".as_ref(),
            temp.as_os_str(),
        ],
    )
    .and_then(|_| publish(&temp, to));
    let bytes = match result {
        Ok(b) => b,
        Err(e) => {
            discard(&temp);
            return Err(e);
        }
    };
    Ok(Written {
        backend: format!("postgres, pg_dump {} custom format", pg_dump.major),
        bytes,
        migrations,
        counts,
        counts_note: "just before the dump",
    })
}
