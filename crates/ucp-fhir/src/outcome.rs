//! Errors the FHIR way: an OperationOutcome with one issue.

use serde_json::{json, Value};

/// FHIR's issue types for the errors this facade gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueType {
    Invalid,
    Security,
    Login,
    Forbidden,
    NotFound,
    NotSupported,
    Conflict,
    Throttled,
    Transient,
    Exception,
}

impl IssueType {
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::Invalid => "invalid",
            Self::Security => "security",
            Self::Login => "login",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not-found",
            Self::NotSupported => "not-supported",
            Self::Conflict => "conflict",
            Self::Throttled => "throttled",
            Self::Transient => "transient",
            Self::Exception => "exception",
        }
    }

    /// The issue type an HTTP status stands for.
    #[must_use]
    pub fn of_status(status: u16) -> Self {
        match status {
            401 => Self::Login,
            403 => Self::Forbidden,
            404 | 410 => Self::NotFound,
            405 | 406 | 415 => Self::NotSupported,
            409 | 412 => Self::Conflict,
            429 => Self::Throttled,
            503 | 504 => Self::Transient,
            400..=499 => Self::Invalid,
            _ => Self::Exception,
        }
    }
}

/// An OperationOutcome saying what went wrong, in words a person can act on.
#[must_use]
pub fn operation_outcome(issue: IssueType, diagnostics: &str, expression: Option<&str>) -> Value {
    crate::json::clean(json!({
        "resourceType": "OperationOutcome",
        "issue": [{
            "severity": "error",
            "code": issue.code(),
            "diagnostics": diagnostics,
            "expression": expression.map(|e| vec![e]),
        }],
    }))
}
