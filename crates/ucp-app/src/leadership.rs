//! Leading background work among several servers: a session advisory lock, taken on a
//! connection of its own, names the leader. When the leader's process or connection dies, the
//! lock goes with it and another server takes over at its next scan, resuming from the work's
//! checkpoint. The webhook dispatcher and the NRL publisher both lead this way.

use std::time::Duration;

use crate::AppState;

/// A connection whose session holds (or will hold) leadership locks.
pub type LeaderConnection = ucp_store::DedicatedConnection;

/// A dedicated connection, retried every `interval` until the database answers; `None` when
/// the store has no dedicated connections (built from a bare pool), so there is nothing to lead.
pub async fn connect(state: &AppState, what: &str, interval: Duration) -> Option<LeaderConnection> {
    loop {
        match state.db.dedicated_connection().await {
            Ok(connection) => return connection,
            Err(e) => {
                tracing::warn!(error = %e, what, "cannot connect to lead; retrying");
                tokio::time::sleep(interval).await;
            }
        }
    }
}

/// Takes the lock named `name` for this connection's session if no one holds it.
///
/// # Errors
/// When the statement fails (the connection is likely gone).
pub async fn try_lead(
    connection: &LeaderConnection,
    name: &str,
) -> Result<bool, ucp_store::PgError> {
    connection
        .query_one(
            "SELECT pg_try_advisory_lock(hashtextextended($1, 0))",
            &[&name],
        )
        .await
        .and_then(|r| r.try_get::<_, bool>(0))
}

/// Gives up the lock named `name`, so another server may lead that work.
pub async fn release(connection: &LeaderConnection, name: &str) {
    if let Err(e) = connection
        .execute(
            "SELECT pg_advisory_unlock(hashtextextended($1, 0))",
            &[&name],
        )
        .await
    {
        tracing::warn!(error = %e, name, "cannot release leadership");
    }
}
