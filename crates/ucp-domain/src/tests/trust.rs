//! What makes a CPR decision trustworthy, and how records are corrected (DOMAIN.md, "Trusting a
//! decision" and "Corrections"), as given / when / then.

use chrono::Duration;
use serde_json::json;

use super::*;
use crate::views::EmergencySummary;

/// An Emergency Treatment Plan from JSON, with fields of `changes` put over a valid one.
pub(super) fn etp_with(changes: serde_json::Value) -> SectionContent {
    let mut body = json!({
        "sharedUnderstanding": "Advanced heart failure.", "clinicalFocus": "symptom-control",
        "cprRecommendation": "attempts-not-recommended", "capacity": "has-capacity",
        "involvement": ["A"],
        "signAs": { "role": "GP", "registrationNumber": "GMC 1234567", "seniorResponsible": true }
    });
    if let (Some(body), Some(changes)) = (body.as_object_mut(), changes.as_object()) {
        for (k, v) in changes {
            body.insert(k.clone(), v.clone());
        }
    }
    content(PlanSection::EmergencyTreatmentPlan, body)
}

fn pointers(result: Result<Vec<CarePlanEvent>, DomainError>) -> Vec<String> {
    match result {
        Err(DomainError::Invalid(errors)) => errors.into_iter().map(|e| e.pointer).collect(),
        other => panic!("expected a validation failure, got {other:?}"),
    }
}

fn child_plan() -> Vec<CarePlanEvent> {
    let mut pi = personal_information("9434765919");
    pi.birth_date = BirthDate::new(NaiveDate::from_ymd_opt(2018, 5, 1).unwrap_or(NaiveDate::MIN))
        .unwrap_or_else(|e| panic!("{e}"));
    when(
        &[],
        Command::CreateCarePlan {
            personal_information: pi,
            consent_to_share: consent(),
            other_sections: vec![],
        },
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_signature_in_the_future_is_refused_beyond_five_minutes_of_skew() {
    let soon = (now() + Duration::minutes(4)).to_rfc3339();
    let later = (now() + Duration::minutes(6)).to_rfc3339();
    let sig = |at: &str| {
        json!([{ "name": "Dr A", "role": "GP", "method": "transcribed-from-paper", "registrationNumber": "GMC 1234567",
                                  "seniorResponsible": true, "signedAt": at }])
    };
    assert!(when(
        &created(),
        Command::UpdateSection(etp_with(json!({ "signatures": sig(&soon) })))
    )
    .is_ok());
    assert_eq!(
        pointers(when(
            &created(),
            Command::UpdateSection(etp_with(json!({ "signatures": sig(&later) })))
        )),
        ["/signatures/0/signedAt"]
    );
    assert_eq!(
        pointers(when(
            &created(),
            Command::UpdateSection(etp_with(
                json!({ "signatures": sig("2099-01-01T00:00:00Z") })
            ))
        )),
        ["/signatures/0/signedAt"]
    );
}

#[test]
fn a_form_no_senior_responsible_clinician_signed_awaits_their_countersignature() {
    let unsigned = etp_with(
        json!({ "signAs": null, "signatures": [{ "name": "P Medic", "role": "Paramedic",
        "method": "transcribed-from-paper", "registrationNumber": "PA12345", "signedAt": "2026-11-01T10:00:00Z" }] }),
    );
    let mut history = created();
    history
        .extend(when(&history, Command::UpdateSection(unsigned)).unwrap_or_else(|e| panic!("{e}")));
    let summary = EmergencySummary::of(
        uuid::Uuid::nil(),
        &given(&history).unwrap_or_else(|| panic!("a plan")),
        today(),
    )
    .unwrap_or_else(|| panic!("a summary"));
    let cpr = summary.cpr.unwrap_or_else(|| panic!("a decision"));
    assert_eq!(
        cpr.standing,
        crate::standing::Standing::AwaitingCountersignature
    );
    assert!(
        cpr.headline.starts_with("AWAITING SENIOR COUNTERSIGNATURE"),
        "{}",
        cpr.headline
    );
}

#[test]
fn the_review_cannot_be_due_before_the_plan_was_signed() {
    let early = etp_with(json!({ "review": { "due": "2026-10-01" } }));
    assert_eq!(
        pointers(when(&created(), Command::UpdateSection(early))),
        ["/review/due"]
    );
    // Signed now (signAs), on the 25th: due that day is allowed, the day before is not.
    let day_before = etp_with(json!({ "review": { "due": "2026-11-24" } }));
    assert_eq!(
        pointers(when(&created(), Command::UpdateSection(day_before))),
        ["/review/due"]
    );
    let same_day = etp_with(json!({ "review": { "due": "2026-11-25" } }));
    assert!(when(&created(), Command::UpdateSection(same_day)).is_ok());
}

#[test]
fn involvement_follows_the_form_for_adults_and_children() {
    let adult = created();
    for bad in [
        json!(["C1"]),
        json!(["A", "B"]),
        json!([]),
        json!(["A", "A"]),
    ] {
        assert_eq!(
            pointers(when(
                &adult,
                Command::UpdateSection(etp_with(json!({ "involvement": bad })))
            )),
            ["/involvement"],
            "{bad}"
        );
    }
    assert_eq!(
        pointers(when(
            &adult,
            Command::UpdateSection(etp_with(json!({ "involvement": ["D"] })))
        )),
        ["/involvementDetail"]
    );
    assert!(when(
        &adult,
        Command::UpdateSection(etp_with(
            json!({ "involvement": ["D"], "involvementDetail": "Could not be contacted in time." })
        ))
    )
    .is_ok());
    let child = child_plan();
    for good in [json!(["C1"]), json!(["C2", "C3"]), json!(["C3", "C1"])] {
        assert!(
            when(
                &child,
                Command::UpdateSection(etp_with(json!({ "involvement": good })))
            )
            .is_ok(),
            "{good}"
        );
    }
    for bad in [json!(["A"]), json!(["C1", "C2"]), json!(["C1", "C2", "C3"])] {
        assert_eq!(
            pointers(when(
                &child,
                Command::UpdateSection(etp_with(json!({ "involvement": bad })))
            )),
            ["/involvement"],
            "{bad}"
        );
    }
}

#[test]
fn a_legal_proxys_participation_is_recorded() {
    let without = etp_with(json!({ "legalWelfareProxy": "Sam (LPA)" }));
    assert_eq!(
        pointers(when(&created(), Command::UpdateSection(without))),
        ["/legalProxyParticipation"]
    );
    let with = etp_with(
        json!({ "legalWelfareProxy": "Sam (LPA)", "legalProxyParticipation": "Agreed the plan." }),
    );
    assert!(when(&created(), Command::UpdateSection(with)).is_ok());
}

#[test]
fn a_death_recorded_in_error_is_retracted_and_the_plan_returns_to_its_status() {
    let mut history = created();
    history.extend(
        when(
            &history,
            Command::RecordDeath(DeathRecorded {
                date_of_death: today(),
                place_of_death: None,
            }),
        )
        .unwrap_or_else(|e| panic!("{e}")),
    );
    let retraction = DeathRetracted {
        reason: LongText::parse("Wrong person").unwrap_or_else(|e| panic!("{e}")),
    };
    history.extend(
        when(&history, Command::RetractDeath(retraction.clone())).unwrap_or_else(|e| panic!("{e}")),
    );
    let plan = given(&history).unwrap_or_else(|| panic!("a plan"));
    assert_eq!(plan.status, PlanStatus::Active);
    assert!(plan.status_change.is_none());
    assert_eq!(plan.corrections.len(), 1);
    assert_eq!(plan.corrections[0].kind, CorrectionKind::DeathRetracted);
    // Only a recorded death can be retracted.
    assert_eq!(
        when(&history, Command::RetractDeath(retraction)),
        Err(DomainError::NotDeceased)
    );
}

#[test]
fn a_section_entered_in_error_leaves_the_plan_and_stays_in_the_log() {
    let mut history = created();
    history.extend(
        when(&history, Command::UpdateSection(what_matters("Not theirs")))
            .unwrap_or_else(|e| panic!("{e}")),
    );
    let retract = |section| {
        Command::RetractSection(SectionRetracted {
            section,
            reason: LongText::parse("Wrong person").unwrap_or_else(|e| panic!("{e}")),
        })
    };
    let before = given(&history).unwrap_or_else(|| panic!("a plan"));
    history.extend(
        when(&history, retract(PlanSection::WhatMatters)).unwrap_or_else(|e| panic!("{e}")),
    );
    let after = given(&history).unwrap_or_else(|| panic!("a plan"));
    assert!(before.section(PlanSection::WhatMatters).is_some());
    assert!(after.section(PlanSection::WhatMatters).is_none());
    assert_eq!(after.corrections[0].section, Some(PlanSection::WhatMatters));
    assert_eq!(
        when(&history, retract(PlanSection::WhatMatters)),
        Err(DomainError::SectionNotRecorded(PlanSection::WhatMatters))
    );
    assert_eq!(
        when(&history, retract(PlanSection::PersonalInformation)),
        Err(DomainError::SectionCannotBeRetracted(
            PlanSection::PersonalInformation
        ))
    );
}

#[test]
fn a_withdrawal_needs_a_reason() {
    assert_eq!(
        pointers(when(
            &created(),
            Command::WithdrawCarePlan(PlanWithdrawn {
                reason: None,
                consent_withdrawn: false
            })
        )),
        ["/reason"]
    );
}

#[test]
fn the_persons_contacts_save_keeps_the_professionals() {
    let gp = json!({ "name": "Practice", "role": "GP practice", "phone": "020 7946 0001" });
    let mine = |professional: serde_json::Value| {
        content(
            PlanSection::Contacts,
            json!({ "personal": [{ "name": "Sam", "relationship": "son",
                "lpaHealthAndWelfare": "no", "lpaPropertyAndFinancial": "no",
                "phone": "07700 900123" }], "professional": professional }),
        )
    };
    let mut history = created();
    history.extend(
        when(&history, Command::UpdateSection(mine(json!([gp.clone()]))))
            .unwrap_or_else(|e| panic!("{e}")),
    );
    let state = given(&history);
    let as_person = |c| {
        decide(
            state.as_ref(),
            Command::UpdateSection(c),
            &ctx(AuthorKind::Person, now()),
        )
    };
    let kept = as_person(mine(json!([]))).unwrap_or_else(|e| panic!("{e}"));
    match &kept[0] {
        CarePlanEvent::SectionChanged(SectionContent::Contacts(c)) => {
            assert_eq!(c.professional.len(), 1, "the GP practice is kept");
        }
        other => panic!("{other:?}"),
    }
    assert!(as_person(mine(json!([gp]))).is_ok(), "sent unchanged: fine");
    assert_eq!(
        as_person(mine(json!([]))).map(|_| ()),
        Ok(()),
        "left out: kept"
    );
    let other = json!({ "name": "Someone", "role": "Key worker", "phone": "020 7946 0009" });
    assert_eq!(
        as_person(mine(json!([other]))),
        Err(DomainError::ProfessionalContactsByPerson)
    );
}

#[test]
fn an_emergency_treatment_plan_of_the_first_schema_still_replays() {
    // As written before involvement became a list.
    let v1 = json!({
        "sharedUnderstanding": "Advanced COPD.", "clinicalFocus": "symptom-control",
        "cprRecommendation": "attempts-not-recommended", "capacity": "has-capacity",
        "involvement": "B",
        "signatures": [{ "name": "Dr A", "role": "GP", "registrationNumber": "GMC 1234567",
                         "signedAt": "2026-01-01T09:00:00Z" }]
    });
    let event = CarePlanEvent::decode("EmergencyTreatmentPlanRecorded", 1, v1)
        .unwrap_or_else(|e| panic!("{e}"));
    match &event {
        CarePlanEvent::SectionChanged(SectionContent::EmergencyTreatmentPlan(e)) => {
            assert_eq!(e.involvement, vec![Involvement::B]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(event.schema_version(), 2, "written again, it is v2");
    assert!(CarePlanEvent::decode("EmergencyTreatmentPlanRecorded", 3, json!({})).is_err());
}

#[test]
fn the_summary_states_every_cpr_status_and_codes_only_what_is_exact() {
    let summary = |history: &[CarePlanEvent]| {
        EmergencySummary::of(
            uuid::Uuid::nil(),
            &given(history).unwrap_or_else(|| panic!("a plan")),
            today(),
        )
        .unwrap_or_else(|| panic!("a summary"))
    };
    let none = summary(&created());
    let cpr = none
        .cpr
        .unwrap_or_else(|| panic!("always stated for an active plan"));
    assert_eq!(cpr.status, CprStatus::NoDecisionRecorded);
    assert_eq!(cpr.coding.map(|c| c.code), Some("845151000000104".into()));
    assert!(cpr.recorded_at.is_none());
    for (recommendation, status, code) in [
        ("attempts-recommended", CprStatus::ForCpr, Some("450475007")),
        (
            "attempts-not-recommended",
            CprStatus::NotForCpr,
            Some("450476008"),
        ),
        ("modified-cpr", CprStatus::ModifiedCpr, None),
    ] {
        // Modified CPR is a child's: a child's plan, involvement C1.
        let child = recommendation == "modified-cpr";
        let mut history = if child { child_plan() } else { created() };
        let involvement = if child { json!(["C1"]) } else { json!(["A"]) };
        history.extend(
            when(
                &history,
                Command::UpdateSection(etp_with(json!({
                    "cprRecommendation": recommendation,
                    "modifiedCprDetails": "Compressions only",
                    "involvement": involvement
                }))),
            )
            .unwrap_or_else(|e| panic!("{e}")),
        );
        let cpr = summary(&history).cpr.unwrap_or_else(|| panic!("stated"));
        assert_eq!(cpr.status, status);
        assert_eq!(cpr.coding.map(|c| c.code).as_deref(), code);
        assert_eq!(
            cpr.modified_cpr_details.is_some(),
            status == CprStatus::ModifiedCpr
        );
        assert_eq!(cpr.signatures.len(), 1);
        assert_eq!(cpr.recorded_at, Some(envelope(2).at));
    }
}

#[test]
fn the_summary_warns_of_an_overdue_or_invalid_review_and_of_a_closed_plan() {
    let mut history = created();
    history.extend(
        when(
            &history,
            Command::UpdateSection(etp_with(
                json!({ "review": { "due": "2026-12-01", "stillValid": false } }),
            )),
        )
        .unwrap_or_else(|e| panic!("{e}")),
    );
    let plan = given(&history).unwrap_or_else(|| panic!("a plan"));
    let s = EmergencySummary::of(uuid::Uuid::nil(), &plan, today()).unwrap_or_else(|| panic!("s"));
    let codes = |s: &EmergencySummary| {
        s.warnings
            .iter()
            .map(|w| w.code.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(codes(&s), ["not-still-valid"]);
    assert!(!s.currency.overdue);
    let later = s.as_of(NaiveDate::from_ymd_opt(2026, 12, 2).unwrap_or(NaiveDate::MIN));
    assert!(later.currency.overdue);
    // Said no longer valid leads; the overdue review follows.
    assert_eq!(codes(&later), ["not-still-valid", "review-overdue"]);

    history.extend(
        when(&history, Command::WithdrawCarePlan(withdrawal())).unwrap_or_else(|e| panic!("{e}")),
    );
    let plan = given(&history).unwrap_or_else(|| panic!("a plan"));
    let s = EmergencySummary::of(uuid::Uuid::nil(), &plan, today()).unwrap_or_else(|| panic!("s"));
    assert!(
        s.cpr.is_none() && s.treatment.is_none(),
        "nothing to act on"
    );
    assert_eq!(
        s.not_current.as_ref().map(|n| n.status),
        Some(PlanStatus::Withdrawn)
    );
    assert_eq!(codes(&s)[0], "plan-not-active");
}

#[test]
fn withdrawn_consent_to_share_is_its_own_state_and_consent_given_again_ends_it() {
    let mut history = created();
    history.extend(
        when(&history, Command::UpdateSection(etp_with(json!({}))))
            .unwrap_or_else(|e| panic!("{e}")),
    );
    let withdraw = || {
        Command::WithdrawConsentToShare(ConsentWithdrawn {
            reason: Some(LongText::parse("Not to be shared.").unwrap_or_else(|e| panic!("{e}"))),
        })
    };
    history.extend(when(&history, withdraw()).unwrap_or_else(|e| panic!("{e}")));
    let plan = given(&history).unwrap_or_else(|| panic!("a plan"));
    assert_eq!(plan.status, PlanStatus::Active, "the plan is not withdrawn");
    let summary = EmergencySummary::of(uuid::Uuid::nil(), &plan, today())
        .unwrap_or_else(|| panic!("a summary"));
    assert!(summary.not_current.is_none());
    assert_eq!(
        summary.cpr.as_ref().map(|c| c.status),
        Some(CprStatus::NotForCpr),
        "the decision is not revoked"
    );
    let w = summary
        .consent_withdrawn
        .unwrap_or_else(|| panic!("withdrawn"));
    assert_eq!(w.caring_organisations, ["F84001"]);
    assert_eq!(
        w.notice().ended_as,
        crate::notice::EndedAs::ConsentWithdrawn
    );
    assert_eq!(
        when(&history, withdraw()),
        Err(DomainError::ConsentAlreadyWithdrawn)
    );
    // The person gives their own consent again; they may not record another basis.
    let person = |command| {
        decide(
            given(&history).as_ref(),
            command,
            &ctx(AuthorKind::Person, now()),
        )
    };
    let best_interests = content(
        PlanSection::ConsentToShare,
        json!({ "basis": "best-interests", "decidedBy": "Dr A", "date": "2026-11-25" }),
    );
    assert!(matches!(
        person(Command::UpdateSection(best_interests)),
        Err(DomainError::ClinicalSectionByPerson(
            PlanSection::ConsentToShare
        ))
    ));
    let again = person(Command::UpdateSection(SectionContent::ConsentToShare(
        consent(),
    )))
    .unwrap_or_else(|e| panic!("{e}"));
    history.extend(again);
    let plan = given(&history).unwrap_or_else(|| panic!("a plan"));
    assert!(plan.consent_withdrawal.is_none());
}

#[test]
fn modified_cpr_is_a_childs_and_capacity_and_involvement_agree() {
    // A 70-year-old: modified CPR refused, naming the field.
    let modified =
        json!({ "cprRecommendation": "modified-cpr", "modifiedCprDetails": "Compressions only" });
    assert_eq!(
        pointers(when(
            &created(),
            Command::UpdateSection(etp_with(modified.clone()))
        )),
        ["/cprRecommendation"]
    );
    // A 7-year-old: accepted.
    let mut child = modified;
    child["involvement"] = json!(["C1", "C3"]);
    assert!(when(&child_plan(), Command::UpdateSection(etp_with(child))).is_ok());
    // A with a person who lacks capacity; B with one who has it; B with nobody named.
    for (changes, expected) in [
        (json!({ "capacity": "lacks-capacity" }), vec!["/capacity"]),
        (json!({ "capacity": "indeterminate" }), vec!["/capacity"]),
        (
            json!({ "involvement": ["B"], "involvementDetail": "Daughter consulted." }),
            vec!["/capacity"],
        ),
        (
            json!({ "involvement": ["B"], "capacity": "lacks-capacity" }),
            vec!["/involvementDetail"],
        ),
    ] {
        assert_eq!(
            pointers(when(
                &created(),
                Command::UpdateSection(etp_with(changes.clone()))
            )),
            expected,
            "{changes}"
        );
    }
    let b = json!({ "involvement": ["B"], "capacity": "lacks-capacity",
                    "involvementDetail": "Made with his daughter Sam, who was consulted." });
    assert!(when(&created(), Command::UpdateSection(etp_with(b))).is_ok());
}

#[test]
fn a_decision_changed_back_is_not_signed_by_the_signatures_of_its_first_version() {
    // Signed NOT FOR CPR; changed to FOR CPR unsigned; changed back, unsigned.
    let mut history = created();
    history.extend(
        when(&history, Command::UpdateSection(etp_with(json!({}))))
            .unwrap_or_else(|e| panic!("{e}")),
    );
    let unsigned = |cpr: &str| {
        etp_with(json!({ "signAs": null, "cprRecommendation": cpr,
            "clinicalFocus": if cpr == "attempts-recommended" { "life-sustaining-treatment" } else { "symptom-control" } }))
    };
    for cpr in ["attempts-recommended", "attempts-not-recommended"] {
        history.extend(
            when(&history, Command::UpdateSection(unsigned(cpr))).unwrap_or_else(|e| panic!("{e}")),
        );
    }
    let plan = given(&history).unwrap_or_else(|| panic!("a plan"));
    let summary = EmergencySummary::of(uuid::Uuid::nil(), &plan, today())
        .unwrap_or_else(|| panic!("a summary"));
    let cpr = summary.cpr.unwrap_or_else(|| panic!("stated"));
    assert_eq!(cpr.status, CprStatus::NotForCpr);
    assert!(cpr.signatures.is_empty(), "{:?}", cpr.signatures);
    assert_eq!(cpr.standing, crate::standing::Standing::ChangedAfterSigning);
    // Nor may a paper signature be typed in under the decision as it stands: that is a
    // countersignature, made by its signer.
    let typed = etp_with(
        json!({ "signAs": null, "signatures": [{ "name": "Dr P", "role": "GP",
        "method": "transcribed-from-paper", "registrationNumber": "GMC 7000009",
        "seniorResponsible": true, "signedAt": "2026-11-20T10:00:00Z" }] }),
    );
    assert_eq!(
        pointers(when(&history, Command::UpdateSection(typed))),
        ["/signatures/0/method"]
    );
}

#[test]
fn a_form_never_signed_reads_not_signed_rather_than_changed() {
    // As a form recorded before signing was required: no signatures at all.
    let mut history = created();
    let legacy = CarePlanEvent::decode(
        "EmergencyTreatmentPlanRecorded",
        2,
        json!({ "sharedUnderstanding": "Advanced COPD.", "clinicalFocus": "symptom-control",
                "cprRecommendation": "attempts-not-recommended", "capacity": "has-capacity",
                "involvement": ["A"], "signatures": [] }),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    history.push(legacy);
    let plan = given(&history).unwrap_or_else(|| panic!("a plan"));
    let cpr = EmergencySummary::of(uuid::Uuid::nil(), &plan, today())
        .and_then(|s| s.cpr)
        .unwrap_or_else(|| panic!("stated"));
    assert!(cpr.headline.starts_with("NOT SIGNED"), "{}", cpr.headline);
}
