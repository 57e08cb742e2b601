use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// One thing wrong with one field of a request, named by JSON pointer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub pointer: String,
    pub detail: String,
}

/// Every error a client can get. Each variant has a stable code (see [`ApiError::code`]) and
/// becomes an RFC 9457 problem+json body; a 5xx says only that something failed, the cause goes
/// to the log.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    NotFound(String),
    #[error("{detail}")]
    BadRequest {
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("{detail}")]
    Unprocessable {
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("the database is not available: {0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    /// The stable snake_case code of the problem; part of the API contract.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "not_found",
            Self::BadRequest { .. } => "bad_request",
            Self::Unprocessable { .. } => "validation_failed",
            Self::Unavailable(_) => "service_unavailable",
            Self::Internal(_) => "internal_error",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "Not found",
            Self::BadRequest { .. } => "Bad request",
            Self::Unprocessable { .. } => "Validation failed",
            Self::Unavailable(_) => "Service unavailable",
            Self::Internal(_) => "Internal error",
        }
    }

    fn errors(&self) -> &[FieldError] {
        match self {
            Self::BadRequest { errors, .. } | Self::Unprocessable { errors, .. } => errors,
            _ => &[],
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::Unavailable(_) => {
                "The service cannot reach its database; try again shortly.".to_owned()
            }
            Self::Internal(_) => {
                "Something failed on our side. Quote the X-Request-Id header when reporting it."
                    .to_owned()
            }
            other => other.to_string(),
        }
    }
}

/// The RFC 9457 body.
#[derive(Debug, Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'static str,
    status: u16,
    detail: String,
    code: &'static str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    errors: &'a [FieldError],
}

pub const PROBLEM_JSON: &str = "application/problem+json";

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            tracing::error!(error = %self, cause = ?std::error::Error::source(self), "request failed");
        }
        let code = self.code();
        let body = Problem {
            kind: format!("urn:ucp:problem:{code}"),
            title: self.title(),
            status: status.as_u16(),
            detail: self.detail(),
            code,
            errors: self.errors(),
        };
        let json = serde_json::to_vec(&body).unwrap_or_else(|_| b"{}".to_vec());
        let mut res = HttpResponse::build(status);
        res.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        if matches!(self, Self::Unavailable(_)) {
            res.insert_header((header::RETRY_AFTER, HeaderValue::from_static("5")));
        }
        res.body(json)
    }
}

impl From<ucp_store::StoreError> for ApiError {
    fn from(error: ucp_store::StoreError) -> Self {
        use ucp_store::StoreError as S;
        match error {
            S::Pool(e) => Self::Unavailable(e.to_string()),
            other => Self::Internal(Box::new(other)),
        }
    }
}
