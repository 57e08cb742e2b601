//! Where the person lives: a home's own admission stands unconfirmed until a clinician confirms
//! it; confirmations and endings name the home they are about; dates are checked.

use super::*;
use crate::residence::{
    CareHome, ResidenceBasis, ResidenceConfirmed, ResidenceEnded, ResidenceRecorded,
};

fn code(ods: &str) -> OdsCode {
    OdsCode::parse(ods).unwrap_or_else(|e| panic!("{e}"))
}

pub(super) fn admission(ods: &str) -> ResidenceRecorded {
    ResidenceRecorded {
        care_home: CareHome {
            ods_code: code(ods),
            name: ShortText::parse("Rosewood Care Home").unwrap_or_else(|e| panic!("{e}")),
        },
        since: today(),
    }
}

pub(super) fn confirmation(ods: &str) -> ResidenceConfirmed {
    ResidenceConfirmed {
        ods_code: code(ods),
    }
}

pub(super) fn ending(ods: &str) -> ResidenceEnded {
    ResidenceEnded {
        ods_code: code(ods),
        date: today(),
        reason: None,
    }
}

fn admitted() -> Vec<CarePlanEvent> {
    let mut history = created();
    history.extend(
        when(&history, Command::AdmitResident(admission("VM1A2")))
            .unwrap_or_else(|e| panic!("{e}")),
    );
    history
}

#[test]
fn a_homes_admission_stands_unconfirmed_and_says_so_to_the_person() {
    let plan = given(&admitted()).unwrap_or_else(|| panic!("no plan"));
    let r = plan.residence.unwrap_or_else(|| panic!("no residence"));
    assert_eq!(r.basis, ResidenceBasis::AdmittedByHome);
    assert!(!r.confirmed);
    assert_eq!(r.care_home.ods_code.as_str(), "VM1A2");
    assert!(
        r.to_the_person
            .starts_with("Rosewood Care Home recorded on ")
            && r.to_the_person.contains("that you live there")
            && r.to_the_person
                .contains("A clinician has not confirmed it yet."),
        "{}",
        r.to_the_person
    );
}

#[test]
fn a_clinician_confirms_the_home_on_record_once_and_only_that_home() {
    let history = admitted();
    assert_eq!(
        when(&history, Command::ConfirmResidence(confirmation("VM9Z9"))),
        Err(DomainError::ResidenceElsewhere {
            recorded: "VM1A2".into()
        })
    );
    let mut confirmed = history.clone();
    confirmed.extend(
        when(&history, Command::ConfirmResidence(confirmation("VM1A2")))
            .unwrap_or_else(|e| panic!("{e}")),
    );
    let r = given(&confirmed)
        .and_then(|p| p.residence)
        .unwrap_or_else(|| panic!("no residence"));
    assert!(r.confirmed && r.confirmed_by.is_some());
    assert!(
        r.notice.contains("Confirmed by Dr A Example"),
        "{}",
        r.notice
    );
    assert_eq!(
        when(&confirmed, Command::ConfirmResidence(confirmation("VM1A2"))),
        Err(DomainError::ResidenceConfirmedAlready)
    );
    assert_eq!(
        decide(
            given(&history).as_ref(),
            Command::ConfirmResidence(confirmation("VM1A2")),
            &ctx(AuthorKind::Person, now())
        ),
        Err(DomainError::ClinicalSectionByPerson(
            PlanSection::PersonalInformation
        ))
    );
}

#[test]
fn a_home_admits_once_and_a_clinicians_record_is_confirmed_as_made() {
    assert_eq!(
        when(&admitted(), Command::AdmitResident(admission("VM1A2"))),
        Err(DomainError::AlreadyResident)
    );
    let mut history = created();
    history.extend(
        when(&history, Command::RecordResidence(admission("VM1A2")))
            .unwrap_or_else(|e| panic!("{e}")),
    );
    let r = given(&history)
        .and_then(|p| p.residence)
        .unwrap_or_else(|| panic!("no residence"));
    assert_eq!(r.basis, ResidenceBasis::RecordedByClinician);
    assert!(r.confirmed);
    assert_eq!(
        when(&history, Command::RecordResidence(admission("VM1A2"))),
        Err(DomainError::AlreadyResident)
    );
}

#[test]
fn a_home_never_takes_a_resident_from_another_and_a_clinicians_move_ends_the_first_home() {
    let history = admitted();
    assert_eq!(
        when(&history, Command::AdmitResident(admission("VM9Z9"))),
        Err(DomainError::ResidentElsewhere)
    );
    let events = when(&history, Command::RecordResidence(admission("VM9Z9")))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        matches!(
            events.as_slice(),
            [CarePlanEvent::ResidenceEnded(ended), CarePlanEvent::ResidenceRecorded(next)]
                if ended.ods_code.as_str() == "VM1A2" && next.care_home.ods_code.as_str() == "VM9Z9"
        ),
        "{events:?}"
    );
    let mut moved = history.clone();
    moved.extend(events);
    let plan = given(&moved).unwrap_or_else(|| panic!("no plan"));
    assert!(plan
        .residence
        .is_some_and(|r| r.care_home.ods_code.as_str() == "VM9Z9"));
    assert!(plan
        .residence_ended
        .is_some_and(|e| e.care_home.ods_code.as_str() == "VM1A2"));
}

#[test]
fn leaving_ends_the_residence_named_and_keeps_who_ended_it() {
    let history = admitted();
    assert_eq!(
        when(&created(), Command::EndResidence(ending("VM1A2"))),
        Err(DomainError::NoResidence)
    );
    assert!(matches!(
        when(&history, Command::EndResidence(ending("VM9Z9"))),
        Err(DomainError::ResidenceElsewhere { .. })
    ));
    let mut early = ending("VM1A2");
    early.date = today() - chrono::Days::new(1);
    assert!(matches!(
        when(&history, Command::EndResidence(early)),
        Err(DomainError::Invalid(e)) if e[0].pointer == "/date"
    ));
    let mut ended = history.clone();
    ended.extend(
        when(&history, Command::EndResidence(ending("VM1A2"))).unwrap_or_else(|e| panic!("{e}")),
    );
    let plan = given(&ended).unwrap_or_else(|| panic!("no plan"));
    assert!(plan.residence.is_none());
    let gone = plan
        .residence_ended
        .unwrap_or_else(|| panic!("no ended residence"));
    assert_eq!(gone.care_home.ods_code.as_str(), "VM1A2");
    assert_eq!(gone.left_on, today());
}

#[test]
fn a_residence_cannot_start_in_the_future_or_before_birth_nor_on_a_closed_plan() {
    let mut future = admission("VM1A2");
    future.since = today() + chrono::Days::new(1);
    assert!(matches!(
        when(&created(), Command::AdmitResident(future)),
        Err(DomainError::Invalid(e)) if e[0].pointer == "/since"
    ));
    let mut unborn = admission("VM1A2");
    unborn.since = NaiveDate::from_ymd_opt(1930, 1, 1).unwrap_or_default();
    assert!(matches!(
        when(&created(), Command::RecordResidence(unborn)),
        Err(DomainError::Invalid(_))
    ));
    let mut withdrawn = created();
    withdrawn.push(CarePlanEvent::Withdrawn(withdrawal()));
    assert_eq!(
        when(&withdrawn, Command::AdmitResident(admission("VM1A2"))),
        Err(DomainError::PlanClosed(PlanStatus::Withdrawn))
    );
}
