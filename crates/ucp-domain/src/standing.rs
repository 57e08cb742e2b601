//! Whether a CPR decision can be acted on today, and the words a reader meets first.
//!
//! A crew acts on the first line they read. That line must never say more than the plan does:
//! a decision a reviewer said is no longer valid is under review, not a decision; a review that
//! fell due does not end the recommendations ("they stand until reviewed", as ReSPECT guidance
//! says), but the reader must know it is due; and "no decision" must not read as "no CPR".

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::{Author, CarePlan, CprStatus, EmergencyTreatmentPlan, SectionState, TraceKind};

/// How long after a CPR decision was changed or retracted the summary still says what it was:
/// printed copies of it outlive the record.
pub const TRACE_PERIOD_DAYS: i64 = 365;

/// A CPR decision the plan no longer holds, as the summary tells it for a year after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PreviousDecision {
    /// What it said.
    pub was: CprStatus,
    /// The plan version that recorded it: printed copies of that version, or later ones up to
    /// `until`, say it.
    pub version: i64,
    pub until: DateTime<Utc>,
    /// `changed` (a newer form recommends otherwise) or `retracted` (entered in error).
    pub how: TraceKind,
    pub by: Author,
    pub reason: Option<String>,
    /// The plan version that changed or retracted it.
    #[serde(default)]
    pub superseded_in: i64,
    /// Copies printed while the plan said it (printing is audited): each is superseded.
    #[serde(default)]
    pub printed_copies: Vec<PrintedCopy>,
    /// In words: "Until 3 December 2026 this plan said NOT FOR CPR (version 7); retracted as
    /// entered in error by Dr X: “…”. A printed copy of version 7 was made on 2 December 2026
    /// and is superseded."
    pub message: String,
}

/// A version of the plan that was printed, and when it was last printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PrintedCopy {
    pub version: i64,
    pub printed_at: DateTime<Utc>,
}

impl PreviousDecision {
    /// The decision with the printed copies that said it, out of every printed version of the
    /// plan (version, when last printed), and the message saying they are superseded.
    #[must_use]
    pub fn with_printed(mut self, printed: &[(i64, DateTime<Utc>)]) -> Self {
        self.printed_copies = printed
            .iter()
            .filter(|(v, _)| *v >= self.version && *v < self.superseded_in)
            .map(|&(version, printed_at)| PrintedCopy {
                version,
                printed_at,
            })
            .collect();
        self.message = compose(&self);
        self
    }
}

/// The trace in words.
fn compose(p: &PreviousDecision) -> String {
    let who = p.by.name.clone().unwrap_or_else(|| p.by.actor.clone());
    let what = match p.how {
        TraceKind::Retracted => format!(
            "retracted as entered in error by {who}{}",
            p.reason
                .as_ref()
                .map(|r| format!(": \u{201c}{r}\u{201d}"))
                .unwrap_or_default()
        ),
        TraceKind::Changed => format!("changed by {who}"),
    };
    let printed = match p.printed_copies.as_slice() {
        [] => "Printed copies saying so are superseded.".to_owned(),
        [one] => format!(
            "A printed copy of version {} was made on {} and is superseded.",
            one.version,
            one.printed_at.format("%-d %B %Y")
        ),
        many => {
            let versions: Vec<String> = many.iter().map(|c| c.version.to_string()).collect();
            let last = many.iter().map(|c| c.printed_at).max().unwrap_or(p.until);
            format!(
                "Printed copies of versions {} were made (the last on {}) and are superseded.",
                versions.join(", "),
                last.format("%-d %B %Y")
            )
        }
    };
    format!(
        "Until {} this plan said {} (version {}); {what}. {printed}",
        p.until.format("%-d %B %Y"),
        short(p.was),
        p.version
    )
}

/// The decision the plan last stopped holding, told for [`TRACE_PERIOD_DAYS`] after `until`.
#[must_use]
pub fn previous_decision(plan: &CarePlan, today: NaiveDate) -> Option<PreviousDecision> {
    let t = plan.decision_trace.as_ref()?;
    if today > t.until.date_naive() + chrono::Days::new(TRACE_PERIOD_DAYS.unsigned_abs()) {
        return None;
    }
    let mut p = PreviousDecision {
        was: t.was,
        version: t.version,
        until: t.until,
        how: t.how,
        by: t.by.clone(),
        reason: t.reason.as_ref().map(ToString::to_string),
        superseded_in: t.superseded_in,
        printed_copies: Vec::new(),
        message: String::new(),
    };
    p.message = compose(&p);
    Some(p)
}

/// A person as a reader names them: their name and role, with their organisation.
fn who(author: &Author) -> String {
    let name = author.name.clone().unwrap_or_else(|| author.actor.clone());
    match &author.organisation {
        Some(org) => format!("{name} ({}, {org})", author.role),
        None => format!("{name} ({})", author.role),
    }
}

fn short(status: CprStatus) -> &'static str {
    match status {
        CprStatus::ForCpr => "FOR CPR",
        CprStatus::NotForCpr => "NOT FOR CPR",
        CprStatus::ModifiedCpr => "MODIFIED CPR",
        CprStatus::NoDecisionRecorded => "no CPR decision",
    }
}

/// How far a recorded decision stands today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Standing {
    /// Nothing stands against it (or there is no decision to stand).
    #[default]
    Current,
    /// Its review date has passed: the recommendations stand until reviewed.
    ReviewOverdue,
    /// A review said it is no longer valid, and no Emergency Treatment Plan has been recorded
    /// since: the decision is under review and leads with that.
    SaidNoLongerValid,
    /// The decision content changed after it was signed, and nobody has signed it since: the
    /// signatures on record are on the earlier version.
    ChangedAfterSigning,
    /// Signed, but not by a senior responsible clinician: it awaits their countersignature.
    AwaitingCountersignature,
}

impl Standing {
    /// As serialised (`said-no-longer-valid`, …), for a read model's column.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Current => "current",
            Self::ReviewOverdue => "review-overdue",
            Self::SaidNoLongerValid => "said-no-longer-valid",
            Self::ChangedAfterSigning => "changed-after-signing",
            Self::AwaitingCountersignature => "awaiting-countersignature",
        }
    }

    /// The standing a column holds.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Current,
            Self::ReviewOverdue,
            Self::SaidNoLongerValid,
            Self::ChangedAfterSigning,
            Self::AwaitingCountersignature,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// A change to the decision that no signature covers: who made it, when, in which version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnsignedChange {
    pub at: DateTime<Utc>,
    pub by: Author,
    pub version: i64,
    /// Whether any signature is on record at all (over an earlier version): `false` for a form
    /// recorded before signing was required, which was never signed rather than changed.
    #[serde(default = "signed_before")]
    pub signed_before: bool,
}

fn signed_before() -> bool {
    true
}

/// A review that said the decision is no longer valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NoLongerValid {
    /// When it was said (absent when only the ETP's own review box says so).
    pub said_at: Option<DateTime<Utc>>,
    /// Who said it (their name, or their user id when the token had none).
    pub said_by: Option<String>,
    pub organisation: Option<String>,
    /// The reviewer's note, in their words.
    pub note: Option<String>,
}

/// The review that said the decision is no longer valid, unless a newer signed form replaced
/// the one found wanting: the form recorded after the review, and signed after it over the
/// decision as it stands. A later save that only corrects a contact's phone number is not a
/// new decision, and the decision stays under review.
#[must_use]
pub fn no_longer_valid(
    plan: &CarePlan,
    etp: Option<&EmergencyTreatmentPlan>,
    etp_state: Option<&SectionState>,
) -> Option<NoLongerValid> {
    let etp_at = etp_state.map(|s| s.changed_at);
    if let Some(r) = &plan.last_review {
        let signed_since = etp.is_some_and(|e| {
            crate::signing::current_signatures(e)
                .iter()
                .any(|s| s.signed_at > r.reviewed_at)
        });
        let recorded_since = etp_at.is_some_and(|at| at > r.reviewed_at);
        if r.still_valid == Some(false) && !(recorded_since && signed_since) {
            return Some(NoLongerValid {
                said_at: Some(r.reviewed_at),
                said_by: Some(
                    r.reviewed_by
                        .name
                        .clone()
                        .unwrap_or_else(|| r.reviewed_by.actor.clone()),
                ),
                organisation: r.reviewed_by.organisation.clone(),
                note: r.note.as_ref().map(ToString::to_string),
            });
        }
        if !recorded_since {
            // The review is the latest word, and it did not find the decision wanting.
            return None;
        }
        // A form recorded after the review is the latest word: its own review box says.
    }
    let own = etp.and_then(|e| e.review.as_ref())?;
    (own.still_valid == Some(false)).then(|| NoLongerValid {
        said_at: None,
        said_by: own.reviewed_by.as_ref().map(ToString::to_string),
        organisation: None,
        note: None,
    })
}

/// When the plan is next due for review: the plan review's date, unless an Emergency
/// Treatment Plan recorded after that review sets its own, and then the later of the two.
#[must_use]
pub fn review_due(
    plan: &CarePlan,
    etp: Option<&EmergencyTreatmentPlan>,
    etp_state: Option<&SectionState>,
) -> Option<NaiveDate> {
    let etp_due = etp.and_then(|e| e.review.as_ref().and_then(|r| r.due));
    match &plan.last_review {
        Some(r) => {
            let newer_form = etp_state.is_some_and(|s| s.changed_at > r.reviewed_at);
            match etp_due {
                Some(due) if newer_form => Some(due.max(r.next_review_date)),
                _ => Some(r.next_review_date),
            }
        }
        None => etp_due,
    }
}

/// The change to the decision that no signature covers, if there is one.
#[must_use]
pub fn unsigned_change(
    plan: &CarePlan,
    etp: Option<&EmergencyTreatmentPlan>,
) -> Option<UnsignedChange> {
    let etp = etp?;
    if !crate::signing::current_signatures(etp).is_empty() {
        return None;
    }
    let change = plan.decision.as_ref()?;
    Some(UnsignedChange {
        at: change.at,
        by: change.by.clone(),
        version: change.version,
        signed_before: !etp.signatures.is_empty(),
    })
}

/// Whether signatures cover the decision as it stands but none is a senior responsible
/// clinician's.
#[must_use]
pub fn awaiting_countersignature(etp: &EmergencyTreatmentPlan) -> bool {
    let current = crate::signing::current_signatures(etp);
    !current.is_empty() && !current.iter().any(|s| s.senior_responsible)
}

/// What the standing of a decision is judged from.
#[derive(Debug, Clone, Copy)]
pub struct StandingFacts<'a> {
    pub no_longer_valid: Option<&'a NoLongerValid>,
    pub unsigned_change: Option<&'a UnsignedChange>,
    /// Signatures cover the decision as it stands, but none is a senior responsible
    /// clinician's.
    pub awaiting_countersignature: bool,
    pub review_due: Option<NaiveDate>,
}

/// The standing of a decision as of a day: the gravest first.
#[must_use]
pub fn standing(facts: StandingFacts<'_>, today: NaiveDate) -> Standing {
    if facts.no_longer_valid.is_some() {
        Standing::SaidNoLongerValid
    } else if facts.unsigned_change.is_some() {
        Standing::ChangedAfterSigning
    } else if facts.awaiting_countersignature {
        Standing::AwaitingCountersignature
    } else if facts.review_due.is_some_and(|due| due < today) {
        Standing::ReviewOverdue
    } else {
        Standing::Current
    }
}

/// What an advance decision to refuse treatment adds to the CPR line, when one is held.
#[derive(Debug, Clone, Copy)]
pub struct AdrtNote<'a> {
    pub held: bool,
    pub location: Option<&'a str>,
    /// What it refuses, and when it applies, where recorded.
    pub refuses: Option<&'a str>,
    pub circumstances: Option<&'a str>,
}

/// The first words a reader meets about CPR: leading with the standing, in words that cannot be
/// misread ("no decision" is never "no CPR"), and naming an ADRT where one is held.
#[must_use]
pub fn headline(
    status: CprStatus,
    standing: Standing,
    facts: StandingFacts<'_>,
    adrt: AdrtNote<'_>,
    previous: Option<&PreviousDecision>,
) -> String {
    let no_longer_valid = facts.no_longer_valid;
    let review_due = facts.review_due;
    let decision = match status {
        CprStatus::ForCpr => "FOR CPR: CPR attempts recommended",
        CprStatus::NotForCpr => "NOT FOR CPR: CPR attempts not recommended",
        CprStatus::ModifiedCpr => "MODIFIED CPR: CPR as detailed in the plan",
        CprStatus::NoDecisionRecorded => {
            "No CPR decision on record \u{2014} use your usual clinical guidance"
        }
    };
    let mut line = match (standing, status) {
        (_, CprStatus::NoDecisionRecorded) => format!("{decision}."),
        (Standing::SaidNoLongerValid, _) => {
            let n = no_longer_valid;
            let when = n
                .and_then(|n| n.said_at)
                .map(|t| format!(" on {}", t.format("%-d %B %Y")))
                .unwrap_or_default();
            let who = n
                .and_then(|n| n.said_by.as_deref())
                .map(|w| format!(" by {w}"))
                .unwrap_or_default();
            let note = n
                .and_then(|n| n.note.as_deref())
                .map(|t| format!(": \u{201c}{t}\u{201d}"))
                .unwrap_or_default();
            format!(
                "DECISION UNDER REVIEW \u{2014} said no longer valid{when}{who}{note}. Earlier recommendation, not to be relied on: {decision}."
            )
        }
        (Standing::ChangedAfterSigning, _) => {
            let (who, when) = facts.unsigned_change.map_or_else(
                || (String::new(), String::new()),
                |u| {
                    (
                        format!(" by {}", who(&u.by)),
                        format!(" on {}", crate::text::uk_clock(u.at)),
                    )
                },
            );
            if facts.unsigned_change.is_some_and(|u| !u.signed_before) {
                format!(
                    "NOT SIGNED \u{2014} the decision was recorded{who}{when} and no signature is on record. Unsigned: {decision}."
                )
            } else {
                format!(
                    "CHANGED AFTER SIGNING \u{2014} the decision was changed{who}{when} and nobody has signed it since. Unsigned: {decision}."
                )
            }
        }
        (Standing::AwaitingCountersignature, _) => format!(
            "AWAITING SENIOR COUNTERSIGNATURE \u{2014} no senior responsible clinician has signed this decision yet. {decision}."
        ),
        (Standing::ReviewOverdue, _) => {
            let since = review_due
                .map(|d| format!(" since {}", d.format("%-d %B %Y")))
                .unwrap_or_default();
            format!(
                "{decision} \u{2014} review overdue{since}; the recommendations stand until reviewed."
            )
        }
        (Standing::Current, _) => format!("{decision}."),
    };
    if adrt.held {
        line.push_str(" An advance decision to refuse treatment is held");
        if let Some(place) = adrt.location {
            line.push_str(" (");
            line.push_str(place);
            line.push(')');
        }
        match adrt.refuses {
            Some(refuses) => {
                line.push_str(": it refuses \u{201c}");
                line.push_str(refuses);
                line.push('\u{201d}');
                if let Some(when) = adrt.circumstances {
                    line.push_str(" when \u{201c}");
                    line.push_str(when);
                    line.push('\u{201d}');
                }
                line.push_str("; read it before acting.");
            }
            None => line.push_str(": check what it refuses before acting."),
        }
    }
    if let Some(p) = previous {
        line.push(' ');
        line.push_str(&p.message);
    }
    line
}
