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
    /// The events after this version: what a reader holding the state at it still needs.
    AfterVersion(i64),
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

/// The statement that reads a stream within a bound (`$1` the stream, `$2` the bound's value),
/// public so that a test can check how PostgreSQL runs it.
///
/// One statement per kind of bound, by version a plain range on (stream_id, stream_version)
/// (as of an instant, the stream filtered on its time): a single
/// statement with `($2 IS NULL OR …)` conditions gets a generic plan after a few runs, which
/// cannot bound the index scan, and read every event of a stream to return the one after a
/// cached state (measured: 481 index entries read per section update in the benchmark).
#[must_use]
pub fn stream_sql(bound: StreamBound) -> String {
    let condition = match bound {
        StreamBound::All => "",
        StreamBound::UpToVersion(_) => "AND e.stream_version <= $2",
        StreamBound::AsOf(_) => "AND e.recorded_at <= $2",
        StreamBound::AfterVersion(_) => "AND e.stream_version > $2",
    };
    format!(
        "SELECT {EVENT_COLUMNS} FROM events e JOIN streams s ON s.stream_id = e.stream_id \
         WHERE e.stream_id = $1 {condition} ORDER BY e.stream_version"
    )
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
    let stmt = client.prepare_cached(&stream_sql(bound)).await?;
    let rows = match bound {
        StreamBound::All => client.query(&stmt, &[&stream_id]).await?,
        StreamBound::UpToVersion(v) | StreamBound::AfterVersion(v) => {
            client.query(&stmt, &[&stream_id, &v]).await?
        }
        StreamBound::AsOf(at) => client.query(&stmt, &[&stream_id, &at]).await?,
    };
    rows.iter().map(RecordedEvent::from_row).collect()
}

/// The last folded state of recently written streams, of whatever aggregate, so that a write
/// reads only the events after it (one query still, but a short one) instead of folding the
/// whole stream again. Another server's writes are simply the events after the cached version.
/// Bounded: cleared when full.
#[derive(Debug, Clone, Default)]
pub struct StateCache(Arc<std::sync::Mutex<std::collections::HashMap<Uuid, crate::State>>>);

const STATES_MAX: usize = 4_096;

impl StateCache {
    /// The cached state of a stream, if it is a `T`.
    #[must_use]
    pub fn get<T: Clone + 'static>(&self, id: Uuid) -> Option<T> {
        // The lock is held for the `Arc`'s count only; the state is copied after.
        let state = self.0.lock().ok()?.get(&id).cloned()?;
        state.downcast_ref::<T>().cloned()
    }

    /// Drops a stream's cached state: after a version conflict the cache may be ahead of the
    /// log (a commit lost in a failover) or behind it; either way the next read folds afresh.
    pub fn forget(&self, id: Uuid) {
        if let Ok(mut m) = self.0.lock() {
            m.remove(&id);
        }
    }

    pub fn put<T: Send + Sync + 'static>(&self, id: Uuid, state: T) {
        if let Ok(mut m) = self.0.lock() {
            if m.len() >= STATES_MAX {
                m.clear();
            }
            m.insert(id, Arc::new(state));
        }
    }
}

impl Database {
    /// The states of this server's writes, by stream (see [`StateCache`]).
    #[must_use]
    pub fn write_states(&self) -> &StateCache {
        &self.plan_states
    }

    /// The states the feed last left streams in (at the last version it sent), so that the next
    /// page folds only the events after them.
    #[must_use]
    pub fn feed_states(&self) -> &StateCache {
        &self.feed_states
    }

    /// Several streams' events after a version each (0 for all), in one query, grouped by
    /// stream in version order: what a feed page needs to bring its plans up to date.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn read_streams_after(
        &self,
        from: &[(Uuid, i64)],
    ) -> Result<std::collections::HashMap<Uuid, Vec<RecordedEvent>>, StoreError> {
        let client = self.connection().await?;
        let ids: Vec<Uuid> = from.iter().map(|(id, _)| *id).collect();
        let after: Vec<i64> = from.iter().map(|(_, v)| *v).collect();
        for _ in from {
            self.stream_reads.count();
        }
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM unnest($1::uuid[], $2::bigint[]) AS w(stream_id, after) \
                 JOIN events e ON e.stream_id = w.stream_id AND e.stream_version > w.after \
                 JOIN streams s ON s.stream_id = e.stream_id \
                 ORDER BY e.stream_id, e.stream_version"
            ))
            .await?;
        let mut streams: std::collections::HashMap<Uuid, Vec<RecordedEvent>> =
            std::collections::HashMap::with_capacity(from.len());
        for row in client.query(&stmt, &[&ids, &after]).await? {
            let event = RecordedEvent::from_row(&row)?;
            streams.entry(event.stream_id).or_default().push(event);
        }
        Ok(streams)
    }

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

    /// When the stream first changed after `version`, by an event other than those of
    /// `except`: one indexed row, however long the stream's later history (what a printed
    /// copy's check needs, without reading the events themselves).
    ///
    /// # Errors
    /// When the database fails.
    pub async fn first_change_after(
        &self,
        stream_id: Uuid,
        version: i64,
        except: &[&str],
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, StoreError> {
        let client = self.connection().await?;
        let except: Vec<String> = except.iter().map(|e| (*e).to_owned()).collect();
        let stmt = client
            .prepare_cached(
                "SELECT recorded_at FROM events WHERE stream_id = $1 AND stream_version > $2 \
                 AND event_type <> ALL($3::text[]) ORDER BY stream_version LIMIT 1",
            )
            .await?;
        Ok(client
            .query_opt(&stmt, &[&stream_id, &version, &except])
            .await?
            .map(|row| row.try_get(0))
            .transpose()?)
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
