use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::residence::{ResidenceConfirmed, ResidenceEnded, ResidenceRecorded};
use crate::sensitivity::{SensitivityCleared, SensitivityMarked};
use crate::{
    ConsentToShare, FieldError, LongText, PersonalInformation, PlanSection, SectionContent,
    ShortText,
};

/// Every fact that can happen to a care plan. Section events carry the section's whole new
/// content. Their stored names ([`CarePlanEvent::event_type`]) never change once written: a new
/// shape gets a new schema version and an upcast in [`CarePlanEvent::decode`].
#[derive(Debug, Clone, PartialEq)]
pub enum CarePlanEvent {
    Created(PlanCreated),
    SectionChanged(SectionContent),
    Reviewed(PlanReviewed),
    Withdrawn(PlanWithdrawn),
    PersonDied(DeathRecorded),
    Voided(PlanVoided),
    /// A death recorded in error (wrong person, wrong plan): the plan returns to the status it
    /// had. The death stays in the history, with this correction after it.
    DeathRetracted(DeathRetracted),
    /// A section entered in error: it leaves the current plan and summary, and stays in the
    /// history and in reads as of earlier versions.
    SectionRetracted(SectionRetracted),
    /// The person withdrew their consent to share the plan: it stops being shared beyond them
    /// and those caring for them directly. The clinical decisions are not revoked. Recording
    /// Consent to Share again restores sharing.
    ConsentToShareWithdrawn(ConsentWithdrawn),
    /// A clinician signed the Emergency Treatment Plan as it stood (a countersignature): the
    /// signature names its signer and the decision content it was made over.
    EmergencyTreatmentPlanSigned(crate::ClinicianSignature),
    /// A care home admitted the person: it declared, itself, that they live there. Its staff
    /// read the plan at once; the residence stands unconfirmed until a clinician confirms it.
    ResidentAdmitted(ResidenceRecorded),
    /// A clinician or the person recorded the care home where the person lives.
    ResidenceRecorded(ResidenceRecorded),
    /// A clinician confirmed the residence a care home declared.
    ResidenceConfirmed(ResidenceConfirmed),
    /// The person left the care home: its staff read the plan no longer.
    ResidenceEnded(ResidenceEnded),
    /// A clinician marked the record sensitive: every professional's read of it raises an
    /// alert for the privacy officer.
    SensitivityMarked(SensitivityMarked),
    /// A clinician cleared the mark.
    SensitivityCleared(SensitivityCleared),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeathRetracted {
    /// Why the death was recorded in error.
    pub reason: LongText,
}

/// Why the person withdrew their consent to share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsentWithdrawn {
    /// In the person's words (required for every new withdrawal).
    #[serde(default)]
    pub reason: Option<LongText>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SectionRetracted {
    pub section: PlanSection,
    pub reason: LongText,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlanCreated {
    pub personal_information: PersonalInformation,
    pub consent_to_share: ConsentToShare,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanReviewed {
    pub next_review_date: NaiveDate,
    #[serde(default)]
    pub note: Option<LongText>,
    /// Whether the reviewer confirmed the plan is still valid. `false` is shown to crews as a
    /// warning, never as a silent field.
    #[serde(default)]
    pub still_valid: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanWithdrawn {
    /// Required for every new withdrawal; plans withdrawn before that rule may have none.
    #[serde(default)]
    pub reason: Option<LongText>,
    /// The person withdrew their consent to share (the plan is no longer shared).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub consent_withdrawn: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeathRecorded {
    pub date_of_death: NaiveDate,
    #[serde(default)]
    pub place_of_death: Option<ShortText>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanVoided {
    pub reason: LongText,
}

/// A stored event this code cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read event {event_type} v{schema_version}: {detail}")]
pub struct DecodeError {
    pub event_type: String,
    pub schema_version: i16,
    pub detail: String,
}

/// The stored names of the events that are not a section's own (each section's is
/// [`section_event_type`]): every change type a subscriber may ask for is one of these or a
/// section's.
pub const PLAN_EVENT_TYPES: [&str; 15] = [
    "CarePlanCreated",
    "CarePlanReviewed",
    "CarePlanWithdrawn",
    "PersonDied",
    "CarePlanVoided",
    "DeathRetracted",
    "SectionRetracted",
    "EmergencyTreatmentPlanSigned",
    "ConsentToShareWithdrawn",
    "ResidentAdmitted",
    "ResidenceRecorded",
    "ResidenceConfirmed",
    "ResidenceEnded",
    "SensitivityMarked",
    "SensitivityCleared",
];

/// The schema version of every event type but the Emergency Treatment Plan's.
const SCHEMA_VERSION: i16 = 1;
/// `EmergencyTreatmentPlanRecorded` v2: `involvement` is a list (C1 or C2 with C3); v1 held one
/// letter and is upcast on read.
const ETP_SCHEMA_VERSION: i16 = 2;

impl CarePlanEvent {
    /// The stored name of the event type.
    #[must_use]
    pub fn event_type(&self) -> &'static str {
        match self {
            Self::Created(_) => "CarePlanCreated",
            Self::SectionChanged(content) => section_event_type(content.section()),
            Self::Reviewed(_) => "CarePlanReviewed",
            Self::Withdrawn(_) => "CarePlanWithdrawn",
            Self::PersonDied(_) => "PersonDied",
            Self::Voided(_) => "CarePlanVoided",
            Self::DeathRetracted(_) => "DeathRetracted",
            Self::SectionRetracted(_) => "SectionRetracted",
            Self::EmergencyTreatmentPlanSigned(_) => "EmergencyTreatmentPlanSigned",
            Self::ConsentToShareWithdrawn(_) => "ConsentToShareWithdrawn",
            Self::ResidentAdmitted(_) => "ResidentAdmitted",
            Self::ResidenceRecorded(_) => "ResidenceRecorded",
            Self::ResidenceConfirmed(_) => "ResidenceConfirmed",
            Self::ResidenceEnded(_) => "ResidenceEnded",
            Self::SensitivityMarked(_) => "SensitivityMarked",
            Self::SensitivityCleared(_) => "SensitivityCleared",
        }
    }

    #[must_use]
    pub fn schema_version(&self) -> i16 {
        match self {
            Self::SectionChanged(SectionContent::EmergencyTreatmentPlan(_)) => ETP_SCHEMA_VERSION,
            _ => SCHEMA_VERSION,
        }
    }

    /// The section an event changes, if it changes one.
    #[must_use]
    pub fn section(&self) -> Option<PlanSection> {
        match self {
            Self::SectionChanged(content) => Some(content.section()),
            Self::SectionRetracted(r) => Some(r.section),
            Self::EmergencyTreatmentPlanSigned(_) => Some(PlanSection::EmergencyTreatmentPlan),
            Self::ConsentToShareWithdrawn(_) => Some(PlanSection::ConsentToShare),
            _ => None,
        }
    }

    /// The event's data as stored.
    ///
    /// # Errors
    /// Never for these types; serde's signature demands it.
    pub fn to_data(&self) -> Result<serde_json::Value, serde_json::Error> {
        match self {
            Self::Created(e) => serde_json::to_value(e),
            Self::SectionChanged(content) => serde_json::to_value(content),
            Self::Reviewed(e) => serde_json::to_value(e),
            Self::Withdrawn(e) => serde_json::to_value(e),
            Self::PersonDied(e) => serde_json::to_value(e),
            Self::Voided(e) => serde_json::to_value(e),
            Self::DeathRetracted(e) => serde_json::to_value(e),
            Self::SectionRetracted(e) => serde_json::to_value(e),
            Self::EmergencyTreatmentPlanSigned(e) => serde_json::to_value(e),
            Self::ConsentToShareWithdrawn(e) => serde_json::to_value(e),
            Self::ResidentAdmitted(e) | Self::ResidenceRecorded(e) => serde_json::to_value(e),
            Self::ResidenceConfirmed(e) => serde_json::to_value(e),
            Self::ResidenceEnded(e) => serde_json::to_value(e),
            Self::SensitivityMarked(e) => serde_json::to_value(e),
            Self::SensitivityCleared(e) => serde_json::to_value(e),
        }
    }

    /// Reads a stored event, upcasting older schema versions to the current shape.
    ///
    /// # Errors
    /// When the type is unknown or the data does not fit it.
    pub fn decode(
        event_type: &str,
        schema_version: i16,
        data: serde_json::Value,
    ) -> Result<Self, DecodeError> {
        let fail = |detail: String| DecodeError {
            event_type: event_type.to_owned(),
            schema_version,
            detail,
        };
        let etp = section_event_type(PlanSection::EmergencyTreatmentPlan);
        let mut data = data;
        match (event_type, schema_version) {
            (t, 1) if t == etp => upcast_etp_v1(&mut data),
            (t, ETP_SCHEMA_VERSION) if t == etp => {}
            (_, SCHEMA_VERSION) => {}
            _ => return Err(fail("no upcast for this schema version".into())),
        }
        let err = |e: serde_json::Error| fail(e.to_string());
        Ok(match event_type {
            "CarePlanCreated" => Self::Created(serde_json::from_value(data).map_err(err)?),
            "CarePlanReviewed" => Self::Reviewed(serde_json::from_value(data).map_err(err)?),
            "CarePlanWithdrawn" => Self::Withdrawn(serde_json::from_value(data).map_err(err)?),
            "PersonDied" => Self::PersonDied(serde_json::from_value(data).map_err(err)?),
            "CarePlanVoided" => Self::Voided(serde_json::from_value(data).map_err(err)?),
            "DeathRetracted" => Self::DeathRetracted(serde_json::from_value(data).map_err(err)?),
            "SectionRetracted" => {
                Self::SectionRetracted(serde_json::from_value(data).map_err(err)?)
            }
            "ConsentToShareWithdrawn" => {
                Self::ConsentToShareWithdrawn(serde_json::from_value(data).map_err(err)?)
            }
            "EmergencyTreatmentPlanSigned" => {
                Self::EmergencyTreatmentPlanSigned(serde_json::from_value(data).map_err(err)?)
            }
            "ResidentAdmitted" => {
                Self::ResidentAdmitted(serde_json::from_value(data).map_err(err)?)
            }
            "ResidenceRecorded" => {
                Self::ResidenceRecorded(serde_json::from_value(data).map_err(err)?)
            }
            "ResidenceConfirmed" => {
                Self::ResidenceConfirmed(serde_json::from_value(data).map_err(err)?)
            }
            "ResidenceEnded" => Self::ResidenceEnded(serde_json::from_value(data).map_err(err)?),
            "SensitivityMarked" => {
                Self::SensitivityMarked(serde_json::from_value(data).map_err(err)?)
            }
            "SensitivityCleared" => {
                Self::SensitivityCleared(serde_json::from_value(data).map_err(err)?)
            }
            other => {
                let section = PlanSection::from_event_type(other)
                    .ok_or_else(|| fail("unknown event type".into()))?;
                Self::SectionChanged(
                    section
                        .parse_content(data)
                        .map_err(|e: FieldError| fail(format!("{}: {}", e.pointer, e.detail)))?,
                )
            }
        })
    }
}

/// v1 of the Emergency Treatment Plan held `involvement` as one letter: v2 holds a list.
fn upcast_etp_v1(data: &mut serde_json::Value) {
    if let Some(involvement) = data.get_mut("involvement") {
        if involvement.is_string() {
            *involvement = serde_json::Value::Array(vec![involvement.take()]);
        }
    }
}

/// The stored name of a section's event (declared with the section).
#[must_use]
pub fn section_event_type(section: PlanSection) -> &'static str {
    section.event_type()
}
