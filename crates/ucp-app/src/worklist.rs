//! The review worklist: the plans due or overdue for review, for the practices and teams that
//! keep them current (clinicians and admins).

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use ucp_domain::PlanStatus;
use ucp_store::{Database, WorklistQuery};
use uuid::Uuid;

use crate::audit::{Access, Shown, View};
use crate::{Actor, AppError};

/// One plan due for review.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorklistItem {
    pub plan_id: Uuid,
    pub nhs_number: String,
    pub family_name: String,
    pub given_name: String,
    pub plan_status: PlanStatus,
    pub due_date: NaiveDate,
    /// Days past the due date today (0 when not yet due).
    pub days_overdue: i64,
    /// The CPR decision's standing today, as the emergency summary states it: the list puts
    /// `said-no-longer-valid` first.
    pub cpr_standing: ucp_domain::standing::Standing,
    /// A review said the decision is no longer valid (these come first).
    pub said_no_longer_valid: bool,
    /// Signatures cover the decision as it stands, but no senior responsible clinician's.
    pub awaiting_countersignature: bool,
    pub last_reviewed_at: Option<DateTime<Utc>>,
    pub last_reviewed_by: Option<String>,
    /// The ODS code of the organisation that answers for the review: the registered GP
    /// practice, else the team that last reviewed it, else the team that recorded the ETP.
    pub responsible_organisation: Option<String>,
    pub link: String,
}

/// What to list.
#[derive(Debug, Clone)]
pub struct Filter {
    pub organisation: Option<String>,
    pub due_before: Option<NaiveDate>,
    pub overdue_only: bool,
    pub status: PlanStatus,
    pub after: Option<(i16, NaiveDate, Uuid)>,
    pub limit: i64,
}

/// A page of the worklist as of `today`: decisions said to be no longer valid first, then by
/// due date.
///
/// # Errors
/// Forbidden for all but clinicians and admins.
pub async fn list(
    db: &Database,
    actor: &Actor,
    filter: Filter,
    today: NaiveDate,
) -> Result<Shown<Vec<WorklistItem>>, AppError> {
    crate::use_cases::GET_WORKLIST.authorize(actor)?;
    let due_before = match (filter.due_before, filter.overdue_only) {
        (Some(d), true) => Some(d.min(today)),
        (None, true) => Some(today),
        (d, false) => d,
    };
    let rows = db
        .worklist(&WorklistQuery {
            organisation: filter.organisation.clone(),
            due_before,
            status: filter.status,
            after: filter.after,
            limit: filter.limit,
        })
        .await?;
    let items: Vec<WorklistItem> = rows
        .into_iter()
        .map(|r| WorklistItem {
            link: format!("/v1/care-plans/{}", r.plan_id),
            plan_id: r.plan_id,
            nhs_number: r.nhs_number.to_string(),
            family_name: r.family_name,
            given_name: r.given_name,
            plan_status: r.status,
            due_date: r.due_date,
            days_overdue: (today - r.due_date).num_days().max(0),
            cpr_standing: match r.cpr_standing {
                ucp_domain::standing::Standing::Current if r.due_date < today => {
                    ucp_domain::standing::Standing::ReviewOverdue
                }
                other => other,
            },
            said_no_longer_valid: r.priority == 0,
            awaiting_countersignature: r.awaiting_countersignature,
            last_reviewed_at: r.last_reviewed_at,
            last_reviewed_by: r.last_reviewed_by,
            responsible_organisation: r.responsible_org,
        })
        .collect();
    let access = Access {
        view: Some(View::Worklist),
        search_criteria: Some(serde_json::json!({
            "organisation": filter.organisation, "dueBefore": filter.due_before,
            "overdue": filter.overdue_only, "status": filter.status,
        })),
        returned_nhs_numbers: items.iter().map(|i| i.nhs_number.clone()).collect(),
        // The worklist is a read model of now: what was shown is kept, to be replayed as is.
        search_results: serde_json::to_value(&items).ok(),
        ..Access::default()
    };
    Ok(Shown::new(items, access))
}

/// Counts for one organisation.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrganisationCounts {
    pub organisation: String,
    /// Active plans due from today to the end of this month.
    pub due_this_month: i64,
    /// Active plans whose review date has passed.
    pub overdue: i64,
}

/// Per organisation: how many active plans are due this month and how many are overdue.
///
/// # Errors
/// Forbidden for all but clinicians and admins.
pub async fn counts(
    db: &Database,
    actor: &Actor,
    organisation: Option<&str>,
    today: NaiveDate,
) -> Result<Vec<OrganisationCounts>, AppError> {
    crate::use_cases::GET_WORKLIST_SUMMARY.authorize(actor)?;
    Ok(db
        .worklist_counts(today, organisation)
        .await?
        .into_iter()
        .map(|c| OrganisationCounts {
            organisation: c.organisation,
            due_this_month: c.due_this_month,
            overdue: c.overdue,
        })
        .collect())
}
