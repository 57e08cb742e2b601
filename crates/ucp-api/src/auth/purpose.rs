//! Purpose of use: a professional's read states why (`X-Purpose-Of-Use`: `direct-care`,
//! `emergency` or `audit`), and the access log keeps it with the read, so it can be asked about
//! and replayed. Which use cases need one, and of whom, is the use case's rule
//! (`ucp_app::use_cases`); a role whose purpose is fixed (dispatch) is never asked.

use actix_web::HttpRequest;

use super::Actor;
use crate::problem::{ApiError, ErrorCode};

/// The header that says why a record is being read.
pub const PURPOSE_HEADER: &str = "x-purpose-of-use";

/// The purpose the request states, if it states one.
///
/// # Errors
/// 400 when it states one not on the list.
pub fn purpose_of(req: &HttpRequest) -> Result<Option<super::Purpose>, ApiError> {
    let Some(value) = req.headers().get(PURPOSE_HEADER) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|v| v.parse::<super::Purpose>().ok())
        .map(Some)
        .ok_or_else(|| {
            ApiError::bad_field(
                ErrorCode::BadPurposeOfUse,
                "/headers/X-Purpose-Of-Use",
                "X-Purpose-Of-Use must be one of direct-care, emergency, audit.",
            )
        })
}

/// The actor with the purpose of this request: the role's own when it has a fixed one, else
/// what the request states.
///
/// # Errors
/// 400 when it states one not on the list.
pub(super) fn with_purpose(req: &HttpRequest, mut actor: Actor) -> Result<Actor, ApiError> {
    actor.purpose = match actor.role.fixed_purpose() {
        Some(fixed) => Some(fixed),
        None => purpose_of(req)?,
    };
    Ok(actor)
}
