//! Clinical sections: written by professionals only.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::person_centred::{coded, section_struct};
use crate::{Author, LongText, Phone, ShortText, SnomedCode};

coded!(
    /// ReSPECT section 3: where the focus of care lies. Kept open to a middle value because some
    /// forms use three.
    pub enum ClinicalFocus {
        LifeSustainingTreatment,
        Balanced,
        SymptomControl,
    }
);

coded!(
    /// ReSPECT section 4.
    pub enum CprRecommendation {
        AttemptsRecommended,
        ModifiedCpr,
        AttemptsNotRecommended,
    }
);

/// The CPR decision as a crew is told it: never empty. `NoDecisionRecorded` when there is no
/// Emergency Treatment Plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CprStatus {
    ForCpr,
    NotForCpr,
    ModifiedCpr,
    NoDecisionRecorded,
}

impl CprStatus {
    /// The SNOMED CT concept that means exactly this status, with its display; none for
    /// modified CPR, for which no concept exists ("For CPR" alone would tell a system reading
    /// only the code that full CPR is wanted).
    #[must_use]
    pub fn snomed(self) -> Option<(&'static str, &'static str)> {
        match self {
            Self::ForCpr => Some(("450475007", "For cardiopulmonary resuscitation")),
            Self::NotForCpr => Some(("450476008", "Not for cardiopulmonary resuscitation")),
            Self::ModifiedCpr => None,
            Self::NoDecisionRecorded => Some((
                "845151000000104",
                "Not aware of do not attempt cardiopulmonary resuscitation clinical decision",
            )),
        }
    }
}

impl CprRecommendation {
    #[must_use]
    pub fn status(self) -> CprStatus {
        match self {
            Self::AttemptsRecommended => CprStatus::ForCpr,
            Self::ModifiedCpr => CprStatus::ModifiedCpr,
            Self::AttemptsNotRecommended => CprStatus::NotForCpr,
        }
    }
}

coded!(
    /// ReSPECT section 5.
    pub enum Capacity {
        HasCapacity,
        LacksCapacity,
        Indeterminate,
    }
);

/// ReSPECT section 6: how the plan was made, in the form's own letters: A (has capacity,
/// involved), B (lacks capacity, proxy or family involved), C1–C3 (child), D (other, stated).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Involvement {
    A,
    B,
    C1,
    C2,
    C3,
    D,
}

section_struct!(
    /// A specific realistic intervention and whether it is recommended.
    pub struct InterventionGuidance {
        pub intervention: ShortText,
        pub recommended: bool,
        #[serde(default)]
        pub reason: Option<LongText>,
    }
);

coded!(
    /// How a signature came to be on record: `electronic`, made by the signer's own signed-in
    /// request (saving the form with `signAs`, or countersigning it); or
    /// `transcribed-from-paper`, typed in from a signed paper form by someone who is named.
    pub enum SignatureMethod {
        Electronic,
        TranscribedFromPaper,
    }
);

section_struct!(
    /// ReSPECT section 7: one clinician's signature, bound to the decision content it was made
    /// over (`digest`). Only signatures whose digest is the form's current `decisionDigest` sign
    /// the decision as it stands; the others stay on record, on the earlier version.
    ///
    /// A new entry in a saved form can only be a transcription of a paper form
    /// (`method: transcribed-from-paper`); an electronic signature is made by its signer's own
    /// request (`signAs`, or `POST …/emergency-treatment-plan/signatures`). Entries already on
    /// record may be sent back unchanged and are kept as they are.
    pub struct ClinicianSignature {
        pub name: ShortText,
        /// Their designation (e.g. GP, Consultant geriatrician, Paramedic). The senior
        /// responsible clinician's must be on this deployment's list of senior designations.
        pub role: ShortText,
        /// As their register writes it: GMC 7 digits (`GMC 1234567`), NMC `12A3456E`, HCPC the
        /// profession's prefix and digits (`PA12345`), GPhC 7 digits with its name.
        pub registration_number: ShortText,
        #[serde(default)]
        pub senior_responsible: bool,
        pub signed_at: DateTime<Utc>,
        /// Required for a new entry (only `transcribed-from-paper` may be sent); set by the
        /// service on every signature on record.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub method: Option<SignatureMethod>,
        /// The digest of the decision content signed (set by the service).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub digest: Option<String>,
        /// For an electronic signature, the signer's sign-in (set by the service).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub signed_by: Option<Author>,
        /// For a transcription, who typed it in (set by the service).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub transcribed_by: Option<Author>,
        /// The plan version whose change to the decision left this signature on an earlier
        /// version (set by the service): a decision changed back to what was signed is not
        /// signed again by it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub superseded_in: Option<i64>,
    }
);

section_struct!(
    /// The saving clinician's own signature on this save: named from their sign-in, dated now,
    /// bound to the decision content saved. Never stored as sent.
    pub struct SignAs {
        /// The designation they sign in (e.g. GP, Paramedic).
        pub role: ShortText,
        /// Their registration, unless their sign-in carries it; when both are given they must
        /// be the same.
        #[serde(default)]
        pub registration_number: Option<ShortText>,
        #[serde(default)]
        pub senior_responsible: bool,
    }
);

section_struct!(
    /// A countersignature of the Emergency Treatment Plan as it stands: the signer names the
    /// `decisionDigest` they read, so they cannot sign a decision that changed since.
    pub struct Countersignature {
        pub role: ShortText,
        #[serde(default)]
        pub registration_number: Option<ShortText>,
        #[serde(default)]
        pub senior_responsible: bool,
        /// The form's `decisionDigest` as the signer read it.
        pub digest: ShortText,
    }
);

section_struct!(
    /// ReSPECT section 8.
    pub struct EmergencyContact {
        pub name: ShortText,
        pub role_or_relationship: ShortText,
        pub phone: Phone,
        #[serde(default)]
        pub primary: bool,
    }
);

section_struct!(
    /// ReSPECT section 9.
    pub struct ReviewPlan {
        #[serde(default)]
        pub due: Option<NaiveDate>,
        #[serde(default)]
        pub reviewed_by: Option<ShortText>,
        #[serde(default)]
        pub still_valid: Option<bool>,
    }
);

section_struct!(
    /// ReSPECT section 2: a 0–10 scale from "living as long as possible matters most" (0) to
    /// "quality of life and comfort matter most" (10).
    pub struct WhatMattersInEmergency {
        #[serde(default)]
        pub priority_scale: Option<u8>,
        #[serde(default)]
        pub most_value: Option<LongText>,
        #[serde(default)]
        pub most_fear_or_avoid: Option<LongText>,
    }
);

section_struct!(
    /// The Emergency Treatment Plan, aligned with the ReSPECT v3 form.
    pub struct EmergencyTreatmentPlan {
        /// Section 1: shared understanding of health and current condition.
        pub shared_understanding: LongText,
        #[serde(default)]
        pub other_planning_documents: Option<LongText>,
        #[serde(default)]
        pub legal_welfare_proxy: Option<ShortText>,
        /// How the legal welfare proxy took part in making the plan (or why they did not);
        /// required when there is a proxy.
        #[serde(default)]
        pub legal_proxy_participation: Option<LongText>,
        #[serde(default)]
        pub what_matters: Option<WhatMattersInEmergency>,
        pub clinical_focus: ClinicalFocus,
        #[serde(default)]
        pub interventions: Vec<InterventionGuidance>,
        pub cpr_recommendation: CprRecommendation,
        #[serde(default)]
        pub modified_cpr_details: Option<LongText>,
        pub capacity: Capacity,
        #[serde(default)]
        pub capacity_assessment: Option<LongText>,
        /// Section 6: one letter for an adult (A, B or D); for a child C1, C2 or C3, and C1 or
        /// C2 may come with C3.
        pub involvement: Vec<Involvement>,
        /// Who took part and when; for D, the reason (required).
        #[serde(default)]
        pub involvement_detail: Option<LongText>,
        /// Every signature on record, over this and earlier decision content (see
        /// [`ClinicianSignature`]).
        #[serde(default)]
        pub signatures: Vec<ClinicianSignature>,
        /// The saving clinician's own signature (write only; see [`SignAs`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub sign_as: Option<Box<SignAs>>,
        /// The digest of the decision content (CPR, focus of care, interventions, capacity,
        /// involvement) as it stands: what a signature must be over to sign it. Set by the
        /// service; a value sent is ignored.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub decision_digest: Option<String>,
        #[serde(default)]
        pub emergency_contacts: Vec<EmergencyContact>,
        #[serde(default)]
        pub review: Option<ReviewPlan>,
    }
);

section_struct!(
    /// A condition, with its SNOMED CT code where known.
    pub struct Condition {
        pub name: ShortText,
        #[serde(default)]
        pub snomed_code: Option<SnomedCode>,
    }
);

coded!(
    /// London UCP's estimated prognosis: `days`, `weeks`, `months`, `years` (or `unknown`).
    pub enum Prognosis {
        Days,
        Weeks,
        Months,
        Years,
        Unknown,
    }
);

section_struct!(
    /// A medicine the person takes now (not only "just in case").
    pub struct CurrentMedicine {
        pub name: ShortText,
        #[serde(default)]
        pub dose_and_route: Option<ShortText>,
    }
);

section_struct!(
    /// The person's weight, and when it was measured (a child's doses are by weight).
    pub struct Weight {
        /// More than 0 and at most 400.
        pub kilograms: f64,
        pub measured_on: NaiveDate,
    }
);

section_struct!(
    /// Clinical Background, with what London's Universal Care Plan shows crews beside the
    /// ReSPECT form.
    pub struct ClinicalBackground {
        #[serde(default)]
        pub conditions: Vec<Condition>,
        #[serde(default)]
        pub allergies: Vec<ShortText>,
        /// Allergies were asked about and there are none ("no known allergies"), as opposed
        /// to an empty list that says only that none were recorded.
        #[serde(default)]
        pub no_known_allergies: bool,
        #[serde(default)]
        pub relevant_history: Option<LongText>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub prognosis: Option<Prognosis>,
        /// Death is expected: it is verified, not attempted against.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub death_expected: Option<bool>,
        /// Who verifies an expected death (e.g. "District nurses, 020 7946 0009").
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub death_verified_by: Option<ShortText>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub current_medicines: Vec<CurrentMedicine>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub weight: Option<Weight>,
        /// Deprivation of Liberty Safeguards in place.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub dols_in_place: Option<crate::YesNoUnknown>,
        /// Safeguarding concerns, in words.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub safeguarding_concerns: Option<LongText>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub lives_alone: Option<crate::YesNoUnknown>,
    }
);

section_struct!(
    /// A "just in case" medicine held at home.
    pub struct AnticipatoryMedicine {
        pub name: ShortText,
        #[serde(default)]
        pub dose_and_route: Option<ShortText>,
        #[serde(default)]
        pub indication: Option<ShortText>,
    }
);

section_struct!(
    /// Anticipatory Medicines and Symptom Management.
    pub struct AnticipatoryMedicines {
        #[serde(default)]
        pub medicines: Vec<AnticipatoryMedicine>,
        #[serde(default)]
        pub location: Option<ShortText>,
        #[serde(default)]
        pub symptom_management_plan: Option<LongText>,
    }
);

coded!(
    /// The basis on which the plan is shared.
    pub enum ConsentBasis {
        PersonAgreed,
        BestInterests,
        LastingPowerOfAttorney,
    }
);

section_struct!(
    /// Consent to Share.
    pub struct ConsentToShare {
        pub basis: ConsentBasis,
        /// For a best-interests decision: who made it.
        #[serde(default)]
        pub decided_by: Option<ShortText>,
        /// For a best-interests decision: who was consulted.
        #[serde(default)]
        pub consulted: Vec<ShortText>,
        pub date: NaiveDate,
    }
);

section_struct!(
    /// The Sickle Cell crisis plan.
    pub struct SickleCellPlan {
        #[serde(default)]
        pub day_to_day_management: Option<LongText>,
        pub ambulance_guidance: LongText,
        #[serde(default)]
        pub emergency_department_guidance: Option<LongText>,
    }
);

section_struct!(
    /// The Mental Health Crisis plan.
    pub struct MentalHealthCrisisPlan {
        #[serde(default)]
        pub triggers_and_early_signs: Option<LongText>,
        pub what_helps: LongText,
        #[serde(default)]
        pub crisis_contacts: Vec<super::clinical::EmergencyContact>,
    }
);
