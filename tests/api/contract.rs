//! What the OpenAPI document promises about requests, held by the server: a malformed
//! `If-Match` is 400 (not a 412 that says "stale"), a plan that does not exist is 404 before any
//! precondition, a body is checked before the precondition, each section is its own documented
//! path, and a search term the database cannot store is refused without harming the access log.

use reqwest::Method;
use serde_json::json;
use ucp_api::Role;

use crate::helpers::{nhs, plan_body, problem, TestApp};

#[tokio::test]
async fn if_match_must_be_a_tag_this_service_issues() {
    let app = TestApp::spawn().await;
    let plan = app.create_plan(&plan_body(&nhs(801))).await;
    let id = plan["id"].as_str().unwrap_or_default();
    let path = format!("/v1/care-plans/{id}/sections/what-matters");
    let body = json!({ "inTheirOwnWords": "Tea." });
    for bad in [
        "*",
        "W/\"what-matters.2\"",
        "\"what-matters.2\", \"plan.2\"",
        "",
        "\"nonsense.1\"",
        "what-matters.2",
        "\"what-matters.x\"",
    ] {
        let res = app
            .write(Role::Clinician, Method::PUT, &path, bad, &body)
            .await;
        let p = problem(res, 400).await;
        assert_eq!(p["code"], "bad_if_match", "If-Match {bad:?}: {p}");
    }
    // Well-formed, but another section's tag: it cannot match, so 412 (the plan exists).
    let res = app
        .write(Role::Clinician, Method::PUT, &path, "\"contacts.0\"", &body)
        .await;
    assert_eq!(problem(res, 412).await["code"], "precondition_failed");
    // Nothing of the above was written.
    let (_, now) = app
        .get_json(&format!("/v1/care-plans/{id}"), Role::Clinician)
        .await;
    assert_eq!(now["version"], plan["version"]);
}

#[tokio::test]
async fn a_missing_plan_is_404_before_any_precondition_and_the_body_before_the_precondition() {
    let app = TestApp::spawn().await;
    let missing = "01890000-0000-7000-8000-000000000000";
    for tag in ["\"plan.3\"", "\"contacts.0\""] {
        let res = app
            .put_section(
                missing,
                "what-matters",
                tag,
                &json!({ "inTheirOwnWords": "x" }),
            )
            .await;
        assert_eq!(problem(res, 404).await["code"], "not_found", "{tag}");
    }
    let plan = app.create_plan(&plan_body(&nhs(802))).await;
    let id = plan["id"].as_str().unwrap_or_default();
    // No body and no If-Match: the body is what is wrong first (415: no JSON sent at all).
    let res = app
        .req(
            Method::POST,
            &format!("/v1/care-plans/{id}/void"),
            Role::Clinician,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res, 415).await["code"], "unsupported_media_type");
    // A body missing its required field, with a stale If-Match: 422 for the body, not 412.
    let res = app
        .write(
            Role::Clinician,
            Method::POST,
            &format!("/v1/care-plans/{id}/void"),
            "\"plan.99\"",
            &json!({}),
        )
        .await;
    assert_eq!(problem(res, 422).await["code"], "validation_failed");
    // A good body without If-Match: 428.
    let res = app
        .req(
            Method::POST,
            &format!("/v1/care-plans/{id}/void"),
            Role::Clinician,
        )
        .json(&json!({ "reason": "Wrong person." }))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res, 428).await["code"], "precondition_required");
}

#[tokio::test]
async fn each_section_is_its_own_documented_path_with_its_own_body() {
    let app = TestApp::spawn().await;
    let doc: serde_json::Value = app.get("/openapi.json").await.json().await.unwrap();
    let paths = doc["paths"].as_object().cloned().unwrap_or_default();
    assert!(!paths.contains_key("/v1/care-plans/{id}/sections/{section}"));
    let put = &paths["/v1/care-plans/{id}/sections/what-matters"]["put"];
    assert_eq!(put["operationId"], "putSectionWhatMatters");
    assert_eq!(
        put["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/WhatMatters"
    );
    for status in [
        "400", "401", "403", "404", "408", "412", "413", "415", "422", "428", "429", "503",
    ] {
        assert!(
            put["responses"][status].is_object(),
            "PUT what-matters declares {status}"
        );
    }
    // The person may write only the person-centred forms.
    assert!(paths.contains_key("/v1/me/care-plan/sections/what-matters"));
    assert!(!paths.contains_key("/v1/me/care-plan/sections/emergency-treatment-plan"));
    // A create links to reading the plan and to changing it with the ETag received.
    let links = &paths["/v1/care-plans"]["post"]["responses"]["201"]["links"];
    assert_eq!(
        links["putSectionWhatMatters"]["parameters"]["If-Match"],
        "$response.header.ETag"
    );
}

#[tokio::test]
async fn a_search_term_with_a_nul_is_refused_and_the_access_log_keeps_working() {
    let app = TestApp::spawn().await;
    app.create_plan(&plan_body(&nhs(803))).await;
    let res = app
        .req(
            Method::GET,
            "/v1/patients?family=ab%00c&postcode=SE17EH",
            Role::Ambulance,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res, 400).await["code"], "bad_query");
    // The refusal was recorded (with the NUL made printable), and the next request is served.
    let (status, _) = app
        .get_json(
            &format!("/v1/patients/{}/emergency-summary", nhs(803)),
            Role::Ambulance,
        )
        .await;
    assert_eq!(status, 200);
}
