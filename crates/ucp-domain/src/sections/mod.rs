//! The sections (forms) of a care plan, each saved on its own.

mod clinical;
mod person_centred;

pub use clinical::*;
pub use person_centred::*;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::FieldError;

/// A section's stable name, as used in URLs (`/sections/what-matters`). Never renamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum PlanSection {
    PersonalInformation,
    Contacts,
    CommunicationAndAccessibility,
    WhatMatters,
    ThinkingAhead,
    SupportNeeds,
    EmergencyTreatmentPlan,
    ClinicalBackground,
    AnticipatoryMedicines,
    ConsentToShare,
    SickleCellPlan,
    MentalHealthCrisisPlan,
}

impl PlanSection {
    pub const ALL: [Self; 12] = [
        Self::PersonalInformation,
        Self::Contacts,
        Self::CommunicationAndAccessibility,
        Self::WhatMatters,
        Self::ThinkingAhead,
        Self::SupportNeeds,
        Self::EmergencyTreatmentPlan,
        Self::ClinicalBackground,
        Self::AnticipatoryMedicines,
        Self::ConsentToShare,
        Self::SickleCellPlan,
        Self::MentalHealthCrisisPlan,
    ];

    /// The kebab-case name used in URLs and JSON.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::PersonalInformation => "personal-information",
            Self::Contacts => "contacts",
            Self::CommunicationAndAccessibility => "communication-and-accessibility",
            Self::WhatMatters => "what-matters",
            Self::ThinkingAhead => "thinking-ahead",
            Self::SupportNeeds => "support-needs",
            Self::EmergencyTreatmentPlan => "emergency-treatment-plan",
            Self::ClinicalBackground => "clinical-background",
            Self::AnticipatoryMedicines => "anticipatory-medicines",
            Self::ConsentToShare => "consent-to-share",
            Self::SickleCellPlan => "sickle-cell-plan",
            Self::MentalHealthCrisisPlan => "mental-health-crisis-plan",
        }
    }

    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The camelCase key of the section in a plan document and in a create request.
    #[must_use]
    pub fn json_key(self) -> &'static str {
        match self {
            Self::PersonalInformation => "personalInformation",
            Self::Contacts => "contacts",
            Self::CommunicationAndAccessibility => "communicationAndAccessibility",
            Self::WhatMatters => "whatMatters",
            Self::ThinkingAhead => "thinkingAhead",
            Self::SupportNeeds => "supportNeeds",
            Self::EmergencyTreatmentPlan => "emergencyTreatmentPlan",
            Self::ClinicalBackground => "clinicalBackground",
            Self::AnticipatoryMedicines => "anticipatoryMedicines",
            Self::ConsentToShare => "consentToShare",
            Self::SickleCellPlan => "sickleCellPlan",
            Self::MentalHealthCrisisPlan => "mentalHealthCrisisPlan",
        }
    }

    /// The person-centred forms, which the person may write themselves; the rest are clinical.
    #[must_use]
    pub fn is_person_centred(self) -> bool {
        matches!(
            self,
            Self::PersonalInformation
                | Self::Contacts
                | Self::CommunicationAndAccessibility
                | Self::WhatMatters
                | Self::ThinkingAhead
                | Self::SupportNeeds
        )
    }

    /// Parses a section's JSON into its type, naming the first field that is wrong.
    ///
    /// # Errors
    /// A [`FieldError`] with a JSON pointer (relative to the section) and what is wrong.
    pub fn parse_content(self, json: serde_json::Value) -> Result<SectionContent, FieldError> {
        fn parse<T: DeserializeOwned>(json: serde_json::Value) -> Result<T, FieldError> {
            serde_path_to_error::deserialize(json).map_err(|e| FieldError::from_path(&e))
        }
        Ok(match self {
            Self::PersonalInformation => SectionContent::PersonalInformation(parse(json)?),
            Self::Contacts => SectionContent::Contacts(parse(json)?),
            Self::CommunicationAndAccessibility => {
                SectionContent::CommunicationAndAccessibility(parse(json)?)
            }
            Self::WhatMatters => SectionContent::WhatMatters(parse(json)?),
            Self::ThinkingAhead => SectionContent::ThinkingAhead(parse(json)?),
            Self::SupportNeeds => SectionContent::SupportNeeds(parse(json)?),
            Self::EmergencyTreatmentPlan => SectionContent::EmergencyTreatmentPlan(parse(json)?),
            Self::ClinicalBackground => SectionContent::ClinicalBackground(parse(json)?),
            Self::AnticipatoryMedicines => SectionContent::AnticipatoryMedicines(parse(json)?),
            Self::ConsentToShare => SectionContent::ConsentToShare(parse(json)?),
            Self::SickleCellPlan => SectionContent::SickleCellPlan(parse(json)?),
            Self::MentalHealthCrisisPlan => SectionContent::MentalHealthCrisisPlan(parse(json)?),
        })
    }
}

impl std::fmt::Display for PlanSection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A section's whole content, typed; which one is given by the section's name.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SectionContent {
    PersonalInformation(PersonalInformation),
    Contacts(Contacts),
    CommunicationAndAccessibility(CommunicationAndAccessibility),
    WhatMatters(WhatMatters),
    ThinkingAhead(ThinkingAhead),
    SupportNeeds(SupportNeeds),
    EmergencyTreatmentPlan(EmergencyTreatmentPlan),
    ClinicalBackground(ClinicalBackground),
    AnticipatoryMedicines(AnticipatoryMedicines),
    ConsentToShare(ConsentToShare),
    SickleCellPlan(SickleCellPlan),
    MentalHealthCrisisPlan(MentalHealthCrisisPlan),
}

impl SectionContent {
    #[must_use]
    pub fn section(&self) -> PlanSection {
        match self {
            Self::PersonalInformation(_) => PlanSection::PersonalInformation,
            Self::Contacts(_) => PlanSection::Contacts,
            Self::CommunicationAndAccessibility(_) => PlanSection::CommunicationAndAccessibility,
            Self::WhatMatters(_) => PlanSection::WhatMatters,
            Self::ThinkingAhead(_) => PlanSection::ThinkingAhead,
            Self::SupportNeeds(_) => PlanSection::SupportNeeds,
            Self::EmergencyTreatmentPlan(_) => PlanSection::EmergencyTreatmentPlan,
            Self::ClinicalBackground(_) => PlanSection::ClinicalBackground,
            Self::AnticipatoryMedicines(_) => PlanSection::AnticipatoryMedicines,
            Self::ConsentToShare(_) => PlanSection::ConsentToShare,
            Self::SickleCellPlan(_) => PlanSection::SickleCellPlan,
            Self::MentalHealthCrisisPlan(_) => PlanSection::MentalHealthCrisisPlan,
        }
    }

    /// The rules a section's types alone cannot carry, every breach named by JSON pointer
    /// (relative to the section).
    #[must_use]
    pub fn rule_breaches(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        match self {
            Self::EmergencyTreatmentPlan(etp) => {
                if etp.signatures.is_empty() {
                    errors.push(FieldError::new(
                        "/signatures",
                        "the Emergency Treatment Plan needs at least one clinician's signature",
                    ));
                }
                if let Some(scale) = etp.what_matters.as_ref().and_then(|w| w.priority_scale) {
                    if scale > 10 {
                        errors.push(FieldError::new(
                            "/whatMatters/priorityScale",
                            "the scale runs from 0 to 10",
                        ));
                    }
                }
                if etp.cpr_recommendation == CprRecommendation::ModifiedCpr
                    && etp.modified_cpr_details.is_none()
                {
                    errors.push(FieldError::new(
                        "/modifiedCprDetails",
                        "modified CPR needs its details",
                    ));
                }
            }
            Self::ClinicalBackground(c) if c.no_known_allergies && !c.allergies.is_empty() => {
                errors.push(FieldError::new(
                    "/noKnownAllergies",
                    "allergies are listed: there cannot also be no known allergies",
                ));
            }
            Self::ConsentToShare(consent)
                if consent.basis == ConsentBasis::BestInterests && consent.decided_by.is_none() =>
            {
                errors.push(FieldError::new(
                    "/decidedBy",
                    "a best-interests decision records who made it",
                ));
            }
            Self::Contacts(contacts)
                if contacts.personal.iter().filter(|c| c.contact_first).count() > 1 =>
            {
                errors.push(FieldError::new(
                    "/personal",
                    "only one person can be the one to contact first",
                ));
            }
            _ => {}
        }
        errors
    }
}
