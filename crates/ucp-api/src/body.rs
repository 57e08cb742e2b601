//! Reading JSON bodies strictly: the right content type, a size limit, well-formed JSON, and
//! typed parsing that names the field at fault.

use std::time::Duration;

use actix_web::{web, HttpRequest};
use futures::StreamExt;
use serde::de::DeserializeOwned;
use ucp_domain::FieldError;

use crate::problem::ApiError;
use crate::problem::ErrorCode;

/// What a request body may be, each answered with a clear problem, never a hang: a care plan
/// with every section is far below every one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimits {
    /// The largest body, in bytes (413 above it).
    pub max_bytes: usize,
    /// How long the whole body may take to arrive once the handler asks for it (408, and the
    /// connection is closed): a client trickling a byte a second is cut off.
    pub read_timeout: Duration,
    /// The deepest nesting of arrays and objects (422 `limit_exceeded`).
    pub max_depth: usize,
    /// The longest string, in characters (422 `limit_exceeded`).
    pub max_string_chars: usize,
    /// The most items in one array or members in one object (422 `limit_exceeded`).
    pub max_items: usize,
}

impl Default for BodyLimits {
    fn default() -> Self {
        Self {
            max_bytes: 256 * 1024,
            read_timeout: Duration::from_secs(10),
            max_depth: 16,
            max_string_chars: 10_000,
            max_items: 500,
        }
    }
}

impl BodyLimits {
    /// The first place where a parsed body breaks a limit: its JSON pointer and what is wrong.
    #[must_use]
    pub fn breach(&self, value: &serde_json::Value) -> Option<FieldError> {
        self.breach_at(value, &mut String::new(), 1)
    }

    fn breach_at(
        &self,
        value: &serde_json::Value,
        pointer: &mut String,
        depth: usize,
    ) -> Option<FieldError> {
        use serde_json::Value;
        let at = |pointer: &str, detail: String| Some(FieldError::new(pointer, detail));
        match value {
            Value::String(s) if s.chars().count() > self.max_string_chars => at(
                pointer,
                format!(
                    "at most {} characters are accepted here",
                    self.max_string_chars
                ),
            ),
            Value::Array(_) | Value::Object(_) if depth > self.max_depth => at(
                pointer,
                format!("nested deeper than {} levels", self.max_depth),
            ),
            Value::Array(items) if items.len() > self.max_items => at(
                pointer,
                format!(
                    "{} items; at most {} are accepted",
                    items.len(),
                    self.max_items
                ),
            ),
            Value::Object(members) if members.len() > self.max_items => at(
                pointer,
                format!(
                    "{} members; at most {} are accepted",
                    members.len(),
                    self.max_items
                ),
            ),
            Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
                let len = pointer.len();
                pointer.push_str(&format!("/{i}"));
                let found = self.breach_at(item, pointer, depth + 1);
                pointer.truncate(len);
                found
            }),
            Value::Object(members) => members.iter().find_map(|(key, item)| {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                let found = self.breach_at(item, pointer, depth + 1);
                pointer.truncate(len);
                found
            }),
            _ => None,
        }
    }
}

/// The body as JSON, with its exact bytes (for idempotency fingerprints).
///
/// # Errors
/// 415 for another content type, 413 over the size limit, 408 when the body does not arrive in
/// time, 400 for malformed JSON, 422 over a depth, string or list limit.
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
    let limits = req
        .app_data::<web::Data<BodyLimits>>()
        .map_or_else(BodyLimits::default, |l| *l.get_ref());
    let deadline = tokio::time::Instant::now() + limits.read_timeout;
    let mut bytes = Vec::new();
    loop {
        let next = tokio::time::timeout_at(deadline, payload.next())
            .await
            .map_err(|_| {
                ApiError::RequestTimeout(format!(
                    "The body did not arrive within {} s; send it whole and promptly.",
                    limits.read_timeout.as_secs()
                ))
            })?;
        let Some(chunk) = next else { break };
        let chunk = chunk.map_err(|e| ApiError::BadRequest {
            code: ErrorCode::UnreadableBody,
            detail: format!("The request body could not be read: {e}."),
            errors: Vec::new(),
        })?;
        if bytes.len() + chunk.len() > limits.max_bytes {
            return Err(ApiError::PayloadTooLarge(limits.max_bytes));
        }
        bytes.extend_from_slice(&chunk);
    }
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| ApiError::BadRequest {
            code: ErrorCode::MalformedJson,
            detail: format!("The body is not well-formed JSON: {e}."),
            errors: Vec::new(),
        })?;
    if let Some(error) = limits.breach(&value) {
        return Err(ApiError::Unprocessable {
            code: ErrorCode::LimitExceeded,
            detail: format!(
                "{} is over a limit: {}.",
                pointer_or_body(&error.pointer),
                error.detail
            ),
            errors: vec![error],
        });
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn limits_name_the_first_place_they_are_broken() {
        let limits = BodyLimits {
            max_depth: 3,
            max_string_chars: 5,
            max_items: 2,
            ..BodyLimits::default()
        };
        assert_eq!(limits.breach(&json!({"a": [{"b": "12345"}]})), None);
        let deep = limits.breach(&json!({"a": [{"b": [1]}]}));
        assert_eq!(deep.map(|e| e.pointer), Some("/a/0/b".to_owned()));
        let long = limits.breach(&json!({"a": {"x/y": "123456"}}));
        assert_eq!(long.map(|e| e.pointer), Some("/a/x~1y".to_owned()));
        let many = limits.breach(&json!({"a": [1, 2, 3]}));
        assert_eq!(many.map(|e| e.pointer), Some("/a".to_owned()));
        // Characters, not bytes: five accented letters are five.
        assert_eq!(limits.breach(&json!({"a": "ééééé"})), None);
    }
}
