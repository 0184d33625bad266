//! The store's error type.

/// What can go wrong in the persistence layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write; the string says which one.
    #[error("unique constraint violated: {0}")]
    Conflict(String),
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("commit failed: {0}")]
    CommitFailed(String),
    #[error("the database writer has stopped")]
    WriterStopped,
    /// Any other database failure; the driver's error is the source, so an
    /// error chain (`{:#}`, `tracing`) shows it.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl StoreError {
    /// The database could not be reached or the writer is gone: a retry
    /// later may succeed, and nothing was changed.
    ///
    /// Besides a pool that timed out or closed and a broken socket, this
    /// covers what a PostgreSQL server answers while it cannot serve: a
    /// connection exception (SQLSTATE class 08), an operator intervention
    /// such as a terminated backend or a shutdown (class 57P), too many
    /// connections (53300), and the transaction conflicts a retry resolves
    /// (40001 serialization failure, 40P01 deadlock).
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::WriterStopped => true,
            StoreError::Database(
                sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Io(_)
                | sqlx::Error::WorkerCrashed
                | sqlx::Error::Protocol(_),
            ) => true,
            StoreError::Database(sqlx::Error::Database(db)) => db.code().is_some_and(|c| {
                c.starts_with("08")
                    || c.starts_with("57P")
                    || matches!(c.as_ref(), "53300" | "40001" | "40P01")
            }),
            _ => false,
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(
                db.constraint()
                    .map(str::to_owned)
                    .unwrap_or_else(|| db.message().to_owned()),
            ),
            _ => StoreError::Database(e),
        }
    }
}

impl From<inflow_core::ValidationError> for StoreError {
    fn from(e: inflow_core::ValidationError) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

impl StoreError {
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Conflict(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error;

    #[test]
    fn a_database_error_keeps_the_driver_error_as_its_source() {
        let e = StoreError::from(sqlx::Error::PoolTimedOut);
        assert!(matches!(e, StoreError::Database(_)), "{e:?}");
        let source = e.source().expect("the driver error is the source");
        assert_eq!(source.to_string(), sqlx::Error::PoolTimedOut.to_string());
    }
}
