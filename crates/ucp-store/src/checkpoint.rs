use deadpool_postgres::GenericClient;

use crate::{FeedCursor, StoreError};

/// Saves where a consumer has got to. Call it in the same transaction as the consumer's work,
/// so that the work and the checkpoint commit together or not at all.
///
/// # Errors
/// When the database fails.
pub async fn save_checkpoint(
    client: &impl GenericClient,
    consumer: &str,
    cursor: FeedCursor,
) -> Result<(), StoreError> {
    let stmt = client
        .prepare_cached(
            "INSERT INTO consumer_checkpoints (consumer, transaction_id, global_position) \
             VALUES ($1, $2::text::xid8, $3) \
             ON CONFLICT (consumer) DO UPDATE SET transaction_id = excluded.transaction_id, \
                 global_position = excluded.global_position, updated_at = clock_timestamp()",
        )
        .await?;
    client
        .execute(
            &stmt,
            &[
                &consumer,
                &cursor.transaction_id.to_string(),
                &cursor.global_position,
            ],
        )
        .await?;
    Ok(())
}

/// Where a consumer last checkpointed, or `None` for a consumer that never ran.
///
/// # Errors
/// When the database fails.
pub async fn load_checkpoint(
    client: &impl GenericClient,
    consumer: &str,
) -> Result<Option<FeedCursor>, StoreError> {
    let stmt = client
        .prepare_cached(
            "SELECT transaction_id::text, global_position FROM consumer_checkpoints \
             WHERE consumer = $1",
        )
        .await?;
    let Some(row) = client.query_opt(&stmt, &[&consumer]).await? else {
        return Ok(None);
    };
    let tx: String = row.try_get(0)?;
    let transaction_id = tx
        .parse::<u64>()
        .map_err(|e| StoreError::Corrupt(format!("checkpoint transaction id {tx:?}: {e}")))?;
    Ok(Some(FeedCursor {
        transaction_id,
        global_position: row.try_get(1)?,
    }))
}
