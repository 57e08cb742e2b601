//! The care plan domain, pure: types that cannot hold bad values, the sections of London's
//! Universal Care Plan, commands, events, and the `decide`/`evolve` pair. No IO, no SQL, no
//! HTTP; the `openapi` feature adds JSON Schemas for the API's document.

mod decide;
mod error;
pub mod etp_rules;
mod event;
mod nhs_number;
pub mod notice;
pub mod notifications;
mod plan;
mod postcode;
pub mod proxy_access;
pub mod registration;
pub mod residence;
pub mod review;
mod sections;
pub mod sensitivity;
pub mod signing;
pub mod standing;
mod summary;
mod text;
pub mod views;

pub use decide::{decide, AuthorKind, Command, Context};
pub use error::{DomainError, FieldError};
pub use event::{
    section_event_type, CarePlanEvent, ConsentWithdrawn, DeathRecorded, DeathRetracted,
    DecodeError, PlanCreated, PlanReviewed, PlanVoided, PlanWithdrawn, SectionRetracted,
    PLAN_EVENT_TYPES,
};
pub use nhs_number::{NhsNumber, NhsNumberError};
pub use plan::{
    evolve, Author, CarePlan, ConsentWithdrawalState, Correction, CorrectionKind, DecisionChange,
    DecisionTrace, Envelope, PlanStatus, ReviewState, SectionState, StatusChange, TraceKind,
};
pub use postcode::{Postcode, PostcodeError};
pub use sections::*;
pub use text::{
    fold_name, in_uk, is_bidi_control, BirthDate, LongText, LpaReference, OdsCode, Phone,
    ShortText, SnomedCode, ValueError,
};

#[cfg(test)]
mod tests;
