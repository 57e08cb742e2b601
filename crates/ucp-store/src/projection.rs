use async_trait::async_trait;
use deadpool_postgres::Transaction;

use crate::{RecordedEvent, StoreError};

/// An aggregate's state as a writer folded it, handed through the store without the store knowing
/// its type: the projection of that aggregate knows it (`downcast_ref`).
pub type State = std::sync::Arc<dyn std::any::Any + Send + Sync>;

/// A read model kept in step with the log inside the append's own transaction: when the append
/// commits, the read model has the change; when the projection fails, nothing is written.
#[async_trait]
pub trait InlineProjection: Send + Sync {
    /// A stable name, for errors and for rebuilds.
    fn name(&self) -> &'static str;

    /// Applies freshly appended events (all of one stream, in version order). `prior` is the
    /// state the writer decided on (the stream up to just before `events`), so that a write
    /// folds its aggregate once: the projection evolves it by the new events instead of reading
    /// the stream again, and returns the state it evolved, which the append hands back to the
    /// writer (`AppendOutcome::state`), so that the writer does not fold it again.
    async fn apply(
        &self,
        tx: &Transaction<'_>,
        events: &[RecordedEvent],
        prior: Option<&State>,
        reads: &crate::StreamReads,
    ) -> Result<Option<State>, StoreError>;
}
