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
    #[error("database error: {0}")]
    Database(sqlx::Error),
}

impl StoreError {
    /// The database could not be reached or the writer is gone: a retry
    /// later may succeed, and nothing was changed.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::WriterStopped
                | StoreError::Database(
                    sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)
                )
        )
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
