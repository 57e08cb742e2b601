//! Every endpoint × every role, in one table: who may, who is refused (403), who gets 404
//! (a person asking for someone else's plan), and 401 without a valid token.

use reqwest::Method;
use ucp_api::Role;

use crate::helpers::{nhs, plan_body, token_with, TestApp};

#[tokio::test]
async fn every_endpoint_for_every_role() {
    let app = TestApp::spawn().await;
    let own = nhs(50);
    let plan = app.create_plan(&plan_body(&own)).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    let other = app.create_plan(&plan_body(&nhs(51))).await;
    let other_id = other["id"].as_str().unwrap_or_default().to_owned();

    // (method, path, body, expected status for each role in Role::ALL order:
    //  clinician, ambulance, nhs111, ooh, dispatch, patient (own plan), admin)
    let reads: Vec<(Method, String, [u16; 7])> = vec![
        (
            Method::GET,
            format!("/v1/care-plans/{id}"),
            [200, 200, 200, 200, 403, 200, 403],
        ),
        (
            Method::GET,
            format!("/v1/care-plans/{other_id}"),
            [200, 200, 200, 200, 403, 404, 403],
        ),
        (
            Method::GET,
            format!("/v1/care-plans/{id}/sections/what-matters"),
            [200, 200, 200, 200, 403, 200, 403],
        ),
        (
            Method::GET,
            format!("/v1/care-plans/{id}/history"),
            [200, 200, 200, 200, 403, 200, 403],
        ),
        (
            Method::GET,
            format!("/v1/patients/{own}/care-plan"),
            [200, 200, 200, 200, 403, 200, 403],
        ),
        (
            Method::GET,
            format!("/v1/patients/{}/care-plan", nhs(51)),
            [200, 200, 200, 200, 403, 404, 403],
        ),
        (
            Method::GET,
            format!("/v1/patients/{own}/emergency-summary"),
            [200, 200, 200, 200, 200, 200, 403],
        ),
        (
            Method::GET,
            format!("/v1/patients/{}/emergency-summary", nhs(51)),
            [200, 200, 200, 200, 200, 404, 403],
        ),
        (
            Method::GET,
            "/v1/patients?family=nowak&birthDate=1941-02-03".to_owned(),
            [200, 200, 200, 200, 403, 403, 403],
        ),
        (
            Method::GET,
            "/v1/me/care-plan".to_owned(),
            [403, 403, 403, 403, 403, 200, 403],
        ),
        (
            Method::GET,
            "/v1/me/access-log".to_owned(),
            [403, 403, 403, 403, 403, 200, 403],
        ),
        (
            Method::GET,
            "/v1/audit".to_owned(),
            [403, 403, 403, 403, 403, 403, 200],
        ),
        (
            Method::GET,
            format!("/v1/audit/{}/shown", uuid::Uuid::new_v4()),
            [403, 403, 403, 403, 403, 403, 404],
        ),
    ];
    for (method, path, expected) in &reads {
        for (role, want) in Role::ALL.into_iter().zip(expected) {
            let token = token_with(role, (role == Role::Patient).then_some(own.as_str()));
            let res = app
                .client
                .request(method.clone(), app.url(path))
                .bearer_auth(token)
                .send()
                .await
                .unwrap_or_else(|e| panic!("{e:?}"));
            assert_eq!(
                res.status().as_u16(),
                *want,
                "{method} {path} as {}",
                role.as_str()
            );
        }
        let anonymous = app
            .client
            .request(method.clone(), app.url(path))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            anonymous.status().as_u16(),
            401,
            "{method} {path} without a token"
        );
        assert!(anonymous.headers().contains_key("www-authenticate"));
        let forged = app
            .client
            .request(method.clone(), app.url(path))
            .bearer_auth("not.a.jwt")
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            forged.status().as_u16(),
            401,
            "{method} {path} with a bad token"
        );
    }

    // Writes: clinicians; out-of-hours GPs the Emergency Treatment Plan, anticipatory
    // medicines, reviews, a new plan and a death.
    // Every other role is refused before anything is read or written. A row an ooh GP may do
    // is sent with a stale tag, so that passing the role check shows as 412 and writes nothing.
    // (method, path, If-Match, body, expected for ambulance, nhs111, ooh, dispatch, patient, admin)
    let section = format!("/v1/care-plans/{id}/sections/what-matters");
    let etp_section = format!("/v1/care-plans/{id}/sections/emergency-treatment-plan");
    let reason = serde_json::json!({ "reason": "x" });
    let writes: Vec<(Method, String, &str, serde_json::Value, [u16; 6])> = vec![
        (
            Method::POST,
            "/v1/care-plans".to_owned(),
            "\"plan.3\"",
            {
                // The sections an out-of-hours GP writes: not the person's own forms.
                let mut body = plan_body(&nhs(52));
                body.as_object_mut().map(|b| b.remove("whatMatters"));
                body
            },
            // An out-of-hours GP starts a plan for another person at a home visit.
            [403, 403, 201, 403, 403, 403],
        ),
        (
            Method::PUT,
            format!("/v1/care-plans/{id}/sections/anticipatory-medicines"),
            "\"plan.99\"",
            serde_json::json!({ "medicines": [{ "name": "Midazolam 10 mg/2 mL" }] }),
            [403, 403, 412, 403, 403, 403],
        ),
        (
            Method::PUT,
            section.clone(),
            "\"plan.3\"",
            serde_json::json!({ "inTheirOwnWords": "x" }),
            [403, 403, 403, 403, 403, 403],
        ),
        (
            Method::PUT,
            etp_section.clone(),
            "\"plan.99\"",
            crate::helpers::etp(),
            [403, 403, 412, 403, 403, 403],
        ),
        (
            Method::POST,
            format!("/v1/care-plans/{id}/review"),
            "\"plan.99\"",
            serde_json::json!({ "nextReviewDate": "2099-01-01" }),
            [403, 403, 412, 403, 403, 403],
        ),
        (
            Method::POST,
            format!("/v1/care-plans/{id}/withdraw"),
            "\"plan.3\"",
            reason.clone(),
            [403, 403, 403, 403, 403, 403],
        ),
        (
            Method::POST,
            format!("/v1/care-plans/{id}/void"),
            "\"plan.3\"",
            reason.clone(),
            [403, 403, 403, 403, 403, 403],
        ),
        (
            Method::POST,
            format!("/v1/care-plans/{id}/person-died"),
            "\"plan.99\"",
            serde_json::json!({ "dateOfDeath": "2026-01-01" }),
            // Out-of-hours GPs verify expected deaths.
            [403, 403, 412, 403, 403, 403],
        ),
        (
            Method::POST,
            format!("/v1/care-plans/{id}/retract-death"),
            "\"plan.3\"",
            reason.clone(),
            [403, 403, 403, 403, 403, 403],
        ),
        (
            Method::DELETE,
            section.clone(),
            "\"plan.3\"",
            reason.clone(),
            [403, 403, 403, 403, 403, 403],
        ),
        (
            Method::DELETE,
            etp_section.clone(),
            "\"plan.99\"",
            reason.clone(),
            [403, 403, 412, 403, 403, 403],
        ),
        (
            Method::DELETE,
            format!("/v1/care-plans/{id}"),
            "\"plan.3\"",
            serde_json::json!({}),
            [405, 405, 405, 405, 405, 405],
        ),
    ];
    for (method, path, tag, body, expected) in &writes {
        let others = Role::ALL.into_iter().filter(|r| *r != Role::Clinician);
        for (role, want) in others.zip(expected) {
            let token = token_with(role, (role == Role::Patient).then_some(own.as_str()));
            let res = app
                .client
                .request(method.clone(), app.url(path))
                .bearer_auth(token)
                .header("If-Match", *tag)
                .json(body)
                .send()
                .await
                .unwrap_or_else(|e| panic!("{e:?}"));
            assert_eq!(
                res.status().as_u16(),
                *want,
                "{method} {path} as {}",
                role.as_str()
            );
        }
        let anonymous = app
            .client
            .request(method.clone(), app.url(path))
            .json(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            anonymous.status().as_u16(),
            401,
            "{method} {path} without a token"
        );
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
        .unwrap_or_else(|e| panic!("{e:?}"));
    let now: serde_json::Value = now.json().await.unwrap_or_else(|e| panic!("{e:?}"));
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
        let res = write(role, method.clone(), path, tag, body)
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
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
        .unwrap_or_else(|e| panic!("{e:?}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
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
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(patient.status().as_u16(), 404);
}
