//! What the printed plan says, in the order a crew reads it.

use chrono::{DateTime, Utc};
use ucp_domain::views::{CprDecision, EmergencySummary};
use ucp_domain::{CarePlan, CprStatus, PlanSection, PlanStatus};
use uuid::Uuid;

use super::layout::Flow;

/// Where the live plan is, for the link and QR code on every page.
#[derive(Debug, Clone)]
pub struct PrintSettings {
    /// The service's public address, e.g. `https://ucp.example.nhs.uk` (`UCP_PUBLIC_URL`).
    pub public_url: String,
}

impl Default for PrintSettings {
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:8080".to_owned(),
        }
    }
}

/// What every page carries besides its content.
#[derive(Debug, Clone)]
pub struct Furniture {
    pub title: String,
    pub header: String,
    pub status_line: String,
    /// Across every page when the plan is not active.
    pub banner: Option<String>,
    pub link: String,
    pub footer: String,
}

/// An NHS number as people write it: 3-3-4.
#[must_use]
pub fn spaced(nhs: &str) -> String {
    if nhs.len() == 10 {
        format!("{} {} {}", &nhs[..3], &nhs[3..6], &nhs[6..])
    } else {
        nhs.to_owned()
    }
}

fn status_words(status: PlanStatus) -> &'static str {
    match status {
        PlanStatus::Active => "ACTIVE",
        PlanStatus::Withdrawn => "WITHDRAWN",
        PlanStatus::Deceased => "PERSON HAS DIED",
        PlanStatus::Voided => "VOIDED - MADE IN ERROR",
    }
}

impl Furniture {
    #[must_use]
    pub fn of(
        plan_id: Uuid,
        summary: &EmergencySummary,
        now: DateTime<Utc>,
        settings: &PrintSettings,
    ) -> Self {
        let base = settings.public_url.trim_end_matches('/');
        let name = format!("{} {}", summary.given_name, summary.family_name);
        Self {
            title: format!(
                "Universal Care Plan: {name}, NHS number {}",
                spaced(&summary.nhs_number.to_string())
            ),
            header: format!(
                "{name} - NHS number {} - Universal Care Plan",
                spaced(&summary.nhs_number.to_string())
            ),
            status_line: format!(
                "Plan version {} - status {} - produced {} UTC",
                summary.plan_version,
                status_words(summary.status),
                now.format("%Y-%m-%d %H:%M")
            ),
            banner: (summary.status != PlanStatus::Active)
                .then(|| format!("{} - DO NOT ACT ON THIS PLAN", status_words(summary.status))),
            link: format!("{base}/v1/care-plans/{plan_id}"),
            footer: "Check for a newer version: scan the code or open the link.".to_owned(),
        }
    }
}

/// The CPR line as the summary words it: leading with its standing, and "no decision" in words
/// that cannot be read as "no CPR" (never in capitals).
fn cpr_words(cpr: &CprDecision) -> String {
    if cpr.headline.is_empty() {
        // A summary is always judged before it is printed; this is never reached.
        return match cpr.status {
            CprStatus::NoDecisionRecorded => {
                "No CPR decision on record \u{2014} use your usual clinical guidance.".to_owned()
            }
            _ => "See the Emergency Treatment Plan below.".to_owned(),
        };
    }
    // The decision's own words in large type; what happened to an earlier decision follows in
    // its own line (see `emergency_page`), so the large line stays the decision.
    let decision = match &cpr.previous_decision {
        Some(p) => cpr
            .headline
            .strip_suffix(&p.message)
            .map_or_else(|| cpr.headline.clone(), |h| h.trim_end().to_owned()),
        None => cpr.headline.clone(),
    };
    // An ADRT held follows in its own line too (see `adrt_words`).
    // The last occurrence: a reviewer's note quoted earlier in the line may hold the words.
    match decision.rsplit_once(ADRT_HELD) {
        Some((before, _)) => before.trim_end().to_owned(),
        None => decision,
    }
}

/// How the headline says an ADRT is held.
const ADRT_HELD: &str = " An advance decision to refuse treatment is held";

/// The headline's sentence about an ADRT, if it has one.
fn adrt_words(cpr: &CprDecision) -> Option<String> {
    let (_, rest) = cpr.headline.rsplit_once(ADRT_HELD)?;
    let rest = match &cpr.previous_decision {
        Some(p) => rest.strip_suffix(&p.message).unwrap_or(rest).trim_end(),
        None => rest,
    };
    Some(format!("{}{rest}", ADRT_HELD.trim_start()))
}

/// Warnings the page already says in its own place: the CPR line leads with a decision's
/// standing and the trace follows it, and the banner says consent was withdrawn.
const SAID_ABOVE: [&str; 4] = [
    "not-still-valid",
    "changed-after-signing",
    "decision-changed",
    "consent-withdrawn",
];

fn author(a: &ucp_domain::Author) -> String {
    let name = a.name.clone().unwrap_or_else(|| a.actor.clone());
    match &a.organisation {
        Some(org) => format!("{name} ({}, {org})", a.role),
        None => format!("{name} ({})", a.role),
    }
}

fn or_none(value: Option<&String>) -> String {
    value.cloned().unwrap_or_else(|| "not recorded".to_owned())
}

/// What London's Universal Care Plan shows crews beside the ReSPECT form, when recorded.
fn london_items(f: &mut Flow, c: &ucp_domain::views::ClinicalView) {
    let yes_no = |v: ucp_domain::YesNoUnknown| match v {
        ucp_domain::YesNoUnknown::Yes => "yes",
        ucp_domain::YesNoUnknown::No => "no",
        ucp_domain::YesNoUnknown::Unknown => "not known",
    };
    let any = c.prognosis.is_some()
        || c.death_expected.is_some()
        || !c.current_medicines.is_empty()
        || c.weight.is_some()
        || c.dols_in_place.is_some()
        || c.safeguarding_concerns.is_some()
        || c.lives_alone.is_some();
    if !any {
        return;
    }
    f.heading(2, "Also known");
    if let Some(p) = c.prognosis {
        let words = match p {
            ucp_domain::Prognosis::Days => "days",
            ucp_domain::Prognosis::Weeks => "weeks",
            ucp_domain::Prognosis::Months => "months",
            ucp_domain::Prognosis::Years => "years",
            ucp_domain::Prognosis::Unknown => "not known",
        };
        f.field("Estimated prognosis", words);
    }
    if let Some(expected) = c.death_expected {
        f.field(
            "Death expected",
            &match (expected, &c.death_verified_by) {
                (true, Some(by)) => format!("yes; verified by {by}"),
                (true, None) => "yes".to_owned(),
                (false, _) => "no".to_owned(),
            },
        );
    }
    for m in &c.current_medicines {
        f.field(
            "Current medicine",
            &format!(
                "{}{}",
                m.name,
                m.dose_and_route
                    .as_ref()
                    .map(|d| format!(", {d}"))
                    .unwrap_or_default()
            ),
        );
    }
    if let Some(w) = &c.weight {
        f.field(
            "Weight",
            &format!("{} kg ({})", w.kilograms, w.measured_on.format("%d %B %Y")),
        );
    }
    if let Some(v) = c.dols_in_place {
        f.field("Deprivation of Liberty Safeguards", yes_no(v));
    }
    if let Some(s) = &c.safeguarding_concerns {
        f.field("Safeguarding", s);
    }
    if let Some(v) = c.lives_alone {
        f.field("Lives alone", yes_no(v));
    }
}

/// The whole document's content.
#[must_use]
pub fn lay_out(plan: &CarePlan, s: &EmergencySummary) -> Flow {
    let mut f = Flow::new();
    let address = match plan
        .section(PlanSection::PersonalInformation)
        .map(|st| &st.content)
    {
        Some(ucp_domain::SectionContent::PersonalInformation(pi)) => {
            let mut parts: Vec<String> = pi.address.lines.iter().map(ToString::to_string).collect();
            parts.push(pi.address.postcode.to_string());
            parts.join(", ")
        }
        _ => s.postcode.clone(),
    };
    emergency_page(&mut f, s, &address);
    // The emergency page stands alone: what a crew reads first is never split by the forms.
    f.page_break();
    let (personal, clinical): (Vec<_>, Vec<_>) = plan
        .sections
        .iter()
        .filter(|(section, _)| **section != PlanSection::PersonalInformation)
        .partition(|(section, _)| section.is_person_centred());
    if !personal.is_empty() {
        f.heading(1, "In the person's own words");
        for (section, state) in personal {
            section_text(&mut f, *section, state);
        }
    }
    if !clinical.is_empty() {
        f.heading(1, "Clinical sections");
        for (section, state) in clinical {
            // A plan that is not current prints no decision anywhere, not even on a later
            // page: a crew reading page 2 alone must not find one.
            if *section == PlanSection::EmergencyTreatmentPlan && plan.status != PlanStatus::Active
            {
                f.heading(2, &title(section.name()));
                f.paragraph(
                    &format!(
                        "Not printed: this plan {}. Its recommendations are not to be acted on.",
                        match plan.status {
                            PlanStatus::Withdrawn => "was withdrawn",
                            PlanStatus::Deceased => "was closed after the person's death",
                            PlanStatus::Voided => "was made in error and voided",
                            PlanStatus::Active => "is active",
                        }
                    ),
                    11.0,
                    true,
                );
                continue;
            }
            section_text(&mut f, *section, state);
        }
    }
    f
}

#[allow(clippy::too_many_lines)] // one block after another, in the order a crew reads them
fn emergency_page(f: &mut Flow, s: &EmergencySummary, address: &str) {
    f.heading(1, "Emergency page");
    f.paragraph(&format!("{} {}", s.given_name, s.family_name), 16.0, true);
    if let Some(preferred) = &s.preferred_name {
        f.field("Known as", preferred);
    }
    f.field("NHS number", &spaced(&s.nhs_number.to_string()));
    f.field(
        "Date of birth",
        &format!("{} (age {})", s.birth_date.format("%d %B %Y"), s.age_years),
    );
    if s.child {
        f.paragraph(&format!("CHILD: {} years old", s.age_years), 13.0, true);
    }
    f.field("Address", address);
    if let Some(n) = &s.not_current {
        f.gap();
        f.paragraph(
            &format!(
                "THIS PLAN IS {}: DO NOT ACT ON IT ({}, by {}{}).",
                status_words(n.status),
                n.since.format("%d %B %Y"),
                author(&n.by),
                n.reason
                    .as_ref()
                    .map(|r| format!("; {r}"))
                    .unwrap_or_default()
            ),
            13.0,
            true,
        );
    }

    if let Some(w) = &s.consent_withdrawn {
        f.gap();
        f.paragraph(
            &format!(
                "CONSENT TO SHARE WITHDRAWN on {}: for the person and those caring for them directly only. Do not share it further. The recommendations below are not revoked.",
                w.at.format("%d %B %Y")
            ),
            13.0,
            true,
        );
    }

    f.heading(2, "CPR decision");
    match &s.cpr {
        Some(cpr) => {
            f.paragraph(&cpr_words(cpr), 20.0, true);
            if let Some(adrt) = adrt_words(cpr) {
                f.paragraph(&adrt, 13.0, true);
            }
            if let Some(p) = &cpr.previous_decision {
                f.paragraph(&format!("Earlier decision: {}", p.message), 12.0, true);
            }
            if let Some(details) = &cpr.modified_cpr_details {
                f.field("Modified CPR", details);
            }
            match (&cpr.recorded_at, &cpr.recorded_by) {
                (Some(at), Some(by)) => f.field(
                    "Recorded",
                    &format!("{} by {}", at.format("%d %B %Y %H:%M UTC"), author(by)),
                ),
                _ => f.field("Recorded", "no Emergency Treatment Plan has been recorded"),
            }
            if cpr.signatures.is_empty() && cpr.recorded_at.is_some() {
                f.field(
                    "Signed",
                    "nobody has signed the decision as it stands (see above)",
                );
            }
            for sig in &cpr.signatures {
                f.field(
                    "Signed",
                    &format!(
                        "{}, {}, {}{}, {}{}",
                        sig.name,
                        sig.role,
                        sig.registration_number,
                        if sig.senior_responsible {
                            ", senior responsible clinician"
                        } else {
                            ""
                        },
                        sig.signed_at.format("%d %B %Y %H:%M UTC"),
                        match &sig.transcribed_by {
                            Some(by) => format!(" (on paper; transcribed by {by})"),
                            None =>
                                " (signed electronically in the Universal Care Plan)".to_owned(),
                        }
                    ),
                );
            }
        }
        None => f.paragraph("No CPR decision: this plan is not active.", 14.0, true),
    }
    let c = &s.currency;
    f.field(
        "Review due",
        &c.review_due.map_or_else(
            || "no review date".to_owned(),
            |d| {
                if c.overdue {
                    format!(
                        "{} (overdue: the recommendations stand until reviewed)",
                        d.format("%d %B %Y")
                    )
                } else {
                    d.format("%d %B %Y").to_string()
                }
            },
        ),
    );
    if let Some(r) = &c.last_review {
        f.field(
            "Last reviewed",
            &format!(
                "{}{}{}",
                r.reviewed_at
                    .map(|t| t.format("%d %B %Y").to_string())
                    .unwrap_or_default(),
                r.reviewed_by
                    .as_ref()
                    .map(|b| format!(" by {b}"))
                    .unwrap_or_default(),
                match r.still_valid {
                    Some(false) => " - said to be NO LONGER VALID",
                    Some(true) => " - still valid",
                    None => "",
                }
            ),
        );
    }
    for w in s
        .warnings
        .iter()
        .filter(|w| !SAID_ABOVE.contains(&w.code.as_str()))
    {
        f.paragraph(&format!("Warning: {}", w.message), 11.0, true);
    }

    if let Some(u) = &s.shared_understanding {
        f.heading(2, "Shared understanding of health and condition");
        f.paragraph(&u.text, 11.0, false);
    }

    if let Some(t) = &s.treatment {
        f.heading(2, "Treatment recommendations");
        f.field(
            "Focus of care",
            if t.clinical_focus_words.is_empty() {
                ucp_domain::views::focus_words(t.clinical_focus)
            } else {
                &t.clinical_focus_words
            },
        );
        for i in &t.interventions {
            f.field(
                &i.intervention,
                &format!(
                    "{}{}",
                    if i.recommended {
                        "recommended"
                    } else {
                        "not recommended"
                    },
                    i.reason
                        .as_ref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default()
                ),
            );
        }
    }

    f.heading(2, "Legal facts");
    let l = &s.legal;
    f.field(
        "Advance decision to refuse treatment",
        &format!(
            "{}{}",
            match l.adrt.held {
                ucp_domain::views::AdrtHeld::Yes => "held",
                ucp_domain::views::AdrtHeld::No => "none",
                ucp_domain::views::AdrtHeld::Unknown => "not known",
                ucp_domain::views::AdrtHeld::NotRecorded => "not recorded",
            },
            l.adrt
                .location
                .as_ref()
                .map(|w| format!(", kept: {w}"))
                .unwrap_or_default()
        ),
    );
    if l.lpa_health_and_welfare.is_empty() {
        f.field(
            "Lasting power of attorney (health and welfare)",
            "none recorded",
        );
    }
    for a in &l.lpa_health_and_welfare {
        f.field(
            "Lasting power of attorney (health and welfare)",
            &format!(
                "{} ({}), {}; covers life-sustaining treatment: {}{}",
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
                    .map(|r| format!("; OPG {r}"))
                    .unwrap_or_default()
            ),
        );
    }
    for p in &l.parental_responsibility {
        f.field(
            "Parental responsibility",
            &format!("{} ({}), {}", p.name, p.relationship, p.phone),
        );
    }
    f.field(
        "Legal welfare proxy",
        &or_none(l.legal_welfare_proxy.as_ref()),
    );
    f.field(
        "Capacity",
        &l.capacity
            .and_then(|c| serde_json::to_value(c).ok())
            .and_then(|v| v.as_str().map(|s| s.replace('-', " ")))
            .unwrap_or_else(|| "not recorded".to_owned()),
    );

    f.heading(2, "Alerts");
    let a = &s.alerts;
    f.field("Access to the home", &or_none(a.access_to_home.as_ref()));
    if a.key_safe {
        f.field("Key safe", "yes");
    }
    for h in &a.hazards {
        f.field("Hazard", h);
    }
    for n in &a.communication {
        f.field("Communication", &n.detail);
    }
    if a.interpreter_needed {
        f.field("Interpreter needed", &or_none(a.main_language.as_ref()));
    }

    london_items(f, &s.clinical);

    f.heading(2, "First contacts");
    match &s.contacts.first {
        Some(c) => f.field(
            "Call first",
            &format!("{} ({}), {}", c.name, c.relationship, c.phone),
        ),
        None => f.field("Call first", "no one named"),
    }
    for p in &s.contacts.professional {
        f.field(&p.role, &format!("{}, {}", p.name, p.phone));
    }
    f.field(
        "Preferred place of care",
        &or_none(s.wishes.preferred_place_of_care.as_ref()),
    );
    f.field(
        "Preferred place of death",
        &or_none(s.wishes.preferred_place_of_death.as_ref()),
    );
}

/// A section's every field, by name, in the order the form has them.
fn section_text(f: &mut Flow, section: PlanSection, state: &ucp_domain::SectionState) {
    f.heading(2, &title(section.name()));
    f.paragraph(
        &format!(
            "Saved {} by {}{}",
            state.changed_at.format("%d %B %Y"),
            author(&state.changed_by),
            if state.changed_by.role == "patient" {
                " (the person's own words)"
            } else {
                ""
            }
        ),
        9.0,
        false,
    );
    let value = serde_json::to_value(&state.content).unwrap_or_default();
    let mut lines = Vec::new();
    flatten("", &value, &mut lines);
    for (label, text) in lines {
        if label.is_empty() {
            f.paragraph(&text, 10.0, false);
        } else {
            f.field(&label, &text);
        }
    }
}

/// `what-matters` → `What matters`; `inTheirOwnWords` → `In their own words`.
fn title(key: &str) -> String {
    let mut words = String::new();
    for (i, c) in key.chars().enumerate() {
        if c == '-' {
            words.push(' ');
        } else if c.is_uppercase() && i > 0 {
            words.push(' ');
            words.extend(c.to_lowercase());
        } else {
            words.push(c);
        }
    }
    let mut chars = words.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn flatten(label: &str, value: &serde_json::Value, out: &mut Vec<(String, String)>) {
    match value {
        serde_json::Value::Null => {}
        serde_json::Value::Bool(b) => {
            out.push((label.to_owned(), if *b { "yes" } else { "no" }.to_owned()))
        }
        serde_json::Value::Number(n) => out.push((label.to_owned(), n.to_string())),
        serde_json::Value::String(s) => out.push((label.to_owned(), s.clone())),
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let l = if label.is_empty() {
                    format!("{}", i + 1)
                } else {
                    format!("{label} {}", i + 1)
                };
                flatten(&l, item, out);
            }
        }
        serde_json::Value::Object(fields) => {
            for (k, v) in fields {
                let l = if label.is_empty() {
                    title(k)
                } else {
                    format!("{label}, {}", title(k).to_lowercase())
                };
                flatten(&l, v, out);
            }
        }
    }
}
