//! Who may see which plan, and parsing of path parameters into types.

use ucp_domain::{PlanSection, PlanStatus};
use ucp_store::PlanRow;
use uuid::Uuid;

use crate::auth::{Actor, Role};
use crate::ApiError;

/// # Errors
/// 400 when the id is not a UUID.
pub fn parse_plan_id(text: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(text).map_err(|_| {
        ApiError::bad_field(
            "bad_plan_id",
            "/id",
            format!("{text:?} is not a plan id (a UUID)."),
        )
    })
}

/// # Errors
/// 400 naming the sections there are.
pub fn parse_section(text: &str) -> Result<PlanSection, ApiError> {
    PlanSection::from_name(text).ok_or_else(|| {
        let names: Vec<_> = PlanSection::ALL.iter().map(|s| s.name()).collect();
        ApiError::bad_field(
            "bad_section",
            "/section",
            format!(
                "{text:?} is not a section; sections are {}.",
                names.join(", ")
            ),
        )
    })
}

/// # Errors
/// 400 when the text is not a valid NHS number.
pub fn parse_nhs_number(text: &str) -> Result<ucp_domain::NhsNumber, ApiError> {
    ucp_domain::NhsNumber::parse(text)
        .map_err(|e| ApiError::bad_field("bad_nhs_number", "/nhsNumber", format!("{text:?}: {e}.")))
}

/// Whether the caller may see a plan of this person in this status: clinicians see every
/// status; a person sees only their own plan, and never a voided one; everyone else (ambulance,
/// 111, OOH, dispatch) sees active plans only. The one place this rule lives.
#[must_use]
pub fn may_see(actor: &Actor, nhs_number: &str, status: &str) -> bool {
    match actor.role {
        Role::Clinician => true,
        Role::Patient => {
            actor
                .nhs_number
                .is_some_and(|n| n.to_string() == nhs_number)
                && status != PlanStatus::Voided.as_str()
        }
        _ => status == PlanStatus::Active.as_str(),
    }
}

/// The plan if this caller may see it ([`may_see`]). What the caller may not see is "not
/// found", so that a person cannot learn whether someone else has a plan; roles that never read
/// plans are refused.
///
/// # Errors
/// 404 or 403 as above.
pub fn ensure_visible(actor: &Actor, row: Option<PlanRow>) -> Result<PlanRow, ApiError> {
    if matches!(actor.role, Role::Dispatch | Role::Admin) {
        return Err(ApiError::Forbidden(format!(
            "The {} role may not read care plans.",
            actor.role.as_str()
        )));
    }
    let row =
        row.ok_or_else(|| ApiError::NotFound("There is no care plan with this id.".into()))?;
    if may_see(actor, &row.nhs_number, &row.status) {
        Ok(row)
    } else if actor.role.is_urgent_care() {
        Err(ApiError::NotFound(format!(
            "There is no current care plan: the plan is {}.",
            row.status
        )))
    } else {
        Err(ApiError::NotFound(
            "There is no care plan with this id.".into(),
        ))
    }
}
