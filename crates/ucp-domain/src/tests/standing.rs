//! Whether a decision stands, and the first words a reader meets (DOMAIN.md, "Trusting a
//! decision": standing, and "no decision" that cannot be read as "no CPR"), given / when / then.

use serde_json::json;

use super::*;
use crate::standing::Standing;
use crate::views::EmergencySummary;

fn summary_on(history: &[CarePlanEvent], day: NaiveDate) -> EmergencySummary {
    EmergencySummary::of(
        uuid::Uuid::nil(),
        &given(history).unwrap_or_else(|| panic!("a plan")),
        day,
    )
    .unwrap_or_else(|| panic!("a summary"))
}

fn then(history: &mut Vec<CarePlanEvent>, command: Command) {
    let events = when(history, command).unwrap_or_else(|e| panic!("{e}"));
    history.extend(events);
}

fn review(next: &str, still_valid: Option<bool>, note: Option<&str>) -> Command {
    Command::ReviewCarePlan(PlanReviewed {
        next_review_date: next.parse().unwrap_or(NaiveDate::MIN),
        note: note.map(|n| LongText::parse(n).unwrap_or_else(|e| panic!("{e}"))),
        still_valid,
    })
}

fn etp_due(due: &str) -> SectionContent {
    super::trust::etp_with(json!({ "review": { "due": due } }))
}

#[test]
fn no_decision_is_worded_so_that_it_cannot_be_read_as_no_cpr() {
    let history = created();
    let cpr = summary_on(&history, today())
        .cpr
        .unwrap_or_else(|| panic!("always stated"));
    assert_eq!(
        cpr.headline,
        "No CPR decision on record \u{2014} use your usual clinical guidance."
    );
    // Not in capitals, which a glance reads as "NO CPR".
    assert_ne!(cpr.headline, cpr.headline.to_uppercase());
    assert_eq!(cpr.standing, Standing::Current);

    // An ADRT the person declared is named on the CPR line, with where it is.
    let mut history = history;
    then(
        &mut history,
        Command::UpdateSection(content(
            PlanSection::ThinkingAhead,
            json!({ "advanceDecisionToRefuseTreatment":
                { "held": "yes", "location": "with my solicitor" } }),
        )),
    );
    let cpr = summary_on(&history, today())
        .cpr
        .unwrap_or_else(|| panic!("stated"));
    assert!(
        cpr.headline
            .contains("advance decision to refuse treatment is held (with my solicitor)"),
        "{}",
        cpr.headline
    );
}

#[test]
fn a_review_saying_no_longer_valid_leads_the_headline_until_a_newer_form_is_recorded() {
    let mut history = created();
    then(&mut history, Command::UpdateSection(etp_due("2027-01-01")));
    then(
        &mut history,
        review(
            "2027-03-01",
            Some(false),
            Some("Family now want full escalation."),
        ),
    );
    let s = summary_on(&history, today());
    let cpr = s.cpr.clone().unwrap_or_else(|| panic!("stated"));
    assert_eq!(cpr.standing, Standing::SaidNoLongerValid);
    assert!(
        cpr.headline.starts_with("DECISION UNDER REVIEW"),
        "{}",
        cpr.headline
    );
    assert!(cpr.headline.contains("Family now want full escalation."));
    assert!(cpr.headline.contains("by Dr A Example"));
    assert!(
        cpr.headline
            .contains("Earlier recommendation, not to be relied on: NOT FOR CPR"),
        "the earlier recommendation is shown as earlier: {}",
        cpr.headline
    );
    assert_eq!(s.warnings[0].code, "not-still-valid");

    // A newer form clears it, and the review date is the later of the review's and the form's.
    then(&mut history, Command::UpdateSection(etp_due("2027-06-01")));
    let s = summary_on(&history, today());
    let cpr = s.cpr.clone().unwrap_or_else(|| panic!("stated"));
    assert_eq!(cpr.standing, Standing::Current);
    assert!(cpr.said_no_longer_valid.is_none());
    assert_eq!(cpr.headline, "NOT FOR CPR: CPR attempts not recommended.");
    assert!(s.warnings.iter().all(|w| w.code != "not-still-valid"));
    assert_eq!(s.currency.review_due, "2027-06-01".parse().ok());
}

#[test]
fn a_save_that_only_corrects_a_contact_leaves_the_decision_under_review() {
    let mut history = created();
    then(&mut history, Command::UpdateSection(etp_due("2027-01-01")));
    then(
        &mut history,
        review(
            "2027-03-01",
            Some(false),
            Some("Family now want full escalation."),
        ),
    );
    // The form saved again with its signatures sent back as they are and no new one: only a
    // contact's phone number is corrected.
    let plan = given(&history).unwrap_or_else(|| panic!("a plan"));
    let mut body = match plan
        .section(PlanSection::EmergencyTreatmentPlan)
        .map(|s| &s.content)
    {
        Some(SectionContent::EmergencyTreatmentPlan(etp)) => {
            serde_json::to_value(etp).unwrap_or_default()
        }
        _ => panic!("a form"),
    };
    body["emergencyContacts"] = json!([{ "name": "Sam Example",
        "roleOrRelationship": "daughter", "phone": "07700 900123" }]);
    then(
        &mut history,
        Command::UpdateSection(content(PlanSection::EmergencyTreatmentPlan, body)),
    );
    // As the log records them: the form signed at noon, the review an hour later, the contact
    // corrected an hour after that.
    let review_at = history.len() - 2;
    let plan = history
        .iter()
        .enumerate()
        .fold(None, |state, (i, e)| {
            let version = i64::try_from(i).unwrap_or_default() + 1;
            let mut env = envelope(version);
            if i >= review_at {
                env.at =
                    now() + chrono::Duration::hours(i64::try_from(i - review_at).unwrap_or(0) + 1);
            }
            evolve(state, e, &env)
        })
        .unwrap_or_else(|| panic!("a plan"));
    let cpr = EmergencySummary::of(uuid::Uuid::nil(), &plan, today())
        .and_then(|s| s.cpr)
        .unwrap_or_else(|| panic!("stated"));
    assert_eq!(
        cpr.standing,
        Standing::SaidNoLongerValid,
        "{}",
        cpr.headline
    );
    assert!(cpr.headline.starts_with("DECISION UNDER REVIEW"));
}

#[test]
fn a_forms_own_review_box_saying_no_longer_valid_is_read_after_a_plan_review() {
    let mut history = created();
    then(&mut history, Command::UpdateSection(etp_due("2027-01-01")));
    then(&mut history, review("2027-03-01", Some(true), None));
    then(
        &mut history,
        Command::UpdateSection(super::trust::etp_with(json!({
            "review": { "due": "2027-02-01", "reviewedBy": "Dr B Example", "stillValid": false }
        }))),
    );
    let cpr = summary_on(&history, today())
        .cpr
        .unwrap_or_else(|| panic!("stated"));
    assert_eq!(
        cpr.standing,
        Standing::SaidNoLongerValid,
        "{}",
        cpr.headline
    );
}

#[test]
fn an_overdue_review_says_the_recommendations_stand_until_reviewed() {
    let mut history = created();
    then(&mut history, Command::UpdateSection(etp_due("2026-12-01")));
    let later = "2027-01-15".parse().unwrap_or(NaiveDate::MIN);
    let s = summary_on(&history, later);
    let cpr = s.cpr.clone().unwrap_or_else(|| panic!("stated"));
    assert_eq!(cpr.standing, Standing::ReviewOverdue);
    assert_eq!(
        cpr.headline,
        "NOT FOR CPR: CPR attempts not recommended \u{2014} review overdue since 1 December 2026; the recommendations stand until reviewed."
    );
    let overdue = s
        .warnings
        .iter()
        .find(|w| w.code == "review-overdue")
        .map(|w| w.message.clone())
        .unwrap_or_default();
    assert!(overdue.contains("stand until reviewed"), "{overdue}");
    // The same summary read before the date is current.
    assert_eq!(
        summary_on(&history, today()).cpr.map(|c| c.standing),
        Some(Standing::Current)
    );
}

#[test]
fn registrations_must_be_real_and_only_senior_designations_sign_as_senior_responsible() {
    let form = |signatures: serde_json::Value| {
        let mut body = json!({
            "sharedUnderstanding": "Advanced heart failure.", "clinicalFocus": "symptom-control",
            "cprRecommendation": "attempts-not-recommended", "capacity": "has-capacity",
            "involvement": ["A"]
        });
        body["signatures"] = signatures;
        Command::UpdateSection(content(PlanSection::EmergencyTreatmentPlan, body))
    };
    let pointers = |command| match when(&created(), command) {
        Err(DomainError::Invalid(errors)) => errors
            .into_iter()
            .map(|e| e.pointer)
            .collect::<Vec<String>>(),
        other => panic!("expected a refusal, got {other:?}"),
    };
    // "Someone, HCA, registration n/a, senior responsible": refused on both counts.
    assert_eq!(
        pointers(form(
            json!([{ "name": "Someone", "role": "HCA", "method": "transcribed-from-paper", "registrationNumber": "n/a",
            "seniorResponsible": true, "signedAt": "2026-11-01T10:00:00Z" }])
        )),
        ["/signatures/0/registrationNumber", "/signatures/0/role"]
    );
    // A paramedic and a nurse countersign a consultant's form: each register's own form.
    assert!(when(
        &created(),
        form(json!([
            { "name": "Dr C", "role": "Consultant geriatrician", "method": "transcribed-from-paper", "registrationNumber": "GMC 1234567",
              "seniorResponsible": true, "signedAt": "2026-11-01T10:00:00Z" },
            { "name": "P Medic", "role": "Paramedic", "method": "transcribed-from-paper", "registrationNumber": "PA12345",
              "signedAt": "2026-11-01T10:05:00Z" },
            { "name": "N Urse", "role": "Staff nurse", "method": "transcribed-from-paper", "registrationNumber": "12A3456E",
              "signedAt": "2026-11-01T10:06:00Z" }
        ]))
    )
    .is_ok());
}

#[test]
fn a_retracted_or_changed_decision_leaves_a_trace_for_a_year() {
    // NOT FOR CPR recorded in version 2, then retracted as entered in error.
    let mut history = created();
    then(&mut history, Command::UpdateSection(etp_due("2027-01-01")));
    then(
        &mut history,
        Command::RetractSection(SectionRetracted {
            section: PlanSection::EmergencyTreatmentPlan,
            reason: LongText::parse("Recorded on the wrong person's plan.")
                .unwrap_or_else(|e| panic!("{e}")),
        }),
    );
    // The day after (these events are dated in 2023).
    let day = envelope(3).at.date_naive() + chrono::Days::new(1);
    let s = summary_on(&history, day);
    let cpr = s.cpr.clone().unwrap_or_else(|| panic!("stated"));
    assert_eq!(cpr.status, CprStatus::NoDecisionRecorded);
    let previous = cpr
        .previous_decision
        .clone()
        .unwrap_or_else(|| panic!("a trace"));
    assert_eq!(
        (previous.was, previous.version, previous.how),
        (CprStatus::NotForCpr, 2, TraceKind::Retracted)
    );
    let until = envelope(3).at.format("%-d %B %Y").to_string();
    assert_eq!(
        previous.message,
        format!("Until {until} this plan said NOT FOR CPR (version 2); retracted as entered in error by Dr A Example: \u{201c}Recorded on the wrong person's plan.\u{201d}. Printed copies saying so are superseded.")
    );
    assert!(cpr.headline.starts_with("No CPR decision on record"));
    assert!(cpr.headline.contains(&previous.message), "{}", cpr.headline);
    assert!(s.warnings.iter().any(|w| w.code == "decision-changed"));
    // A year and a day later it is no longer told.
    let much_later = envelope(3).at.date_naive() + chrono::Days::new(366);
    let aged = s.as_of(much_later);
    assert!(aged
        .cpr
        .as_ref()
        .is_some_and(|c| c.previous_decision.is_none()));
    assert!(aged.warnings.iter().all(|w| w.code != "decision-changed"));

    // A newer form that recommends otherwise: changed, by whom; the same recommendation again
    // leaves no trace.
    let mut history = created();
    then(&mut history, Command::UpdateSection(etp_due("2027-01-01")));
    then(&mut history, Command::UpdateSection(etp_due("2027-02-01")));
    assert!(summary_on(&history, day)
        .cpr
        .is_some_and(|c| c.previous_decision.is_none()));
    then(
        &mut history,
        Command::UpdateSection(super::trust::etp_with(json!({
            "cprRecommendation": "attempts-recommended",
            "clinicalFocus": "life-sustaining-treatment"
        }))),
    );
    let cpr = summary_on(&history, day)
        .cpr
        .unwrap_or_else(|| panic!("stated"));
    let previous = cpr.previous_decision.unwrap_or_else(|| panic!("a trace"));
    assert_eq!(
        (previous.was, previous.version, previous.how),
        (CprStatus::NotForCpr, 3, TraceKind::Changed)
    );
    assert!(previous.message.contains("changed by Dr A Example"));
    assert!(cpr.headline.starts_with("FOR CPR"), "{}", cpr.headline);
}
