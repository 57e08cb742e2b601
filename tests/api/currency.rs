//! Keeping plans current, against a live server: the review worklist, what changed since the
//! version a reader holds, and cheap re-checks with `If-None-Match`.

use reqwest::Method;
use serde_json::{json, Value};
use ucp_api::Role;

use crate::helpers::{etp, nhs, plan_body, problem, token_with, TestApp};

/// A plan whose GP practice is `ods`, with an Emergency Treatment Plan due for review on `due`
/// (signed before it).
fn plan_for(number: &str, ods: &str, signed: &str, due: &str) -> Value {
    let mut body = plan_body(number);
    let mut e = etp();
    // A paper form signed on `signed`, typed in: its signature keeps the paper's date.
    e.as_object_mut().map(|o| o.remove("signAs"));
    e["signatures"] = json!([{ "name": "Dr A", "role": "GP", "registrationNumber": "GMC 1234567",
        "seniorResponsible": true, "signedAt": signed, "method": "transcribed-from-paper" }]);
    e["review"] = json!({ "due": due });
    body["emergencyTreatmentPlan"] = e;
    body["contacts"] = json!({ "professional": [{ "name": "Practice", "role": "GP practice",
        "odsCode": ods, "phone": "020 7946 0001" }] });
    body
}

#[tokio::test]
async fn the_review_worklist_filters_pages_counts_and_rebuilds() {
    let app = TestApp::spawn().await;
    let overdue = app
        .create_plan(&plan_for(
            &nhs(950),
            "F84001",
            "2025-01-01T09:00:00Z",
            "2025-06-01",
        ))
        .await;
    app.create_plan(&plan_for(
        &nhs(951),
        "F84001",
        "2026-11-01T09:00:00Z",
        "2099-01-01",
    ))
    .await;
    app.create_plan(&plan_for(
        &nhs(952),
        "Y12345",
        "2026-11-01T09:00:00Z",
        "2098-01-01",
    ))
    .await;
    // No review date: not on any worklist.
    let mut undated = plan_body(&nhs(953));
    undated
        .as_object_mut()
        .map(|b| b.remove("emergencyTreatmentPlan"));
    app.create_plan(&undated).await;

    let list = |query: &'static str| {
        let app = &app;
        async move {
            let (status, body) = app
                .get_json(&format!("/v1/worklists/reviews{query}"), Role::Clinician)
                .await;
            assert_eq!(status, 200, "{query}: {body}");
            body
        }
    };
    let all = list("").await;
    let numbers = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .map(|i| {
                i.iter()
                    .filter_map(|x| x["nhsNumber"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(numbers(&all), [nhs(950), nhs(952), nhs(951)], "by due date");
    let first = &all["items"][0];
    assert_eq!(first["dueDate"], "2025-06-01");
    assert!(first["daysOverdue"].as_i64().unwrap_or(0) > 100);
    assert_eq!(first["responsibleOrganisation"], "F84001");
    assert_eq!(first["planId"], overdue["id"]);
    assert_eq!(all["items"][1]["daysOverdue"], 0);

    // F84001 is the first two plans' practice and recorded every Emergency Treatment Plan (the
    // test clinician's organisation); Y12345 is only the third plan's practice.
    assert_eq!(
        numbers(&list("?organisation=F84001").await),
        [nhs(950), nhs(952), nhs(951)]
    );
    let y = list("?organisation=y12345").await;
    assert_eq!(numbers(&y), [nhs(952)]);
    assert_eq!(y["items"][0]["responsibleOrganisation"], "Y12345");
    assert_eq!(numbers(&list("?overdue=true").await), [nhs(950)]);
    assert_eq!(
        numbers(&list("?dueBefore=2098-06-01").await),
        [nhs(950), nhs(952)]
    );
    // Paging: one at a time, in order, to the end.
    let page1 = list("?limit=1").await;
    assert_eq!(numbers(&page1), [nhs(950)]);
    let next = page1["next"].as_str().unwrap_or_default().to_owned();
    let (_, page2) = app
        .get_json(
            &format!("/v1/worklists/reviews?limit=2&after={next}"),
            Role::Admin,
        )
        .await;
    assert_eq!(numbers(&page2), [nhs(952), nhs(951)]);

    // A review moves the date (and who reviewed) for everyone who answers for the plan.
    let id = overdue["id"].as_str().unwrap_or_default();
    let res = app
        .write(
            Role::Ooh,
            Method::POST,
            &format!("/v1/care-plans/{id}/review"),
            "\"plan.4\"",
            &json!({ "nextReviewDate": "2099-12-31" }),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let after = list("?overdue=true").await;
    assert!(numbers(&after).is_empty(), "{after}");
    let reviewed = list("?organisation=F84001").await;
    let item = reviewed["items"]
        .as_array()
        .and_then(|i| i.iter().find(|x| x["planId"] == overdue["id"]).cloned())
        .unwrap_or_default();
    assert_eq!(item["lastReviewedBy"], "Test ooh");
    assert!(item["lastReviewedAt"].is_string());

    // Counts per organisation.
    let (_, counts) = app
        .get_json("/v1/worklists/reviews/summary", Role::Clinician)
        .await;
    let f84001 = counts
        .as_array()
        .and_then(|c| c.iter().find(|x| x["organisation"] == "F84001").cloned())
        .unwrap_or_default();
    assert_eq!(f84001["overdue"], 0);
    assert!(f84001["dueThisMonth"].is_i64());

    // The rebuild gives the same worklist.
    let before = list("").await;
    app.rebuild().await;
    assert_eq!(list("").await, before);

    // Bad input and roles.
    for query in [
        "?limit=0",
        "?after=nonsense",
        "?organisation=!!",
        "?overdue=maybe",
        "?status=x",
    ] {
        let res = app
            .req(
                Method::GET,
                &format!("/v1/worklists/reviews{query}"),
                Role::Clinician,
            )
            .send()
            .await
            .unwrap();
        problem(res, 400).await;
    }
    for role in [Role::Ambulance, Role::Dispatch, Role::Patient, Role::Ooh] {
        let res = app
            .client
            .get(app.url("/v1/worklists/reviews"))
            .bearer_auth(token_with(role, Some(&nhs(950))))
            .send()
            .await
            .unwrap();
        problem(res, 403).await;
    }
    problem(app.get("/v1/worklists/reviews/summary").await, 401).await;
}

#[tokio::test]
async fn changes_since_a_version_patch_the_held_document_into_the_current_one() {
    let app = TestApp::spawn().await;
    let number = nhs(960);
    let plan = app.create_plan(&plan_body(&number)).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    let (_, held) = app
        .get_json(&format!("/v1/care-plans/{id}"), Role::Clinician)
        .await;
    assert_eq!(held["version"], 3);
    let path = |tail: &str| format!("/v1/care-plans/{id}{tail}");
    for (method, tail, tag, body) in [
        (
            Method::PUT,
            "/sections/what-matters",
            "\"what-matters.2\"",
            json!({ "inTheirOwnWords": "The garden." }),
        ),
        (
            Method::PUT,
            "/sections/emergency-treatment-plan",
            "\"plan.4\"",
            {
                let mut e = etp();
                e["cprRecommendation"] = json!("attempts-recommended");
                e
            },
        ),
        (
            Method::DELETE,
            "/sections/what-matters",
            "\"plan.5\"",
            json!({ "reason": "Entered in error" }),
        ),
        (
            Method::POST,
            "/review",
            "\"plan.6\"",
            json!({ "nextReviewDate": "2099-01-01" }),
        ),
        (
            Method::POST,
            "/withdraw",
            "\"plan.7\"",
            json!({ "reason": "No longer wanted" }),
        ),
    ] {
        let res = app
            .write(Role::Clinician, method.clone(), &path(tail), tag, &body)
            .await;
        assert_eq!(res.status().as_u16(), 200, "{method} {tail}");
    }
    let (status, changes) = app
        .get_json(&path("/changes?since=3"), Role::Clinician)
        .await;
    assert_eq!(status, 200, "{changes}");
    assert_eq!(changes["until"], 8);
    assert_eq!(changes["etag"], "\"plan.8\"");
    let list = changes["changes"].as_array().cloned().unwrap_or_default();
    let kinds: Vec<(i64, &str, Value)> = list
        .iter()
        .map(|c| {
            (
                c["version"].as_i64().unwrap_or(0),
                c["eventType"].as_str().unwrap_or(""),
                c["section"].clone(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            (4, "WhatMattersUpdated", json!("what-matters")),
            (
                5,
                "EmergencyTreatmentPlanRecorded",
                json!("emergency-treatment-plan")
            ),
            (6, "SectionRetracted", json!("what-matters")),
            (7, "CarePlanReviewed", Value::Null),
            (8, "CarePlanWithdrawn", Value::Null),
        ]
    );
    assert_eq!(list[0]["changedBy"]["role"], "clinician");
    // Applying every patch to the held version reproduces the current plan.
    let mut doc = held.clone();
    for change in &list {
        let patch: json_patch::Patch = serde_json::from_value(change["patch"].clone()).unwrap();
        json_patch::patch(&mut doc, &patch).unwrap();
    }
    let (_, current) = app
        .get_json(&format!("/v1/care-plans/{id}"), Role::Clinician)
        .await;
    assert_eq!(doc, current);
    // A range in the middle, and its end.
    let (_, middle) = app
        .get_json(&path("/changes?since=4&until=5"), Role::Clinician)
        .await;
    assert_eq!(middle["changes"].as_array().map(Vec::len), Some(1));

    // The summary in its own terms.
    let (status, summary) = app
        .get_json(
            &format!("/v1/patients/{number}/emergency-summary/changes?since=3"),
            Role::Clinician,
        )
        .await;
    assert_eq!(status, 200, "{summary}");
    let statements: Vec<String> = summary["changes"]
        .as_array()
        .map(|c| {
            c.iter()
                .flat_map(|c| c["statements"].as_array().cloned().unwrap_or_default())
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    assert!(
        statements.iter().any(|s| s.starts_with(
            "CPR status changed from not-for-cpr to for-cpr by Test clinician (clinician, F84001) at"
        )),
        "{statements:?}"
    );
    assert!(
        statements
            .iter()
            .any(|s| s.starts_with("Plan status changed from active to withdrawn")),
        "{statements:?}"
    );

    // The audit entry of a changes read replays what it showed.
    let (_, entries) = app
        .get_json(&format!("/v1/audit?planId={id}"), Role::Admin)
        .await;
    let entry = entries["entries"]
        .as_array()
        .and_then(|e| {
            e.iter()
                .find(|e| e["action"] == "getCarePlanChanges" && e["detail"]["since"] == 3)
                .cloned()
        })
        .unwrap_or_else(|| panic!("the changes read is logged: {entries}"));
    let (_, shown) = app
        .get_json(
            &format!(
                "/v1/audit/{}/shown",
                entry["entryId"].as_str().unwrap_or_default()
            ),
            Role::Admin,
        )
        .await;
    assert_eq!(shown, changes);

    // Bad ranges, roles, other people.
    for query in [
        "?since=-1",
        "?since=99",
        "?since=5&until=4",
        "?since=3&until=99",
    ] {
        let res = app
            .req(
                Method::GET,
                &path(&format!("/changes{query}")),
                Role::Clinician,
            )
            .send()
            .await
            .unwrap();
        problem(res, 422).await;
    }
    for query in ["", "?since=x", "?since=1&nope=2"] {
        let res = app
            .req(
                Method::GET,
                &path(&format!("/changes{query}")),
                Role::Clinician,
            )
            .send()
            .await
            .unwrap();
        problem(res, 400).await;
    }
    let res = app
        .req(Method::GET, &path("/changes?since=0"), Role::Dispatch)
        .send()
        .await
        .unwrap();
    problem(res, 403).await;
    let res = app
        .client
        .get(app.url(&path("/changes?since=0")))
        .bearer_auth(token_with(Role::Patient, Some(&nhs(961))))
        .send()
        .await
        .unwrap();
    problem(res, 404).await;
}

#[tokio::test]
async fn unchanged_reads_answer_304_and_are_still_audited() {
    let app = TestApp::spawn().await;
    let number = nhs(970);
    let plan = app.create_plan(&plan_body(&number)).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    let get = |path: String, tag: Option<String>| {
        let app = &app;
        async move {
            let mut req = app.req(Method::GET, &path, Role::Ambulance);
            if let Some(tag) = tag {
                req = req.header("If-None-Match", tag);
            }
            req.send().await.unwrap()
        }
    };
    let summary_path = format!("/v1/patients/{number}/emergency-summary");
    for path in [
        format!("/v1/care-plans/{id}"),
        format!("/v1/care-plans/{id}/sections/emergency-treatment-plan"),
        summary_path.clone(),
    ] {
        let first = get(path.clone(), None).await;
        assert_eq!(first.status().as_u16(), 200);
        let tag = first.headers()["etag"]
            .to_str()
            .unwrap_or_default()
            .to_owned();
        let again = get(path.clone(), Some(tag.clone())).await;
        assert_eq!(again.status().as_u16(), 304, "{path}");
        assert_eq!(again.headers()["etag"], tag.as_str());
        assert!(again.bytes().await.map(|b| b.is_empty()).unwrap_or(false));
        let other = get(path.clone(), Some("\"plan.1\", \"x.9\"".into())).await;
        assert_eq!(other.status().as_u16(), 200, "{path}");
    }
    // The summary's tag moves when anything in the summary does.
    let first = get(summary_path.clone(), None).await;
    let tag = first.headers()["etag"]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    let res = app
        .put_section(
            &id,
            "communication-and-accessibility",
            "\"plan.3\"",
            &json!({ "hazards": ["Oxygen in use"] }),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let after = get(summary_path.clone(), Some(tag.clone())).await;
    assert_eq!(after.status().as_u16(), 200, "a new hazard is a change");
    assert_ne!(after.headers()["etag"], tag.as_str());

    // Every 304 is an access: the person still sees who looked.
    let rows = app
        .test_db
        .owner_client()
        .await
        .query(
            "SELECT action FROM access_log WHERE status = 304 ORDER BY at",
            &[],
        )
        .await
        .unwrap();
    let actions: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(
        actions,
        [
            "getCarePlan",
            "getSectionEmergencyTreatmentPlan",
            "getEmergencySummary"
        ]
    );
    let (_, mine) = {
        let res = app
            .client
            .get(app.url("/v1/me/access-log"))
            .bearer_auth(token_with(Role::Patient, Some(&number)))
            .send()
            .await
            .unwrap();
        (res.status(), res.json::<Value>().await.unwrap_or_default())
    };
    let statuses: Vec<i64> = mine["entries"]
        .as_array()
        .map(|e| e.iter().filter_map(|e| e["status"].as_i64()).collect())
        .unwrap_or_default();
    assert_eq!(statuses.iter().filter(|s| **s == 304).count(), 3);

    // The feed's change carries the version it produced.
    let (changes, _) = crate::helpers::all_changes(&app.address, &app.client, 4).await;
    let versions: Vec<i64> = changes
        .iter()
        .filter_map(|c| c["planVersion"].as_i64())
        .collect();
    assert_eq!(versions, [1, 2, 3, 4]);
}

/// A decision a review said is no longer valid heads the worklist whatever its due date, and
/// every row says the decision's standing and whether a senior countersignature is awaited.
#[tokio::test]
async fn the_worklist_puts_decisions_said_to_be_no_longer_valid_first_and_says_each_standing() {
    let app = TestApp::spawn().await;
    app.create_plan(&plan_for(
        &nhs(960),
        "F84001",
        "2025-01-01T09:00:00Z",
        "2025-06-01",
    ))
    .await;
    let wanting = app
        .create_plan(&plan_for(
            &nhs(961),
            "F84001",
            "2026-11-01T09:00:00Z",
            "2099-01-01",
        ))
        .await;
    let mut junior = plan_for(&nhs(962), "F84001", "2026-11-01T09:00:00Z", "2098-01-01");
    junior["emergencyTreatmentPlan"]["signatures"][0]["seniorResponsible"] = json!(false);
    app.create_plan(&junior).await;
    // A review says the second plan is no longer valid, due far in the future.
    let id = wanting["id"].as_str().unwrap_or_default();
    let res = app
        .write(
            Role::Clinician,
            Method::POST,
            &format!("/v1/care-plans/{id}/review"),
            wanting["etag"].as_str().unwrap_or_default(),
            &json!({ "nextReviewDate": "2099-06-01", "stillValid": false, "note": "Family now want full escalation." }),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let (status, page) = app.get_json("/v1/worklists/reviews", Role::Clinician).await;
    assert_eq!(status, 200);
    let rows: Vec<(String, String, bool)> = page["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| {
            (
                i["nhsNumber"].as_str().unwrap_or_default().to_owned(),
                i["cprStanding"].as_str().unwrap_or_default().to_owned(),
                i["awaitingCountersignature"].as_bool().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (nhs(961), "said-no-longer-valid".to_owned(), false),
            (nhs(960), "review-overdue".to_owned(), false),
            (nhs(962), "awaiting-countersignature".to_owned(), true),
        ],
        "{page}"
    );
    // Needing review now, it is listed when only what is overdue is asked for.
    let (_, overdue) = app
        .get_json("/v1/worklists/reviews?overdue=true", Role::Clinician)
        .await;
    let overdue: Vec<&str> = overdue["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["nhsNumber"].as_str())
        .collect();
    assert_eq!(overdue, [nhs(961), nhs(960)]);
    // Paging keeps that order across the priorities.
    let (_, first) = app
        .get_json("/v1/worklists/reviews?limit=1", Role::Clinician)
        .await;
    let next = first["next"].as_str().unwrap_or_default().to_owned();
    let (_, rest) = app
        .get_json(
            &format!("/v1/worklists/reviews?limit=5&after={next}"),
            Role::Clinician,
        )
        .await;
    let rest: Vec<&str> = rest["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["nhsNumber"].as_str())
        .collect();
    assert_eq!(rest, [nhs(960), nhs(962)]);
}
