//! The emergency summary: what a crew at the door, a 111 clinician or a dispatch system acts on,
//! computed from a plan's state alone. Everything in it says what it is, who decided it and
//! when, and whether it is current — never a bare null where a decision is expected
//! (DOMAIN.md, "Trusting a decision").

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::standing::{
    self, AdrtNote, NoLongerValid, PreviousDecision, Standing, StandingFacts, UnsignedChange,
};
use crate::{
    Author, Capacity, CarePlan, ClinicalFocus, CommunicationNeedKind, CprStatus,
    EmergencyTreatmentPlan, Involvement, PlanSection, PlanStatus, SectionContent, SectionState,
    YesNoUnknown,
};

/// The SNOMED CT code system.
pub const SNOMED: &str = "http://snomed.info/sct";

/// Whose words an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Authorship {
    /// The person's own words (they wrote the form themselves).
    Person,
    /// Written by a professional.
    Professional,
}

/// Where a block of the summary comes from: the section, whose words, who saved it and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Source {
    pub section: PlanSection,
    pub authored_by: Authorship,
    pub changed_at: DateTime<Utc>,
    pub changed_by: Author,
}

impl Source {
    fn of(section: PlanSection, state: &SectionState) -> Self {
        Self {
            section,
            authored_by: if state.changed_by.role == "patient" {
                Authorship::Person
            } else {
                Authorship::Professional
            },
            changed_at: state.changed_at,
            changed_by: state.changed_by.clone(),
        }
    }
}

/// A coded concept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Coding {
    pub system: String,
    pub code: String,
    pub display: String,
}

/// One clinician's signature on the Emergency Treatment Plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignatureView {
    pub name: String,
    pub role: String,
    pub registration_number: String,
    pub senior_responsible: bool,
    pub signed_at: DateTime<Utc>,
    /// `electronic` (by the signer's own sign-in) or `transcribed-from-paper`.
    #[serde(default = "electronic")]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub method: crate::SignatureMethod,
    /// For a transcription: who typed it in, as a reader names them ("transcribed from paper
    /// by …").
    #[serde(default)]
    pub transcribed_by: Option<String>,
}

fn electronic() -> crate::SignatureMethod {
    crate::SignatureMethod::Electronic
}

/// The CPR decision with its provenance: what it is, who recorded and signed it, when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CprDecision {
    /// The first thing to read: the decision in words that lead with its standing ("DECISION
    /// UNDER REVIEW …", "… review overdue since …; the recommendations stand until reviewed"),
    /// never misread ("No CPR decision on record — use your usual clinical guidance"), and
    /// naming an advance decision to refuse treatment where one is held. Judged as of the day
    /// the summary is read.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub headline: String,
    /// Whether the decision stands today, the gravest first: `said-no-longer-valid` (under
    /// review: do not rely on `status`), `changed-after-signing` (no signature covers it as it
    /// stands), `awaiting-countersignature` (no senior responsible clinician has signed it),
    /// `review-overdue` (it stands until reviewed) or `current`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub standing: Standing,
    /// The review that said the decision is no longer valid, until an Emergency Treatment
    /// Plan is recorded after it.
    #[serde(default)]
    pub said_no_longer_valid: Option<NoLongerValid>,
    /// The decision this plan held before, changed or retracted within the last year: printed
    /// copies may still say it.
    #[serde(default)]
    pub previous_decision: Option<PreviousDecision>,
    /// Never empty: `no-decision-recorded` when there is no Emergency Treatment Plan.
    pub status: CprStatus,
    /// The SNOMED CT concept that means exactly `status`; absent for modified CPR, which has
    /// none (a bare "For CPR" code would mislead a system that reads only codes).
    pub coding: Option<Coding>,
    pub modified_cpr_details: Option<String>,
    /// When the Emergency Treatment Plan was last recorded (not when the plan last changed).
    pub recorded_at: Option<DateTime<Utc>>,
    /// Who recorded it: name, role, organisation (ODS code).
    pub recorded_by: Option<Author>,
    /// The signatures over the decision as it stands; signatures over earlier versions are not
    /// shown here (they are on the form's record).
    pub signatures: Vec<SignatureView>,
    /// The digest of the decision content as it stands: a countersignature names it.
    #[serde(default)]
    pub decision_digest: Option<String>,
    /// A change to the decision that no signature covers ("changed after signing, by X at
    /// T"), until someone signs it.
    #[serde(default)]
    pub changed_after_signing: Option<UnsignedChange>,
}

/// One specific intervention and whether it is recommended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InterventionView {
    pub intervention: String,
    pub recommended: bool,
    pub reason: Option<String>,
}

/// The treatment recommendations of an active plan's Emergency Treatment Plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Treatment {
    pub clinical_focus: ClinicalFocus,
    /// The focus of care in ReSPECT v3's words: "Prioritise extending life", "Balance
    /// extending life with comfort and valued outcomes" or "Prioritise comfort".
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub clinical_focus_words: String,
    pub interventions: Vec<InterventionView>,
    pub sources: Vec<Source>,
}

/// Where the last review came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ReviewSource {
    /// A review of the plan recorded in this service (who and when are the reviewer's).
    PlanReview,
    /// The review box of the Emergency Treatment Plan form.
    EmergencyTreatmentPlan,
}

/// The last review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LastReview {
    pub source: ReviewSource,
    pub reviewed_at: Option<DateTime<Utc>>,
    /// The reviewer's name (or actor id when the token had no name).
    pub reviewed_by: Option<String>,
    pub reviewed_by_organisation: Option<String>,
    /// `false`: the reviewer said the plan is no longer valid (also a warning).
    pub still_valid: Option<bool>,
}

/// Whether the plan is current.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Currency {
    pub last_review: Option<LastReview>,
    pub review_due: Option<NaiveDate>,
    /// The review due date has passed, as of `asOf`.
    pub overdue: bool,
    /// The day `overdue` was judged on (UTC).
    pub as_of: NaiveDate,
}

/// Something a reader must not miss.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Warning {
    /// `plan-not-active`, `not-still-valid`, `decision-changed` (a CPR decision changed or
    /// retracted within the last year: printed copies may still say it),
    /// `changed-after-signing`, `review-overdue`, `no-senior-signature` (awaiting a senior
    /// countersignature), `transcribed-signatures`, `consent-withdrawn` (shown only to those
    /// who still see the plan).
    pub code: String,
    pub message: String,
}

/// Why the plan is not to be acted on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotCurrent {
    pub status: PlanStatus,
    pub since: DateTime<Utc>,
    pub by: Author,
    pub reason: Option<String>,
    pub date_of_death: Option<NaiveDate>,
    pub consent_withdrawn: bool,
}

/// Whether an advance decision to refuse treatment is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AdrtHeld {
    Yes,
    No,
    Unknown,
    /// Thinking Ahead has not been filled in.
    NotRecorded,
}

/// An advance decision to refuse treatment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Adrt {
    pub held: AdrtHeld,
    pub location: Option<String>,
    /// What treatment it refuses, and in what circumstances, as recorded.
    #[serde(default)]
    pub refuses: Option<String>,
    #[serde(default)]
    pub circumstances: Option<String>,
}

/// A person who holds a lasting power of attorney for health and welfare.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attorney {
    pub name: String,
    pub relationship: String,
    pub phone: String,
    /// Whether their LPA covers life-sustaining treatment (`not-recorded` when nobody said).
    #[serde(default = "not_recorded")]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub covers_life_sustaining_treatment: Recorded,
    /// The Office of the Public Guardian's registration reference, where recorded.
    #[serde(default)]
    pub opg_reference: Option<String>,
}

/// Yes, no or unknown as recorded, or not recorded at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Recorded {
    Yes,
    No,
    Unknown,
    NotRecorded,
}

fn not_recorded() -> Recorded {
    Recorded::NotRecorded
}

/// Someone who holds parental responsibility for a child.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ParentalResponsibility {
    pub name: String,
    pub relationship: String,
    pub phone: String,
}

/// The legal facts around a decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LegalFacts {
    pub adrt: Adrt,
    pub lpa_health_and_welfare: Vec<Attorney>,
    /// For a child: who holds parental responsibility (from Contacts).
    #[serde(default)]
    pub parental_responsibility: Vec<ParentalResponsibility>,
    pub legal_welfare_proxy: Option<String>,
    pub legal_proxy_participation: Option<String>,
    pub capacity: Option<Capacity>,
    pub capacity_assessment: Option<String>,
    pub involvement: Vec<Involvement>,
    pub involvement_detail: Option<String>,
    pub sources: Vec<Source>,
}

/// The two ends of ReSPECT's scale of what matters most, in the form's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScaleEnds {
    /// What 0 means.
    pub at_0: String,
    /// What 10 means.
    pub at_10: String,
}

impl Default for ScaleEnds {
    fn default() -> Self {
        Self {
            at_0: "Living as long as possible matters most to me".to_owned(),
            at_10: "Quality of life and comfort matter most to me".to_owned(),
        }
    }
}

/// ReSPECT section 3: what matters to the person in an emergency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WhatMattersInEmergencyView {
    /// 0 to 10, between the ends `scaleEnds` names (never a bare number to guess the
    /// direction of).
    pub priority_scale: Option<u8>,
    /// The scale's two ends in the form's words.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub scale_ends: ScaleEnds,
    pub most_value: Option<String>,
    pub most_fear_or_avoid: Option<String>,
    pub sources: Vec<Source>,
}

/// Wishes and preferences from Thinking Ahead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Wishes {
    pub preferred_place_of_care: Option<String>,
    pub preferred_place_of_death: Option<String>,
    pub religious_and_cultural_needs: Option<String>,
    pub sources: Vec<Source>,
}

/// One communication need and what helps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommunicationNeedView {
    pub kind: CommunicationNeedKind,
    pub detail: String,
}

/// Access, communication and hazards: what to know before the door opens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Alerts {
    pub access_to_home: Option<String>,
    pub key_safe: bool,
    pub communication: Vec<CommunicationNeedView>,
    pub how_best_to_communicate: Option<String>,
    pub hazards: Vec<String>,
    pub interpreter_needed: bool,
    pub main_language: Option<String>,
    pub sources: Vec<Source>,
}

/// How the first contact was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum FirstContactRule {
    /// The person in Contacts marked "contact first".
    ContactFirstFlag,
    /// The Emergency Treatment Plan's primary emergency contact.
    EtpPrimaryEmergencyContact,
}

/// The person to call first, and why them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FirstContact {
    pub name: String,
    pub relationship: String,
    pub phone: String,
    pub chosen_by: FirstContactRule,
}

/// A person in the person's life.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonalContactView {
    pub name: String,
    pub relationship: String,
    pub phone: String,
    pub next_of_kin: bool,
    pub carer: bool,
    pub lpa_health_and_welfare: YesNoUnknown,
    pub contact_first: bool,
}

/// A professional or team to call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProfessionalContactView {
    pub name: String,
    pub role: String,
    pub ods_code: Option<String>,
    pub phone: String,
}

/// Who to call: first contact by a stated rule (never list order), then everyone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContactsView {
    /// The contact-first person, else the ETP's primary emergency contact, else none.
    pub first: Option<FirstContact>,
    pub personal: Vec<PersonalContactView>,
    pub professional: Vec<ProfessionalContactView>,
    pub sources: Vec<Source>,
}

/// A condition, with its SNOMED CT code where known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConditionView {
    pub name: String,
    pub snomed_code: Option<String>,
}

/// Whether allergies were recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AllergyStatus {
    Recorded,
    NoKnownAllergies,
    /// Nobody has recorded allergies, or their absence: ask.
    NotRecorded,
}

/// The clinical background a crew needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClinicalView {
    pub conditions: Vec<ConditionView>,
    pub allergy_status: AllergyStatus,
    pub allergies: Vec<String>,
    /// What London's Universal Care Plan shows beside the ReSPECT form (absent when not
    /// recorded).
    #[serde(default)]
    pub prognosis: Option<crate::Prognosis>,
    #[serde(default)]
    pub death_expected: Option<bool>,
    #[serde(default)]
    pub death_verified_by: Option<String>,
    #[serde(default)]
    pub current_medicines: Vec<MedicineView>,
    #[serde(default)]
    pub weight: Option<crate::Weight>,
    #[serde(default)]
    pub dols_in_place: Option<YesNoUnknown>,
    #[serde(default)]
    pub safeguarding_concerns: Option<String>,
    #[serde(default)]
    pub lives_alone: Option<YesNoUnknown>,
    pub sources: Vec<Source>,
}

/// A "just in case" medicine at home.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MedicineView {
    pub name: String,
    pub dose_and_route: Option<String>,
    pub indication: Option<String>,
}

/// Anticipatory medicines and where they are kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MedicinesView {
    pub items: Vec<MedicineView>,
    pub location: Option<String>,
    pub sources: Vec<Source>,
}

/// A short guidance text with where it comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Guidance {
    pub text: String,
    pub source: Source,
}

/// What a crew needs first, precomputed per plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmergencySummary {
    pub plan_id: Uuid,
    pub nhs_number: crate::NhsNumber,
    pub status: PlanStatus,
    /// The plan version this summary shows.
    pub plan_version: i64,
    /// When anything in the plan last changed (any section, by anyone — the person editing a
    /// phone number too): NOT the date of the CPR decision, which is `cpr.recordedAt`.
    pub plan_last_changed_at: DateTime<Utc>,
    pub family_name: String,
    pub given_name: String,
    pub preferred_name: Option<String>,
    pub birth_date: NaiveDate,
    /// Full years on `currency.asOf`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub age_years: i32,
    /// Under 18 on `currency.asOf`: a child, whose plan follows the form's rules for children.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub child: bool,
    pub postcode: String,
    /// ReSPECT section 2, the shared understanding of the person's health and current
    /// condition, in the clinician's words (the diagnoses are in `clinical.conditions`).
    #[serde(default)]
    pub shared_understanding: Option<TextBlock>,
    /// The person's own What Matters form, in their own words (`sources` says who wrote it:
    /// the person, or a professional for them), distinct from section 3 of the ReSPECT form.
    #[serde(default)]
    pub in_their_own_words: Option<TextBlock>,
    /// Present when the plan is withdrawn, the person has died, or it was voided: then there
    /// is no CPR decision or treatment block to act on.
    pub not_current: Option<NotCurrent>,
    /// Set while the person's consent to share is withdrawn: the plan is served only to them
    /// and to clinicians of the organisations caring for them (others get a notice), and the
    /// recommendations stand.
    #[serde(default)]
    pub consent_withdrawn: Option<crate::notice::ConsentWithdrawal>,
    /// Present whenever the plan is active; its status is never empty.
    pub cpr: Option<CprDecision>,
    /// The Emergency Treatment Plan's recommendations, for an active plan that has one.
    pub treatment: Option<Treatment>,
    pub currency: Currency,
    /// What the reader must not miss: not active, review overdue, no longer valid.
    pub warnings: Vec<Warning>,
    pub legal: LegalFacts,
    pub what_matters_in_emergency: Option<WhatMattersInEmergencyView>,
    pub wishes: Wishes,
    pub alerts: Alerts,
    pub contacts: ContactsView,
    pub clinical: ClinicalView,
    pub anticipatory_medicines: MedicinesView,
    pub sickle_cell_ambulance_guidance: Option<Guidance>,
    pub mental_health_crisis_what_helps: Option<Guidance>,
    /// Where the full plan is.
    pub plan_link: String,
}

/// What a reader who does not attend reads of how to get into the home.
pub const ACCESS_WITHHELD: &str =
    "Recorded: shown to those who attend (ambulance crews and out-of-hours GPs) and to the person.";

/// A stored summary's way into the home (`alerts.accessToHome`), replaced by
/// [`ACCESS_WITHHELD`], for readers who do not attend.
pub fn withhold_way_in(summary: &mut serde_json::Value) {
    if let Some(v) = summary.pointer_mut("/alerts/accessToHome") {
        if v.is_string() {
            *v = serde_json::Value::String(ACCESS_WITHHELD.to_owned());
        }
    }
}

/// Any document (a plan, a section, a history entry, a JSON Patch) with every way into the home
/// replaced by [`ACCESS_WITHHELD`]: each `accessToHome` text, and each patch operation whose
/// `path` ends in `/accessToHome`.
pub fn withhold_way_in_everywhere(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let patches_it = map
                .get("path")
                .and_then(Value::as_str)
                .is_some_and(|p| p.ends_with("/accessToHome"));
            for (key, v) in map.iter_mut() {
                if (key == "accessToHome" || (patches_it && key == "value")) && v.is_string() {
                    *v = Value::String(ACCESS_WITHHELD.to_owned());
                } else {
                    withhold_way_in_everywhere(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(withhold_way_in_everywhere),
        _ => {}
    }
}

/// ReSPECT v3's words for the focus of care.
#[must_use]
pub fn focus_words(focus: ClinicalFocus) -> &'static str {
    match focus {
        ClinicalFocus::LifeSustainingTreatment => "Prioritise extending life",
        ClinicalFocus::Balanced => "Balance extending life with comfort and valued outcomes",
        ClinicalFocus::SymptomControl => "Prioritise comfort",
    }
}

/// A block of text a crew reads, and whose words it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TextBlock {
    pub text: String,
    pub sources: Vec<Source>,
}

fn text(t: Option<&impl ToString>) -> Option<String> {
    t.map(ToString::to_string)
}

impl EmergencySummary {
    /// The summary of a plan, judged as of `today` (UTC). `None` before the plan has Personal
    /// Information (never, for a plan that exists).
    #[must_use]
    #[allow(clippy::too_many_lines)] // one block after another, in the order a crew reads them
    pub fn of(id: Uuid, plan: &CarePlan, today: NaiveDate) -> Option<Self> {
        let state = |s| plan.section(s);
        let source = |s| state(s).map(|st| Source::of(s, st));
        let sources = |list: &[PlanSection]| -> Vec<Source> {
            list.iter().filter_map(|s| source(*s)).collect()
        };
        let Some(SectionContent::PersonalInformation(pi)) =
            state(PlanSection::PersonalInformation).map(|s| &s.content)
        else {
            return None;
        };
        let etp_state = state(PlanSection::EmergencyTreatmentPlan);
        let etp = match etp_state.map(|s| &s.content) {
            Some(SectionContent::EmergencyTreatmentPlan(etp)) => Some(etp),
            _ => None,
        };
        let active = plan.status == PlanStatus::Active;

        let cpr = active.then(|| CprDecision {
            said_no_longer_valid: standing::no_longer_valid(plan, etp, etp_state),
            previous_decision: standing::previous_decision(plan, today),
            changed_after_signing: standing::unsigned_change(plan, etp),
            ..cpr_decision(etp, etp_state)
        });
        let treatment = match (active, etp) {
            (true, Some(e)) => Some(Treatment {
                clinical_focus: e.clinical_focus,
                clinical_focus_words: focus_words(e.clinical_focus).to_owned(),
                interventions: e
                    .interventions
                    .iter()
                    .map(|i| InterventionView {
                        intervention: i.intervention.to_string(),
                        recommended: i.recommended,
                        reason: text(i.reason.as_ref()),
                    })
                    .collect(),
                sources: sources(&[PlanSection::EmergencyTreatmentPlan]),
            }),
            _ => None,
        };
        let not_current = plan
            .status_change
            .as_ref()
            .filter(|_| !active)
            .map(|c| NotCurrent {
                status: plan.status,
                since: c.at,
                by: c.by.clone(),
                reason: text(c.reason.as_ref()),
                date_of_death: c.date_of_death,
                consent_withdrawn: c.consent_withdrawn,
            });

        let last_review = match (&plan.last_review, etp.and_then(|e| e.review.as_ref())) {
            (Some(r), etp_review) => Some(LastReview {
                source: ReviewSource::PlanReview,
                reviewed_at: Some(r.reviewed_at),
                reviewed_by: Some(
                    r.reviewed_by
                        .name
                        .clone()
                        .unwrap_or_else(|| r.reviewed_by.actor.clone()),
                ),
                reviewed_by_organisation: r.reviewed_by.organisation.clone(),
                still_valid: r
                    .still_valid
                    .or_else(|| etp_review.and_then(|e| e.still_valid)),
            }),
            (None, Some(e)) if e.reviewed_by.is_some() || e.still_valid.is_some() => {
                Some(LastReview {
                    source: ReviewSource::EmergencyTreatmentPlan,
                    reviewed_at: None,
                    reviewed_by: text(e.reviewed_by.as_ref()),
                    reviewed_by_organisation: None,
                    still_valid: e.still_valid,
                })
            }
            _ => None,
        };
        let review_due = standing::review_due(plan, etp, etp_state);

        let thinking = match state(PlanSection::ThinkingAhead).map(|s| &s.content) {
            Some(SectionContent::ThinkingAhead(t)) => Some(t),
            _ => None,
        };
        let contacts = match state(PlanSection::Contacts).map(|s| &s.content) {
            Some(SectionContent::Contacts(c)) => Some(c),
            _ => None,
        };
        let legal = LegalFacts {
            adrt: thinking.map_or(
                Adrt {
                    held: AdrtHeld::NotRecorded,
                    location: None,
                    refuses: None,
                    circumstances: None,
                },
                |t| Adrt {
                    held: match t.advance_decision_to_refuse_treatment.held {
                        YesNoUnknown::Yes => AdrtHeld::Yes,
                        YesNoUnknown::No => AdrtHeld::No,
                        YesNoUnknown::Unknown => AdrtHeld::Unknown,
                    },
                    location: text(t.advance_decision_to_refuse_treatment.location.as_ref()),
                    refuses: text(t.advance_decision_to_refuse_treatment.refuses.as_ref()),
                    circumstances: text(
                        t.advance_decision_to_refuse_treatment
                            .circumstances
                            .as_ref(),
                    ),
                },
            ),
            lpa_health_and_welfare: contacts
                .map(|c| {
                    c.personal
                        .iter()
                        .filter(|p| p.lpa_health_and_welfare == YesNoUnknown::Yes)
                        .map(|p| Attorney {
                            name: p.name.to_string(),
                            relationship: p.relationship.to_string(),
                            phone: p.phone.to_string(),
                            covers_life_sustaining_treatment: match p
                                .lpa_covers_life_sustaining_treatment
                            {
                                Some(YesNoUnknown::Yes) => Recorded::Yes,
                                Some(YesNoUnknown::No) => Recorded::No,
                                Some(YesNoUnknown::Unknown) => Recorded::Unknown,
                                None => Recorded::NotRecorded,
                            },
                            opg_reference: p
                                .lpa_registration_reference
                                .as_ref()
                                .map(ToString::to_string),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            parental_responsibility: contacts
                .map(|c| {
                    c.personal
                        .iter()
                        .filter(|p| p.parental_responsibility)
                        .map(|p| ParentalResponsibility {
                            name: p.name.to_string(),
                            relationship: p.relationship.to_string(),
                            phone: p.phone.to_string(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            legal_welfare_proxy: etp.and_then(|e| text(e.legal_welfare_proxy.as_ref())),
            legal_proxy_participation: etp.and_then(|e| text(e.legal_proxy_participation.as_ref())),
            capacity: etp.map(|e| e.capacity),
            capacity_assessment: etp.and_then(|e| text(e.capacity_assessment.as_ref())),
            involvement: etp.map(|e| e.involvement.clone()).unwrap_or_default(),
            involvement_detail: etp.and_then(|e| text(e.involvement_detail.as_ref())),
            sources: sources(&[
                PlanSection::ThinkingAhead,
                PlanSection::Contacts,
                PlanSection::EmergencyTreatmentPlan,
            ]),
        };
        let what_matters_in_emergency =
            etp.and_then(|e| e.what_matters.as_ref())
                .map(|w| WhatMattersInEmergencyView {
                    priority_scale: w.priority_scale,
                    scale_ends: ScaleEnds::default(),
                    most_value: text(w.most_value.as_ref()),
                    most_fear_or_avoid: text(w.most_fear_or_avoid.as_ref()),
                    sources: sources(&[PlanSection::EmergencyTreatmentPlan]),
                });
        let wishes = Wishes {
            preferred_place_of_care: thinking
                .and_then(|t| text(t.preferred_place_of_care.as_ref())),
            preferred_place_of_death: thinking
                .and_then(|t| text(t.preferred_place_of_death.as_ref())),
            religious_and_cultural_needs: thinking
                .and_then(|t| text(t.religious_and_cultural_needs.as_ref())),
            sources: sources(&[PlanSection::ThinkingAhead]),
        };

        let mut alerts = Alerts {
            interpreter_needed: pi.interpreter_needed,
            main_language: text(pi.main_language.as_ref()),
            sources: sources(&[
                PlanSection::CommunicationAndAccessibility,
                PlanSection::PersonalInformation,
            ]),
            ..Alerts::default()
        };
        if let Some(SectionContent::CommunicationAndAccessibility(c)) =
            state(PlanSection::CommunicationAndAccessibility).map(|s| &s.content)
        {
            alerts.access_to_home = text(c.access_to_home.as_ref());
            alerts.key_safe = c.key_safe;
            alerts.communication = c
                .needs
                .iter()
                .map(|n| CommunicationNeedView {
                    kind: n.kind,
                    detail: n.detail.to_string(),
                })
                .collect();
            alerts.how_best_to_communicate = text(c.how_best_to_communicate.as_ref());
            alerts.hazards = c.hazards.iter().map(ToString::to_string).collect();
        }

        let first = contacts
            .and_then(|c| c.personal.iter().find(|p| p.contact_first))
            .map(|p| FirstContact {
                name: p.name.to_string(),
                relationship: p.relationship.to_string(),
                phone: p.phone.to_string(),
                chosen_by: FirstContactRule::ContactFirstFlag,
            })
            .or_else(|| {
                etp.and_then(|e| e.emergency_contacts.iter().find(|c| c.primary))
                    .map(|c| FirstContact {
                        name: c.name.to_string(),
                        relationship: c.role_or_relationship.to_string(),
                        phone: c.phone.to_string(),
                        chosen_by: FirstContactRule::EtpPrimaryEmergencyContact,
                    })
            });
        let contacts = ContactsView {
            first,
            personal: contacts
                .map(|c| {
                    c.personal
                        .iter()
                        .map(|p| PersonalContactView {
                            name: p.name.to_string(),
                            relationship: p.relationship.to_string(),
                            phone: p.phone.to_string(),
                            next_of_kin: p.next_of_kin,
                            carer: p.carer,
                            lpa_health_and_welfare: p.lpa_health_and_welfare,
                            contact_first: p.contact_first,
                        })
                        .collect()
                })
                .unwrap_or_default(),
            professional: contacts
                .map(|c| {
                    c.professional
                        .iter()
                        .map(|p| ProfessionalContactView {
                            name: p.name.to_string(),
                            role: p.role.to_string(),
                            ods_code: text(p.ods_code.as_ref()),
                            phone: p.phone.to_string(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            sources: sources(&[PlanSection::Contacts, PlanSection::EmergencyTreatmentPlan]),
        };

        let clinical = match state(PlanSection::ClinicalBackground).map(|s| &s.content) {
            Some(SectionContent::ClinicalBackground(c)) => ClinicalView {
                conditions: c
                    .conditions
                    .iter()
                    .map(|c| ConditionView {
                        name: c.name.to_string(),
                        snomed_code: text(c.snomed_code.as_ref()),
                    })
                    .collect(),
                allergy_status: if !c.allergies.is_empty() {
                    AllergyStatus::Recorded
                } else if c.no_known_allergies {
                    AllergyStatus::NoKnownAllergies
                } else {
                    AllergyStatus::NotRecorded
                },
                allergies: c.allergies.iter().map(ToString::to_string).collect(),
                prognosis: c.prognosis,
                death_expected: c.death_expected,
                death_verified_by: text(c.death_verified_by.as_ref()),
                current_medicines: c
                    .current_medicines
                    .iter()
                    .map(|m| MedicineView {
                        name: m.name.to_string(),
                        dose_and_route: text(m.dose_and_route.as_ref()),
                        indication: None,
                    })
                    .collect(),
                weight: c.weight.clone(),
                dols_in_place: c.dols_in_place,
                safeguarding_concerns: text(c.safeguarding_concerns.as_ref()),
                lives_alone: c.lives_alone,
                sources: sources(&[PlanSection::ClinicalBackground]),
            },
            _ => ClinicalView {
                conditions: Vec::new(),
                allergy_status: AllergyStatus::NotRecorded,
                allergies: Vec::new(),
                prognosis: None,
                death_expected: None,
                death_verified_by: None,
                current_medicines: Vec::new(),
                weight: None,
                dols_in_place: None,
                safeguarding_concerns: None,
                lives_alone: None,
                sources: Vec::new(),
            },
        };
        let anticipatory_medicines =
            match state(PlanSection::AnticipatoryMedicines).map(|s| &s.content) {
                Some(SectionContent::AnticipatoryMedicines(m)) => MedicinesView {
                    items: m
                        .medicines
                        .iter()
                        .map(|m| MedicineView {
                            name: m.name.to_string(),
                            dose_and_route: text(m.dose_and_route.as_ref()),
                            indication: text(m.indication.as_ref()),
                        })
                        .collect(),
                    location: text(m.location.as_ref()),
                    sources: sources(&[PlanSection::AnticipatoryMedicines]),
                },
                _ => MedicinesView {
                    items: Vec::new(),
                    location: None,
                    sources: Vec::new(),
                },
            };
        let guidance = |section, text: Option<String>| {
            Some(Guidance {
                text: text?,
                source: source(section)?,
            })
        };
        let summary = Self {
            plan_id: id,
            nhs_number: plan.nhs_number,
            status: plan.status,
            plan_version: plan.version,
            plan_last_changed_at: plan.updated_at,
            family_name: pi.family_name.to_string(),
            given_name: pi.given_name.to_string(),
            preferred_name: text(pi.preferred_name.as_ref()),
            birth_date: pi.birth_date.date(),
            age_years: 0,
            child: false,
            postcode: pi.address.postcode.to_string(),
            shared_understanding: etp.filter(|_| active).map(|e| TextBlock {
                text: e.shared_understanding.to_string(),
                sources: sources(&[PlanSection::EmergencyTreatmentPlan]),
            }),
            in_their_own_words: match state(PlanSection::WhatMatters).map(|s| &s.content) {
                Some(SectionContent::WhatMatters(w)) => Some(TextBlock {
                    text: w.in_their_own_words.to_string(),
                    sources: sources(&[PlanSection::WhatMatters]),
                }),
                _ => None,
            },
            not_current,
            consent_withdrawn: crate::notice::ConsentWithdrawal::of(plan),
            cpr,
            treatment,
            currency: Currency {
                last_review,
                review_due,
                overdue: false,
                as_of: today,
            },
            warnings: Vec::new(),
            legal,
            what_matters_in_emergency,
            wishes,
            alerts,
            contacts,
            clinical,
            anticipatory_medicines,
            sickle_cell_ambulance_guidance: guidance(
                PlanSection::SickleCellPlan,
                match state(PlanSection::SickleCellPlan).map(|s| &s.content) {
                    Some(SectionContent::SickleCellPlan(s)) => {
                        Some(s.ambulance_guidance.to_string())
                    }
                    _ => None,
                },
            ),
            mental_health_crisis_what_helps: guidance(
                PlanSection::MentalHealthCrisisPlan,
                match state(PlanSection::MentalHealthCrisisPlan).map(|s| &s.content) {
                    Some(SectionContent::MentalHealthCrisisPlan(m)) => {
                        Some(m.what_helps.to_string())
                    }
                    _ => None,
                },
            ),
            plan_link: format!("/v1/care-plans/{id}"),
        };
        Some(summary.as_of(today))
    }

    /// The same summary as it stands at a later version of the plan whose change did not reach
    /// it: the read model rewrites a summary only when its content changes, and keeps the
    /// plan's version and time of change in its row.
    #[must_use]
    pub fn at_version(mut self, version: i64, last_changed_at: DateTime<Utc>) -> Self {
        self.plan_version = version;
        self.plan_last_changed_at = last_changed_at;
        self
    }

    /// The same summary judged on another day: whether the review is overdue, and the
    /// warnings, depend on the day it is read.
    #[must_use]
    pub fn as_of(mut self, today: NaiveDate) -> Self {
        self.currency.as_of = today;
        self.age_years = crate::etp_rules::age_on(self.birth_date, today);
        self.child = self.age_years < 18;
        self.currency.overdue = self.currency.review_due.is_some_and(|due| due < today);
        let adrt = AdrtNote {
            held: self.legal.adrt.held == AdrtHeld::Yes,
            location: self.legal.adrt.location.as_deref(),
            refuses: self.legal.adrt.refuses.as_deref(),
            circumstances: self.legal.adrt.circumstances.as_deref(),
        };
        if let Some(cpr) = self.cpr.as_mut() {
            // A stored summary read long after: the trace is told for a year, no longer.
            let period = chrono::Days::new(standing::TRACE_PERIOD_DAYS.unsigned_abs());
            cpr.previous_decision = cpr
                .previous_decision
                .take()
                .filter(|p| today <= p.until.date_naive() + period);
            let facts = StandingFacts {
                no_longer_valid: cpr.said_no_longer_valid.as_ref(),
                unsigned_change: cpr.changed_after_signing.as_ref(),
                awaiting_countersignature: !cpr.signatures.is_empty()
                    && !cpr.signatures.iter().any(|s| s.senior_responsible),
                review_due: self.currency.review_due,
            };
            cpr.standing = standing::standing(facts, today);
            cpr.headline = standing::headline(
                cpr.status,
                cpr.standing,
                facts,
                adrt,
                cpr.previous_decision.as_ref(),
            );
        }
        self.warnings = self.compute_warnings();
        self
    }

    /// The summary for a reader who does not attend: how to get into the home (a key safe's
    /// code) is replaced by [`ACCESS_WITHHELD`]; whether there is a key safe stays.
    #[must_use]
    pub fn without_way_in(mut self) -> Self {
        if self.alerts.access_to_home.is_some() {
            self.alerts.access_to_home = Some(ACCESS_WITHHELD.to_owned());
        }
        self
    }

    /// The notice for a reader who could have read this plan while it was active, once it has
    /// ended; `None` while it is active.
    #[must_use]
    pub fn ended_notice(&self) -> Option<crate::notice::EndedNotice> {
        let n = self.not_current.as_ref()?;
        crate::notice::EndedNotice::of(n.status, n.consent_withdrawn, n.since.date_naive())
    }

    fn compute_warnings(&self) -> Vec<Warning> {
        let mut warnings = Vec::new();
        let warn = |code: &str, message: String| Warning {
            code: code.to_owned(),
            message,
        };
        if let Some(n) = &self.not_current {
            let what = match n.status {
                PlanStatus::Withdrawn if n.consent_withdrawn => {
                    "the person withdrew their consent to share it".to_owned()
                }
                PlanStatus::Withdrawn => "it was withdrawn".to_owned(),
                PlanStatus::Deceased => "the person has died".to_owned(),
                PlanStatus::Voided => "it was voided as made in error".to_owned(),
                PlanStatus::Active => "it is not active".to_owned(),
            };
            warnings.push(warn(
                "plan-not-active",
                format!(
                    "Do not act on this plan: {what} ({}). It carries no CPR decision or treatment recommendations.",
                    n.since.date_naive()
                ),
            ));
        }
        if let Some(w) = &self.consent_withdrawn {
            warnings.push(warn("consent-withdrawn", w.message.clone()));
        }
        // For a plan that is not active the review's word is kept in `currency`, and the
        // plan-not-active warning leads.
        if let Some(c) = self
            .cpr
            .as_ref()
            .filter(|c| c.said_no_longer_valid.is_some())
        {
            warnings.push(warn("not-still-valid", c.headline.clone()));
        }
        if let Some(p) = self.cpr.as_ref().and_then(|c| c.previous_decision.as_ref()) {
            warnings.push(warn("decision-changed", p.message.clone()));
        }
        if self.currency.overdue {
            if let Some(due) = self.currency.review_due {
                warnings.push(warn(
                    "review-overdue",
                    format!(
                        "Review overdue since {}: the recommendations stand until reviewed.",
                        due.format("%-d %B %Y")
                    ),
                ));
            }
        }
        if let Some(u) = self
            .cpr
            .as_ref()
            .and_then(|c| c.changed_after_signing.as_ref())
        {
            warnings.push(warn(
                "changed-after-signing",
                format!(
                    "The decision was changed after it was signed, by {} on {}, and nobody has signed it since: the signatures on record are on an earlier version.",
                    u.by.name.as_deref().unwrap_or(&u.by.actor),
                    crate::text::uk_clock(u.at)
                ),
            ));
        }
        if self.cpr.as_ref().is_some_and(|c| {
            !c.signatures.is_empty() && !c.signatures.iter().any(|s| s.senior_responsible)
        }) {
            warnings.push(warn(
                "no-senior-signature",
                "No senior responsible clinician has signed the Emergency Treatment Plan: it awaits their countersignature."
                    .to_owned(),
            ));
        }
        if self.clinical.death_expected == Some(true)
            && self
                .cpr
                .as_ref()
                .is_some_and(|c| c.status == CprStatus::ForCpr)
        {
            warnings.push(warn(
                "death-expected-for-cpr",
                "Death is recorded as expected, but the decision is FOR CPR: check with those caring for the person."
                    .to_owned(),
            ));
        }
        if self.child && self.cpr.is_some() && self.legal.parental_responsibility.is_empty() {
            warnings.push(warn(
                "no-parental-responsibility",
                format!(
                    "A child ({} years old): nobody holding parental responsibility is recorded in the plan's contacts.",
                    self.age_years
                ),
            ));
        }
        let mut transcribers: Vec<&str> = Vec::new();
        for by in self
            .cpr
            .iter()
            .flat_map(|c| c.signatures.iter())
            .filter_map(|s| s.transcribed_by.as_deref())
        {
            if !transcribers.contains(&by) {
                transcribers.push(by);
            }
        }
        if !transcribers.is_empty() {
            warnings.push(warn(
                "transcribed-signatures",
                format!(
                    "Signatures transcribed from a paper form by {}: the paper form holds the signatures themselves.",
                    transcribers.join(" and ")
                ),
            ));
        }
        warnings
    }
}

fn cpr_decision(etp: Option<&EmergencyTreatmentPlan>, state: Option<&SectionState>) -> CprDecision {
    let status = etp.map_or(CprStatus::NoDecisionRecorded, |e| {
        e.cpr_recommendation.status()
    });
    CprDecision {
        headline: String::new(),
        standing: Standing::Current,
        said_no_longer_valid: None,
        previous_decision: None,
        status,
        coding: status.snomed().map(|(code, display)| Coding {
            system: SNOMED.to_owned(),
            code: code.to_owned(),
            display: display.to_owned(),
        }),
        modified_cpr_details: etp
            .filter(|_| status == CprStatus::ModifiedCpr)
            .and_then(|e| text(e.modified_cpr_details.as_ref())),
        recorded_at: etp.and(state).map(|s| s.changed_at),
        recorded_by: etp.and(state).map(|s| s.changed_by.clone()),
        signatures: etp
            .map(|e| {
                crate::signing::current_signatures(e)
                    .into_iter()
                    .map(|s| SignatureView {
                        name: s.name.to_string(),
                        role: s.role.to_string(),
                        registration_number: s.registration_number.to_string(),
                        senior_responsible: s.senior_responsible,
                        signed_at: s.signed_at,
                        method: s.method.unwrap_or(crate::SignatureMethod::Electronic),
                        transcribed_by: s.transcribed_by.as_ref().map(|a| {
                            let name = a.name.clone().unwrap_or_else(|| a.actor.clone());
                            match &a.organisation {
                                Some(org) => format!("{name} ({org})"),
                                None => name,
                            }
                        }),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        decision_digest: etp.map(crate::signing::decision_digest),
        changed_after_signing: None,
    }
}
