//! Changes as downstream systems see them: one per event of the log, in commit order, with the
//! emergency summary as it stood after the change. Shared by the feed, its SSE stream and the
//! webhooks, so every consumer gets the same document for the same change.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use ucp_domain::views::EmergencySummary;
use ucp_domain::{PlanSection, PlanStatus};
use ucp_store::projections::care_plans::STREAM_TYPE;
pub use ucp_store::FeedCursor;
use ucp_store::{Database, FeedSignal, RecordedEvent};
use uuid::Uuid;

use ucp_store::projections::replay::replay;

use crate::AppError;

/// What a consumer should do with what it holds for the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ChangeAction {
    /// The plan is active: keep (or replace) what you hold with `summary`.
    Upsert,
    /// The plan is no longer current (withdrawn, person died, or voided as made in error), or
    /// the person has withdrawn their consent to share it: drop what you hold for it.
    Drop,
}

/// One change to one plan.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// The event's id: the same change always has the same id.
    pub change_id: Uuid,
    /// Resume after this change with `after=<cursor>` (or `Last-Event-ID`).
    pub cursor: String,
    pub plan_id: Uuid,
    pub nhs_number: String,
    /// The event type (`CarePlanCreated`, `EmergencyTreatmentPlanRecorded`, `CarePlanVoided`, …).
    pub change_type: String,
    pub section: Option<PlanSection>,
    pub plan_version: i64,
    pub plan_status: PlanStatus,
    pub at: DateTime<Utc>,
    pub action: ChangeAction,
    /// The emergency summary after the change; absent when the action is `drop`.
    pub summary: Option<EmergencySummary>,
}

/// A page of changes.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ChangePage {
    pub changes: Vec<Change>,
    /// Ask for the next page with `after=<next>`; equal to `after` when there was nothing new.
    pub next: String,
}

/// Turns recorded events into changes, reading the page's plans in one query: each from the
/// state the feed last sent it in when that is older than the page, else from its start.
///
/// # Errors
/// When the store fails or an event cannot be read.
pub async fn to_changes(db: &Database, events: &[RecordedEvent]) -> Result<Vec<Change>, AppError> {
    let mut wanted: HashMap<Uuid, BTreeSet<i64>> = HashMap::new();
    // A sensitivity mark changes no summary, and the feed would make its followers a register
    // of who is marked: it is not a change they are sent.
    for e in events.iter().filter(|e| {
        e.stream_type == STREAM_TYPE
            && !ucp_domain::sensitivity::WITHHELD.contains(&e.event_type.as_str())
    }) {
        wanted
            .entry(e.stream_id)
            .or_default()
            .insert(e.stream_version);
    }
    // Each plan is brought from the state the feed last left it in (when that is before this
    // page's first change of it) or from its start, all plans in one query.
    let mut from = Vec::with_capacity(wanted.len());
    let mut start = HashMap::new();
    for (plan_id, versions) in &wanted {
        let first = versions.first().copied().unwrap_or(1);
        match db
            .feed_states()
            .get::<ucp_domain::CarePlan>(*plan_id)
            .filter(|s| s.version < first)
        {
            Some(state) => {
                from.push((*plan_id, state.version));
                start.insert(*plan_id, state);
            }
            None => from.push((*plan_id, 0)),
        }
    }
    let mut histories = db.read_streams_after(&from).await?;
    let mut states = HashMap::new();
    let mut voided = HashSet::new();
    for (plan_id, versions) in &wanted {
        // The whole stream to its end, not just up to the page's versions: a plan voided since
        // (made on the wrong person) has its earlier changes sent as drops, never with content.
        let history = histories.remove(plan_id).unwrap_or_default();
        let mut last = start.remove(plan_id);
        let latest_wanted = versions.last().copied();
        for step in replay(&history, last.clone()) {
            let step = step?;
            let version = step.recorded.stream_version;
            if versions.contains(&version) {
                if let Some(p) = &step.plan {
                    states.insert((*plan_id, version), (p.clone(), step.event.section()));
                    if Some(version) == latest_wanted {
                        db.feed_states().put(*plan_id, p.clone());
                    }
                }
            }
            last = step.plan;
        }
        // A voided plan, or one whose person has withdrawn consent to share, is served by no
        // earlier change either: readers drop what they hold.
        if last
            .as_ref()
            .is_some_and(|p| p.status == PlanStatus::Voided || p.consent_withdrawal.is_some())
        {
            voided.insert(*plan_id);
        }
    }
    let mut changes = Vec::with_capacity(events.len());
    for e in events.iter().filter(|e| e.stream_type == STREAM_TYPE) {
        let Some((plan, section)) = states.get(&(e.stream_id, e.stream_version)) else {
            continue;
        };
        let active = plan.status == PlanStatus::Active
            && plan.consent_withdrawal.is_none()
            && !voided.contains(&e.stream_id);
        changes.push(Change {
            change_id: e.event_id,
            cursor: FeedCursor::of(e).encode(),
            plan_id: e.stream_id,
            nhs_number: plan.nhs_number.to_string(),
            change_type: e.event_type.clone(),
            section: *section,
            plan_version: e.stream_version,
            plan_status: plan.status,
            at: e.recorded_at,
            action: if active {
                ChangeAction::Upsert
            } else {
                ChangeAction::Drop
            },
            // Feed followers (dispatch systems, webhook receivers) do not attend: no way in.
            summary: if active {
                EmergencySummary::of(e.stream_id, plan, e.recorded_at.date_naive())
                    .map(EmergencySummary::without_way_in)
            } else {
                None
            },
        });
    }
    Ok(changes)
}

/// The changes after `after`, waiting up to `wait` for one to commit when there are none.
/// Woken by the feed signal; polls every `poll` as a fallback.
///
/// # Errors
/// When the store fails.
pub async fn next_changes(
    db: &Database,
    signal: &FeedSignal,
    after: FeedCursor,
    limit: i64,
    wait: Duration,
    poll: Duration,
) -> Result<ChangePage, AppError> {
    let deadline = tokio::time::Instant::now() + wait;
    let mut cursor = after;
    // After a wake-up the change may still be behind the fence (an older transaction of the
    // cluster is still open): look again soon, backing off, rather than wait for the next poll.
    let mut nudge: Option<Duration> = None;
    loop {
        let mut wake = signal.subscribe();
        let page = db.read_feed(cursor, limit).await?;
        let changes = to_changes(db, &page.events).await?;
        cursor = page.next;
        if !changes.is_empty() || tokio::time::Instant::now() >= deadline {
            return Ok(ChangePage {
                changes,
                next: cursor.encode(),
            });
        }
        if !page.events.is_empty() {
            // Only events of other stream types: move on without waiting.
            continue;
        }
        let until = deadline.min(tokio::time::Instant::now() + nudge.unwrap_or(poll));
        match tokio::time::timeout_at(until, wake.changed()).await {
            Ok(Ok(())) => nudge = Some(Duration::from_millis(5)),
            Ok(Err(_)) => {
                // A closed signal (its listener gone) must not turn the wait into a busy loop.
                tokio::time::sleep_until(until).await;
                nudge = None;
            }
            Err(_) => {
                nudge = nudge
                    .map(|d| d * 2)
                    .filter(|d| *d <= Duration::from_millis(320))
            }
        }
    }
}

/// Opens a stream of the feed for a follower: the stream's pages are then read with
/// [`next_changes`] and recorded one by one.
///
/// # Errors
/// As [`crate::use_cases::STREAM_FEED`] refuses.
pub fn open_stream(actor: &crate::Actor) -> Result<(), AppError> {
    crate::use_cases::STREAM_FEED.authorize(actor)
}

/// A page of the feed after `after`, waiting up to `wait` for a change when there is none,
/// recorded with every NHS number it carries.
///
/// # Errors
/// Forbidden for all but dispatch and admin; when the store fails.
pub async fn read_page(
    db: &Database,
    signal: &FeedSignal,
    actor: &crate::Actor,
    after: FeedCursor,
    limit: i64,
    wait: Duration,
    poll: Duration,
) -> Result<crate::audit::Shown<ChangePage>, AppError> {
    crate::use_cases::READ_FEED.authorize(actor)?;
    let page = next_changes(db, signal, after, limit, wait, poll).await?;
    let access = crate::audit::Access {
        view: Some(crate::audit::View::Feed),
        returned_nhs_numbers: page.changes.iter().map(|c| c.nhs_number.clone()).collect(),
        ..crate::audit::Access::default()
    };
    Ok(crate::audit::Shown::new(page, access))
}

/// One person's current summary in a snapshot.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SnapshotItem {
    pub plan_id: Uuid,
    pub nhs_number: String,
    pub summary: serde_json::Value,
}

/// A page of the current summaries of active plans.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SnapshotPage {
    pub summaries: Vec<SnapshotItem>,
    /// Ask for the next page with `after=<nextPage>`; absent on the last page.
    pub next_page: Option<String>,
    /// Follow `/v1/feed` from here (`after=<cursor>`). Keep the cursor of the FIRST page:
    /// every change not reflected in it comes after it, and the feed is at-least-once, so
    /// changes reflected in later pages may come again and are applied the same way.
    pub cursor: String,
}

/// Bootstraps a new consumer: what is true now and the cursor to follow on from — never a
/// replay of history, so a voided plan's content never reaches a new consumer.
///
/// # Errors
/// Forbidden for all but dispatch and admin; when the store fails.
pub async fn snapshot(
    db: &Database,
    actor: &crate::Actor,
    after: Option<ucp_domain::NhsNumber>,
    limit: i64,
) -> Result<crate::audit::Shown<SnapshotPage>, AppError> {
    crate::use_cases::READ_SNAPSHOT.authorize(actor)?;
    let after = after.map(|n| n.to_string());
    let page = db.summary_snapshot(after.as_deref(), limit).await?;
    let next_page = (i64::try_from(page.summaries.len()).unwrap_or(0) == limit)
        .then(|| page.summaries.last().map(|(_, nhs, _)| nhs.clone()))
        .flatten();
    let access = crate::audit::Access {
        view: Some(crate::audit::View::Snapshot),
        returned_nhs_numbers: page
            .summaries
            .iter()
            .map(|(_, nhs, _)| nhs.clone())
            .collect(),
        ..crate::audit::Access::default()
    };
    let page = SnapshotPage {
        summaries: page
            .summaries
            .into_iter()
            .map(|(plan_id, nhs_number, mut summary)| {
                ucp_domain::views::withhold_way_in(&mut summary);
                SnapshotItem {
                    plan_id,
                    nhs_number,
                    summary,
                }
            })
            .collect(),
        next_page,
        cursor: page.cursor.encode(),
    };
    Ok(crate::audit::Shown::new(page, access))
}
