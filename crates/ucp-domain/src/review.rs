//! What a plan puts on the review worklist: when its review is due, who last reviewed it, and
//! which organisations answer for keeping it current.

use chrono::{DateTime, NaiveDate, Utc};

use crate::{CarePlan, PlanSection, SectionContent};

/// The registered GP practice's ODS code, as Personal and Professional Contacts record it.
pub fn registered_practice(plan: &CarePlan) -> Option<String> {
    match plan.section(PlanSection::Contacts).map(|s| &s.content) {
        Some(SectionContent::Contacts(c)) => c
            .professional
            .iter()
            .filter(|p| p.role.as_str().to_lowercase().contains("gp"))
            .find_map(|p| p.ods_code.as_ref().map(ToString::to_string)),
        _ => None,
    }
}

/// The organisations that answer for the person's care on this plan, each once: the one
/// that created the plan, the registered GP practice, the team that recorded the Emergency
/// Treatment Plan and the team that last reviewed the plan. Acts that speak for the person
/// without them (granting an attorney access) are kept to these.
#[must_use]
pub fn caring_organisations(plan: &CarePlan) -> Vec<String> {
    let mut organisations: Vec<String> = Vec::new();
    for org in [
        plan.created_by.organisation.clone(),
        registered_practice(plan),
        plan.section(PlanSection::EmergencyTreatmentPlan)
            .and_then(|s| s.changed_by.organisation.clone()),
        plan.last_review
            .as_ref()
            .and_then(|r| r.reviewed_by.organisation.clone()),
    ]
    .into_iter()
    .flatten()
    {
        if !organisations.contains(&org) {
            organisations.push(org);
        }
    }
    organisations
}

/// A plan's line on the review worklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewEntry {
    pub due: NaiveDate,
    pub last_reviewed_at: Option<DateTime<Utc>>,
    /// The reviewer's name (or actor id).
    pub last_reviewed_by: Option<String>,
    /// The organisation that answers for the review: the registered GP practice, else the team
    /// that last reviewed the plan, else the team that recorded the Emergency Treatment Plan.
    pub responsible: Option<String>,
    /// Every organisation that should find the plan on its worklist (ODS codes, no repeats).
    pub organisations: Vec<String>,
    /// The CPR decision's standing that does not depend on the day: `said-no-longer-valid`,
    /// `changed-after-signing`, `awaiting-countersignature` or `current` (a read adds
    /// `review-overdue` from the due date).
    pub standing: crate::standing::Standing,
    /// Signatures cover the decision as it stands, but none is a senior responsible
    /// clinician's.
    pub awaiting_countersignature: bool,
}

impl ReviewEntry {
    /// Where the plan stands in the worklist's order: a decision said to be no longer valid
    /// first (0), then the rest (1), each by due date.
    #[must_use]
    pub fn priority(&self) -> i16 {
        i16::from(self.standing != crate::standing::Standing::SaidNoLongerValid)
    }
}

impl ReviewEntry {
    /// The plan's entry, or `None` when no review date is set.
    #[must_use]
    pub fn of(plan: &CarePlan) -> Option<Self> {
        let etp = plan.section(PlanSection::EmergencyTreatmentPlan);
        let etp_due = etp.and_then(|s| match &s.content {
            SectionContent::EmergencyTreatmentPlan(e) => e.review.as_ref().and_then(|r| r.due),
            _ => None,
        });
        let due = plan
            .last_review
            .as_ref()
            .map(|r| r.next_review_date)
            .or(etp_due)?;
        let practice = registered_practice(plan);
        let reviewer_org = plan
            .last_review
            .as_ref()
            .and_then(|r| r.reviewed_by.organisation.clone());
        let recorder_org = etp.and_then(|s| s.changed_by.organisation.clone());
        let mut organisations = Vec::new();
        for org in [&practice, &reviewer_org, &recorder_org]
            .into_iter()
            .flatten()
        {
            if !organisations.contains(org) {
                organisations.push(org.clone());
            }
        }
        let form = etp.and_then(|s| match &s.content {
            SectionContent::EmergencyTreatmentPlan(e) => Some(e),
            _ => None,
        });
        let no_longer_valid = crate::standing::no_longer_valid(plan, form, etp);
        let unsigned = crate::standing::unsigned_change(plan, form);
        let awaiting_countersignature =
            form.is_some_and(crate::standing::awaiting_countersignature);
        let standing = crate::standing::standing(
            crate::standing::StandingFacts {
                no_longer_valid: no_longer_valid.as_ref(),
                unsigned_change: unsigned.as_ref(),
                awaiting_countersignature,
                review_due: None,
            },
            NaiveDate::MIN,
        );
        Some(Self {
            standing,
            awaiting_countersignature,
            due,
            last_reviewed_at: plan.last_review.as_ref().map(|r| r.reviewed_at),
            last_reviewed_by: plan.last_review.as_ref().map(|r| {
                r.reviewed_by
                    .name
                    .clone()
                    .unwrap_or_else(|| r.reviewed_by.actor.clone())
            }),
            responsible: practice.or(reviewer_org).or(recorder_org),
            organisations,
        })
    }
}
