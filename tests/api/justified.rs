//! Every access justified: a person's identity proofing holds on every route and protocol; a
//! flood without a sign-in cannot drown a person's access log; an attorney is granted access
//! only by a clinician caring for the person, by NHS number, LPA reference and purpose; every
//! entry names the person the request was about; free text cannot hide what it says.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use ucp_api::Role;

use crate::helpers::*;

/// A development token of our own making: any subject, organisation and proofing.
fn minted(
    sub: &str,
    role: Role,
    org: Option<&str>,
    nhs_number: Option<&str>,
    proofing: &str,
) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let claims = ucp_api::Claims {
        sub: sub.to_owned(),
        role,
        org: org.map(str::to_owned),
        org_name: None,
        name: Some(format!("Test {sub}")),
        registration: None,
        nhs_number: nhs_number.map(str::to_owned),
        identity_proofing_level: (role == Role::Patient).then(|| proofing.to_owned()),
        exp: now + 3600,
        iat: now,
    };
    ucp_api::JwtKeys::hs256(TEST_SECRET).mint(&claims).unwrap()
}

fn person_at(nhs_number: &str, proofing: &str) -> String {
    minted(
        &format!("nhs-login-{nhs_number}-{proofing}"),
        Role::Patient,
        None,
        Some(nhs_number),
        proofing,
    )
}

async fn send(app: &TestApp, method: Method, path: &str, token: &str) -> reqwest::Response {
    reqwest::Client::new()
        .request(method, app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{path}: {e:?}"))
}

/// Entries of the access log about `nhs_number` (as the person's own log finds them).
async fn entries_about(app: &TestApp, nhs_number: &str) -> Vec<ucp_store::AccessEntry> {
    app.db
        .access_log(&ucp_store::AccessQuery {
            nhs_number: Some(nhs_number.to_owned()),
            include_searches: true,
            limit: 1000,
            ..ucp_store::AccessQuery::default()
        })
        .await
        .unwrap()
}

async fn my_log(app: &TestApp, nhs_number: &str) -> Vec<String> {
    let res = send(
        app,
        Method::GET,
        "/v1/me/access-log?limit=200",
        &person_at(nhs_number, "P9"),
    )
    .await;
    assert_eq!(res.status().as_u16(), 200);
    let page: Value = res.json().await.unwrap();
    page["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["description"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn a_person_proofed_below_the_minimum_reaches_no_route_of_any_protocol() {
    let app = TestApp::spawn().await;
    let person = nhs(2601);
    let plan = app.create_plan(&plan_body(&person)).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    let reads = [
        "/v1/me/care-plan".to_owned(),
        format!("/v1/patients/{person}/care-plan"),
        format!("/v1/patients/{person}/emergency-summary"),
        format!("/v1/care-plans/{id}"),
        format!("/v1/care-plans/{id}/history"),
        format!("/v1/care-plans/{id}/changes?since=0"),
        format!("/v1/care-plans/{id}/document"),
        format!("/fhir/R4/Patient/{person}/$everything"),
        format!("/fhir/R4/CarePlan/{id}"),
        format!("/fhir/R4/Flag/{id}-cpr"),
        format!("/fhir/R4/CarePlan?patient=Patient/{person}"),
    ];
    // Proofed to P9, the person reads their plan on every one of them...
    let p9 = person_at(&person, "P9");
    for path in &reads {
        let res = send(&app, Method::GET, path, &p9).await;
        assert_eq!(res.status().as_u16(), 200, "P9 on {path}");
    }
    // ...and at P5 or P0 on none, whatever the route or protocol.
    for level in ["P5", "P0"] {
        let low = person_at(&person, level);
        for path in &reads {
            let res = send(&app, Method::GET, path, &low).await;
            assert_eq!(res.status().as_u16(), 403, "{level} on {path}");
            let body: Value = res.json().await.unwrap_or_default();
            assert!(
                body.to_string().contains(&format!("proofed to {level}")),
                "{level} on {path}: {body}"
            );
        }
        // Nor may they write.
        let res = reqwest::Client::new()
            .put(app.url("/v1/me/care-plan/sections/what-matters"))
            .bearer_auth(&low)
            .header("If-Match", "\"what-matters.1\"")
            .json(&json!({ "inTheirOwnWords": "Written by someone who is not me." }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 403, "{level} write");
    }
    // Every refusal is on the person's log with the level that was held.
    let client = app.test_db.owner_client().await;
    // (Repeats of one operation by a weakly proofed sign-in are counted into its window's
    // entry, so each level's operations are there once each.)
    let refused: Vec<(String, String)> = client
        .query(
            "SELECT DISTINCT proofing_level, action FROM access_log WHERE status = 403 \
             AND proofing_level IN ('P5', 'P0') AND nhs_number = $1",
            &[&person],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let operations = [
        "getMyCarePlan",
        "getPersonCarePlan",
        "getEmergencySummary",
        "getCarePlan",
        "getCarePlanHistory",
        "getCarePlanChanges",
        "getCarePlanDocument",
        "fhirPatientEverything",
        "fhirRead",
        "fhirSearch",
        "putMySectionWhatMatters",
    ];
    for level in ["P5", "P0"] {
        for op in operations {
            assert!(
                refused.contains(&(level.to_owned(), op.to_owned())),
                "{level} {op} is not on the person's log: {refused:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_flood_without_a_sign_in_is_throttled_and_counted_without_drowning_the_persons_log() {
    let app = TestApp::spawn_tuned(|c| {
        c.rate_limit_anonymous_per_minute = 100;
        c.audit.refusal_window = Duration::from_secs(3);
    })
    .await;
    let person = nhs(2602);
    let plan = app.create_plan(&plan_body(&person)).await;
    let path = format!("/v1/care-plans/{}", plan["id"].as_str().unwrap_or_default());
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    let started = Instant::now();
    for i in 0..300 {
        let res = send(&app, Method::GET, &path, &format!("garbage{i}")).await;
        *statuses.entry(res.status().as_u16()).or_default() += 1;
    }
    // A burst of a minute's budget, then 429: the address is throttled.
    assert!(
        statuses.get(&401).copied().unwrap_or_default() >= 100,
        "{statuses:?}"
    );
    assert!(
        statuses.get(&429).copied().unwrap_or_default() >= 150,
        "{statuses:?}"
    );
    let windows = started.elapsed().as_secs() / 3 + 2;
    // A valid token from the same address is not held back.
    let res = app.req(Method::GET, &path, Role::Clinician).send().await;
    assert_eq!(res.map(|r| r.status().as_u16()).ok(), Some(200));

    // Every attempt is accounted for, in a handful of entries: the first of each kind in a
    // window as it happened, then one with the window's count.
    let deadline = Instant::now() + Duration::from_secs(30);
    let (entries, total) = loop {
        let entries: Vec<_> = entries_about(&app, &person)
            .await
            .into_iter()
            .filter(|e| e.actor == "anonymous")
            .collect();
        let summarised: Vec<String> = entries
            .iter()
            .filter_map(|e| {
                e.detail.as_ref()?["refusals"]["firstEntryId"]
                    .as_str()
                    .map(str::to_owned)
            })
            .collect();
        let total: u64 = entries
            .iter()
            .map(|e| {
                match e
                    .detail
                    .as_ref()
                    .and_then(|d| d["refusals"]["count"].as_u64())
                {
                    Some(count) => count,
                    None if summarised.contains(&e.entry_id.to_string()) => 0,
                    None => 1,
                }
            })
            .sum();
        if total == 300 {
            break (entries, total);
        }
        assert!(
            Instant::now() < deadline,
            "only {total} of 300 refusals accounted for: {entries:#?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(total, 300);
    // Two kinds (401, then 429), each at most an entry and a count per 3 s window.
    let bound = usize::try_from(2 * 2 * windows).unwrap_or(usize::MAX);
    assert!(
        entries.len() <= bound,
        "{} entries for 300 refusals (at most {bound})",
        entries.len()
    );
    // The person reads it as a count, not 300 lines.
    let log = my_log(&app, &person).await;
    assert!(
        log.iter().any(|d| d.contains("times between")
            && d.contains("someone without a valid sign-in tried getCarePlan")),
        "{log:#?}"
    );
    // The entries above, and the clinician's reads: never a line for each refusal.
    assert!(log.len() <= bound + 3 && log.len() < 150, "{log:#?}");
}

fn attorney(name: &str, nhs_number: &str, reference: Option<&str>) -> Value {
    let mut contact = json!({ "name": name, "relationship": "son", "phone": "07700 900456",
        "lpaHealthAndWelfare": "yes", "lpaPropertyAndFinancial": "no", "nhsNumber": nhs_number });
    if let Some(r) = reference {
        contact["lpaRegistrationReference"] = json!(r);
    }
    contact
}

async fn grant(
    app: &TestApp,
    plan_id: &str,
    token: &str,
    purpose: Option<&str>,
    body: &Value,
) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .post(app.url(&format!("/v1/care-plans/{plan_id}/proxies")))
        .bearer_auth(token)
        .json(body);
    if let Some(p) = purpose {
        req = req.header("X-Purpose-Of-Use", p);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn an_attorney_is_granted_access_only_by_a_caring_clinician_by_nhs_number_lpa_reference_and_purpose(
) {
    let app = TestApp::spawn().await;
    let person = nhs(2603);
    let son = nhs(2604);
    let mut body = plan_body(&person);
    body["contacts"] =
        json!({ "personal": [attorney("Tom Example", &son, Some("7000-1234-5678"))] });
    let plan = app.create_plan(&body).await;
    let plan_id = plan["id"].as_str().unwrap_or_default().to_owned();
    let ask = |n: &str, reference: Option<&str>| {
        let mut b = json!({ "nhsNumber": n, "name": "Tom Example", "relationship": "son",
            "basis": "lasting-power-of-attorney" });
        if let Some(r) = reference {
            b["lpaRegistrationReference"] = json!(r);
        }
        b
    };

    // A clinician of an organisation with no part in the person's care: refused, whatever else.
    let elsewhere = minted("far-away", Role::Clinician, Some("Y09999"), None, "P9");
    let res = grant(
        &app,
        &plan_id,
        &elsewhere,
        Some("direct-care"),
        &ask(&son, Some("7000-1234-5678")),
    )
    .await;
    let refused = problem(res, 403).await;
    assert!(
        refused["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("F84001"),
        "{refused}"
    );

    // The person's own GP practice (which made the plan), but another clinician there.
    let gp = minted("gp-colleague", Role::Clinician, Some("F84001"), None, "P9");
    // Each refusal, and what it names: (purpose, proxy's NHS number, LPA reference) → status
    // and code, and the field at fault.
    let stranger = nhs(2605);
    for (purpose, proxy, reference, status, code, pointer) in [
        (
            None,
            &son,
            Some("7000-1234-5678"),
            400,
            "purpose_of_use_required",
            "/headers/X-Purpose-Of-Use",
        ),
        (
            Some("audit"),
            &son,
            Some("7000-1234-5678"),
            400,
            "purpose_of_use_required",
            "/headers/X-Purpose-Of-Use",
        ),
        (
            Some("direct-care"),
            &son,
            None,
            422,
            "validation_failed",
            "/lpaRegistrationReference",
        ),
        (
            Some("direct-care"),
            &son,
            Some("not a reference"),
            422,
            "validation_failed",
            "/lpaRegistrationReference",
        ),
        (
            Some("direct-care"),
            &son,
            Some("7000-9999-9999"),
            422,
            "validation_failed",
            "/lpaRegistrationReference",
        ),
        // The name alone is not enough: the NHS number must be the one the plan records.
        (
            Some("direct-care"),
            &stranger,
            Some("7000-1234-5678"),
            422,
            "validation_failed",
            "/nhsNumber",
        ),
    ] {
        let res = grant(&app, &plan_id, &gp, purpose, &ask(proxy, reference)).await;
        let refused = problem(res, status).await;
        assert_eq!(
            (
                refused["code"].as_str(),
                refused["errors"][0]["pointer"].as_str()
            ),
            (Some(code), Some(pointer)),
            "{purpose:?} {proxy} {reference:?}: {refused}"
        );
    }
    assert!(
        app.db
            .proxy_grants(&person)
            .await
            .unwrap_or_default()
            .is_empty(),
        "nothing granted"
    );

    let res = grant(
        &app,
        &plan_id,
        &gp,
        Some("direct-care"),
        &ask(&son, Some("7000 1234 5678")),
    )
    .await;
    assert_eq!(res.status().as_u16(), 201);
    // The grant is on the person's log, and they are told.
    let granted: Vec<_> = entries_about(&app, &person)
        .await
        .into_iter()
        .filter(|e| e.action == "grantAttorneyProxy" && e.status == 201)
        .collect();
    assert_eq!(granted.len(), 1);
    assert!(
        granted[0]
            .detail
            .as_ref()
            .is_some_and(|d| d.get("flag").is_none()),
        "{granted:?}"
    );
    assert!(my_log(&app, &person)
        .await
        .iter()
        .any(|d| d.contains("gave your attorney proxy access")));

    // The clinician who writes a new attorney into the contacts and then grants them access
    // is allowed (they may be right) but flagged for the privacy officer.
    let other = nhs(2606);
    let res = app
        .req(
            Method::GET,
            &format!("/v1/care-plans/{plan_id}"),
            Role::Clinician,
        )
        .send()
        .await
        .unwrap();
    let doc: Value = res.json().await.unwrap_or_default();
    let etag = doc["sections"]["contacts"]["etag"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let res = app
        .put_section(
            &plan_id,
            "contacts",
            &etag,
            &json!({ "personal": [attorney("Tom Example", &son, Some("7000-1234-5678")),
                                  attorney("Ann Other", &other, None)] }),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let author = token(Role::Clinician); // the same clinician who wrote the contacts
    let res = grant(
        &app,
        &plan_id,
        &author,
        Some("direct-care"),
        &json!({ "nhsNumber": other,
        "name": "Ann Other", "relationship": "friend", "basis": "lasting-power-of-attorney",
        "lpaRegistrationReference": "M-AB12-CD34-EF56" }),
    )
    .await;
    assert_eq!(res.status().as_u16(), 201);
    let flagged: Vec<_> = entries_about(&app, &person)
        .await
        .into_iter()
        .filter(|e| e.action == "grantAttorneyProxy" && e.status == 201)
        .filter(|e| {
            e.detail
                .as_ref()
                .is_some_and(|d| d["flag"]["kind"] == "attorney-recorded-by-grantor")
        })
        .collect();
    assert_eq!(flagged.len(), 1);
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("ucp_proxy_grants_flagged_total 1"),
        "{metrics}"
    );
    // The flagged grant, and only it, is a self-declared relationship for the privacy officer
    // (the scanner reads the log every second: 10 s at most).
    let owner = app.test_db.owner_client().await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let alerts = loop {
        let rows = owner
            .query(
                "SELECT evidence FROM privacy_alerts WHERE kind = 'self-declared-relationship' \
                 AND nhs_number = $1",
                &[&person],
            )
            .await
            .unwrap();
        if !rows.is_empty() || tokio::time::Instant::now() > deadline {
            break rows;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(alerts.len(), 1, "one alert, for the flagged grant only");
    let evidence: Vec<uuid::Uuid> = alerts[0].get(0);
    assert_eq!(evidence, vec![flagged[0].entry_id]);
}

#[tokio::test]
async fn every_request_is_logged_against_the_person_it_was_about() {
    let app = TestApp::spawn().await;
    let prober = nhs(2607);
    let probed = nhs(2608);
    app.create_plan(&plan_body(&prober)).await;
    let plan = app.create_plan(&plan_body(&probed)).await;
    let plan_id = plan["id"].as_str().unwrap_or_default().to_owned();
    let me = person_at(&prober, "P9");
    // A person probing someone else, through FHIR and /v1: each attempt is the probed
    // person's to see, not the prober's.
    for path in [
        format!("/fhir/R4/Patient/{probed}"),
        format!("/fhir/R4/Patient/{probed}/$everything"),
        format!("/fhir/R4/CarePlan?patient=Patient/{probed}"),
        format!("/fhir/R4/Flag?patient.identifier=https://fhir.nhs.uk/Id/nhs-number|{probed}"),
        format!("/fhir/R4/Flag/{plan_id}-cpr"),
        format!("/v1/patients/{probed}/care-plan"),
        format!("/v1/care-plans/{plan_id}"),
    ] {
        let res = send(&app, Method::GET, &path, &me).await;
        let status = res.status().as_u16();
        let rid = request_id(&res);
        let shown: Value = res.json().await.unwrap_or_default();
        // A search answers with an empty Bundle; anything else is refused as not found.
        match status {
            200 => assert_eq!(shown["total"], 0, "{path}: {shown}"),
            404 => {}
            other => panic!("{path}: {other} {shown}"),
        }
        let rows = entries_for(&app, &rid).await;
        assert_eq!(rows.len(), 1, "{path}");
        let about: Option<String> = rows[0].get("nhs_number");
        assert_eq!(about.as_deref(), Some(probed.as_str()), "{path}");
    }
    // Nothing of the probing is filed under the prober.
    assert!(entries_about(&app, &prober)
        .await
        .iter()
        .all(|e| !e.path.contains(probed.as_str()) && !e.path.contains(plan_id.as_str())));
    let theirs = my_log(&app, &probed).await;
    let by_prober = format!("Test nhs-login-{prober}-P9");
    assert!(
        theirs.iter().filter(|d| d.contains(&by_prober)).count() >= 7,
        "{theirs:#?}"
    );

    // What names no one is filed under no one: a route that takes no token, whatever its
    // query says; an `{id}` that is not a plan's; and a header cannot move a probe of one
    // person's plan onto another's log.
    let decoy = nhs(2611);
    let res = reqwest::Client::new()
        .get(app.url(&format!("/fhir/R4/metadata?patient=Patient/{probed}")))
        .send()
        .await
        .unwrap();
    let rid = request_id(&res);
    let about: Option<String> = entries_for(&app, &rid).await[0].get("nhs_number");
    assert_eq!(about, None, "the metadata names no one");
    let res = app
        .req(
            Method::DELETE,
            &format!("/v1/subscriptions/{plan_id}"),
            Role::Clinician,
        )
        .send()
        .await
        .unwrap();
    let rid = request_id(&res);
    let about: Option<String> = entries_for(&app, &rid).await[0].get("nhs_number");
    assert_eq!(about, None, "a subscription id is no plan id");
    let res = reqwest::Client::new()
        .get(app.url(&format!("/v1/care-plans/{plan_id}")))
        .bearer_auth("garbage")
        .header("UCP-On-Behalf-Of", decoy.as_str())
        .send()
        .await
        .unwrap();
    let rid = request_id(&res);
    let about: Option<String> = entries_for(&app, &rid).await[0].get("nhs_number");
    assert_eq!(
        about.as_deref(),
        Some(probed.as_str()),
        "the plan's owner, not the decoy"
    );

    // A proxy refused on the person's plan: the person's, not the proxy's.
    let friend = nhs(2609);
    let res = reqwest::Client::new()
        .post(app.url("/v1/me/proxies"))
        .bearer_auth(person_at(&probed, "P9"))
        .json(
            &json!({ "nhsNumber": friend, "name": "Fran Friend", "relationship": "friend",
            "basis": "named-by-person" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    let res = reqwest::Client::new()
        .put(app.url("/v1/me/care-plan/sections/emergency-treatment-plan"))
        .bearer_auth(person_at(&friend, "P9"))
        .header("UCP-On-Behalf-Of", probed.as_str())
        .header("If-Match", "\"emergency-treatment-plan.1\"")
        .json(&crate::fixtures::etp())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
    let rid = request_id(&res);
    let rows = entries_for(&app, &rid).await;
    let about: Option<String> = rows[0].get("nhs_number");
    assert_eq!(about.as_deref(), Some(probed.as_str()));

    // An admin's searches of the log by plan, or by no one in particular, are on the log of
    // every person they returned.
    for query in [
        format!("?planId={plan_id}"),
        String::new(),
        format!("?actor=nhs-login-{prober}-P9"),
    ] {
        let res = app
            .req(Method::GET, &format!("/v1/audit{query}"), Role::Admin)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200, "{query}");
        let rid = request_id(&res);
        let entry = app
            .db
            .access_log(&ucp_store::AccessQuery {
                actor: Some("admin-test".into()),
                limit: 50,
                ..ucp_store::AccessQuery::default()
            })
            .await
            .unwrap_or_default()
            .into_iter()
            .find(|e| e.request_id.as_deref() == Some(rid.as_str()))
            .unwrap_or_else(|| panic!("no entry for the search {query}"));
        assert!(
            entry.nhs_number.as_deref() == Some(probed.as_str())
                || entry.returned_nhs_numbers.contains(&probed),
            "{query}: {entry:?}"
        );
    }
    let theirs = my_log(&app, &probed).await;
    assert!(
        theirs
            .iter()
            .filter(|d| d.contains("your access log was looked at"))
            .count()
            >= 3,
        "{theirs:#?}"
    );
}

#[tokio::test]
async fn free_text_with_bidirectional_controls_is_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let person = nhs(2610);
    let mut body = plan_body(&person);
    body["whatMatters"] = json!({ "inTheirOwnWords": "I want \u{202E}RPC on\u{202C} everything." });
    let res = app
        .req(Method::POST, "/v1/care-plans", Role::Clinician)
        .json(&body)
        .send()
        .await
        .unwrap();
    let refused = problem(res, 422).await;
    assert_eq!(
        refused["errors"][0]["pointer"], "/whatMatters/inTheirOwnWords",
        "{refused}"
    );
    assert!(refused.to_string().contains("U+202E"), "{refused}");
    assert_eq!(app.event_count().await, 0, "nothing written");
}
