//! Parsing of path parameters into types.

use ucp_domain::PlanSection;
use uuid::Uuid;

use crate::problem::ApiError;
use crate::problem::ErrorCode;

/// # Errors
/// 400 when the id is not a UUID.
pub fn parse_plan_id(text: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(text).map_err(|_| {
        ApiError::bad_field(
            ErrorCode::BadPlanId,
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
            ErrorCode::BadSection,
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
    ucp_domain::NhsNumber::parse(text).map_err(|e| {
        ApiError::bad_field(
            ErrorCode::BadNhsNumber,
            "/nhsNumber",
            format!("{text:?}: {e}."),
        )
    })
}
