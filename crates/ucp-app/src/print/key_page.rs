//! Page 1: the ReSPECT key page, in the v3 form's order and words (sections 1 to 9), with what
//! a crew needs beside them: a CHILD flag with age and weight, allergies, and anticipatory
//! medicines with where they are kept. A plan that is not current prints who the person is
//! and that the plan is not to be acted on — no recommendation.

use ucp_domain::views::{CprDecision, EmergencySummary};
use ucp_domain::{CarePlan, PlanSection, SectionContent};

use super::layout::{clip, Flow, PARAGRAPH_ROOM, TEXT, VALUE_ROOM};
use super::words::{self, day, day_of, spaced, when};
use super::NotToActOn;

/// The ReSPECT form this page follows.
pub const FORM_VERSION: &str = "ReSPECT version 3";

/// The form's section titles, numbered as the v3 form numbers them.
pub const SECTIONS: [&str; 9] = [
    "1. This plan belongs to",
    "2. Shared understanding of my health and current condition",
    "3. What matters to me in decisions about my treatment and care in an emergency",
    "4. Clinical recommendations for emergency care and treatment",
    "5. Capacity and representation at time of completion",
    "6. Involvement in making this plan",
    "7. Clinicians' signatures",
    "8. Emergency contacts and those involved in discussing this plan",
    "9. Form reviewed and remains relevant",
];

/// How the headline says an ADRT is held.
const ADRT_HELD: &str = " An advance decision to refuse treatment is held";

/// The CPR line as the summary words it, leading with its standing; the ADRT and an earlier
/// decision follow in their own lines, so the large line stays the decision.
fn cpr_words(cpr: &CprDecision) -> String {
    if cpr.headline.is_empty() {
        return "See the clinical recommendations in the plan.".to_owned();
    }
    let decision = match &cpr.previous_decision {
        Some(p) => cpr
            .headline
            .strip_suffix(&p.message)
            .map_or_else(|| cpr.headline.clone(), |h| h.trim_end().to_owned()),
        None => cpr.headline.clone(),
    };
    // The last occurrence: a reviewer's note quoted earlier in the line may hold the words.
    match decision.rsplit_once(ADRT_HELD) {
        Some((before, _)) => before.trim_end().to_owned(),
        None => decision,
    }
}

/// The headline's sentence about an ADRT, if it has one.
fn adrt_words(cpr: &CprDecision) -> Option<String> {
    let (_, rest) = cpr.headline.rsplit_once(ADRT_HELD)?;
    let rest = match &cpr.previous_decision {
        Some(p) => rest.strip_suffix(&p.message).unwrap_or(rest).trim_end(),
        None => rest,
    };
    Some(format!("{}{rest}", ADRT_HELD.trim_start()))
}

/// Warnings the page already says in its own place.
const SAID_ABOVE: [&str; 4] = [
    "not-still-valid",
    "changed-after-signing",
    "decision-changed",
    "consent-withdrawn",
];

/// The day the form was completed: that of the signatures over the decision as it stands,
/// else the day it was recorded.
fn completed(plan: &CarePlan, s: &EmergencySummary) -> Option<String> {
    let etp = match plan
        .section(PlanSection::EmergencyTreatmentPlan)
        .map(|st| &st.content)
    {
        Some(SectionContent::EmergencyTreatmentPlan(etp)) => etp,
        _ => return None,
    };
    ucp_domain::signing::current_signatures(etp)
        .iter()
        .map(|sig| sig.signed_at)
        .min()
        .or_else(|| s.cpr.as_ref().and_then(|c| c.recorded_at))
        .map(day_of)
}

/// Page 1.
#[allow(clippy::too_many_lines)] // the form's nine sections, one after another
pub fn lay_out(
    f: &mut Flow,
    plan: &CarePlan,
    s: &EmergencySummary,
    address: &str,
    not_to_act_on: Option<NotToActOn>,
    legacy_consent: bool,
) {
    f.title("ReSPECT: Recommended Summary Plan for Emergency Care and Treatment");
    let completed = completed(plan, s);
    f.paragraph(
        format!(
            "{FORM_VERSION} form, kept in the Universal Care Plan (plan version {}). Section \
             numbers are the form's.",
            s.plan_version
        ),
        8.5,
        false,
    );

    if let Some(NotToActOn::Superseded { version, since }) = not_to_act_on {
        f.gap();
        f.paragraph(
            format!(
                "NOT CURRENT: THIS IS VERSION {version} OF THE PLAN, SUPERSEDED on {}. DO NOT ACT ON IT. Its recommendations are not printed: the plan as it stands is in the Universal Care Plan.",
                day_of(since)
            ),
            13.0,
            true,
        );
    }
    if let Some(n) = s.not_current.as_ref().filter(|_| !legacy_consent) {
        f.gap();
        f.paragraph(
            format!(
                "NOT CURRENT: THIS PLAN WAS {} on {} by {}{}. DO NOT ACT ON IT. Its recommendations are not printed.",
                match n.status {
                    ucp_domain::PlanStatus::Withdrawn => "WITHDRAWN",
                    ucp_domain::PlanStatus::Voided => "VOIDED (made in error)",
                    ucp_domain::PlanStatus::Deceased => "CLOSED after the person's death",
                    ucp_domain::PlanStatus::Active => "ACTIVE",
                },
                day_of(n.since),
                words::author(&n.by),
                n.reason
                    .as_ref()
                    .map(|r| format!(" (\u{201c}{r}\u{201d})"))
                    .unwrap_or_default()
            ),
            13.0,
            true,
        );
    }
    if legacy_consent {
        f.gap();
        f.paragraph(
            format!(
                "CONSENT TO SHARE WITHDRAWN on {}: the plan is no longer shared. Its recommendations are not revoked, and copies printed before then may still be valid: check each with the code printed on it. They are not printed here.",
                s.not_current
                    .as_ref()
                    .map_or_else(|| "a date not recorded".to_owned(), |n| day_of(n.since))
            ),
            12.0,
            true,
        );
    }
    if let Some(w) = &s.consent_withdrawn {
        f.gap();
        f.paragraph(
            format!(
                "CONSENT TO SHARE WITHDRAWN on {}: for the person and those caring for them directly only. Do not share it further. The recommendations are not revoked.",
                day_of(w.at)
            ),
            11.0,
            true,
        );
    }

    // 1. The person.
    f.section(SECTIONS[0], |f| {
        f.paragraph(format!("{} {}", s.given_name, s.family_name), 13.0, true);
    });
    if let Some(preferred) = &s.preferred_name {
        f.field("Known as", preferred);
    }
    f.field(
        "Date of birth",
        format!("{} (age {})", day(s.birth_date), s.age_years),
    );
    f.field("NHS number", spaced(&s.nhs_number.to_string()));
    f.field("Address", address);
    if s.child {
        let today = s.currency.as_of;
        f.paragraph(
            format!(
                "CHILD: {}{}",
                age_words(s.birth_date, today),
                s.clinical
                    .weight
                    .as_ref()
                    .map(|w| format!(
                        "; weight {} kg (measured {}{})",
                        w.kilograms,
                        day(w.measured_on),
                        // A baby's weight changes by the week; an older child's by the season.
                        match (s.age_years < 1, (today - w.measured_on).num_days()) {
                            (true, days) if days > 30 =>
                                ", over a month ago: weigh again if you can",
                            (false, days) if days > 90 => {
                                ", over 3 months ago: weigh again if you can"
                            }
                            _ => "",
                        }
                    ))
                    .unwrap_or_else(|| "; weight not recorded".to_owned())
            ),
            12.0,
            true,
        );
    }
    f.field(
        "Date completed",
        completed.as_deref().unwrap_or("not completed"),
    );

    if legacy_consent {
        f.gap();
        f.paragraph(
            "Sections 2 to 9 of the form are not printed: consent to share was withdrawn.",
            11.0,
            true,
        );
        return;
    }
    if let Some(why) = not_to_act_on {
        f.gap();
        f.paragraph(
            match why {
                NotToActOn::Ended { .. } => {
                    "Sections 2 to 9 of the form are not printed: this plan is not current. Do \
                     not act on any earlier printed copy of it either."
                }
                NotToActOn::Superseded { .. } => {
                    "Sections 2 to 9 of the form are not printed: this copy is not the plan as \
                     it stands. Check any other printed copy with the code printed on it."
                }
            },
            11.0,
            true,
        );
        return;
    }

    // 2. Shared understanding.
    f.section(SECTIONS[1], |f| match &s.shared_understanding {
        Some(u) => f.paragraph(clip(&u.text, TEXT, false, PARAGRAPH_ROOM, 6), TEXT, false),
        None => f.paragraph("Not recorded.", TEXT, false),
    });
    f.field("Allergies", allergies(s));
    let l = &s.legal;
    f.field(
        "ADRT (advance decision)",
        clip(
            &match l.adrt.held {
                ucp_domain::views::AdrtHeld::Yes => format!(
                    "Held{}{}{}",
                    l.adrt
                        .refuses
                        .as_ref()
                        .map(|r| format!("; refuses: {r}"))
                        .unwrap_or_default(),
                    l.adrt
                        .circumstances
                        .as_ref()
                        .map(|c| format!("; applies when: {c}"))
                        .unwrap_or_default(),
                    l.adrt
                        .location
                        .as_ref()
                        .map(|w| format!("; kept: {w}"))
                        .unwrap_or_default()
                ),
                ucp_domain::views::AdrtHeld::No => "None".to_owned(),
                ucp_domain::views::AdrtHeld::Unknown => "Not known".to_owned(),
                ucp_domain::views::AdrtHeld::NotRecorded => "Not recorded".to_owned(),
            },
            TEXT,
            false,
            VALUE_ROOM,
            4,
        ),
    );
    if let Some(other) = other_documents(plan) {
        f.field("Other planning documents", &other);
    }

    // 3. What matters.
    f.section(SECTIONS[2], |f| match &s.what_matters_in_emergency {
        Some(w) => {
            f.field(
                "Where I am on the scale",
                &match w.priority_scale {
                    Some(n) => format!(
                        "{n} on a scale from 0 (\u{201c}{}\u{201d}) to 10 (\u{201c}{}\u{201d})",
                        w.scale_ends.at_0, w.scale_ends.at_10
                    ),
                    None => "Not marked".to_owned(),
                },
            );
        }
        None => f.paragraph("Not recorded on the form.", TEXT, false),
    });
    if let Some(w) = &s.what_matters_in_emergency {
        if let Some(v) = &w.most_value {
            f.field("What I most value", short(v));
        }
        if let Some(v) = &w.most_fear_or_avoid {
            f.field("Most fear or wish to avoid", short(v));
        }
        if let Some(src) = w.sources.first() {
            f.paragraph(
                format!(
                    "Recorded on the form by {} on {}.",
                    words::author(&src.changed_by),
                    when(src.changed_at)
                ),
                7.5,
                false,
            );
        }
    }
    if let Some(own) = &s.in_their_own_words {
        f.field("What Matters form", short(&own.text));
        if let Some(src) = own.sources.first() {
            f.paragraph(
                words::whose_words(&src.changed_by, src.changed_at),
                7.5,
                false,
            );
        }
    }

    // 4. Clinical recommendations: focus, interventions, then CPR.
    f.section(SECTIONS[3], |f| {
        // A decision that does not stand as it was signed says so before anything in it.
        if let Some(words) = s.cpr.as_ref().and_then(|c| standing_words(c.standing)) {
            f.paragraph(words, 10.0, true);
        }
        treatment_focus(f, s);
    });
    if let Some(t) = &s.treatment {
        for i in &t.interventions {
            f.field(
                &i.intervention,
                short(&format!(
                    "{}{}",
                    if i.recommended {
                        "Recommended"
                    } else {
                        "Not recommended"
                    },
                    i.reason
                        .as_ref()
                        .map(|r| format!(": {r}"))
                        .unwrap_or_default()
                )),
            );
        }
    }
    match &s.cpr {
        Some(cpr) => {
            f.gap();
            f.paragraph(cpr_words(cpr), 14.0, true);
            if let Some(adrt) = adrt_words(cpr) {
                f.paragraph(&adrt, 11.0, true);
            }
            if let Some(p) = &cpr.previous_decision {
                f.paragraph(format!("Earlier decision: {}", p.message), 10.0, true);
            }
            if let Some(details) = &cpr.modified_cpr_details {
                f.field(
                    "Modified CPR, as detailed",
                    clip(details, TEXT, false, VALUE_ROOM, 4),
                );
            }
            // Who made the decision as it stands, not whoever last saved the form (a phone
            // number changed on the form later does not make them its author).
            let made = plan
                .decision
                .as_ref()
                .map(|d| (d.at, &d.by))
                .or_else(|| cpr.recorded_at.zip(cpr.recorded_by.as_ref()));
            if let Some((at, by)) = made {
                f.field(
                    "Decision recorded",
                    format!("{} by {}", when(at), words::author(by)),
                );
            }
        }
        None => f.paragraph("No CPR decision: this plan is not active.", 13.0, true),
    }
    for w in s
        .warnings
        .iter()
        .filter(|w| !SAID_ABOVE.contains(&w.code.as_str()))
    {
        f.paragraph(format!("Warning: {}", w.message), 9.5, true);
    }

    // 5. Capacity and representation.
    f.section(SECTIONS[4], |f| {
        f.field(
            "Capacity to take part",
            l.capacity.map_or("Not recorded", words::capacity),
        );
    });
    if let Some(a) = &l.capacity_assessment {
        f.field("How capacity was assessed", short(a));
    }
    f.field(
        "Legal welfare proxy",
        l.legal_welfare_proxy.as_deref().unwrap_or("None recorded"),
    );
    if let Some(p) = &l.legal_proxy_participation {
        f.field("The proxy's part in this plan", short(p));
    }
    for a in &l.lpa_health_and_welfare {
        f.field(
            "Lasting power of attorney (health and welfare)",
            format!(
                "{} ({}), {}. Covers life-sustaining treatment: {}{}",
                a.name,
                a.relationship,
                a.phone,
                match a.covers_life_sustaining_treatment {
                    ucp_domain::views::Recorded::Yes => "yes",
                    ucp_domain::views::Recorded::No => "no",
                    ucp_domain::views::Recorded::Unknown => "not known",
                    ucp_domain::views::Recorded::NotRecorded => "not recorded",
                },
                a.opg_reference
                    .as_ref()
                    .map(|r| format!(". OPG registration {r}"))
                    .unwrap_or_default()
            ),
        );
    }
    for p in &l.parental_responsibility {
        f.field(
            "Parental responsibility",
            format!("{} ({}), {}", p.name, p.relationship, p.phone),
        );
    }

    // 6. Involvement.
    f.section(SECTIONS[5], |f| {
        if l.involvement.is_empty() {
            f.paragraph("Not recorded.", TEXT, false);
        }
        for i in &l.involvement {
            f.paragraph(words::involvement(*i), TEXT, false);
        }
    });
    if let Some(d) = &l.involvement_detail {
        f.field("Who took part, and when", short(d));
    }

    // 7. Signatures.
    f.section(SECTIONS[6], |f| match &s.cpr {
        Some(cpr) if cpr.signatures.is_empty() && cpr.recorded_at.is_some() => f.paragraph(
            "NOT SIGNED: nobody has signed the recommendations as they stand.",
            11.0,
            true,
        ),
        Some(cpr) if cpr.recorded_at.is_some() => {
            for sig in &cpr.signatures {
                signature(f, sig);
            }
        }
        _ => f.paragraph(
            "No Emergency Treatment Plan has been recorded.",
            TEXT,
            false,
        ),
    });

    // 8. Emergency contacts.
    f.section(SECTIONS[7], |f| match &s.contacts.first {
        Some(c) => f.field(
            "Call first",
            format!("{} ({}), {}", c.name, c.relationship, c.phone),
        ),
        None => f.field("Call first", "No one named"),
    });
    for c in etp_contacts(plan) {
        f.field(&c.0, &c.1);
    }

    // 9. Review.
    let c = &s.currency;
    f.section(SECTIONS[8], |f| {
        f.field(
            "Review due",
            c.review_due.map_or_else(
                || "No review date".to_owned(),
                |d| {
                    if c.overdue {
                        format!(
                            "{} (OVERDUE: the recommendations stand until reviewed)",
                            day(d)
                        )
                    } else {
                        day(d)
                    }
                },
            ),
        );
    });
    if let Some(r) = &c.last_review {
        f.field(
            "Last reviewed",
            format!(
                "{}{}{}",
                r.reviewed_at.map(day_of).unwrap_or_default(),
                r.reviewed_by
                    .as_ref()
                    .map(|b| format!(" by {b}"))
                    .unwrap_or_default(),
                match r.still_valid {
                    Some(false) => ": said to be NO LONGER VALID",
                    Some(true) => ": remains relevant",
                    None => "",
                }
            ),
        );
    }

    // Beside the form: what a crew reaches for next.
    let m = &s.anticipatory_medicines;
    if !m.items.is_empty() || m.location.is_some() {
        // Where they are and what they are, together: never split by a page break.
        f.keep(|f| anticipatory_medicines(f, m));
    }
}

fn anticipatory_medicines(f: &mut Flow, m: &ucp_domain::views::MedicinesView) {
    f.section("Anticipatory medicines at home", |f| {
        f.field(
            "Kept",
            m.location
                .as_deref()
                .unwrap_or("Where they are kept is not recorded"),
        );
    });
    for item in &m.items {
        f.field(
            &item.name,
            [item.dose_and_route.as_deref(), item.indication.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("; "),
        );
    }
}

fn allergies(s: &EmergencySummary) -> String {
    if !s.clinical.allergies.is_empty() {
        return s.clinical.allergies.join(", ");
    }
    match s.clinical.allergy_status {
        ucp_domain::views::AllergyStatus::NoKnownAllergies => "No known allergies".to_owned(),
        _ => "Not recorded: ask".to_owned(),
    }
}

fn signature(f: &mut Flow, sig: &ucp_domain::views::SignatureView) {
    f.field(
        &sig.role,
        format!(
            "{}, {}{}. {}",
            sig.name,
            sig.registration_number,
            if sig.senior_responsible {
                ", senior responsible clinician"
            } else {
                ""
            },
            match &sig.transcribed_by {
                Some(by) => format!(
                    "Signed on paper on {}; transcribed into the Universal Care Plan by {by}",
                    when(sig.signed_at)
                ),
                None => format!(
                    "Electronically signed in the Universal Care Plan on {}",
                    when(sig.signed_at)
                ),
            }
        ),
    );
}

/// The form's own emergency contacts (section 8), as label and value.
fn etp_contacts(plan: &CarePlan) -> Vec<(String, String)> {
    match plan
        .section(PlanSection::EmergencyTreatmentPlan)
        .map(|st| &st.content)
    {
        Some(SectionContent::EmergencyTreatmentPlan(etp)) => etp
            .emergency_contacts
            .iter()
            .map(|c| {
                (
                    c.role_or_relationship.to_string(),
                    format!(
                        "{}, {}{}",
                        c.name,
                        c.phone,
                        if c.primary { " (primary contact)" } else { "" }
                    ),
                )
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Other care-planning documents and where they are, from the form and Thinking Ahead.
fn other_documents(plan: &CarePlan) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(SectionContent::EmergencyTreatmentPlan(etp)) = plan
        .section(PlanSection::EmergencyTreatmentPlan)
        .map(|st| &st.content)
    {
        if let Some(o) = &etp.other_planning_documents {
            parts.push(o.to_string());
        }
    }
    if let Some(SectionContent::ThinkingAhead(t)) = plan
        .section(PlanSection::ThinkingAhead)
        .map(|st| &st.content)
    {
        for d in &t.other_planning_documents {
            parts.push(format!("{} (kept: {})", d.name, d.location));
        }
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// Section 4's focus of care, in the form's words.
fn treatment_focus(f: &mut Flow, s: &EmergencySummary) {
    match &s.treatment {
        Some(t) => f.field(
            "Focus of care",
            if t.clinical_focus_words.is_empty() {
                ucp_domain::views::focus_words(t.clinical_focus)
            } else {
                &t.clinical_focus_words
            },
        ),
        None => f.paragraph(
            "No Emergency Treatment Plan has been recorded.",
            TEXT,
            false,
        ),
    }
}

/// What stands against the recommendations, said before them (the CPR line says it again).
fn standing_words(standing: ucp_domain::standing::Standing) -> Option<&'static str> {
    use ucp_domain::standing::Standing;
    match standing {
        Standing::Current => None,
        Standing::ReviewOverdue => {
            Some("REVIEW OVERDUE: these recommendations stand until they are reviewed.")
        }
        Standing::SaidNoLongerValid => Some(
            "DECISION UNDER REVIEW: a review said these recommendations are no longer valid (see the CPR line below).",
        ),
        Standing::ChangedAfterSigning => Some(
            "CHANGED AFTER SIGNING: nobody has signed these recommendations as they stand (see section 7).",
        ),
        Standing::AwaitingCountersignature => Some(
            "AWAITING SENIOR COUNTERSIGNATURE: no senior responsible clinician has signed these recommendations yet.",
        ),
    }
}

/// A child's age as a reader wants it: months under 2, years after.
fn age_words(birth: chrono::NaiveDate, today: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    let mut months =
        (today.year() - birth.year()) * 12 + today.month() as i32 - birth.month() as i32;
    if today.day() < birth.day() {
        months -= 1;
    }
    let months = months.max(0);
    if months < 24 {
        format!("{months} month{} old", if months == 1 { "" } else { "s" })
    } else {
        format!("{} years old", months / 12)
    }
}

/// A free text on page 1 cut to three lines (the full text is on a later page): however long
/// what people write, the form's nine sections stay on one page, the CPR line with them.
fn short(text: &str) -> String {
    clip(text, TEXT, false, VALUE_ROOM, 3)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    #[test]
    fn a_childs_age_is_in_months_under_two() {
        assert_eq!(age_words(d(2026, 11, 20), d(2026, 12, 7)), "0 months old");
        assert_eq!(age_words(d(2025, 12, 7), d(2026, 12, 7)), "12 months old");
        assert_eq!(age_words(d(2024, 12, 8), d(2026, 12, 7)), "23 months old");
        assert_eq!(age_words(d(2019, 3, 1), d(2026, 12, 7)), "7 years old");
    }
}
