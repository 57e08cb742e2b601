//! Pages 2 onwards: the rest of the plan, section by section in the plan's own order, each
//! headed by whose words it is, with human labels and no codes. A copy not to act on (a plan
//! that ended, a version since superseded) prints none of it: not even the person's own forms,
//! which may hold an ADRT's refusal or, on a plan voided as made in error, someone else's wishes.

use ucp_domain::{CarePlan, PlanSection, PlanStatus, SectionContent, SectionState};

use super::layout::{Flow, TEXT};
use super::words::{self, day, section_title, when, yes, yes_no};
use super::NotToActOn;

/// Pages 2 onwards.
pub fn lay_out(
    f: &mut Flow,
    plan: &CarePlan,
    not_to_act_on: Option<NotToActOn>,
    legacy_consent: bool,
) {
    f.title("The rest of the plan");
    f.paragraph(
        "Each part says whose words it is. The Emergency Treatment Plan is on page 1.",
        8.5,
        false,
    );
    for section in PlanSection::ALL {
        let Some(state) = plan.section(section) else {
            continue;
        };
        if not_to_act_on.is_some() || legacy_consent {
            // A crew reading a later page alone must not find anything to act on in it.
            f.section(section_title(section), |f| {
                f.paragraph(
                    format!(
                        "Not printed: {}.",
                        match not_to_act_on {
                            Some(NotToActOn::Ended { status: PlanStatus::Withdrawn, .. }) =>
                                "this plan was withdrawn; do not act on it",
                            Some(NotToActOn::Ended { status: PlanStatus::Deceased, .. }) =>
                                "this plan was closed after the person's death",
                            Some(NotToActOn::Ended { status: PlanStatus::Voided, .. }) =>
                                "this plan was made in error and voided; do not act on it",
                            Some(NotToActOn::Ended { status: PlanStatus::Active, .. }) => "",
                            Some(NotToActOn::Superseded { .. }) =>
                                "this copy is of a version the plan has since moved on from; do not act on it",
                            None => "consent to share was withdrawn",
                        }
                    ),
                    10.0,
                    true,
                );
            });
            continue;
        }
        section_block(f, section, state);
    }
}

fn section_block(f: &mut Flow, section: PlanSection, state: &SectionState) {
    f.section(section_title(section), |f| {
        f.paragraph(
            words::whose_words(&state.changed_by, state.changed_at),
            8.0,
            false,
        );
    });
    match &state.content {
        SectionContent::PersonalInformation(p) => {
            if let Some(g) = &p.gender {
                f.field("Gender", g);
            }
            if let Some(phone) = &p.phone {
                f.field("Phone", phone);
            }
            if let Some(l) = &p.main_language {
                f.field("Main language", l);
            }
            f.field("Interpreter needed", yes(p.interpreter_needed));
        }
        SectionContent::Contacts(c) => {
            for p in &c.personal {
                let mut notes = Vec::new();
                if p.contact_first {
                    notes.push("call first".to_owned());
                }
                if p.next_of_kin {
                    notes.push("next of kin".to_owned());
                }
                if p.carer {
                    notes.push("carer".to_owned());
                }
                if p.parental_responsibility {
                    notes.push("holds parental responsibility".to_owned());
                }
                notes.push(format!(
                    "LPA health and welfare: {}",
                    yes_no(p.lpa_health_and_welfare).to_lowercase()
                ));
                if let Some(v) = p.lpa_covers_life_sustaining_treatment {
                    notes.push(format!(
                        "covers life-sustaining treatment: {}",
                        yes_no(v).to_lowercase()
                    ));
                }
                if let Some(r) = &p.lpa_registration_reference {
                    notes.push(format!("OPG registration {r}"));
                }
                notes.push(format!(
                    "LPA property and financial: {}",
                    yes_no(p.lpa_property_and_financial).to_lowercase()
                ));
                f.field(
                    &p.relationship,
                    format!("{}, {} ({})", p.name, p.phone, notes.join("; ")),
                );
            }
            for p in &c.professional {
                f.field(
                    &p.role,
                    format!(
                        "{}, {}{}",
                        p.name,
                        p.phone,
                        p.ods_code
                            .as_ref()
                            .map(|o| format!(" (ODS {o})"))
                            .unwrap_or_default()
                    ),
                );
            }
        }
        SectionContent::CommunicationAndAccessibility(c) => {
            for n in &c.needs {
                f.field(words::communication_need(n.kind), &n.detail);
            }
            if let Some(h) = &c.how_best_to_communicate {
                f.field("How best to communicate", h);
            }
            if c.access_to_home.is_some() {
                // Paper lies about in the home: the way in is shown only to those who attend.
                f.field(
                    "Access to the home",
                    "Recorded in the Universal Care Plan, shown to those who attend",
                );
            }
            f.field("Key safe", yes(c.key_safe));
            for h in &c.hazards {
                f.field("Hazard", h);
            }
        }
        SectionContent::WhatMatters(w) => {
            f.paragraph(&w.in_their_own_words, TEXT, false);
        }
        SectionContent::ThinkingAhead(t) => {
            if let Some(p) = &t.preferred_place_of_care {
                f.field("Preferred place of care", p);
            }
            if let Some(p) = &t.preferred_place_of_death {
                f.field("Preferred place of death", p);
            }
            if let Some(r) = &t.religious_and_cultural_needs {
                f.field("Religious and cultural needs", r);
            }
            let a = &t.advance_decision_to_refuse_treatment;
            f.field(
                "Advance decision to refuse treatment",
                [
                    Some(yes_no(a.held).to_owned()),
                    a.refuses.as_ref().map(|r| format!("refuses: {r}")),
                    a.circumstances
                        .as_ref()
                        .map(|c| format!("applies when: {c}")),
                    a.location.as_ref().map(|l| format!("kept: {l}")),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("; "),
            );
            for d in &t.other_planning_documents {
                f.field(&d.name, format!("kept: {}", d.location));
            }
        }
        SectionContent::SupportNeeds(s) => {
            for n in &s.needs {
                f.field(
                    &n.need,
                    format!(
                        "{}{}",
                        n.provided_by,
                        n.contact
                            .as_ref()
                            .map(|c| format!(", {c}"))
                            .unwrap_or_default()
                    ),
                );
            }
        }
        SectionContent::EmergencyTreatmentPlan(etp) => {
            f.paragraph(
                "The form itself is on page 1, with the signatures over the recommendations as \
                 they stand. Its longer texts in full:",
                TEXT,
                false,
            );
            f.field("Shared understanding", &etp.shared_understanding);
            if let Some(w) = &etp.what_matters {
                if let Some(v) = &w.most_value {
                    f.field("What I most value", v);
                }
                if let Some(v) = &w.most_fear_or_avoid {
                    f.field("What I most fear or wish to avoid", v);
                }
            }
            if let Some(o) = &etp.other_planning_documents {
                f.field("Other planning documents", o);
            }
            for i in &etp.interventions {
                if let Some(r) = &i.reason {
                    f.field(&i.intervention, r);
                }
            }
            if let Some(m) = &etp.modified_cpr_details {
                f.field("Modified CPR, as detailed", m);
            }
            if let Some(a) = &etp.capacity_assessment {
                f.field("How capacity was assessed", a);
            }
            if let Some(p) = &etp.legal_proxy_participation {
                f.field("The proxy's part in this plan", p);
            }
            if let Some(d) = &etp.involvement_detail {
                f.field("Who took part, and when", d);
            }
            let earlier: Vec<_> = etp
                .signatures
                .iter()
                .filter(|s| {
                    !ucp_domain::signing::current_signatures(etp)
                        .iter()
                        .any(|c| std::ptr::eq(*c, *s))
                })
                .collect();
            if !earlier.is_empty() {
                f.subheading(
                    "Signatures over an earlier version of the recommendations (they do not sign page 1)",
                    |_| {},
                );
                for s in earlier {
                    f.field(
                        &s.role,
                        format!(
                            "{}, {}, signed {}{}",
                            s.name,
                            s.registration_number,
                            when(s.signed_at),
                            s.superseded_in
                                .map(|v| format!("; the recommendations changed in version {v}"))
                                .unwrap_or_default()
                        ),
                    );
                }
            }
        }
        SectionContent::ClinicalBackground(c) => {
            for condition in &c.conditions {
                f.field("Condition", &condition.name);
            }
            f.field(
                "Allergies",
                &if !c.allergies.is_empty() {
                    c.allergies
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                } else if c.no_known_allergies {
                    "No known allergies".to_owned()
                } else {
                    "Not recorded: ask".to_owned()
                },
            );
            if let Some(h) = &c.relevant_history {
                f.field("Relevant history", h);
            }
            if let Some(p) = c.prognosis {
                f.field("Estimated prognosis", words::prognosis(p));
            }
            if let Some(expected) = c.death_expected {
                f.field(
                    "Death expected",
                    &match (expected, &c.death_verified_by) {
                        (true, Some(by)) => format!("Yes; verified by {by}"),
                        (true, None) => "Yes".to_owned(),
                        (false, _) => "No".to_owned(),
                    },
                );
            }
            for m in &c.current_medicines {
                f.field(
                    "Current medicine",
                    format!(
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
                    format!("{} kg (measured {})", w.kilograms, day(w.measured_on)),
                );
            }
            if let Some(v) = c.dols_in_place {
                f.field("Deprivation of Liberty Safeguards in place", yes_no(v));
            }
            if let Some(s) = &c.safeguarding_concerns {
                f.field("Safeguarding concerns", s);
            }
            if let Some(v) = c.lives_alone {
                f.field("Lives alone", yes_no(v));
            }
        }
        SectionContent::AnticipatoryMedicines(m) => {
            f.field(
                "Kept",
                m.location.as_ref().map_or_else(
                    || "Where they are kept is not recorded".to_owned(),
                    ToString::to_string,
                ),
            );
            for item in &m.medicines {
                f.field(
                    &item.name,
                    [
                        item.dose_and_route.as_ref().map(ToString::to_string),
                        item.indication.as_ref().map(ToString::to_string),
                    ]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join("; "),
                );
            }
            if let Some(p) = &m.symptom_management_plan {
                f.field("Symptom management plan", p);
            }
        }
        SectionContent::ConsentToShare(c) => {
            f.field("Basis", words::consent_basis(c.basis));
            if let Some(d) = &c.decided_by {
                f.field("Decided by", d);
            }
            if !c.consulted.is_empty() {
                f.field(
                    "Consulted",
                    c.consulted
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                );
            }
            f.field("Date", day(c.date));
        }
        SectionContent::SickleCellPlan(s) => {
            if let Some(d) = &s.day_to_day_management {
                f.field("Day-to-day management", d);
            }
            f.field("For the ambulance crew", &s.ambulance_guidance);
            if let Some(e) = &s.emergency_department_guidance {
                f.field("For the emergency department", e);
            }
        }
        SectionContent::MentalHealthCrisisPlan(m) => {
            if let Some(t) = &m.triggers_and_early_signs {
                f.field("Triggers and early signs", t);
            }
            f.field("What helps", &m.what_helps);
            for c in &m.crisis_contacts {
                f.field(&c.role_or_relationship, format!("{}, {}", c.name, c.phone));
            }
        }
    }
}
