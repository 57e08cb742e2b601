//! Whether a printed copy is still the plan: what `GET /check/{code}` answers anyone holding
//! the paper, with no sign-in. It says only the state of the copy (current, superseded, or not
//! current and why), never a name, an NHS number or anything clinical; and every check is an
//! access-log entry against the person, who learns from it that a copy exists and is in use.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use ucp_domain::views::EmergencySummary;
use ucp_domain::PlanStatus;
use ucp_store::projections::replay::fold;
use ucp_store::{Database, StreamBound};

use crate::audit::{Access, Shown, View};
use crate::print::{day, day_of, ended, CheckKeys, PrintedCopy};
use crate::AppError;

/// Events that leave what a printed copy says standing. Consent to share withdrawn changes who
/// the plan is shared with, not the recommendations: a crew holding the paper must not be told
/// to disregard a decision that stands.
pub const LEAVES_COPY_STANDING: &[&str] = &[
    "ConsentToShareWithdrawn",
    // Where the person lives is not on the paper.
    "ResidentAdmitted",
    "ResidenceRecorded",
    "ResidenceConfirmed",
    "ResidenceEnded",
];

/// A plan withdrawn because consent to share was withdrawn, as recorded before that was an
/// event of its own: its recommendations stand, and so do copies printed before it.
const LEGACY_CONSENT_WITHDRAWAL: &[&str] = &[
    "ConsentToShareWithdrawn",
    "ResidentAdmitted",
    "ResidenceRecorded",
    "ResidenceConfirmed",
    "ResidenceEnded",
    "CarePlanWithdrawn",
];

/// What became of a printed copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "state")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CopyState {
    /// Nothing that the paper shows has changed since it was printed.
    Current,
    /// The plan changed after the copy was printed: the paper is out of date.
    #[serde(rename_all = "camelCase")]
    Superseded {
        /// When the first change after the printed version was made.
        superseded_at: DateTime<Utc>,
        /// Whether what a crew acts on changed: the CPR recommendation or its standing (under
        /// review, changed after signing, awaiting countersignature), the focus of care, the
        /// interventions, the decision's content, or an ADRT. `false`: only other parts of the
        /// plan changed, and the recommendations printed are still the plan's — a crew must
        /// not be told to disregard a decision that stands.
        recommendations_changed: bool,
    },
    /// The plan is no longer one to act on: withdrawn, voided (made in error), or closed after
    /// the person's death.
    #[serde(rename_all = "camelCase")]
    NotCurrent {
        status: PlanStatus,
        since: DateTime<Utc>,
    },
}

/// The answer to a check of a printed copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CopyCheck {
    /// The plan version the paper shows.
    pub printed_version: i64,
    /// The day it was printed (UK).
    pub printed_on: NaiveDate,
    #[serde(flatten)]
    pub state: CopyState,
    pub checked_at: DateTime<Utc>,
}

impl CopyCheck {
    /// The one line a reader must take away, in the words printed on the page.
    #[must_use]
    pub fn headline(&self) -> String {
        let copy = format!(
            "This printed plan (version {}, printed {})",
            self.printed_version,
            day(self.printed_on)
        );
        match self.state {
            CopyState::Current => format!("{copy} is CURRENT"),
            CopyState::Superseded {
                superseded_at,
                recommendations_changed: true,
            } => format!(
                "SUPERSEDED on {} \u{2014} do not rely on this copy",
                day_of(superseded_at)
            ),
            CopyState::Superseded {
                superseded_at,
                recommendations_changed: false,
            } => format!(
                "SUPERSEDED on {} \u{2014} its recommendations are unchanged",
                day_of(superseded_at)
            ),
            CopyState::NotCurrent { status, since } => {
                format!("NOT CURRENT: {} on {}", ended(status), day_of(since))
            }
        }
    }
}

/// What the code says became of the copy, as of `now`.
///
/// # Errors
/// Not found for a code this service did not sign (or signed with a key since dropped), or for
/// a plan or version that does not exist; database failures.
pub async fn check(
    db: &Database,
    keys: &CheckKeys,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Shown<CopyCheck>, AppError> {
    let not_ours = || {
        AppError::NotFound(
            "This code is not one the Universal Care Plan printed, or it can no longer be \
             checked. Do not rely on the paper without checking the plan another way."
                .into(),
        )
    };
    let copy: PrintedCopy = keys.verify(code).map_err(|e| {
        tracing::info!(reason = %e, "a printed-copy code was not recognised");
        not_ours()
    })?;
    let row = db.plan(copy.plan_id).await?.ok_or_else(not_ours)?;
    if copy.version < 1 || copy.version > row.version {
        return Err(not_ours());
    }
    let legacy_consent = legacy_consent_withdrawal(&row);
    let state = if row.status == PlanStatus::Active || legacy_consent {
        match db
            .first_change_after(
                copy.plan_id,
                copy.version,
                events_leaving_copies_standing(&row),
            )
            .await?
        {
            None => CopyState::Current,
            Some(superseded_at) => CopyState::Superseded {
                superseded_at,
                recommendations_changed: recommendations_changed(
                    db,
                    copy.plan_id,
                    copy.version,
                    now.date_naive(),
                    legacy_consent,
                )
                .await?,
            },
        }
    } else {
        let since = row
            .document
            .pointer("/statusChange/at")
            .and_then(serde_json::Value::as_str)
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map_or(now, |t| t.with_timezone(&Utc));
        CopyState::NotCurrent {
            status: row.status,
            since,
        }
    };
    let check = CopyCheck {
        printed_version: copy.version,
        printed_on: copy.printed_on,
        state,
        checked_at: now,
    };
    let access = Access {
        plan_id: Some(copy.plan_id),
        nhs_number: Some(row.nhs_number.to_string()),
        plan_version: Some(copy.version),
        view: Some(View::PrintedCopyCheck),
        detail: serde_json::to_value(&check).ok(),
        ..Access::default()
    };
    Ok(Shown::new(check, access))
}

/// What a crew acts on, from a summary, compared between the printed version and now: the CPR
/// recommendation and whether a review said it is no longer valid, the decision's content
/// (focus, interventions and their reasons, modified CPR, capacity, involvement: its digest),
/// advance decisions, attorneys and proxies, parental responsibility, allergies, anticipatory
/// medicines, whether death is expected, and the crisis plans' guidance. Not the standing's
/// other changes (a countersignature added, a review overdue or done): the decision stands.
fn what_a_crew_acts_on(s: &EmergencySummary) -> serde_json::Value {
    let l = &s.legal;
    serde_json::json!({
        "cpr": s.cpr.as_ref().map(|c| serde_json::json!({
            "status": c.status,
            "underReview": c.said_no_longer_valid.is_some(),
            "digest": c.decision_digest,
            "modified": c.modified_cpr_details,
        })),
        "treatment": s.treatment.as_ref().map(|t| serde_json::json!({
            "focus": t.clinical_focus,
            "interventions": t.interventions.iter()
                .map(|i| (i.intervention.clone(), i.recommended, i.reason.clone()))
                .collect::<Vec<_>>(),
        })),
        "adrt": l.adrt,
        "attorneys": l.lpa_health_and_welfare.iter()
            .map(|a| (a.name.clone(), a.phone.clone(), a.covers_life_sustaining_treatment))
            .collect::<Vec<_>>(),
        "proxy": l.legal_welfare_proxy,
        "parentalResponsibility": l.parental_responsibility.iter()
            .map(|p| (p.name.clone(), p.phone.clone()))
            .collect::<Vec<_>>(),
        "capacity": l.capacity,
        "allergies": (s.clinical.allergy_status, &s.clinical.allergies),
        "medicines": s.anticipatory_medicines.items.iter()
            .map(|m| (m.name.clone(), m.dose_and_route.clone(), m.indication.clone()))
            .collect::<Vec<_>>(),
        "medicinesKept": s.anticipatory_medicines.location,
        "deathExpected": s.clinical.death_expected,
        "sickleCell": s.sickle_cell_ambulance_guidance.as_ref().map(|g| g.text.clone()),
        "mentalHealth": s.mental_health_crisis_what_helps.as_ref().map(|g| g.text.clone()),
    })
}

/// Whether what a crew acts on differs between the plan at `version` and the plan now, both
/// judged as of `today`. For a plan withdrawn because consent was withdrawn (recorded before
/// that was an event of its own), "now" is the plan as it was withdrawn: its recommendations
/// stand.
async fn recommendations_changed(
    db: &Database,
    plan_id: uuid::Uuid,
    version: i64,
    today: NaiveDate,
    legacy_consent: bool,
) -> Result<bool, AppError> {
    let mut history = db.read_stream(plan_id, StreamBound::All).await?;
    let printed_len = history
        .iter()
        .take_while(|e| e.stream_version <= version)
        .count();
    let summary =
        |events: &[ucp_store::RecordedEvent]| -> Result<Option<serde_json::Value>, AppError> {
            Ok(fold(events)?
                .and_then(|plan| EmergencySummary::of(plan_id, &plan, today))
                .map(|s| what_a_crew_acts_on(&s)))
        };
    let then = summary(history.get(..printed_len).unwrap_or_default())?;
    if legacy_consent {
        history.retain(|e| e.event_type != "CarePlanWithdrawn");
    }
    let now = summary(&history)?;
    // When either cannot be told, say it changed: the safe answer is "do not rely".
    Ok(then.is_none() || then != now)
}

/// The events after which a printed copy of this plan still stands: consent to share withdrawn,
/// a change of where the person lives (not on the paper), and for a plan withdrawn for that reason before it was an event of its own, that withdrawal.
#[must_use]
pub fn events_leaving_copies_standing(row: &ucp_store::PlanRow) -> &'static [&'static str] {
    if legacy_consent_withdrawal(row) {
        LEGACY_CONSENT_WITHDRAWAL
    } else {
        LEAVES_COPY_STANDING
    }
}

fn legacy_consent_withdrawal(row: &ucp_store::PlanRow) -> bool {
    row.status == PlanStatus::Withdrawn
        && row
            .document
            .pointer("/statusChange/consentWithdrawn")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, d, h, 5, 0)
            .single()
            .unwrap_or_default()
    }

    fn check(state: CopyState) -> CopyCheck {
        CopyCheck {
            printed_version: 7,
            printed_on: NaiveDate::from_ymd_opt(2026, 12, 3).unwrap_or_default(),
            state,
            checked_at: at(7, 9),
        }
    }

    #[test]
    fn each_state_reads_in_the_words_the_paper_holder_needs() {
        assert_eq!(
            check(CopyState::Current).headline(),
            "This printed plan (version 7, printed 3 Dec 2026) is CURRENT"
        );
        assert_eq!(
            check(CopyState::Superseded {
                superseded_at: at(5, 14),
                recommendations_changed: true,
            })
            .headline(),
            "SUPERSEDED on 5 Dec 2026 \u{2014} do not rely on this copy"
        );
        assert_eq!(
            check(CopyState::Superseded {
                superseded_at: at(5, 14),
                recommendations_changed: false,
            })
            .headline(),
            "SUPERSEDED on 5 Dec 2026 \u{2014} its recommendations are unchanged"
        );
        assert_eq!(
            check(CopyState::NotCurrent {
                status: PlanStatus::Withdrawn,
                since: at(6, 23)
            })
            .headline(),
            "NOT CURRENT: withdrawn on 6 Dec 2026"
        );
        let json = serde_json::to_value(check(CopyState::Superseded {
            superseded_at: at(5, 14),
            recommendations_changed: true,
        }))
        .unwrap_or_default();
        assert_eq!(json["state"], "superseded");
        assert_eq!(json["printedVersion"], 7);
        assert_eq!(json["supersededAt"], "2026-12-05T14:05:00Z");
        assert_eq!(json["recommendationsChanged"], true);
    }
}
