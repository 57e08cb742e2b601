use async_trait::async_trait;
use deadpool_postgres::Transaction;

use crate::{RecordedEvent, StoreError};

/// A read model kept in step with the log inside the append's own transaction: when the append
/// commits, the read model has the change; when the projection fails, nothing is written.
#[async_trait]
pub trait InlineProjection: Send + Sync {
    /// A stable name, for errors and for rebuilds.
    fn name(&self) -> &'static str;

    /// Applies freshly appended events (all of one stream, in version order).
    async fn apply(&self, tx: &Transaction<'_>, events: &[RecordedEvent])
        -> Result<(), StoreError>;
}
