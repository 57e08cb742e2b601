//! Signing is an act of the signer, bound to what they signed (issue 27, findings 1 and 2),
//! against a live server: a changed decision shows "changed after signing" until someone signs
//! it, a countersignature is made by the countersigner's own token over the digest they read,
//! and a paper form typed in says whose typing it is.

use reqwest::Method;
use serde_json::{json, Value};
use ucp_api::Role;

use crate::helpers::{etp, nhs, plan_body, problem, token_as, TestApp};

const ETP: &str = "emergency-treatment-plan";

async fn section(app: &TestApp, id: &str) -> Value {
    let (status, body) = app
        .get_json(
            &format!("/v1/care-plans/{id}/sections/{ETP}"),
            Role::Clinician,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// The form saved as `role`, over the form as read (its ETag).
async fn put_form(
    app: &TestApp,
    role: Role,
    id: &str,
    read: &Value,
    body: &Value,
) -> reqwest::Response {
    app.write(
        role,
        Method::PUT,
        &format!("/v1/care-plans/{id}/sections/{ETP}"),
        read["etag"].as_str().unwrap_or_default(),
        body,
    )
    .await
}

/// A request with someone's own token.
fn as_signer(app: &TestApp, method: Method, path: &str, token: &str) -> reqwest::RequestBuilder {
    app.client.request(method, app.url(path)).bearer_auth(token)
}

async fn countersign(
    app: &TestApp,
    id: &str,
    token: &str,
    etag: &str,
    body: &Value,
) -> reqwest::Response {
    as_signer(
        app,
        Method::POST,
        &format!("/v1/care-plans/{id}/sections/{ETP}/signatures"),
        token,
    )
    .header("If-Match", etag)
    .json(body)
    .send()
    .await
    .unwrap()
}

#[tokio::test]
async fn a_change_nobody_signed_reads_changed_after_signing_until_a_countersignature_binds_to_it() {
    let app = TestApp::spawn().await;
    let person = nhs(2760);
    let plan = app.create_plan(&plan_body(&person)).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();

    // Signed by the saving clinician, named from their token (not from any body).
    let before = app.summary(&person, Role::Ambulance).await;
    assert_eq!(before["cpr"]["standing"], "current", "{before}");
    let signed = &before["cpr"]["signatures"][0];
    assert_eq!(signed["name"], "Test clinician");
    assert_eq!(signed["method"], "electronic");
    assert_eq!(
        before["cpr"]["signatures"].as_array().map(Vec::len),
        Some(1)
    );

    // Finding 1: an out-of-hours GP reads the form, turns NOT FOR CPR into FOR CPR and sends
    // the signature back as they read it.
    let form = section(&app, &id).await;
    let mut changed = form["content"].clone();
    changed["cprRecommendation"] = json!("attempts-recommended");
    changed["clinicalFocus"] = json!("life-sustaining-treatment");
    let res = put_form(&app, Role::Ooh, &id, &form, &changed).await;
    assert_eq!(res.status().as_u16(), 200, "{:?}", res.text().await);
    let after = app.summary(&person, Role::Ambulance).await;
    let cpr = &after["cpr"];
    assert_eq!(cpr["status"], "for-cpr");
    assert_eq!(cpr["standing"], "changed-after-signing", "{after}");
    let headline = cpr["headline"].as_str().unwrap_or_default();
    assert!(headline.starts_with("CHANGED AFTER SIGNING"), "{headline}");
    assert!(headline.contains("Test ooh"), "{headline}");
    assert_eq!(
        cpr["signatures"],
        json!([]),
        "the old signature is on the old version"
    );
    assert_eq!(cpr["changedAfterSigning"]["by"]["role"], "ooh");
    let codes: Vec<&str> = after["warnings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|w| w["code"].as_str())
        .collect();
    assert!(codes.contains(&"changed-after-signing"), "{codes:?}");

    // A copied signature with its date moved is not a signature: refused, by pointer.
    let form = section(&app, &id).await;
    let mut forged = form["content"].clone();
    forged["signatures"][0]["signedAt"] = json!("2026-12-01T09:00:00Z");
    let res = put_form(&app, Role::Ooh, &id, &form, &forged).await;
    let refused = problem(res, 422).await;
    assert_eq!(refused["errors"][0]["pointer"], "/signatures/0/method");

    // A second GP countersigns with their own token, over the digest they read.
    let digest = cpr["decisionDigest"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(digest.starts_with("sha256:"), "{digest}");
    let second = token_as(Role::Clinician, "gp-second", "Dr Second Signer", None);
    let etag = form["etag"].as_str().unwrap_or_default().to_owned();
    let body = json!({ "role": "GP partner", "registrationNumber": "gmc 7000001",
        "seniorResponsible": true, "digest": digest });
    let res = countersign(&app, &id, &second, &etag, &body).await;
    assert_eq!(res.status().as_u16(), 200, "{:?}", res.text().await);
    let now = app.summary(&person, Role::Ambulance).await;
    assert_eq!(now["cpr"]["standing"], "current", "{now}");
    let sig = &now["cpr"]["signatures"][0];
    assert_eq!(sig["name"], "Dr Second Signer", "named from the token");
    assert_eq!(
        sig["registrationNumber"], "GMC 7000001",
        "as the register writes it"
    );
    assert_eq!(now["cpr"]["signatures"].as_array().map(Vec::len), Some(1));
    let on_record = section(&app, &id).await;
    let last = on_record["content"]["signatures"]
        .as_array()
        .and_then(|s| s.last().cloned())
        .unwrap_or_default();
    assert_eq!(last["signedBy"]["actor"], "gp-second");
    assert_eq!(last["digest"], json!(digest));

    // The same signer again: a conflict, not a second signature.
    let etag = on_record["etag"].as_str().unwrap_or_default().to_owned();
    let again = problem(countersign(&app, &id, &second, &etag, &body).await, 409).await;
    assert_eq!(again["code"], "already_signed");

    // A digest of another version: refused, naming the current one.
    let stale = json!({ "role": "GP", "registrationNumber": "GMC 7000002",
        "seniorResponsible": true, "digest": "sha256:0000" });
    let third = token_as(Role::Clinician, "gp-third", "Dr Third", None);
    let p = problem(countersign(&app, &id, &third, &etag, &stale).await, 409).await;
    assert_eq!(p["code"], "decision_changed");
    assert!(
        p["detail"].as_str().unwrap_or_default().contains(&digest),
        "{p}"
    );
}

#[tokio::test]
async fn a_countersignature_is_refused_for_bad_input_the_wrong_role_and_a_token_that_disagrees() {
    let app = TestApp::spawn().await;
    let person = nhs(2761);
    let plan = app.create_plan(&plan_body(&person)).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    let form = section(&app, &id).await;
    let etag = form["etag"].as_str().unwrap_or_default().to_owned();
    let digest = form["content"]["decisionDigest"].clone();
    let path = format!("/v1/care-plans/{id}/sections/{ETP}/signatures");
    let signer = token_as(Role::Clinician, "gp-2761", "Dr Reg", Some("GMC 7000003"));

    // Bad registrations name the field.
    let bad = json!({ "role": "GP", "registrationNumber": "n/a", "digest": digest });
    let other = token_as(Role::Clinician, "gp-2761b", "Dr Other", None);
    let p = problem(countersign(&app, &id, &other, &etag, &bad).await, 422).await;
    assert_eq!(p["errors"][0]["pointer"], "/registrationNumber", "{p}");
    // Not a senior designation, signing as senior.
    let hca = json!({ "role": "HCA", "registrationNumber": "GMC 7000004",
        "seniorResponsible": true, "digest": digest });
    let p = problem(countersign(&app, &id, &other, &etag, &hca).await, 422).await;
    assert_eq!(p["errors"][0]["pointer"], "/role", "{p}");
    // The token carries a registration: a different one in the body is refused.
    let differs = json!({ "role": "GP", "registrationNumber": "GMC 7000005", "digest": digest });
    let p = problem(countersign(&app, &id, &signer, &etag, &differs).await, 422).await;
    assert_eq!(p["errors"][0]["pointer"], "/registrationNumber", "{p}");
    assert!(p["errors"][0]["detail"]
        .as_str()
        .unwrap_or_default()
        .contains("GMC 7000003"));
    // Unknown fields, and a name in the body, are not how a signer is named.
    let named = json!({ "role": "GP", "name": "Dr Somebody Else", "digest": digest });
    problem(countersign(&app, &id, &signer, &etag, &named).await, 400).await;
    // Crews read plans; they do not sign them.
    let crew = token_as(Role::Ambulance, "crew-2761", "Crew Member", Some("PA12345"));
    let ok_body = json!({ "role": "GP", "seniorResponsible": true, "digest": digest });
    problem(countersign(&app, &id, &crew, &etag, &ok_body).await, 403).await;
    // No token at all.
    let res = app
        .client
        .post(app.url(&path))
        .header("If-Match", &etag)
        .json(&ok_body)
        .send()
        .await
        .unwrap();
    problem(res, 401).await;
    // No If-Match.
    let res = as_signer(&app, Method::POST, &path, &signer)
        .json(&ok_body)
        .send()
        .await
        .unwrap();
    problem(res, 428).await;
    // The registration from the token, none in the body: accepted, in the token's words.
    let res = countersign(&app, &id, &signer, &etag, &ok_body).await;
    assert_eq!(res.status().as_u16(), 200, "{:?}", res.text().await);
    let after = section(&app, &id).await;
    let last = after["content"]["signatures"]
        .as_array()
        .and_then(|s| s.last().cloned())
        .unwrap_or_default();
    assert_eq!(last["registrationNumber"], "GMC 7000003");
    // A plan without an Emergency Treatment Plan has nothing to sign.
    let mut bare = plan_body(&nhs(2762));
    bare.as_object_mut()
        .map(|b| b.remove("emergencyTreatmentPlan"));
    let bare = app.create_plan(&bare).await;
    let bare_id = bare["id"].as_str().unwrap_or_default();
    let bare_etag = format!("\"plan.{}\"", bare["version"]);
    let res = countersign(&app, bare_id, &signer, &bare_etag, &ok_body).await;
    problem(res, 404).await;
}

#[tokio::test]
async fn a_form_awaiting_a_senior_and_a_paper_form_typed_in_say_so() {
    let app = TestApp::spawn().await;
    // A specialty doctor signs; no senior responsible clinician has.
    let person = nhs(2763);
    let mut body = plan_body(&person);
    body["emergencyTreatmentPlan"]["signAs"] =
        json!({ "role": "Specialty doctor", "registrationNumber": "GMC 7000006" });
    let plan = app.create_plan(&body).await;
    let s = app.summary(&person, Role::Ambulance).await;
    assert_eq!(s["cpr"]["standing"], "awaiting-countersignature", "{s}");
    assert!(s["cpr"]["headline"]
        .as_str()
        .unwrap_or_default()
        .starts_with("AWAITING SENIOR COUNTERSIGNATURE"));
    // A consultant countersigns: current.
    let id = plan["id"].as_str().unwrap_or_default();
    let form = section(&app, id).await;
    let consultant = token_as(
        Role::Clinician,
        "cons-2763",
        "Dr Consultant",
        Some("GMC 7000007"),
    );
    let res = countersign(
        &app,
        id,
        &consultant,
        form["etag"].as_str().unwrap_or_default(),
        &json!({ "role": "Consultant geriatrician", "seniorResponsible": true,
                 "digest": form["content"]["decisionDigest"] }),
    )
    .await;
    assert_eq!(res.status().as_u16(), 200, "{:?}", res.text().await);
    let s = app.summary(&person, Role::Ambulance).await;
    assert_eq!(s["cpr"]["standing"], "current", "{s}");
    assert_eq!(s["cpr"]["signatures"].as_array().map(Vec::len), Some(2));

    // A paper form typed in: its signature keeps the paper's signer and date, and says who
    // typed it.
    let paper = nhs(2764);
    let mut body = plan_body(&paper);
    let mut form = etp();
    form.as_object_mut().map(|o| o.remove("signAs"));
    form["signatures"] = json!([{ "name": "Dr On Paper", "role": "GP", "registrationNumber": "GMC 7000008",
        "seniorResponsible": true, "signedAt": "2026-11-02T10:00:00Z", "method": "transcribed-from-paper" }]);
    body["emergencyTreatmentPlan"] = form;
    app.create_plan(&body).await;
    let s = app.summary(&paper, Role::Ambulance).await;
    let sig = &s["cpr"]["signatures"][0];
    assert_eq!(sig["name"], "Dr On Paper");
    assert_eq!(sig["method"], "transcribed-from-paper");
    assert!(
        sig["transcribedBy"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Test clinician"),
        "{sig}"
    );
    assert!(
        s["warnings"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|w| w["code"] == "transcribed-signatures"),
        "{s}"
    );
}

#[tokio::test]
async fn a_change_outside_the_decision_keeps_its_signatures() {
    let app = TestApp::spawn().await;
    let person = nhs(2765);
    let plan = app.create_plan(&plan_body(&person)).await;
    let id = plan["id"].as_str().unwrap_or_default();
    let form = section(&app, id).await;
    let mut contacts = form["content"].clone();
    contacts["emergencyContacts"] = json!([{ "name": "Sam", "roleOrRelationship": "son",
        "phone": "07700 900124", "primary": true }]);
    let res = app
        .put_section(
            id,
            ETP,
            form["etag"].as_str().unwrap_or_default(),
            &contacts,
        )
        .await;
    assert_eq!(res.status().as_u16(), 200, "{:?}", res.text().await);
    let s = app.summary(&person, Role::Ambulance).await;
    assert_eq!(s["cpr"]["standing"], "current", "{s}");
    assert_eq!(s["cpr"]["signatures"].as_array().map(Vec::len), Some(1));
}
