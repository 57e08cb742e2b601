use ucp_domain::{DomainError, FieldError};
use ucp_store::StoreError;

/// A conflict the caller can resolve by reading again or by choosing another action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// The person already has an active plan, or the plan id is taken.
    PlanExists,
    /// Others changed the plan while this was decided, more times than a retry absorbs.
    ConcurrentChange,
    /// The plan's status does not allow it.
    PlanClosed,
    /// There is no recorded death to retract.
    NotDeceased,
    /// The dead letter was redelivered already.
    AlreadyRedelivered,
    /// This server does not publish to the National Record Locator (`UCP_NRL_URL` is unset).
    NrlPublishingOff,
    /// A proxy grant meets a state that refuses it: one already active, or already revoked.
    ProxyGrant,
    /// A countersignature named a decision digest that is no longer the form's.
    DecisionChanged,
    /// The signer has signed this decision already.
    AlreadySigned,
    /// Consent to share is withdrawn already.
    ConsentAlreadyWithdrawn,
    /// The residence on record is not as the change assumes: none, another home, already
    /// recorded there, or already confirmed.
    Residence,
    /// The record's sensitivity mark is not as the change assumes.
    Sensitivity,
    /// This server does not notify (`UCP_NOTIFY_URL` and `UCP_NOTIFY_PRACTICES` are unset).
    NotifyingOff,
}

/// Which rule a refused value breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// A section's or command's own rules (each breach is named by pointer).
    Validation,
    /// A plan's NHS number never changes.
    NhsNumberCannotChange,
    /// Personal Information and Consent to Share are corrected, not retracted.
    SectionCannotBeRetracted,
    /// A person may only start a plan for their own NHS number.
    NotYourNhsNumber,
}

/// Everything the application can answer instead of a result; each a situation the caller can
/// act on. The HTTP crate maps each to one problem+json, in one place.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    /// The act needs a stated purpose of use (`X-Purpose-Of-Use`) and none was given.
    #[error("{0}")]
    PurposeRequired(String),
    /// The plan the caller could have read has ended: the notice, never the plan.
    #[error("{}", .0.message)]
    PlanEnded(ucp_domain::notice::EndedNotice),
    /// The client's `If-Match` is not the current version.
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("{detail}")]
    Conflict {
        kind: Conflict,
        detail: String,
        /// Where the thing that conflicts is, when there is one.
        location: Option<String>,
    },
    /// Values that break the rules, each named by JSON pointer.
    #[error("{detail}")]
    Invalid {
        rule: Rule,
        detail: String,
        errors: Vec<FieldError>,
    },
    /// An `Idempotency-Key` reused for a different request.
    #[error("Idempotency-Key {key:?} was used before for a different request; use a new key.")]
    IdempotencyKeyReused { key: String },
    /// The database cannot be reached (no connection in time).
    #[error("the database is not available: {0}")]
    Unavailable(String),
    /// A statement ran past the statement timeout (a held lock, an overloaded database):
    /// nothing was written, and the same request may be tried again.
    #[error("the database did not answer in time: {0}")]
    Busy(String),
    /// The access log could not be written, so nothing may be shown.
    #[error("the access log could not be written: {0}")]
    AuditUnavailable(String),
    /// A webhook receiver failed a delivery the caller asked for.
    #[error("{0}")]
    ReceiverFailed(String),
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl AppError {
    /// An internal failure with a message (never shown to a client).
    #[must_use]
    pub fn internal(message: &str) -> Self {
        Self::Internal(message.to_owned().into())
    }
}

impl AppError {
    /// One value that breaks its section's or command's own rules, named by JSON pointer.
    #[must_use]
    pub fn invalid_field(pointer: &str, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        Self::Invalid {
            rule: Rule::Validation,
            errors: vec![FieldError::new(pointer, detail.clone())],
            detail,
        }
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Pool(e) => Self::Unavailable(e.to_string()),
            e if e.is_timeout() => Self::Busy(e.to_string()),
            e if e.is_disconnected() => {
                Self::Unavailable("The connection to the database was lost; try again.".into())
            }
            StoreError::IdempotencyKeyReused { key } => Self::IdempotencyKeyReused { key },
            StoreError::AccessLog(why) => Self::AuditUnavailable(why),
            StoreError::ActivePlanExists(nhs) => Self::Conflict {
                kind: Conflict::PlanExists,
                detail: format!("NHS number {nhs} already has an active care plan."),
                location: Some(format!("/v1/patients/{nhs}/care-plan")),
            },
            StoreError::VersionConflict { .. } => Self::Conflict {
                kind: Conflict::ConcurrentChange,
                detail: "The plan changed while this request was being handled; read it again."
                    .to_owned(),
                location: None,
            },
            other => Self::Internal(Box::new(other)),
        }
    }
}

impl From<DomainError> for AppError {
    fn from(error: DomainError) -> Self {
        let detail = error.to_string();
        let conflict = |kind| Self::Conflict {
            kind,
            detail: detail.clone(),
            location: None,
        };
        match error {
            DomainError::PlanExists => conflict(Conflict::PlanExists),
            DomainError::NoPlan | DomainError::SectionNotRecorded(_) => Self::NotFound(detail),
            DomainError::PlanClosed(_) | DomainError::OnlyVoidAfterDeath => {
                conflict(Conflict::PlanClosed)
            }
            DomainError::NotDeceased => conflict(Conflict::NotDeceased),
            DomainError::DecisionChangedSinceRead { .. } => conflict(Conflict::DecisionChanged),
            DomainError::AlreadySigned => conflict(Conflict::AlreadySigned),
            DomainError::ConsentAlreadyWithdrawn => conflict(Conflict::ConsentAlreadyWithdrawn),
            DomainError::NoResidence
            | DomainError::ResidenceElsewhere { .. }
            | DomainError::AlreadyResident
            | DomainError::ResidentElsewhere
            | DomainError::ResidenceConfirmedAlready => conflict(Conflict::Residence),
            DomainError::SensitivityAsRecorded => conflict(Conflict::Sensitivity),
            DomainError::NothingToSign => Self::NotFound(detail),
            DomainError::NhsNumberCannotChange => Self::Invalid {
                rule: Rule::NhsNumberCannotChange,
                errors: vec![FieldError::new("/nhsNumber", detail.clone())],
                detail,
            },
            DomainError::SectionCannotBeRetracted(_) => Self::Invalid {
                rule: Rule::SectionCannotBeRetracted,
                errors: vec![FieldError::new("/section", detail.clone())],
                detail,
            },
            DomainError::ClinicalSectionByPerson(_)
            | DomainError::IdentityByPerson(_)
            | DomainError::ProfessionalContactsByPerson => Self::Forbidden(detail),
            DomainError::Invalid(errors) => Self::Invalid {
                rule: Rule::Validation,
                detail,
                errors,
            },
        }
    }
}
