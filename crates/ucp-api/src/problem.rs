use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use ucp_app::{AppError, Conflict, Rule};
pub use ucp_domain::FieldError;
use utoipa::ToSchema;

/// Every stable code a problem can carry: part of the API contract, listed in the OpenAPI
/// document. A client switches on these, never on the text of `detail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    NotFound,
    BadQuery,
    BadPath,
    BadPlanId,
    BadSection,
    BadNhsNumber,
    BadPostcode,
    BadCursor,
    BadLimit,
    BadWait,
    BadPage,
    BadEntryId,
    BadId,
    BadIdempotencyKey,
    BadIfMatch,
    BadConsistencyToken,
    PurposeOfUseRequired,
    BadPurposeOfUse,
    BadOnBehalfOf,
    LimitExceeded,
    RequestTimeout,
    TooFewCriteria,
    NamePrefixTooShort,
    MalformedJson,
    UnknownField,
    UnreadableBody,
    ValidationFailed,
    NhsNumberCannotChange,
    SectionCannotBeRetracted,
    NotYourNhsNumber,
    IdempotencyKeyReused,
    Unauthorized,
    Forbidden,
    PlanExists,
    ConcurrentChange,
    PlanClosed,
    NotDeceased,
    AlreadyRedelivered,
    NrlPublishingOff,
    ProxyGrantConflict,
    DecisionChanged,
    AlreadySigned,
    ConsentAlreadyWithdrawn,
    ResidenceConflict,
    SensitivityConflict,
    NotifyingOff,
    MethodNotAllowed,
    PreconditionFailed,
    PreconditionRequired,
    PayloadTooLarge,
    UnsupportedMediaType,
    ServiceUnavailable,
    RateLimited,
    ReceiverFailed,
    AuditUnavailable,
    InternalError,
    PlanNotCurrent,
    /// The person withdrew their consent to share the plan: it is not shared with the caller,
    /// and its decisions are not revoked.
    PlanNotShared,
}

impl ErrorCode {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::BadQuery => "bad_query",
            Self::BadPath => "bad_path",
            Self::BadPlanId => "bad_plan_id",
            Self::BadSection => "bad_section",
            Self::BadNhsNumber => "bad_nhs_number",
            Self::BadPostcode => "bad_postcode",
            Self::BadCursor => "bad_cursor",
            Self::BadLimit => "bad_limit",
            Self::BadWait => "bad_wait",
            Self::BadPage => "bad_page",
            Self::BadEntryId => "bad_entry_id",
            Self::BadId => "bad_id",
            Self::BadIdempotencyKey => "bad_idempotency_key",
            Self::BadIfMatch => "bad_if_match",
            Self::BadConsistencyToken => "bad_consistency_token",
            Self::PurposeOfUseRequired => "purpose_of_use_required",
            Self::BadPurposeOfUse => "bad_purpose_of_use",
            Self::BadOnBehalfOf => "bad_on_behalf_of",
            Self::LimitExceeded => "limit_exceeded",
            Self::RequestTimeout => "request_timeout",
            Self::TooFewCriteria => "too_few_criteria",
            Self::NamePrefixTooShort => "name_prefix_too_short",
            Self::MalformedJson => "malformed_json",
            Self::UnknownField => "unknown_field",
            Self::UnreadableBody => "unreadable_body",
            Self::ValidationFailed => "validation_failed",
            Self::NhsNumberCannotChange => "nhs_number_cannot_change",
            Self::SectionCannotBeRetracted => "section_cannot_be_retracted",
            Self::NotYourNhsNumber => "not_your_nhs_number",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::PlanExists => "plan_exists",
            Self::ConcurrentChange => "concurrent_change",
            Self::PlanClosed => "plan_closed",
            Self::NotDeceased => "not_deceased",
            Self::AlreadyRedelivered => "already_redelivered",
            Self::NrlPublishingOff => "nrl_publishing_off",
            Self::ProxyGrantConflict => "proxy_grant_conflict",
            Self::DecisionChanged => "decision_changed",
            Self::AlreadySigned => "already_signed",
            Self::ConsentAlreadyWithdrawn => "consent_already_withdrawn",
            Self::ResidenceConflict => "residence_conflict",
            Self::SensitivityConflict => "sensitivity_conflict",
            Self::NotifyingOff => "notifying_off",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::PreconditionFailed => "precondition_failed",
            Self::PreconditionRequired => "precondition_required",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::ServiceUnavailable => "service_unavailable",
            Self::ReceiverFailed => "receiver_failed",
            Self::AuditUnavailable => "audit_unavailable",
            Self::RateLimited => "rate_limited",
            Self::InternalError => "internal_error",
            Self::PlanNotCurrent => "plan_not_current",
            Self::PlanNotShared => "plan_not_shared",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every error a client can get. Each variant has a stable code ([`ApiError::code`], one
/// exhaustive match: a new variant without a code does not compile) and becomes an RFC 9457
/// problem+json body. A 5xx says only that something failed; the cause goes to the log.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    NotFound(String),
    #[error("{detail}")]
    BadRequest {
        code: ErrorCode,
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("{detail}")]
    Unprocessable {
        code: ErrorCode,
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{detail}")]
    Conflict {
        code: ErrorCode,
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
    /// The client did not send its body within the body read timeout.
    #[error("{0}")]
    RequestTimeout(String),
    #[error("the database is not available: {0}")]
    Unavailable(String),
    #[error("the database did not answer in time: {0}")]
    Busy(String),
    /// The caller spent its request budget; the value is the seconds until it may ask again.
    #[error("rate limited for {0} s")]
    TooManyRequests(u64),
    #[error("{0}")]
    BadGateway(String),
    #[error("{0}")]
    AuditUnavailable(String),
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A plan the caller could have read has ended: 410 with the notice, distinct from a 404
    /// for a person who never had one.
    #[error("{}", .0.message)]
    PlanEnded(ucp_domain::notice::EndedNotice),
}

impl ApiError {
    /// The stable code of the problem; part of the API contract.
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::BadRequest { code, .. }
            | Self::Unprocessable { code, .. }
            | Self::Conflict { code, .. } => *code,
            Self::Unauthorized(_) => ErrorCode::Unauthorized,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::MethodNotAllowed(_) => ErrorCode::MethodNotAllowed,
            Self::PreconditionFailed(_) => ErrorCode::PreconditionFailed,
            Self::PreconditionRequired(_) => ErrorCode::PreconditionRequired,
            Self::PayloadTooLarge(_) => ErrorCode::PayloadTooLarge,
            Self::UnsupportedMediaType(_) => ErrorCode::UnsupportedMediaType,
            Self::RequestTimeout(_) => ErrorCode::RequestTimeout,
            Self::Unavailable(_) | Self::Busy(_) => ErrorCode::ServiceUnavailable,
            Self::TooManyRequests(_) => ErrorCode::RateLimited,
            Self::BadGateway(_) => ErrorCode::ReceiverFailed,
            Self::AuditUnavailable(_) => ErrorCode::AuditUnavailable,
            Self::Internal(_) => ErrorCode::InternalError,
            Self::PlanEnded(n) if n.ended_as == ucp_domain::notice::EndedAs::ConsentWithdrawn => {
                ErrorCode::PlanNotShared
            }
            Self::PlanEnded(_) => ErrorCode::PlanNotCurrent,
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
            Self::RequestTimeout(_) => "Request timeout",
            Self::Unavailable(_) | Self::Busy(_) | Self::AuditUnavailable(_) => {
                "Service unavailable"
            }
            Self::TooManyRequests(_) => "Too many requests",
            Self::BadGateway(_) => "Bad gateway",
            Self::Internal(_) => "Internal error",
            Self::PlanEnded(n) if n.ended_as == ucp_domain::notice::EndedAs::ConsentWithdrawn => {
                "Care plan not shared"
            }
            Self::PlanEnded(_) => "No current care plan",
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
            Self::TooManyRequests(secs) => format!(
                "This caller has sent more requests than its budget allows; try again in {secs} s."
            ),
            Self::Busy(_) => "The database did not answer in time, so nothing was done; try \
                              again shortly."
                .to_owned(),
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
    pub fn bad_field(code: ErrorCode, pointer: &str, detail: impl Into<String>) -> Self {
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
    /// The stable code.
    pub code: ErrorCode,
    /// For validation failures: each field (JSON pointer) and what is wrong with it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Where the conflicting resource is, for conflicts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// For `plan_not_current` (410): how and when the plan ended, with no clinical content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<ucp_domain::notice::EndedNotice>,
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
            Self::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::Unavailable(_) | Self::Busy(_) | Self::AuditUnavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::BadGateway(_) => StatusCode::BAD_GATEWAY,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::PlanEnded(_) => StatusCode::GONE,
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
            code,
            errors: self.errors().to_vec(),
            location: location.clone(),
            notice: match self {
                Self::PlanEnded(notice) => Some(notice.clone()),
                _ => None,
            },
        };
        let json = serde_json::to_vec(&body).unwrap_or_else(|_| b"{}".to_vec());
        let mut res = HttpResponse::build(status);
        res.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        match self {
            Self::Unavailable(_) | Self::Busy(_) | Self::AuditUnavailable(_) => {
                res.insert_header((header::RETRY_AFTER, HeaderValue::from_static("5")));
            }
            Self::TooManyRequests(secs) => {
                res.insert_header((header::RETRY_AFTER, HeaderValue::from(*secs)));
            }
            // The rest of a body that stopped arriving is not waited for.
            Self::RequestTimeout(_) => {
                res.insert_header((header::CONNECTION, HeaderValue::from_static("close")));
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

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::NotFound(detail) => Self::NotFound(detail),
            AppError::Forbidden(detail) => Self::Forbidden(detail),
            AppError::PurposeRequired(detail) => Self::bad_field(
                ErrorCode::PurposeOfUseRequired,
                "/headers/X-Purpose-Of-Use",
                detail,
            ),
            AppError::PreconditionFailed(detail) => Self::PreconditionFailed(detail),
            AppError::Conflict {
                kind,
                detail,
                location,
            } => Self::Conflict {
                code: match kind {
                    Conflict::PlanExists => ErrorCode::PlanExists,
                    Conflict::ConcurrentChange => ErrorCode::ConcurrentChange,
                    Conflict::PlanClosed => ErrorCode::PlanClosed,
                    Conflict::NotDeceased => ErrorCode::NotDeceased,
                    Conflict::AlreadyRedelivered => ErrorCode::AlreadyRedelivered,
                    Conflict::NrlPublishingOff => ErrorCode::NrlPublishingOff,
                    Conflict::ProxyGrant => ErrorCode::ProxyGrantConflict,
                    Conflict::DecisionChanged => ErrorCode::DecisionChanged,
                    Conflict::AlreadySigned => ErrorCode::AlreadySigned,
                    Conflict::ConsentAlreadyWithdrawn => ErrorCode::ConsentAlreadyWithdrawn,
                    Conflict::Residence => ErrorCode::ResidenceConflict,
                    Conflict::Sensitivity => ErrorCode::SensitivityConflict,
                    Conflict::NotifyingOff => ErrorCode::NotifyingOff,
                },
                detail,
                location,
            },
            AppError::Invalid {
                rule,
                detail,
                errors,
            } => Self::Unprocessable {
                code: match rule {
                    Rule::Validation => ErrorCode::ValidationFailed,
                    Rule::NhsNumberCannotChange => ErrorCode::NhsNumberCannotChange,
                    Rule::SectionCannotBeRetracted => ErrorCode::SectionCannotBeRetracted,
                    Rule::NotYourNhsNumber => ErrorCode::NotYourNhsNumber,
                },
                detail,
                errors,
            },
            error @ AppError::IdempotencyKeyReused { .. } => Self::Unprocessable {
                code: ErrorCode::IdempotencyKeyReused,
                detail: error.to_string(),
                errors: Vec::new(),
            },
            AppError::Unavailable(why) => Self::Unavailable(why),
            AppError::Busy(why) => Self::Busy(why),
            AppError::AuditUnavailable(why) => Self::AuditUnavailable(why),
            AppError::ReceiverFailed(detail) => Self::BadGateway(detail),
            AppError::Internal(cause) => Self::Internal(cause),
            AppError::PlanEnded(notice) => Self::PlanEnded(notice),
        }
    }
}
