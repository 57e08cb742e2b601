//! Purpose of use: a professional's read states why (`X-Purpose-Of-Use`: `direct-care`,
//! `emergency` or `audit`), and the access log keeps it with the read, so it can be asked about
//! and replayed. A read without one is refused. Dispatch systems read for one purpose only, so
//! theirs is fixed and never asked for.

use actix_web::http::Method;
use actix_web::HttpRequest;

use super::{Actor, Purpose, Role};
use crate::problem::{ApiError, ErrorCode};

/// The header that says why a record is being read.
pub const PURPOSE_HEADER: &str = "x-purpose-of-use";

/// A dispatch system reads to send help: its purpose is always an emergency.
pub const DISPATCH_PURPOSE: Purpose = Purpose::Emergency;

/// The purpose the request states, if it states one.
///
/// # Errors
/// 400 when it states one not on the list.
pub fn purpose_of(req: &HttpRequest) -> Result<Option<Purpose>, ApiError> {
    let Some(value) = req.headers().get(PURPOSE_HEADER) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|v| v.parse::<Purpose>().ok())
        .map(Some)
        .ok_or_else(|| {
            ApiError::bad_field(
                ErrorCode::BadPurposeOfUse,
                "/headers/X-Purpose-Of-Use",
                "X-Purpose-Of-Use must be one of direct-care, emergency, audit.",
            )
        })
}

/// The actor with the purpose of this request: required of a professional's read, fixed for
/// dispatch, optional otherwise.
///
/// # Errors
/// 400 when a professional reads without stating a purpose, or states one not on the list.
pub(super) fn with_purpose(req: &HttpRequest, mut actor: Actor) -> Result<Actor, ApiError> {
    let stated = purpose_of(req);
    actor.purpose = match actor.role {
        Role::Dispatch => Some(DISPATCH_PURPOSE),
        Role::Patient => stated?,
        _ => {
            let stated = stated?;
            let read = req.method() == Method::GET || req.method() == Method::HEAD;
            if read && stated.is_none() {
                return Err(ApiError::bad_field(
                    ErrorCode::PurposeOfUseRequired,
                    "/headers/X-Purpose-Of-Use",
                    format!(
                        "Say why you are reading this record: send X-Purpose-Of-Use with direct-care, emergency or audit (the {} role must state a purpose on every read).",
                        actor.role.as_str()
                    ),
                ));
            }
            stated
        }
    };
    Ok(actor)
}
