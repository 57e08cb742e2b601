//! The care plan API over real HTTP on real PostgreSQL.

use reqwest::Method;
use serde_json::{json, Value};
use ucp_api::Role;

use crate::helpers::{nhs, plan_body, problem, TestApp};

async fn body(res: reqwest::Response) -> Value {
    res.json().await.unwrap()
}

fn etag(res: &reqwest::Response) -> String {
    res.headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn create_read_and_find_a_plan() {
    let app = TestApp::spawn().await;
    let n = nhs(1);
    let spaced = format!("{} {} {}", &n[..3], &n[3..6], &n[6..]);
    let res = app
        .req(Method::POST, "/v1/care-plans", Role::Clinician)
        .json(&plan_body(&spaced))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    let location = res
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(etag(&res), "\"plan.3\"");
    let plan = body(res).await;
    assert_eq!(
        location,
        format!("/v1/care-plans/{}", plan["id"].as_str().unwrap_or_default())
    );
    assert_eq!(plan["nhsNumber"], n, "returned as 10 plain digits");
    assert_eq!(plan["status"], "active");
    let pi = &plan["sections"]["personal-information"];
    assert_eq!(pi["content"]["address"]["postcode"], "SE1 7EH");
    assert_eq!(pi["changedBy"]["role"], "clinician");
    assert_eq!(pi["changedBy"]["organisation"], "F84001");
    assert_eq!(
        plan["sections"]["emergency-treatment-plan"]["etag"],
        "\"emergency-treatment-plan.3\""
    );

    // Read-your-writes: every consumer sees it the moment the write returns.
    let read = app
        .req(Method::GET, &location, Role::Ambulance)
        .send()
        .await
        .unwrap();
    assert_eq!(etag(&read), "\"plan.3\"");
    assert_eq!(body(read).await, plan);
    let summary = body(
        app.req(
            Method::GET,
            &format!("/v1/patients/{spaced}/emergency-summary"),
            Role::Dispatch,
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(summary["cpr"]["status"], "not-for-cpr");
    assert_eq!(summary["cpr"]["coding"]["code"], "450476008");
    assert_eq!(summary["planVersion"], 3);
    let found = body(
        app.req(
            Method::GET,
            "/v1/patients?family=NOWAK&given=zoe&postcode=SE17EH",
            Role::Nhs111,
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(found[0]["nhsNumber"], n, "case- and accent-insensitive");
    let section = app
        .req(
            Method::GET,
            &format!("{location}/sections/what-matters"),
            Role::Ooh,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(etag(&section), "\"what-matters.2\"");
}

#[tokio::test]
async fn a_second_active_plan_for_a_person_is_a_409_with_a_link() {
    let app = TestApp::spawn().await;
    let n = nhs(2);
    app.create_plan(&plan_body(&n)).await;
    let res = app
        .req(Method::POST, "/v1/care-plans", Role::Clinician)
        .json(&plan_body(&n))
        .send()
        .await
        .unwrap();
    let p = problem(res, 409).await;
    assert_eq!(p["code"], "plan_exists");
    assert_eq!(p["location"], format!("/v1/patients/{n}/care-plan"));
}

#[tokio::test]
async fn a_retried_create_returns_the_first_result_and_writes_nothing_twice() {
    let app = TestApp::spawn().await;
    let body_json = plan_body(&nhs(3));
    let send = |b: &Value, key: &str| {
        app.req(Method::POST, "/v1/care-plans", Role::Clinician)
            .header("Idempotency-Key", key)
            .json(b)
            .send()
    };
    let first = send(&body_json, "k-1").await.unwrap();
    assert_eq!(first.status().as_u16(), 201);
    let first = body(first).await;
    let again = send(&body_json, "k-1").await.unwrap();
    assert_eq!(again.status().as_u16(), 201);
    assert_eq!(body(again).await, first, "the retry gets the first result");
    let mut other = body_json.clone();
    other["whatMatters"]["inTheirOwnWords"] = json!("Something else");
    let p = problem(send(&other, "k-1").await.unwrap(), 422).await;
    assert_eq!(p["code"], "idempotency_key_reused");
    let history = body(
        app.req(
            Method::GET,
            &format!(
                "/v1/care-plans/{}/history",
                first["id"].as_str().unwrap_or_default()
            ),
            Role::Clinician,
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(history.as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn section_writes_need_if_match_and_only_conflict_on_their_own_section() {
    let app = TestApp::spawn().await;
    let plan = app.create_plan(&plan_body(&nhs(4))).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    let put = |section: &str, if_match: Option<&str>, content: Value| {
        let mut r = app
            .req(
                Method::PUT,
                &format!("/v1/care-plans/{id}/sections/{section}"),
                Role::Clinician,
            )
            .json(&content);
        if let Some(tag) = if_match {
            r = r.header("If-Match", tag);
        }
        r.send()
    };
    let wm_etag = plan["sections"]["what-matters"]["etag"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let etp_etag = plan["sections"]["emergency-treatment-plan"]["etag"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    problem(
        put("what-matters", None, json!({ "inTheirOwnWords": "x" }))
            .await
            .unwrap(),
        428,
    )
    .await;

    // Two clinicians read the plan, then each saves a different section: both succeed.
    let a = put(
        "what-matters",
        Some(&wm_etag),
        json!({ "inTheirOwnWords": "Music" }),
    )
    .await
    .unwrap();
    assert_eq!(a.status().as_u16(), 200);
    let mut etp = crate::helpers::etp();
    etp["clinicalFocus"] = json!("life-sustaining-treatment");
    let b = put("emergency-treatment-plan", Some(&etp_etag), etp.clone())
        .await
        .unwrap();
    assert_eq!(
        b.status().as_u16(),
        200,
        "a write to another section does not conflict"
    );
    // The first clinician's section ETag is now stale for what-matters only.
    let stale = put(
        "what-matters",
        Some(&wm_etag),
        json!({ "inTheirOwnWords": "Late" }),
    )
    .await
    .unwrap();
    problem(stale, 412).await;
    // The plan ETag from the first read is stale too (the plan changed since).
    let stale_plan = put("contacts", Some("\"plan.3\""), json!({}))
        .await
        .unwrap();
    problem(stale_plan, 412).await;
    // A section never filled takes `<section>.0`.
    let fresh = put(
        "contacts",
        Some("\"contacts.0\""),
        json!({ "personal": [] }),
    )
    .await
    .unwrap();
    assert_eq!(fresh.status().as_u16(), 200);
    let current = body(
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
    assert_eq!(current["version"], 6);
    assert_eq!(
        current["sections"]["what-matters"]["content"]["inTheirOwnWords"],
        "Music"
    );
    assert_eq!(
        current["sections"]["emergency-treatment-plan"]["content"]["clinicalFocus"],
        "life-sustaining-treatment"
    );

    // Concurrent writers on different sections, all with the ETags of one read: all succeed.
    let plan_now = current;
    let sections = [
        "what-matters",
        "clinical-background",
        "thinking-ahead",
        "support-needs",
    ];
    let bodies = [
        json!({ "inTheirOwnWords": "Concurrent" }),
        json!({ "conditions": [{ "name": "COPD", "snomedCode": "13645005" }] }),
        json!({ "advanceDecisionToRefuseTreatment": { "held": "no" } }),
        json!({ "needs": [{ "need": "Help to wash", "providedBy": "Carers" }] }),
    ];
    let results = futures::future::join_all(sections.iter().zip(bodies).map(|(s, b)| {
        let tag = plan_now["sections"][*s]["etag"]
            .as_str()
            .map_or_else(|| format!("\"{s}.0\""), str::to_owned);
        let put = app
            .req(
                Method::PUT,
                &format!("/v1/care-plans/{id}/sections/{s}"),
                Role::Clinician,
            )
            .header("If-Match", tag)
            .json(&b);
        put.send()
    }))
    .await;
    for r in results {
        assert_eq!(r.unwrap().status().as_u16(), 200);
    }
}

#[tokio::test]
async fn bad_input_gets_a_clear_problem_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let post = |body: String, content_type: &str| {
        app.req(Method::POST, "/v1/care-plans", Role::Clinician)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let n = nhs(5);
    let p = problem(
        post("{not json".into(), "application/json").await.unwrap(),
        400,
    )
    .await;
    assert_eq!(p["code"], "malformed_json");
    problem(
        post(plan_body(&n).to_string(), "text/plain").await.unwrap(),
        415,
    )
    .await;
    let mut misspelt = plan_body(&n);
    misspelt["whatMatters"] = json!({ "inTheirOwnWrods": "x" });
    let p = problem(
        post(misspelt.to_string(), "application/json")
            .await
            .unwrap(),
        400,
    )
    .await;
    assert_eq!(p["code"], "unknown_field");
    assert_eq!(p["errors"][0]["pointer"], "/whatMatters/inTheirOwnWrods");
    assert!(p["detail"]
        .as_str()
        .unwrap_or_default()
        .contains("inTheirOwnWrods"));
    let mut bad_nhs = plan_body(&n);
    bad_nhs["personalInformation"]["nhsNumber"] = json!("9434765918");
    let p = problem(
        post(bad_nhs.to_string(), "application/json").await.unwrap(),
        422,
    )
    .await;
    assert_eq!(p["errors"][0]["pointer"], "/personalInformation/nhsNumber");
    let mut bad_date = plan_body(&n);
    bad_date["personalInformation"]["birthDate"] = json!("2999-01-01");
    let p = problem(
        post(bad_date.to_string(), "application/json")
            .await
            .unwrap(),
        422,
    )
    .await;
    assert_eq!(p["errors"][0]["pointer"], "/personalInformation/birthDate");
    let mut unsigned = plan_body(&n);
    unsigned["emergencyTreatmentPlan"]
        .as_object_mut()
        .map(|o| o.remove("signAs"));
    let p = problem(
        post(unsigned.to_string(), "application/json")
            .await
            .unwrap(),
        422,
    )
    .await;
    assert_eq!(p["errors"][0]["pointer"], "/emergencyTreatmentPlan/signAs");
    let mut missing = plan_body(&n);
    missing.as_object_mut().map(|o| o.remove("consentToShare"));
    problem(
        post(missing.to_string(), "application/json").await.unwrap(),
        422,
    )
    .await;
    let mut huge = plan_body(&n);
    huge["whatMatters"]["inTheirOwnWords"] = json!("x".repeat(70 * 1024));
    problem(
        post(huge.to_string(), "application/json").await.unwrap(),
        413,
    )
    .await;

    // Nothing was written by any of them.
    let found = app
        .req(
            Method::GET,
            &format!("/v1/patients/{n}/care-plan"),
            Role::Clinician,
        )
        .send()
        .await
        .unwrap();
    problem(found, 404).await;

    for (path, code) in [
        ("/v1/care-plans/not-a-uuid", "bad_plan_id"),
        ("/v1/patients/123/care-plan", "bad_nhs_number"),
        (
            "/v1/patients/9434765918/emergency-summary",
            "bad_nhs_number",
        ),
        ("/v1/patients?family=x", "too_few_criteria"),
        ("/v1/patients?family=x&birthDate=yesterday", "bad_query"),
        ("/v1/patients?family=x&postcode=nowhere", "bad_postcode"),
    ] {
        let p = problem(
            app.req(Method::GET, path, Role::Clinician)
                .send()
                .await
                .unwrap(),
            400,
        )
        .await;
        assert_eq!(p["code"], code, "{path}");
    }
    let plan = app.create_plan(&plan_body(&nhs(6))).await;
    let id = plan["id"].as_str().unwrap_or_default();
    let p = problem(
        app.req(
            Method::GET,
            &format!("/v1/care-plans/{id}/sections/nope"),
            Role::Clinician,
        )
        .send()
        .await
        .unwrap(),
        400,
    )
    .await;
    assert_eq!(p["code"], "bad_section");
    let p = problem(
        app.req(
            Method::GET,
            &format!("/v1/care-plans/{id}?at=noon"),
            Role::Clinician,
        )
        .send()
        .await
        .unwrap(),
        400,
    )
    .await;
    assert_eq!(p["code"], "bad_query");
    let moved = app
        .req(
            Method::PUT,
            &format!("/v1/care-plans/{id}/sections/personal-information"),
            Role::Clinician,
        )
        .header("If-Match", "\"plan.3\"")
        .json(&crate::helpers::personal_information(&nhs(7)))
        .send()
        .await
        .unwrap();
    assert_eq!(
        problem(moved, 422).await["code"],
        "nhs_number_cannot_change"
    );
}

#[tokio::test]
async fn lifecycle_as_of_reads_and_history() {
    let app = TestApp::spawn().await;
    let n = nhs(8);
    let plan = app.create_plan(&plan_body(&n)).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    let created_at = plan["updatedAt"].as_str().unwrap_or_default().to_owned();
    let post = |path: &str, tag: &str, b: Value| {
        app.req(
            Method::POST,
            &format!("/v1/care-plans/{id}/{path}"),
            Role::Clinician,
        )
        .header("If-Match", tag)
        .json(&b)
        .send()
    };
    let reviewed = post(
        "review",
        "\"plan.3\"",
        json!({ "nextReviewDate": "2099-01-01" }),
    )
    .await
    .unwrap();
    assert_eq!(reviewed.status().as_u16(), 200);
    let reviewed = body(reviewed).await;
    assert_eq!(
        reviewed["lastReview"]["reviewedBy"]["actor"],
        "clinician-test"
    );
    problem(
        post(
            "withdraw",
            "\"plan.3\"",
            json!({ "reason": "No longer wanted" }),
        )
        .await
        .unwrap(),
        412,
    )
    .await;
    let no_tag = app
        .req(
            Method::POST,
            &format!("/v1/care-plans/{id}/withdraw"),
            Role::Clinician,
        )
        .json(&json!({ "reason": "No longer wanted" }))
        .send()
        .await
        .unwrap();
    problem(no_tag, 428).await;
    let died = post(
        "person-died",
        "\"plan.4\"",
        json!({ "dateOfDeath": "2026-11-20" }),
    )
    .await
    .unwrap();
    assert_eq!(body(died).await["status"], "deceased");
    let p = problem(
        post(
            "withdraw",
            "\"plan.5\"",
            json!({ "reason": "No longer wanted" }),
        )
        .await
        .unwrap(),
        409,
    )
    .await;
    assert_eq!(p["code"], "plan_closed");
    // Crews no longer see it; clinicians do.
    let crew = app
        .req(
            Method::GET,
            &format!("/v1/care-plans/{id}"),
            Role::Ambulance,
        )
        .send()
        .await
        .unwrap();
    assert!(problem(crew, 404).await["detail"]
        .as_str()
        .unwrap_or_default()
        .contains("no current care plan"));
    let summary = app
        .req(
            Method::GET,
            &format!("/v1/patients/{n}/emergency-summary"),
            Role::Ambulance,
        )
        .send()
        .await
        .unwrap();
    // A notice that the plan ended, not a silence (what_a_crew_reads.rs checks its words).
    assert_eq!(problem(summary, 410).await["code"], "plan_not_current");

    // As it was: at version 3 and at the instant of creation.
    let v3 = body(
        app.req(
            Method::GET,
            &format!("/v1/care-plans/{id}?version=3"),
            Role::Clinician,
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(v3, plan, "the plan at version 3 is the plan as created");
    let at = body(
        app.req(
            Method::GET,
            &format!("/v1/care-plans/{id}"),
            Role::Clinician,
        )
        .query(&[("at", &created_at)])
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(at, plan);
    problem(
        app.req(
            Method::GET,
            &format!("/v1/care-plans/{id}?version=99"),
            Role::Clinician,
        )
        .send()
        .await
        .unwrap(),
        404,
    )
    .await;
    problem(
        app.req(
            Method::GET,
            &format!("/v1/care-plans/{id}?at=2000-01-01T00:00:00Z"),
            Role::Clinician,
        )
        .send()
        .await
        .unwrap(),
        404,
    )
    .await;

    let history = body(
        app.req(
            Method::GET,
            &format!("/v1/care-plans/{id}/history"),
            Role::Clinician,
        )
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
            "CarePlanReviewed",
            "PersonDied"
        ]
    );
    assert_eq!(history[2]["section"], "emergency-treatment-plan");
    assert_eq!(history[4]["statusAfter"], "deceased");

    // Voiding is still allowed after death; DELETE on a plan is refused (plans are withdrawn
    // with a reason, never deleted).
    let voided = post("void", "\"plan.5\"", json!({ "reason": "Wrong person" }))
        .await
        .unwrap();
    assert_eq!(body(voided).await["status"], "voided");
    let other = app.create_plan(&plan_body(&nhs(9))).await;
    let del = app
        .req(
            Method::DELETE,
            &format!(
                "/v1/care-plans/{}",
                other["id"].as_str().unwrap_or_default()
            ),
            Role::Clinician,
        )
        .header("If-Match", "\"plan.3\"")
        .send()
        .await
        .unwrap();
    assert_eq!(del.headers()["allow"], "GET");
    let p = problem(del, 405).await;
    assert!(p["detail"]
        .as_str()
        .unwrap_or_default()
        .contains("/withdraw"));
}

/// A long random workload, then a rebuild from the log: the rebuilt read models equal the live.
#[tokio::test]
async fn rebuilt_read_models_equal_the_live_ones() {
    use rand::Rng;
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for i in 0..12 {
        let plan = app.create_plan(&plan_body(&nhs(100 + i))).await;
        ids.push(plan["id"].as_str().unwrap_or_default().to_owned());
    }
    for step in 0..150 {
        let (id, choice) = {
            let mut rng = rand::rng();
            (
                ids[rng.random_range(0..ids.len())].clone(),
                rng.random_range(0..10),
            )
        };
        let current = body(
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
        let tag = current["etag"].as_str().unwrap_or_default().to_owned();
        let req = match choice {
            0 => app.req(Method::POST, &format!("/v1/care-plans/{id}/withdraw"), Role::Clinician).json(&json!({ "reason": "No longer wanted" })),
            1 => app.req(Method::POST, &format!("/v1/care-plans/{id}/review"), Role::Clinician).json(&json!({ "nextReviewDate": "2099-06-01" })),
            3 => app.req(Method::PUT, &format!("/v1/care-plans/{id}/sections/support-needs"), Role::Clinician)
                .json(&json!({ "needs": [{ "need": format!("Need {step}"), "providedBy": "Carers" }] })),
            2 => app.req(Method::PUT, &format!("/v1/care-plans/{id}/sections/contacts"), Role::Clinician)
                .json(&json!({ "personal": [{ "name": format!("Contact {step}"), "relationship": "son", "lpaHealthAndWelfare": "no", "lpaPropertyAndFinancial": "unknown", "phone": "07700 900456", "contactFirst": true }] })),
            _ => app.req(Method::PUT, &format!("/v1/care-plans/{id}/sections/what-matters"), Role::Clinician)
                .json(&json!({ "inTheirOwnWords": format!("Step {step}") })),
        };
        let status = req
            .header("If-Match", tag)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        assert!(status == 200 || status == 409, "step {step}: {status}");
    }
    let dump = || async {
        let client = app.db.pool().get().await.unwrap();
        let mut out = Vec::new();
        for sql in [
            "SELECT jsonb_agg(to_jsonb(t) ORDER BY plan_id)::text FROM care_plan_view t",
            // The stored text of a summary is that of the last change that reached it: its
            // version and time of change are the row's (which are compared), as readers get it.
            "SELECT jsonb_agg(to_jsonb(t) || jsonb_build_object('summary', \
               t.summary::jsonb - 'planVersion' - 'planLastChangedAt') ORDER BY plan_id)::text \
             FROM emergency_summary t",
            "SELECT jsonb_agg(to_jsonb(t) ORDER BY plan_id)::text FROM patient_index t",
            "SELECT jsonb_agg(to_jsonb(t) ORDER BY plan_id)::text FROM review_worklist t",
            "SELECT jsonb_agg(to_jsonb(t) ORDER BY organisation, plan_id)::text \
             FROM review_worklist_orgs t",
        ] {
            let row = client.query_one(sql, &[]).await.unwrap();
            out.push(row.get::<_, Option<String>>(0).unwrap_or_default());
        }
        out
    };
    let live = dump().await;
    let rebuilt = app.rebuild().await;
    assert_eq!(rebuilt.plans, 12);
    assert_eq!(
        rebuilt.caught_up, 0,
        "nothing was written during the rebuild"
    );
    assert_eq!(dump().await, live, "the rebuilt tables equal the live ones");
    assert!(live[0].len() > 1000, "the comparison compared something");
}

#[tokio::test]
async fn the_checked_in_openapi_document_is_what_the_code_generates() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi/ucp.openapi.json");
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = ucp_api::openapi_document().unwrap();
    assert!(
        checked_in == generated,
        "openapi/ucp.openapi.json is out of date: run `make openapi` and commit it"
    );
    let doc: Value = serde_json::from_str(&generated).unwrap();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            assert!(
                op["operationId"].is_string(),
                "{method} {path} has no operationId"
            );
            assert!(op["summary"].is_string(), "{method} {path} has no summary");
            if path.starts_with("/v1/") {
                for status in ["401", "503"] {
                    assert!(
                        op["responses"][status].is_object(),
                        "{method} {path} does not document {status}"
                    );
                }
            }
        }
    }
    let served = TestApp::spawn().await;
    let live: Value = served.get("/openapi.json").await.json().await.unwrap();
    assert_eq!(live, doc);
    assert_eq!(served.get("/docs/").await.status().as_u16(), 200);
}
