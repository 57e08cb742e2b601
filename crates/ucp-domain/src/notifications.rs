//! Telling the person and their GP practice that the plan changed: which changes tell whom, and
//! what the person's message says. Pure: the notifier (`ucp-app`) decides from the log with
//! these rules, and sends.
//!
//! The person hears of a change that matters to them (the plan made, its Emergency Treatment
//! Plan changed or signed, the plan withdrawn or voided, a correction, a proxy granted or
//! revoked, a care home recording that they live there), never of one they made themselves, and
//! never after their death. The GP practice hears of the same changes, and of a death or a
//! withdrawal of consent to share, when someone outside the practice made them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Author;

/// What kind of change a message tells of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ChangeKind {
    /// A plan was made.
    Created,
    /// The Emergency Treatment Plan (the CPR decision, the clinical focus, the
    /// recommendations) was recorded, changed or signed.
    EmergencyTreatmentPlan,
    /// A section or a death recorded in error was retracted.
    Correction,
    /// The plan was withdrawn.
    Withdrawn,
    /// The plan was voided (made on the wrong person).
    Voided,
    /// Someone was given proxy access to the plan.
    ProxyGranted,
    /// A proxy's access was revoked.
    ProxyRevoked,
    /// A care home recorded that the person lives there.
    CareHomeResidence,
    /// The person's death was recorded (the practice only).
    Death,
    /// The person's consent to share was withdrawn (the practice only).
    ConsentWithdrawn,
}

impl ChangeKind {
    /// The kind of change an event is, if it is one anyone is told of.
    #[must_use]
    pub fn of(event_type: &str) -> Option<Self> {
        Some(match event_type {
            "CarePlanCreated" => Self::Created,
            "EmergencyTreatmentPlanRecorded" | "EmergencyTreatmentPlanSigned" => {
                Self::EmergencyTreatmentPlan
            }
            "SectionRetracted" | "DeathRetracted" => Self::Correction,
            "CarePlanWithdrawn" => Self::Withdrawn,
            "CarePlanVoided" => Self::Voided,
            crate::proxy_access::GRANTED => Self::ProxyGranted,
            crate::proxy_access::REVOKED => Self::ProxyRevoked,
            "ResidentAdmitted" => Self::CareHomeResidence,
            "PersonDied" => Self::Death,
            "ConsentToShareWithdrawn" => Self::ConsentWithdrawn,
            _ => return None,
        })
    }

    /// Whether the person is told of this kind (not of their own death, nor of the withdrawal
    /// of consent they asked for).
    #[must_use]
    pub fn tells_the_person(self) -> bool {
        !matches!(self, Self::Death | Self::ConsentWithdrawn)
    }
}

/// Who made a change, as the rules need it.
#[must_use]
pub fn made_by_the_person(author: &Author, nhs_number: &str) -> bool {
    author.role == "patient"
        && author
            .on_behalf_of
            .as_deref()
            .is_none_or(|p| p == nhs_number)
}

/// Whether a change by `author` comes from outside the practice `practice` (an ODS code):
/// anyone but the practice's own staff. A professional of another organisation, a care home,
/// and the person themselves or their proxy (a person withdrawing their plan is a change their
/// GP must know of).
#[must_use]
pub fn from_outside_the_practice(author: &Author, practice: &str) -> bool {
    matches!(author.role.as_str(), "patient" | "proxy")
        || author
            .organisation
            .as_deref()
            .is_none_or(|org| !org.eq_ignore_ascii_case(practice))
}

/// The role, in the words of the person's message.
#[must_use]
pub fn role_in_words(role: &str) -> &'static str {
    match role {
        "clinician" => "a clinician",
        "ambulance" => "an ambulance clinician",
        "nhs111" => "an NHS 111 clinician",
        "ooh" => "an out-of-hours GP",
        "care-home" => "a care home",
        "proxy" => "someone acting for you",
        "patient" => "you",
        _ => "someone",
    }
}

/// The person's message: who changed the plan, where, and when; no clinical detail (a message
/// may be read by whoever sees the phone).
#[must_use]
pub fn message_to_the_person(role: &str, organisation: &str, at: DateTime<Utc>) -> String {
    format!(
        "Your Universal Care Plan was updated by {} at {organisation} on {}. Open the NHS App to see \
         what changed.",
        role_in_words(role),
        crate::in_uk(at).format("%-d %B %Y")
    )
}

/// The person's choice of messages about their plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Messages {
    /// Told of each change (the default).
    On,
    /// Not told (their GP practice still is).
    Off,
}

/// The person chose whether to be told of changes: an event of their own stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationsChosen {
    pub messages: Messages,
}

/// The stored name of [`NotificationsChosen`].
pub const CHOSEN: &str = "NotificationsChosen";
/// The stream type of a person's own choices.
pub const STREAM_TYPE: &str = "person_choices";

#[cfg(test)]
mod tests {
    use super::*;

    fn author(role: &str, org: Option<&str>, on_behalf_of: Option<&str>) -> Author {
        Author {
            actor: "a".into(),
            name: None,
            role: role.into(),
            organisation: org.map(str::to_owned),
            on_behalf_of: on_behalf_of.map(str::to_owned),
        }
    }

    #[test]
    fn the_person_is_told_of_what_matters_to_them_and_not_of_every_form() {
        assert_eq!(ChangeKind::of("CarePlanCreated"), Some(ChangeKind::Created));
        assert_eq!(
            ChangeKind::of("EmergencyTreatmentPlanSigned"),
            Some(ChangeKind::EmergencyTreatmentPlan)
        );
        assert_eq!(ChangeKind::of("WhatMattersUpdated"), None);
        assert_eq!(ChangeKind::of("ContactsUpdated"), None);
        assert!(!ChangeKind::Death.tells_the_person());
        assert!(ChangeKind::ProxyGranted.tells_the_person());
    }

    #[test]
    fn the_practice_hears_of_changes_from_outside_it() {
        assert!(from_outside_the_practice(
            &author("ooh", Some("NLO12"), None),
            "F84001"
        ));
        assert!(!from_outside_the_practice(
            &author("clinician", Some("f84001"), None),
            "F84001"
        ));
        assert!(from_outside_the_practice(
            &author("patient", None, None),
            "F84001"
        ));
    }

    #[test]
    fn a_proxys_change_is_not_the_persons_own() {
        assert!(made_by_the_person(
            &author("patient", None, None),
            "9990000018"
        ));
        assert!(!made_by_the_person(
            &author("proxy", None, Some("9990000018")),
            "9990000018"
        ));
        assert!(!made_by_the_person(
            &author("clinician", Some("F84001"), None),
            "9990000018"
        ));
    }

    #[test]
    fn the_message_says_who_where_and_when_and_nothing_clinical() {
        let at = DateTime::parse_from_rfc3339("2026-12-07T23:30:00Z")
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_default();
        assert_eq!(
            message_to_the_person("ooh", "Example OOH Service", at),
            "Your Universal Care Plan was updated by an out-of-hours GP at Example OOH Service on \
             7 December 2026. Open the NHS App to see what changed."
        );
    }
}
