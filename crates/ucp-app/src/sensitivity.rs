//! A clinician marks a record sensitive (a member of staff, a public figure, a person at risk
//! if found), or clears the mark: from then on every professional's read of it raises an alert
//! for the privacy officer (`alerts`), and every reader is told that reads are reviewed.

use serde::Serialize;
use ucp_domain::sensitivity::Sensitivity;
use ucp_domain::views::PlanView;
use ucp_domain::Command;
use ucp_store::Database;
use uuid::Uuid;

use crate::audit::{Access, Shown, View};
use crate::commands::Precondition;
use crate::use_cases;
use crate::writes::{run, Origin};
use crate::AppError;

/// Where the record's mark stands after a change.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SensitivityOutcome {
    pub plan_id: Uuid,
    pub version: i64,
    /// The plan's new ETag.
    pub etag: String,
    /// Whether reads of the record are now reviewed.
    pub sensitive: bool,
    /// Who marked it and when, while it is marked.
    pub sensitivity: Option<Sensitivity>,
}

/// Marks or clears (`command`) the record's sensitivity.
///
/// # Errors
/// Forbidden for anyone but a clinician; not found; stale; a mark that is not as the change
/// assumes (conflict).
pub async fn change(
    db: &Database,
    origin: Origin<'_>,
    plan_id: Uuid,
    command: &Command,
    precondition: Precondition,
) -> Result<Shown<SensitivityOutcome>, AppError> {
    let use_case = match command {
        Command::MarkSensitive(_) => &use_cases::MARK_SENSITIVE,
        Command::ClearSensitive(_) => &use_cases::CLEAR_SENSITIVE,
        other => {
            return Err(AppError::Internal(
                format!("{other:?} is not a change of sensitivity").into(),
            ))
        }
    };
    use_case.authorize(origin.actor)?;
    let plan: PlanView = run(db, origin, plan_id, command, precondition).await?;
    let access = Access {
        plan_id: Some(plan.id),
        nhs_number: Some(plan.nhs_number.to_string()),
        plan_version: Some(plan.version),
        view: Some(View::Plan),
        ..Access::default()
    };
    Ok(Shown::new(
        SensitivityOutcome {
            plan_id: plan.id,
            version: plan.version,
            etag: plan.etag.clone(),
            sensitive: plan.sensitivity.is_some(),
            sensitivity: plan.sensitivity,
        },
        access,
    ))
}
