//! Reading JSON bodies strictly: the right content type, a size limit, well-formed JSON, and
//! typed parsing that names the field at fault.

use actix_web::{web, HttpRequest};
use futures::StreamExt;
use serde::de::DeserializeOwned;
use ucp_domain::FieldError;

use crate::problem::ApiError;
use crate::problem::ErrorCode;

/// The largest body accepted; a care plan with every section is far below it.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// The body as JSON, with its exact bytes (for idempotency fingerprints).
///
/// # Errors
/// 415 for another content type, 413 over the limit, 400 for malformed JSON.
pub async fn read_json(
    req: &HttpRequest,
    mut payload: web::Payload,
) -> Result<(serde_json::Value, Vec<u8>), ApiError> {
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return Err(ApiError::UnsupportedMediaType(format!(
            "Send the body as application/json (got {:?}).",
            if content_type.is_empty() {
                "nothing"
            } else {
                content_type
            }
        )));
    }
    let limit = req
        .app_data::<web::Data<BodyLimit>>()
        .map_or(1 << 20, |l| l.0);
    let mut bytes = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest {
            code: ErrorCode::UnreadableBody,
            detail: format!("The request body could not be read: {e}."),
            errors: Vec::new(),
        })?;
        if bytes.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge(limit));
        }
        bytes.extend_from_slice(&chunk);
    }
    let value = serde_json::from_slice(&bytes).map_err(|e| ApiError::BadRequest {
        code: ErrorCode::MalformedJson,
        detail: format!("The body is not well-formed JSON: {e}."),
        errors: Vec::new(),
    })?;
    Ok((value, bytes))
}

/// Parses JSON into a type; an unknown field is a 400 naming it, a bad value a 422 naming it.
///
/// # Errors
/// As above.
pub fn parse<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|e| field_problem(FieldError::from_path(&e)))
}

/// The problem for one field error, under a parent pointer.
#[must_use]
pub fn field_problem(error: FieldError) -> ApiError {
    if error.detail.starts_with("unknown field") {
        ApiError::BadRequest {
            code: ErrorCode::UnknownField,
            detail: format!(
                "{} at {}: check the field's spelling.",
                error.detail, error.pointer
            ),
            errors: vec![error],
        }
    } else {
        ApiError::Unprocessable {
            code: ErrorCode::ValidationFailed,
            detail: format!(
                "{} is not valid: {}.",
                pointer_or_body(&error.pointer),
                error.detail
            ),
            errors: vec![error],
        }
    }
}

fn pointer_or_body(pointer: &str) -> &str {
    if pointer.is_empty() {
        "the body"
    } else {
        pointer
    }
}
