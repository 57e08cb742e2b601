//! What changed since the version a reader holds: a crew's tablet that cached version 4 asks
//! once and sees exactly what moved — as RFC 6902 JSON Patches over the plan document, or, for
//! the emergency summary, in its own terms ("CPR status changed from … to … by … at …").

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use ucp_domain::views::{EmergencySummary, PlanView};
use ucp_domain::{Author, CarePlan, NhsNumber, PlanSection};
use ucp_store::projections::replay::{envelope, replay};
use ucp_store::{Database, StreamBound};
use uuid::Uuid;

use crate::audit::{Access, Shown, View};
use crate::visibility::{ensure_visible, may_see};
use crate::{Actor, AppError};

/// Which versions: the changes after `since`, up to `until` (default: the current version).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub since: i64,
    pub until: Option<i64>,
}

/// One change after the reader's version.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanChange {
    /// The plan version this change produced.
    pub version: i64,
    pub event_type: String,
    /// The section changed or retracted; absent for a lifecycle step (review, withdrawal,
    /// death, voiding, a retracted death).
    pub section: Option<PlanSection>,
    pub changed_by: Author,
    pub at: DateTime<Utc>,
    /// RFC 6902 operations that turn the plan document at the previous version (as
    /// `GET /v1/care-plans/{id}?version=…` serves it) into the document at this one.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub patch: json_patch::Patch,
}

/// The changes to a plan between two versions.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanChanges {
    pub plan_id: Uuid,
    pub since: i64,
    pub until: i64,
    /// The ETag of the plan at `until`: what a reader holds after applying every patch.
    pub etag: String,
    pub changes: Vec<PlanChange>,
}

fn check_range(range: Range, current: i64) -> Result<i64, AppError> {
    let until = range.until.unwrap_or(current);
    let bad = |pointer: &str, detail: String| AppError::invalid_field(pointer, detail);
    if range.since < 0 || range.since > current {
        return Err(bad(
            "/since",
            format!("since runs from 0 to the current version, {current}"),
        ));
    }
    if until < range.since || until > current {
        return Err(bad(
            "/until",
            format!(
                "until runs from since ({}) to the current version, {current}",
                range.since
            ),
        ));
    }
    Ok(until)
}

/// Each version's plan after `since`, with the event that made it, and the plan at `since`.
async fn versions(
    db: &Database,
    plan_id: Uuid,
    range: Range,
    until: i64,
) -> Result<
    (
        Option<CarePlan>,
        Vec<(
            ucp_store::RecordedEvent,
            ucp_domain::CarePlanEvent,
            CarePlan,
        )>,
    ),
    AppError,
> {
    let events = db
        .read_stream(plan_id, StreamBound::UpToVersion(until))
        .await?;
    let mut base = None;
    let mut steps = Vec::new();
    for step in replay(&events, None) {
        let step = step?;
        let Some(plan) = step.plan else { continue };
        if step.recorded.stream_version <= range.since {
            base = Some(plan);
        } else {
            steps.push((step.recorded.clone(), step.event, plan));
        }
    }
    Ok((base, steps))
}

fn document(plan_id: Uuid, plan: Option<&CarePlan>) -> Result<serde_json::Value, AppError> {
    plan.map_or(Ok(serde_json::Value::Null), |p| {
        serde_json::to_value(PlanView::of(plan_id, p)).map_err(|e| AppError::Internal(Box::new(e)))
    })
}

/// The changes to a plan after `range.since`, each as a JSON Patch over the plan document.
///
/// # Errors
/// As reading the plan; invalid for a range outside the plan's versions.
pub async fn plan_changes(
    db: &Database,
    actor: &Actor,
    plan_id: Uuid,
    range: Range,
) -> Result<Shown<PlanChanges>, AppError> {
    crate::use_cases::GET_CHANGES.authorize(actor)?;
    let row = ensure_visible(actor, db.plan(plan_id).await?)?;
    let until = check_range(range, row.version)?;
    let mut changes = plan_changes_of(
        db,
        plan_id,
        Range {
            since: range.since,
            until: Some(until),
        },
    )
    .await?;
    if !crate::reads::attends(actor) && !actor.role.keeps_plans() {
        // How to get into the home stays with those who attend (111 reads it withheld).
        for change in &mut changes.changes {
            let mut patch =
                serde_json::to_value(&change.patch).map_err(|e| AppError::Internal(Box::new(e)))?;
            ucp_domain::views::withhold_way_in_everywhere(&mut patch);
            change.patch =
                serde_json::from_value(patch).map_err(|e| AppError::Internal(Box::new(e)))?;
        }
    }
    let access = Access {
        plan_id: Some(plan_id),
        nhs_number: Some(row.nhs_number.to_string()),
        plan_version: Some(until),
        view: Some(View::Changes),
        detail: Some(serde_json::json!({ "since": range.since, "until": until })),
        ..Access::default()
    };
    Ok(Shown::new(changes, access))
}

/// The changes of a plan in a range already checked (also what an audit replay rebuilds).
///
/// # Errors
/// When the store fails or an event cannot be read.
pub async fn plan_changes_of(
    db: &Database,
    plan_id: Uuid,
    range: Range,
) -> Result<PlanChanges, AppError> {
    let until = range.until.unwrap_or(range.since);
    let (base, steps) = versions(db, plan_id, range, until).await?;
    let mut before = document(plan_id, base.as_ref())?;
    let mut changes = Vec::with_capacity(steps.len());
    for (recorded, event, plan) in &steps {
        let after = document(plan_id, Some(plan))?;
        changes.push(PlanChange {
            version: recorded.stream_version,
            event_type: recorded.event_type.clone(),
            section: event.section(),
            changed_by: envelope(recorded).author,
            at: recorded.recorded_at,
            patch: json_patch::diff(&before, &after),
        });
        before = after;
    }
    Ok(PlanChanges {
        plan_id,
        since: range.since,
        until,
        etag: ucp_domain::views::plan_etag(until),
        changes,
    })
}

/// One change to the emergency summary, in its own terms.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SummaryChange {
    pub version: i64,
    pub event_type: String,
    pub changed_by: Author,
    pub at: DateTime<Utc>,
    /// What moved, in words ("CPR status changed from not-for-cpr to for-cpr by Dr A
    /// (clinician, F84001) at …"); empty when the change did not touch the summary.
    pub statements: Vec<String>,
    /// RFC 6902 operations from the summary before to the summary after.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub patch: json_patch::Patch,
}

/// The changes to a person's emergency summary.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SummaryChanges {
    pub plan_id: Uuid,
    pub since: i64,
    pub until: i64,
    pub changes: Vec<SummaryChange>,
}

fn who(author: &Author) -> String {
    let name = author.name.clone().unwrap_or_else(|| author.actor.clone());
    match &author.organisation {
        Some(org) => format!("{name} ({}, {org})", author.role),
        None => format!("{name} ({})", author.role),
    }
}

fn text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => "nothing".to_owned(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The statements for one change: each field a crew acts on that moved.
fn statements(
    before: &serde_json::Value,
    after: &serde_json::Value,
    by: &str,
    at: DateTime<Utc>,
) -> Vec<String> {
    let fields: [(&str, &str); 10] = [
        ("Plan status", "/status"),
        ("CPR status", "/cpr/status"),
        ("Modified CPR details", "/cpr/modifiedCprDetails"),
        ("Clinical focus", "/treatment/clinicalFocus"),
        ("Advance decision to refuse treatment", "/legal/adrt/held"),
        ("First contact", "/contacts/first/name"),
        ("First contact's phone", "/contacts/first/phone"),
        ("Review due", "/currency/reviewDue"),
        ("Preferred place of care", "/wishes/preferredPlaceOfCare"),
        ("Access to the home", "/alerts/accessToHome"),
    ];
    let mut out = Vec::new();
    let null = serde_json::Value::Null;
    for (label, pointer) in fields {
        let (old, new) = (
            before.pointer(pointer).unwrap_or(&null),
            after.pointer(pointer).unwrap_or(&null),
        );
        if old != new {
            out.push(format!(
                "{label} changed from {} to {} by {by} at {}",
                text(old),
                text(new),
                at.to_rfc3339()
            ));
        }
    }
    if before.pointer("/cpr/recordedAt") != after.pointer("/cpr/recordedAt")
        && !out.iter().any(|s| s.starts_with("CPR status"))
    {
        out.push(format!(
            "The Emergency Treatment Plan was recorded again by {by} at {}",
            at.to_rfc3339()
        ));
    }
    let warnings = |v: &serde_json::Value| -> Vec<String> {
        v.get("warnings")
            .and_then(|w| w.as_array())
            .map(|w| {
                w.iter()
                    .filter_map(|w| w["message"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let old = warnings(before);
    for w in warnings(after) {
        if !old.contains(&w) {
            out.push(format!("New warning: {w}"));
        }
    }
    out
}

/// The changes to a person's emergency summary after `range.since`, each summary judged as
/// of `today` (so that only what was recorded moves, not the passing of time).
///
/// # Errors
/// As reading the summary; invalid for a range outside the plan's versions.
pub async fn summary_changes(
    db: &Database,
    actor: &Actor,
    nhs: NhsNumber,
    range: Range,
    today: NaiveDate,
) -> Result<Shown<SummaryChanges>, AppError> {
    crate::use_cases::GET_SUMMARY_CHANGES.authorize(actor)?;
    let none = || AppError::NotFound(format!("There is no current care plan for {nhs}."));
    let row = db.summary_for_person(nhs).await?.ok_or_else(none)?;
    if !may_see(actor, nhs, row.status) {
        return Err(none());
    }
    if let Some(w) = row
        .summary
        .consent_withdrawn
        .filter(|w| crate::visibility::withheld(actor, Some(w)))
    {
        return Err(crate::visibility::refused_for_consent(actor, &w));
    }
    let current = db.stream_version(row.plan_id).await?.ok_or_else(none)?;
    let until = check_range(range, current)?;
    let changes = summary_changes_of(
        db,
        row.plan_id,
        Range {
            since: range.since,
            until: Some(until),
        },
        today,
        crate::reads::attends(actor),
    )
    .await?;
    let access = Access {
        plan_id: Some(row.plan_id),
        nhs_number: Some(nhs.to_string()),
        plan_version: Some(until),
        view: Some(View::Changes),
        detail: Some(serde_json::json!({ "since": range.since, "until": until, "of": "summary" })),
        ..Access::default()
    };
    Ok(Shown::new(changes, access))
}

/// The changes of a summary in a range already checked (also what an audit replay rebuilds).
///
/// # Errors
/// When the store fails or an event cannot be read.
pub async fn summary_changes_of(
    db: &Database,
    plan_id: Uuid,
    range: Range,
    today: NaiveDate,
    way_in: bool,
) -> Result<SummaryChanges, AppError> {
    let until = range.until.unwrap_or(range.since);
    let (base, steps) = versions(db, plan_id, range, until).await?;
    let summary = |plan: Option<&CarePlan>| -> Result<serde_json::Value, AppError> {
        plan.and_then(|p| EmergencySummary::of(plan_id, p, today))
            .map(|s| if way_in { s } else { s.without_way_in() })
            .map_or(Ok(serde_json::Value::Null), |s| {
                serde_json::to_value(s).map_err(|e| AppError::Internal(Box::new(e)))
            })
    };
    let mut before = summary(base.as_ref())?;
    let mut changes = Vec::with_capacity(steps.len());
    for (recorded, _, plan) in &steps {
        let after = summary(Some(plan))?;
        let author = envelope(recorded).author;
        changes.push(SummaryChange {
            version: recorded.stream_version,
            event_type: recorded.event_type.clone(),
            statements: statements(&before, &after, &who(&author), recorded.recorded_at),
            changed_by: author,
            at: recorded.recorded_at,
            patch: json_patch::diff(&before, &after),
        });
        before = after;
    }
    Ok(SummaryChanges {
        plan_id,
        since: range.since,
        until,
        changes,
    })
}
