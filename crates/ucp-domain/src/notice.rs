//! What a reader who could have read a plan is told once it has ended: a notice, never a
//! silence. Printed copies outlive the record, so "a plan existed until …; it is not current"
//! must be distinct — to a person and to a program — from "no plan was ever recorded", and must
//! carry no clinical content (DOMAIN.md, "A plan that ended leaves a notice").

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::{Author, CarePlan, PlanStatus};

/// The person withdrew their consent to share their plan: what those who still see it are told,
/// and who they are. The clinical decisions are not revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsentWithdrawal {
    pub at: DateTime<Utc>,
    pub by: Author,
    pub reason: Option<String>,
    /// The organisations (ODS codes) caring for the person when consent was withdrawn, whose
    /// clinicians still see the plan: the one that created it, the GP practice, the team that
    /// recorded the Emergency Treatment Plan and the team that last reviewed it. Everyone else
    /// is told only that consent was withdrawn.
    pub caring_organisations: Vec<String>,
    /// In words, for those who still see the plan.
    pub message: String,
}

impl ConsentWithdrawal {
    /// The plan's withdrawal of consent, if consent is withdrawn now.
    #[must_use]
    pub fn of(plan: &CarePlan) -> Option<Self> {
        let w = plan.consent_withdrawal.as_ref()?;
        let caring_organisations = w.caring_organisations.clone();
        let message = format!(
            "The person withdrew their consent to share this plan on {}. It is seen only by them and by those caring for them directly ({}); do not share it further. The clinical recommendations are not revoked.",
            w.at.format("%-d %B %Y"),
            if caring_organisations.is_empty() {
                "no organisation recorded".to_owned()
            } else {
                caring_organisations.join(", ")
            }
        );
        Some(Self {
            at: w.at,
            by: w.by.clone(),
            reason: w.reason.as_ref().map(ToString::to_string),
            caring_organisations,
            message,
        })
    }

    /// What everyone else who could have read the plan is told.
    #[must_use]
    pub fn notice(&self) -> EndedNotice {
        EndedNotice::consent_withdrawn(self.at.date_naive())
    }
}

/// How a plan ended, as the notice says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EndedAs {
    /// The person (or a clinician for them) no longer wanted it.
    Withdrawn,
    /// It was made in error (for example, for the wrong person).
    Voided,
    /// It was closed after the person's death.
    ClosedAfterDeath,
    /// The person withdrew their consent to share it: the clinical decisions were not revoked,
    /// but they are no longer shared; their GP holds them. (Plans whose consent was withdrawn
    /// before this was its own state were withdrawn with it, and read so too.)
    ConsentWithdrawn,
}

/// The notice: how and when the plan ended, and what to do with paper copies. Nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EndedNotice {
    pub ended_as: EndedAs,
    /// The day it ended (UTC).
    pub ended_on: NaiveDate,
    /// `true` when printed copies of the plan may exist and are not current; `false` when the
    /// person withdrew consent to share, which does not revoke a printed form's decisions.
    pub printed_copies_not_current: bool,
    /// The notice in words, for a person.
    pub message: String,
}

impl EndedNotice {
    /// The notice for a plan whose person withdrew consent to share on `on`.
    #[must_use]
    pub fn consent_withdrawn(on: NaiveDate) -> Self {
        Self {
            ended_as: EndedAs::ConsentWithdrawn,
            ended_on: on,
            printed_copies_not_current: false,
            message: format!(
                "The person has withdrawn consent to share their plan on {}; printed copies may exist; contact their GP.",
                on.format("%-d %B %Y")
            ),
        }
    }

    /// The notice for a plan in `status` since `ended_on`; `None` for an active plan.
    #[must_use]
    pub fn of(status: PlanStatus, consent_withdrawn: bool, ended_on: NaiveDate) -> Option<Self> {
        let ended_as = match status {
            PlanStatus::Active => return None,
            PlanStatus::Withdrawn if consent_withdrawn => EndedAs::ConsentWithdrawn,
            PlanStatus::Withdrawn => EndedAs::Withdrawn,
            PlanStatus::Voided => EndedAs::Voided,
            PlanStatus::Deceased => EndedAs::ClosedAfterDeath,
        };
        let on = ended_on.format("%-d %B %Y");
        let how = match ended_as {
            EndedAs::Withdrawn => "It was withdrawn",
            EndedAs::Voided => "It was made in error and voided",
            EndedAs::ClosedAfterDeath => "It was closed after death",
            EndedAs::ConsentWithdrawn => "",
        };
        let message = if ended_as == EndedAs::ConsentWithdrawn {
            format!(
                "The person has withdrawn consent to share their plan on {on}; printed copies may exist; contact their GP."
            )
        } else {
            format!(
                "A care plan existed until {on}. {how}. It is not current: do not act on printed copies."
            )
        };
        Some(Self {
            ended_as,
            ended_on,
            printed_copies_not_current: ended_as != EndedAs::ConsentWithdrawn,
            message,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_ended_state_has_its_own_words_and_an_active_plan_none() {
        let on = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap_or(NaiveDate::MIN);
        let words = |status, consent| {
            EndedNotice::of(status, consent, on)
                .map(|n| (n.ended_as, n.message))
                .unwrap_or_else(|| panic!("{status:?}"))
        };
        assert_eq!(
            words(PlanStatus::Withdrawn, false),
            (
                EndedAs::Withdrawn,
                "A care plan existed until 3 December 2026. It was withdrawn. It is not current: do not act on printed copies.".to_owned()
            )
        );
        assert!(words(PlanStatus::Voided, false)
            .1
            .contains("made in error and voided"));
        assert!(words(PlanStatus::Deceased, false)
            .1
            .contains("closed after death"));
        assert_eq!(
            words(PlanStatus::Withdrawn, true),
            (
                EndedAs::ConsentWithdrawn,
                "The person has withdrawn consent to share their plan on 3 December 2026; printed copies may exist; contact their GP.".to_owned()
            )
        );
        assert!(EndedNotice::of(PlanStatus::Active, false, on).is_none());
    }
}
