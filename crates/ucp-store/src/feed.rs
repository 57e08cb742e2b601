use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::event::EVENT_COLUMNS;
use crate::{Database, RecordedEvent, StoreError, TxSnapshot};

/// A position in the feed: the last event a reader has seen, in commit order.
///
/// Opaque to clients; it encodes the transaction id and global position of that event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FeedCursor {
    pub transaction_id: u64,
    pub global_position: i64,
}

/// A cursor string that this service did not make.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the cursor is not one this service issued")]
pub struct InvalidCursor;

const CURSOR_PREFIX: &str = "ucp1:";

impl FeedCursor {
    /// Before the first event.
    pub const START: Self = Self {
        transaction_id: 0,
        global_position: 0,
    };

    #[must_use]
    pub fn of(event: &RecordedEvent) -> Self {
        Self {
            transaction_id: event.transaction_id,
            global_position: event.global_position,
        }
    }

    /// The opaque form handed to clients.
    #[must_use]
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!(
            "{CURSOR_PREFIX}{}:{}",
            self.transaction_id, self.global_position
        ))
    }

    /// Reads a cursor made by [`FeedCursor::encode`].
    ///
    /// # Errors
    /// [`InvalidCursor`] for anything else.
    pub fn decode(text: &str) -> Result<Self, InvalidCursor> {
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| InvalidCursor)?;
        let text = String::from_utf8(bytes).map_err(|_| InvalidCursor)?;
        let rest = text.strip_prefix(CURSOR_PREFIX).ok_or(InvalidCursor)?;
        let (tx, pos) = rest.split_once(':').ok_or(InvalidCursor)?;
        let transaction_id = tx.parse::<u64>().map_err(|_| InvalidCursor)?;
        let global_position = pos.parse::<i64>().map_err(|_| InvalidCursor)?;
        if global_position < 0 {
            return Err(InvalidCursor);
        }
        Ok(Self {
            transaction_id,
            global_position,
        })
    }
}

/// A page of the feed and the cursor to ask for the next one with.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedPage {
    pub events: Vec<RecordedEvent>,
    pub next: FeedCursor,
}

/// Events after the cursor, in commit order, but only those of transactions older than every
/// transaction still open: an event whose transaction is in flight may yet commit with a lower
/// position than one already visible, and a reader that moved past it would skip it forever.
const FEED_SQL: &str = "WHERE e.transaction_id < pg_snapshot_xmin(pg_current_snapshot()) \
       AND (e.transaction_id, e.global_position) > ($1::text::xid8, $2) \
     ORDER BY e.transaction_id, e.global_position \
     LIMIT $3";

impl Database {
    /// Reads the feed after `after`, at most `limit` events. No reader that follows the cursors
    /// this returns ever skips or repeats an event.
    ///
    /// # Errors
    /// When the database fails.
    #[tracing::instrument(skip(self))]
    pub async fn read_feed(&self, after: FeedCursor, limit: i64) -> Result<FeedPage, StoreError> {
        let client = self.connection().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM events e JOIN streams s ON s.stream_id = e.stream_id \
                 {FEED_SQL}"
            ))
            .await?;
        let events = client
            .query(
                &stmt,
                &[
                    &after.transaction_id.to_string(),
                    &after.global_position,
                    &limit.max(0),
                ],
            )
            .await?
            .iter()
            .map(RecordedEvent::from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let next = events.last().map_or(after, FeedCursor::of);
        Ok(FeedPage { events, next })
    }
}

/// How far behind the log its readers are, for the metrics: the newest event's position, the
/// newest the feed may serve (its fence), and each consumer checkpoint's position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LagReport {
    pub head: i64,
    pub fenced: i64,
    /// (subscription id, checkpoint position), for the webhook subscriptions' checkpoints.
    pub subscriptions: Vec<(String, i64)>,
}

impl Database {
    /// The positions of the log's head, the feed's fence and every subscription's checkpoint.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn lag_report(&self) -> Result<LagReport, StoreError> {
        let client = self.connection().await?;
        let head_row = client.query_one(HEAD_SQL, &[]).await?;
        let (_, fence) = head_of(&head_row)?;
        let head: i64 = client
            .query_one("SELECT coalesce(max(global_position), 0) FROM events", &[])
            .await?
            .try_get(0)?;
        let subscriptions = client
            .query(
                "SELECT substr(consumer, 14), global_position FROM consumer_checkpoints \
                 WHERE consumer LIKE 'subscription:%' ORDER BY consumer",
                &[],
            )
            .await?
            .iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(LagReport {
            head,
            fenced: fence.global_position.max(0),
            subscriptions,
        })
    }
}

/// The last event behind the fence as of the statement's snapshot, with that snapshot: a reader
/// that starts after it misses nothing still in flight (every open transaction is above the
/// fence), and every change the snapshot already saw is at or before it or visible in it.
pub(crate) const HEAD_SQL: &str = "WITH snap AS (SELECT pg_current_snapshot() AS s) \
     SELECT snap.s::text, h.transaction_id::text, h.global_position FROM snap \
     LEFT JOIN LATERAL (SELECT transaction_id, global_position FROM events \
        WHERE transaction_id < pg_snapshot_xmin(snap.s) \
        ORDER BY transaction_id DESC, global_position DESC LIMIT 1) h ON true";

/// Reads the row of [`HEAD_SQL`].
pub(crate) fn head_of(row: &tokio_postgres::Row) -> Result<(TxSnapshot, FeedCursor), StoreError> {
    let snapshot = TxSnapshot::parse(&row.try_get::<_, String>(0)?)?;
    let tx: Option<String> = row.try_get(1)?;
    let cursor = match tx {
        None => FeedCursor::START,
        Some(tx) => FeedCursor {
            transaction_id: tx
                .parse()
                .map_err(|e| StoreError::Corrupt(format!("transaction id {tx:?}: {e}")))?,
            global_position: row.try_get(2)?,
        },
    };
    Ok((snapshot, cursor))
}

/// The current emergency summaries of active plans (not those whose person withdrew consent to
/// share), a page at a time by NHS number, with the
/// feed cursor to follow on from: a new consumer starts from what is true now instead of
/// replaying history (in which plans since voided still had content).
#[derive(Debug, Clone, PartialEq)]
pub struct SummarySnapshot {
    /// (plan id, NHS number, summary), by NHS number.
    pub summaries: Vec<(uuid::Uuid, String, serde_json::Value)>,
    /// Follow the feed after this: every change not in this page's state comes after it.
    pub cursor: FeedCursor,
}

impl Database {
    /// A page of [`SummarySnapshot`]: summaries and cursor read in one snapshot.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn summary_snapshot(
        &self,
        after_nhs_number: Option<&str>,
        limit: i64,
    ) -> Result<SummarySnapshot, StoreError> {
        let mut client = self.connection().await?;
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let head = tx.prepare_cached(HEAD_SQL).await?;
        let (_, cursor) = head_of(&tx.query_one(&head, &[]).await?)?;
        let page = tx
            .prepare_cached(
                "SELECT plan_id, nhs_number, summary, version, plan_updated_at \
                 FROM emergency_summary \
                 WHERE status = 'active' AND summary->>'consentWithdrawn' IS NULL \
                   AND ($1::text IS NULL OR nhs_number > $1) \
                 ORDER BY nhs_number LIMIT $2",
            )
            .await?;
        let summaries = tx
            .query(&page, &[&after_nhs_number, &limit.max(0)])
            .await?
            .iter()
            .map(|r| {
                // As a rebuild would store it: at the row's version and time of change, judged
                // on the day of that change (the stored text is of the last change that
                // reached the summary's content, judged on that change's day).
                let text: tokio_postgres::types::Json<Box<serde_json::value::RawValue>> =
                    r.try_get(2)?;
                let changed_at: chrono::DateTime<chrono::Utc> = r.try_get(4)?;
                let summary = crate::queries::decode_summary(&text.0, r.try_get(3)?, changed_at)?
                    .as_of(changed_at.date_naive());
                Ok((r.try_get(0)?, r.try_get(1)?, serde_json::to_value(summary)?))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        tx.commit().await?;
        Ok(SummarySnapshot { summaries, cursor })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips() {
        let c = FeedCursor {
            transaction_id: 987_654,
            global_position: 42,
        };
        assert_eq!(FeedCursor::decode(&c.encode()), Ok(c));
        assert_eq!(
            FeedCursor::decode(&FeedCursor::START.encode()),
            Ok(FeedCursor::START)
        );
    }

    #[test]
    fn foreign_cursors_are_refused() {
        for bad in [
            "",
            "not base64!",
            "MTIzOjQ1",                           // "123:45" without the prefix
            &URL_SAFE_NO_PAD.encode("ucp1:x:1"),  // not a number
            &URL_SAFE_NO_PAD.encode("ucp1:1:-5"), // negative position
            &URL_SAFE_NO_PAD.encode("ucp1:12"),   // one part
            &URL_SAFE_NO_PAD.encode("ucp2:1:1"),  // another version
        ] {
            assert_eq!(FeedCursor::decode(bad), Err(InvalidCursor), "{bad}");
        }
    }
}
