//! The policy, written out again by hand: who may do what, which reads must say why, what a
//! proxy may do and what a replica may serve. Each use case is tried by every role, with and
//! without a purpose, as a person proofed and not, and as a proxy; a rule changed in the
//! declarations (or here) fails a test.

use ucp_domain::{NhsNumber, PlanSection};

use super::*;
use crate::{Proofing, ProofingLevel};

const C: &str = "clinician";
const A: &str = "ambulance";
const N: &str = "nhs111";
const O: &str = "ooh";
const D: &str = "dispatch";
const P: &str = "patient";
const AD: &str = "admin";
const H: &str = "care-home";
const PO: &str = "privacy-officer";

/// (operation, roles, a read that must say why)
const EXPECTED: &[(&str, &[&str], bool)] = &[
    ("getCarePlan", &[C, A, N, O, P, H], true),
    ("getSection", &[C, A, N, O, P, H], true),
    ("getCarePlanHistory", &[C, A, N, O, P], true),
    ("getCarePlanChanges", &[C, A, N, O, P], true),
    ("getCarePlanDocument", &[C, P, H], true),
    ("getPersonCarePlan", &[C, A, N, O, P], true),
    ("getEmergencySummary", &[C, A, N, O, D, P, H], true),
    ("getEmergencySummaryChanges", &[C, A, N, O, D, P], true),
    ("searchPatients", &[C, A, N, O], true),
    ("getReviewWorklist", &[C, AD], true),
    ("getReviewWorklistSummary", &[C, AD], true),
    ("getMyCarePlan", &[P], true),
    ("getMyAccessLog", &[P], true),
    ("listMyProxies", &[P], true),
    ("listActingFor", &[P], true),
    ("startMyCarePlan", &[P], false),
    ("putMySection", &[P], false),
    ("withdrawMyCarePlan", &[P], false),
    ("withdrawMyConsent", &[P], false),
    ("grantMyProxy", &[P], false),
    ("revokeMyProxy", &[P], false),
    ("createCarePlan", &[C, O], false),
    ("putSection", &[C, O], false),
    ("retractSection", &[C, O], false),
    ("countersignEmergencyTreatmentPlan", &[C, O], false),
    ("reviewCarePlan", &[C, O], false),
    ("recordDeath", &[C, O], false),
    ("withdrawCarePlan", &[C], false),
    ("voidCarePlan", &[C], false),
    ("retractDeath", &[C], false),
    ("withdrawConsentToShare", &[C], false),
    ("grantAttorneyProxy", &[C], false),
    ("admitResident", &[H], false),
    ("listResidents", &[H], true),
    ("recordResidence", &[C], false),
    ("confirmResidence", &[C], false),
    ("endResidence", &[C, H], false),
    ("recordMyResidence", &[P], false),
    ("endMyResidence", &[P], false),
    ("getMyNotifications", &[P], true),
    ("putMyNotifications", &[P], false),
    ("markSensitive", &[C], false),
    ("clearSensitive", &[C], false),
    ("listPrivacyAlerts", &[PO], true),
    ("getPrivacyAlert", &[PO], true),
    ("recordPrivacyAlertOutcome", &[PO], false),
    ("readFeed", &[D, AD], true),
    ("streamFeed", &[D, AD], true),
    ("readFeedSnapshot", &[D, AD], true),
    ("listSubscriptions", &[AD], true),
    ("createSubscription", &[AD], false),
    ("deleteSubscription", &[AD], false),
    ("listDeadLetters", &[AD], true),
    ("redeliverDeadLetter", &[AD], false),
    ("searchAuditLog", &[AD, PO], true),
    ("getAuditShown", &[AD, PO], true),
    ("listNotificationDeadLetters", &[AD], true),
    ("redeliverNotificationDeadLetter", &[AD], false),
    ("listNrlDeadLetters", &[AD], true),
    ("redeliverNrlDeadLetter", &[AD], false),
    ("fhirRead", &[C, A, N, O, P], true),
    ("fhirReadCarePlanVersion", &[C, A, N, O, P], true),
    ("fhirPatientEverything", &[C, A, N, O, P], true),
    ("fhirSearch", &[C, A, N, O, P], true),
    ("fhirSearch", &[C, A, N, O], true),
];

/// What a proxy may do for the person: read their plan, write its person-centred sections.
const PROXY_MAY: &[&str] = &["getMyCarePlan", "putMySection"];
/// What a replica may serve.
const REPLICA_MAY: &[&str] = &[
    "getCarePlan",
    "getPersonCarePlan",
    "getEmergencySummary",
    "searchPatients",
];
/// Done for this purpose only.
const EXACT_PURPOSE: &[(&str, Purpose)] = &[("grantAttorneyProxy", Purpose::DirectCare)];

fn person() -> NhsNumber {
    NhsNumber::parse("9434765919").unwrap()
}

fn caller(role: Role, purpose: Option<Purpose>, proofed: bool) -> Actor {
    let mut actor = Actor {
        purpose: role.fixed_purpose().or(purpose),
        ..Actor::new("someone", role)
    };
    if role.is_person() {
        actor.nhs_number = Some(person());
        actor.proofing = Some(Proofing {
            level: if proofed {
                ProofingLevel::P9
            } else {
                ProofingLevel::P5
            },
            required: ProofingLevel::P9,
        });
    }
    actor
}

fn expected_row(i: usize) -> (&'static str, &'static [&'static str], bool) {
    EXPECTED[i]
}

#[test]
fn every_use_case_is_written_out_here_in_the_same_order() {
    assert_eq!(ALL.len(), EXPECTED.len());
    for (use_case, (operation, _, _)) in ALL.iter().zip(EXPECTED) {
        assert_eq!(use_case.operation, *operation);
    }
}

#[test]
fn each_role_may_do_what_its_row_says_and_nothing_else() {
    for (i, use_case) in ALL.iter().enumerate() {
        let (operation, roles, _) = expected_row(i);
        for role in Role::ALL {
            let outcome = use_case.authorize(&caller(role, Some(Purpose::DirectCare), true));
            let allowed = roles.contains(&role.as_str());
            match (allowed, outcome) {
                (true, Ok(())) | (false, Err(AppError::Forbidden(_))) => {}
                (_, other) => panic!("{operation} by {}: {other:?}", role.as_str()),
            }
        }
    }
}

#[test]
fn a_professional_says_why_they_read_and_a_person_or_dispatch_never_has_to() {
    for (i, use_case) in ALL.iter().enumerate() {
        let (operation, roles, read) = expected_row(i);
        for role in Role::ALL
            .into_iter()
            .filter(|r| roles.contains(&r.as_str()))
        {
            let outcome = use_case.authorize(&caller(role, None, true));
            let must_say = (read || EXACT_PURPOSE.iter().any(|(op, _)| *op == operation))
                && !matches!(role, Role::Patient | Role::Dispatch);
            match (must_say, outcome) {
                (true, Err(AppError::PurposeRequired(_))) | (false, Ok(())) => {}
                (_, other) => panic!(
                    "{operation} by {} without a purpose: {other:?}",
                    role.as_str()
                ),
            }
        }
    }
}

#[test]
fn an_act_for_one_purpose_refuses_any_other() {
    for (operation, purpose) in EXACT_PURPOSE {
        let use_case = ALL.iter().find(|u| u.operation == *operation).unwrap();
        for other in Purpose::ALL {
            for role in use_case.roles {
                let outcome = use_case.authorize(&caller(*role, Some(other), true));
                assert_eq!(
                    outcome.is_ok(),
                    other == *purpose,
                    "{operation} by {} for {}",
                    role.as_str(),
                    other.as_str()
                );
            }
        }
    }
}

#[test]
fn a_person_proofed_below_the_minimum_may_do_nothing() {
    for use_case in ALL {
        let outcome = use_case.authorize(&caller(Role::Patient, None, false));
        assert!(
            matches!(outcome, Err(AppError::Forbidden(_))),
            "{}: {outcome:?}",
            use_case.operation
        );
    }
}

#[test]
fn a_proxy_may_read_the_plan_and_write_the_persons_own_sections_and_nothing_else() {
    for use_case in ALL {
        let mut proxy = caller(Role::Patient, None, true);
        proxy.nhs_number = NhsNumber::parse("9000000009").ok();
        proxy.on_behalf_of = Some(person());
        let outcome = use_case.authorize(&proxy);
        let may = PROXY_MAY.contains(&use_case.operation);
        assert_eq!(use_case.proxy, may, "{}", use_case.operation);
        match (may, outcome) {
            (true, Ok(())) | (false, Err(AppError::Forbidden(_))) => {}
            (_, other) => panic!("{} by a proxy: {other:?}", use_case.operation),
        }
    }
}

#[test]
fn a_replica_serves_the_plan_the_summary_and_the_search_only() {
    for use_case in ALL {
        assert_eq!(
            use_case.replica,
            REPLICA_MAY.contains(&use_case.operation),
            "{}",
            use_case.operation
        );
        assert_eq!(
            replica_may_serve(use_case.operation),
            use_case.replica,
            "{}",
            use_case.operation
        );
    }
    assert!(!replica_may_serve("noSuchOperation"));
}

#[test]
fn an_out_of_hours_gp_writes_the_treatment_plan_and_medicines_only() {
    let ooh = caller(Role::Ooh, None, true);
    let clinician = caller(Role::Clinician, None, true);
    for use_case in [&PUT_SECTION, &RETRACT_SECTION, &CREATE_CARE_PLAN] {
        for section in [
            PlanSection::EmergencyTreatmentPlan,
            PlanSection::AnticipatoryMedicines,
        ] {
            assert!(use_case.authorize_section(&ooh, section).is_ok());
        }
        for section in [PlanSection::WhatMatters, PlanSection::Contacts] {
            assert!(
                matches!(
                    use_case.authorize_section(&ooh, section),
                    Err(AppError::Forbidden(_))
                ),
                "{} of {section} by ooh",
                use_case.operation
            );
            assert!(use_case.authorize_section(&clinician, section).is_ok());
        }
    }
}

#[test]
fn an_operation_id_finds_its_use_case_per_section_too() {
    assert_eq!(
        of_operation("getSectionWhatMatters").map(|u| u.operation),
        Some("getSection")
    );
    assert_eq!(
        of_operation("putMySectionContacts").map(|u| u.operation),
        Some("putMySection")
    );
    assert_eq!(
        of_operation("retractSectionContacts").map(|u| u.operation),
        Some("retractSection")
    );
    assert_eq!(of_operation("getSectionx").map(|u| u.operation), None);
    assert_eq!(
        of_operation("getCarePlan").map(|u| u.operation),
        Some("getCarePlan")
    );
}

#[test]
fn every_use_case_says_what_its_refusal_means() {
    for use_case in ALL {
        assert!(!use_case.refused.is_empty(), "{}", use_case.operation);
    }
}
