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
        .unwrap()
        .json()
        .await
        .unwrap();
    app.rebuild().await;
    let rebuilt: serde_json::Value = app
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
    assert_eq!(live, rebuilt);
}

/// A server keeps the state its last write left a plan in and reads only newer events on its
/// next write. Another server's write in between must be in what it decides on and in the read
/// models its projection writes: nothing of it may be lost.
#[tokio::test]
async fn a_cached_plan_state_takes_in_another_servers_write() {
    let app = TestApp::spawn().await;
    let plan = app.create_plan(&plan_body(&nhs(902))).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    let plan_id: uuid::Uuid = id.parse().unwrap();
    // This server writes (and caches the plan's state at that version).
    let created = plan["version"].as_i64().unwrap_or_default();
    let tag = plan["sections"]["what-matters"]["etag"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let res = app
        .put_section(
            &id,
            "what-matters",
            &tag,
            &json!({ "inTheirOwnWords": "Tea." }),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let tag = res
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();

    // Another server, with a cache of its own, changes another section.
    let other = ucp_app::AppState::open(&app.test_db.config(2)).unwrap();
    let actor = ucp_app::Actor {
        org: Some("F84001".into()),
        name: Some("Dr Other".into()),
        ..ucp_app::Actor::new("other-server", ucp_app::Role::Clinician)
    };
    let contacts = ucp_domain::PlanSection::Contacts
        .parse_content(json!({ "personal": [{ "name": "Sam Other", "relationship": "son",
            "phone": "07700 900456", "nextOfKin": true, "carer": false,
            "lpaHealthAndWelfare": "no", "lpaPropertyAndFinancial": "no", "contactFirst": true }] }))
        .unwrap();
    let command = ucp_domain::Command::UpdateSection(contacts);
    ucp_app::commands::execute(
        &other.db,
        ucp_app::commands::Order {
            plan_id,
            actor: &actor,
            command: &command,
            precondition: ucp_app::commands::Precondition::Section(
                ucp_domain::PlanSection::Contacts,
                0,
            ),
            idempotency: None,
            request_id: None,
            signing: ucp_domain::signing::SigningPolicy::default_ref(),
        },
    )
    .await
    .unwrap();

    // This server writes again, from its cached state: the other server's contacts stay.
    let res = app
        .put_section(
            &id,
            "what-matters",
            &tag,
            &json!({ "inTheirOwnWords": "Tea and cake." }),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let (_, now) = app
        .get_json(&format!("/v1/care-plans/{id}"), Role::Clinician)
        .await;
    assert_eq!(now["version"], created + 3, "{now}");
    assert_eq!(
        now["sections"]["contacts"]["content"]["personal"][0]["name"], "Sam Other",
        "{now}"
    );
    assert_eq!(
        now["sections"]["what-matters"]["content"]["inTheirOwnWords"],
        "Tea and cake."
    );
    let (checked, mismatches) = app.db.check_care_plan_projections().await.unwrap();
    assert!(checked >= 1 && mismatches.is_empty(), "{mismatches:?}");
}
