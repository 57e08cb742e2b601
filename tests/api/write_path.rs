//! The cost of a write: it reads the plan's stream once (to decide), and the inline projection
//! works from that state instead of reading the stream again.

use reqwest::Method;
use serde_json::json;
use ucp_api::Role;

use crate::helpers::{nhs, plan_body, TestApp};

#[tokio::test]
async fn a_write_reads_the_stream_once() {
    let app = TestApp::spawn().await;
    let plan = app.create_plan(&plan_body(&nhs(900))).await;
    let id = plan["id"].as_str().unwrap_or_default();
    for (method, path, tag, body) in [
        (
            Method::PUT,
            format!("/v1/care-plans/{id}/sections/what-matters"),
            "\"what-matters.2\"",
            json!({ "inTheirOwnWords": "My garden." }),
        ),
        (
            Method::POST,
            format!("/v1/care-plans/{id}/review"),
            "\"plan.4\"",
            json!({ "nextReviewDate": "2099-01-01" }),
        ),
        (
            Method::DELETE,
            format!("/v1/care-plans/{id}/sections/what-matters"),
            "\"what-matters.4\"",
            json!({ "reason": "Entered in error" }),
        ),
    ] {
        let before = app.db.stream_reads();
        let res = app
            .write(Role::Clinician, method.clone(), &path, tag, &body)
            .await;
        assert_eq!(res.status().as_u16(), 200, "{method} {path}");
        assert_eq!(
            app.db.stream_reads() - before,
            1,
            "{method} {path} read the stream once"
        );
    }
    // And the read models are right: what the projection wrote from the handed-over state
    // equals a rebuild from the log.
    let live: serde_json::Value = app
        .req(
            Method::GET,
            &format!("/v1/care-plans/{id}"),
            Role::Clinician,
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    app.db
        .rebuild_care_plan_projections()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let rebuilt: serde_json::Value = app
        .req(
            Method::GET,
            &format!("/v1/care-plans/{id}"),
            Role::Clinician,
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(live, rebuilt);
}
