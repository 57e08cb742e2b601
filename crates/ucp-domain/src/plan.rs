use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::{CarePlanEvent, CprStatus, LongText, NhsNumber, PlanSection, SectionContent};

/// Where a plan stands. There is no draft: what is saved is visible at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum PlanStatus {
    Active,
    Withdrawn,
    Deceased,
    Voided,
}

impl PlanStatus {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Withdrawn => "withdrawn",
            Self::Deceased => "deceased",
            Self::Voided => "voided",
        }
    }
}

impl std::fmt::Display for PlanStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who made a change, and as what: a professional with their organisation, or the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Author {
    pub actor: String,
    #[serde(default)]
    pub name: Option<String>,
    pub role: String,
    #[serde(default)]
    pub organisation: Option<String>,
    /// The NHS number of the person a proxy (an attorney, or someone the person named) acted
    /// for: the change was made "by `actor` on behalf of" them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<String>,
}

/// What the log knows of an event besides its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub version: i64,
    pub at: DateTime<Utc>,
    pub author: Author,
}

/// A section as it stands, and who last changed it, when, at which plan version.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SectionState {
    pub content: SectionContent,
    pub version: i64,
    pub changed_at: DateTime<Utc>,
    pub changed_by: Author,
}

/// The last review.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewState {
    pub reviewed_at: DateTime<Utc>,
    pub reviewed_by: Author,
    pub next_review_date: NaiveDate,
    pub note: Option<LongText>,
    pub still_valid: Option<bool>,
}

/// A record corrected: who, when, why, and what was corrected. The mistake stays in the
/// history; this says it was one.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Correction {
    pub kind: CorrectionKind,
    pub at: DateTime<Utc>,
    pub by: Author,
    pub reason: LongText,
    /// The plan version of the correction.
    pub version: i64,
    /// For a retracted section: which.
    pub section: Option<PlanSection>,
}

/// What was corrected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CorrectionKind {
    DeathRetracted,
    SectionRetracted,
}

/// Why and when a plan left `active`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusChange {
    pub at: DateTime<Utc>,
    pub by: Author,
    pub reason: Option<LongText>,
    pub date_of_death: Option<NaiveDate>,
    /// The status before this change: where a retracted death returns the plan.
    pub previous_status: PlanStatus,
    /// The person withdrew their consent to share.
    pub consent_withdrawn: bool,
}

/// A care plan as its events made it: the state `decide` rules on and the read models show.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CarePlan {
    pub nhs_number: NhsNumber,
    pub status: PlanStatus,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub created_by: Author,
    pub updated_at: DateTime<Utc>,
    pub sections: BTreeMap<PlanSection, SectionState>,
    pub last_review: Option<ReviewState>,
    pub status_change: Option<StatusChange>,
    /// Every correction, oldest first.
    pub corrections: Vec<Correction>,
    /// The last CPR decision that stopped being the plan's: changed to another, or retracted
    /// with its Emergency Treatment Plan. Printed copies of it may still be in the home.
    pub decision_trace: Option<DecisionTrace>,
    /// When the decision content of the Emergency Treatment Plan last changed, and by whom:
    /// "changed after signing, by X at T" until a signature is made over it.
    pub decision: Option<DecisionChange>,
    /// The person withdrew their consent to share, and has not given it again: the plan is
    /// seen only by them and by the organisations caring for them.
    pub consent_withdrawal: Option<ConsentWithdrawalState>,
    /// The care home where the person lives now: its staff read the plan.
    pub residence: Option<crate::residence::Residence>,
    /// The last residence that ended: whose staff stopped reading the plan, and when.
    pub residence_ended: Option<crate::residence::EndedResidence>,
    /// The record is marked sensitive: professionals' reads of it are reviewed.
    pub sensitivity: Option<crate::sensitivity::Marked>,
}

/// A withdrawal of consent to share: when, by whom, why.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsentWithdrawalState {
    pub at: DateTime<Utc>,
    pub by: Author,
    pub reason: Option<LongText>,
    pub version: i64,
    /// The organisations caring for the person when consent was withdrawn, frozen then: a
    /// later review or form by someone else does not make them a carer who may see it.
    pub caring_organisations: Vec<String>,
}

/// The last change to the decision content (its digest, see [`crate::signing`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DecisionChange {
    pub digest: String,
    pub at: DateTime<Utc>,
    pub by: Author,
    pub version: i64,
}

/// How a CPR decision stopped being the plan's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum TraceKind {
    /// A newer Emergency Treatment Plan recommends otherwise.
    Changed,
    /// The Emergency Treatment Plan was retracted as entered in error.
    Retracted,
}

/// A CPR decision that the plan no longer holds: what it said, in which version, until when,
/// and what happened to it, by whom and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DecisionTrace {
    pub was: CprStatus,
    /// The plan version that recorded it.
    pub version: i64,
    pub until: DateTime<Utc>,
    pub how: TraceKind,
    pub by: Author,
    pub reason: Option<LongText>,
    /// The plan version that changed or retracted it: printed copies of versions from
    /// `version` up to this one say it.
    pub superseded_in: i64,
}

impl CarePlan {
    #[must_use]
    pub fn section(&self, section: PlanSection) -> Option<&SectionState> {
        self.sections.get(&section)
    }
}

/// The CPR decision the plan records now, and the version that recorded it.
fn recorded_decision(plan: &CarePlan) -> Option<(CprStatus, i64)> {
    match plan.section(PlanSection::EmergencyTreatmentPlan) {
        Some(SectionState {
            content: SectionContent::EmergencyTreatmentPlan(etp),
            version,
            ..
        }) => Some((etp.cpr_recommendation.status(), *version)),
        _ => None,
    }
}

/// Signatures recorded before signing was an act came in the body of the form that carried
/// them: they are bound to that form's content, as typed in by the form's author, which is
/// what they were.
fn bind_legacy_signatures(etp: &mut crate::EmergencyTreatmentPlan, digest: &str, by: &Author) {
    for s in etp.signatures.iter_mut().filter(|s| s.digest.is_none()) {
        s.digest = Some(digest.to_owned());
        s.method = Some(crate::SignatureMethod::TranscribedFromPaper);
        s.transcribed_by = Some(by.clone());
        s.signed_by = None;
    }
}

/// Applies one event. Pure; never fails: events are facts, already decided.
#[must_use]
pub fn evolve(state: Option<CarePlan>, event: &CarePlanEvent, env: &Envelope) -> Option<CarePlan> {
    let section_state = |content: SectionContent| SectionState {
        content,
        version: env.version,
        changed_at: env.at,
        changed_by: env.author.clone(),
    };
    if let CarePlanEvent::Created(created) = event {
        let mut sections = BTreeMap::new();
        sections.insert(
            PlanSection::PersonalInformation,
            section_state(SectionContent::PersonalInformation(
                created.personal_information.clone(),
            )),
        );
        sections.insert(
            PlanSection::ConsentToShare,
            section_state(SectionContent::ConsentToShare(
                created.consent_to_share.clone(),
            )),
        );
        return Some(CarePlan {
            nhs_number: created.personal_information.nhs_number,
            status: PlanStatus::Active,
            version: env.version,
            created_at: env.at,
            created_by: env.author.clone(),
            updated_at: env.at,
            sections,
            last_review: None,
            status_change: None,
            corrections: Vec::new(),
            decision_trace: None,
            decision: None,
            consent_withdrawal: None,
            residence: None,
            residence_ended: None,
            sensitivity: None,
        });
    }
    let mut plan = state?;
    plan.version = env.version;
    plan.updated_at = env.at;
    let change = |reason: Option<LongText>, date_of_death, consent_withdrawn| StatusChange {
        at: env.at,
        by: env.author.clone(),
        reason,
        date_of_death,
        previous_status: plan.status,
        consent_withdrawn,
    };
    let correction = |kind, reason: &LongText, section| Correction {
        kind,
        at: env.at,
        by: env.author.clone(),
        reason: reason.clone(),
        version: env.version,
        section,
    };
    match event {
        CarePlanEvent::Created(_) => {}
        CarePlanEvent::SectionChanged(content) => {
            let mut content = content.clone();
            if let SectionContent::EmergencyTreatmentPlan(new) = &mut content {
                let digest = crate::signing::decision_digest(new);
                bind_legacy_signatures(new, &digest, &env.author);
                if plan.decision.as_ref().is_some_and(|d| d.digest != digest) {
                    // The decision changed: every signature on record before this event is on
                    // an earlier version for good, even if the decision is changed back.
                    let before = match plan.section(PlanSection::EmergencyTreatmentPlan) {
                        Some(SectionState {
                            content: SectionContent::EmergencyTreatmentPlan(old),
                            ..
                        }) => old.signatures.clone(),
                        _ => Vec::new(),
                    };
                    for s in new
                        .signatures
                        .iter_mut()
                        .filter(|s| s.superseded_in.is_none() && before.contains(s))
                    {
                        s.superseded_in = Some(env.version);
                    }
                }
                new.decision_digest = Some(digest.clone());
                new.sign_as = None;
                if plan.decision.as_ref().map(|d| &d.digest) != Some(&digest) {
                    plan.decision = Some(DecisionChange {
                        digest,
                        at: env.at,
                        by: env.author.clone(),
                        version: env.version,
                    });
                }
                if let Some((was, version)) = recorded_decision(&plan) {
                    if was != new.cpr_recommendation.status() {
                        plan.decision_trace = Some(DecisionTrace {
                            was,
                            version,
                            until: env.at,
                            how: TraceKind::Changed,
                            by: env.author.clone(),
                            reason: None,
                            superseded_in: env.version,
                        });
                    }
                }
            }
            if content.section() == PlanSection::ConsentToShare {
                // Consent recorded again: the plan is shared again.
                plan.consent_withdrawal = None;
            }
            plan.sections
                .insert(content.section(), section_state(content));
        }
        CarePlanEvent::ConsentToShareWithdrawn(w) => {
            let caring_organisations = crate::review::caring_organisations(&plan);
            plan.consent_withdrawal = Some(ConsentWithdrawalState {
                at: env.at,
                by: env.author.clone(),
                reason: w.reason.clone(),
                version: env.version,
                caring_organisations,
            });
        }
        CarePlanEvent::EmergencyTreatmentPlanSigned(signature) => {
            if let Some(state) = plan.sections.get_mut(&PlanSection::EmergencyTreatmentPlan) {
                if let SectionContent::EmergencyTreatmentPlan(etp) = &mut state.content {
                    etp.signatures.push(signature.clone());
                    // The section's ETag moves (what it shows changed); who recorded the
                    // form and when stay the recorder's.
                    state.version = env.version;
                }
            }
        }
        CarePlanEvent::ResidentAdmitted(r) | CarePlanEvent::ResidenceRecorded(r) => {
            let admitted = matches!(event, CarePlanEvent::ResidentAdmitted(_));
            plan.residence = Some(crate::residence::Residence::recorded(
                r,
                admitted,
                &env.author,
                env.at,
                env.version,
            ));
        }
        CarePlanEvent::ResidenceConfirmed(_) => {
            if let Some(r) = plan.residence.as_mut() {
                r.confirm(&env.author, env.at, env.version);
            }
        }
        CarePlanEvent::ResidenceEnded(e) => {
            if let Some(r) = plan.residence.take() {
                plan.residence_ended = Some(crate::residence::EndedResidence {
                    care_home: r.care_home,
                    since: r.since,
                    left_on: e.date,
                    ended_at: env.at,
                    ended_by: env.author.clone(),
                    version: env.version,
                    reason: e.reason.clone(),
                });
            }
        }
        CarePlanEvent::SensitivityMarked(m) => {
            plan.sensitivity = Some(crate::sensitivity::Marked::new(
                m.reason,
                &env.author,
                env.at,
                env.version,
            ));
        }
        CarePlanEvent::SensitivityCleared(_) => plan.sensitivity = None,
        CarePlanEvent::Reviewed(r) => {
            plan.last_review = Some(ReviewState {
                reviewed_at: env.at,
                reviewed_by: env.author.clone(),
                next_review_date: r.next_review_date,
                note: r.note.clone(),
                still_valid: r.still_valid,
            });
        }
        CarePlanEvent::Withdrawn(w) => {
            let c = change(w.reason.clone(), None, w.consent_withdrawn);
            plan.status = PlanStatus::Withdrawn;
            plan.status_change = Some(c);
        }
        CarePlanEvent::PersonDied(d) => {
            let c = change(None, Some(d.date_of_death), false);
            plan.status = PlanStatus::Deceased;
            plan.status_change = Some(c);
        }
        CarePlanEvent::Voided(v) => {
            let c = change(Some(v.reason.clone()), None, false);
            plan.status = PlanStatus::Voided;
            plan.status_change = Some(c);
        }
        CarePlanEvent::DeathRetracted(r) => {
            let fix = correction(CorrectionKind::DeathRetracted, &r.reason, None);
            plan.status = plan
                .status_change
                .take()
                .map_or(PlanStatus::Active, |c| c.previous_status);
            plan.corrections.push(fix);
        }
        CarePlanEvent::SectionRetracted(r) => {
            if r.section == PlanSection::EmergencyTreatmentPlan {
                if let Some((was, version)) = recorded_decision(&plan) {
                    plan.decision_trace = Some(DecisionTrace {
                        was,
                        version,
                        until: env.at,
                        how: TraceKind::Retracted,
                        by: env.author.clone(),
                        reason: Some(r.reason.clone()),
                        superseded_in: env.version,
                    });
                }
            }
            let fix = correction(CorrectionKind::SectionRetracted, &r.reason, Some(r.section));
            if r.section == PlanSection::EmergencyTreatmentPlan {
                plan.decision = None;
            }
            plan.sections.remove(&r.section);
            plan.corrections.push(fix);
        }
    }
    Some(plan)
}
