//! The request headers that carry a write's preconditions: `If-Match` (what the client last
//! saw) and `Idempotency-Key` (a retry's identity).

use actix_web::http::header;
use actix_web::HttpRequest;
use sha2::{Digest, Sha256};
use ucp_app::commands::Precondition;
use ucp_app::writes::IdempotencyKey;
use ucp_app::Actor;
use ucp_domain::PlanSection;

use crate::problem::ApiError;
use crate::problem::ErrorCode;

/// The `If-Match` of a write on an existing plan: the plan's ETag, or the section's when a
/// section is named.
///
/// # Errors
/// 428 without it, 400 for a value that is not an ETag of this service (`*`, weak tags, lists).
/// A well-formed tag that does not match is the application's 412, after the plan is found.
pub fn if_match(req: &HttpRequest, section: Option<PlanSection>) -> Result<Precondition, ApiError> {
    let value = req
        .headers()
        .get(header::IF_MATCH)
        .ok_or_else(|| {
            ApiError::PreconditionRequired(
                "Send If-Match with the ETag you last read, so nobody overwrites a change they \
                 have not seen."
                    .into(),
            )
        })?
        .to_str()
        .map_err(|_| bad_if_match("If-Match is not visible ASCII.".into()))?;
    Precondition::from_etag(value, section).map_err(|e| bad_if_match(e.to_string()))
}

/// The number in an `If-Match` of the strong tag `"<prefix><n>"` this service issues for a
/// resource that is not a plan (an alert's `"alert-r3"`, a choice's `"notifications.2"`): a
/// weak tag, `*` or a list names no version.
///
/// # Errors
/// 428 with `missing` when there is no If-Match; 400 with `malformed` for any other value.
pub fn if_match_number(
    req: &HttpRequest,
    prefix: &str,
    missing: &str,
    malformed: &str,
) -> Result<i64, ApiError> {
    let value = req
        .headers()
        .get(header::IF_MATCH)
        .ok_or_else(|| ApiError::PreconditionRequired(missing.to_owned()))?;
    value
        .to_str()
        .ok()
        .and_then(|v| v.trim().strip_prefix('"'))
        .and_then(|v| v.strip_suffix('"'))
        .and_then(|v| v.strip_prefix(prefix))
        .and_then(|n| n.parse::<i64>().ok())
        .filter(|n| *n >= 0)
        .ok_or_else(|| bad_if_match(malformed.to_owned()))
}

fn bad_if_match(detail: String) -> ApiError {
    ApiError::bad_field(ErrorCode::BadIfMatch, "", detail)
}

/// The `Idempotency-Key` of a create, scoped to the caller and fingerprinted with the method,
/// path and exact body, so that a retry returns the first result and a reuse for another body
/// is refused.
///
/// # Errors
/// 400 for a key that is not 1 to 255 visible ASCII characters.
pub fn idempotency_key(
    req: &HttpRequest,
    actor: &Actor,
    body: &[u8],
) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(value) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| (1..=255).contains(&k.len()))
        .ok_or_else(|| {
            ApiError::bad_field(
                ErrorCode::BadIdempotencyKey,
                "",
                "Idempotency-Key must be 1 to 255 visible ASCII characters.",
            )
        })?;
    let mut hasher = Sha256::new();
    hasher.update(req.method().as_str());
    hasher.update(req.path());
    hasher.update([0]);
    hasher.update(body);
    let fingerprint = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(Some(IdempotencyKey {
        scope: actor.sub.clone(),
        key: key.to_owned(),
        fingerprint,
    }))
}
