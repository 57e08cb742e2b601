//! The FHIR facade against the real server: every endpoint, its errors as OperationOutcome,
//! the same visibility as `/v1`, and an audit entry that replays exactly what was shown.

use reqwest::Method;
use serde_json::{json, Value};
use ucp_api::Role;

use crate::helpers::{nhs, plan_body, request_id, token, token_with, TestApp};

const FHIR: &str = "application/fhir+json";

async fn fhir_get(
    app: &TestApp,
    path: &str,
    bearer: Option<&str>,
) -> (u16, String, Value, reqwest::header::HeaderMap) {
    let mut req = app.client.get(app.url(path));
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let ctype = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = res.json().await.unwrap_or(Value::Null);
    (status, ctype, body, headers)
}

/// A plan with most sections, so that every kind of resource appears.
fn full_body(n: &str) -> Value {
    let mut body = plan_body(n);
    body["contacts"] = json!({
        "personal": [{"name": "Sam Nowak", "relationship": "Son", "nextOfKin": true,
            "lpaHealthAndWelfare": "yes", "lpaPropertyAndFinancial": "no", "phone": "07700 900001", "contactFirst": true}],
        "professional": [
            {"name": "Example Surgery", "role": "GP practice", "odsCode": "F84001", "phone": "020 7946 0001"},
            {"name": "Jo Key", "role": "Key worker", "phone": "020 7946 0002"}
        ]
    });
    body["communicationAndAccessibility"] = json!({"accessToHome": "Key safe, code 1234.", "keySafe": true, "hazards": ["Oxygen in use"]});
    body["clinicalBackground"] = json!({"conditions": [{"name": "COPD", "snomedCode": "13645005"}], "allergies": ["Penicillin"]});
    body["anticipatoryMedicines"] = json!({"medicines": [{"name": "Morphine", "doseAndRoute": "2.5 mg oral"}], "location": "Fridge"});
    body["thinkingAhead"] = json!({"preferredPlaceOfDeath": "Home", "advanceDecisionToRefuseTreatment": {"held": "yes", "location": "Drawer"}});
    body
}

fn types_in(bundle: &Value) -> Vec<String> {
    let mut t: Vec<String> = bundle["entry"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter_map(|e| e["resource"]["resourceType"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    t.sort();
    t.dedup();
    t
}

#[tokio::test]
async fn every_fhir_endpoint_serves_the_plan_as_uk_core_resources() {
    let app = TestApp::spawn().await;
    let n = nhs(501);
    let plan = app.create_plan(&full_body(&n)).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    let version = plan["version"].as_i64().unwrap_or_default();
    let clinician = token(Role::Clinician);

    // The CapabilityStatement needs no token and lists every type served.
    let (status, ctype, cap, _) = fhir_get(&app, "/fhir/R4/metadata", None).await;
    assert_eq!((status, ctype.as_str()), (200, FHIR));
    assert_eq!(cap["resourceType"], "CapabilityStatement");
    assert_eq!(cap["fhirVersion"], "4.0.1");
    let served: Vec<&str> = cap["rest"][0]["resource"]
        .as_array()
        .map(|r| r.iter().filter_map(|r| r["type"].as_str()).collect())
        .unwrap_or_default();
    for t in [
        "Patient",
        "CarePlan",
        "Flag",
        "Consent",
        "Condition",
        "AllergyIntolerance",
        "MedicationStatement",
        "RelatedPerson",
        "PractitionerRole",
        "Organization",
        "DocumentReference",
    ] {
        assert!(served.contains(&t), "{t} in the CapabilityStatement");
    }

    // The person by NHS number, in the NHS's identifier system.
    let (status, ctype, found, _) = fhir_get(
        &app,
        &format!("/fhir/R4/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|{n}"),
        Some(&clinician),
    )
    .await;
    assert_eq!((status, ctype.as_str()), (200, FHIR));
    assert_eq!(found["resourceType"], "Bundle");
    assert_eq!(found["total"], 1);
    let patient = &found["entry"][0]["resource"];
    assert_eq!(patient["id"], n.as_str());
    assert_eq!(
        patient["identifier"][0]["system"],
        "https://fhir.nhs.uk/Id/nhs-number"
    );
    assert_eq!(
        patient["meta"]["profile"][0],
        "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"
    );
    // ...and by demographics, as /v1/patients finds people.
    let (status, _, by_name, _) = fhir_get(
        &app,
        "/fhir/R4/Patient?family=Nowak&birthdate=1941-02-03",
        Some(&clinician),
    )
    .await;
    assert_eq!(status, 200);
    assert!(by_name["entry"]
        .as_array()
        .is_some_and(|e| e.iter().any(|e| e["resource"]["id"] == n.as_str())));
    let (status, _, read, _) =
        fhir_get(&app, &format!("/fhir/R4/Patient/{n}"), Some(&clinician)).await;
    assert_eq!((status, &read), (200, patient));

    // The CarePlan: read with its version as ETag, searched by patient and status, and its history.
    let (status, _, care_plan, headers) =
        fhir_get(&app, &format!("/fhir/R4/CarePlan/{id}"), Some(&clinician)).await;
    assert_eq!(status, 200);
    assert_eq!(care_plan["status"], "active");
    assert_eq!(care_plan["meta"]["versionId"], version.to_string());
    assert_eq!(
        headers.get("etag").and_then(|v| v.to_str().ok()),
        Some(format!("W/\"{version}\"").as_str())
    );
    assert!(
        care_plan
            .to_string()
            .contains("My garden and my grandchildren."),
        "the person's words"
    );
    let res = app
        .put_section(
            &id,
            "what-matters",
            &format!("\"plan.{version}\""),
            &json!({"inTheirOwnWords": "My dog."}),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let (_, _, now, headers) =
        fhir_get(&app, &format!("/fhir/R4/CarePlan/{id}"), Some(&clinician)).await;
    assert_eq!(now["meta"]["versionId"], (version + 1).to_string());
    assert_eq!(
        headers.get("etag").and_then(|v| v.to_str().ok()),
        Some(format!("W/\"{}\"", version + 1).as_str())
    );
    assert!(now.to_string().contains("My dog."));
    let (status, _, old, _) = fhir_get(
        &app,
        &format!("/fhir/R4/CarePlan/{id}/_history/{version}"),
        Some(&clinician),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(old, care_plan, "the version before as it was");
    let (status, _, first, _) = fhir_get(
        &app,
        &format!("/fhir/R4/CarePlan/{id}/_history/1"),
        Some(&clinician),
    )
    .await;
    assert_eq!(
        (status, first["meta"]["versionId"].as_str()),
        (200, Some("1"))
    );
    let (status, _, _, _) = fhir_get(
        &app,
        &format!("/fhir/R4/CarePlan/{id}/_history/{}", version + 2),
        Some(&clinician),
    )
    .await;
    assert_eq!(status, 404);
    for query in [
        format!("patient=Patient/{n}"),
        format!("patient.identifier=https://fhir.nhs.uk/Id/nhs-number|{n}"),
        format!("patient={n}&status=active"),
    ] {
        let (status, _, b, _) = fhir_get(
            &app,
            &format!("/fhir/R4/CarePlan?{query}"),
            Some(&clinician),
        )
        .await;
        assert_eq!((status, b["total"].as_u64()), (200, Some(1)), "{query}");
    }
    let (_, _, none, _) = fhir_get(
        &app,
        &format!("/fhir/R4/CarePlan?patient={n}&status=revoked"),
        Some(&clinician),
    )
    .await;
    assert_eq!(none["total"], 0);

    // The CPR decision as a SNOMED CT coded Flag, read by id and searched by patient.
    let (status, _, flags, _) = fhir_get(
        &app,
        &format!("/fhir/R4/Flag?patient=Patient/{n}"),
        Some(&clinician),
    )
    .await;
    assert_eq!(status, 200);
    let cpr = flags["entry"]
        .as_array()
        .and_then(|e| {
            e.iter()
                .find(|e| e["resource"]["id"] == format!("{id}-cpr").as_str())
        })
        .map(|e| e["resource"].clone())
        .unwrap_or_default();
    assert_eq!(cpr["code"]["coding"][0]["system"], "http://snomed.info/sct");
    assert_eq!(cpr["code"]["coding"][0]["code"], "450476008");
    let (status, _, cpr_read, _) =
        fhir_get(&app, &format!("/fhir/R4/Flag/{id}-cpr"), Some(&clinician)).await;
    assert_eq!((status, cpr_read), (200, cpr));

    // Every part type, searched by patient, is in $everything, and each reads by id.
    let (status, _, everything, _) = fhir_get(
        &app,
        &format!("/fhir/R4/Patient/{n}/$everything"),
        Some(&clinician),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        types_in(&everything),
        [
            "AllergyIntolerance",
            "CarePlan",
            "Condition",
            "Consent",
            "DocumentReference",
            "Flag",
            "MedicationStatement",
            "Organization",
            "Patient",
            "PractitionerRole",
            "RelatedPerson"
        ]
    );
    for entry in everything["entry"].as_array().cloned().unwrap_or_default() {
        let r = &entry["resource"];
        let (t, rid) = (
            r["resourceType"].as_str().unwrap_or_default(),
            r["id"].as_str().unwrap_or_default(),
        );
        let (status, _, again, _) =
            fhir_get(&app, &format!("/fhir/R4/{t}/{rid}"), Some(&clinician)).await;
        assert_eq!((status, &again), (200, r), "{t}/{rid}");
        assert_eq!(
            entry["fullUrl"],
            format!("http://127.0.0.1:8080/fhir/R4/{t}/{rid}")
        );
        if t != "Patient" {
            let param = if t == "DocumentReference" {
                "subject"
            } else {
                "patient"
            };
            let (status, _, b, _) = fhir_get(
                &app,
                &format!("/fhir/R4/{t}?{param}=Patient/{n}"),
                Some(&clinician),
            )
            .await;
            assert_eq!(status, 200);
            assert!(
                b["entry"]
                    .as_array()
                    .is_some_and(|e| e.iter().any(|e| &e["resource"] == r)),
                "{t} search finds {rid}"
            );
            // By identifier, chained and with FHIR's :identifier modifier (the NRL's form).
            for by in [".identifier", ":identifier"] {
                let (status, _, b, _) = fhir_get(
                    &app,
                    &format!("/fhir/R4/{t}?{param}{by}=https://fhir.nhs.uk/Id/nhs-number%7C{n}"),
                    Some(&clinician),
                )
                .await;
                assert_eq!(status, 200, "{t}?{param}{by}: {b}");
                assert!(
                    b["entry"]
                        .as_array()
                        .is_some_and(|e| e.iter().any(|e| &e["resource"] == r)),
                    "{t}?{param}{by} finds {rid}"
                );
            }
        }
    }
    // The ODS-coded professional is an Organization with the ODS identifier system.
    let org = everything["entry"]
        .as_array()
        .and_then(|e| {
            e.iter()
                .find(|e| e["resource"]["resourceType"] == "Organization")
        })
        .map(|e| e["resource"].clone())
        .unwrap_or_default();
    assert_eq!(
        org["identifier"][0],
        json!({"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "F84001"})
    );

    // Extensions are served as StructureDefinitions.
    let (status, _, sds, _) = fhir_get(&app, "/fhir/R4/StructureDefinition", None).await;
    assert_eq!(status, 200);
    let (status, _, sd, _) =
        fhir_get(&app, "/fhir/R4/StructureDefinition/ucp-what-matters", None).await;
    assert_eq!(
        (status, sd["url"].as_str()),
        (
            200,
            Some("https://universal-care-plan.london/fhir/StructureDefinition/ucp-what-matters")
        )
    );
    assert!(sds["total"].as_u64().is_some_and(|t| t > 20));

    // _format is honoured over Accept; the answer is always application/fhir+json.
    for (query, accept) in [
        ("?_format=application/json", "application/fhir+xml"),
        ("", "application/json"),
        ("?_format=json&_pretty=true", ""),
    ] {
        let res = app
            .client
            .get(app.url(&format!("/fhir/R4/metadata{query}")))
            .header("accept", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(
            (
                res.status().as_u16(),
                res.headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
            ),
            (200, Some(FHIR)),
            "{query} {accept}"
        );
        let text = res.text().await.unwrap_or_default();
        assert_eq!(
            text.contains("\n  "),
            query.contains("_pretty"),
            "indented only when asked"
        );
    }
}

#[tokio::test]
async fn fhir_errors_are_operation_outcomes_with_the_right_status() {
    let app = TestApp::spawn().await;
    let n = nhs(502);
    let plan = app.create_plan(&plan_body(&n)).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    let clinician = token(Role::Clinician);
    let cases: Vec<(String, Option<String>, u16, &str)> = vec![
        (format!("/fhir/R4/CarePlan/{id}"), None, 401, "login"),
        (
            format!("/fhir/R4/CarePlan/{id}"),
            Some("not-a-token".to_owned()),
            401,
            "login",
        ),
        (
            format!("/fhir/R4/CarePlan/{id}"),
            Some(token(Role::Dispatch)),
            403,
            "forbidden",
        ),
        (
            format!("/fhir/R4/Patient/{n}"),
            Some(token(Role::Admin)),
            403,
            "forbidden",
        ),
        (
            "/fhir/R4/Patient?family=Nowak&birthdate=1941-02-03".to_owned(),
            Some(token_with(Role::Patient, Some(&n))),
            403,
            "forbidden",
        ),
        (
            format!("/fhir/R4/CarePlan/{}", uuid::Uuid::new_v4()),
            Some(clinician.clone()),
            404,
            "not-found",
        ),
        (
            format!("/fhir/R4/Flag/{id}-nothing"),
            Some(clinician.clone()),
            404,
            "not-found",
        ),
        (
            "/fhir/R4/Patient/123".to_owned(),
            Some(clinician.clone()),
            404,
            "not-found",
        ),
        (
            "/fhir/R4/Observation?patient=Patient/9434765919".to_owned(),
            Some(clinician.clone()),
            404,
            "not-found",
        ),
        (
            "/fhir/R4/CarePlan/x/_history/1".to_owned(),
            Some(clinician.clone()),
            404,
            "not-found",
        ),
        (
            "/fhir/R4/Flag?patient=Patient/9434765918".to_owned(),
            Some(clinician.clone()),
            400,
            "invalid",
        ),
        (
            "/fhir/R4/Flag?category=alert".to_owned(),
            Some(clinician.clone()),
            400,
            "invalid",
        ),
        (
            "/fhir/R4/Flag".to_owned(),
            Some(clinician.clone()),
            400,
            "invalid",
        ),
        (
            "/fhir/R4/CarePlan?patient=9434765919&status=draft".to_owned(),
            Some(clinician.clone()),
            400,
            "invalid",
        ),
        (
            "/fhir/R4/Patient?family=N".to_owned(),
            Some(clinician.clone()),
            400,
            "invalid",
        ),
        (
            format!("/fhir/R4/Patient/{n}/$everything?_count=5"),
            Some(clinician.clone()),
            400,
            "invalid",
        ),
        (
            "/fhir/R4/metadata?_format=xml".to_owned(),
            None,
            406,
            "not-supported",
        ),
        (
            "/fhir/R4/nothing/here/at/all".to_owned(),
            Some(clinician.clone()),
            404,
            "not-found",
        ),
    ];
    for (path, bearer, want, code) in cases {
        let (status, ctype, body, _) = fhir_get(&app, &path, bearer.as_deref()).await;
        assert_eq!((status, ctype.as_str()), (want, FHIR), "{path}: {body}");
        assert_eq!(body["resourceType"], "OperationOutcome", "{path}");
        assert_eq!(body["issue"][0]["severity"], "error", "{path}");
        assert_eq!(body["issue"][0]["code"], code, "{path}");
        assert!(
            body["issue"][0]["diagnostics"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{path}"
        );
    }
    // Writing is not offered.
    let res = app
        .client
        .post(app.url("/fhir/R4/CarePlan"))
        .bearer_auth(&clinician)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert!(
        matches!(res.status().as_u16(), 404 | 405),
        "{}",
        res.status()
    );
    let body: Value = res.json().await.unwrap_or_default();
    assert_eq!(body["resourceType"], "OperationOutcome");
}

#[tokio::test]
async fn fhir_shows_each_role_what_v1_shows_it() {
    let app = TestApp::spawn().await;
    let n = nhs(503);
    let plan = app.create_plan(&plan_body(&n)).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    let tag = format!("\"plan.{}\"", plan["version"]);
    let res = app
        .write(
            Role::Clinician,
            Method::POST,
            &format!("/v1/care-plans/{id}/withdraw"),
            &tag,
            &json!({"reason": "The person asked."}),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    // A clinician sees the withdrawn plan as revoked; an ambulance crew does not see it at all.
    let (status, _, cp, _) = fhir_get(
        &app,
        &format!("/fhir/R4/CarePlan/{id}"),
        Some(&token(Role::Clinician)),
    )
    .await;
    assert_eq!((status, cp["status"].as_str()), (200, Some("revoked")));
    let (status, _, _, _) = fhir_get(
        &app,
        &format!("/fhir/R4/CarePlan/{id}"),
        Some(&token(Role::Ambulance)),
    )
    .await;
    assert_eq!(status, 404);
    let (_, _, b, _) = fhir_get(
        &app,
        &format!("/fhir/R4/Flag?patient={n}"),
        Some(&token(Role::Ambulance)),
    )
    .await;
    assert_eq!(b["total"], 0);
    // Its pointers are gone.
    let (_, _, b, _) = fhir_get(
        &app,
        &format!("/fhir/R4/DocumentReference?subject={n}"),
        Some(&token(Role::Clinician)),
    )
    .await;
    assert_eq!(b["total"], 0);
    // The person sees their own plan, and nobody else's.
    let own = token_with(Role::Patient, Some(&n));
    let (status, _, _, _) = fhir_get(&app, &format!("/fhir/R4/CarePlan/{id}"), Some(&own)).await;
    assert_eq!(status, 200);
    let other = app.create_plan(&plan_body(&nhs(504))).await;
    let (status, _, _, _) = fhir_get(
        &app,
        &format!(
            "/fhir/R4/CarePlan/{}",
            other["id"].as_str().unwrap_or_default()
        ),
        Some(&own),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _, _, _) = fhir_get(
        &app,
        &format!("/fhir/R4/Patient/{}/$everything", nhs(504)),
        Some(&own),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_fhir_reads_audit_entry_replays_exactly_what_was_shown() {
    let app = TestApp::spawn().await;
    let n = nhs(505);
    let plan = app.create_plan(&full_body(&n)).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    let clinician = token(Role::Clinician);
    let mut served = Vec::new();
    for path in [
        format!("/fhir/R4/CarePlan/{id}"),
        format!("/fhir/R4/Patient/{n}/$everything"),
        format!("/fhir/R4/Flag/{id}-cpr"),
        format!("/fhir/R4/Consent?patient={n}"),
    ] {
        let res = app
            .client
            .get(app.url(&path))
            .bearer_auth(&clinician)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200);
        let rid = request_id(&res);
        let body: Value = res.json().await.unwrap_or_default();
        served.push((path, rid, body));
    }
    // The plan changes afterwards: the replay shows what was shown then, not the plan now.
    let mut etp = crate::helpers::etp();
    etp["cprRecommendation"] = json!("attempts-recommended");
    let res = app
        .put_section(
            &id,
            "emergency-treatment-plan",
            &format!("\"plan.{}\"", plan["version"]),
            &etp,
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let owner = app.test_db.owner_client().await;
    for (path, rid, body) in served {
        let row = owner
            .query_one("SELECT entry_id::text, view, nhs_number, actor FROM access_log WHERE request_id = $1", &[&rid])
            .await
            .unwrap_or_else(|e| panic!("{path}: {e:?}"));
        assert_eq!(
            row.get::<_, Option<String>>(1).as_deref(),
            Some("fhir"),
            "{path}"
        );
        assert_eq!(row.get::<_, Option<String>>(2), Some(n.clone()), "{path}");
        let entry_id: String = row.get(0);
        let shown = crate::helpers::replayed(&app, &entry_id).await;
        assert_eq!(shown, body, "the replay of {path}");
    }
    // A refused FHIR read is in the log too, with the person it aimed at.
    let res = app
        .client
        .get(app.url(&format!("/fhir/R4/CarePlan/{id}")))
        .bearer_auth(token(Role::Dispatch))
        .send()
        .await
        .unwrap();
    let rid = request_id(&res);
    let rows = crate::helpers::entries_for(&app, &rid).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<_, i16>(0), 403);
    assert_eq!(rows[0].get::<_, Option<String>>(5), Some(n));
}
