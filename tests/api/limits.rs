//! Limits a request meets in the database: a statement that cannot finish in time is cancelled
//! and answered 503 with `Retry-After`, having written nothing, and the same request succeeds
//! once the obstacle is gone.

use std::time::Duration;

use serde_json::json;
use ucp_api::Role;

use crate::helpers::{entries_for, nhs, plan_body, problem, request_id, TestApp};

#[tokio::test]
async fn a_statement_past_the_timeout_is_a_503_with_retry_after_and_writes_nothing() {
    let app = TestApp::builder()
        .database(|c| {
            c.statement_timeout = Some(Duration::from_millis(300));
        })
        .spawn()
        .await;
    let plan = app.create_plan(&plan_body(&nhs(611))).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    let if_match = plan["sections"]["what-matters"]["etag"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let body = json!({ "inTheirOwnWords": "Being at home with the dog." });

    // Another session holds the plan's stream lock, as a stuck writer would.
    let mut owner = app.test_db.owner_client().await;
    let holder = owner.transaction().await.unwrap();
    holder
        .execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
            &[&format!("stream:{id}")],
        )
        .await
        .unwrap();
    let before = app.event_count().await;
    let started = std::time::Instant::now();
    let res = tokio::time::timeout(
        Duration::from_secs(20),
        app.put_section(&id, "what-matters", &if_match, &body),
    )
    .await
    .unwrap_or_else(|_| panic!("the write hung behind the lock instead of timing out"));
    let waited = started.elapsed();
    assert_eq!(
        res.headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("5")
    );
    let p = problem(res, 503).await;
    assert_eq!(p["code"], "service_unavailable", "{p}");
    assert!(
        p["detail"].as_str().unwrap_or_default().contains("in time"),
        "{p}"
    );
    assert!(
        waited < Duration::from_secs(10),
        "cut off by the timeout: {waited:?}"
    );
    assert_eq!(app.event_count().await, before, "nothing was written");

    holder.rollback().await.unwrap();
    let res = app.put_section(&id, "what-matters", &if_match, &body).await;
    assert_eq!(
        res.status().as_u16(),
        200,
        "the same request succeeds once the lock is gone"
    );
    assert_eq!(app.event_count().await, before + 1);
    let (_, read) = app
        .get_json(&format!("/v1/care-plans/{id}"), Role::Ambulance)
        .await;
    assert_eq!(
        read["sections"]["what-matters"]["content"]["inTheirOwnWords"],
        "Being at home with the dog."
    );
}

#[tokio::test]
async fn a_subject_past_its_budget_gets_429_with_retry_after_and_others_are_served() {
    let app = TestApp::spawn_tuned(|c| c.rate_limit_per_minute = 5).await;
    let plan = app.create_plan(&plan_body(&nhs(612))).await;
    let path = format!("/v1/care-plans/{}", plan["id"].as_str().unwrap_or_default());
    // The create spent one of the clinician's five.
    for n in 0..4 {
        let (status, _) = app.get_json(&path, Role::Clinician).await;
        assert_eq!(status, 200, "request {n} is within the budget");
    }
    let res = app
        .req(reqwest::Method::GET, &path, Role::Clinician)
        .send()
        .await
        .unwrap();
    let retry_after: u64 = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or_default();
    assert!(
        (1..=12).contains(&retry_after),
        "one request refills in 12 s: {retry_after}"
    );
    let request_id = request_id(&res);
    let p = problem(res, 429).await;
    assert_eq!(p["code"], "rate_limited", "{p}");
    // Refused, but accounted for: the access log says who was turned away.
    let rows = entries_for(&app, &request_id).await;
    assert_eq!(rows.len(), 1, "one entry for the refused request");
    assert_eq!(rows[0].get::<_, i16>("status"), 429);
    assert_eq!(rows[0].get::<_, String>("actor"), "clinician-test");
    let (status, _) = app.get_json(&path, Role::Ambulance).await;
    assert_eq!(status, 200, "another subject has its own budget");
}
