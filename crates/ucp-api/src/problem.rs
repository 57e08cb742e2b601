use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use ucp_domain::DomainError;
pub use ucp_domain::FieldError;
use utoipa::ToSchema;

/// Every error a client can get. Each variant has a stable code ([`ApiError::code`], one
/// exhaustive match: a new variant without a code does not compile) and becomes an RFC 9457
/// problem+json body. A 5xx says only that something failed; the cause goes to the log.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    NotFound(String),
    #[error("{detail}")]
    BadRequest {
        code: &'static str,
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("{detail}")]
    Unprocessable {
        code: &'static str,
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{detail}")]
    Conflict {
        code: &'static str,
        detail: String,
        /// Where the thing that conflicts is, when there is one (e.g. the existing plan).
        location: Option<String>,
    },
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("{0}")]
    PreconditionRequired(String),
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("the database is not available: {0}")]
    Unavailable(String),
    #[error("{0}")]
    BadGateway(String),
    #[error("{0}")]
    AuditUnavailable(String),
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    /// The stable snake_case code of the problem; part of the API contract.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "not_found",
            Self::BadRequest { code, .. }
            | Self::Unprocessable { code, .. }
            | Self::Conflict { code, .. } => code,
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::MethodNotAllowed(_) => "method_not_allowed",
            Self::PreconditionFailed(_) => "precondition_failed",
            Self::PreconditionRequired(_) => "precondition_required",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::Unavailable(_) => "service_unavailable",
            Self::BadGateway(_) => "receiver_failed",
            Self::AuditUnavailable(_) => "audit_unavailable",
            Self::Internal(_) => "internal_error",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "Not found",
            Self::BadRequest { .. } => "Bad request",
            Self::Unprocessable { .. } => "Validation failed",
            Self::Unauthorized(_) => "Not authenticated",
            Self::Forbidden(_) => "Not allowed",
            Self::Conflict { .. } => "Conflict",
            Self::MethodNotAllowed(_) => "Method not allowed",
            Self::PreconditionFailed(_) => "Precondition failed",
            Self::PreconditionRequired(_) => "Precondition required",
            Self::PayloadTooLarge(_) => "Payload too large",
            Self::UnsupportedMediaType(_) => "Unsupported media type",
            Self::Unavailable(_) | Self::AuditUnavailable(_) => "Service unavailable",
            Self::BadGateway(_) => "Bad gateway",
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
            Self::AuditUnavailable(_) => {
                "This access could not be recorded in the access log, so nothing is shown; try \
                 again shortly."
                    .to_owned()
            }
            Self::Internal(_) => {
                "Something failed on our side. Quote the X-Request-Id header when reporting it."
                    .to_owned()
            }
            other => other.to_string(),
        }
    }

    /// A 400 with one field named.
    #[must_use]
    pub fn bad_field(code: &'static str, pointer: &str, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        Self::BadRequest {
            code,
            errors: vec![FieldError::new(pointer, detail.clone())],
            detail,
        }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem (`urn:ucp:problem:<code>`).
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// What happened and what to do, for a person.
    pub detail: String,
    /// The stable snake_case code.
    pub code: String,
    /// For validation failures: each field (JSON pointer) and what is wrong with it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Where the conflicting resource is, for conflicts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

pub const PROBLEM_JSON: &str = "application/problem+json";

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            Self::PreconditionRequired(_) => StatusCode::PRECONDITION_REQUIRED,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unavailable(_) | Self::AuditUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::BadGateway(_) => StatusCode::BAD_GATEWAY,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            tracing::error!(error = %self, cause = ?std::error::Error::source(self), "request failed");
        }
        let code = self.code();
        let location = match self {
            Self::Conflict { location, .. } => location.clone(),
            _ => None,
        };
        let body = Problem {
            kind: format!("urn:ucp:problem:{code}"),
            title: self.title().to_owned(),
            status: status.as_u16(),
            detail: self.detail(),
            code: code.to_owned(),
            errors: self.errors().to_vec(),
            location: location.clone(),
        };
        let json = serde_json::to_vec(&body).unwrap_or_else(|_| b"{}".to_vec());
        let mut res = HttpResponse::build(status);
        res.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        match self {
            Self::Unavailable(_) | Self::AuditUnavailable(_) => {
                res.insert_header((header::RETRY_AFTER, HeaderValue::from_static("5")));
            }
            Self::Unauthorized(_) => {
                res.insert_header((
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"ucp\""),
                ));
            }
            _ => {}
        }
        if let Some(location) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
            res.insert_header((header::LOCATION, location));
        }
        res.body(json)
    }
}

impl From<ucp_store::StoreError> for ApiError {
    fn from(error: ucp_store::StoreError) -> Self {
        use ucp_store::StoreError as S;
        match error {
            S::Pool(e) => Self::Unavailable(e.to_string()),
            S::IdempotencyKeyReused { key } => Self::Unprocessable {
                code: "idempotency_key_reused",
                detail: format!(
                    "Idempotency-Key {key:?} was used before for a different request; use a new key."
                ),
                errors: Vec::new(),
            },
            S::ActivePlanExists(nhs) => Self::Conflict {
                code: "plan_exists",
                detail: format!("NHS number {nhs} already has an active care plan."),
                location: Some(format!("/v1/patients/{nhs}/care-plan")),
            },
            S::VersionConflict { .. } => Self::Conflict {
                code: "concurrent_change",
                detail: "The plan changed while this request was being handled; read it again."
                    .to_owned(),
                location: None,
            },
            other => Self::Internal(Box::new(other)),
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        let detail = error.to_string();
        match error {
            DomainError::PlanExists => Self::Conflict {
                code: "plan_exists",
                detail,
                location: None,
            },
            DomainError::NoPlan => Self::NotFound(detail),
            DomainError::PlanClosed(_) | DomainError::OnlyVoidAfterDeath => Self::Conflict {
                code: "plan_closed",
                detail,
                location: None,
            },
            DomainError::NhsNumberCannotChange => Self::Unprocessable {
                code: "nhs_number_cannot_change",
                errors: vec![FieldError::new("/nhsNumber", detail.clone())],
                detail,
            },
            DomainError::ClinicalSectionByPerson(_) | DomainError::IdentityByPerson(_) => {
                Self::Forbidden(detail)
            }
            DomainError::Invalid(errors) => Self::Unprocessable {
                code: "validation_failed",
                detail,
                errors,
            },
            DomainError::NotDeceased => Self::Conflict {
                code: "not_deceased",
                detail,
                location: None,
            },
            DomainError::SectionNotRecorded(_) => Self::NotFound(detail),
            DomainError::SectionCannotBeRetracted(_) => Self::Unprocessable {
                code: "section_cannot_be_retracted",
                errors: vec![FieldError::new("/section", detail.clone())],
                detail,
            },
            DomainError::ProfessionalContactsByPerson => Self::Forbidden(detail),
        }
    }
}
