//! The printed plan's words for the plan's codes and instants: what a reader of the paper form
//! expects ("3 Dec 2026, 14:05"; "Has capacity"), never a code ("has-capacity", "C2") or an ISO
//! timestamp. Times are UK time, as a London reader reads a clock.

use chrono::{DateTime, NaiveDate, Utc};
use ucp_domain::{
    Author, Capacity, CommunicationNeedKind, ConsentBasis, Involvement, PlanSection, PlanStatus,
    Prognosis, YesNoUnknown,
};

/// An instant as a UK clock showed it.
#[must_use]
pub fn london(at: DateTime<Utc>) -> DateTime<chrono_tz::Tz> {
    ucp_domain::in_uk(at)
}

/// `3 Dec 2026, 14:05` (UK time).
#[must_use]
pub fn when(at: DateTime<Utc>) -> String {
    london(at).format("%-d %b %Y, %H:%M").to_string()
}

/// `3 Dec 2026`.
#[must_use]
pub fn day(d: NaiveDate) -> String {
    d.format("%-d %b %Y").to_string()
}

/// How a plan ended, in the words the check page and the printed watermark use.
#[must_use]
pub fn ended(status: PlanStatus) -> &'static str {
    match status {
        PlanStatus::Withdrawn => "withdrawn",
        PlanStatus::Voided => "voided (made in error)",
        PlanStatus::Deceased => "closed after the person's death",
        PlanStatus::Active => "active",
    }
}

/// The day of an instant in the UK.
#[must_use]
pub fn day_of(at: DateTime<Utc>) -> String {
    day(london(at).date_naive())
}

/// An NHS number as people write it: 3-3-4.
#[must_use]
pub fn spaced(nhs: &str) -> String {
    if nhs.len() == 10 && nhs.is_ascii() {
        format!("{} {} {}", &nhs[..3], &nhs[3..6], &nhs[6..])
    } else {
        nhs.to_owned()
    }
}

#[must_use]
pub fn yes_no(v: YesNoUnknown) -> &'static str {
    match v {
        YesNoUnknown::Yes => "Yes",
        YesNoUnknown::No => "No",
        YesNoUnknown::Unknown => "Not known",
    }
}

#[must_use]
pub fn yes(v: bool) -> &'static str {
    if v {
        "Yes"
    } else {
        "No"
    }
}

/// ReSPECT section 5, in the form's words.
#[must_use]
pub fn capacity(c: Capacity) -> &'static str {
    match c {
        Capacity::HasCapacity => {
            "Yes: the person has sufficient capacity to participate in making the recommendations on this plan"
        }
        Capacity::LacksCapacity => {
            "No: the person does not have sufficient capacity to participate in making the recommendations on this plan"
        }
        Capacity::Indeterminate => "Capacity could not be determined",
    }
}

/// ReSPECT v3 section 6, one statement per letter, in the form's words.
#[must_use]
pub fn involvement(i: Involvement) -> &'static str {
    match i {
        Involvement::A => {
            "A: This person has the mental capacity to participate in making these recommendations. They have been fully involved in making this plan."
        }
        Involvement::B => {
            "B: This person does not have the mental capacity to participate in making these recommendations. This plan has been made, where applicable, in consultation with their legal proxy, or where no proxy, with relevant family members or friends."
        }
        Involvement::C1 => {
            "C1: This person is less than 18 years old and has sufficient maturity and understanding to participate in making this plan."
        }
        Involvement::C2 => {
            "C2: This person is less than 18 years old and does not have sufficient maturity and understanding to participate in this plan. Their views, when known, have been taken into account."
        }
        Involvement::C3 => {
            "C3: Those holding parental responsibility have been fully involved in discussing and making this plan."
        }
        Involvement::D => {
            "D: None of the above applies; the reason is stated below and in the clinical record."
        }
    }
}

#[must_use]
pub fn prognosis(p: Prognosis) -> &'static str {
    match p {
        Prognosis::Days => "Days",
        Prognosis::Weeks => "Weeks",
        Prognosis::Months => "Months",
        Prognosis::Years => "Years",
        Prognosis::Unknown => "Not known",
    }
}

#[must_use]
pub fn consent_basis(b: ConsentBasis) -> &'static str {
    match b {
        ConsentBasis::PersonAgreed => "The person agreed",
        ConsentBasis::BestInterests => "A best-interests decision",
        ConsentBasis::LastingPowerOfAttorney => "Their attorney (lasting power of attorney) agreed",
    }
}

#[must_use]
pub fn communication_need(k: CommunicationNeedKind) -> &'static str {
    match k {
        CommunicationNeedKind::Hearing => "Hearing",
        CommunicationNeedKind::Sight => "Sight",
        CommunicationNeedKind::Speech => "Speech",
        CommunicationNeedKind::Language => "Language",
        CommunicationNeedKind::LearningDisability => "Learning disability",
        CommunicationNeedKind::Other => "Other",
    }
}

/// A section's title as the plan's forms name it.
#[must_use]
pub fn section_title(s: PlanSection) -> &'static str {
    match s {
        PlanSection::PersonalInformation => "Personal information",
        PlanSection::Contacts => "Personal and professional contacts",
        PlanSection::CommunicationAndAccessibility => "Communication and accessibility",
        PlanSection::WhatMatters => "What matters to me",
        PlanSection::ThinkingAhead => "Thinking ahead",
        PlanSection::SupportNeeds => "Daily activities and support needs",
        PlanSection::EmergencyTreatmentPlan => "Emergency Treatment Plan (ReSPECT)",
        PlanSection::ClinicalBackground => "Clinical background",
        PlanSection::AnticipatoryMedicines => "Anticipatory medicines and symptom management",
        PlanSection::ConsentToShare => "Consent to share",
        PlanSection::SickleCellPlan => "Sickle cell crisis plan",
        PlanSection::MentalHealthCrisisPlan => "Mental health crisis plan",
    }
}

/// How the plan stands, in capitals for the page furniture.
#[must_use]
pub fn status(s: PlanStatus) -> &'static str {
    match s {
        PlanStatus::Active => "ACTIVE",
        PlanStatus::Withdrawn => "WITHDRAWN",
        PlanStatus::Deceased => "CLOSED AFTER THE PERSON'S DEATH",
        PlanStatus::Voided => "VOIDED (MADE IN ERROR)",
    }
}

/// Who did something: "Dr Demo Clinician (GP practice clinician, F84001)".
#[must_use]
pub fn author(a: &Author) -> String {
    let name = a.name.clone().unwrap_or_else(|| a.actor.clone());
    let role = role(&a.role);
    match &a.organisation {
        Some(org) => format!("{name} ({role}, {org})"),
        None => format!("{name} ({role})"),
    }
}

/// A role as a reader names it.
#[must_use]
pub fn role(r: &str) -> &str {
    match r {
        "clinician" => "clinician",
        "ambulance" => "ambulance clinician",
        "nhs111" => "NHS 111 clinician",
        "ooh" => "out-of-hours GP",
        "patient" => "the person",
        "proxy" => "acting for the person",
        "admin" => "administrator",
        "dispatch" => "ambulance dispatch",
        other => other,
    }
}

/// Whose words a section is: the person's own, someone acting for them, or a professional's.
#[must_use]
pub fn whose_words(changed_by: &Author, changed_at: DateTime<Utc>) -> String {
    let name = changed_by
        .name
        .clone()
        .unwrap_or_else(|| changed_by.actor.clone());
    match changed_by.role.as_str() {
        "patient" => format!(
            "In the person's own words (written by {name}, {})",
            when(changed_at)
        ),
        "proxy" => format!(
            "Written for the person by {name}, who acts for them ({})",
            when(changed_at)
        ),
        _ => format!(
            "A professional's words: recorded by {} on {}",
            author(changed_by),
            when(changed_at)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn times_read_as_a_uk_clock_shows_them() {
        let winter = Utc
            .with_ymd_and_hms(2026, 12, 3, 14, 5, 0)
            .single()
            .unwrap_or_default();
        assert_eq!(when(winter), "3 Dec 2026, 14:05");
        let summer = Utc
            .with_ymd_and_hms(2026, 7, 3, 23, 30, 0)
            .single()
            .unwrap_or_default();
        assert_eq!(when(summer), "4 Jul 2026, 00:30");
        assert_eq!(day_of(summer), "4 Jul 2026");
        assert_eq!(spaced("9990000018"), "999 000 0018");
    }

    #[test]
    fn no_code_is_printed_as_a_code() {
        for i in [
            Involvement::A,
            Involvement::B,
            Involvement::C1,
            Involvement::C2,
            Involvement::C3,
            Involvement::D,
        ] {
            assert!(involvement(i).len() > 40);
        }
        for s in PlanSection::ALL {
            assert!(!section_title(s).contains('-'), "{s}");
        }
    }
}
