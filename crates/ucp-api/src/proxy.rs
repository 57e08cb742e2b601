//! A proxy names the person they act for with `UCP-On-Behalf-Of`. The header is read here; the
//! use case decides whether a proxy may do it at all, and checks (and records) the grant once
//! it is allowed (`ucp_app::proxies::admit`).

use actix_web::HttpRequest;
use ucp_domain::NhsNumber;

use crate::problem::{ApiError, ErrorCode};

/// The header with which a proxy names the person they act for (their NHS number).
pub const ON_BEHALF_OF_HEADER: &str = "ucp-on-behalf-of";

/// The person the request says the caller acts for, if it names one.
///
/// # Errors
/// 400 for a malformed header.
pub(crate) fn on_behalf_of(req: &HttpRequest) -> Result<Option<NhsNumber>, ApiError> {
    let Some(value) = req.headers().get(ON_BEHALF_OF_HEADER) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|v| NhsNumber::parse(v.trim()).ok())
        .map(Some)
        .ok_or_else(|| {
            ApiError::bad_field(
                ErrorCode::BadOnBehalfOf,
                "/headers/UCP-On-Behalf-Of",
                "UCP-On-Behalf-Of takes the NHS number of the person you act for (10 digits).",
            )
        })
}
