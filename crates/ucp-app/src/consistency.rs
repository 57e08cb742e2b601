//! Read-your-writes across a replica, as the HTTP layer needs it: the token a write answers
//! with (the primary's WAL position after it), how a token is read back, and the scope in
//! which a read is served by the replica once it has replayed past it.

pub use ucp_store::replica::{
    format_lsn, parse_lsn, ReadConsistency, WritePosition, READ_CONSISTENCY, WRITE_POSITION,
};

/// The token of a committed write made outside an append (or whose append could not read its
/// position): the primary's WAL position now, on a connection of its own.
///
/// # Errors
/// When the store fails (the write is committed all the same; only the token is missing).
pub async fn token(db: &ucp_store::Database) -> Result<String, crate::AppError> {
    // Bounded like the append's own: most often asked when that one failed, in a failover.
    tokio::time::timeout(std::time::Duration::from_secs(1), db.consistency_token())
        .await
        .map_err(|_| {
            crate::AppError::Unavailable("the WAL position did not come within 1 s".into())
        })?
        .map_err(Into::into)
}
