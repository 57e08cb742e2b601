//! Read-your-writes across a replica, as the HTTP layer needs it: the token a write answers
//! with (the primary's WAL position after it), how a token is read back, and the scope in
//! which a read is served by the replica once it has replayed past it.

pub use ucp_store::replica::{format_lsn, parse_lsn, ReadConsistency, READ_CONSISTENCY};

/// The token of a committed write: the primary's WAL position now.
///
/// # Errors
/// When the store fails (the write is committed all the same; only the token is missing).
pub async fn token(db: &ucp_store::Database) -> Result<String, crate::AppError> {
    Ok(db.consistency_token().await?)
}
