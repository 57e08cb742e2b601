//! Care homes: a home admits a resident (by NHS number and date of birth) and its staff read
//! that resident's plan, only the parts a home's staff need, and nobody else's; a clinician
//! confirms the residence; leaving ends the access; the person sees who recorded it and who
//! read; every change is an event in the feed, the history and FHIR.

use reqwest::Method;
use serde_json::{json, Value};
use ucp_api::Role;

use crate::fixtures::{nhs, plan_body};
use crate::helpers::{problem, request_id, token, token_for_home, token_with, TestApp};

const HOME: &str = "VM1A2";
const HOME_NAME: &str = "Rosewood Care Home";
const OTHER_HOME: &str = "VM9Z9";

fn today() -> String {
    chrono::Utc::now().date_naive().to_string()
}

fn as_home(app: &TestApp, method: Method, path: &str, home: &str) -> reqwest::RequestBuilder {
    app.client
        .request(method, app.url(path))
        .bearer_auth(token_for_home(
            home,
            if home == HOME { HOME_NAME } else { "Oak Lodge" },
        ))
}

async fn admit(app: &TestApp, nhs_number: &str, birth_date: &str) -> reqwest::Response {
    app.client
        .post(app.url("/v1/care-home/residents"))
        .bearer_auth(token_for_home(HOME, HOME_NAME))
        .json(&json!({"nhsNumber": nhs_number, "birthDate": birth_date, "since": today()}))
        .send()
        .await
        .unwrap()
}

/// A plan with a clinical section a home's staff do not read.
async fn plan_with_background(app: &TestApp, nhs_number: &str) -> Value {
    let mut body = plan_body(nhs_number);
    body["clinicalBackground"] =
        json!({"conditions": [{"name": "COPD"}], "allergies": ["Penicillin"]});
    app.create_plan(&body).await
}

#[tokio::test]
async fn a_care_home_reads_its_residents_plan_and_no_one_elses() {
    let app = TestApp::spawn().await;
    let resident = nhs(901);
    let stranger = nhs(902);
    let plan = plan_with_background(&app, &resident).await;
    let other = plan_with_background(&app, &stranger).await;
    let id = plan["id"].as_str().unwrap();
    let other_id = other["id"].as_str().unwrap();

    // Before admission the home reads nothing, and learns nothing.
    let res = as_home(&app, Method::GET, &format!("/v1/care-plans/{id}"), HOME)
        .send()
        .await
        .unwrap();
    problem(res, 404).await;

    // Admission: the NHS number and the date of birth must match together.
    problem(admit(&app, &resident, "1941-02-04").await, 404).await;
    let unknown = problem(admit(&app, &nhs(903), "1941-02-03").await, 404).await;
    assert_eq!(
        unknown["detail"],
        "No current care plan matches this NHS number and date of birth together.",
        "a wrong date of birth and an unknown NHS number read alike"
    );
    let res = admit(&app, &resident, "1941-02-03").await;
    assert_eq!(res.status().as_u16(), 201);
    assert_eq!(
        res.headers()["location"].to_str().unwrap(),
        format!("/v1/care-plans/{id}")
    );
    let admitted: Value = res.json().await.unwrap();
    assert_eq!(admitted["planId"], id);
    assert_eq!(admitted["familyName"], "Nowak");
    assert_eq!(admitted["residence"]["basis"], "admitted-by-home");
    assert_eq!(admitted["residence"]["confirmed"], false);
    assert_eq!(admitted["residence"]["careHome"]["odsCode"], HOME);
    assert_eq!(admitted["residence"]["careHome"]["name"], HOME_NAME);
    assert_eq!(admitted["residence"]["recordedBy"]["role"], "care-home");
    // A second admission to the same home is a conflict, not a second event.
    let again = problem(admit(&app, &resident, "1941-02-03").await, 409).await;
    assert_eq!(again["code"], "residence_conflict");
    let (_, unchanged) = app
        .get_json(&format!("/v1/care-plans/{id}"), Role::Clinician)
        .await;
    assert_eq!(
        unchanged["version"], admitted["planVersion"],
        "nothing written"
    );

    // The resident's plan: their own forms and the ETP; no other clinical section.
    let res = as_home(&app, Method::GET, &format!("/v1/care-plans/{id}"), HOME)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let plan_read = request_id(&res);
    let seen: Value = res.json().await.unwrap();
    let sections = seen["sections"].as_object().unwrap();
    for shown in [
        "personal-information",
        "emergency-treatment-plan",
        "what-matters",
    ] {
        assert!(sections.contains_key(shown), "{shown} missing: {seen}");
    }
    for withheld in ["clinical-background", "consent-to-share"] {
        assert!(
            !sections.contains_key(withheld),
            "{withheld} shown to a home"
        );
    }
    assert_eq!(seen["residence"]["careHome"]["odsCode"], HOME);
    let res = as_home(
        &app,
        Method::GET,
        &format!("/v1/care-plans/{id}/sections/clinical-background"),
        HOME,
    )
    .send()
    .await
    .unwrap();
    problem(res, 403).await;
    let res = as_home(
        &app,
        Method::GET,
        &format!("/v1/care-plans/{id}/sections/emergency-treatment-plan"),
        HOME,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    // The summary and the printed plan.
    let res = as_home(
        &app,
        Method::GET,
        &format!("/v1/patients/{resident}/emergency-summary"),
        HOME,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let summary_read = request_id(&res);
    let summary: Value = res.json().await.unwrap();
    assert_eq!(summary["cpr"]["status"], "not-for-cpr");
    let res = as_home(
        &app,
        Method::GET,
        &format!("/v1/care-plans/{id}/document"),
        HOME,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    // Not the history, nor the plan as it was (before they lived there).
    for path in [
        format!("/v1/care-plans/{id}/history"),
        format!("/v1/care-plans/{id}?version=1"),
    ] {
        let res = as_home(&app, Method::GET, &path, HOME)
            .send()
            .await
            .unwrap();
        problem(res, 403).await;
    }

    // Someone who does not live there: not their plan, not their summary, not their PDF.
    for path in [
        format!("/v1/care-plans/{other_id}"),
        format!("/v1/patients/{stranger}/emergency-summary"),
        format!("/v1/care-plans/{other_id}/document"),
    ] {
        let res = as_home(&app, Method::GET, &path, HOME)
            .send()
            .await
            .unwrap();
        problem(res, 404).await;
    }
    // Nor the resident's, for another home's staff.
    let res = as_home(
        &app,
        Method::GET,
        &format!("/v1/care-plans/{id}"),
        OTHER_HOME,
    )
    .send()
    .await
    .unwrap();
    problem(res, 404).await;

    // The home's list.
    let res = as_home(&app, Method::GET, "/v1/care-home/residents", HOME)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let list: Value = res.json().await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["nhsNumber"], resident);
    let empty: Value = as_home(&app, Method::GET, "/v1/care-home/residents", OTHER_HOME)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(empty, json!([]));

    // The access log names a home's reads as its own.
    let owner = app.test_db.owner_client().await;
    for (request, view) in [
        (&plan_read, "care-home-plan"),
        (&summary_read, "care-home-summary"),
    ] {
        let row = owner
            .query_one(
                "SELECT role, view, organisation FROM access_log WHERE request_id = $1",
                &[request],
            )
            .await
            .unwrap();
        assert_eq!(row.get::<_, String>(0), "care-home");
        assert_eq!(row.get::<_, Option<String>>(1).as_deref(), Some(view));
        assert_eq!(row.get::<_, Option<String>>(2).as_deref(), Some(HOME));
    }

    // The person: who recorded it, in their words, and who read.
    let person = token_with(Role::Patient, Some(&resident));
    let mine: Value = app
        .client
        .get(app.url("/v1/me/care-plan"))
        .bearer_auth(&person)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let told = mine["residence"]["toThePerson"]
        .as_str()
        .unwrap_or_default();
    assert!(
        told.starts_with("Rosewood Care Home recorded on ") && told.contains("that you live there"),
        "{told}"
    );
    let log: Value = app
        .client
        .get(app.url("/v1/me/access-log"))
        .bearer_auth(&person)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entries = log["entries"].as_array().cloned().unwrap_or_default();
    assert!(
        entries
            .iter()
            .any(|e| e["action"] == "admitResident" && e["status"] == 404),
        "a refused admission (the wrong date of birth) is on the person's log: {log}"
    );
    assert!(
        entries.iter().any(|e| e["description"]
            .as_str()
            .is_some_and(|d| d.contains("recorded that you live there"))),
        "{log}"
    );
    // What a home was shown replays as it was shown: no withheld section.
    let entry_id: uuid::Uuid = owner
        .query_one(
            "SELECT entry_id FROM access_log WHERE request_id = $1",
            &[&plan_read],
        )
        .await
        .unwrap()
        .get(0);
    let replay = crate::helpers::replayed(&app, &entry_id.to_string()).await;
    assert!(
        replay["sections"].get("emergency-treatment-plan").is_some(),
        "{replay}"
    );
    assert!(
        replay["sections"].get("clinical-background").is_none(),
        "{replay}"
    );
    for view in [
        "care-home-plan",
        "care-home-summary",
        "care-home-document",
        "residents",
    ] {
        assert!(
            entries
                .iter()
                .any(|e| e["role"] == "care-home" && e["view"] == view),
            "the person does not see the home's {view}: {log}"
        );
    }
}

#[tokio::test]
async fn a_clinician_confirms_the_residence_and_leaving_ends_the_homes_access() {
    let app = TestApp::spawn().await;
    let resident = nhs(911);
    let plan = app.create_plan(&plan_body(&resident)).await;
    let id = plan["id"].as_str().unwrap();
    assert_eq!(admit(&app, &resident, "1941-02-03").await.status(), 201);
    let (_, now) = app
        .get_json(&format!("/v1/care-plans/{id}"), Role::Clinician)
        .await;
    let etag = now["etag"].as_str().unwrap().to_owned();

    // Confirmation names the home; a wrong one is a conflict; the role must be a clinician's.
    let confirm = |home: &str| json!({"odsCode": home});
    let path = format!("/v1/care-plans/{id}/residence/confirm");
    let res = app
        .write(
            Role::Clinician,
            Method::POST,
            &path,
            &etag,
            &confirm(OTHER_HOME),
        )
        .await;
    assert_eq!(problem(res, 409).await["code"], "residence_conflict");
    let res = app
        .write(Role::Ambulance, Method::POST, &path, &etag, &confirm(HOME))
        .await;
    problem(res, 403).await;
    let res = app
        .client
        .post(app.url(&path))
        .json(&confirm(HOME))
        .send()
        .await
        .unwrap();
    problem(res, 401).await;
    let res = app
        .req(Method::POST, &path, Role::Clinician)
        .json(&confirm(HOME))
        .send()
        .await
        .unwrap();
    problem(res, 428).await;
    let res = app
        .write(
            Role::Clinician,
            Method::POST,
            &path,
            &etag,
            &json!({"odsCode": HOME, "extra": 1}),
        )
        .await;
    problem(res, 400).await;
    let res = app
        .write(Role::Clinician, Method::POST, &path, &etag, &confirm(HOME))
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let confirmed: Value = res.json().await.unwrap();
    assert_eq!(confirmed["residence"]["confirmed"], true);
    assert_eq!(confirmed["residence"]["confirmedBy"]["role"], "clinician");
    let stale = etag.clone();
    let etag = confirmed["etag"].as_str().unwrap().to_owned();
    // In FHIR: the home is a contact of the Patient, with how it came to be recorded.
    let res = app
        .client
        .get(app.url(&format!("/fhir/R4/Patient/{resident}")))
        .bearer_auth(token(Role::Clinician))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let patient: Value = res.json().await.unwrap();
    let contact = &patient["contact"][0];
    assert_eq!(contact["organization"]["identifier"]["value"], HOME);
    assert_eq!(contact["organization"]["display"], HOME_NAME);
    assert_eq!(
        contact["relationship"][0]["text"],
        "Care home where the person lives (admitted by the home; confirmed by a clinician)"
    );
    // In the feed, as changes of their own.
    let expected = app.event_count().await;
    let (changes, _) = crate::helpers::all_changes(&app.address, &app.client, expected).await;
    let kinds: Vec<&str> = changes
        .iter()
        .filter_map(|c| c["changeType"].as_str())
        .collect();
    assert!(
        kinds.contains(&"ResidentAdmitted") && kinds.contains(&"ResidenceConfirmed"),
        "{kinds:?}"
    );
    // The old tag is stale now.
    let res = app
        .write(Role::Clinician, Method::POST, &path, &stale, &confirm(HOME))
        .await;
    problem(res, 412).await;

    // Another home can neither take her by admitting her, nor end her residence, nor learn
    // anything of her plan by trying (404, as for a plan that does not exist).
    let res = app
        .client
        .post(app.url("/v1/care-home/residents"))
        .bearer_auth(token_for_home(OTHER_HOME, "Oak Lodge"))
        .json(&json!({"nhsNumber": resident, "birthDate": "1941-02-03", "since": today()}))
        .send()
        .await
        .unwrap();
    let taken = problem(res, 409).await;
    assert!(
        !taken["detail"].as_str().unwrap_or_default().contains(HOME),
        "the other home is not named: {taken}"
    );
    let end = format!("/v1/care-plans/{id}/residence/end");
    let leaving = |home: &str, date: &str| json!({"odsCode": home, "date": date, "reason": "Moved to her daughter's"});
    for home in [HOME, OTHER_HOME] {
        let res = as_home(&app, Method::POST, &end, OTHER_HOME)
            .header("If-Match", &etag)
            .json(&leaving(home, &today()))
            .send()
            .await
            .unwrap();
        let refused = problem(res, 404).await;
        assert_eq!(refused["detail"], "There is no care plan with this id.");
    }
    // A day in the future is refused.
    let future_day = (chrono::Utc::now().date_naive() + chrono::Days::new(2)).to_string();
    let res = as_home(&app, Method::POST, &end, HOME)
        .header("If-Match", &etag)
        .json(&leaving(HOME, &future_day))
        .send()
        .await
        .unwrap();
    problem(res, 422).await;
    // The home records that she left: its staff read her plan no longer.
    let res = as_home(&app, Method::POST, &end, HOME)
        .header("If-Match", &etag)
        .json(&leaving(HOME, &today()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let ended: Value = res.json().await.unwrap();
    assert!(ended["residence"].is_null());
    assert_eq!(ended["residenceEnded"]["careHome"]["odsCode"], HOME);
    assert!(
        ended.get("sections").is_none(),
        "the answer shows no more of the plan"
    );
    for path in [
        format!("/v1/care-plans/{id}"),
        format!("/v1/patients/{resident}/emergency-summary"),
    ] {
        let res = as_home(&app, Method::GET, &path, HOME)
            .send()
            .await
            .unwrap();
        problem(res, 404).await;
    }
    let list: Value = as_home(&app, Method::GET, "/v1/care-home/residents", HOME)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list, json!([]));

    // A clinician records a move straight to another home: the first home's residence ends
    // with it, on record.
    let (_, now) = app
        .get_json(&format!("/v1/care-plans/{id}"), Role::Clinician)
        .await;
    let res = app
        .write(
            Role::Clinician,
            Method::POST,
            &format!("/v1/care-plans/{id}/residence"),
            now["etag"].as_str().unwrap(),
            &json!({"careHome": {"odsCode": HOME, "name": HOME_NAME}, "since": today()}),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let moved: Value = res.json().await.unwrap();
    assert_eq!(moved["residence"]["basis"], "recorded-by-clinician");
    let res = app
        .write(
            Role::Clinician,
            Method::POST,
            &format!("/v1/care-plans/{id}/residence"),
            moved["etag"].as_str().unwrap(),
            &json!({"careHome": {"odsCode": OTHER_HOME, "name": "Oak Lodge"}, "since": today()}),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let moved: Value = res.json().await.unwrap();
    assert_eq!(moved["residence"]["careHome"]["odsCode"], OTHER_HOME);
    assert_eq!(moved["residenceEnded"]["careHome"]["odsCode"], HOME);
    assert_eq!(moved["residenceEnded"]["reason"], "Moved to Oak Lodge.");
    let res = as_home(&app, Method::GET, &format!("/v1/care-plans/{id}"), HOME)
        .send()
        .await
        .unwrap();
    problem(res, 404).await;
    let res = app
        .write(
            Role::Clinician,
            Method::POST,
            &end,
            moved["etag"].as_str().unwrap(),
            &leaving(OTHER_HOME, &today()),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let ended: Value = res.json().await.unwrap();

    // The person records where they live themselves, and that they left.
    let person = token_with(Role::Patient, Some(&resident));
    let res = app
        .client
        .put(app.url("/v1/me/residence"))
        .bearer_auth(&person)
        .header("If-Match", ended["etag"].as_str().unwrap())
        .json(&json!({"careHome": {"odsCode": OTHER_HOME, "name": "Oak Lodge"}, "since": today()}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let stated: Value = res.json().await.unwrap();
    assert_eq!(stated["residence"]["basis"], "stated-by-person");
    let res = as_home(
        &app,
        Method::GET,
        &format!("/v1/care-plans/{id}"),
        OTHER_HOME,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(
        res.status().as_u16(),
        200,
        "the home the person named reads it"
    );
    // A clinician's token on /v1/me is refused.
    let res = app
        .client
        .post(app.url("/v1/me/residence/end"))
        .bearer_auth(token(Role::Clinician))
        .header("If-Match", stated["etag"].as_str().unwrap())
        .json(&leaving(OTHER_HOME, &today()))
        .send()
        .await
        .unwrap();
    problem(res, 403).await;
    let res = app
        .client
        .post(app.url("/v1/me/residence/end"))
        .bearer_auth(&person)
        .header("If-Match", stated["etag"].as_str().unwrap())
        .json(&leaving(OTHER_HOME, &today()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let res = as_home(
        &app,
        Method::GET,
        &format!("/v1/care-plans/{id}"),
        OTHER_HOME,
    )
    .send()
    .await
    .unwrap();
    problem(res, 404).await;

    // Every change is an event: in the history, and a rebuild makes the same plan.
    let (_, history) = app
        .get_json(&format!("/v1/care-plans/{id}/history"), Role::Clinician)
        .await;
    let types: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["eventType"].as_str())
        .filter(|t| t.starts_with("Resid"))
        .collect();
    assert_eq!(
        types,
        [
            "ResidentAdmitted",
            "ResidenceConfirmed",
            "ResidenceEnded",
            "ResidenceRecorded",
            "ResidenceEnded",
            "ResidenceRecorded",
            "ResidenceEnded",
            "ResidenceRecorded",
            "ResidenceEnded"
        ]
    );
    let (_, before) = app
        .get_json(&format!("/v1/care-plans/{id}"), Role::Clinician)
        .await;
    app.rebuild().await;
    let (_, after) = app
        .get_json(&format!("/v1/care-plans/{id}"), Role::Clinician)
        .await;
    assert_eq!(before, after);
}

#[tokio::test]
async fn admission_refuses_bad_input_and_every_role_but_a_homes() {
    let app = TestApp::spawn().await;
    let resident = nhs(921);
    app.create_plan(&plan_body(&resident)).await;
    let post = |body: Value| {
        app.client
            .post(app.url("/v1/care-home/residents"))
            .bearer_auth(token_for_home(HOME, HOME_NAME))
            .json(&body)
            .send()
    };
    let bad = problem(
        post(json!({"nhsNumber": "1234567890", "birthDate": "1941-02-03", "since": today()}))
            .await
            .unwrap(),
        422,
    )
    .await;
    assert_eq!(bad["errors"][0]["pointer"], "/nhsNumber");
    let missing = problem(
        post(json!({"nhsNumber": resident, "birthDate": "1941-02-03"}))
            .await
            .unwrap(),
        422,
    )
    .await;
    assert!(
        missing["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("since")
            || missing["errors"].to_string().contains("since"),
        "{missing}"
    );
    problem(
        post(json!({"nhsNumber": resident, "birthDate": "1941-02-03", "since": today(), "home": "x"}))
            .await
            .unwrap(),
        400,
    )
    .await;
    let future_day = (chrono::Utc::now().date_naive() + chrono::Days::new(2)).to_string();
    let future = problem(
        post(json!({"nhsNumber": resident, "birthDate": "1941-02-03", "since": future_day}))
            .await
            .unwrap(),
        422,
    )
    .await;
    assert_eq!(future["errors"][0]["pointer"], "/since");
    for role in [Role::Clinician, Role::Ambulance, Role::Patient, Role::Admin] {
        let res = app
            .client
            .post(app.url("/v1/care-home/residents"))
            .bearer_auth(token_with(
                role,
                (role == Role::Patient).then_some(resident.as_str()),
            ))
            .json(&json!({"nhsNumber": resident, "birthDate": "1941-02-03", "since": today()}))
            .send()
            .await
            .unwrap();
        problem(res, 403).await;
    }
    let res = app
        .client
        .post(app.url("/v1/care-home/residents"))
        .json(&json!({"nhsNumber": resident, "birthDate": "1941-02-03", "since": today()}))
        .send()
        .await
        .unwrap();
    problem(res, 401).await;
    // Nothing was admitted by any of it.
    let list: Value = as_home(&app, Method::GET, "/v1/care-home/residents", HOME)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list, json!([]));
}

#[tokio::test]
async fn dates_are_judged_before_the_lookup_and_a_plan_not_shared_is_shared_with_no_home() {
    let app = TestApp::spawn().await;
    let resident = nhs(931);
    let plan = app.create_plan(&plan_body(&resident)).await;
    let id = plan["id"].as_str().unwrap();
    // A day before the date of birth sent is 422 whether or not anyone matches: the answer
    // never tells a home that it guessed right.
    for number in [resident.clone(), nhs(932)] {
        let res = app
            .client
            .post(app.url("/v1/care-home/residents"))
            .bearer_auth(token_for_home(HOME, HOME_NAME))
            .json(&json!({"nhsNumber": number, "birthDate": "1941-02-03", "since": "1940-01-01"}))
            .send()
            .await
            .unwrap();
        assert_eq!(problem(res, 422).await["errors"][0]["pointer"], "/since");
    }
    assert_eq!(admit(&app, &resident, "1941-02-03").await.status(), 201);
    // She withdraws her consent to share (told to her GP practice, F84001, which made the plan):
    // she leaves the home's list, and its staff are told why they may not read her plan.
    let (_, now) = app
        .get_json(&format!("/v1/care-plans/{id}"), Role::Clinician)
        .await;
    let res = app
        .write(
            Role::Clinician,
            Method::POST,
            &format!("/v1/care-plans/{id}/consent/withdraw"),
            now["etag"].as_str().unwrap(),
            &json!({"reason": "I no longer want my plan shared."}),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let list: Value = as_home(&app, Method::GET, "/v1/care-home/residents", HOME)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list, json!([]));
    let res = as_home(&app, Method::GET, &format!("/v1/care-plans/{id}"), HOME)
        .send()
        .await
        .unwrap();
    let notice = problem(res, 410).await;
    assert_eq!(notice["code"], "plan_not_shared");
    // Nor can another home admit her now.
    let res = app
        .client
        .post(app.url("/v1/care-home/residents"))
        .bearer_auth(token_for_home(OTHER_HOME, "Oak Lodge"))
        .json(&json!({"nhsNumber": resident, "birthDate": "1941-02-03", "since": today()}))
        .send()
        .await
        .unwrap();
    problem(res, 404).await;
}
