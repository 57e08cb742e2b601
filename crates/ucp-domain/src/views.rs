//! The read models' shapes: what the API serves, computed from a plan's state alone, so the
//! live projection, a rebuild and a read "as at" an earlier version all give the same document.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::{Author, CarePlan, PlanSection, PlanStatus, ReviewState, SectionContent, StatusChange};

/// The plan's entity tag: any change to the plan changes it.
#[must_use]
pub fn plan_etag(version: i64) -> String {
    format!("\"plan.{version}\"")
}

/// A section's entity tag: changes only when that section changes.
#[must_use]
pub fn section_etag(section: PlanSection, version: i64) -> String {
    format!("\"{}.{version}\"", section.name())
}

/// One section as served.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SectionView {
    pub section: PlanSection,
    /// The section's content; its schema is the one named by `section`.
    pub content: SectionContent,
    /// Send it back in `If-Match` to replace this section.
    pub etag: String,
    /// The plan version at which this section last changed.
    pub version: i64,
    pub changed_at: DateTime<Utc>,
    pub changed_by: Author,
}

/// The last review, as served.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewView {
    pub reviewed_at: DateTime<Utc>,
    pub reviewed_by: Author,
    pub next_review_date: NaiveDate,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub note: Option<crate::LongText>,
}

/// Why and when the plan stopped being active.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusChangeView {
    pub at: DateTime<Utc>,
    pub by: Author,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub reason: Option<crate::LongText>,
    pub date_of_death: Option<NaiveDate>,
}

/// A whole care plan, as served.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanView {
    pub id: Uuid,
    pub nhs_number: crate::NhsNumber,
    pub status: PlanStatus,
    pub version: i64,
    pub etag: String,
    pub created_at: DateTime<Utc>,
    pub created_by: Author,
    pub updated_at: DateTime<Utc>,
    /// Keyed by section name (`what-matters`, …); sections never filled are absent.
    pub sections: BTreeMap<String, SectionView>,
    pub last_review: Option<ReviewView>,
    pub status_change: Option<StatusChangeView>,
}

impl PlanView {
    #[must_use]
    pub fn of(id: Uuid, plan: &CarePlan) -> Self {
        let sections = plan
            .sections
            .iter()
            .map(|(section, state)| {
                (
                    section.name().to_owned(),
                    SectionView {
                        section: *section,
                        content: state.content.clone(),
                        etag: section_etag(*section, state.version),
                        version: state.version,
                        changed_at: state.changed_at,
                        changed_by: state.changed_by.clone(),
                    },
                )
            })
            .collect();
        Self {
            id,
            nhs_number: plan.nhs_number,
            status: plan.status,
            version: plan.version,
            etag: plan_etag(plan.version),
            created_at: plan.created_at,
            created_by: plan.created_by.clone(),
            updated_at: plan.updated_at,
            sections,
            last_review: plan.last_review.as_ref().map(|r: &ReviewState| ReviewView {
                reviewed_at: r.reviewed_at,
                reviewed_by: r.reviewed_by.clone(),
                next_review_date: r.next_review_date,
                note: r.note.clone(),
            }),
            status_change: plan
                .status_change
                .as_ref()
                .map(|c: &StatusChange| StatusChangeView {
                    at: c.at,
                    by: c.by.clone(),
                    reason: c.reason.clone(),
                    date_of_death: c.date_of_death,
                }),
        }
    }
}

/// The CPR decision as a crew reads it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CprSummary {
    pub recommendation: crate::CprRecommendation,
    pub snomed_code: String,
    pub modified_cpr_details: Option<String>,
}

/// Access, communication and hazards: what to know before the door opens.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Alerts {
    pub access_to_home: Option<String>,
    pub key_safe: bool,
    pub communication: Vec<String>,
    pub hazards: Vec<String>,
    pub interpreter_needed: bool,
    pub main_language: Option<String>,
}

/// The person to call first.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FirstContact {
    pub name: String,
    pub relationship: String,
    pub phone: String,
}

/// What a crew needs first, precomputed per plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmergencySummary {
    pub plan_id: Uuid,
    pub nhs_number: crate::NhsNumber,
    pub status: PlanStatus,
    pub plan_version: i64,
    pub last_changed_at: DateTime<Utc>,
    pub review_due: Option<NaiveDate>,
    pub family_name: String,
    pub given_name: String,
    pub preferred_name: Option<String>,
    pub birth_date: NaiveDate,
    pub postcode: String,
    /// `None` when no Emergency Treatment Plan has been recorded.
    pub cpr: Option<CprSummary>,
    pub clinical_focus: Option<crate::ClinicalFocus>,
    pub interventions: Vec<String>,
    pub alerts: Alerts,
    pub first_contact: Option<FirstContact>,
    pub preferred_place_of_care: Option<String>,
    pub preferred_place_of_death: Option<String>,
    pub conditions: Vec<String>,
    pub allergies: Vec<String>,
    pub anticipatory_medicines: Vec<String>,
    pub anticipatory_medicines_location: Option<String>,
    pub sickle_cell_ambulance_guidance: Option<String>,
    pub mental_health_crisis_what_helps: Option<String>,
    /// Where the full plan is.
    pub plan_link: String,
}

impl EmergencySummary {
    #[must_use]
    #[allow(clippy::too_many_lines)] // one field after another, in the order a crew reads them
    pub fn of(id: Uuid, plan: &CarePlan) -> Option<Self> {
        let get = |s| plan.section(s).map(|st| &st.content);
        let Some(SectionContent::PersonalInformation(pi)) = get(PlanSection::PersonalInformation)
        else {
            return None;
        };
        let etp = match get(PlanSection::EmergencyTreatmentPlan) {
            Some(SectionContent::EmergencyTreatmentPlan(etp)) => Some(etp),
            _ => None,
        };
        let mut alerts = Alerts {
            interpreter_needed: pi.interpreter_needed,
            main_language: pi.main_language.as_ref().map(ToString::to_string),
            ..Alerts::default()
        };
        if let Some(SectionContent::CommunicationAndAccessibility(c)) =
            get(PlanSection::CommunicationAndAccessibility)
        {
            alerts.access_to_home = c.access_to_home.as_ref().map(ToString::to_string);
            alerts.key_safe = c.key_safe;
            alerts.communication = c.needs.iter().map(|n| n.detail.to_string()).collect();
            if let Some(how) = &c.how_best_to_communicate {
                alerts.communication.push(how.to_string());
            }
            alerts.hazards = c.hazards.iter().map(ToString::to_string).collect();
        }
        let first_contact = match get(PlanSection::Contacts) {
            Some(SectionContent::Contacts(c)) => c
                .personal
                .iter()
                .find(|p| p.contact_first)
                .or_else(|| c.personal.first())
                .map(|p| FirstContact {
                    name: p.name.to_string(),
                    relationship: p.relationship.to_string(),
                    phone: p.phone.to_string(),
                }),
            _ => None,
        }
        .or_else(|| {
            etp.and_then(|e| {
                e.emergency_contacts
                    .iter()
                    .find(|c| c.primary)
                    .or_else(|| e.emergency_contacts.first())
                    .map(|c| FirstContact {
                        name: c.name.to_string(),
                        relationship: c.role_or_relationship.to_string(),
                        phone: c.phone.to_string(),
                    })
            })
        });
        let (place_of_care, place_of_death) = match get(PlanSection::ThinkingAhead) {
            Some(SectionContent::ThinkingAhead(t)) => (
                t.preferred_place_of_care.as_ref().map(ToString::to_string),
                t.preferred_place_of_death.as_ref().map(ToString::to_string),
            ),
            _ => (None, None),
        };
        let (conditions, allergies) = match get(PlanSection::ClinicalBackground) {
            Some(SectionContent::ClinicalBackground(c)) => (
                c.conditions.iter().map(|c| c.name.to_string()).collect(),
                c.allergies.iter().map(ToString::to_string).collect(),
            ),
            _ => (Vec::new(), Vec::new()),
        };
        let (medicines, medicines_location) = match get(PlanSection::AnticipatoryMedicines) {
            Some(SectionContent::AnticipatoryMedicines(m)) => (
                m.medicines.iter().map(|m| m.name.to_string()).collect(),
                m.location.as_ref().map(ToString::to_string),
            ),
            _ => (Vec::new(), None),
        };
        let review_due = plan
            .last_review
            .as_ref()
            .map(|r| r.next_review_date)
            .or_else(|| etp.and_then(|e| e.review.as_ref().and_then(|r| r.due)));
        Some(Self {
            plan_id: id,
            nhs_number: plan.nhs_number,
            status: plan.status,
            plan_version: plan.version,
            last_changed_at: plan.updated_at,
            review_due,
            family_name: pi.family_name.to_string(),
            given_name: pi.given_name.to_string(),
            preferred_name: pi.preferred_name.as_ref().map(ToString::to_string),
            birth_date: pi.birth_date.date(),
            postcode: pi.address.postcode.to_string(),
            cpr: etp.map(|e| CprSummary {
                recommendation: e.cpr_recommendation,
                snomed_code: e.cpr_recommendation.snomed_code().to_owned(),
                modified_cpr_details: e.modified_cpr_details.as_ref().map(ToString::to_string),
            }),
            clinical_focus: etp.map(|e| e.clinical_focus),
            interventions: etp
                .map(|e| {
                    e.interventions
                        .iter()
                        .map(|i| {
                            let verdict = if i.recommended {
                                "recommended"
                            } else {
                                "not recommended"
                            };
                            match &i.reason {
                                Some(r) => format!("{}: {verdict} ({r})", i.intervention),
                                None => format!("{}: {verdict}", i.intervention),
                            }
                        })
                        .collect()
                })
                .unwrap_or_default(),
            alerts,
            first_contact,
            preferred_place_of_care: place_of_care,
            preferred_place_of_death: place_of_death,
            conditions,
            allergies,
            anticipatory_medicines: medicines,
            anticipatory_medicines_location: medicines_location,
            sickle_cell_ambulance_guidance: match get(PlanSection::SickleCellPlan) {
                Some(SectionContent::SickleCellPlan(s)) => Some(s.ambulance_guidance.to_string()),
                _ => None,
            },
            mental_health_crisis_what_helps: match get(PlanSection::MentalHealthCrisisPlan) {
                Some(SectionContent::MentalHealthCrisisPlan(m)) => Some(m.what_helps.to_string()),
                _ => None,
            },
            plan_link: format!("/v1/care-plans/{id}"),
        })
    }
}
