//! The first thing a crew reads: a decision whose headline leads with its standing and cannot
//! be misread, and a plan that ended leaving a notice rather than a silence.

use reqwest::Method;
use serde_json::{json, Value};
use ucp_api::Role;

use crate::helpers::*;

async fn plan_etag(app: &TestApp, id: &str) -> String {
    let res = app
        .req(
            Method::GET,
            &format!("/v1/care-plans/{id}"),
            Role::Clinician,
        )
        .send()
        .await
        .unwrap();
    res.headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

async fn act(app: &TestApp, id: &str, action: &str, body: &Value) {
    let etag = plan_etag(app, id).await;
    let res = app
        .write(
            Role::Clinician,
            Method::POST,
            &format!("/v1/care-plans/{id}/{action}"),
            &etag,
            body,
        )
        .await;
    assert_eq!(res.status().as_u16(), 200, "{action}");
}

async fn read(app: &TestApp, path: &str, role: Role) -> reqwest::Response {
    app.req(Method::GET, path, role).send().await.unwrap()
}

#[tokio::test]
async fn a_plan_that_ended_leaves_a_notice_for_everyone_who_could_have_read_it() {
    let app = TestApp::spawn().await;
    let mut people = Vec::new();
    for (i, (action, body)) in [
        ("withdraw", json!({ "reason": "No longer wanted" })),
        ("void", json!({ "reason": "Made for the wrong person." })),
        ("person-died", json!({ "dateOfDeath": "2026-11-20" })),
    ]
    .into_iter()
    .enumerate()
    {
        let person = nhs(2701 + u32::try_from(i).unwrap_or_default());
        let plan = app.create_plan(&plan_body(&person)).await;
        act(&app, plan["id"].as_str().unwrap_or_default(), action, &body).await;
        people.push((person, action));
    }
    // The person withdraws their consent to share: its own notice.
    let consent = nhs(2704);
    let plan = app.create_plan(&plan_body(&consent)).await;
    let etag = plan_etag(&app, plan["id"].as_str().unwrap_or_default()).await;
    let res = app
        .client
        .post(app.url("/v1/me/care-plan/consent/withdraw"))
        .bearer_auth(token_with(Role::Patient, Some(&consent)))
        .header("If-Match", etag)
        .json(&json!({ "reason": "I do not want it shared." }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    people.push((consent, "consent"));

    for (person, how) in &people {
        for role in [Role::Ambulance, Role::Nhs111, Role::Ooh, Role::Dispatch] {
            for path in [
                format!("/v1/patients/{person}/emergency-summary"),
                format!("/v1/patients/{person}/care-plan"),
            ] {
                if role == Role::Dispatch && path.ends_with("care-plan") {
                    continue; // dispatch reads summaries only
                }
                let body = problem(read(&app, &path, role).await, 410).await;
                // Consent withdrawn is "not shared", not "not current": a printed form's
                // decisions were not revoked.
                let consent = *how == "consent";
                let code = if consent {
                    "plan_not_shared"
                } else {
                    "plan_not_current"
                };
                assert_eq!(body["code"], code, "{how} {role:?} {path}");
                let notice = &body["notice"];
                assert_eq!(notice["printedCopiesNotCurrent"], !consent);
                let (ended_as, words) = match *how {
                    "withdraw" => (
                        "withdrawn",
                        "It was withdrawn. It is not current: do not act on printed copies.",
                    ),
                    "void" => ("voided", "It was made in error and voided."),
                    "person-died" => ("closed-after-death", "It was closed after death."),
                    _ => (
                        "consent-withdrawn",
                        "The person has withdrawn consent to share their plan on",
                    ),
                };
                assert_eq!(notice["endedAs"], ended_as, "{body}");
                let message = notice["message"].as_str().unwrap_or_default();
                assert!(message.contains(words), "{message}");
                if *how != "consent" {
                    assert!(
                        message.starts_with("A care plan existed until "),
                        "{message}"
                    );
                }
                // No clinical content, no name: the notice and nothing else.
                let text = body.to_string();
                for clinical in ["CPR", "cpr", "Nowak", "Zoë", "COPD", "garden"] {
                    assert!(!text.contains(clinical), "{clinical} in {text}");
                }
            }
        }
    }
    // Distinct from a person who never had a plan, for a person and for a program.
    let never = nhs(2705);
    let body = problem(
        read(
            &app,
            &format!("/v1/patients/{never}/emergency-summary"),
            Role::Ambulance,
        )
        .await,
        404,
    )
    .await;
    assert_eq!(body["code"], "not_found");
    assert!(body.get("notice").is_none());
    // A clinician still reads the ended plan itself; a patient is told nothing of another's.
    let (withdrawn, _) = &people[0];
    let res = read(
        &app,
        &format!("/v1/patients/{withdrawn}/emergency-summary"),
        Role::Clinician,
    )
    .await;
    assert_eq!(res.status().as_u16(), 200);
    let res = app
        .client
        .get(app.url(&format!("/v1/patients/{withdrawn}/emergency-summary")))
        .bearer_auth(token_with(Role::Patient, Some(&never)))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res, 404).await["code"], "not_found");
}

#[tokio::test]
async fn the_headline_leads_with_the_standing_and_no_decision_is_not_no_cpr() {
    let app = TestApp::spawn().await;
    // No Emergency Treatment Plan: worded so that it cannot be read as "no CPR".
    let undecided = nhs(2706);
    let mut body = plan_body(&undecided);
    if let Some(b) = body.as_object_mut() {
        b.remove("emergencyTreatmentPlan");
    }
    app.create_plan(&body).await;
    let s = app.summary(&undecided, Role::Ambulance).await;
    assert_eq!(
        s["cpr"]["headline"],
        "No CPR decision on record \u{2014} use your usual clinical guidance."
    );
    assert_eq!(s["cpr"]["standing"], "current");

    // A review saying the decision is no longer valid leads the headline, with the note...
    let person = nhs(2707);
    let plan = app.create_plan(&plan_body(&person)).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    let etag = plan_etag(&app, &id).await;
    let res = app
        .write(
            Role::Ooh,
            Method::POST,
            &format!("/v1/care-plans/{id}/review"),
            &etag,
            &json!({ "nextReviewDate": "2099-12-31", "stillValid": false,
                     "note": "Family now want full escalation." }),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let s = app.summary(&person, Role::Ambulance).await;
    let headline = s["cpr"]["headline"].as_str().unwrap_or_default().to_owned();
    assert!(headline.starts_with("DECISION UNDER REVIEW"), "{headline}");
    assert!(
        headline.contains("Family now want full escalation."),
        "{headline}"
    );
    assert_eq!(s["cpr"]["standing"], "said-no-longer-valid");
    assert_eq!(s["warnings"][0]["code"], "not-still-valid");
    // ...and on paper, on the first page.
    let pdf = app
        .req(
            Method::GET,
            &format!("/v1/care-plans/{id}/document"),
            Role::Clinician,
        )
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap_or_default();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let first_page = crate::document::tool(
        "pdftotext",
        &["-f", "1", "-l", "1", &path.display().to_string(), "-"],
    );
    let flat = first_page.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("DECISION UNDER REVIEW"), "{flat}");
    assert!(flat.contains("Family now want full escalation."), "{flat}");

    // A newer Emergency Treatment Plan clears it.
    let doc: Value = read(&app, &format!("/v1/care-plans/{id}"), Role::Clinician)
        .await
        .json()
        .await
        .unwrap_or_default();
    let etp_etag = doc["sections"]["emergency-treatment-plan"]["etag"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let res = app
        .put_section(&id, "emergency-treatment-plan", &etp_etag, &etp())
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let s = app.summary(&person, Role::Ambulance).await;
    assert_eq!(s["cpr"]["standing"], "current");
    assert_eq!(
        s["cpr"]["headline"],
        "NOT FOR CPR: CPR attempts not recommended."
    );
    assert!(s["cpr"]["saidNoLongerValid"].is_null());
}

#[tokio::test]
async fn a_signature_must_carry_a_real_registration_and_a_senior_designation() {
    let app = TestApp::spawn().await;
    let person = nhs(2708);
    let mut body = plan_body(&person);
    body["emergencyTreatmentPlan"]["signatures"] = json!([{ "name": "Someone", "role": "HCA",
        "registrationNumber": "n/a", "seniorResponsible": true, "signedAt": "2026-11-01T09:00:00Z",
        "method": "transcribed-from-paper" }]);
    let res = app
        .req(Method::POST, "/v1/care-plans", Role::Clinician)
        .json(&body)
        .send()
        .await
        .unwrap();
    let refused = problem(res, 422).await;
    let pointers: Vec<&str> = refused["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["pointer"].as_str())
        .collect();
    assert_eq!(
        pointers,
        [
            "/emergencyTreatmentPlan/signatures/0/registrationNumber",
            "/emergencyTreatmentPlan/signatures/0/role"
        ],
        "{refused}"
    );
    assert_eq!(app.event_count().await, 0, "nothing written");
}

#[tokio::test]
async fn a_retracted_dnacpr_leaves_a_trace_that_printed_copies_are_superseded() {
    let app = TestApp::spawn().await;
    let person = nhs(2709);
    let plan = app.create_plan(&plan_body(&person)).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    let doc: Value = read(&app, &format!("/v1/care-plans/{id}"), Role::Clinician)
        .await
        .json()
        .await
        .unwrap_or_default();
    let version = doc["sections"]["emergency-treatment-plan"]["version"].clone();
    let etag = doc["sections"]["emergency-treatment-plan"]["etag"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let res = app
        .write(
            Role::Clinician,
            Method::DELETE,
            &format!("/v1/care-plans/{id}/sections/emergency-treatment-plan"),
            &etag,
            &json!({ "reason": "Recorded on the wrong person's plan." }),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let s = app.summary(&person, Role::Ambulance).await;
    assert_eq!(s["cpr"]["status"], "no-decision-recorded");
    let previous = &s["cpr"]["previousDecision"];
    assert_eq!(previous["was"], "not-for-cpr");
    assert_eq!(previous["how"], "retracted");
    assert_eq!(previous["version"], version);
    let message = previous["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&format!("this plan said NOT FOR CPR (version {version})"))
            && message.contains("retracted as entered in error by Test clinician")
            && message.contains("Recorded on the wrong person's plan.")
            && message.ends_with("Printed copies saying so are superseded."),
        "{message}"
    );
    let headline = s["cpr"]["headline"].as_str().unwrap_or_default();
    assert!(
        headline.starts_with("No CPR decision on record") && headline.contains(message),
        "{headline}"
    );
    assert!(s["warnings"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|w| w["code"] == "decision-changed"));
}

/// Printing is audited, so a changed decision can name the printed copies it supersedes.
#[tokio::test]
async fn a_changed_decision_names_the_printed_copies_it_supersedes() {
    let app = TestApp::spawn().await;
    let person = nhs(2766);
    let plan = app.create_plan(&plan_body(&person)).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    let printed_at_version = plan["version"].as_i64().unwrap_or_default();
    let pdf = read(
        &app,
        &format!("/v1/care-plans/{id}/document"),
        Role::Clinician,
    )
    .await;
    assert_eq!(pdf.status().as_u16(), 200);
    let _ = pdf.bytes().await;

    // The form changes to FOR CPR, signed by the clinician who changes it.
    let (_, form) = app
        .get_json(
            &format!("/v1/care-plans/{id}/sections/emergency-treatment-plan"),
            Role::Clinician,
        )
        .await;
    let mut changed = form["content"].clone();
    changed["cprRecommendation"] = json!("attempts-recommended");
    changed["clinicalFocus"] = json!("life-sustaining-treatment");
    changed["signAs"] =
        json!({ "role": "GP", "registrationNumber": "GMC 1234567", "seniorResponsible": true });
    let res = app
        .put_section(
            &id,
            "emergency-treatment-plan",
            form["etag"].as_str().unwrap_or_default(),
            &changed,
        )
        .await;
    assert_eq!(res.status().as_u16(), 200, "{:?}", res.text().await);

    // The print's access-log entry is written in a group commit: wait for it, within a bound.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let previous = loop {
        let s = app.summary(&person, Role::Ambulance).await;
        let previous = s["cpr"]["previousDecision"].clone();
        if previous["printedCopies"]
            .as_array()
            .is_some_and(|c| !c.is_empty())
        {
            assert_eq!(
                s["cpr"]["standing"], "current",
                "signed by the one who changed it"
            );
            break previous;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no printed copy named after 10 s: {s}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(previous["printedCopies"][0]["version"], printed_at_version);
    let message = previous["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&format!(
            "A printed copy of version {printed_at_version} was made on"
        )) && message.ends_with("and is superseded."),
        "{message}"
    );
}

/// While consent to share is withdrawn, nobody outside the organisations caring for the person
/// changes or reads the plan, however they come, and those organisations are the ones caring
/// for them when consent was withdrawn.
#[tokio::test]
async fn a_plan_whose_consent_was_withdrawn_is_kept_from_writers_and_followers_outside_its_care() {
    let app = TestApp::spawn().await;
    let person = nhs(2767);
    let plan = app.create_plan(&plan_body(&person)).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    act(
        &app,
        &id,
        "consent/withdraw",
        &json!({ "reason": "Told the GP: not to be shared." }),
    )
    .await;
    let etag = plan_etag(&app, &id).await;
    // A clinician of another organisation, with the right ETag, may not write or review it.
    let elsewhere = token_at(Role::Clinician, "Y01234");
    for (method, path, body) in [
        (
            Method::PUT,
            format!("/v1/care-plans/{id}/sections/what-matters"),
            json!({ "inTheirOwnWords": "Changed by a stranger." }),
        ),
        (
            Method::POST,
            format!("/v1/care-plans/{id}/review"),
            json!({ "nextReviewDate": "2099-01-01" }),
        ),
        (
            Method::PUT,
            format!("/v1/care-plans/{id}/sections/consent-to-share"),
            json!({ "basis": "person-agreed", "date": "2026-12-07" }),
        ),
    ] {
        let res = app
            .client
            .request(method.clone(), app.url(&path))
            .bearer_auth(&elsewhere)
            .header("If-Match", &etag)
            .json(&body)
            .send()
            .await
            .unwrap();
        let refused = problem(res, 410).await;
        assert_eq!(refused["code"], "plan_not_shared", "{method} {path}");
        assert!(refused.get("sections").is_none());
    }
    assert_eq!(plan_etag(&app, &id).await, etag, "nothing written");
    // A new follower's snapshot leaves it out.
    let (_, snapshot) = app.get_json("/v1/feed/snapshot", Role::Dispatch).await;
    let listed: Vec<&str> = snapshot["summaries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["nhsNumber"].as_str())
        .collect();
    assert!(!listed.contains(&person.as_str()), "{snapshot}");
}

/// What a crew reads first, in the form's words: the shared understanding, the focus of care as
/// ReSPECT words it, the scale with its ends, the person's own words marked as theirs, a child
/// as a child, what an ADRT refuses; and how to get in only for those who attend.
#[tokio::test]
async fn the_summary_reads_in_the_forms_words_and_keeps_the_way_in_for_those_who_attend() {
    let app = TestApp::spawn().await;
    let person = nhs(2768);
    let mut body = plan_body(&person);
    body["emergencyTreatmentPlan"]["whatMatters"] =
        json!({ "priorityScale": 8, "mostValue": "Being at home." });
    body["thinkingAhead"] = json!({ "advanceDecisionToRefuseTreatment": {
        "held": "yes", "location": "Red folder by the bed",
        "refuses": "Mechanical ventilation", "circumstances": "If I cannot breathe on my own" } });
    body["communicationAndAccessibility"] = json!({ "accessToHome": "Key safe by the door, code 1234",
        "keySafe": true });
    app.create_plan(&body).await;
    let s = app.summary(&person, Role::Ambulance).await;
    assert_eq!(s["sharedUnderstanding"]["text"], "Advanced COPD.");
    assert_eq!(
        s["sharedUnderstanding"]["sources"][0]["section"],
        "emergency-treatment-plan"
    );
    assert_eq!(s["treatment"]["clinicalFocusWords"], "Prioritise comfort");
    assert_eq!(
        s["whatMattersInEmergency"]["scaleEnds"]["at10"],
        "Quality of life and comfort matter most to me"
    );
    assert_eq!(
        s["inTheirOwnWords"]["text"],
        "My garden and my grandchildren."
    );
    assert_eq!(
        s["inTheirOwnWords"]["sources"][0]["section"],
        "what-matters"
    );
    assert_eq!(s["child"], false);
    assert!(s["ageYears"].as_i64().unwrap_or_default() >= 85);
    assert_eq!(s["legal"]["adrt"]["refuses"], "Mechanical ventilation");
    let headline = s["cpr"]["headline"].as_str().unwrap_or_default();
    assert!(
        headline.contains("it refuses \u{201c}Mechanical ventilation\u{201d}"),
        "{headline}"
    );
    // The crew attends: they read the way in. 111 and dispatch do not.
    assert_eq!(
        s["alerts"]["accessToHome"],
        "Key safe by the door, code 1234"
    );
    for role in [Role::Nhs111, Role::Dispatch] {
        let other = app.summary(&person, role).await;
        let words = other["alerts"]["accessToHome"].as_str().unwrap_or_default();
        assert!(
            !words.contains("1234") && words.starts_with("Recorded"),
            "{role:?}: {words}"
        );
        assert_eq!(other["alerts"]["keySafe"], true);
    }
    // Nor through the feed, its snapshot, or the summary's changes.
    for (path, role) in [
        ("/v1/feed/snapshot".to_owned(), Role::Dispatch),
        ("/v1/feed".to_owned(), Role::Dispatch),
        (
            format!("/v1/patients/{person}/emergency-summary/changes?since=1"),
            Role::Nhs111,
        ),
    ] {
        let (status, body) = app.get_json(&path, role).await;
        assert_eq!(status, 200, "{path}: {body}");
        let text = body.to_string();
        assert!(!text.contains("code 1234"), "{path} as {role:?}: {text}");
    }
    // 111 reads the plan, its history and its changes without it; the crew with it.
    for path in [
        format!("/v1/patients/{person}/care-plan"),
        format!(
            "/v1/care-plans/{}/history",
            s["planId"].as_str().unwrap_or_default()
        ),
        format!(
            "/v1/care-plans/{}/changes?since=1",
            s["planId"].as_str().unwrap_or_default()
        ),
        format!(
            "/v1/care-plans/{}/sections/communication-and-accessibility",
            s["planId"].as_str().unwrap_or_default()
        ),
    ] {
        let (status, body) = app.get_json(&path, Role::Nhs111).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert!(!body.to_string().contains("code 1234"), "{path}: {body}");
    }
    let (_, crew_plan) = app
        .get_json(&format!("/v1/patients/{person}/care-plan"), Role::Ambulance)
        .await;
    assert!(crew_plan.to_string().contains("code 1234"));
    let (_, crew_changes) = app
        .get_json(
            &format!("/v1/patients/{person}/emergency-summary/changes?since=1"),
            Role::Ambulance,
        )
        .await;
    assert!(crew_changes.to_string().contains("code 1234"));
    // A child reads as a child.
    let child = nhs(2769);
    let mut body = plan_body(&child);
    body["personalInformation"]["birthDate"] = json!("2019-03-04");
    body["emergencyTreatmentPlan"]["involvement"] = json!(["C1", "C3"]);
    app.create_plan(&body).await;
    let s = app.summary(&child, Role::Ambulance).await;
    assert_eq!(s["child"], true, "{s}");
    assert!(s["ageYears"].as_i64().is_some_and(|a| a < 18));
}

/// An attorney's LPA says whether it covers life-sustaining treatment and its OPG reference; a
/// child's plan names who holds parental responsibility, and says so when nobody is recorded.
#[tokio::test]
async fn the_legal_facts_say_what_an_lpa_covers_and_who_holds_parental_responsibility() {
    let app = TestApp::spawn().await;
    let adult = nhs(2770);
    let mut body = plan_body(&adult);
    body["contacts"] = json!({ "personal": [{ "name": "Sam Nowak", "relationship": "son",
        "lpaHealthAndWelfare": "yes", "lpaPropertyAndFinancial": "no", "phone": "07700 900001",
        "lpaCoversLifeSustainingTreatment": "yes", "lpaRegistrationReference": "7000 1234 5678" }] });
    app.create_plan(&body).await;
    let s = app.summary(&adult, Role::Ambulance).await;
    let attorney = &s["legal"]["lpaHealthAndWelfare"][0];
    assert_eq!(attorney["coversLifeSustainingTreatment"], "yes", "{s}");
    assert_eq!(attorney["opgReference"], "7000-1234-5678");

    let child = nhs(2771);
    let mut body = plan_body(&child);
    body["personalInformation"]["birthDate"] = json!("2019-03-04");
    body["emergencyTreatmentPlan"]["involvement"] = json!(["C2", "C3"]);
    let created = app.create_plan(&body).await;
    let s = app.summary(&child, Role::Ambulance).await;
    assert!(
        s["warnings"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|w| w["code"] == "no-parental-responsibility"),
        "{s}"
    );
    let id = created["id"].as_str().unwrap_or_default();
    let res = app
        .put_section(
            id,
            "contacts",
            "\"contacts.0\"",
            &json!({ "personal": [{ "name": "Ana Nowak", "relationship": "mother",
                "lpaHealthAndWelfare": "no", "lpaPropertyAndFinancial": "no",
                "phone": "07700 900002", "parentalResponsibility": true }] }),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200, "{:?}", res.text().await);
    let s = app.summary(&child, Role::Ambulance).await;
    assert_eq!(s["legal"]["parentalResponsibility"][0]["name"], "Ana Nowak");
    assert!(!s["warnings"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|w| w["code"] == "no-parental-responsibility"));
}

/// What London's Universal Care Plan shows crews beside the ReSPECT form: prognosis, an
/// expected death and who verifies it, current medicines, weight, DoLS, safeguarding, living
/// alone; bad values refused by pointer.
#[tokio::test]
async fn the_london_items_are_recorded_shown_and_checked() {
    let app = TestApp::spawn().await;
    let person = nhs(2772);
    let mut body = plan_body(&person);
    body["clinicalBackground"] = json!({ "conditions": [{ "name": "COPD" }],
        "prognosis": "weeks", "deathExpected": true,
        "deathVerifiedBy": "District nurses, 020 7946 0009",
        "currentMedicines": [{ "name": "Furosemide 40 mg", "doseAndRoute": "once a day by mouth" }],
        "weight": { "kilograms": 58.2, "measuredOn": "2026-11-30" },
        "dolsInPlace": "no", "safeguardingConcerns": "None known.", "livesAlone": "yes" });
    let plan = app.create_plan(&body).await;
    let s = app.summary(&person, Role::Ambulance).await;
    let c = &s["clinical"];
    assert_eq!(c["prognosis"], "weeks", "{c}");
    assert_eq!(c["deathExpected"], true);
    assert_eq!(c["deathVerifiedBy"], "District nurses, 020 7946 0009");
    assert_eq!(c["currentMedicines"][0]["name"], "Furosemide 40 mg");
    assert_eq!(c["weight"]["kilograms"], 58.2);
    assert_eq!(c["livesAlone"], "yes");
    assert_eq!(c["dolsInPlace"], "no");
    // NOT FOR CPR beside an expected death: no warning. FOR CPR beside it: a warning.
    assert!(!s["warnings"].to_string().contains("death-expected-for-cpr"));
    let other = nhs(2773);
    let mut for_cpr = body.clone();
    for_cpr["personalInformation"]["nhsNumber"] = json!(other);
    for_cpr["emergencyTreatmentPlan"]["cprRecommendation"] = json!("attempts-recommended");
    for_cpr["emergencyTreatmentPlan"]["clinicalFocus"] = json!("life-sustaining-treatment");
    app.create_plan(&for_cpr).await;
    let w = app.summary(&other, Role::Ambulance).await;
    assert!(
        w["warnings"].to_string().contains("death-expected-for-cpr"),
        "{w}"
    );
    // FHIR carries them on the CarePlan.
    let id = plan["id"].as_str().unwrap_or_default();
    let (status, care_plan) = app
        .get_json(&format!("/fhir/R4/CarePlan/{id}"), Role::Clinician)
        .await;
    assert_eq!(status, 200);
    let text = care_plan.to_string();
    assert!(
        text.contains("ucp-prognosis") && text.contains("ucp-death-verified-by"),
        "{text}"
    );
    // Refused: an impossible weight; a verifier without an expected death.
    for (changes, pointer) in [
        (
            json!({ "weight": { "kilograms": 0, "measuredOn": "2026-11-30" } }),
            "/weight/kilograms",
        ),
        (json!({ "deathExpected": false }), "/deathVerifiedBy"),
    ] {
        let mut section = body["clinicalBackground"].clone();
        for (k, v) in changes.as_object().into_iter().flatten() {
            section[k] = v.clone();
        }
        let res = app
            .put_section(
                id,
                "clinical-background",
                &format!("\"plan.{}\"", plan["version"]),
                &section,
            )
            .await;
        let refused = problem(res, 422).await;
        assert_eq!(refused["errors"][0]["pointer"], pointer, "{refused}");
    }
}

/// The summary a reader is sent is judged once per plan version, day and kind of reader, and
/// sent again as it was encoded: never across versions, days or the way into the home, and
/// never when it tells of a previous decision (its printed copies change with no new version).
#[tokio::test]
async fn a_judged_summary_is_sent_again_only_for_its_version_day_and_reader() {
    use ucp_app::judged_summaries::JudgedSummaries;
    use ucp_app::{reads, Actor, Purpose};

    let app = TestApp::spawn().await;
    let person = nhs(2772);
    let mut body = plan_body(&person);
    body["communicationAndAccessibility"] =
        json!({ "accessToHome": "Key safe by the door, code 1234", "keySafe": true });
    let plan = app.create_plan(&body).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    let number = ucp_domain::NhsNumber::parse(&person).unwrap();
    let judged = JudgedSummaries::default();
    let reader = |sub: &str, role| Actor {
        org: Some("RRU".into()),
        purpose: Some(Purpose::Emergency),
        ..Actor::new(sub, role)
    };
    let (crew, dispatch) = (
        reader("a-crew", Role::Ambulance),
        reader("a-dispatcher", Role::Dispatch),
    );
    let today = chrono::Utc::now().date_naive();
    let read = |actor: &Actor, day| {
        let (db, judged, actor) = (app.db.clone(), judged.clone(), actor.clone());
        async move {
            let shown = reads::summary(&db, &judged, &actor, number, day)
                .await
                .unwrap();
            let body: serde_json::Value = serde_json::from_slice(&shown.value.body).unwrap();
            (shown.value.etag, body)
        }
    };

    let first = read(&crew, today).await;
    assert_eq!(judged.hits(), 0);
    assert_eq!(read(&crew, today).await, first);
    assert_eq!((judged.len(), judged.hits()), (1, 1));
    // A read sent from what was kept is logged as any other: the crew was shown the way in,
    // at the plan's version.
    let hit = reads::summary(&app.db, &judged, &crew, number, today)
        .await
        .unwrap();
    assert_eq!(judged.hits(), 2);
    assert_eq!(
        hit.access.detail,
        Some(json!({ "accessToHomeShown": true })),
        "{:?}",
        hit.access
    );
    assert_eq!(
        hit.access.plan_version,
        first.1["planVersion"].as_i64(),
        "{:?}",
        hit.access
    );
    assert_eq!(judged.len(), 1);
    assert_eq!(
        first.1["alerts"]["accessToHome"],
        "Key safe by the door, code 1234"
    );
    // The dispatcher does not attend: the crew's judgement is not theirs.
    let other = read(&dispatch, today).await;
    assert!(!other.1.to_string().contains("code 1234"), "{}", other.1);
    assert_eq!(judged.len(), 2);
    // Another day is judged on that day.
    let later = today + chrono::Days::new(400);
    let then = read(&crew, later).await;
    assert_eq!(then.1["currency"]["asOf"], later.to_string());
    assert_eq!(judged.len(), 3);

    // A change the summary shows is there at once; one it does not show moves its version on.
    let tag = plan["sections"]["what-matters"]["etag"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let res = app
        .put_section(
            &id,
            "what-matters",
            &tag,
            &json!({ "inTheirOwnWords": "Rex, my dog." }),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let now = read(&crew, today).await;
    assert_eq!(now.1["inTheirOwnWords"]["text"], "Rex, my dog.");
    assert_eq!(
        now.1["planVersion"],
        first.1["planVersion"].as_i64().unwrap_or_default() + 1
    );
    assert_ne!(now.0, first.0);
    let res = app
        .put_section(
            &id,
            "support-needs",
            "\"support-needs.0\"",
            &json!({ "needs": [{ "need": "A hoist", "providedBy": "District nurses" }] }),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let after = read(&crew, today).await;
    assert_eq!(
        after.1["planVersion"],
        now.1["planVersion"].as_i64().unwrap_or_default() + 1
    );
    assert_eq!(after.1["inTheirOwnWords"], now.1["inTheirOwnWords"]);
    assert_eq!(judged.len(), 5);

    // A row mended at the same version (by a rebuild, or by hand) is judged afresh.
    let owner = app.test_db.owner_client().await;
    owner
        .execute(
            "UPDATE emergency_summary SET summary = \
               jsonb_set(summary::jsonb, '{postcode}', '\"SE1 9ZZ\"')::json \
             WHERE nhs_number = $1",
            &[&person],
        )
        .await
        .unwrap();
    let mended = read(&crew, today).await;
    assert_eq!(
        mended.1["postcode"], "SE1 9ZZ",
        "a judgement of the old row was sent"
    );

    // A changed decision is told of for a year, with the printed copies that said the old
    // one: such a summary is judged afresh on every read.
    let (_, current) = app
        .get_json(&format!("/v1/care-plans/{id}"), Role::Clinician)
        .await;
    let etp_tag = current["sections"]["emergency-treatment-plan"]["etag"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let res = app
        .write(
            Role::Clinician,
            Method::DELETE,
            &format!("/v1/care-plans/{id}/sections/emergency-treatment-plan"),
            &etp_tag,
            &json!({ "reason": "Recorded on the wrong person's plan." }),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let changed = read(&crew, today).await;
    assert!(
        !changed.1["cpr"]["previousDecision"].is_null(),
        "{}",
        changed.1
    );
    assert_eq!(
        judged.len(),
        6,
        "a summary telling of a previous decision was kept"
    );

    // Consent to share withdrawn after a crew's read was kept: the next crew read is refused.
    let private = nhs(2774);
    let plan = app.create_plan(&plan_body(&private)).await;
    let private_id = plan["id"].as_str().unwrap_or_default().to_owned();
    let number = ucp_domain::NhsNumber::parse(&private).unwrap();
    reads::summary(&app.db, &judged, &crew, number, today)
        .await
        .unwrap();
    act(
        &app,
        &private_id,
        "consent/withdraw",
        &json!({ "reason": "Told the GP: not to be shared." }),
    )
    .await;
    let refused = reads::summary(&app.db, &judged, &crew, number, today).await;
    assert!(
        matches!(refused, Err(ucp_app::AppError::PlanEnded(_))),
        "{refused:?}"
    );
    // The organisation caring for the person reads it (and it is kept); a crew of another is
    // refused all the same.
    let caring = Actor {
        org: Some("F84001".into()),
        purpose: Some(Purpose::DirectCare),
        ..Actor::new("a-clinician", Role::Clinician)
    };
    let kept = judged.len();
    reads::summary(&app.db, &judged, &caring, number, today)
        .await
        .unwrap();
    assert_eq!(judged.len(), kept + 1);
    let refused = reads::summary(&app.db, &judged, &crew, number, today).await;
    assert!(
        matches!(refused, Err(ucp_app::AppError::PlanEnded(_))),
        "{refused:?}"
    );
}
