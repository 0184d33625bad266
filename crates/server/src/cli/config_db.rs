//! `inflow config check`'s database checks: the database answers (within
//! a timeout) and its migrations match this build's — read only, nothing
//! is migrated or created.

use super::config_problems::Problems;
use crate::config::Config;

pub async fn database(config: &Config, p: &mut Problems) {
    match super::db_files::sqlite_path(config) {
        Err(e) => return p.error("database", format!("{e:#}")),
        Ok(Some(file)) if !file.exists() => {
            return p.warn(
                "database",
                format!(
                    "the SQLite database {} does not exist yet: `inflow serve` or `inflow migrate` creates it",
                    file.display()
                ),
            )
        }
        Ok(_) => {}
    }
    let store = match super::backup::connect(&config.database_url()).await {
        Ok(s) => s,
        Err(e) => return p.error("database", format!("the database is unreachable: {e:#}")),
    };
    match store.migration_report().await {
        Err(e) => p.error(
            "migrations",
            format!("cannot read the applied migrations: {e}"),
        ),
        Ok(r) if !r.is_compatible() => p.error(
            "migrations",
            format!(
                "this build cannot run on the database: {}",
                inflow_store::backup::describe_mismatch(&r)
            ),
        ),
        Ok(r) if !r.pending.is_empty() => p.warn(
            "migrations",
            format!(
                "{} migration(s) pending ({:?}): `inflow serve` or `inflow migrate` applies them",
                r.pending.len(),
                r.pending
            ),
        ),
        Ok(_) => {}
    }
    store.close().await;
}
