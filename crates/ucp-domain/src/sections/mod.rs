//! The sections (forms) of a care plan, each saved on its own. Every section is declared once,
//! in the table below: its name in URLs, its key in JSON, its event's stored name, whether the
//! person may write it, and whether a new plan must carry it. Everything else that lists the
//! sections — the enums, parsing, event names, the bodies of create requests — is made from it.

#[macro_use]
mod declare;
mod clinical;
mod person_centred;

pub use clinical::*;
pub use person_centred::*;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::FieldError;

sections! {
    PersonalInformation(PersonalInformation) = "personal-information", "personalInformation",
        personal_information, "PersonalInformationUpdated", person, required;
    Contacts(Contacts) = "contacts", "contacts",
        contacts, "ContactsUpdated", person, optional;
    CommunicationAndAccessibility(CommunicationAndAccessibility) = "communication-and-accessibility",
        "communicationAndAccessibility", communication_and_accessibility,
        "CommunicationAndAccessibilityUpdated", person, optional;
    WhatMatters(WhatMatters) = "what-matters", "whatMatters",
        what_matters, "WhatMattersUpdated", person, optional;
    ThinkingAhead(ThinkingAhead) = "thinking-ahead", "thinkingAhead",
        thinking_ahead, "ThinkingAheadUpdated", person, optional;
    SupportNeeds(SupportNeeds) = "support-needs", "supportNeeds",
        support_needs, "SupportNeedsUpdated", person, optional;
    EmergencyTreatmentPlan(EmergencyTreatmentPlan) = "emergency-treatment-plan",
        "emergencyTreatmentPlan", emergency_treatment_plan, "EmergencyTreatmentPlanRecorded",
        professional, optional;
    ClinicalBackground(ClinicalBackground) = "clinical-background", "clinicalBackground",
        clinical_background, "ClinicalBackgroundUpdated", professional, optional;
    AnticipatoryMedicines(AnticipatoryMedicines) = "anticipatory-medicines",
        "anticipatoryMedicines", anticipatory_medicines, "AnticipatoryMedicinesUpdated",
        professional, optional;
    ConsentToShare(ConsentToShare) = "consent-to-share", "consentToShare",
        consent_to_share, "ConsentToShareRecorded", professional, required;
    SickleCellPlan(SickleCellPlan) = "sickle-cell-plan", "sickleCellPlan",
        sickle_cell_plan, "SickleCellPlanUpdated", professional, optional;
    MentalHealthCrisisPlan(MentalHealthCrisisPlan) = "mental-health-crisis-plan",
        "mentalHealthCrisisPlan", mental_health_crisis_plan, "MentalHealthCrisisPlanUpdated",
        professional, optional;
}

impl PlanSection {
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The section whose event has this stored name.
    #[must_use]
    pub fn from_event_type(event_type: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.event_type() == event_type)
    }
}

fn parse<T: DeserializeOwned>(json: serde_json::Value) -> Result<T, FieldError> {
    serde_path_to_error::deserialize(json).map_err(|e| FieldError::from_path(&e))
}

impl std::fmt::Display for PlanSection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl SectionContent {
    /// The rules a section's types alone cannot carry, every breach named by JSON pointer
    /// (relative to the section).
    #[must_use]
    pub fn rule_breaches(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        match self {
            Self::EmergencyTreatmentPlan(etp) => {
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
            Self::ClinicalBackground(c) => {
                if c.no_known_allergies && !c.allergies.is_empty() {
                    errors.push(FieldError::new(
                        "/noKnownAllergies",
                        "allergies are listed: there cannot also be no known allergies",
                    ));
                }
                if let Some(w) = &c.weight {
                    if !(w.kilograms.is_finite() && w.kilograms > 0.0 && w.kilograms <= 400.0) {
                        errors.push(FieldError::new(
                            "/weight/kilograms",
                            "a weight is more than 0 and at most 400 kilograms",
                        ));
                    }
                }
                if c.death_verified_by.is_some() && c.death_expected != Some(true) {
                    errors.push(FieldError::new(
                        "/deathVerifiedBy",
                        "who verifies a death is recorded when death is expected (deathExpected: true)",
                    ));
                }
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
