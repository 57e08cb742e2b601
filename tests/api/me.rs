//! The person's own plan: read it, start it, write their own forms (nothing clinical), and see
//! who looked — and nothing of anyone else's.

use reqwest::Method;
use serde_json::{json, Value};
use ucp_api::Role;

use crate::helpers::{nhs, personal_information, plan_body, problem, token_with, TestApp};

#[tokio::test]
async fn a_person_starts_and_writes_their_own_forms_and_sees_who_looked() {
    let app = TestApp::spawn().await;
    let mine = nhs(300);
    let me = token_with(Role::Patient, Some(&mine));
    let call =
        |method: Method, path: &str| app.client.request(method, app.url(path)).bearer_auth(&me);

    problem(
        call(Method::GET, "/v1/me/care-plan").send().await.unwrap(),
        404,
    )
    .await;
    let someone_else = json!({ "personalInformation": personal_information(&nhs(301)) });
    let p = problem(
        call(Method::POST, "/v1/me/care-plan")
            .json(&someone_else)
            .send()
            .await
            .unwrap(),
        422,
    )
    .await;
    assert_eq!(p["code"], "not_your_nhs_number");

    let start = json!({
        "personalInformation": personal_information(&mine),
        "whatMatters": { "inTheirOwnWords": "Being at home with my cat." }
    });
    let res = call(Method::POST, "/v1/me/care-plan")
        .json(&start)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    let plan: Value = res.json().await.unwrap();
    assert_eq!(
        plan["sections"]["consent-to-share"]["content"]["basis"],
        "person-agreed"
    );
    assert_eq!(
        plan["sections"]["what-matters"]["changedBy"]["role"],
        "patient"
    );
    let id = plan["id"].as_str().unwrap_or_default().to_owned();

    // Their own forms: yes. Clinical sections, or who they are: no.
    let thinking = call(Method::PUT, "/v1/me/care-plan/sections/thinking-ahead")
        .header("If-Match", "\"thinking-ahead.0\"")
        .json(&json!({ "preferredPlaceOfCare": "Home", "advanceDecisionToRefuseTreatment": { "held": "no" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(thinking.status().as_u16(), 200);
    let clinical = call(
        Method::PUT,
        "/v1/me/care-plan/sections/emergency-treatment-plan",
    )
    .header("If-Match", "\"plan.3\"")
    .json(&crate::helpers::etp())
    .send()
    .await
    .unwrap();
    problem(clinical, 403).await;
    let mut pi = personal_information(&mine);
    pi["phone"] = json!("020 7946 0123");
    let phone = call(
        Method::PUT,
        "/v1/me/care-plan/sections/personal-information",
    )
    .header("If-Match", "\"personal-information.1\"")
    .json(&pi)
    .send()
    .await
    .unwrap();
    assert_eq!(phone.status().as_u16(), 200);
    pi["familyName"] = json!("Someone");
    let rename = call(
        Method::PUT,
        "/v1/me/care-plan/sections/personal-information",
    )
    .header("If-Match", "\"plan.4\"")
    .json(&pi)
    .send()
    .await
    .unwrap();
    problem(rename, 403).await;
    problem(
        call(Method::PUT, "/v1/me/care-plan/sections/what-matters")
            .json(&json!({ "inTheirOwnWords": "x" }))
            .send()
            .await
            .unwrap(),
        428,
    )
    .await;

    // Professionals see it as written by the person.
    let seen: Value = app
        .req(
            Method::GET,
            &format!("/v1/care-plans/{id}"),
            Role::Ambulance,
        )
        .header("X-Purpose-Of-Use", "emergency")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        seen["sections"]["thinking-ahead"]["changedBy"]["role"],
        "patient"
    );
    assert_eq!(
        seen["sections"]["personal-information"]["content"]["phone"],
        "020 7946 0123"
    );
    app.req(
        Method::GET,
        "/v1/patients?family=nowak&birthDate=1941-02-03",
        Role::Nhs111,
    )
    .send()
    .await
    .unwrap();

    // Someone else's plan, and their reads, stay out of view.
    let other = app.create_plan(&plan_body(&nhs(302))).await;
    app.req(
        Method::GET,
        &format!(
            "/v1/care-plans/{}",
            other["id"].as_str().unwrap_or_default()
        ),
        Role::Ooh,
    )
    .send()
    .await
    .unwrap();

    let mine_now: Value = call(Method::GET, "/v1/me/care-plan")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mine_now["nhsNumber"], mine);
    let log: Value = call(Method::GET, "/v1/me/access-log")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entries = log["entries"].as_array().cloned().unwrap_or_default();
    let crew = entries
        .iter()
        .find(|e| e["role"] == "ambulance")
        .unwrap_or_else(|| panic!("the crew's read is missing: {log}"));
    assert_eq!(crew["name"], "Test ambulance");
    assert_eq!(crew["organisation"], "F84001");
    assert_eq!(crew["purpose"], "emergency");
    assert_eq!(crew["view"], "plan");
    assert!(
        entries
            .iter()
            .any(|e| e["role"] == "nhs111" && e["view"] == "search"),
        "searches that found them count"
    );
    assert!(entries.iter().any(|e| e["name"] == "you"));
    assert!(
        !entries.iter().any(|e| e["role"] == "ooh"),
        "another person's access is not shown"
    );
    let keys: Vec<&String> = crew
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    assert!(
        !keys
            .iter()
            .any(|k| k.as_str() == "actor" || k.as_str() == "path"),
        "no internal ids"
    );

    // Only patients use /v1/me.
    for role in [Role::Clinician, Role::Ambulance, Role::Admin] {
        let res = app
            .req(Method::GET, "/v1/me/care-plan", role)
            .send()
            .await
            .unwrap();
        problem(res, 403).await;
    }
    let res = app
        .client
        .get(app.url("/v1/me/access-log"))
        .send()
        .await
        .unwrap();
    problem(res, 401).await;
}
