//! `ucp projections rebuild` while the service goes on: the log is folded into fresh tables
//! beside the live ones, and the writes made meanwhile are caught up when they are swapped in.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use ucp_api::Role;
use ucp_store::projections::rebuild::{rebuild_care_plan_read_models, Rebuild};
use ucp_store::DatabaseTls;

use crate::helpers::{nhs, plan_body, TestApp};

/// A write that must not wait for the rebuild: it answers within 10 s or the test fails.
async fn promptly(req: reqwest::RequestBuilder) -> reqwest::Response {
    tokio::time::timeout(Duration::from_secs(10), req.send())
        .await
        .unwrap_or_else(|_| panic!("a write waited for the rebuild"))
        .unwrap()
}

#[tokio::test]
async fn writes_go_on_while_the_read_models_are_rebuilt_and_none_is_lost() {
    let app = TestApp::spawn().await;
    let mut plans = Vec::new();
    for i in 0..6 {
        plans.push(app.create_plan(&plan_body(&nhs(950 + i))).await);
    }
    let id = |i: usize| plans[i]["id"].as_str().unwrap_or_default().to_owned();

    // The log is folded into fresh tables; the live ones keep serving.
    let loaded = Rebuild::load(&app.test_db.url(), &DatabaseTls::default(), &|_, _| {})
        .await
        .unwrap();
    assert_eq!(loaded.report().plans, 6);

    // A second rebuild meanwhile is refused: they would share the fresh tables.
    let second =
        rebuild_care_plan_read_models(&app.test_db.url(), &DatabaseTls::default(), &|_, _| {})
            .await;
    assert!(
        format!("{second:?}").contains("another projection rebuild"),
        "{second:?}"
    );

    // Meanwhile: a section changes, a plan is withdrawn and its successor for the same person
    // created (one active plan per person must hold in the fresh tables too), a new person's
    // plan is created. None waits.
    let res = promptly(
        app.req(
            Method::PUT,
            &format!("/v1/care-plans/{}/sections/what-matters", id(0)),
            Role::Clinician,
        )
        .header("If-Match", "\"what-matters.2\"")
        .json(&json!({ "inTheirOwnWords": "Written during the rebuild." })),
    )
    .await;
    assert_eq!(res.status().as_u16(), 200);
    let res = promptly(
        app.req(
            Method::POST,
            &format!("/v1/care-plans/{}/withdraw", id(1)),
            Role::Clinician,
        )
        .header("If-Match", "\"plan.3\"")
        .json(&json!({ "reason": "Replaced by a new plan" })),
    )
    .await;
    assert_eq!(res.status().as_u16(), 200);
    let successor = promptly(
        app.req(Method::POST, "/v1/care-plans", Role::Clinician)
            .json(&plan_body(&nhs(951))),
    )
    .await;
    assert_eq!(successor.status().as_u16(), 201);
    let newcomer = promptly(
        app.req(Method::POST, "/v1/care-plans", Role::Clinician)
            .json(&plan_body(&nhs(960))),
    )
    .await;
    assert_eq!(newcomer.status().as_u16(), 201);

    // The swap brings exactly those plans up to date.
    let report = loaded.swap().await.unwrap();
    assert_eq!(report.caught_up, 4, "{report:?}");
    let (checked, mismatches) = app.db.check_care_plan_projections().await.unwrap();
    assert_eq!(checked, 8);
    assert!(mismatches.is_empty(), "{mismatches:?}");

    // The server's own connections read and write the swapped-in tables.
    let (status, plan) = app
        .get_json(&format!("/v1/care-plans/{}", id(0)), Role::Clinician)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        plan["sections"]["what-matters"]["content"]["inTheirOwnWords"],
        "Written during the rebuild."
    );
    let summary = app.summary(&nhs(951), Role::Ambulance).await;
    assert_eq!(summary["status"], "active", "{summary}");
    let (status, found) = app
        .get_json(
            "/v1/patients?family=Nowak&birthDate=1941-02-03",
            Role::Clinician,
        )
        .await;
    assert_eq!(status, 200, "{found}");
    assert!(found.to_string().contains(&nhs(960)), "{found}");
    let res = app
        .put_section(
            &id(2),
            "what-matters",
            "\"what-matters.2\"",
            &json!({ "inTheirOwnWords": "Written after the swap." }),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    // One active plan per person is still enforced on the swapped-in table.
    let twin = app
        .req(Method::POST, "/v1/care-plans", Role::Clinician)
        .json(&plan_body(&nhs(952)))
        .send()
        .await
        .unwrap();
    assert_eq!(twin.status().as_u16(), 409);

    // And a rebuild with nothing written meanwhile catches nothing up.
    let again = app.rebuild().await;
    assert_eq!((again.plans, again.caught_up), (8, 0));
    let (_, mismatches) = app.db.check_care_plan_projections().await.unwrap();
    assert!(mismatches.is_empty(), "{mismatches:?}");
}
