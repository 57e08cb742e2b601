use serde::Serialize;

use crate::PlanStatus;

/// One thing wrong with one field, named by JSON pointer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// JSON pointer (RFC 6901) to the field.
    pub pointer: String,
    pub detail: String,
}

impl FieldError {
    #[must_use]
    pub fn new(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            detail: detail.into(),
        }
    }

    /// The same error, under a parent (e.g. `/emergencyTreatmentPlan`).
    #[must_use]
    pub fn under(mut self, parent: &str) -> Self {
        self.pointer = format!("{parent}{}", self.pointer);
        self
    }

    /// From a serde error that knows where it happened.
    #[must_use]
    pub fn from_path(error: &serde_path_to_error::Error<serde_json::Error>) -> Self {
        let mut pointer = String::new();
        for segment in error.path().iter() {
            use serde_path_to_error::Segment;
            match segment {
                Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
                Segment::Map { key } | Segment::Enum { variant: key } => {
                    pointer.push('/');
                    pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                }
                Segment::Unknown => {}
            }
        }
        let mut detail = error.inner().to_string();
        // serde appends " at line L column C", meaningless for a parsed document.
        if let Some(cut) = detail.find(" at line ") {
            detail.truncate(cut);
        }
        Self { pointer, detail }
    }
}

/// Why a command was refused; each a situation the caller can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("this person already has a care plan")]
    PlanExists,
    #[error("there is no such care plan")]
    NoPlan,
    #[error("the care plan is {0} and takes no more changes")]
    PlanClosed(PlanStatus),
    #[error("the person has died: the plan can only be voided (if it was made in error)")]
    OnlyVoidAfterDeath,
    #[error("the NHS number of a plan cannot change; void the plan and make a new one")]
    NhsNumberCannotChange,
    #[error("{0} sections are written by professionals only")]
    ClinicalSectionByPerson(crate::PlanSection),
    #[error("{0} can be changed by a professional only")]
    IdentityByPerson(&'static str),
    #[error("the request breaks the care plan's rules")]
    Invalid(Vec<FieldError>),
    #[error("the plan does not record a death, so there is none to retract")]
    NotDeceased,
    #[error("the plan has no {0} section to retract")]
    SectionNotRecorded(crate::PlanSection),
    #[error("{0} cannot be retracted, only corrected: every plan needs it")]
    SectionCannotBeRetracted(crate::PlanSection),
    #[error("the decision changed since you read it: read the Emergency Treatment Plan again and sign what it says now (its decisionDigest is {current})")]
    DecisionChangedSinceRead { current: String },
    #[error("consent to share was withdrawn already; record Consent to Share again to share the plan again")]
    ConsentAlreadyWithdrawn,
    #[error("you have signed this decision already")]
    AlreadySigned,
    #[error("the plan has no Emergency Treatment Plan to sign")]
    NothingToSign,
    #[error("the professionals involved are changed by professionals; leave `professional` out (it is kept) or send it unchanged")]
    ProfessionalContactsByPerson,
    #[error("the plan records no care home where the person lives")]
    NoResidence,
    #[error("the plan records that the person lives at another care home ({recorded})")]
    ResidenceElsewhere { recorded: String },
    #[error("the plan already records that the person lives at this care home")]
    AlreadyResident,
    #[error("the plan records that the person lives at another care home: ask a clinician to record the move, or that home to record that they left")]
    ResidentElsewhere,
    #[error("the residence is confirmed already")]
    ResidenceConfirmedAlready,
    #[error("the record's sensitivity is not as the change assumes: marked already for this reason, or not marked")]
    SensitivityAsRecorded,
}
