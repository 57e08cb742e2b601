use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::event::EVENT_COLUMNS;
use crate::{Database, RecordedEvent, StoreError};

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
        let client = self.pool.get().await?;
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
