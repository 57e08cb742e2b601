//! Every documented operation × every role, from the one place the policy is declared
//! (`ucp_app::use_cases`): a role the use case lists is served, any other is refused (403);
//! without a token, 401; a person proofed below the minimum, a proxy where a proxy may not act,
//! and a professional's read without a purpose are refused whatever the role. Then what the
//! declarations do not say, by name: a person asking for someone else's plan is told there is
//! none (404), and an out-of-hours GP writes the Emergency Treatment Plan and medicines only.

use reqwest::Method;
use ucp_api::Role;
use ucp_app::use_cases::{self, PurposeRule};

use crate::helpers::{nhs, plan_body, token_with, TestApp, TEST_SECRET};

/// A request for one documented operation, on the test's own plan and person. Writes carry a
/// stale `If-Match` and an empty body, so that one the role may make is answered for its body
/// or its tag and writes nothing.
fn request_for(path: &str, id: &str, own: &str) -> String {
    let filled = path
        .replace(
            "/fhir/R4/{resourceType}/{id}",
            &format!("/fhir/R4/CarePlan/{id}"),
        )
        .replace("/fhir/R4/{resourceType}", "/fhir/R4/CarePlan")
        .replace("/fhir/R4/Patient/{id}", &format!("/fhir/R4/Patient/{own}"))
        .replace("{id}", id)
        .replace("{nhsNumber}", own)
        .replace("{version}", "1");
    let filled = ["{entryId}", "{grantId}", "{deadLetterId}", "{alertId}"]
        .iter()
        .fold(filled, |p, name| {
            p.replace(name, &uuid::Uuid::new_v4().to_string())
        });
    match filled.as_str() {
        "/v1/patients" => format!("{filled}?family=nowak&birthDate=1941-02-03"),
        "/fhir/R4/CarePlan" => format!("{filled}?patient={own}"),
        changes if changes.ends_with("/changes") => format!("{filled}?since=1"),
        _ => filled,
    }
}

fn patient_token(nhs_number: &str, proofing: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    ucp_api::JwtKeys::hs256(TEST_SECRET)
        .mint(&ucp_api::Claims {
            sub: format!("patient-{proofing}"),
            role: Role::Patient,
            org: None,
            org_name: None,
            name: None,
            registration: None,
            nhs_number: Some(nhs_number.to_owned()),
            identity_proofing_level: Some(proofing.to_owned()),
            exp: now + 3600,
            iat: now,
        })
        .unwrap()
}

#[tokio::test]
async fn every_use_case_for_every_role_as_declared() {
    let app = TestApp::spawn().await;
    let own = nhs(60);
    let plan = app.create_plan(&plan_body(&own)).await;
    let id = plan["id"].as_str().unwrap().to_owned();
    let doc: serde_json::Value = app.get("/openapi.json").await.json().await.unwrap();
    let bare = reqwest::Client::new();
    let mut tried = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(operation) = op["operationId"].as_str() else {
                continue;
            };
            if !op["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()))
            {
                continue;
            }
            let use_case = use_cases::of_operation(operation)
                .unwrap_or_else(|| panic!("{operation} declares no use case"));
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let url = app.url(&request_for(path, &id, &own));
            let send = |client: &reqwest::Client, token: Option<String>| {
                let mut req = client
                    .request(method.clone(), &url)
                    .header("If-Match", "\"plan.99\"");
                if method != Method::GET {
                    req = req.json(&serde_json::json!({}));
                }
                if let Some(token) = token {
                    req = req.bearer_auth(token);
                }
                req.send()
            };
            tried += 1;
            for role in Role::ALL {
                let token = || token_with(role, role.is_person().then_some(own.as_str()));
                let res = send(&app.client, Some(token())).await.unwrap();
                let status = res.status().as_u16();
                // A role limited to some sections is refused the others.
                let section = path
                    .split("/sections/")
                    .nth(1)
                    .and_then(|rest| ucp_domain::PlanSection::from_name(rest.split('/').next()?));
                let limited = section.is_some_and(|section| {
                    use_case
                        .sections_only
                        .iter()
                        .any(|(r, only)| *r == role && !only.contains(&section))
                });
                if use_case.roles.contains(&role) && !limited {
                    assert!(
                        ![401, 403].contains(&status) && status < 500,
                        "{operation} as {}: {status} {}",
                        role.as_str(),
                        res.text().await.unwrap_or_default()
                    );
                } else {
                    assert_eq!(status, 403, "{operation} as {}", role.as_str());
                }
                // Without a purpose: a professional's read is refused until it says why.
                let must_say = use_case.roles.contains(&role)
                    && !limited
                    && role.states_purpose()
                    && use_case.purpose != PurposeRule::Optional;
                if must_say {
                    let res = send(&bare, Some(token())).await.unwrap();
                    assert_eq!(res.status().as_u16(), 400, "{operation} without a purpose");
                    let text = res.text().await.unwrap();
                    assert!(text.contains("X-Purpose-Of-Use"), "{operation}: {text}");
                }
            }
            // A person whose NHS login is proofed below this deployment's minimum.
            let res = send(&app.client, Some(patient_token(&own, "P5")))
                .await
                .unwrap();
            assert_eq!(res.status().as_u16(), 403, "{operation} proofed P5");
            // A proxy naming someone, with no grant: refused as a proxy where a proxy may not
            // act at all, and for want of a grant where one may.
            let res = app
                .client
                .request(method.clone(), &url)
                .bearer_auth(patient_token(&nhs(61), "P9"))
                .header("UCP-On-Behalf-Of", own.as_str())
                .header("If-Match", "\"plan.99\"")
                .json(&serde_json::json!({}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status().as_u16(), 403, "{operation} as a proxy");
            let detail = res.text().await.unwrap();
            if use_case.proxy {
                assert!(
                    detail.contains("no active proxy grant"),
                    "{operation}: {detail}"
                );
            } else if use_case.roles.contains(&Role::Patient) {
                assert!(
                    detail.contains("nothing else on their behalf"),
                    "{operation}: {detail}"
                );
            }
            // Without a token, and with a forged one.
            let res = send(&app.client, None).await.unwrap();
            assert_eq!(res.status().as_u16(), 401, "{operation} without a token");
            assert!(res.headers().contains_key("www-authenticate"));
            let res = send(&app.client, Some("not.a.jwt".into())).await.unwrap();
            assert_eq!(res.status().as_u16(), 401, "{operation} with a bad token");
        }
    }
    assert_eq!(
        tried, 102,
        "every documented operation that takes a token was tried"
    );
    // Nothing was written: the plan is as it was made.
    let now: serde_json::Value = app
        .req(
            Method::GET,
            &format!("/v1/care-plans/{id}"),
            Role::Clinician,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(now["version"], plan["version"]);
}

#[tokio::test]
async fn what_the_declarations_do_not_say_by_name() {
    let app = TestApp::spawn().await;
    let own = nhs(50);
    let plan = app.create_plan(&plan_body(&own)).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    let other = app.create_plan(&plan_body(&nhs(51))).await;
    let other_id = other["id"].as_str().unwrap_or_default().to_owned();

    // What the declarations do not say: a person asking for someone else's plan or summary
    // is told there is none, as if there were none.
    for path in [
        format!("/v1/care-plans/{other_id}"),
        format!("/v1/patients/{}/care-plan", nhs(51)),
        format!("/v1/patients/{}/emergency-summary", nhs(51)),
    ] {
        let res = app
            .client
            .get(app.url(&path))
            .bearer_auth(token_with(Role::Patient, Some(own.as_str())))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 404, "{path} as another person");
    }

    // A route of the person's own whose path the document does not name (their Consent to
    // Share) still refuses other roles before it reads a body or asks for a tag.
    let res = app
        .req(
            Method::PUT,
            "/v1/me/care-plan/sections/consent-to-share",
            Role::Ambulance,
        )
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);

    // An out-of-hours GP writes the Emergency Treatment Plan and anticipatory medicines, and
    // starts a plan with those only; the person's own forms are refused. A row the GP may do is
    // sent with a stale tag, so that passing the check shows as 412 and writes nothing.
    let section = format!("/v1/care-plans/{id}/sections/what-matters");
    let etp_section = format!("/v1/care-plans/{id}/sections/emergency-treatment-plan");
    let reason = serde_json::json!({ "reason": "x" });
    let mut with_what_matters = plan_body(&nhs(52));
    let mut without_what_matters = with_what_matters.clone();
    without_what_matters
        .as_object_mut()
        .map(|b| b.remove("whatMatters"));
    with_what_matters["personalInformation"]["nhsNumber"] = serde_json::json!(nhs(53));
    let ooh: Vec<(Method, String, serde_json::Value, u16)> = vec![
        (
            Method::POST,
            "/v1/care-plans".to_owned(),
            with_what_matters,
            403,
        ),
        (
            Method::POST,
            "/v1/care-plans".to_owned(),
            without_what_matters,
            201,
        ),
        (
            Method::PUT,
            format!("/v1/care-plans/{id}/sections/anticipatory-medicines"),
            serde_json::json!({ "medicines": [{ "name": "Midazolam 10 mg/2 mL" }] }),
            412,
        ),
        (Method::PUT, etp_section.clone(), crate::helpers::etp(), 412),
        (
            Method::PUT,
            section.clone(),
            serde_json::json!({ "inTheirOwnWords": "x" }),
            403,
        ),
        (Method::DELETE, section.clone(), reason.clone(), 403),
        (Method::DELETE, etp_section.clone(), reason.clone(), 412),
        (
            Method::POST,
            format!("/v1/care-plans/{id}/person-died"),
            serde_json::json!({ "dateOfDeath": "2026-01-01" }),
            412,
        ),
        (
            Method::POST,
            format!("/v1/care-plans/{id}/void"),
            reason.clone(),
            403,
        ),
        // Plans are never deleted, by anyone.
        (
            Method::DELETE,
            format!("/v1/care-plans/{id}"),
            serde_json::json!({}),
            405,
        ),
    ];
    for (method, path, body, want) in &ooh {
        let res = app
            .req(method.clone(), path, Role::Ooh)
            .header("If-Match", "\"plan.99\"")
            .json(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), *want, "{method} {path} as ooh");
    }
    // Nothing changed.
    let now = app
        .req(
            Method::GET,
            &format!("/v1/care-plans/{id}"),
            Role::Clinician,
        )
        .send()
        .await
        .unwrap();
    let now: serde_json::Value = now.json().await.unwrap();
    assert_eq!(now["version"], 3);
    // The writes that are allowed, in an order the plan allows: an out-of-hours GP records an
    // Emergency Treatment Plan at a home visit and reviews the plan; the clinician's corrections.
    let write = |role: Role, method: Method, path: &str, tag: &str, body: serde_json::Value| {
        app.req(method, path, role)
            .header("If-Match", tag.to_owned())
            .json(&body)
            .send()
    };
    for (role, method, path, tag, body) in [
        (
            Role::Ooh,
            Method::PUT,
            etp_section.as_str(),
            "\"emergency-treatment-plan.3\"",
            crate::helpers::etp(),
        ),
        (
            Role::Ooh,
            Method::POST,
            &format!("/v1/care-plans/{id}/review"),
            "\"plan.4\"",
            serde_json::json!({ "nextReviewDate": "2099-01-01" }),
        ),
        (
            Role::Clinician,
            Method::PUT,
            section.as_str(),
            "\"what-matters.2\"",
            serde_json::json!({ "inTheirOwnWords": "x" }),
        ),
        (
            Role::Clinician,
            Method::POST,
            &format!("/v1/care-plans/{id}/review"),
            "\"plan.6\"",
            serde_json::json!({ "nextReviewDate": "2099-01-01" }),
        ),
        (
            Role::Clinician,
            Method::POST,
            &format!("/v1/care-plans/{id}/person-died"),
            "\"plan.7\"",
            serde_json::json!({ "dateOfDeath": "2026-01-01" }),
        ),
        (
            Role::Clinician,
            Method::POST,
            &format!("/v1/care-plans/{id}/retract-death"),
            "\"plan.8\"",
            reason.clone(),
        ),
        (
            Role::Clinician,
            Method::POST,
            &format!("/v1/care-plans/{id}/withdraw"),
            "\"plan.9\"",
            reason.clone(),
        ),
        (
            Role::Clinician,
            Method::POST,
            &format!("/v1/care-plans/{id}/void"),
            "\"plan.10\"",
            reason.clone(),
        ),
    ] {
        let res = write(role, method.clone(), path, tag, body).await.unwrap();
        assert_eq!(
            res.status().as_u16(),
            200,
            "{method} {path} as {}",
            role.as_str()
        );
    }
    let history: serde_json::Value = app
        .req(
            Method::GET,
            &format!("/v1/care-plans/{id}/history"),
            Role::Clinician,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let types: Vec<&str> = history
        .as_array()
        .map(|h| h.iter().filter_map(|e| e["eventType"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        types[3..],
        [
            "EmergencyTreatmentPlanRecorded",
            "CarePlanReviewed",
            "WhatMattersUpdated",
            "CarePlanReviewed",
            "PersonDied",
            "DeathRetracted",
            "CarePlanWithdrawn",
            "CarePlanVoided"
        ]
    );
    assert_eq!(
        history[3]["changedBy"]["role"], "ooh",
        "the ooh GP recorded the ETP"
    );
    assert_eq!(history[4]["changedBy"]["role"], "ooh");
    // A voided plan: the person no longer sees it.
    let patient = app
        .client
        .get(app.url(&format!("/v1/care-plans/{id}")))
        .bearer_auth(token_with(Role::Patient, Some(&own)))
        .send()
        .await
        .unwrap();
    assert_eq!(patient.status().as_u16(), 404);
}
