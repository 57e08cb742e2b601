//! The six person-centred forms of the UCP. The person may write these themselves.

use serde::{Deserialize, Serialize};

use crate::{BirthDate, LongText, LpaReference, NhsNumber, OdsCode, Phone, Postcode, ShortText};

/// Declares a domain struct the way every section is declared: camelCase JSON, unknown fields
/// refused (a misspelt field silently dropped from a care plan is a clinical risk).
macro_rules! section_struct {
    ($(#[$doc:meta])* pub struct $name:ident { $($body:tt)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub struct $name { $($body)* }
    };
}
pub(crate) use section_struct;

/// Declares a closed set of coded answers, as kebab-case strings.
macro_rules! coded {
    ($(#[$doc:meta])* pub enum $name:ident { $($variant:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(rename_all = "kebab-case")]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name { $($variant),+ }
    };
}
pub(crate) use coded;

section_struct!(
    /// Personal Information: who the person is and how to reach them.
    pub struct PersonalInformation {
        pub nhs_number: NhsNumber,
        pub family_name: ShortText,
        pub given_name: ShortText,
        #[serde(default)]
        pub preferred_name: Option<ShortText>,
        pub birth_date: BirthDate,
        #[serde(default)]
        pub gender: Option<ShortText>,
        pub address: Address,
        #[serde(default)]
        pub phone: Option<Phone>,
        #[serde(default)]
        pub main_language: Option<ShortText>,
        #[serde(default)]
        pub interpreter_needed: bool,
    }
);

section_struct!(
    /// A postal address; the postcode is normalised.
    pub struct Address {
        pub lines: Vec<ShortText>,
        pub postcode: Postcode,
    }
);

coded!(
    /// Yes / no / don't know, as the UCP asks about powers of attorney.
    pub enum YesNoUnknown {
        Yes,
        No,
        Unknown,
    }
);

section_struct!(
    /// A person involved in the person's life and care.
    pub struct PersonalContact {
        pub name: ShortText,
        pub relationship: ShortText,
        #[serde(default)]
        pub next_of_kin: bool,
        #[serde(default)]
        pub carer: bool,
        pub lpa_health_and_welfare: YesNoUnknown,
        pub lpa_property_and_financial: YesNoUnknown,
        /// Their own NHS number, where known: an attorney is granted proxy access by it, so
        /// that the grant is bound to a person rather than to a name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub nhs_number: Option<NhsNumber>,
        /// The Office of the Public Guardian's reference of their registered LPA for health
        /// and welfare.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub lpa_registration_reference: Option<LpaReference>,
        /// Whether their LPA for health and welfare gives them authority over life-sustaining
        /// treatment (the LPA form's option A): only then may they refuse it for the person.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub lpa_covers_life_sustaining_treatment: Option<YesNoUnknown>,
        /// For a child: they hold parental responsibility.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        pub parental_responsibility: bool,
        pub phone: Phone,
        /// Call this person first in an emergency.
        #[serde(default)]
        pub contact_first: bool,
    }
);

section_struct!(
    /// A professional or team involved in the person's care.
    pub struct ProfessionalContact {
        pub name: ShortText,
        /// e.g. GP practice, key worker, community palliative care team.
        pub role: ShortText,
        #[serde(default)]
        pub ods_code: Option<OdsCode>,
        pub phone: Phone,
    }
);

section_struct!(
    /// Personal and Professional Contacts.
    pub struct Contacts {
        #[serde(default)]
        pub personal: Vec<PersonalContact>,
        #[serde(default)]
        pub professional: Vec<ProfessionalContact>,
    }
);

coded!(
    /// A kind of communication need.
    pub enum CommunicationNeedKind {
        Hearing,
        Sight,
        Speech,
        Language,
        LearningDisability,
        Other,
    }
);

section_struct!(
    /// One communication need and what helps.
    pub struct CommunicationNeed {
        pub kind: CommunicationNeedKind,
        pub detail: LongText,
    }
);

section_struct!(
    /// Communication and Accessibility: how to talk with the person and how to get in.
    pub struct CommunicationAndAccessibility {
        #[serde(default)]
        pub needs: Vec<CommunicationNeed>,
        #[serde(default)]
        pub how_best_to_communicate: Option<LongText>,
        /// Access to the home: key safe, door code and who holds it.
        #[serde(default)]
        pub access_to_home: Option<LongText>,
        #[serde(default)]
        pub key_safe: bool,
        #[serde(default)]
        pub hazards: Vec<ShortText>,
    }
);

section_struct!(
    /// What Matters to Them, in the person's own words.
    pub struct WhatMatters {
        pub in_their_own_words: LongText,
    }
);

section_struct!(
    /// Thinking Ahead: wishes and preferences.
    pub struct ThinkingAhead {
        #[serde(default)]
        pub preferred_place_of_care: Option<ShortText>,
        #[serde(default)]
        pub preferred_place_of_death: Option<ShortText>,
        #[serde(default)]
        pub religious_and_cultural_needs: Option<LongText>,
        pub advance_decision_to_refuse_treatment: AdvanceDecision,
        #[serde(default)]
        pub other_planning_documents: Vec<PlanningDocument>,
    }
);

section_struct!(
    /// Whether an advance decision to refuse treatment (ADRT) is held, and where.
    pub struct AdvanceDecision {
        pub held: YesNoUnknown,
        #[serde(default)]
        pub location: Option<ShortText>,
        /// What treatment it refuses, as the document says.
        #[serde(default)]
        pub refuses: Option<LongText>,
        /// In what circumstances it applies.
        #[serde(default)]
        pub circumstances: Option<LongText>,
    }
);

section_struct!(
    /// Another planning document and where it is kept.
    pub struct PlanningDocument {
        pub name: ShortText,
        pub location: ShortText,
    }
);

section_struct!(
    /// One daily need and who supports it.
    pub struct SupportNeed {
        pub need: LongText,
        pub provided_by: ShortText,
        #[serde(default)]
        pub contact: Option<Phone>,
    }
);

section_struct!(
    /// Daily Activities and Support Needs.
    pub struct SupportNeeds {
        pub needs: Vec<SupportNeed>,
    }
);
