//! The access log: one durable entry per plan-touching request, group commit, and replay of
//! exactly what was shown.

use reqwest::Method;
use serde_json::{json, Value};
use ucp_api::Role;

use crate::helpers::{entries_for, nhs, plan_body, problem, request_id, token_with, TestApp};

#[tokio::test]
async fn every_plan_touching_request_writes_exactly_one_durable_entry() {
    let app = TestApp::spawn().await;
    let n = nhs(200);
    let plan = app.create_plan(&plan_body(&n)).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    let cases: Vec<(Method, String, Option<Role>, u16, &str)> = vec![
        (
            Method::GET,
            format!("/v1/care-plans/{id}"),
            Some(Role::Ambulance),
            200,
            "getCarePlan",
        ),
        (
            Method::GET,
            format!("/v1/care-plans/{id}?version=1"),
            Some(Role::Clinician),
            200,
            "getCarePlan",
        ),
        (
            Method::GET,
            format!("/v1/care-plans/{id}/sections/what-matters"),
            Some(Role::Ooh),
            200,
            "getSectionWhatMatters",
        ),
        (
            Method::GET,
            format!("/v1/care-plans/{id}/history"),
            Some(Role::Nhs111),
            200,
            "getCarePlanHistory",
        ),
        (
            Method::GET,
            format!("/v1/patients/{n}/emergency-summary"),
            Some(Role::Dispatch),
            200,
            "getEmergencySummary",
        ),
        (
            Method::GET,
            format!("/v1/patients/{n}/care-plan"),
            Some(Role::Clinician),
            200,
            "getPersonCarePlan",
        ),
        (
            Method::GET,
            "/v1/patients?family=nowak&birthDate=1941-02-03".into(),
            Some(Role::Ambulance),
            200,
            "searchPatients",
        ),
        (
            Method::GET,
            format!("/v1/care-plans/{id}"),
            None,
            401,
            "getCarePlan",
        ),
        (
            Method::GET,
            format!("/v1/care-plans/{id}"),
            Some(Role::Dispatch),
            403,
            "getCarePlan",
        ),
        (
            Method::GET,
            format!("/v1/care-plans/{id}"),
            Some(Role::Patient),
            404,
            "getCarePlan",
        ),
        (
            Method::GET,
            "/v1/care-plans/not-a-uuid".into(),
            Some(Role::Clinician),
            400,
            "getCarePlan",
        ),
        (
            Method::PUT,
            format!("/v1/care-plans/{id}/sections/what-matters"),
            Some(Role::Clinician),
            428,
            "putSectionWhatMatters",
        ),
        (
            Method::POST,
            format!("/v1/care-plans/{id}/withdraw"),
            Some(Role::Ambulance),
            403,
            "withdrawCarePlan",
        ),
        (
            Method::GET,
            "/v1/me/care-plan".into(),
            Some(Role::Patient),
            404,
            "getMyCarePlan",
        ),
    ];
    for (method, path, role, status, action) in cases {
        let mut req = app
            .client
            .request(method.clone(), app.url(&path))
            .header("X-Purpose-Of-Use", "emergency");
        if let Some(role) = role {
            req = req.bearer_auth(token_with(
                role,
                (role == Role::Patient).then_some("9434765919"),
            ));
        }
        if method != Method::GET {
            req = req.json(&json!({ "inTheirOwnWords": "x" }));
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status().as_u16(), status, "{method} {path}");
        // Durable when the response arrives: read it at once, from another connection.
        let rows = entries_for(&app, &request_id(&res)).await;
        assert_eq!(rows.len(), 1, "{method} {path}: exactly one entry");
        let row = &rows[0];
        assert_eq!(
            row.get::<_, i16>("status"),
            i16::try_from(status).unwrap_or_default()
        );
        assert_eq!(row.get::<_, String>("action"), action, "{method} {path}");
        assert_eq!(
            row.get::<_, Option<String>>("purpose").as_deref(),
            Some("emergency")
        );
        let expected_role = role.map_or("none", Role::as_str);
        assert_eq!(row.get::<_, String>("role"), expected_role);
        if status == 200 && !path.starts_with("/v1/patients?") {
            assert_eq!(
                row.get::<_, Option<String>>("nhs_number").as_deref(),
                Some(n.as_str()),
                "{path}"
            );
            assert!(
                row.get::<_, Option<i64>>("plan_version").is_some(),
                "{path}"
            );
        }
    }
    // Requests that touch no plan data leave no entry.
    let health = app.get("/healthz").await;
    assert!(entries_for(&app, &request_id(&health)).await.is_empty());
}

#[tokio::test]
async fn replay_shows_exactly_what_an_entry_served_after_later_changes() {
    let app = TestApp::spawn().await;
    let n = nhs(201);
    let plan = app.create_plan(&plan_body(&n)).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    let mut served = Vec::new();
    for (role, path) in [
        (
            Role::Ambulance,
            format!("/v1/patients/{n}/emergency-summary"),
        ),
        (Role::Clinician, format!("/v1/care-plans/{id}")),
        (
            Role::Ooh,
            format!("/v1/care-plans/{id}/sections/emergency-treatment-plan"),
        ),
        (Role::Nhs111, format!("/v1/care-plans/{id}/history")),
        (
            Role::Ambulance,
            "/v1/patients?family=nowak&postcode=SE1%207EH".to_owned(),
        ),
    ] {
        let res = app.req(Method::GET, &path, role).send().await.unwrap();
        let rid = request_id(&res);
        let body: Value = res.json().await.unwrap();
        served.push((rid, body, path));
    }
    // The plan changes twice: a new CPR decision, then a withdrawal.
    let mut etp = crate::helpers::etp();
    etp["cprRecommendation"] = json!("attempts-recommended");
    let put = app
        .req(
            Method::PUT,
            &format!("/v1/care-plans/{id}/sections/emergency-treatment-plan"),
            Role::Clinician,
        )
        .header("If-Match", "\"plan.3\"")
        .json(&etp)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status().as_u16(), 200);
    let withdraw = app
        .req(
            Method::POST,
            &format!("/v1/care-plans/{id}/withdraw"),
            Role::Clinician,
        )
        .header("If-Match", "\"plan.4\"")
        .json(&json!({ "reason": "No longer wanted" }))
        .send()
        .await
        .unwrap();
    assert_eq!(withdraw.status().as_u16(), 200);

    let admin = token_with(Role::Admin, None);
    for (rid, body, path) in served {
        let page: Value = app
            .client
            .get(app.url("/v1/audit"))
            .query(&[("nhsNumber", n.as_str())])
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let entry_id = app
            .test_db
            .owner_client()
            .await
            .query_one(
                "SELECT entry_id::text FROM access_log WHERE request_id = $1",
                &[&rid],
            )
            .await
            .unwrap()
            .get::<_, String>(0);
        assert!(page["entries"].as_array().is_some_and(|e| !e.is_empty()));
        let shown: Value = app
            .client
            .get(app.url(&format!("/v1/audit/{entry_id}/shown")))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(shown, body, "replay of {path}");
    }
    // The summary replay is the old one: CPR not recommended, active.
    let latest = app
        .req(
            Method::GET,
            &format!("/v1/care-plans/{id}"),
            Role::Clinician,
        )
        .send()
        .await
        .unwrap();
    let latest: Value = latest.json().await.unwrap();
    assert_eq!(latest["status"], "withdrawn");
}

#[tokio::test]
async fn if_the_access_log_cannot_be_written_every_request_in_the_batch_gets_503_and_no_data() {
    let app = TestApp::spawn().await;
    let n = nhs(202);
    let plan = app.create_plan(&plan_body(&n)).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    let owner = app.test_db.owner_client().await;
    owner
        .batch_execute("REVOKE INSERT ON access_log FROM ucp_app")
        .await
        .unwrap();
    let responses = futures::future::join_all((0..20).map(|_| {
        app.req(
            Method::GET,
            &format!("/v1/care-plans/{id}"),
            Role::Ambulance,
        )
        .send()
    }))
    .await;
    for res in responses {
        let body = problem(res.unwrap(), 503).await;
        assert_eq!(body["code"], "audit_unavailable");
        let text = body.to_string();
        assert!(
            !text.contains(&n) && !text.contains("Nowak") && !text.contains(&id),
            "no plan data leaks: {text}"
        );
    }
    owner
        .batch_execute("GRANT INSERT ON access_log TO ucp_app")
        .await
        .unwrap();

    // Restored: concurrent requests succeed and share commits.
    let before: i64 = owner
        .query_one("SELECT count(*) FROM access_log", &[])
        .await
        .unwrap()
        .get(0);
    let responses = futures::future::join_all((0..40).map(|_| {
        app.req(
            Method::GET,
            &format!("/v1/patients/{n}/emergency-summary"),
            Role::Dispatch,
        )
        .send()
    }))
    .await;
    for res in responses {
        assert_eq!(res.unwrap().status().as_u16(), 200);
    }
    let row = owner
        .query_one(
            "SELECT count(*), count(DISTINCT transaction_id) FROM access_log WHERE action = 'getEmergencySummary'",
            &[],
        )
        .await
        .unwrap();
    let (entries, commits): (i64, i64) = (row.get(0), row.get(1));
    assert_eq!(entries, 40);
    assert_eq!(
        before, 1,
        "the create's entry; the 20 reads refused for want of the log showed nothing"
    );
    assert!(
        commits < entries,
        "40 concurrent requests were committed in {commits} commits"
    );
    // The log itself refuses to be rewritten.
    assert!(owner.batch_execute("DELETE FROM access_log").await.is_err());
    assert!(owner
        .batch_execute("UPDATE access_log SET status = 200")
        .await
        .is_err());
}

#[tokio::test]
async fn the_admin_pages_through_the_log_newest_first_and_no_one_else_may() {
    let app = TestApp::spawn().await;
    let n = nhs(203);
    app.create_plan(&plan_body(&n)).await;
    for _ in 0..5 {
        app.req(
            Method::GET,
            &format!("/v1/patients/{n}/emergency-summary"),
            Role::Ambulance,
        )
        .send()
        .await
        .unwrap();
    }
    let admin = token_with(Role::Admin, None);
    let page = |before: Option<String>| {
        let mut q = vec![("nhsNumber", n.clone()), ("limit", "4".to_owned())];
        if let Some(b) = before {
            q.push(("before", b));
        }
        app.client
            .get(app.url("/v1/audit"))
            .query(&q)
            .bearer_auth(&admin)
            .send()
    };
    let first: Value = page(None).await.unwrap().json().await.unwrap();
    let second: Value = page(first["next"].as_str().map(str::to_owned))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let all: Vec<&Value> = first["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(second["entries"].as_array().into_iter().flatten())
        .collect();
    assert_eq!(all.len(), 6, "the create and five reads");
    for w in all.windows(2) {
        assert!(w[0]["at"].as_str() >= w[1]["at"].as_str(), "newest first");
    }
    assert_eq!(all[5]["action"], "createCarePlan");
    let by_actor: Value = app
        .client
        .get(app.url("/v1/audit"))
        .query(&[("actor", "ambulance-test")])
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(by_actor["entries"].as_array().map(Vec::len), Some(5));
    for role in [
        Role::Clinician,
        Role::Ambulance,
        Role::Dispatch,
        Role::Patient,
    ] {
        let res = app
            .client
            .get(app.url("/v1/audit"))
            .bearer_auth(token_with(role, Some(&n)))
            .send()
            .await
            .unwrap();
        problem(res, 403).await;
    }
    let bad = app
        .client
        .get(app.url("/v1/audit?before=nonsense"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(problem(bad, 400).await["code"], "bad_cursor");
    let none = app
        .client
        .get(app.url(&format!("/v1/audit/{}/shown", uuid::Uuid::new_v4())))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    problem(none, 404).await;
}

/// Checks the response's request left exactly one entry, for this action and status.
async fn assert_one_entry(app: &TestApp, res: reqwest::Response, status: u16, action: &str) {
    assert_eq!(res.status().as_u16(), status, "{action}");
    let rows = entries_for(app, &request_id(&res)).await;
    assert_eq!(rows.len(), 1, "{action}: exactly one entry");
    assert_eq!(rows[0].get::<_, String>("action"), action);
    assert_eq!(
        rows[0].get::<_, i16>("status"),
        i16::try_from(status).unwrap_or_default()
    );
}

#[tokio::test]
async fn writes_the_persons_own_endpoints_and_the_feed_are_audited_too() {
    let app = TestApp::spawn().await;
    let n = nhs(210);
    let res = app
        .req(Method::POST, "/v1/care-plans", Role::Clinician)
        .json(&plan_body(&n))
        .send()
        .await
        .unwrap();
    let rid = request_id(&res);
    let plan: Value = {
        assert_eq!(res.status().as_u16(), 201);
        res.json().await.unwrap()
    };
    let rows = entries_for(&app, &rid).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<_, String>("action"), "createCarePlan");
    assert_eq!(
        rows[0].get::<_, Option<String>>("nhs_number").as_deref(),
        Some(n.as_str())
    );
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    let put = app
        .req(
            Method::PUT,
            &format!("/v1/care-plans/{id}/sections/what-matters"),
            Role::Clinician,
        )
        .header("If-Match", "\"what-matters.2\"")
        .json(&json!({ "inTheirOwnWords": "Music" }))
        .send()
        .await
        .unwrap();
    assert_one_entry(&app, put, 200, "putSectionWhatMatters").await;
    let review = app
        .req(
            Method::POST,
            &format!("/v1/care-plans/{id}/review"),
            Role::Clinician,
        )
        .header("If-Match", "\"plan.4\"")
        .json(&json!({ "nextReviewDate": "2099-01-01" }))
        .send()
        .await
        .unwrap();
    assert_one_entry(&app, review, 200, "reviewCarePlan").await;
    let stale = app
        .req(
            Method::POST,
            &format!("/v1/care-plans/{id}/person-died"),
            Role::Clinician,
        )
        .header("If-Match", "\"plan.1\"")
        .json(&json!({ "dateOfDeath": "2026-11-01" }))
        .send()
        .await
        .unwrap();
    assert_one_entry(&app, stale, 412, "recordDeath").await;
    let delete = app
        .req(
            Method::DELETE,
            &format!("/v1/care-plans/{id}"),
            Role::Clinician,
        )
        .header("If-Match", "\"plan.5\"")
        .send()
        .await
        .unwrap();
    assert_one_entry(&app, delete, 405, "unknown").await;
    let withdraw = app
        .req(
            Method::POST,
            &format!("/v1/care-plans/{id}/withdraw"),
            Role::Clinician,
        )
        .header("If-Match", "\"plan.5\"")
        .json(&json!({ "reason": "No longer wanted" }))
        .send()
        .await
        .unwrap();
    assert_one_entry(&app, withdraw, 200, "withdrawCarePlan").await;
    let void = app
        .req(
            Method::POST,
            &format!("/v1/care-plans/{id}/void"),
            Role::Clinician,
        )
        .header("If-Match", "\"plan.6\"")
        .json(&json!({ "reason": "x" }))
        .send()
        .await
        .unwrap();
    assert_one_entry(&app, void, 200, "voidCarePlan").await;
    let again = app
        .req(
            Method::POST,
            &format!("/v1/care-plans/{id}/void"),
            Role::Clinician,
        )
        .header("If-Match", "\"plan.7\"")
        .json(&json!({ "reason": "x" }))
        .send()
        .await
        .unwrap();
    assert_one_entry(&app, again, 409, "voidCarePlan").await;

    let mine = nhs(211);
    let me = token_with(Role::Patient, Some(&mine));
    let start = app
        .client
        .post(app.url("/v1/me/care-plan"))
        .bearer_auth(&me)
        .json(&json!({ "personalInformation": crate::helpers::personal_information(&mine) }))
        .send()
        .await
        .unwrap();
    assert_one_entry(&app, start, 201, "startMyCarePlan").await;
    let read = app
        .client
        .get(app.url("/v1/me/care-plan"))
        .bearer_auth(&me)
        .send()
        .await
        .unwrap();
    assert_one_entry(&app, read, 200, "getMyCarePlan").await;
    let form = app
        .client
        .put(app.url("/v1/me/care-plan/sections/what-matters"))
        .bearer_auth(&me)
        .header("If-Match", "\"what-matters.0\"")
        .json(&json!({ "inTheirOwnWords": "Tea" }))
        .send()
        .await
        .unwrap();
    assert_one_entry(&app, form, 200, "putMySectionWhatMatters").await;
    let log = app
        .client
        .get(app.url("/v1/me/access-log"))
        .bearer_auth(&me)
        .send()
        .await
        .unwrap();
    assert_one_entry(&app, log, 200, "getMyAccessLog").await;
    let feed = app
        .req(Method::GET, "/v1/feed?limit=5", Role::Dispatch)
        .send()
        .await
        .unwrap();
    assert_one_entry(&app, feed, 200, "readFeed").await;
    let refused = app
        .req(Method::GET, "/v1/feed", Role::Clinician)
        .send()
        .await
        .unwrap();
    assert_one_entry(&app, refused, 403, "readFeed").await;
}

/// A write's entry commits in the write's own transaction: the entry and the events share one
/// transaction id, and when the log cannot be written the write is refused whole (503) and
/// nothing of it is in the log of events.
#[tokio::test]
async fn a_writes_entry_commits_with_its_events_or_neither_does() {
    let app = TestApp::spawn().await;
    let n = nhs(203);
    let plan = app.create_plan(&plan_body(&n)).await;
    let id = plan["id"].as_str().unwrap().to_owned();
    let owner = app.test_db.owner_client().await;
    let same: bool = owner
        .query_one(
            "SELECT coalesce((SELECT transaction_id FROM access_log \
                     WHERE action = 'createCarePlan' AND plan_id = $1::text::uuid) \
                  = (SELECT transaction_id FROM events \
                     WHERE stream_id = $1::text::uuid AND stream_version = 1), false)",
            &[&id],
        )
        .await
        .unwrap()
        .get(0);
    assert!(
        same,
        "the create's entry and its events share a transaction"
    );
    type Entry = (i16, Option<i64>, Option<String>, Option<String>);
    let entries: Vec<Entry> = owner
        .query(
            "SELECT status, plan_version, view, nhs_number FROM access_log \
             WHERE action = 'createCarePlan' AND plan_id = $1::text::uuid",
            &[&id],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    assert_eq!(
        entries,
        [(
            201,
            plan["version"].as_i64(),
            Some("plan".to_owned()),
            Some(n.clone())
        )],
        "one entry, as the answer was"
    );

    owner
        .batch_execute("REVOKE INSERT ON access_log FROM ucp_app")
        .await
        .unwrap();
    let res = app
        .req(
            Method::PUT,
            &format!("/v1/care-plans/{id}/sections/what-matters"),
            Role::Clinician,
        )
        .header("If-Match", "\"plan.1\"")
        .json(&json!({ "inTheirOwnWords": "Not written." }))
        .send()
        .await
        .unwrap();
    let body = problem(res, 503).await;
    assert_eq!(body["code"], "audit_unavailable");
    owner
        .batch_execute("GRANT INSERT ON access_log TO ucp_app")
        .await
        .unwrap();
    let events: i64 = owner
        .query_one(
            "SELECT count(*) FROM events WHERE stream_id = $1::text::uuid",
            &[&id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        Some(events),
        plan["version"].as_i64(),
        "the refused write wrote nothing"
    );
    // A path written with escapes is the operation the router matched.
    let res = app
        .req(
            Method::PUT,
            &format!("/v1/care-plans/{id}/sections/what%2Dmatters"),
            Role::Clinician,
        )
        .header("If-Match", format!("\"plan.{events}\""))
        .json(&json!({ "inTheirOwnWords": "Written." }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let action: String = owner
        .query_one(
            "SELECT action FROM access_log WHERE plan_id = $1::text::uuid \
             ORDER BY at DESC LIMIT 1",
            &[&id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(action, "putSectionWhatMatters");
}

/// A privacy officer (or Caldicott guardian) looks into accesses: searches the access log and
/// replays what an access showed, saying why, and on the person's log as a privacy officer;
/// reads no plan and administers nothing.
#[tokio::test]
async fn a_privacy_officer_searches_and_replays_and_does_nothing_else() {
    let app = TestApp::spawn().await;
    let n = nhs(210);
    let plan = app.create_plan(&plan_body(&n)).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    let res = app
        .req(
            Method::GET,
            &format!("/v1/care-plans/{id}"),
            Role::Ambulance,
        )
        .header("X-Purpose-Of-Use", "emergency")
        .send()
        .await
        .unwrap();
    let crew_read = request_id(&res);
    let officer = token_with(Role::PrivacyOfficer, None);
    let call = |method: Method, path: String| {
        app.client
            .request(method, app.url(&path))
            .bearer_auth(&officer)
            .header("X-Purpose-Of-Use", "audit")
    };
    let res = call(Method::GET, format!("/v1/audit?nhsNumber={n}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let page: Value = res.json().await.unwrap();
    assert!(
        page["entries"]
            .as_array()
            .is_some_and(|e| e.iter().any(|e| e["role"] == "ambulance")),
        "{page}"
    );
    let entry_id: uuid::Uuid = app
        .test_db
        .owner_client()
        .await
        .query_one(
            "SELECT entry_id FROM access_log WHERE request_id = $1",
            &[&crew_read],
        )
        .await
        .unwrap()
        .get(0);
    let res = call(Method::GET, format!("/v1/audit/{entry_id}/shown"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let shown: Value = res.json().await.unwrap();
    assert_eq!(shown["id"], id.as_str());
    // Nothing else: no plan, no summary, no subscriptions, no feed.
    for path in [
        format!("/v1/care-plans/{id}"),
        format!("/v1/patients/{n}/emergency-summary"),
        "/v1/subscriptions".to_owned(),
        "/v1/feed".to_owned(),
    ] {
        let res = call(Method::GET, path.clone()).send().await.unwrap();
        assert_eq!(problem(res, 403).await["status"], 403, "{path}");
    }
    // The person sees that a privacy officer looked.
    let log: Value = app
        .client
        .get(app.url("/v1/me/access-log"))
        .bearer_auth(token_with(Role::Patient, Some(&n)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        log["entries"].as_array().is_some_and(|e| e.iter().any(|e| {
            e["role"] == "privacy-officer"
                && e["description"]
                    .as_str()
                    .is_some_and(|d| d.starts_with("replayed for audit by"))
        })),
        "{log}"
    );
}
