use uuid::Uuid;

/// What can go wrong in the store, each variant a situation the caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another writer changed the stream first; the caller must re-read and decide again.
    #[error("stream {stream_id} is at version {actual:?}, not the expected {expected}")]
    VersionConflict {
        stream_id: Uuid,
        expected: String,
        actual: Option<i64>,
    },
    /// The idempotency key was used before for a different request.
    #[error("idempotency key {key:?} was already used for a different request")]
    IdempotencyKeyReused { key: String },
    /// The NHS number already has an active plan (a create raced another).
    #[error("NHS number {0} already has an active care plan")]
    ActivePlanExists(String),
    /// The change meets a state that refuses it, checked under the stream's lock (a proxy grant
    /// already revoked, or one already active for the same proxy).
    #[error("{0}")]
    Refused(String),
    /// An event with this id is already in the log.
    #[error("event {0} is already in the log")]
    DuplicateEvent(Uuid),
    /// A stream may not be appended to without any event.
    #[error("an append must carry at least one event")]
    EmptyAppend,

    /// The write's access-log entry could not be written, so neither was the write.
    #[error("the access log cannot be written: {0}")]
    AccessLog(String),
    /// No connection could be had from the pool in time.
    #[error("no database connection available")]
    Pool(#[from] deadpool_postgres::PoolError),
    /// The database refused or failed a statement.
    #[error("database error: {0}")]
    Database(#[from] tokio_postgres::Error),
    /// A projection could not be applied; the append was rolled back.
    #[error("projection {projection} failed: {reason}")]
    Projection {
        projection: &'static str,
        reason: String,
    },
    /// Migrations could not be applied or inspected.
    #[error("migration failed: {0}")]
    Migration(String),
    /// The connection settings were not usable.
    #[error("invalid database configuration: {0}")]
    Config(String),
    /// Stored data was not what the store writes (a corrupt row or a foreign cursor position).
    #[error("stored data is not in the expected form: {0}")]
    Corrupt(String),
    /// Stored JSON did not have the shape this code expects.
    #[error("stored data could not be decoded: {0}")]
    Decode(#[from] serde_json::Error),
}

impl StoreError {
    /// True for a conflict the caller can resolve by reading again (HTTP 409/412).
    #[must_use]
    pub fn is_conflict(&self) -> bool {
        matches!(self, Self::VersionConflict { .. })
    }

    /// True when a statement ran past `statement_timeout` (or was cancelled): the database is
    /// busy or a lock is held, so the caller may try again (HTTP 503 with `Retry-After`).
    #[must_use]
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Database(e)
            if e.code() == Some(&tokio_postgres::error::SqlState::QUERY_CANCELED))
    }

    /// True when the connection went away mid-request (a restart, a network cut), or reached a
    /// server that cannot take it now: one shutting down or starting (57P01–57P03), a
    /// connection failure (class 08), or a node that is read-only because it was demoted in a
    /// failover (25006). Nothing was committed unless the commit itself answered, and the caller
    /// may try again once the primary is back (HTTP 503).
    #[must_use]
    pub fn is_disconnected(&self) -> bool {
        use tokio_postgres::error::SqlState;
        let Self::Database(e) = self else {
            return false;
        };
        if e.is_closed() {
            return true;
        }
        e.code().is_some_and(|code| {
            *code == SqlState::READ_ONLY_SQL_TRANSACTION
                || *code == SqlState::ADMIN_SHUTDOWN
                || *code == SqlState::CRASH_SHUTDOWN
                || *code == SqlState::CANNOT_CONNECT_NOW
                || code.code().starts_with("08")
        })
    }
}
