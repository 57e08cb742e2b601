//! The dispatch example's flag table, fed by the real feed of a real server, restarted midway:
//! it ends with exactly the flags of the active plans, and refuses forged webhooks.

#[path = "../../examples/dispatch_consumer/flags.rs"]
mod flags;

use reqwest::Method;
use serde_json::{json, Value};
use ucp_api::Role;

use crate::helpers::{nhs, plan_body, TestApp};
use flags::{signature_ok, FlagTable};

async fn page(app: &TestApp, after: &str) -> Value {
    app.req(
        Method::GET,
        &format!("/v1/feed?limit=4&after={after}"),
        Role::Dispatch,
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap()
}

/// Follows the feed as the example does, saving after every page: for `pages` pages, or, with
/// `until`, until the saved cursor reaches it (an empty page may only mean that an older
/// transaction elsewhere in the cluster is still open).
async fn follow(app: &TestApp, path: &std::path::Path, pages: usize, until: Option<&str>) {
    let mut table = FlagTable::load(path).unwrap();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    for _ in 0..pages {
        if until.is_some() && table.cursor.as_deref() == until {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the feed did not reach its tail"
        );
        let p = page(app, table.cursor.as_deref().unwrap_or_default()).await;
        let changes = p["changes"].as_array().cloned().unwrap_or_default();
        for change in &changes {
            table.apply(change);
        }
        table.cursor = p["next"].as_str().map(str::to_owned);
        table.save(path).unwrap();
        if changes.is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

#[tokio::test]
async fn the_example_keeps_its_flags_across_a_restart() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flags.json");
    let keep = app.create_plan(&plan_body(&nhs(700))).await;
    let void = app.create_plan(&plan_body(&nhs(701))).await;
    follow(&app, &path, 1, None).await; // stops after one page: a "crash"
    let voided = app
        .req(
            Method::POST,
            &format!(
                "/v1/care-plans/{}/void",
                void["id"].as_str().unwrap_or_default()
            ),
            Role::Clinician,
        )
        .header("If-Match", "\"plan.3\"")
        .json(&json!({ "reason": "Wrong person" }))
        .send()
        .await
        .unwrap();
    assert_eq!(voided.status().as_u16(), 200);
    // Restarted: resumes from the saved cursor, up to the end of the log.
    let tail = crate::helpers::all_changes(&app.address, &app.client, app.event_count().await)
        .await
        .1;
    follow(&app, &path, 10_000, Some(&tail)).await;
    let table = FlagTable::load(&path).unwrap();
    assert_eq!(table.flags.len(), 1, "{table:?}");
    let flag = &table.flags[&nhs(700)];
    assert_eq!(flag.plan_id, keep["id"].as_str().unwrap_or_default());
    assert_eq!(flag.cpr.as_deref(), Some("not-for-cpr"));
    assert_eq!(flag.plan_version, 3);

    // Webhook side: signatures from the server verify; tampered or stale ones do not; a
    // repeated delivery id is applied once.
    let body = br#"{"nhsNumber":"9434765919","planId":"p","planVersion":1,"action":"upsert","summary":{}}"#;
    let now = chrono::Utc::now().timestamp();
    let sig = ucp_api::webhooks::signature::sign(b"secret-secret-secret", now, body);
    assert!(signature_ok(
        b"secret-secret-secret",
        &now.to_string(),
        body,
        &sig,
        now
    ));
    assert!(!signature_ok(
        b"secret-secret-secret",
        &now.to_string(),
        b"{}",
        &sig,
        now
    ));
    assert!(!signature_ok(
        b"secret-secret-secret",
        &now.to_string(),
        body,
        &sig,
        now + 3600
    ));
    let mut table = FlagTable::default();
    let change: Value = serde_json::from_slice(body).unwrap_or_default();
    assert!(table.apply_delivery("d-1", &change));
    assert!(!table.apply_delivery("d-1", &change));
    assert_eq!(table.flags.len(), 1);
}

#[tokio::test]
async fn a_first_run_starts_from_the_snapshot_and_never_holds_a_voided_plan() {
    let app = TestApp::spawn().await;
    let keep = app.create_plan(&plan_body(&nhs(710))).await;
    let void = app.create_plan(&plan_body(&nhs(711))).await;
    let voided = app
        .req(
            Method::POST,
            &format!(
                "/v1/care-plans/{}/void",
                void["id"].as_str().unwrap_or_default()
            ),
            Role::Clinician,
        )
        .header("If-Match", void["etag"].as_str().unwrap_or_default())
        .json(&json!({ "reason": "Wrong person" }))
        .send()
        .await
        .unwrap();
    assert_eq!(voided.status().as_u16(), 200);
    // As the example's bootstrap does: the snapshot, a page at a time, then the first cursor.
    let mut table = FlagTable::default();
    let snapshot: Value = app
        .req(Method::GET, "/v1/feed/snapshot?limit=1", Role::Dispatch)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for item in snapshot["summaries"].as_array().into_iter().flatten() {
        table.apply_snapshot_item(item);
    }
    assert!(
        snapshot["nextPage"].is_string(),
        "a full page says where to go on"
    );
    let next: Value = app
        .req(
            Method::GET,
            &format!(
                "/v1/feed/snapshot?limit=1&after={}",
                snapshot["nextPage"].as_str().unwrap_or_default()
            ),
            Role::Dispatch,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(next["summaries"].as_array().map(Vec::len), Some(0));
    table.cursor = snapshot["cursor"].as_str().map(str::to_owned);
    assert_eq!(table.flags.len(), 1, "{table:?}");
    assert_eq!(
        table.flags[&nhs(710)].plan_id,
        keep["id"].as_str().unwrap_or_default()
    );
    assert!(!table.flags.contains_key(&nhs(711)));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flags.json");
    table.save(&path).unwrap();
    app.create_plan(&plan_body(&nhs(712))).await;
    let tail = crate::helpers::all_changes(&app.address, &app.client, app.event_count().await)
        .await
        .1;
    follow(&app, &path, 10_000, Some(&tail)).await;
    let table = FlagTable::load(&path).unwrap();
    let mut held: Vec<&String> = table.flags.keys().collect();
    held.sort();
    assert_eq!(held, vec![&nhs(710), &nhs(712)]);
}
