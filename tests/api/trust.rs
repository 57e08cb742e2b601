//! What a crew acts on, against a live server: the CPR decision with who decided it and when
//! (not moved by other changes), its currency, validation of the Emergency Treatment Plan, and
//! corrections that leave the right current view and a complete history.

use reqwest::Method;
use serde_json::{json, Value};
use ucp_api::Role;

use crate::helpers::{etp, nhs, plan_body, problem, token_with, TestApp};

async fn json_of(res: reqwest::Response) -> Value {
    res.json().await.unwrap()
}

async fn summary(app: &TestApp, number: &str, role: Role) -> Value {
    app.summary(number, role).await
}

async fn write(
    app: &TestApp,
    role: Role,
    method: Method,
    path: &str,
    tag: &str,
    body: Value,
) -> reqwest::Response {
    app.write(role, method, path, tag, &body).await
}

fn etp_with(changes: Value) -> Value {
    let mut body = etp();
    if let (Some(b), Some(c)) = (body.as_object_mut(), changes.as_object()) {
        for (k, v) in c {
            b.insert(k.clone(), v.clone());
        }
    }
    body
}

#[tokio::test]
async fn the_decisions_provenance_does_not_move_when_anything_else_changes() {
    let app = TestApp::spawn().await;
    let number = nhs(800);
    let plan = app.create_plan(&plan_body(&number)).await;
    let id = plan["id"].as_str().unwrap_or_default();
    let first = summary(&app, &number, Role::Ambulance).await;
    let cpr = &first["cpr"];
    assert_eq!(cpr["status"], "not-for-cpr");
    assert_eq!(cpr["coding"]["system"], "http://snomed.info/sct");
    assert_eq!(cpr["coding"]["code"], "450476008");
    assert_eq!(cpr["recordedBy"]["role"], "clinician");
    assert_eq!(cpr["recordedBy"]["organisation"], "F84001");
    assert_eq!(cpr["signatures"][0]["registrationNumber"], "GMC 1234567");
    assert_eq!(cpr["signatures"][0]["seniorResponsible"], true);
    let recorded_at = cpr["recordedAt"].clone();
    assert!(recorded_at.is_string());

    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    // A clinician changes another section; the person edits their own phone number.
    let res = app
        .put_section(
            id,
            "what-matters",
            "\"what-matters.2\"",
            &json!({ "inTheirOwnWords": "My garden." }),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let mut pi = crate::helpers::personal_information(&number);
    pi["phone"] = json!("020 7946 0999");
    let res = app
        .client
        .put(app.url("/v1/me/care-plan/sections/personal-information"))
        .bearer_auth(token_with(Role::Patient, Some(&number)))
        .header("If-Match", "\"personal-information.1\"")
        .json(&pi)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);

    let later = summary(&app, &number, Role::Ambulance).await;
    assert_eq!(
        later["cpr"]["recordedAt"], recorded_at,
        "the decision's date stays"
    );
    assert_ne!(later["planLastChangedAt"], first["planLastChangedAt"]);
    assert_eq!(later["planVersion"], 5);
    // Whose words: the person's own Personal Information save, a professional's ETP.
    let alert_sources = later["alerts"]["sources"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(alert_sources
        .iter()
        .any(|s| s["section"] == "personal-information" && s["authoredBy"] == "person"));
    assert_eq!(
        later["treatment"]["sources"][0]["authoredBy"],
        "professional"
    );
    assert_eq!(later["currency"]["overdue"], false);
    assert_eq!(later["clinical"]["allergyStatus"], "not-recorded");
}

#[tokio::test]
async fn every_cpr_status_renders_as_specified() {
    let app = TestApp::spawn().await;
    for (i, (recommendation, status, code)) in [
        ("attempts-recommended", "for-cpr", Some("450475007")),
        ("attempts-not-recommended", "not-for-cpr", Some("450476008")),
        ("modified-cpr", "modified-cpr", None),
    ]
    .into_iter()
    .enumerate()
    {
        let number = nhs(810 + u32::try_from(i).unwrap_or_default());
        let mut body = plan_body(&number);
        // Modified CPR is a child's: a seven-year-old, involvement C1 and C3.
        let child = recommendation == "modified-cpr";
        if child {
            body["personalInformation"]["birthDate"] = json!("2019-03-04");
        }
        body["emergencyTreatmentPlan"] = etp_with(json!({
            "cprRecommendation": recommendation,
            "modifiedCprDetails": child.then_some("No intubation."),
            "involvement": if child { json!(["C1", "C3"]) } else { json!(["A"]) }
        }));
        app.create_plan(&body).await;
        let s = summary(&app, &number, Role::Ambulance).await;
        assert_eq!(s["cpr"]["status"], status);
        assert_eq!(s["cpr"]["coding"]["code"].as_str(), code, "{status}");
        if status == "modified-cpr" {
            assert!(s["cpr"]["coding"].is_null(), "never a bare For CPR code");
            assert_eq!(s["cpr"]["modifiedCprDetails"], "No intubation.");
        }
    }
    let number = nhs(815);
    let mut body = plan_body(&number);
    body.as_object_mut()
        .map(|b| b.remove("emergencyTreatmentPlan"));
    app.create_plan(&body).await;
    let s = summary(&app, &number, Role::Ambulance).await;
    assert_eq!(s["cpr"]["status"], "no-decision-recorded");
    assert_eq!(s["cpr"]["coding"]["code"], "845151000000104");
    assert!(s["cpr"]["recordedAt"].is_null());
    assert!(s["treatment"].is_null());
}

#[tokio::test]
async fn each_rule_of_the_emergency_treatment_plan_refuses_with_a_pointer() {
    let app = TestApp::spawn().await;
    let number = nhs(820);
    let plan = app.create_plan(&plan_body(&number)).await;
    let path = format!(
        "/v1/care-plans/{}/sections/emergency-treatment-plan",
        plan["id"].as_str().unwrap_or_default()
    );
    let signature = |at: &str| {
        json!([{ "name": "Dr A", "role": "GP", "registrationNumber": "GMC 1234567",
                 "seniorResponsible": true, "signedAt": at, "method": "transcribed-from-paper" }])
    };
    for (changes, pointer) in [
        (
            // A paper form typed in with a new decision, its signature dated in the future.
            json!({ "signatures": signature("2099-01-01T00:00:00Z"), "signAs": null,
                    "cprRecommendation": "attempts-recommended",
                    "clinicalFocus": "life-sustaining-treatment" }),
            "/signatures/0/signedAt",
        ),
        (
            json!({ "signAs": { "role": "HCA", "registrationNumber": "GMC 1234567", "seniorResponsible": true } }),
            "/signAs/role",
        ),
        (json!({ "review": { "due": "2026-10-01" } }), "/review/due"),
        (json!({ "involvement": ["C1"] }), "/involvement"),
        (json!({ "involvement": ["D"] }), "/involvementDetail"),
        (
            json!({ "legalWelfareProxy": "Sam (LPA)" }),
            "/legalProxyParticipation",
        ),
        // Modified CPR for a person born in 1941.
        (
            json!({ "cprRecommendation": "modified-cpr", "modifiedCprDetails": "No intubation." }),
            "/cprRecommendation",
        ),
        // Capacity and involvement contradict each other.
        (json!({ "capacity": "lacks-capacity" }), "/capacity"),
        (
            json!({ "involvement": ["B"], "involvementDetail": "Daughter consulted." }),
            "/capacity",
        ),
        (
            json!({ "involvement": ["B"], "capacity": "lacks-capacity" }),
            "/involvementDetail",
        ),
    ] {
        let res = write(
            &app,
            Role::Clinician,
            Method::PUT,
            &path,
            "\"emergency-treatment-plan.3\"",
            etp_with(changes.clone()),
        )
        .await;
        let body = problem(res, 422).await;
        let pointers: Vec<&str> = body["errors"]
            .as_array()
            .map(|e| e.iter().filter_map(|e| e["pointer"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(pointers, [pointer], "{changes}");
    }
    // Nothing was saved.
    assert_eq!(
        summary(&app, &number, Role::Ambulance).await["planVersion"],
        3
    );
}

#[tokio::test]
async fn corrections_leave_the_right_current_view_and_a_complete_history() {
    let app = TestApp::spawn().await;
    let number = nhs(830);
    let plan = app.create_plan(&plan_body(&number)).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    let path = |tail: &str| format!("/v1/care-plans/{id}{tail}");

    // A death recorded in error, then retracted: active again, both in the history.
    let died = write(
        &app,
        Role::Clinician,
        Method::POST,
        &path("/person-died"),
        "\"plan.3\"",
        json!({ "dateOfDeath": "2026-11-20" }),
    )
    .await;
    assert_eq!(json_of(died).await["status"], "deceased");
    let back = write(
        &app,
        Role::Clinician,
        Method::POST,
        &path("/retract-death"),
        "\"plan.4\"",
        json!({ "reason": "Recorded on the wrong person." }),
    )
    .await;
    let back = json_of(back).await;
    assert_eq!(back["status"], "active");
    assert_eq!(back["corrections"][0]["kind"], "death-retracted");
    assert_eq!(
        back["corrections"][0]["reason"],
        "Recorded on the wrong person."
    );
    assert!(back["statusChange"].is_null());
    assert_eq!(
        summary(&app, &number, Role::Ambulance).await["cpr"]["status"],
        "not-for-cpr",
        "the crew sees the decision again"
    );
    let again = write(
        &app,
        Role::Clinician,
        Method::POST,
        &path("/retract-death"),
        "\"plan.5\"",
        json!({ "reason": "x" }),
    )
    .await;
    assert_eq!(problem(again, 409).await["code"], "not_deceased");

    // The ETP entered in error: it leaves the plan and the summary, not the history.
    let retract = |tag: &'static str, body: Value, section: &'static str| {
        let app = &app;
        let path = format!("/v1/care-plans/{id}/sections/{section}");
        async move { write(app, Role::Clinician, Method::DELETE, &path, tag, body).await }
    };
    let res = retract(
        "\"emergency-treatment-plan.3\"",
        json!({ "reason": "Entered on the wrong plan." }),
        "emergency-treatment-plan",
    )
    .await;
    assert_eq!(res.status().as_u16(), 200);
    let now = json_of(res).await;
    assert!(now["sections"]["emergency-treatment-plan"].is_null());
    assert_eq!(now["corrections"][1]["section"], "emergency-treatment-plan");
    let s = summary(&app, &number, Role::Ambulance).await;
    assert_eq!(s["cpr"]["status"], "no-decision-recorded");
    let then = json_of(
        app.req(Method::GET, &path("?version=5"), Role::Clinician)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        then["sections"]["emergency-treatment-plan"].is_object(),
        "as it was"
    );
    let history = json_of(
        app.req(Method::GET, &path("/history"), Role::Clinician)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let types: Vec<&str> = history
        .as_array()
        .map(|h| h.iter().filter_map(|e| e["eventType"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        types,
        [
            "CarePlanCreated",
            "WhatMattersUpdated",
            "EmergencyTreatmentPlanRecorded",
            "PersonDied",
            "DeathRetracted",
            "SectionRetracted"
        ]
    );
    assert_eq!(history[5]["section"], "emergency-treatment-plan");
    assert_eq!(history[5]["change"]["reason"], "Entered on the wrong plan.");

    // Bad input, auth and conflicts of the retraction.
    let no_tag = app
        .req(
            Method::DELETE,
            &path("/sections/what-matters"),
            Role::Clinician,
        )
        .json(&json!({ "reason": "x" }))
        .send()
        .await
        .unwrap();
    problem(no_tag, 428).await;
    problem(
        retract("\"what-matters.2\"", json!({}), "what-matters").await,
        422,
    )
    .await;
    problem(
        retract("\"what-matters.2\"", json!({ "reason": "x" }), "nonsense").await,
        400,
    )
    .await;
    problem(
        retract(
            "\"what-matters.1\"",
            json!({ "reason": "x" }),
            "what-matters",
        )
        .await,
        412,
    )
    .await;
    let body = problem(
        retract("\"plan.6\"", json!({ "reason": "x" }), "consent-to-share").await,
        422,
    )
    .await;
    assert_eq!(body["code"], "section_cannot_be_retracted");
    problem(
        retract(
            "\"plan.6\"",
            json!({ "reason": "x" }),
            "emergency-treatment-plan",
        )
        .await,
        404,
    )
    .await;
    let crew = app
        .req(
            Method::DELETE,
            &path("/sections/what-matters"),
            Role::Ambulance,
        )
        .header("If-Match", "\"what-matters.2\"")
        .json(&json!({ "reason": "x" }))
        .send()
        .await
        .unwrap();
    problem(crew, 403).await;

    // Withdrawn, then found to be the wrong person's: voided all the same.
    let res = write(
        &app,
        Role::Clinician,
        Method::POST,
        &path("/withdraw"),
        "\"plan.6\"",
        json!({}),
    )
    .await;
    assert_eq!(
        problem(res, 422).await["errors"][0]["pointer"],
        "/reason",
        "a withdrawal needs a reason"
    );
    let res = write(
        &app,
        Role::Clinician,
        Method::POST,
        &path("/withdraw"),
        "\"plan.6\"",
        json!({ "reason": "The person no longer wants a plan." }),
    )
    .await;
    assert_eq!(json_of(res).await["status"], "withdrawn");
    let res = write(
        &app,
        Role::Clinician,
        Method::POST,
        &path("/void"),
        "\"plan.7\"",
        json!({ "reason": "Made on the wrong person." }),
    )
    .await;
    assert_eq!(json_of(res).await["status"], "voided");
    let s = summary(&app, &number, Role::Clinician).await;
    assert!(
        s["cpr"].is_null(),
        "a voided plan never shows a CPR decision"
    );
    assert!(s["treatment"].is_null());
    assert_eq!(s["notCurrent"]["status"], "voided");
    assert_eq!(s["warnings"][0]["code"], "plan-not-active");
}

#[tokio::test]
async fn the_person_withdraws_and_keeps_the_professionals_contacts() {
    let app = TestApp::spawn().await;
    let number = nhs(840);
    let mut body = plan_body(&number);
    body["contacts"] = json!({
        "personal": [{ "name": "Sam", "relationship": "son", "lpaHealthAndWelfare": "yes",
            "lpaPropertyAndFinancial": "no", "phone": "07700 900123", "contactFirst": true }],
        "professional": [{ "name": "Example Practice", "role": "GP practice", "odsCode": "F84001",
            "phone": "020 7946 0001" }]
    });
    app.create_plan(&body).await;
    let me = |method: Method, path: &str| {
        app.client
            .request(method, app.url(path))
            .bearer_auth(token_with(Role::Patient, Some(&number)))
    };
    let s = summary(&app, &number, Role::Ambulance).await;
    assert_eq!(s["contacts"]["first"]["chosenBy"], "contact-first-flag");
    assert_eq!(s["legal"]["lpaHealthAndWelfare"][0]["name"], "Sam");
    assert_eq!(s["contacts"]["professional"][0]["odsCode"], "F84001");

    // The person saves their contacts without the professionals: they are kept.
    let res = me(Method::PUT, "/v1/me/care-plan/sections/contacts")
        .header("If-Match", "\"contacts.2\"")
        .json(
            &json!({ "personal": [{ "name": "Sam", "relationship": "son",
            "lpaHealthAndWelfare": "yes", "lpaPropertyAndFinancial": "no",
            "phone": "07700 900999", "contactFirst": true }] }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let saved = json_of(res).await;
    assert_eq!(
        saved["content"]["professional"][0]["name"],
        "Example Practice"
    );
    assert_eq!(saved["content"]["personal"][0]["phone"], "07700 900999");
    // A different list of professionals is refused, not ignored.
    let res = me(Method::PUT, "/v1/me/care-plan/sections/contacts")
        .header("If-Match", "\"contacts.5\"")
        .json(
            &json!({ "personal": [], "professional": [{ "name": "Someone else",
            "role": "GP practice", "phone": "020 7946 0002" }] }),
        )
        .send()
        .await
        .unwrap();
    problem(res, 403).await;

    // Withdrawing needs the plan's ETag and a reason.
    let res = me(Method::POST, "/v1/me/care-plan/consent/withdraw")
        .json(&json!({ "reason": "I do not want it shared." }))
        .send()
        .await
        .unwrap();
    problem(res, 428).await;
    let res = me(Method::POST, "/v1/me/care-plan/consent/withdraw")
        .header("If-Match", "\"plan.5\"")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    problem(res, 422).await;
    let res = app
        .client
        .post(app.url("/v1/me/care-plan/withdraw"))
        .bearer_auth(token_with(Role::Clinician, None))
        .header("If-Match", "\"plan.5\"")
        .json(&json!({ "reason": "x" }))
        .send()
        .await
        .unwrap();
    problem(res, 403).await;
    let res = me(Method::POST, "/v1/me/care-plan/consent/withdraw")
        .header("If-Match", "\"plan.5\"")
        .json(&json!({ "reason": "I do not want it shared." }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let plan = json_of(res).await;
    // Its own state: the plan is not withdrawn and its decision is not revoked.
    assert_eq!(plan["status"], "active", "{plan}");
    assert!(plan["statusChange"].is_null());
    assert_eq!(plan["consentWithdrawn"]["by"]["role"], "patient");
    assert_eq!(
        plan["consentWithdrawn"]["caringOrganisations"],
        json!(["F84001"])
    );
    // The crew is told that the person withdrew their consent to share, not that there is no
    // plan, and nothing clinical.
    let crew = app
        .req(
            Method::GET,
            &format!("/v1/patients/{number}/emergency-summary"),
            Role::Ambulance,
        )
        .send()
        .await
        .unwrap();
    let notice = problem(crew, 410).await;
    assert_eq!(notice["notice"]["endedAs"], "consent-withdrawn");
    assert!(notice.get("cpr").is_none());
    // A clinician of another organisation is told the same.
    let elsewhere = app
        .client
        .get(app.url(&format!("/v1/patients/{number}/emergency-summary")))
        .bearer_auth(crate::helpers::token_at(Role::Clinician, "Y01234"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        problem(elsewhere, 410).await["notice"]["endedAs"],
        "consent-withdrawn"
    );
    // The GP practice caring for the person still sees it, with the recommendations, and why
    // it must go no further.
    let s = summary(&app, &number, Role::Clinician).await;
    assert_eq!(s["cpr"]["status"], "not-for-cpr");
    assert!(s["notCurrent"].is_null());
    assert!(s["warnings"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|w| w["code"] == "consent-withdrawn"));
    // Withdrawn once; a second time is a conflict.
    let res = me(Method::POST, "/v1/me/care-plan/consent/withdraw")
        .header("If-Match", "\"plan.6\"")
        .json(&json!({ "reason": "again" }))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res, 409).await["code"], "consent_already_withdrawn");
    // The person gives consent again: the crew sees the plan again.
    let res = me(Method::PUT, "/v1/me/care-plan/sections/consent-to-share")
        .header("If-Match", "\"plan.6\"")
        .json(&json!({ "basis": "person-agreed", "date": "2026-12-07" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200, "{:?}", res.text().await);
    let s = summary(&app, &number, Role::Ambulance).await;
    assert_eq!(s["cpr"]["status"], "not-for-cpr");
    assert!(s["consentWithdrawn"].is_null());
}

#[tokio::test]
async fn the_person_withdraws_their_plan() {
    let app = TestApp::spawn().await;
    let number = nhs(841);
    app.create_plan(&plan_body(&number)).await;
    let res = app
        .client
        .post(app.url("/v1/me/care-plan/withdraw"))
        .bearer_auth(token_with(Role::Patient, Some(&number)))
        .header("If-Match", "\"plan.3\"")
        .json(&json!({ "reason": "I have changed my mind." }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let plan = json_of(res).await;
    assert_eq!(plan["status"], "withdrawn");
    assert_eq!(plan["statusChange"]["consentWithdrawn"], false);
    assert_eq!(plan["statusChange"]["reason"], "I have changed my mind.");
}

#[tokio::test]
async fn an_out_of_hours_gp_records_an_emergency_treatment_plan() {
    let app = TestApp::spawn().await;
    let number = nhs(850);
    let plan = app.create_plan(&plan_body(&number)).await;
    let id = plan["id"].as_str().unwrap_or_default();
    let res = write(
        &app,
        Role::Ooh,
        Method::PUT,
        &format!("/v1/care-plans/{id}/sections/emergency-treatment-plan"),
        "\"emergency-treatment-plan.3\"",
        etp_with(json!({ "cprRecommendation": "attempts-recommended" })),
    )
    .await;
    assert_eq!(res.status().as_u16(), 200);
    let s = summary(&app, &number, Role::Ambulance).await;
    assert_eq!(s["cpr"]["status"], "for-cpr");
    assert_eq!(s["cpr"]["recordedBy"]["role"], "ooh");
    let res = write(
        &app,
        Role::Ooh,
        Method::PUT,
        &format!("/v1/care-plans/{id}/sections/what-matters"),
        "\"what-matters.2\"",
        json!({ "inTheirOwnWords": "x" }),
    )
    .await;
    problem(res, 403).await;
}

#[tokio::test]
async fn an_event_written_in_the_first_schema_still_replays() {
    let app = TestApp::spawn().await;
    let number = nhs(860);
    let mut body = plan_body(&number);
    body.as_object_mut()
        .map(|b| b.remove("emergencyTreatmentPlan"));
    let plan = app.create_plan(&body).await;
    let id: uuid::Uuid = plan["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("an id"));
    // Appended as an older build wrote it: v1, involvement a single letter.
    let v1 = json!({
        "sharedUnderstanding": "Advanced COPD.", "clinicalFocus": "symptom-control",
        "cprRecommendation": "attempts-not-recommended", "capacity": "has-capacity",
        "involvement": "A",
        "signatures": [{ "name": "Dr A", "role": "GP", "registrationNumber": "GMC 1",
                         "seniorResponsible": true, "signedAt": "2026-01-01T09:00:00Z" }]
    });
    app.db
        .append(ucp_store::AppendRequest {
            stream_id: id,
            stream_type: "care_plan".to_owned(),
            expected: ucp_store::ExpectedVersion::Exact(2),
            events: vec![ucp_store::NewEvent::new(
                "EmergencyTreatmentPlanRecorded",
                1,
                v1,
                ucp_store::EventMetadata {
                    actor: "older-build".into(),
                    actor_name: None,
                    role: "clinician".into(),
                    organisation: Some("F84001".into()),
                    on_behalf_of: None,
                    request_id: None,
                    correlation_id: None,
                    causation_id: None,
                },
            )],
            idempotency: None,
            prior: None,
            audit: None,
        })
        .await
        .unwrap();
    let read = json_of(
        app.req(
            Method::GET,
            &format!("/v1/care-plans/{id}"),
            Role::Clinician,
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(
        read["sections"]["emergency-treatment-plan"]["content"]["involvement"],
        json!(["A"])
    );
    assert_eq!(
        summary(&app, &number, Role::Ambulance).await["cpr"]["status"],
        "not-for-cpr"
    );
}
