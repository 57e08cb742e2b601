use deadpool_postgres::Transaction;
use tokio_postgres::error::SqlState;
use uuid::Uuid;

use crate::event::EVENT_COLUMNS;
use crate::{Database, NewEvent, RecordedEvent, StoreError};

/// What the writer believes the stream's version to be; checked under the stream's lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// The stream must not exist yet (a create).
    NoStream,
    /// The stream must be at exactly this version (`0` means it must not exist).
    Exact(i64),
    /// No check: for system writers that only add facts and never decide on state.
    Any,
}

impl std::fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoStream | Self::Exact(0) => f.write_str("no stream"),
            Self::Exact(v) => write!(f, "{v}"),
            Self::Any => f.write_str("any"),
        }
    }
}

/// A client-chosen key that makes a retried command return its first result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    /// Keys are unique within a scope (e.g. the actor), so two clients cannot collide.
    pub scope: String,
    pub key: String,
    /// A digest of everything that makes the request what it is (route and body): the same key
    /// with another fingerprint is a reuse, not a retry.
    pub fingerprint: String,
}

/// One atomic append to one stream.
#[derive(Debug, Clone)]
pub struct AppendRequest {
    pub stream_id: Uuid,
    pub stream_type: String,
    pub expected: ExpectedVersion,
    pub events: Vec<NewEvent>,
    pub idempotency: Option<IdempotencyKey>,
    /// The aggregate's state as the writer folded it to decide (at `expected`), handed to the
    /// inline projections so that they need not read the stream again. `None`: they read it.
    pub prior: Option<crate::State>,
    /// The access-log entry of the request this write answers, committed in the same
    /// transaction as its events: a write that commits has its entry, and one that does not
    /// has none from here (the request's refusal is logged as any other).
    pub audit: Option<crate::AccessEntry>,
}

/// The events an append wrote, or, for a retry, the events the first attempt wrote.
#[derive(Debug, Clone)]
pub struct AppendOutcome {
    pub stream_id: Uuid,
    pub events: Vec<RecordedEvent>,
    /// True when nothing was written because an earlier request with the same key did it.
    pub replayed: bool,
    /// The aggregate's state as the append left it, folded once by its inline projection
    /// (none for a retry, or a stream no projection folds).
    pub state: Option<crate::State>,
}

impl AppendOutcome {
    /// The stream's version after the append.
    #[must_use]
    pub fn version(&self) -> i64 {
        self.events.last().map_or(0, |e| e.stream_version)
    }
}

const LOCK_SQL: &str = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))";
const REPLAY_KEY_SQL: &str = "SELECT fingerprint, stream_id, first_version, last_version \
     FROM idempotency_keys WHERE scope = $1 AND key = $2";
const NEW_STREAM_SQL: &str = "INSERT INTO streams (stream_id, stream_type, version) \
     VALUES ($1, $2, $3) ON CONFLICT (stream_id) DO NOTHING RETURNING version";
const ADVANCE_SQL: &str = "UPDATE streams SET version = version + $2 \
     WHERE stream_id = $1 AND version = $3 RETURNING version";
const ANY_VERSION_SQL: &str = "INSERT INTO streams (stream_id, stream_type, version) \
     VALUES ($1, $2, $3) ON CONFLICT (stream_id) DO UPDATE SET version = streams.version + $3 \
     RETURNING version";
const NOTIFY_SQL: &str = "SELECT pg_notify('ucp_feed', $1)";
const RECORD_KEY_SQL: &str = "INSERT INTO idempotency_keys \
     (scope, key, fingerprint, stream_id, first_version, last_version) \
     VALUES ($1, $2, $3, $4, $5, $6)";

impl Database {
    /// Appends events to one stream in one short transaction. Advisory locks come before any
    /// write (the idempotency key's, if any, then the stream's), so the next writer of the stream
    /// gets its transaction id only after this one commits and per-stream order equals feed
    /// order. Then the idempotency check, the version check that refuses a stale writer before
    /// any position is drawn, the events, and the inline projections.
    ///
    /// # Errors
    /// [`StoreError::VersionConflict`] when the stream is not at the expected version,
    /// [`StoreError::IdempotencyKeyReused`] when the key was used for another request,
    /// [`StoreError::DuplicateEvent`] when an event id is already in the log.
    #[tracing::instrument(skip_all, fields(stream_id = %request.stream_id, events = request.events.len()))]
    pub async fn append(&self, request: AppendRequest) -> Result<AppendOutcome, StoreError> {
        if request.events.is_empty() {
            return Err(StoreError::EmptyAppend);
        }
        let mut client = self.connection().await?;
        let tx = client.transaction().await?;

        // Statements that do not need the answer of the one before go out together (pipelined
        // on the one connection): the server runs them in order, and a failure fails the ones
        // after it, so the answers are read in order and the first failure is the one reported.
        if let Some(key) = &request.idempotency {
            // Creates have a new stream id on every try, so the key needs a lock of its own.
            // Taken before the stream's lock, always in this order: no deadlock is possible.
            let lock = tx.prepare_cached(LOCK_SQL).await?;
            // Prepared before they go out together, so that they go out in this order.
            tx.prepare_cached(REPLAY_KEY_SQL).await?;
            let name = format!("idempotency:{}:{}", key.scope, key.key);
            let params: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&name];
            let (locked, earlier) = futures::join!(tx.execute(&lock, &params), replay(&tx, key));
            locked?;
            if let Some(outcome) = earlier? {
                tx.commit().await?;
                return Ok(outcome);
            }
        }
        let count = i64::try_from(request.events.len())
            .map_err(|_| StoreError::Corrupt("too many events in one append".into()))?;
        let lock = tx.prepare_cached(LOCK_SQL).await?;
        tx.prepare_cached(advance_sql(request.expected)).await?;
        let name = format!("stream:{}", request.stream_id);
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&name];
        // The version is checked under the lock: the server takes the lock before it runs the
        // statement after it.
        let (locked, advanced) = futures::join!(
            tx.execute(&lock, &params),
            advance_stream(&tx, &request, count)
        );
        locked?;
        let new_version = advanced?;
        let first_version = new_version - count + 1;
        let events = insert_events(&tx, &request, first_version).await?;

        let mut state = None;
        for projection in self.projections.iter() {
            if let Some(folded) = projection
                .apply(&tx, &events, request.prior.as_ref(), &self.stream_reads)
                .await?
            {
                state = Some(folded);
            }
        }
        let stream = request.stream_id.to_string();
        if request.audit.is_some() {
            tx.prepare_cached(crate::access_log::INSERT_SQL).await?;
        }
        tx.prepare_cached(NOTIFY_SQL).await?;
        if request.idempotency.is_some() {
            tx.prepare_cached(RECORD_KEY_SQL).await?;
        }
        let (audited, notified, keyed) = futures::join!(
            async {
                let Some(entry) = &request.audit else {
                    return Ok(());
                };
                crate::access_log::insert_entries(&tx, std::slice::from_ref(entry))
                    .await
                    .map_err(|e| match e {
                        e if e.is_timeout() || e.is_disconnected() => e,
                        e => StoreError::AccessLog(e.to_string()),
                    })
            },
            async {
                // Wakes feed readers when (and only if) this commits.
                let notify = tx.prepare_cached(NOTIFY_SQL).await?;
                tx.execute(&notify, &[&stream]).await?;
                Ok::<_, StoreError>(())
            },
            record_key(&tx, &request, first_version, new_version),
        );
        audited?;
        notified?;
        keyed?;
        tx.commit().await?;
        if !crate::replica::note_write_position(&client).await {
            // A query is still in flight on it: it goes, rather than back to the pool.
            drop(deadpool_postgres::Object::take(client));
        }
        Ok(AppendOutcome {
            stream_id: request.stream_id,
            events,
            replayed: false,
            state,
        })
    }
}

/// Records the request's idempotency key, if it has one, with the versions it wrote.
async fn record_key(
    tx: &Transaction<'_>,
    request: &AppendRequest,
    first_version: i64,
    new_version: i64,
) -> Result<(), StoreError> {
    let Some(key) = &request.idempotency else {
        return Ok(());
    };
    let stmt = tx.prepare_cached(RECORD_KEY_SQL).await?;
    tx.execute(
        &stmt,
        &[
            &key.scope,
            &key.key,
            &key.fingerprint,
            &request.stream_id,
            &first_version,
            &new_version,
        ],
    )
    .await?;
    Ok(())
}

/// The first result of an earlier request with the same key, or `None` if there was none.
async fn replay(
    tx: &Transaction<'_>,
    key: &crate::IdempotencyKey,
) -> Result<Option<AppendOutcome>, StoreError> {
    let stmt = tx.prepare_cached(REPLAY_KEY_SQL).await?;
    let Some(row) = tx.query_opt(&stmt, &[&key.scope, &key.key]).await? else {
        return Ok(None);
    };
    let fingerprint: String = row.try_get(0)?;
    if fingerprint != key.fingerprint {
        return Err(StoreError::IdempotencyKeyReused {
            key: key.key.clone(),
        });
    }
    let stream_id: Uuid = row.try_get(1)?;
    let first: i64 = row.try_get(2)?;
    let last: i64 = row.try_get(3)?;
    let stmt = tx
        .prepare_cached(&format!(
            "SELECT {EVENT_COLUMNS} FROM events e JOIN streams s ON s.stream_id = e.stream_id \
             WHERE e.stream_id = $1 AND e.stream_version BETWEEN $2 AND $3 \
             ORDER BY e.stream_version"
        ))
        .await?;
    let events = tx
        .query(&stmt, &[&stream_id, &first, &last])
        .await?
        .iter()
        .map(RecordedEvent::from_row)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(AppendOutcome {
        stream_id,
        events,
        replayed: true,
        state: None,
    }))
}

/// The statement that moves a stream's version on, for what the writer expects of it.
fn advance_sql(expected: ExpectedVersion) -> &'static str {
    match expected {
        ExpectedVersion::NoStream | ExpectedVersion::Exact(0) => NEW_STREAM_SQL,
        ExpectedVersion::Exact(_) => ADVANCE_SQL,
        ExpectedVersion::Any => ANY_VERSION_SQL,
    }
}

/// Moves the stream's version on by `count` if, and only if, it is where the writer expects.
async fn advance_stream(
    tx: &Transaction<'_>,
    request: &AppendRequest,
    count: i64,
) -> Result<i64, StoreError> {
    let stmt = tx.prepare_cached(advance_sql(request.expected)).await?;
    let row = match request.expected {
        ExpectedVersion::Exact(expected) if expected != 0 => {
            tx.query_opt(&stmt, &[&request.stream_id, &count, &expected])
                .await?
        }
        _ => {
            tx.query_opt(&stmt, &[&request.stream_id, &request.stream_type, &count])
                .await?
        }
    };
    if let Some(row) = row {
        return Ok(row.try_get(0)?);
    }
    let stmt = tx
        .prepare_cached("SELECT version FROM streams WHERE stream_id = $1")
        .await?;
    let actual = tx
        .query_opt(&stmt, &[&request.stream_id])
        .await?
        .map(|r| r.try_get::<_, i64>(0))
        .transpose()?;
    Err(StoreError::VersionConflict {
        stream_id: request.stream_id,
        expected: request.expected.to_string(),
        actual,
    })
}

/// Inserts the events in one statement and returns them as recorded.
async fn insert_events(
    tx: &Transaction<'_>,
    request: &AppendRequest,
    first_version: i64,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let mut ids = Vec::with_capacity(request.events.len());
    let mut versions = Vec::with_capacity(request.events.len());
    let mut types = Vec::with_capacity(request.events.len());
    let mut schemas = Vec::with_capacity(request.events.len());
    let mut data = Vec::with_capacity(request.events.len());
    let mut metadata = Vec::with_capacity(request.events.len());
    for (version, event) in (first_version..).zip(&request.events) {
        ids.push(event.event_id);
        versions.push(version);
        types.push(event.event_type.as_str());
        schemas.push(event.schema_version);
        data.push(&event.data);
        metadata.push(serde_json::to_value(&event.metadata)?);
    }
    let stmt = tx
        .prepare_cached(
            "INSERT INTO events \
             (event_id, stream_id, stream_version, event_type, schema_version, data, metadata) \
             SELECT id, $2, v, t, sv, d, m \
             FROM unnest($1::uuid[], $3::bigint[], $4::text[], $5::int2[], $6::jsonb[], $7::jsonb[]) \
                  AS x(id, v, t, sv, d, m) \
             RETURNING global_position, transaction_id::text, event_id, stream_id, $8::text, \
                       stream_version, event_type, schema_version, data, metadata, recorded_at",
        )
        .await?;
    let rows = tx
        .query(
            &stmt,
            &[
                &ids,
                &request.stream_id,
                &versions,
                &types,
                &schemas,
                &data,
                &metadata,
                &request.stream_type,
            ],
        )
        .await
        .map_err(|e| map_insert_error(e, request))?;
    let mut events = rows
        .iter()
        .map(RecordedEvent::from_row)
        .collect::<Result<Vec<_>, _>>()?;
    events.sort_by_key(|e| e.stream_version);
    Ok(events)
}

/// Only the constraints that mean a conflict become one; every other failure stays a database
/// error.
fn map_insert_error(error: tokio_postgres::Error, request: &AppendRequest) -> StoreError {
    let Some(db) = error.as_db_error() else {
        return StoreError::Database(error);
    };
    if db.code() != &SqlState::UNIQUE_VIOLATION {
        return StoreError::Database(error);
    }
    match db.constraint() {
        Some("events_event_id_key") => {
            let duplicate = request
                .events
                .iter()
                .find(|e| {
                    db.detail()
                        .is_some_and(|d| d.contains(&e.event_id.to_string()))
                })
                .map_or(Uuid::nil(), |e| e.event_id);
            StoreError::DuplicateEvent(duplicate)
        }
        Some("events_stream_version_key") => StoreError::VersionConflict {
            stream_id: request.stream_id,
            expected: request.expected.to_string(),
            actual: None,
        },
        _ => StoreError::Database(error),
    }
}
