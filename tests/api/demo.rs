//! `ucp seed --demo`: the first 20 people show every shape a newcomer should see.

use std::collections::HashSet;

use serde_json::Value;
use ucp_api::Role;

use crate::helpers::{token_with, TestApp, TestDb};

#[tokio::test]
async fn the_first_twenty_demo_people_show_every_shape() {
    let db = TestDb::migrated().await;
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_ucp"))
        .args(["seed", "--demo", "--count", "20"])
        .env("DATABASE_URL", db.url())
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let app = TestApp::builder().on(db).spawn().await;
    let owner = app.test_db.owner_client().await;
    let plans: Vec<Value> = owner
        .query("SELECT document FROM care_plan_view", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(plans.len(), 20);
    // Two live at Rosewood Care Home: one admitted by the home alone, one confirmed since.
    let residents: Vec<&Value> = plans
        .iter()
        .filter(|p| p["residence"]["careHome"]["odsCode"] == "VM1A2")
        .collect();
    assert_eq!(residents.len(), 2);
    assert!(residents
        .iter()
        .all(|p| p["residence"]["basis"] == "admitted-by-home"));
    let confirmed: Vec<bool> = residents
        .iter()
        .filter_map(|p| p["residence"]["confirmed"].as_bool())
        .collect();
    assert!(
        confirmed.contains(&true) && confirmed.contains(&false),
        "{confirmed:?}"
    );
    let numbers: Vec<String> = plans
        .iter()
        .filter(|p| p["status"] == "active" && p["consentWithdrawn"].is_null())
        .filter_map(|p| p["nhsNumber"].as_str().map(str::to_owned))
        .collect();
    let mut summaries = Vec::new();
    for n in &numbers {
        let res = app
            .client
            .get(app.url(&format!("/v1/patients/{n}/emergency-summary")))
            .bearer_auth(token_with(Role::Ambulance, None))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200);
        summaries.push(res.json::<Value>().await.unwrap());
    }
    let statuses: HashSet<&str> = summaries
        .iter()
        .filter_map(|s| s["cpr"]["status"].as_str())
        .collect();
    for status in [
        "for-cpr",
        "not-for-cpr",
        "modified-cpr",
        "no-decision-recorded",
    ] {
        assert!(statuses.contains(status), "{status} in {statuses:?}");
    }
    assert!(summaries.iter().any(
        |s| s["cpr"]["status"] == "modified-cpr" && s["cpr"]["modifiedCprDetails"].is_string()
    ));
    assert!(summaries
        .iter()
        .any(|s| s["legal"]["adrt"]["held"] == "yes"));
    assert!(summaries.iter().any(|s| !s["legal"]["lpaHealthAndWelfare"]
        .as_array()
        .is_none_or(Vec::is_empty)));
    assert!(summaries.iter().any(|s| s["currency"]["overdue"] == true));
    // docs/api.md's table: a decision in each standing a signature gives it.
    let standings: HashSet<&str> = summaries
        .iter()
        .filter_map(|s| s["cpr"]["standing"].as_str())
        .collect();
    for standing in [
        "current",
        "review-overdue",
        "said-no-longer-valid",
        "changed-after-signing",
        "awaiting-countersignature",
    ] {
        assert!(standings.contains(standing), "{standing} in {standings:?}");
    }
    assert!(summaries.iter().any(|s| s["cpr"]["signatures"]
        .as_array()
        .is_some_and(|sigs| sigs.iter().any(|x| x["method"] == "transcribed-from-paper"))));
    assert!(summaries.iter().any(|s| s["warnings"]
        .as_array()
        .is_some_and(|w| w.iter().any(|w| w["code"] == "not-still-valid"))));
    let written_by_person = plans.iter().any(|p| {
        p["sections"]
            .as_object()
            .is_some_and(|s| s.values().any(|s| s["changedBy"]["role"] == "patient"))
    });
    assert!(written_by_person, "a section written by the person");
    let kinds: HashSet<&str> = plans
        .iter()
        .flat_map(|p| p["corrections"].as_array().cloned().unwrap_or_default())
        .filter_map(|c| c["kind"].as_str().map(str::to_owned))
        .map(|k| {
            if k == "death-retracted" {
                "death-retracted"
            } else {
                "section-retracted"
            }
        })
        .collect();
    assert_eq!(
        kinds.len(),
        2,
        "a retracted section and a retracted death: {kinds:?}"
    );
    let closed: HashSet<&str> = plans.iter().filter_map(|p| p["status"].as_str()).collect();
    for status in ["active", "withdrawn", "deceased", "voided"] {
        assert!(closed.contains(status), "{status}");
    }
    // docs/api.md's table: the people a crew is told of an ended plan, and how.
    for (person, ended_as) in [
        ("9990000913", "withdrawn"),
        ("9990001049", "closed-after-death"),
        ("9990001170", "voided"),
        ("9990002215", "consent-withdrawn"),
    ] {
        let res = app
            .client
            .get(app.url(&format!("/v1/patients/{person}/emergency-summary")))
            .bearer_auth(token_with(Role::Ambulance, None))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 410, "{person}");
        let body: Value = res.json().await.unwrap_or_default();
        assert_eq!(body["notice"]["endedAs"], ended_as, "{person}");
    }
    // ...and the standing of the decisions it names.
    let standing_of = |n: &str| {
        summaries
            .iter()
            .find(|s| s["nhsNumber"] == n)
            .map(|s| (s["cpr"]["standing"].clone(), s["cpr"]["headline"].clone()))
            .unwrap_or_default()
    };
    assert_eq!(standing_of("9990000654").0, "review-overdue");
    assert_eq!(standing_of("9990001448").0, "said-no-longer-valid");
    assert!(standing_of("9990000131")
        .1
        .as_str()
        .unwrap_or_default()
        .contains("advance decision to refuse treatment is held"));
    assert!(standing_of("9990000395")
        .1
        .as_str()
        .unwrap_or_default()
        .starts_with("No CPR decision on record"));
}

async fn ucp(args: &[&str], db: &TestDb) -> (bool, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_ucp"))
        .args(args)
        .env("DATABASE_URL", db.url())
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[tokio::test]
async fn ucp_check_finds_a_read_model_that_differs_from_the_log() {
    let db = TestDb::migrated().await;
    let (ok, out) = ucp(&["seed", "--demo", "--count", "20"], &db).await;
    assert!(ok, "{out}");
    let (ok, out) = ucp(&["check"], &db).await;
    assert!(ok, "{out}");
    assert!(
        out.contains("20 plans: every read model equals the log"),
        "{out}"
    );
    // A hand edit of what a crew reads.
    let owner = db.owner_client().await;
    let plan: uuid::Uuid = owner
        .query_one(
            "UPDATE emergency_summary SET summary = jsonb_set(summary::jsonb, '{cpr,status}', '\"not-for-cpr-edited\"')::json \
             WHERE plan_id = (SELECT plan_id FROM emergency_summary WHERE status = 'active' \
               ORDER BY plan_id LIMIT 1) RETURNING plan_id",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let (ok, out) = ucp(&["check"], &db).await;
    assert!(!ok, "{out}");
    assert!(out.contains(&format!("emergency_summary {plan}")), "{out}");
    // The rebuild mends it.
    let (ok, out) = ucp(&["projections", "rebuild"], &db).await;
    assert!(ok, "{out}");
    let (ok, out) = ucp(&["check"], &db).await;
    assert!(ok, "{out}");
    // A name in the search index that is not the plan's: a search would miss the person.
    let plan: uuid::Uuid = owner
        .query_one(
            "UPDATE patient_index SET family_name = 'Edited' \
             WHERE plan_id = (SELECT plan_id FROM patient_index ORDER BY plan_id LIMIT 1) \
             RETURNING plan_id",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let (ok, out) = ucp(&["check"], &db).await;
    assert!(!ok, "{out}");
    assert!(out.contains(&format!("patient_index {plan}")), "{out}");
    // A worklist line out of order, and a summary row whose status is not the plan's: the
    // columns a worklist is sorted by and a person's current plan is chosen by.
    let (ok, out) = ucp(&["projections", "rebuild"], &db).await;
    assert!(ok, "{out}");
    let line: uuid::Uuid = owner
        .query_one(
            "UPDATE review_worklist SET priority = 1 - priority \
             WHERE plan_id = (SELECT plan_id FROM review_worklist ORDER BY plan_id LIMIT 1) \
             RETURNING plan_id",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let summary: uuid::Uuid = owner
        .query_one(
            "UPDATE emergency_summary SET status = 'withdrawn' \
             WHERE plan_id = (SELECT plan_id FROM emergency_summary WHERE status = 'active' \
               ORDER BY plan_id DESC LIMIT 1) RETURNING plan_id",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let (ok, out) = ucp(&["check"], &db).await;
    assert!(!ok, "{out}");
    assert!(out.contains(&format!("review_worklist {line}")), "{out}");
    assert!(
        out.contains(&format!("emergency_summary {summary}")),
        "{out}"
    );
    // A plan moved by hand onto a care home's list (its document untouched) is caught too.
    let (ok, out) = ucp(&["projections", "rebuild"], &db).await;
    assert!(ok, "{out}");
    let moved: uuid::Uuid = owner
        .query_one(
            "UPDATE care_plan_view SET care_home = 'VM9Z9' WHERE plan_id = \
               (SELECT plan_id FROM care_plan_view WHERE care_home IS NULL LIMIT 1) \
             RETURNING plan_id",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let (ok, out) = ucp(&["check"], &db).await;
    assert!(!ok, "{out}");
    assert!(out.contains(&format!("care_plan_view {moved}")), "{out}");
}

/// Each person's events in order, as (NHS number, event types, event data).
async fn people_and_their_events(db: &TestDb) -> Vec<(String, Vec<String>, Vec<Value>)> {
    let owner = db.owner_client().await;
    let rows = owner
        .query(
            "SELECT v.nhs_number, array_agg(e.event_type ORDER BY e.stream_version), \
                    array_agg(e.data ORDER BY e.stream_version) \
             FROM care_plan_view v JOIN events e ON e.stream_id = v.plan_id \
             GROUP BY v.nhs_number ORDER BY v.nhs_number",
            &[],
        )
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            let mut data: Vec<Value> = r.get(2);
            data.iter_mut().for_each(undate_signing);
            (r.get(0), r.get(1), data)
        })
        .collect()
}

/// An electronic signature is dated when it was made: two loads made at different moments
/// differ there and nowhere else.
fn undate_signing(event: &mut Value) {
    if let Some(Value::Array(signatures)) = event.pointer_mut("/signatures") {
        for s in signatures
            .iter_mut()
            .filter(|s| s["method"] == "electronic")
        {
            s["signedAt"] = Value::Null;
        }
    }
}

/// `ucp seed --demo --bulk` decides the same events as the write path and copies them in bulk,
/// then builds the read models from the log: the same people, the same events, read models
/// equal to the log, and a second run adds no one twice.
#[tokio::test]
async fn the_bulk_loader_loads_what_the_write_path_would() {
    let slow = TestDb::migrated().await;
    let (ok, out) = ucp(&["seed", "--demo", "--count", "40", "--jobs", "4"], &slow).await;
    assert!(ok, "{out}");
    let bulk = TestDb::migrated().await;
    let (ok, out) = ucp(&["seed", "--demo", "--count", "40", "--bulk"], &bulk).await;
    assert!(ok, "{out}");

    let expected = people_and_their_events(&slow).await;
    let loaded = people_and_their_events(&bulk).await;
    assert_eq!(loaded.len(), 40);
    assert_eq!(
        loaded.iter().map(|(n, t, _)| (n, t)).collect::<Vec<_>>(),
        expected.iter().map(|(n, t, _)| (n, t)).collect::<Vec<_>>(),
        "the same people with the same events in the same order"
    );
    assert!(loaded.iter().any(|(_, types, _)| types.len() > 1));
    for ((n, _, data), (_, _, want)) in loaded.iter().zip(&expected) {
        assert_eq!(data, want, "{n}: the same event data");
    }
    let (ok, out) = ucp(&["check"], &bulk).await;
    assert!(ok, "{out}");
    assert!(
        out.contains("40 plans: every read model equals the log"),
        "{out}"
    );

    // What a crew reads is the same for every person.
    let owner_slow = slow.owner_client().await;
    let owner_bulk = bulk.owner_client().await;
    let sql = "SELECT nhs_number, status, summary::jsonb #>> '{cpr,status}' \
               FROM emergency_summary ORDER BY nhs_number";
    let a: Vec<(String, String, Option<String>)> = owner_slow
        .query(sql, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let b: Vec<(String, String, Option<String>)> = owner_bulk
        .query(sql, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(a, b);

    // Again, with more people: only the new ones are added.
    let (ok, out) = ucp(&["seed", "--demo", "--count", "45", "--bulk"], &bulk).await;
    assert!(ok, "{out}");
    assert_eq!(people_and_their_events(&bulk).await.len(), 45);
    let (ok, out) = ucp(&["check"], &bulk).await;
    assert!(ok, "{out}");
}
