//! Replaying what an access-log entry showed (admin): the same code that served it, run again
//! on the log as it stood at the recorded version. It sits above every read it replays (plans,
//! summaries, changes, FHIR), so that none of them depends on it.

use ucp_domain::views::EmergencySummary;
use ucp_store::projections::replay::fold;
use ucp_store::{Database, StreamBound};
use uuid::Uuid;

use crate::audit::{Access, Shown, View};
use crate::commands::plan_at;
use crate::reads::history_to;
use crate::{Actor, AppError};

fn to_json(value: &impl serde::Serialize) -> Result<serde_json::Value, AppError> {
    serde_json::to_value(value).map_err(|e| AppError::Internal(Box::new(e)))
}

/// Exactly the document an access-log entry served, rebuilt from the log at the recorded
/// version with the code that served it (admin). A replay shows the person's data again: it
/// is an access of its own, in their log as "replayed for audit".
///
/// # Errors
/// Forbidden for anyone but an admin; not found for no such entry, or one that showed nothing.
pub async fn replay_entry(
    db: &Database,
    actor: &Actor,
    entry_id: Uuid,
) -> Result<Shown<serde_json::Value>, AppError> {
    crate::use_cases::GET_AUDIT_SHOWN.authorize(actor)?;
    let entry = db
        .access_entry(entry_id)
        .await?
        .ok_or_else(|| AppError::NotFound("There is no such access log entry.".into()))?;
    let access = Access {
        plan_id: entry.plan_id,
        nhs_number: entry.nhs_number.clone(),
        plan_version: entry.plan_version,
        section: entry.section.clone(),
        view: Some(View::Replay),
        returned_nhs_numbers: entry.returned_nhs_numbers.clone(),
        detail: Some(serde_json::json!({
            "replayedEntry": entry.entry_id,
            "replayedActor": entry.actor,
            "replayedAt": entry.at,
            "replayedView": entry.view,
            "replayedPurpose": entry.purpose,
            "replayedOnBehalfOf": entry.on_behalf_of,
        })),
        ..Access::default()
    };
    let nothing = || {
        AppError::NotFound(
            "This access showed no plan data (it was refused or showed nothing).".into(),
        )
    };
    if entry.status >= 400 {
        return Err(nothing());
    }
    let shown = match (
        entry.view.as_deref().and_then(View::parse),
        entry.plan_id,
        entry.plan_version,
    ) {
        (Some(View::Search | View::Worklist | View::Residents), _, _) => {
            entry.search_results.clone().ok_or_else(nothing)?
        }
        (Some(View::Changes), Some(plan), Some(until)) => {
            let since = entry
                .detail
                .as_ref()
                .and_then(|d| d.get("since"))
                .and_then(serde_json::Value::as_i64)
                .ok_or_else(nothing)?;
            let range = crate::since::Range {
                since,
                until: Some(until),
            };
            let of_summary = entry
                .detail
                .as_ref()
                .and_then(|d| d.get("of"))
                .is_some_and(|o| o == "summary");
            if of_summary {
                to_json(
                    &crate::since::summary_changes_of(
                        db,
                        plan,
                        range,
                        entry.at.date_naive(),
                        way_in_shown(&entry),
                    )
                    .await?,
                )?
            } else {
                to_json(&crate::since::plan_changes_of(db, plan, range).await?)?
            }
        }
        // What was printed is the plan at the recorded version: replayed as its document.
        (Some(View::Plan | View::Document | View::CareHomeDocument), Some(plan), Some(version)) => {
            to_json(&plan_at(db, plan, version).await?)?
        }
        // A change of residence showed the residence, no more of the plan.
        (Some(View::Residence), Some(plan), Some(version)) => {
            let then = plan_at(db, plan, version).await?;
            if entry.action == "admitResident" {
                to_json(&crate::residents::resident_of(&then)?)?
            } else {
                to_json(&crate::residents::ResidenceOutcome::of(&then))?
            }
        }
        // A care home was shown the person's own forms and the Emergency Treatment Plan only.
        (Some(View::CareHomePlan), Some(plan), Some(version)) => {
            let mut shown = to_json(&plan_at(db, plan, version).await?)?;
            crate::reads::as_care_home_reads(&mut shown);
            shown
        }
        (Some(View::Section), Some(plan), Some(version)) => {
            let view = plan_at(db, plan, version).await?;
            let section = entry.section.clone().unwrap_or_default();
            to_json(view.sections.get(&section).ok_or_else(nothing)?)?
        }
        (Some(View::CareHomeSection), Some(plan), Some(version)) => {
            let view = plan_at(db, plan, version).await?;
            let section = entry.section.clone().unwrap_or_default();
            let mut shown = to_json(view.sections.get(&section).ok_or_else(nothing)?)?;
            ucp_domain::views::withhold_way_in_everywhere(&mut shown);
            shown
        }
        (Some(View::Summary | View::CareHomeSummary), Some(plan), Some(version)) => {
            let history = db
                .read_stream(plan, StreamBound::UpToVersion(version))
                .await?;
            let state_then = fold(&history)?.ok_or_else(nothing)?;
            let summary = EmergencySummary::of(plan, &state_then, entry.at.date_naive())
                .ok_or_else(nothing)?;
            to_json(&if way_in_shown(&entry) {
                summary
            } else {
                summary.without_way_in()
            })?
        }
        // A check of a printed copy showed its state only, which the entry keeps whole.
        (Some(View::PrintedCopyCheck), _, _) => entry.detail.clone().ok_or_else(nothing)?,
        (Some(View::Notification), _, _) => entry
            .detail
            .as_ref()
            .map(|d| d["sent"].clone())
            .filter(|sent| !sent.is_null())
            .ok_or_else(nothing)?,
        (Some(View::Fhir), _, _) => {
            crate::fhir::replay(db, entry.detail.as_ref().ok_or_else(nothing)?).await?
        }
        (Some(View::History), Some(plan), Some(version)) => {
            to_json(&history_to(db, plan, version).await?)?
        }
        _ => return Err(nothing()),
    };
    Ok(Shown::new(shown, access))
}

/// Whether the entry's reader was shown how to get into the home: those who attend, and the
/// person (a summary read records it as `accessToHomeShown`).
fn way_in_shown(entry: &ucp_store::AccessEntry) -> bool {
    entry
        .detail
        .as_ref()
        .and_then(|d| d.get("accessToHomeShown"))
        .is_some_and(|v| v == true)
        || matches!(
            entry.role.as_str(),
            "ambulance" | "ooh" | "patient" | "proxy"
        )
}
