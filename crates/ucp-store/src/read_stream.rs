use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use uuid::Uuid;

use crate::event::EVENT_COLUMNS;
use crate::{Database, RecordedEvent, StoreError};

/// How much of a stream to read: all of it, or as it stood at a version or an instant, for
/// "what did the crew see at 03:12?".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StreamBound {
    #[default]
    All,
    UpToVersion(i64),
    AsOf(DateTime<Utc>),
}

/// How many times a store has read a stream: the cost a write must keep to one (it folds the
/// plan once, to decide, and hands that state to the projections). Exposed as a metric.
#[derive(Debug, Clone, Default)]
pub struct StreamReads(Arc<AtomicU64>);

impl StreamReads {
    #[must_use]
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    fn count(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// A stream's events within a bound, on any client or transaction: the one query that reads a
/// stream, for readers and for projections inside an append's transaction alike.
///
/// # Errors
/// When the database fails.
pub(crate) async fn load_stream(
    client: &impl GenericClient,
    reads: &StreamReads,
    stream_id: Uuid,
    bound: StreamBound,
) -> Result<Vec<RecordedEvent>, StoreError> {
    reads.count();
    let (version, at): (Option<i64>, Option<DateTime<Utc>>) = match bound {
        StreamBound::All => (None, None),
        StreamBound::UpToVersion(v) => (Some(v), None),
        StreamBound::AsOf(t) => (None, Some(t)),
    };
    let stmt = client
        .prepare_cached(&format!(
            "SELECT {EVENT_COLUMNS} FROM events e JOIN streams s ON s.stream_id = e.stream_id \
             WHERE e.stream_id = $1 \
               AND ($2::bigint IS NULL OR e.stream_version <= $2) \
               AND ($3::timestamptz IS NULL OR e.recorded_at <= $3) \
             ORDER BY e.stream_version"
        ))
        .await?;
    client
        .query(&stmt, &[&stream_id, &version, &at])
        .await?
        .iter()
        .map(RecordedEvent::from_row)
        .collect()
}

impl Database {
    /// The stream's events in version order, within the bound. Empty when there is no stream.
    ///
    /// # Errors
    /// When the database fails.
    #[tracing::instrument(skip(self))]
    pub async fn read_stream(
        &self,
        stream_id: Uuid,
        bound: StreamBound,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let client = self.connection().await?;
        load_stream(&client, &self.stream_reads, stream_id, bound).await
    }

    /// How many stream reads this store has made (see [`StreamReads`]).
    #[must_use]
    pub fn stream_reads(&self) -> u64 {
        self.stream_reads.get()
    }

    /// The stream's current version, or `None` when it does not exist.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn stream_version(&self, stream_id: Uuid) -> Result<Option<i64>, StoreError> {
        let client = self.connection().await?;
        let stmt = client
            .prepare_cached("SELECT version FROM streams WHERE stream_id = $1")
            .await?;
        Ok(client
            .query_opt(&stmt, &[&stream_id])
            .await?
            .map(|r| r.try_get(0))
            .transpose()?)
    }
}
