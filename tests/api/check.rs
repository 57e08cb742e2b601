//! The public check of a printed copy (`GET /check/{code}`): what anyone holding the paper is
//! told, what they are never told, who is told that they checked, and what is refused.

use chrono::Utc;
use reqwest::Method;
use serde_json::{json, Value};
use ucp_api::Role;
use ucp_app::print::{CheckKeys, PrintedCopy};
use uuid::Uuid;

use crate::helpers::{nhs, plan_body, problem, token_with, TestApp};

fn code(keys: &CheckKeys, plan: &str, version: i64) -> String {
    keys.sign(&PrintedCopy {
        plan_id: Uuid::parse_str(plan).unwrap_or_default(),
        version,
        printed_on: Utc::now().date_naive(),
    })
}

/// A check as a system asks it (`Accept: application/json`): the status and the body.
pub(crate) async fn check_json(app: &TestApp, code: &str) -> (u16, Value) {
    let res = app
        .client
        .get(app.url(&format!("/check/{code}")))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or_default())
}

async fn check_page(app: &TestApp, code: &str) -> (u16, reqwest::header::HeaderMap, String) {
    // As a phone's browser asks.
    let res = app
        .client
        .get(app.url(&format!("/check/{code}")))
        .header("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, headers, res.text().await.unwrap_or_default())
}

/// Nothing on a check page or in its JSON names the person or says anything clinical.
fn says_nothing_about_the_person(text: &str, number: &str) {
    for secret in [
        "Zoë",
        "Nowak",
        number,
        &format!("{} {} {}", &number[..3], &number[3..6], &number[6..]),
        "Advanced COPD",
        "CPR",
        "garden",
        "SE1",
        "Example Road",
    ] {
        assert!(!text.contains(secret), "{secret:?} shown:\n{text}");
    }
}

#[tokio::test]
async fn a_copy_checks_current_then_superseded_then_not_current_and_the_person_sees_each_check() {
    let app = TestApp::spawn().await;
    let keys = CheckKeys::development();
    let number = nhs(1201);
    let plan = app.create_plan(&plan_body(&number)).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    let printed = plan["version"].as_i64().unwrap_or_default();
    let copy = code(&keys, &id, printed);

    let (status, body) = check_json(&app, &copy).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["state"], "current");
    assert_eq!(body["printedVersion"], printed);
    assert!(body["message"]
        .as_str()
        .unwrap_or_default()
        .ends_with("is CURRENT"));
    says_nothing_about_the_person(&body.to_string(), &number);
    let (status, headers, html) = check_page(&app, &copy).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert!(html.contains("<html lang=\"en-GB\">"), "{html}");
    assert!(
        html.contains(&format!(
            "<h1>This printed plan (version {printed}, printed "
        )),
        "{html}"
    );
    assert!(html.contains(") is CURRENT</h1>"), "{html}");
    assert!(!html.contains("<script"), "{html}");
    says_nothing_about_the_person(&html, &number);

    // Withdrawing consent to share changes who sees the plan, not what the paper says.
    let res = app
        .write(
            Role::Clinician,
            Method::POST,
            &format!("/v1/care-plans/{id}/consent/withdraw"),
            &format!("\"plan.{printed}\""),
            &json!({ "reason": "Not to be shared." }),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let (_, body) = check_json(&app, &copy).await;
    assert_eq!(body["state"], "current", "{body}");

    // A change to the plan supersedes the copy, from the moment it was made.
    let res = app
        .put_section(
            &id,
            "what-matters",
            &format!("\"plan.{}\"", printed + 1),
            &json!({ "inTheirOwnWords": "Being at home with my cat." }),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let (_, body) = check_json(&app, &copy).await;
    assert_eq!(body["state"], "superseded", "{body}");
    assert!(body["supersededAt"].is_string(), "{body}");
    // Only the person's own form changed: the recommendations on the paper still stand, and
    // the holder is not told to disregard them.
    assert_eq!(body["recommendationsChanged"], false, "{body}");
    assert!(body["message"]
        .as_str()
        .unwrap_or_default()
        .ends_with("its recommendations are unchanged"));
    let (_, _, html) = check_page(&app, &copy).await;
    assert!(
        html.contains("its recommendations are unchanged</h1>"),
        "{html}"
    );
    assert!(html.contains("Ask for a new copy."), "{html}");

    // An allergy recorded is something a crew acts on: the copy is out of date.
    let res = app
        .put_section(
            &id,
            "clinical-background",
            &format!("\"plan.{}\"", printed + 2),
            &json!({ "allergies": ["Penicillin"] }),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let (_, body) = check_json(&app, &copy).await;
    assert_eq!(body["recommendationsChanged"], true, "{body}");

    // The recommendations change: now the copy is not to be relied on.
    let mut etp = crate::fixtures::etp();
    etp["cprRecommendation"] = json!("attempts-recommended");
    let res = app
        .put_section(
            &id,
            "emergency-treatment-plan",
            &format!("\"plan.{}\"", printed + 3),
            &etp,
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let (_, body) = check_json(&app, &copy).await;
    assert_eq!(body["state"], "superseded", "{body}");
    assert_eq!(body["recommendationsChanged"], true, "{body}");
    assert!(body["message"]
        .as_str()
        .unwrap_or_default()
        .starts_with("SUPERSEDED on "));
    let (_, _, html) = check_page(&app, &code(&keys, &id, printed + 2)).await;
    assert!(html.contains("do not rely on this copy</h1>"), "{html}");
    assert!(
        html.contains(
            "The current plan is available to professionals through the Universal Care Plan."
        ),
        "{html}"
    );
    // A copy of the new version is current.
    let (_, body) = check_json(&app, &code(&keys, &id, printed + 4)).await;
    assert_eq!(body["state"], "current", "{body}");

    // Withdrawn: no copy is current.
    let res = app
        .write(
            Role::Clinician,
            Method::POST,
            &format!("/v1/care-plans/{id}/withdraw"),
            &format!("\"plan.{}\"", printed + 4),
            &json!({ "reason": "The person no longer wants a plan." }),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    for version in [printed, printed + 4] {
        let (_, body) = check_json(&app, &code(&keys, &id, version)).await;
        assert_eq!(body["state"], "not-current", "{body}");
        assert_eq!(body["status"], "withdrawn", "{body}");
        assert!(body["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("NOT CURRENT: withdrawn on "));
        says_nothing_about_the_person(&body.to_string(), &number);
    }
    let (_, _, html) = check_page(&app, &copy).await;
    assert!(html.contains("NOT CURRENT: withdrawn on "), "{html}");
    assert!(html.contains("Do not act on this printed plan"), "{html}");

    // Every check is on the person's log: the admin sees them, and so does the person.
    let (_, log) = app
        .get_json(&format!("/v1/audit?planId={id}"), Role::Admin)
        .await;
    let checks: Vec<&Value> = log["entries"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter(|e| e["action"] == "checkPrintedCopy")
                .collect()
        })
        .unwrap_or_default();
    // Repeated checks of one copy with one answer are folded into one entry and a count (see
    // audit::refusals); each copy and answer is on record.
    let mut kinds: Vec<String> = checks
        .iter()
        .map(|e| format!("{} {}", e["planVersion"], e["detail"]["state"]))
        .collect();
    kinds.sort();
    kinds.dedup();
    assert_eq!(kinds.len(), 6, "{kinds:?}");
    assert!(checks.len() < 12, "folded: {}", checks.len());
    assert!(checks.iter().all(|e| e["view"] == "printed-copy-check"
        && e["role"] == "none"
        && e["nhsNumber"] == number.as_str()
        && e["path"] == "/check/{code}"
        && e["status"] == 200));
    let mine: Value = app
        .client
        .get(app.url("/v1/me/access-log"))
        .bearer_auth(token_with(Role::Patient, Some(&number)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap_or_default();
    let told: Vec<&str> = mine["entries"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter_map(|e| e["description"].as_str())
                .filter(|d| d.starts_with("someone holding a printed copy of your plan"))
                .collect()
        })
        .unwrap_or_default();
    assert!(told.iter().any(|d| d.ends_with("it was current")), "{mine}");
    assert!(
        told.iter().any(|d| d.ends_with("it was out of date")),
        "{mine}"
    );
    assert!(
        told.iter().any(|d| d.ends_with("it was no longer current")),
        "{mine}"
    );
    // And a replay shows what the holder was shown.
    let entry = checks[0]["entryId"].as_str().unwrap_or_default();
    let (status, shown) = app
        .get_json(&format!("/v1/audit/{entry}/shown"), Role::Admin)
        .await;
    assert_eq!(status, 200, "{shown}");
    assert!(shown["state"].is_string(), "{shown}");
}

#[tokio::test]
async fn a_code_not_printed_here_is_not_recognised_and_names_no_one() {
    let app = TestApp::spawn().await;
    let keys = CheckKeys::development();
    let plan = app.create_plan(&plan_body(&nhs(1202))).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    let good = code(&keys, &id, 1);
    // One character changed.
    let mut altered: Vec<char> = good.chars().collect();
    altered[30] = if altered[30] == 'A' { 'B' } else { 'A' };
    let altered: String = altered.into_iter().collect();
    let other_key: CheckKeys = "7:a-key-this-service-was-never-given-0000".parse().unwrap();
    for bad in [
        "nope".to_owned(),
        altered,
        code(&other_key, &id, 1),
        // Signed, but no such plan, or a version it never had.
        code(&keys, &Uuid::now_v7().to_string(), 1),
        code(&keys, &id, 99),
        code(&keys, &id, 0),
        "A".repeat(300),
        "%00%2F..%2F".to_owned(),
    ] {
        let (status, _, html) = check_page(&app, &bad).await;
        assert_eq!(status, 404, "{bad}");
        assert!(html.contains("This code was not recognised"), "{html}");
        let res = app
            .client
            .get(app.url(&format!("/check/{bad}")))
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap();
        let body = problem(res, 404).await;
        assert_eq!(body["code"], "not_found", "{body}");
    }
    // A token changes nothing: the page is the same for everyone.
    let res = app
        .client
        .get(app.url(&format!("/check/{good}")))
        .bearer_auth(token_with(Role::Clinician, None))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let body: Value = res.json().await.unwrap_or_default();
    assert_eq!(body["state"], "superseded", "{body}");
    // Refused checks are logged, against no one.
    let (_, log) = app.get_json("/v1/audit", Role::Admin).await;
    let refused: Vec<&Value> = log["entries"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter(|e| {
                    e["path"]
                        .as_str()
                        .unwrap_or_default()
                        .starts_with("/check/")
                        && e["status"] == 404
                })
                .collect()
        })
        .unwrap_or_default();
    // Sixteen refusals naming no one: one entry while their window is open.
    assert_eq!(refused.len(), 1, "{log}");
    assert!(refused.iter().all(|e| e["nhsNumber"].is_null()), "{log}");
}

#[tokio::test]
async fn keys_rotate_without_invalidating_paper_and_a_dropped_key_revokes_its_codes() {
    const OLD: &str = "1:the-first-key-of-this-deployment-000000";
    const NEW: &str = "2:the-second-key-of-this-deployment-00000";
    let old: CheckKeys = OLD.parse().unwrap();
    let rotated = TestApp::spawn_tuned(|c| {
        c.print.check_keys = format!("{NEW},{OLD}").parse().unwrap_or_default();
    })
    .await;
    let plan = rotated.create_plan(&plan_body(&nhs(1203))).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    let version = plan["version"].as_i64().unwrap_or_default();
    let printed_before = code(&old, &id, version);
    let (status, body) = check_json(&rotated, &printed_before).await;
    assert_eq!((status, &body["state"]), (200, &json!("current")), "{body}");
    // New prints are signed with the new key.
    let new: CheckKeys = NEW.parse().unwrap();
    let (status, _) = check_json(&rotated, &code(&new, &id, version)).await;
    assert_eq!(status, 200);
    // The old key dropped: what it signed is no longer recognised.
    let revoked = TestApp::spawn_tuned(|c| {
        c.print.check_keys = NEW.parse().unwrap_or_default();
    })
    .await;
    let plan = revoked.create_plan(&plan_body(&nhs(1205))).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    let version = plan["version"].as_i64().unwrap_or_default();
    assert_eq!(check_json(&revoked, &code(&old, &id, version)).await.0, 404);
    assert_eq!(check_json(&revoked, &code(&new, &id, version)).await.0, 200);
}

#[tokio::test]
async fn checks_are_rate_limited_by_address_and_signed_in_work_is_not() {
    let app = TestApp::spawn_tuned(|c| c.check_rate_limit_per_minute = 3).await;
    let keys = CheckKeys::development();
    let number = nhs(1204);
    let plan = app.create_plan(&plan_body(&number)).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    let copy = code(&keys, &id, plan["version"].as_i64().unwrap_or_default());
    for _ in 0..3 {
        assert_eq!(check_json(&app, &copy).await.0, 200);
    }
    let res = app
        .client
        .get(app.url(&format!("/check/{copy}")))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert!(res.headers().contains_key("retry-after"));
    problem(res, 429).await;
    let (status, headers, html) = check_page(&app, &copy).await;
    assert_eq!(status, 429);
    assert!(headers.contains_key("retry-after"));
    assert!(html.contains("Too many checks"), "{html}");
    // The crews' API is not held back by it.
    let (status, _) = app
        .get_json(
            &format!("/v1/patients/{number}/emergency-summary"),
            Role::Ambulance,
        )
        .await;
    assert_eq!(status, 200);
}
