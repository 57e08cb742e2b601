//! The one replay of a plan's log: each stored event, what it says (upcast to today's shape),
//! and the plan after it. Folding, reads as of a version or instant, the history, the feed's
//! documents, the inline projection and the rebuild all walk a stream through this.

use ucp_domain::{evolve, Author, CarePlan, CarePlanEvent, Envelope};

use crate::{RecordedEvent, StoreError};

/// One step of a replay.
#[derive(Debug, Clone)]
pub struct Replayed<'a> {
    pub recorded: &'a RecordedEvent,
    pub event: CarePlanEvent,
    /// The plan after this event.
    pub plan: Option<CarePlan>,
}

/// Replays `events` (one stream, in version order) over `from`: the plan before the first of
/// them (`None` from the start of a stream).
pub fn replay(
    events: &[RecordedEvent],
    from: Option<CarePlan>,
) -> impl Iterator<Item = Result<Replayed<'_>, StoreError>> {
    let mut state = from;
    events.iter().map(move |recorded| {
        let event = decode(recorded)?;
        state = evolve(state.take(), &event, &envelope(recorded));
        Ok(Replayed {
            recorded,
            event,
            plan: state.clone(),
        })
    })
}

/// The plan after `events` applied over `from`.
///
/// # Errors
/// When a stored event cannot be read by this code.
pub fn fold_from(
    events: &[RecordedEvent],
    from: Option<CarePlan>,
) -> Result<Option<CarePlan>, StoreError> {
    // As `replay`, without a copy of the state at every step: only the last is wanted.
    let mut state = from;
    for recorded in events {
        state = evolve(state.take(), &decode(recorded)?, &envelope(recorded));
    }
    Ok(state)
}

/// A stored event as this code reads it (older schema versions upcast).
fn decode(recorded: &RecordedEvent) -> Result<CarePlanEvent, StoreError> {
    CarePlanEvent::decode(
        &recorded.event_type,
        recorded.schema_version,
        recorded.data.clone(),
    )
    .map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Folds a whole stream (from its first event) into the plan's state.
///
/// # Errors
/// When a stored event cannot be read by this code.
pub fn fold(events: &[RecordedEvent]) -> Result<Option<CarePlan>, StoreError> {
    fold_from(events, None)
}

/// The author and time of an event, from its metadata.
#[must_use]
pub fn envelope(recorded: &RecordedEvent) -> Envelope {
    Envelope {
        version: recorded.stream_version,
        at: recorded.recorded_at,
        author: Author {
            actor: recorded.metadata.actor.clone(),
            name: recorded.metadata.actor_name.clone(),
            role: recorded.metadata.role.clone(),
            organisation: recorded.metadata.organisation.clone(),
            on_behalf_of: recorded.metadata.on_behalf_of.clone(),
        },
    }
}
