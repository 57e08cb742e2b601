//! A proxy names the person they act for with `UCP-On-Behalf-Of`; the caller's extractor checks
//! the grant (recording its use) before any handler runs, so no route can serve a proxy without
//! a grant, and only the two routes a proxy may use serve one at all.

use actix_web::{web, HttpRequest};
use ucp_app::{Actor, AppState};
use ucp_domain::NhsNumber;

use crate::problem::{ApiError, ErrorCode};
use crate::request_id::request_id;

/// The header with which a proxy names the person they act for (their NHS number).
pub const ON_BEHALF_OF_HEADER: &str = "ucp-on-behalf-of";

/// What a proxy may do: read the plan, write its person-centred sections.
const PROXY_ROUTES: [(&str, &str); 2] = [
    ("GET", "/v1/me/care-plan"),
    ("PUT", "/v1/me/care-plan/sections/{section}"),
];

/// The actor, acting for the person the request names, if it names one.
///
/// # Errors
/// 400 for a malformed header; 403 on any other route, or without an active grant.
pub(crate) async fn acting_for(req: &HttpRequest, actor: Actor) -> Result<Actor, ApiError> {
    let Some(value) = req.headers().get(ON_BEHALF_OF_HEADER) else {
        return Ok(actor);
    };
    let person = value
        .to_str()
        .ok()
        .and_then(|v| NhsNumber::parse(v.trim()).ok())
        .ok_or_else(|| {
            ApiError::bad_field(
                ErrorCode::BadOnBehalfOf,
                "/headers/UCP-On-Behalf-Of",
                "UCP-On-Behalf-Of takes the NHS number of the person you act for (10 digits).",
            )
        })?;
    let method = req.method();
    let pattern = req.match_pattern().unwrap_or_default();
    let allowed = PROXY_ROUTES
        .iter()
        .any(|(m, p)| method.as_str() == *m && pattern == *p);
    if !allowed {
        return Err(ApiError::Forbidden(
            "A proxy may read the person's care plan (GET /v1/me/care-plan) and write its person-centred sections (PUT /v1/me/care-plan/sections/{section}); nothing else on their behalf.".into(),
        ));
    }
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::Internal("no application state".into()))?;
    let action = format!("{method} {pattern}");
    let acting =
        ucp_app::proxies::begin_use(&state.db, &actor, person, &action, request_id(req)).await?;
    Ok(Actor {
        acting_for: Some(acting),
        ..actor
    })
}
