//! Domain rules as given / when / then: given these past events, when this command, then these
//! events or this typed error.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use serde_json::json;

use crate::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap_or(NaiveDate::MIN)
}

/// Noon of [`today`]: when the commands of these tests are decided.
fn now() -> DateTime<Utc> {
    today()
        .and_hms_opt(12, 0, 0)
        .map_or(DateTime::<Utc>::MIN_UTC, |t| t.and_utc())
}

/// The clinician deciding these tests' commands.
static CLINICIAN: std::sync::LazyLock<Author> = std::sync::LazyLock::new(|| Author {
    actor: "clinician-1".into(),
    name: Some("Dr A Example".into()),
    role: "clinician".into(),
    organisation: Some("F84001".into()),
    on_behalf_of: None,
});

/// A context deciding as the test clinician (or the person) at `now`, under the default
/// signing policy.
fn ctx(kind: AuthorKind, now: DateTime<Utc>) -> Context<'static> {
    Context::new(kind, &CLINICIAN, now)
}

fn withdrawal() -> PlanWithdrawn {
    PlanWithdrawn {
        reason: Some(LongText::parse("No longer wanted").unwrap_or_else(|e| panic!("{e}"))),
        consent_withdrawn: false,
    }
}

fn content(section: PlanSection, value: serde_json::Value) -> SectionContent {
    section
        .parse_content(value)
        .unwrap_or_else(|e| panic!("{section}: {} {}", e.pointer, e.detail))
}

fn personal_information(nhs: &str) -> PersonalInformation {
    match content(
        PlanSection::PersonalInformation,
        json!({
            "nhsNumber": nhs, "familyName": "Example", "givenName": "Margaret",
            "birthDate": "1938-04-12", "address": { "lines": ["1 High Street"], "postcode": "se1 7eh" }
        }),
    ) {
        SectionContent::PersonalInformation(pi) => pi,
        _ => unreachable!(),
    }
}

fn consent() -> ConsentToShare {
    match content(
        PlanSection::ConsentToShare,
        json!({ "basis": "person-agreed", "date": "2026-11-01" }),
    ) {
        SectionContent::ConsentToShare(c) => c,
        _ => unreachable!(),
    }
}

fn etp(signed: bool) -> SectionContent {
    let mut body = json!({
        "sharedUnderstanding": "Advanced heart failure.", "clinicalFocus": "symptom-control",
        "cprRecommendation": "attempts-not-recommended", "capacity": "has-capacity",
        "involvement": ["A"]
    });
    if signed {
        body["signAs"] =
            json!({ "role": "GP", "registrationNumber": "GMC 1234567", "seniorResponsible": true });
    }
    content(PlanSection::EmergencyTreatmentPlan, body)
}

fn what_matters(text: &str) -> SectionContent {
    content(PlanSection::WhatMatters, json!({ "inTheirOwnWords": text }))
}

fn create() -> Command {
    Command::CreateCarePlan {
        personal_information: personal_information("9434765919"),
        consent_to_share: consent(),
        other_sections: vec![],
    }
}

/// Folds events into a state, as the store does.
fn given(events: &[CarePlanEvent]) -> Option<CarePlan> {
    events.iter().enumerate().fold(None, |state, (i, e)| {
        let version = i64::try_from(i).unwrap_or_default() + 1;
        evolve(state, e, &envelope(version))
    })
}

fn envelope(version: i64) -> Envelope {
    Envelope {
        version,
        at: Utc
            .timestamp_opt(1_700_000_000 + version * 60, 0)
            .single()
            .unwrap_or_default(),
        author: Author {
            actor: "clinician-1".into(),
            name: Some("Dr A Example".into()),
            role: "clinician".into(),
            organisation: Some("F84001".into()),
            on_behalf_of: None,
        },
    }
}

fn when(history: &[CarePlanEvent], command: Command) -> Result<Vec<CarePlanEvent>, DomainError> {
    decide(
        given(history).as_ref(),
        command,
        &ctx(AuthorKind::Professional, now()),
    )
}

fn created() -> Vec<CarePlanEvent> {
    when(&[], create()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_plan_is_created_with_personal_information_and_consent() {
    let events = created();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type(), "CarePlanCreated");
    let plan = given(&events).unwrap_or_else(|| panic!("no plan"));
    assert_eq!(plan.status, PlanStatus::Active);
    assert_eq!(plan.nhs_number.to_string(), "9434765919");
    assert!(plan.section(PlanSection::PersonalInformation).is_some());
    assert!(plan.section(PlanSection::ConsentToShare).is_some());
}

#[test]
fn other_sections_at_creation_become_their_own_events() {
    let events = when(
        &[],
        Command::CreateCarePlan {
            personal_information: personal_information("9434765919"),
            consent_to_share: consent(),
            other_sections: vec![what_matters("My garden"), etp(true)],
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let types: Vec<_> = events.iter().map(CarePlanEvent::event_type).collect();
    assert_eq!(
        types,
        [
            "CarePlanCreated",
            "WhatMattersUpdated",
            "EmergencyTreatmentPlanRecorded"
        ]
    );
}

#[test]
fn a_second_plan_for_the_same_stream_is_refused() {
    assert_eq!(when(&created(), create()), Err(DomainError::PlanExists));
}

#[test]
fn a_section_repeated_at_creation_is_invalid() {
    let result = when(
        &[],
        Command::CreateCarePlan {
            personal_information: personal_information("9434765919"),
            consent_to_share: consent(),
            other_sections: vec![what_matters("a"), what_matters("b")],
        },
    );
    assert!(matches!(result, Err(DomainError::Invalid(e)) if e[0].pointer == "/whatMatters"));
}

#[test]
fn the_emergency_treatment_plan_needs_a_signature() {
    let result = when(&created(), Command::UpdateSection(etp(false)));
    assert!(
        matches!(&result, Err(DomainError::Invalid(e)) if e[0].pointer == "/signAs"),
        "{result:?}"
    );
    let ok = when(&created(), Command::UpdateSection(etp(true))).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ok[0].event_type(), "EmergencyTreatmentPlanRecorded");
}

#[test]
fn the_nhs_number_of_a_plan_cannot_change() {
    let moved = SectionContent::PersonalInformation(personal_information("4010232137"));
    assert_eq!(
        when(&created(), Command::UpdateSection(moved)),
        Err(DomainError::NhsNumberCannotChange)
    );
}

#[test]
fn a_withdrawn_or_voided_plan_takes_no_more_changes() {
    let mut withdrawn = created();
    withdrawn.push(CarePlanEvent::Withdrawn(PlanWithdrawn {
        reason: None,
        consent_withdrawn: false,
    }));
    let mut voided = created();
    voided.push(CarePlanEvent::Voided(PlanVoided {
        reason: LongText::parse("Entered for the wrong person").unwrap_or_else(|e| panic!("{e}")),
    }));
    for (history, status) in [
        (withdrawn, PlanStatus::Withdrawn),
        (voided, PlanStatus::Voided),
    ] {
        assert_eq!(
            when(&history, Command::UpdateSection(what_matters("x"))),
            Err(DomainError::PlanClosed(status))
        );
        assert_eq!(
            when(&history, Command::WithdrawCarePlan(withdrawal())),
            Err(DomainError::PlanClosed(status))
        );
        let void = when(
            &history,
            Command::VoidCarePlan(PlanVoided {
                reason: LongText::parse("again").unwrap_or_else(|e| panic!("{e}")),
            }),
        );
        if status == PlanStatus::Withdrawn {
            // A wrong-patient plan is voided even after it was withdrawn.
            assert_eq!(void.map(|e| e[0].event_type()), Ok("CarePlanVoided"));
        } else {
            assert_eq!(void, Err(DomainError::PlanClosed(status)));
        }
    }
}

#[test]
fn after_death_only_voiding_is_allowed() {
    let mut history = created();
    let death = DeathRecorded {
        date_of_death: today(),
        place_of_death: None,
    };
    history.extend(when(&history, Command::RecordDeath(death)).unwrap_or_else(|e| panic!("{e}")));
    assert_eq!(
        given(&history).map(|p| p.status),
        Some(PlanStatus::Deceased)
    );
    assert_eq!(
        when(&history, Command::UpdateSection(what_matters("x"))),
        Err(DomainError::OnlyVoidAfterDeath)
    );
    assert_eq!(
        when(&history, Command::WithdrawCarePlan(withdrawal())),
        Err(DomainError::OnlyVoidAfterDeath)
    );
    let void = Command::VoidCarePlan(PlanVoided {
        reason: LongText::parse("Made for the wrong person").unwrap_or_else(|e| panic!("{e}")),
    });
    assert_eq!(
        when(&history, void).map(|e| e[0].event_type()),
        Ok("CarePlanVoided")
    );
}

#[test]
fn a_death_in_the_future_is_refused() {
    let death = DeathRecorded {
        date_of_death: today() + chrono::Days::new(1),
        place_of_death: None,
    };
    assert!(matches!(
        when(&created(), Command::RecordDeath(death)),
        Err(DomainError::Invalid(_))
    ));
}

#[test]
fn a_review_records_who_and_the_next_date() {
    let mut history = created();
    let review = PlanReviewed {
        next_review_date: today() + chrono::Days::new(180),
        note: None,
        still_valid: None,
    };
    history.extend(
        when(&history, Command::ReviewCarePlan(review.clone())).unwrap_or_else(|e| panic!("{e}")),
    );
    let plan = given(&history).unwrap_or_else(|| panic!("no plan"));
    let last = plan.last_review.unwrap_or_else(|| panic!("no review"));
    assert_eq!(last.next_review_date, review.next_review_date);
    assert_eq!(last.reviewed_by.actor, "clinician-1");
    let past = PlanReviewed {
        next_review_date: today(),
        note: None,
        still_valid: None,
    };
    assert!(matches!(
        when(&created(), Command::ReviewCarePlan(past)),
        Err(DomainError::Invalid(_))
    ));
}

#[test]
fn the_person_writes_person_centred_forms_only() {
    let state = given(&created());
    let as_person = |command| decide(state.as_ref(), command, &ctx(AuthorKind::Person, now()));
    assert!(as_person(Command::UpdateSection(what_matters("My cat"))).is_ok());
    assert_eq!(
        as_person(Command::UpdateSection(etp(true))),
        Err(DomainError::ClinicalSectionByPerson(
            PlanSection::EmergencyTreatmentPlan
        ))
    );
}

#[test]
fn the_person_changes_how_to_reach_them_not_who_they_are() {
    let state = given(&created());
    let as_person = |command| decide(state.as_ref(), command, &ctx(AuthorKind::Person, now()));
    let mut moved = personal_information("9434765919");
    moved.phone = Some(Phone::parse("020 7946 0999").unwrap_or_else(|e| panic!("{e}")));
    assert!(
        as_person(Command::UpdateSection(SectionContent::PersonalInformation(
            moved.clone()
        )))
        .is_ok()
    );
    moved.family_name = ShortText::parse("Other").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        as_person(Command::UpdateSection(SectionContent::PersonalInformation(
            moved
        ))),
        Err(DomainError::IdentityByPerson("familyName"))
    );
}

#[test]
fn a_person_starts_their_own_plan_with_their_own_consent_only() {
    let own = decide(None, create(), &ctx(AuthorKind::Person, now()));
    assert!(own.is_ok());
    let mut best_interests = consent();
    best_interests.basis = ConsentBasis::BestInterests;
    best_interests.decided_by = Some(ShortText::parse("Dr A").unwrap_or_else(|e| panic!("{e}")));
    let command = Command::CreateCarePlan {
        personal_information: personal_information("9434765919"),
        consent_to_share: best_interests,
        other_sections: vec![],
    };
    assert_eq!(
        decide(None, command, &ctx(AuthorKind::Person, now())),
        Err(DomainError::ClinicalSectionByPerson(
            PlanSection::ConsentToShare
        ))
    );
}

#[test]
fn unknown_fields_and_bad_values_are_named_by_pointer() {
    let err = PlanSection::WhatMatters
        .parse_content(json!({ "inTheirOwnWords": "x", "inTheirOwnWrods": "y" }))
        .err()
        .unwrap_or_else(|| panic!("accepted an unknown field"));
    assert!(
        err.detail.contains("unknown field `inTheirOwnWrods`"),
        "{err:?}"
    );
    let err = PlanSection::PersonalInformation
        .parse_content(json!({
            "nhsNumber": "9434765918", "familyName": "E", "givenName": "M",
            "birthDate": "1938-04-12", "address": { "lines": [], "postcode": "SE1 7EH" }
        }))
        .err()
        .unwrap_or_else(|| panic!("accepted a bad NHS number"));
    assert_eq!(err.pointer, "/nhsNumber");
    let err = PlanSection::Contacts
        .parse_content(json!({ "personal": [{ "name": "A", "relationship": "daughter",
            "lpaHealthAndWelfare": "yes", "lpaPropertyAndFinancial": "maybe", "phone": "020 7946 0000" }] }))
        .err()
        .unwrap_or_else(|| panic!("accepted a bad code"));
    assert_eq!(err.pointer, "/personal/0/lpaPropertyAndFinancial");
}

#[test]
fn every_event_round_trips_through_its_stored_form() {
    let mut history = created();
    history.push(CarePlanEvent::SectionChanged(etp(true)));
    history.push(CarePlanEvent::Reviewed(PlanReviewed {
        next_review_date: today(),
        note: None,
        still_valid: None,
    }));
    history.push(CarePlanEvent::PersonDied(DeathRecorded {
        date_of_death: today(),
        place_of_death: None,
    }));
    for event in history {
        let data = event.to_data().unwrap_or_else(|e| panic!("{e}"));
        let back = CarePlanEvent::decode(event.event_type(), event.schema_version(), data)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, event);
    }
    assert!(CarePlanEvent::decode("NoSuchEvent", 1, json!({})).is_err());
    assert!(CarePlanEvent::decode("CarePlanWithdrawn", 9, json!({})).is_err());
}

/// A command an arbitrary user might send next.
fn any_command() -> impl Strategy<Value = Command> {
    prop_oneof![
        "[a-z ]{1,30}".prop_map(|t| Command::UpdateSection(what_matters(&format!("w {t}")))),
        any::<bool>().prop_map(|signed| Command::UpdateSection(etp(signed))),
        (1u64..400).prop_map(|d| Command::ReviewCarePlan(PlanReviewed {
            next_review_date: today() + chrono::Days::new(d),
            note: None,
            still_valid: None,
        })),
        Just(Command::WithdrawCarePlan(withdrawal())),
        Just(Command::RetractDeath(DeathRetracted {
            reason: LongText::parse("wrong person").unwrap_or_else(|e| panic!("{e}")),
        })),
        Just(Command::RecordDeath(DeathRecorded {
            date_of_death: today(),
            place_of_death: None
        })),
        Just(Command::VoidCarePlan(PlanVoided {
            reason: LongText::parse("in error").unwrap_or_else(|e| panic!("{e}")),
        })),
        Just(create()),
        Just(Command::AdmitResident(residence::admission("VM1A2"))),
        Just(Command::RecordResidence(residence::admission("VM2B3"))),
        Just(Command::ConfirmResidence(residence::confirmation("VM1A2"))),
        Just(Command::EndResidence(residence::ending("VM1A2"))),
    ]
}

proptest! {
    /// Whatever commands arrive, the events decided replay (also through their stored form) to
    /// the very state that was built while deciding, and a closed plan never changes again.
    #[test]
    fn any_command_sequence_replays_to_the_same_state(commands in prop::collection::vec(any_command(), 1..25)) {
        let mut log: Vec<CarePlanEvent> = Vec::new();
        let mut state = None;
        for command in std::iter::once(create()).chain(commands) {
            let before = state.clone();
            match decide(state.as_ref(), command.clone(), &ctx(AuthorKind::Professional, now())) {
                Ok(events) => {
                    for e in events {
                        log.push(e.clone());
                        let version = i64::try_from(log.len()).unwrap_or_default();
                        state = evolve(state, &e, &envelope(version));
                    }
                }
                Err(refusal) => {
                    // Deciding is a function of the state and the command: the same refusal,
                    // for the same reason, every time.
                    let again = decide(state.as_ref(), command, &ctx(AuthorKind::Professional, now()));
                    prop_assert_eq!(again, Err(refusal));
                }
            }
            if let (Some(b), Some(s)) = (&before, &state) {
                if b.status == PlanStatus::Voided {
                    prop_assert_eq!(b, s, "a voided plan never changes");
                }
                if b.status == PlanStatus::Withdrawn && b != s {
                    prop_assert_eq!(s.status, PlanStatus::Voided, "a withdrawn plan can only be voided");
                }
            }
        }
        let stored: Vec<CarePlanEvent> = log
            .iter()
            .map(|e| CarePlanEvent::decode(e.event_type(), e.schema_version(), e.to_data().unwrap_or_default()))
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("{e}"));
        prop_assert_eq!(given(&stored), state);
    }
}

mod residence;
mod standing;
mod trust;

#[test]
fn every_event_type_a_subscriber_may_name_is_listed() {
    let reason = || LongText::parse("x").unwrap_or_else(|e| panic!("{e}"));
    let signature: ClinicianSignature = serde_json::from_value(json!({
        "name": "Dr A", "role": "GP", "registrationNumber": "GMC 1234567",
        "signedAt": "2026-11-01T09:00:00Z"
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    let events = [
        created().remove(0),
        CarePlanEvent::Reviewed(PlanReviewed {
            next_review_date: today(),
            note: None,
            still_valid: None,
        }),
        CarePlanEvent::Withdrawn(withdrawal()),
        CarePlanEvent::PersonDied(DeathRecorded {
            date_of_death: today(),
            place_of_death: None,
        }),
        CarePlanEvent::Voided(PlanVoided { reason: reason() }),
        CarePlanEvent::DeathRetracted(DeathRetracted { reason: reason() }),
        CarePlanEvent::SectionRetracted(SectionRetracted {
            section: PlanSection::WhatMatters,
            reason: reason(),
        }),
        CarePlanEvent::EmergencyTreatmentPlanSigned(signature),
        CarePlanEvent::ConsentToShareWithdrawn(ConsentWithdrawn { reason: None }),
        CarePlanEvent::ResidentAdmitted(residence::admission("VM1A2")),
        CarePlanEvent::ResidenceRecorded(residence::admission("VM1A2")),
        CarePlanEvent::ResidenceConfirmed(residence::confirmation("VM1A2")),
        CarePlanEvent::ResidenceEnded(residence::ending("VM1A2")),
        CarePlanEvent::SensitivityMarked(crate::sensitivity::SensitivityMarked {
            reason: crate::sensitivity::SensitivityReason::PublicFigure,
        }),
        CarePlanEvent::SensitivityCleared(crate::sensitivity::SensitivityCleared {}),
    ];
    let types: Vec<&str> = events.iter().map(CarePlanEvent::event_type).collect();
    assert_eq!(types, PLAN_EVENT_TYPES);
}
