use async_trait::async_trait;
use deadpool_postgres::Transaction;

use ucp_domain::CarePlan;

use crate::{RecordedEvent, StoreError};

/// A read model kept in step with the log inside the append's own transaction: when the append
/// commits, the read model has the change; when the projection fails, nothing is written.
#[async_trait]
pub trait InlineProjection: Send + Sync {
    /// A stable name, for errors and for rebuilds.
    fn name(&self) -> &'static str;

    /// Applies freshly appended events (all of one stream, in version order). `prior` is the
    /// plan the writer decided on (the stream up to just before `events`), so that a write
    /// folds the plan once: the projection evolves it by the new events instead of reading the
    /// stream again, and returns the plan it evolved, which the append hands back to the
    /// writer (`AppendOutcome::state`), so that the writer does not fold it again.
    async fn apply(
        &self,
        tx: &Transaction<'_>,
        events: &[RecordedEvent],
        prior: Option<&CarePlan>,
        reads: &crate::StreamReads,
    ) -> Result<Option<CarePlan>, StoreError>;
}
