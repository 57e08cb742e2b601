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

/// The stored summary and the search index as the database holds them (not as served).
async fn stored_rows(
    app: &TestApp,
    id: &str,
) -> (i64, i64, String, chrono::DateTime<chrono::Utc>, String) {
    let plan_id: uuid::Uuid = id.parse().unwrap();
    let owner = app.test_db.owner_client().await;
    let s = owner
        .query_one(
            "SELECT (summary->>'planVersion')::bigint, version, summary::text, \
               plan_updated_at FROM emergency_summary WHERE plan_id = $1",
            &[&plan_id],
        )
        .await
        .unwrap();
    let p = owner
        .query_one(
            "SELECT xmin::text FROM patient_index WHERE plan_id = $1",
            &[&plan_id],
        )
        .await
        .unwrap();
    (s.get(0), s.get(1), s.get(2), s.get(3), p.get(0))
}

/// A change writes the read-model rows it reached, and no other: a section the summary does
/// not show leaves the stored summary's text as it was, and moves only its row's version and
/// time of change on, which every reader is given. The served summary, `ucp check` and a
/// rebuild all agree with the log.
#[tokio::test]
async fn a_change_writes_only_the_read_model_rows_it_reached() {
    let app = TestApp::spawn().await;
    let number = nhs(904);
    let plan = app.create_plan(&plan_body(&number)).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    let (stored_version, row_version, text, _, _) = stored_rows(&app, &id).await;
    assert_eq!(stored_version, row_version);

    // Support needs are not on the summary.
    let res = app
        .put_section(
            &id,
            "support-needs",
            "\"support-needs.0\"",
            &json!({ "needs": [{ "need": "Help to wash", "providedBy": "Carers" }] }),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let (_, plan_now) = app
        .get_json(&format!("/v1/care-plans/{id}"), Role::Clinician)
        .await;
    let version = plan_now["version"].as_i64().unwrap_or_default();
    assert_eq!(version, row_version + 1);
    let (stored_after, row_after, text_after, changed_at, _) = stored_rows(&app, &id).await;
    assert_eq!(text_after, text, "the summary's text was rewritten");
    assert_eq!((stored_after, row_after), (stored_version, version));
    let updated: chrono::DateTime<chrono::Utc> = plan_now["updatedAt"]
        .as_str()
        .unwrap_or_default()
        .parse()
        .unwrap();
    assert_eq!(
        changed_at, updated,
        "the row's time of change is the plan's"
    );

    // Every reader gets the plan's version and time of change, not the stored ones.
    let served = app.summary(&number, Role::Ambulance).await;
    assert_eq!(served["planVersion"], version, "{served}");
    assert_eq!(
        served["planLastChangedAt"], plan_now["updatedAt"],
        "{served}"
    );
    let (checked, mismatches) = app.db.check_care_plan_projections().await.unwrap();
    assert!(checked >= 1 && mismatches.is_empty(), "{mismatches:?}");

    // What matters is on the summary: the text is written again, at the new version.
    let (.., xmin_before) = stored_rows(&app, &id).await;
    let tag = plan_now["sections"]["what-matters"]["etag"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let res = app
        .put_section(
            &id,
            "what-matters",
            &tag,
            &json!({ "inTheirOwnWords": "My dog, Rex." }),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let (stored_now, row_now, text_now, _, xmin_now) = stored_rows(&app, &id).await;
    assert_ne!(text_now, text);
    assert_eq!((stored_now, row_now), (version + 1, version + 1));
    // The search index's row moved on (its time of change) in the same transaction.
    assert_ne!(xmin_now, xmin_before);

    let served = app.summary(&number, Role::Ambulance).await;
    app.rebuild().await;
    assert_eq!(app.summary(&number, Role::Ambulance).await, served);
    let (_, mismatches) = app.db.check_care_plan_projections().await.unwrap();
    assert!(mismatches.is_empty(), "{mismatches:?}");

    // A row that is not there (lost, deleted by hand) is written whole by the next change,
    // even one that does not reach it.
    let owner = app.test_db.owner_client().await;
    let plan_id: uuid::Uuid = id.parse().unwrap();
    for table in ["emergency_summary", "patient_index"] {
        owner
            .execute(
                &format!("DELETE FROM {table} WHERE plan_id = $1"),
                &[&plan_id],
            )
            .await
            .unwrap();
    }
    let (_, plan_now) = app
        .get_json(&format!("/v1/care-plans/{id}"), Role::Clinician)
        .await;
    let tag = plan_now["sections"]["support-needs"]["etag"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let res = app
        .put_section(
            &id,
            "support-needs",
            &tag,
            &json!({ "needs": [{ "need": "A hoist", "providedBy": "District nurses" }] }),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let (_, mismatches) = app.db.check_care_plan_projections().await.unwrap();
    assert!(mismatches.is_empty(), "{mismatches:?}");
    assert_eq!(
        app.summary(&number, Role::Ambulance).await["planVersion"],
        version + 2
    );
}

/// The summary a reader gets after a change that did not reach it is the one a rebuild from
/// the log gives, byte for byte in what it says.
#[tokio::test]
async fn a_summary_left_alone_reads_as_a_rebuilt_one() {
    let app = TestApp::spawn().await;
    let number = nhs(906);
    let plan = app.create_plan(&plan_body(&number)).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    let res = app
        .put_section(
            &id,
            "support-needs",
            "\"support-needs.0\"",
            &json!({ "needs": [{ "need": "A hoist", "providedBy": "District nurses" }] }),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let live = app.summary(&number, Role::Ambulance).await;
    let (_, feed_live) = app
        .get_json("/v1/feed/snapshot?limit=100", Role::Dispatch)
        .await;
    app.rebuild().await;
    assert_eq!(app.summary(&number, Role::Ambulance).await, live);
    let (_, feed_rebuilt) = app
        .get_json("/v1/feed/snapshot?limit=100", Role::Dispatch)
        .await;
    // (The cursor is not compared: it waits for older transactions anywhere in the cluster.)
    assert_eq!(feed_live["summaries"], feed_rebuilt["summaries"]);
    assert_eq!(
        feed_live["summaries"][0]["summary"]["planVersion"],
        live["planVersion"]
    );
}
