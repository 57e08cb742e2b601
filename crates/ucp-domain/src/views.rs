//! The read models' shapes: what the API serves, computed from a plan's state alone, so the
//! live projection, a rebuild and a read "as at" an earlier version all give the same document.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde::Serialize;
use uuid::Uuid;

use crate::{
    Author, CarePlan, Correction, CorrectionKind, PlanSection, PlanStatus, ReviewState,
    SectionContent, StatusChange,
};

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
    pub still_valid: Option<bool>,
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
    /// The person withdrew their consent to share.
    pub consent_withdrawn: bool,
}

/// A correction of the record, as served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CorrectionView {
    pub kind: CorrectionKind,
    pub at: DateTime<Utc>,
    pub by: Author,
    pub reason: String,
    /// The plan version of the correction.
    pub version: i64,
    /// For a retracted section: which (it is in the history and in reads as of earlier
    /// versions).
    pub section: Option<PlanSection>,
}

impl From<&Correction> for CorrectionView {
    fn from(c: &Correction) -> Self {
        Self {
            kind: c.kind,
            at: c.at,
            by: c.by.clone(),
            reason: c.reason.to_string(),
            version: c.version,
            section: c.section,
        }
    }
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
    /// Corrections of the record (a retracted death, a retracted section), oldest first.
    pub corrections: Vec<CorrectionView>,
    /// Set while the person's consent to share is withdrawn: who still sees the plan.
    pub consent_withdrawn: Option<crate::notice::ConsentWithdrawal>,
    /// The care home where the person lives, if one is recorded: its staff read the plan.
    pub residence: Option<crate::residence::Residence>,
    /// The last residence that ended (its home's staff read the plan no longer).
    pub residence_ended: Option<crate::residence::EndedResidence>,
    /// Present while the record is marked sensitive: every professional's read of it is
    /// reviewed by the privacy officer (absent: not marked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitivity: Option<crate::sensitivity::Sensitivity>,
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
                still_valid: r.still_valid,
            }),
            status_change: plan
                .status_change
                .as_ref()
                .map(|c: &StatusChange| StatusChangeView {
                    at: c.at,
                    by: c.by.clone(),
                    reason: c.reason.clone(),
                    date_of_death: c.date_of_death,
                    consent_withdrawn: c.consent_withdrawn,
                }),
            corrections: plan.corrections.iter().map(CorrectionView::from).collect(),
            consent_withdrawn: crate::notice::ConsentWithdrawal::of(plan),
            residence: plan.residence.clone(),
            residence_ended: plan.residence_ended.clone(),
            sensitivity: plan.sensitivity.as_ref().map(|m| m.shown.clone()),
        }
    }
}

pub use crate::summary::*;
