//! What backups, restores and `inflow config check` ask of the database:
//! a consistent SQLite snapshot (`VACUUM INTO`), a look inside an SQLite
//! file without opening it as the live store, which migrations a database
//! has compared with the ones this build embeds, row counts for the
//! report, and — on PostgreSQL — the server's version and whether the
//! database is empty.

use std::path::Path;
use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::Connection;

use crate::pool::Backend;
use crate::{Store, StoreError};

/// One applied (or embedded) migration: its version and checksum (hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationMark {
    pub version: i64,
    pub checksum: String,
    /// `false` when sqlx recorded the migration as failed.
    pub success: bool,
}

/// A database's migrations compared with this build's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationReport {
    /// Versions the database has applied, ascending.
    pub applied: Vec<i64>,
    /// The versions this build embeds, ascending.
    pub known: Vec<i64>,
    /// The newest version this build knows.
    pub latest_known: i64,
    /// Known versions the database has not applied yet (`migrate` applies them).
    pub pending: Vec<i64>,
    /// Applied versions this build does not know: the database is newer.
    pub unknown: Vec<i64>,
    /// Applied versions whose checksum differs from this build's.
    pub changed: Vec<i64>,
    /// Applied versions recorded as failed.
    pub failed: Vec<i64>,
}

impl MigrationReport {
    /// Compare `applied` with the migrations this build embeds for `backend`.
    pub fn compare(backend: &str, applied: &[MigrationMark]) -> Self {
        let known = known_migrations(backend);
        let mut applied_versions: Vec<i64> = applied.iter().map(|m| m.version).collect();
        applied_versions.sort_unstable();
        let pending = known
            .iter()
            .filter(|k| !applied_versions.contains(&k.version))
            .map(|k| k.version)
            .collect();
        let unknown = applied
            .iter()
            .filter(|a| !known.iter().any(|k| k.version == a.version))
            .map(|a| a.version)
            .collect();
        let changed = applied
            .iter()
            .filter(|a| {
                known
                    .iter()
                    .any(|k| k.version == a.version && k.checksum != a.checksum)
            })
            .map(|a| a.version)
            .collect();
        let failed = applied
            .iter()
            .filter(|a| !a.success)
            .map(|a| a.version)
            .collect();
        Self {
            applied: applied_versions,
            known: known.iter().map(|k| k.version).collect(),
            latest_known: known.last().map_or(0, |k| k.version),
            pending,
            unknown,
            changed,
            failed,
        }
    }

    /// The newest applied version (0: none).
    pub fn current(&self) -> i64 {
        self.applied.last().copied().unwrap_or(0)
    }

    /// Can this build run on the database (after applying what is
    /// pending)? Its applied migrations must be exactly the first ones of
    /// this build's, unchanged and successful.
    pub fn is_compatible(&self) -> bool {
        self.unknown.is_empty()
            && self.changed.is_empty()
            && self.failed.is_empty()
            && self.known.starts_with(&self.applied)
    }
}

/// The migrations this build embeds for `backend` (`sqlite` or `postgres`).
pub fn known_migrations(backend: &str) -> Vec<MigrationMark> {
    let migrator = if backend == "sqlite" {
        sqlx::migrate!("./migrations/sqlite")
    } else {
        sqlx::migrate!("./migrations/postgres")
    };
    migrator
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .map(|m| MigrationMark {
            version: m.version,
            checksum: hex(&m.checksum),
            success: true,
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Collections by rail, for a backup's report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub ach_collections: i64,
    pub card_collections: i64,
    pub customers: i64,
}

const MIGRATIONS_SQL: &str =
    "SELECT version, checksum, success FROM _sqlx_migrations ORDER BY version";
const COUNTS_SQL: &str = "SELECT (SELECT count(*) FROM collections), \
     (SELECT count(*) FROM card_collections), (SELECT count(*) FROM customers)";

/// What an SQLite file holds, read without changing it.
#[derive(Debug, Clone)]
pub struct SqliteFileReport {
    pub migrations: MigrationReport,
    pub counts: Counts,
}

/// Why an SQLite file is not a usable Inflow database.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    #[error("not an SQLite database, or an unreadable one: {0}")]
    NotSqlite(String),
    #[error("the SQLite integrity check failed: {0}")]
    Integrity(String),
    #[error("not an Inflow database: it has no migrations table (_sqlx_migrations)")]
    NotInflow,
    #[error("the database does not match this version of Inflow: {0}")]
    Incompatible(String),
}

/// Open `path` read-only and check it: `PRAGMA integrity_check` is `ok`,
/// it has Inflow's migrations table, and its migrations are the first ones
/// (or all) of this build's. Nothing is written to the file.
pub async fn inspect_sqlite_file(path: &Path) -> Result<SqliteFileReport, InspectError> {
    let opts = SqliteConnectOptions::from_str("sqlite://")
        .map_err(|e| InspectError::NotSqlite(e.to_string()))?
        .filename(path)
        .read_only(true)
        .create_if_missing(false);
    let mut conn = SqliteConnection::connect_with(&opts)
        .await
        .map_err(|e| InspectError::NotSqlite(e.to_string()))?;
    let result = inspect(&mut conn).await;
    let _ = conn.close().await;
    result
}

async fn inspect(conn: &mut SqliteConnection) -> Result<SqliteFileReport, InspectError> {
    let integrity: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| InspectError::NotSqlite(e.to_string()))?;
    if integrity != ["ok"] {
        let first: Vec<&str> = integrity.iter().take(3).map(String::as_str).collect();
        return Err(InspectError::Integrity(first.join("; ")));
    }
    let has_table: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| InspectError::NotSqlite(e.to_string()))?;
    if has_table == 0 {
        return Err(InspectError::NotInflow);
    }
    let rows: Vec<(i64, Vec<u8>, bool)> = sqlx::query_as(MIGRATIONS_SQL)
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| InspectError::NotSqlite(e.to_string()))?;
    let migrations = MigrationReport::compare("sqlite", &marks(rows));
    if !migrations.is_compatible() {
        return Err(InspectError::Incompatible(describe_mismatch(&migrations)));
    }
    let counts = if migrations.applied.is_empty() {
        Counts::default()
    } else {
        let (a, c, u): (i64, i64, i64) = sqlx::query_as(COUNTS_SQL)
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| InspectError::NotSqlite(e.to_string()))?;
        Counts {
            ach_collections: a,
            card_collections: c,
            customers: u,
        }
    };
    Ok(SqliteFileReport { migrations, counts })
}

fn marks(rows: Vec<(i64, Vec<u8>, bool)>) -> Vec<MigrationMark> {
    rows.into_iter()
        .map(|(version, checksum, success)| MigrationMark {
            version,
            checksum: hex(&checksum),
            success,
        })
        .collect()
}

/// Say in words why `r` is not compatible.
pub fn describe_mismatch(r: &MigrationReport) -> String {
    let mut parts = Vec::new();
    if !r.unknown.is_empty() {
        parts.push(format!(
            "it has migrations {:?} this build does not know (it was written by a newer Inflow; this build knows up to {})",
            r.unknown, r.latest_known
        ));
    }
    if !r.changed.is_empty() {
        parts.push(format!(
            "migrations {:?} differ from this build's",
            r.changed
        ));
    }
    if !r.failed.is_empty() {
        parts.push(format!("migrations {:?} are recorded as failed", r.failed));
    }
    if parts.is_empty() {
        parts.push(format!(
            "its migrations {:?} are not the first ones of this build's",
            r.applied
        ));
    }
    parts.join("; ")
}

impl Store {
    /// Write a transactionally consistent copy of this SQLite database to
    /// `target` with `VACUUM INTO` (writers carry on meanwhile: it reads
    /// one snapshot, as any reader does in WAL mode). `target` must not
    /// exist or be empty. PostgreSQL: refused (use `pg_dump`).
    pub async fn snapshot_sqlite_into(&self, target: &Path) -> Result<(), StoreError> {
        let Backend::Sqlite { readers, .. } = &self.backend else {
            return Err(StoreError::Corrupt(
                "VACUUM INTO is for SQLite; back PostgreSQL up with pg_dump".into(),
            ));
        };
        let name = target.to_str().ok_or_else(|| {
            StoreError::Corrupt(format!("{} is not valid UTF-8", target.display()))
        })?;
        sqlx::query("VACUUM INTO $1")
            .bind(name)
            .execute(readers)
            .await?;
        Ok(())
    }

    /// This database's migrations compared with this build's, read
    /// without applying any (no migrations table: nothing applied).
    pub async fn migration_report(&self) -> Result<MigrationReport, StoreError> {
        let rows: Vec<(i64, Vec<u8>, bool)> = match &self.backend {
            Backend::Sqlite { readers, .. } => {
                let exists: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
                )
                .fetch_one(readers)
                .await?;
                if exists == 0 {
                    Vec::new()
                } else {
                    sqlx::query_as(MIGRATIONS_SQL).fetch_all(readers).await?
                }
            }
            Backend::Postgres(p) => {
                let exists: Option<String> =
                    sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations')::text")
                        .fetch_one(p)
                        .await?;
                if exists.is_none() {
                    Vec::new()
                } else {
                    sqlx::query_as(MIGRATIONS_SQL).fetch_all(p).await?
                }
            }
        };
        Ok(MigrationReport::compare(self.backend_name(), &marks(rows)))
    }

    /// Collections and customers stored now.
    pub async fn counts(&self) -> Result<Counts, StoreError> {
        let mut tx = self.read().await?;
        let (a, c, u): (i64, i64, i64) =
            crate::on_db!(&mut tx, conn => sqlx::query_as(COUNTS_SQL).fetch_one(conn).await)?;
        tx.rollback().await?;
        Ok(Counts {
            ach_collections: a,
            card_collections: c,
            customers: u,
        })
    }

    /// PostgreSQL's `server_version_num` (e.g. 150020); `None` on SQLite.
    pub async fn postgres_server_version(&self) -> Result<Option<u32>, StoreError> {
        let Backend::Postgres(p) = &self.backend else {
            return Ok(None);
        };
        let v: String = sqlx::query_scalar("SHOW server_version_num")
            .fetch_one(p)
            .await?;
        v.trim()
            .parse()
            .map(Some)
            .map_err(|_| StoreError::Corrupt(format!("server_version_num {v:?}")))
    }

    /// Tables, views and sequences outside PostgreSQL's own schemas
    /// (0: an empty database a restore may fill). SQLite: its tables.
    pub async fn user_relation_count(&self) -> Result<i64, StoreError> {
        Ok(match &self.backend {
            Backend::Postgres(p) => sqlx::query_scalar(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE c.relkind IN ('r', 'v', 'm', 'S', 'p') \
                     AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
                     AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'",
            )
            .fetch_one(p)
            .await?,
            Backend::Sqlite { readers, .. } => {
                sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table'")
                    .fetch_one(readers)
                    .await?
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(version: i64, checksum: &str) -> MigrationMark {
        MigrationMark {
            version,
            checksum: checksum.into(),
            success: true,
        }
    }

    #[test]
    fn a_prefix_of_this_builds_migrations_is_compatible_and_the_rest_pending() {
        let known = known_migrations("sqlite");
        let r = MigrationReport::compare("sqlite", &known[..3]);
        assert!(r.is_compatible(), "{r:?}");
        assert_eq!(r.pending.len(), known.len() - 3);
        assert_eq!(r.current(), known[2].version);
        let all = MigrationReport::compare("sqlite", &known);
        assert!(all.is_compatible() && all.pending.is_empty());
    }

    #[test]
    fn unknown_changed_or_gapped_migrations_are_not_compatible() {
        let known = known_migrations("postgres");
        let mut newer = known.clone();
        newer.push(mark(9999, "00"));
        let r = MigrationReport::compare("postgres", &newer);
        assert_eq!(r.unknown, vec![9999]);
        assert!(!r.is_compatible());
        assert!(describe_mismatch(&r).contains("newer Inflow"));
        let mut changed = known.clone();
        changed[0].checksum = "ff".into();
        assert!(!MigrationReport::compare("postgres", &changed).is_compatible());
        let gapped = vec![known[0].clone(), known[2].clone()];
        assert!(!MigrationReport::compare("postgres", &gapped).is_compatible());
    }
}
