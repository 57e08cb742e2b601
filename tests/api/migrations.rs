//! Migrations are idempotent and safe when two processes migrate at once.

use crate::helpers::TestDb;

async fn applied_versions(db: &TestDb) -> Vec<i32> {
    db.owner_client()
        .await
        .query(
            "SELECT version FROM refinery_schema_history ORDER BY version",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[tokio::test]
async fn migrating_twice_is_a_no_op() {
    let db = TestDb::empty().await;
    let first = ucp_store::migrate(&db.url())
        .await
        .unwrap_or_else(|e| panic!("first: {e}"));
    assert!(first >= 1);
    let second = ucp_store::migrate(&db.url())
        .await
        .unwrap_or_else(|e| panic!("second: {e}"));
    assert_eq!(second, 0);
    assert_eq!(applied_versions(&db).await.len(), first);
}

#[tokio::test]
async fn two_binaries_migrating_at_once_both_succeed_and_apply_each_migration_once() {
    let db = TestDb::empty().await;
    let spawn = || {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_ucp"))
            .arg("migrate")
            .env("DATABASE_URL", db.url())
            .env("RUST_LOG", "warn")
            .status()
    };
    let (a, b, c) = tokio::join!(spawn(), spawn(), spawn());
    for status in [a, b, c] {
        assert!(status.unwrap().success());
    }
    let versions = applied_versions(&db).await;
    let mut unique = versions.clone();
    unique.dedup();
    assert_eq!(versions, unique, "each migration recorded once");
    assert!(!versions.is_empty());
}

type WorklistColumns = Vec<(String, i16, String, bool)>;

async fn worklist_columns(client: &tokio_postgres::Client) -> WorklistColumns {
    client
        .query(
            "SELECT nhs_number, priority, cpr_standing, awaiting_countersignature \
             FROM review_worklist ORDER BY nhs_number",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect()
}

/// V12 fills the worklist's new columns for the plans already there from their stored
/// summaries: it must write what the projection writes, for every kind of plan (an ended plan's
/// summary has no decision at all).
#[tokio::test]
async fn the_worklist_backfill_of_v12_writes_what_the_projection_writes() {
    use reqwest::Method;
    use serde_json::json;
    use ucp_api::Role;

    use crate::helpers::{nhs, plan_body, TestApp};

    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    let dated = |n: u32| {
        let mut body = plan_body(&nhs(n));
        body["emergencyTreatmentPlan"]["review"] = json!({ "due": "2099-01-01" });
        body
    };
    for i in 0..3 {
        let plan = app.create_plan(&dated(2790 + i)).await;
        ids.push((
            plan["id"].as_str().unwrap_or_default().to_owned(),
            plan["etag"].as_str().unwrap_or_default().to_owned(),
        ));
    }
    let mut junior = dated(2793);
    junior["emergencyTreatmentPlan"]["signAs"]["seniorResponsible"] = json!(false);
    junior["emergencyTreatmentPlan"]["signAs"]["role"] = json!("Specialty doctor");
    app.create_plan(&junior).await;
    for ((id, etag), (action, body)) in ids.iter().zip([
        (
            "review",
            json!({ "nextReviewDate": "2099-01-01", "stillValid": false }),
        ),
        ("withdraw", json!({ "reason": "No longer wanted." })),
        ("consent/withdraw", json!({ "reason": "Not to be shared." })),
    ]) {
        let res = app
            .write(
                Role::Clinician,
                Method::POST,
                &format!("/v1/care-plans/{id}/{action}"),
                etag,
                &body,
            )
            .await;
        assert_eq!(res.status().as_u16(), 200, "{action}");
    }
    let owner = app.test_db.owner_client().await;
    let projected = worklist_columns(&owner).await;
    assert!(projected.iter().any(|r| r.1 == 0), "{projected:?}");
    assert!(projected.iter().any(|r| r.3), "{projected:?}");
    // As before V12, then V12's own statements that fill the columns.
    owner
        .batch_execute(
            "UPDATE review_worklist SET priority = 1, cpr_standing = 'current', \
               awaiting_countersignature = false; \
             UPDATE review_worklist_orgs SET priority = 1;",
        )
        .await
        .unwrap();
    let migration = include_str!("../../migrations/V12__worklist_by_standing.sql");
    let code: String = migration
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .map(|l| format!("{l}\n"))
        .collect();
    let backfill: String = code
        .split(';')
        .filter(|s| s.trim_start().starts_with("UPDATE"))
        .map(|s| format!("{s};"))
        .collect();
    assert_eq!(backfill.matches("UPDATE").count(), 2, "{backfill}");
    owner
        .batch_execute(&backfill)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{backfill}"));
    assert_eq!(worklist_columns(&owner).await, projected);
}
