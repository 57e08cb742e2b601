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

/// A free-text query filter (an actor, an organisation) as PostgreSQL's text can hold it: a NUL
/// character is refused as the bad filter it is (400), not passed on to fail the query (500).
///
/// # Errors
/// 400 `bad_query` naming the filter.
pub fn text_filter(name: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    match value {
        Some(v) if v.contains('\0') => Err(ApiError::bad_field(
            crate::problem::ErrorCode::BadQuery,
            &format!("/{name}"),
            "A filter may not hold a NUL character.",
        )),
        other => Ok(other),
    }
}
