//! The National Record Locator publisher against a receiver that checks each pointer's shape as
//! the NRL's producer API would: the pointer's life through create, ETP, withdrawal, void and
//! death; dead letters parked and redelivered; every pointer sent in the access log.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use reqwest::Method;
use serde_json::{json, Value};
use ucp_api::Role;

use crate::helpers::{nhs, personal_information, plan_body, token, TestApp};

#[derive(Debug, Clone)]
struct Call {
    method: String,
    id: String,
    body: Value,
    /// What the receiver found wrong with the pointer's shape.
    faults: Vec<String>,
}

#[derive(Default)]
struct Nrl {
    down: bool,
    calls: Vec<Call>,
}

/// The NRL's rules for a pointer, as its producer API states them.
fn faults(method: &str, path_id: Option<&str>, body: &Value, ods: Option<&str>) -> Vec<String> {
    let mut f = Vec::new();
    let mut need = |ok: bool, what: &str| {
        if !ok {
            f.push(what.to_owned());
        }
    };
    need(
        ods == Some("RRU"),
        "NHSD-End-User-Organisation-ODS names the producer",
    );
    if method == "DELETE" {
        return f;
    }
    need(
        body["resourceType"] == "DocumentReference",
        "a DocumentReference",
    );
    let id = body["id"].as_str().unwrap_or_default();
    need(
        id.starts_with("RRU-"),
        "id prefixed by the custodian's ODS code",
    );
    if let Some(p) = path_id {
        need(p == id, "PUT to the pointer's own id");
    }
    need(
        ["current", "entered-in-error"].contains(&body["status"].as_str().unwrap_or_default()),
        "status",
    );
    need(
        body["category"][0]["coding"][0]
            == json!({"system": "http://snomed.info/sct", "code": "734163000", "display": "Care plan"}),
        "category care plan",
    );
    let types = body["type"]["coding"].as_array().map_or(0, Vec::len);
    need(types == 1, "exactly one type coding");
    need(
        ["2181441000000107", "1382601000000107"].contains(
            &body["type"]["coding"][0]["code"]
                .as_str()
                .unwrap_or_default(),
        ),
        "type",
    );
    need(
        body["type"]["coding"][0]["system"] == "http://snomed.info/sct",
        "type system",
    );
    need(
        body["subject"]["identifier"]["system"] == "https://fhir.nhs.uk/Id/nhs-number",
        "subject by NHS number",
    );
    need(
        body["custodian"]["identifier"]
            == json!({"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "RRU"}),
        "custodian by ODS code",
    );
    need(
        body["author"][0]["identifier"]["system"] == "https://fhir.nhs.uk/Id/ods-organization-code",
        "author by ODS code",
    );
    let content = body["content"].as_array().cloned().unwrap_or_default();
    need(content.len() == 2, "two attachments");
    for c in &content {
        need(
            c["format"]["system"] == "https://fhir.nhs.uk/England/CodeSystem/England-NRLFormatCode",
            "content format",
        );
        need(
            c["attachment"]["url"]
                .as_str()
                .is_some_and(|u| u.starts_with("https://ucp.example.nhs.uk/")),
            "attachment URL",
        );
    }
    f
}

async fn receive(
    req: HttpRequest,
    body: web::Bytes,
    nrl: web::Data<Arc<Mutex<Nrl>>>,
) -> HttpResponse {
    let Ok(mut nrl) = nrl.lock() else {
        return HttpResponse::InternalServerError().finish();
    };
    if nrl.down {
        return HttpResponse::ServiceUnavailable().finish();
    }
    let method = req.method().as_str().to_owned();
    let path_id = req.match_info().get("id").map(str::to_owned);
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let ods = req
        .headers()
        .get("nhsd-end-user-organisation-ods")
        .and_then(|v| v.to_str().ok());
    let faults = faults(&method, path_id.as_deref(), &body, ods);
    let id = path_id
        .or_else(|| body["id"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let created = method == "POST";
    nrl.calls.push(Call {
        method,
        id,
        body,
        faults,
    });
    if created {
        HttpResponse::Created().finish()
    } else {
        HttpResponse::Ok().finish()
    }
}

struct Receiver {
    url: String,
    nrl: Arc<Mutex<Nrl>>,
    _server: actix_web::dev::ServerHandle,
}

impl Receiver {
    fn start() -> Self {
        let nrl = Arc::new(Mutex::new(Nrl::default()));
        let data = web::Data::new(nrl.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/FHIR/R4/DocumentReference", web::post().to(receive))
                .route("/FHIR/R4/DocumentReference/{id}", web::put().to(receive))
                .route("/FHIR/R4/DocumentReference/{id}", web::delete().to(receive))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            url: format!("http://127.0.0.1:{port}/FHIR/R4"),
            nrl,
            _server: handle,
        }
    }

    fn calls(&self) -> Vec<Call> {
        self.nrl.lock().map(|n| n.calls.clone()).unwrap_or_default()
    }

    fn set_down(&self, down: bool) {
        if let Ok(mut n) = self.nrl.lock() {
            n.down = down;
        }
    }

    /// Waits until `count` calls have arrived (deadline 20 s), and returns them all.
    async fn wait_for(&self, count: usize) -> Vec<Call> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let calls = self.calls();
            if calls.len() >= count {
                return calls;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "only {} of {count} NRL calls arrived: {calls:?}",
                calls.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn spawn(receiver: &Receiver, attempts: u32) -> TestApp {
    let url = receiver.url.clone();
    TestApp::spawn_tuned(move |c| {
        c.fhir = ucp_api::FhirSettings {
            public_url: "https://ucp.example.nhs.uk".into(),
            custodian_ods: "RRU".into(),
        };
        c.nrl = Some(ucp_api::nrl::NrlConfig {
            url,
            bearer_token: Some("nrl-test-token".into()),
            bearer_token_file: None,
            max_attempts: attempts,
            allow_http: true,
            timeout: Duration::from_secs(2),
        });
    })
    .await
}

fn summary(calls: &[Call]) -> Vec<(String, String)> {
    calls
        .iter()
        .map(|c| (c.method.clone(), c.id.clone()))
        .collect()
}

async fn tagged(app: &TestApp, id: &str) -> String {
    let (_, plan) = app
        .get_json(&format!("/v1/care-plans/{id}"), Role::Clinician)
        .await;
    format!("\"plan.{}\"", plan["version"])
}

#[tokio::test]
async fn the_nrl_pointer_follows_the_plan_through_create_etp_withdraw_void_and_death() {
    let receiver = Receiver::start();
    let app = spawn(&receiver, 5).await;
    let ptr = |plan: &str, suffix: &str| format!("RRU-{plan}{suffix}");
    let s = |m: &str, id: String| (m.to_owned(), id);

    // Created without an ETP: one pointer, a Personalised Care and Support Plan.
    let a = app.create_plan(&json!({"personalInformation": personal_information(&nhs(601)), "consentToShare": crate::helpers::consent()})).await;
    let a_id = a["id"].as_str().unwrap_or_default().to_owned();
    let calls = receiver.wait_for(1).await;
    assert_eq!(summary(&calls), vec![s("POST", ptr(&a_id, ""))]);
    let first = &calls[0].body;
    assert_eq!(first["status"], "current");
    assert_eq!(first["type"]["coding"][0]["code"], "2181441000000107");
    assert_eq!(first["subject"]["identifier"]["value"], nhs(601).as_str());
    assert_eq!(
        first["content"][0]["attachment"]["url"],
        format!("https://ucp.example.nhs.uk/fhir/R4/CarePlan/{a_id}")
    );
    assert_eq!(
        first["content"][1]["attachment"]["url"],
        format!("https://ucp.example.nhs.uk/v1/care-plans/{a_id}")
    );

    // A change that leaves the pointer as it was sends nothing; the ETP adds the ReSPECT pointer.
    let res = app
        .put_section(
            &a_id,
            "what-matters",
            &tagged(&app, &a_id).await,
            &json!({"inTheirOwnWords": "Home."}),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let res = app
        .put_section(
            &a_id,
            "emergency-treatment-plan",
            &tagged(&app, &a_id).await,
            &crate::helpers::etp(),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let calls = receiver.wait_for(2).await;
    assert_eq!(summary(&calls)[1], s("POST", ptr(&a_id, "-respect")));
    assert_eq!(
        calls[1].body["type"]["coding"][0]["code"],
        "1382601000000107"
    );
    // The ETP changed again: the ReSPECT pointer is updated.
    let mut etp = crate::helpers::etp();
    etp["cprRecommendation"] = json!("attempts-recommended");
    let res = app
        .put_section(
            &a_id,
            "emergency-treatment-plan",
            &tagged(&app, &a_id).await,
            &etp,
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let calls = receiver.wait_for(3).await;
    assert_eq!(summary(&calls)[2], s("PUT", ptr(&a_id, "-respect")));

    // Withdrawn: both pointers are deleted.
    let res = app
        .write(
            Role::Clinician,
            Method::POST,
            &format!("/v1/care-plans/{a_id}/withdraw"),
            &tagged(&app, &a_id).await,
            &json!({"reason": "Asked to."}),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let calls = receiver.wait_for(5).await;
    assert_eq!(
        summary(&calls[3..5]),
        vec![
            s("DELETE", ptr(&a_id, "")),
            s("DELETE", ptr(&a_id, "-respect"))
        ]
    );

    // Another person's plan, made on the wrong person and voided: entered-in-error.
    let b = app.create_plan(&plan_body(&nhs(602))).await;
    let b_id = b["id"].as_str().unwrap_or_default().to_owned();
    let calls = receiver.wait_for(7).await;
    assert_eq!(
        summary(&calls[5..7]),
        vec![s("POST", ptr(&b_id, "")), s("POST", ptr(&b_id, "-respect"))]
    );
    let res = app
        .write(
            Role::Clinician,
            Method::POST,
            &format!("/v1/care-plans/{b_id}/void"),
            &tagged(&app, &b_id).await,
            &json!({"reason": "Wrong person."}),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let calls = receiver.wait_for(9).await;
    assert_eq!(
        summary(&calls[7..9]),
        vec![s("PUT", ptr(&b_id, "")), s("PUT", ptr(&b_id, "-respect"))]
    );
    assert!(calls[7..9]
        .iter()
        .all(|c| c.body["status"] == "entered-in-error"));

    // A third person dies: the pointers go.
    let c = app.create_plan(&plan_body(&nhs(603))).await;
    let c_id = c["id"].as_str().unwrap_or_default().to_owned();
    receiver.wait_for(11).await;
    let res = app
        .write(
            Role::Clinician,
            Method::POST,
            &format!("/v1/care-plans/{c_id}/person-died"),
            &tagged(&app, &c_id).await,
            &json!({"dateOfDeath": "2026-11-20"}),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200, "{:?}", res.text().await);
    let calls = receiver.wait_for(13).await;
    assert_eq!(
        summary(&calls[11..13]),
        vec![
            s("DELETE", ptr(&c_id, "")),
            s("DELETE", ptr(&c_id, "-respect"))
        ]
    );

    // Every pointer had the NRL's shape, and nothing more was sent.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let calls = receiver.calls();
    assert_eq!(calls.len(), 13, "{:?}", summary(&calls));
    for c in &calls {
        assert!(c.faults.is_empty(), "{} {}: {:?}", c.method, c.id, c.faults);
    }
    // Each sending is in the access log, and a sent pointer replays as what was sent.
    let owner = app.test_db.owner_client().await;
    let rows = owner
        .query("SELECT entry_id::text, method, nhs_number, status FROM access_log WHERE actor = 'nrl-publisher' ORDER BY at", &[])
        .await
        .unwrap();
    assert_eq!(rows.len(), 13);
    assert!(rows.iter().all(|r| r.get::<_, i16>(3) == 202));
    let entry: String = rows[0].get(0);
    let shown = crate::helpers::replayed(&app, &entry).await;
    assert_eq!(shown, calls[0].body, "the first pointer replayed");
}

#[tokio::test]
async fn a_pointer_the_nrl_does_not_take_is_parked_and_redelivered_against_the_plan_now() {
    let receiver = Receiver::start();
    receiver.set_down(true);
    let app = spawn(&receiver, 2).await;
    let admin = token(Role::Admin);
    let plan = app.create_plan(&json!({"personalInformation": personal_information(&nhs(611)), "consentToShare": crate::helpers::consent()})).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    // Two attempts fail; the change is parked.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let letters = loop {
        let res = app
            .client
            .get(app.url("/v1/nrl/dead-letters"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200);
        let letters: Value = res.json().await.unwrap_or_default();
        if letters.as_array().is_some_and(|l| !l.is_empty()) {
            break letters;
        }
        assert!(tokio::time::Instant::now() < deadline, "nothing was parked");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let letter = &letters[0];
    assert_eq!(letter["pointerId"], format!("RRU-{id}"));
    assert_eq!(letter["method"], "POST");
    assert_eq!(letter["attempts"], 2);
    assert_eq!(letter["nhsNumber"], nhs(611).as_str());
    assert!(letter["redeliveredAt"].is_null());
    let letter_id = letter["id"].as_str().unwrap_or_default().to_owned();
    let redeliver = |who: Option<String>, lid: String| {
        let mut req = app
            .client
            .post(app.url(&format!("/v1/nrl/dead-letters/{lid}/redeliver")));
        if let Some(t) = who {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    // Still down: 502, and the letter stays open.
    let res = redeliver(Some(admin.clone()), letter_id.clone())
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 502);
    // The plan was withdrawn meanwhile: redelivery deletes, rather than creating a stale pointer.
    let (_, now) = app
        .get_json(&format!("/v1/care-plans/{id}"), Role::Clinician)
        .await;
    let res = app
        .write(
            Role::Clinician,
            Method::POST,
            &format!("/v1/care-plans/{id}/withdraw"),
            &format!("\"plan.{}\"", now["version"]),
            &json!({"reason": "Asked to."}),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    receiver.set_down(false);
    // The publisher's own DELETE for the withdrawal arrives (the NRL never had the pointer).
    let calls = receiver.wait_for(1).await;
    assert_eq!(calls[0].method, "DELETE");
    let res = redeliver(Some(admin.clone()), letter_id.clone())
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let settled: Value = res.json().await.unwrap_or_default();
    assert!(settled["redeliveredAt"].is_string());
    let calls = receiver.wait_for(2).await;
    assert_eq!(
        (calls[1].method.as_str(), calls[1].id.as_str()),
        ("DELETE", format!("RRU-{id}").as_str())
    );
    // Conflicts, bad input and refusals.
    let res = redeliver(Some(admin.clone()), letter_id.clone())
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 409);
    let problem: Value = res.json().await.unwrap_or_default();
    assert_eq!(problem["code"], "already_redelivered");
    for (who, lid, want) in [
        (Some(admin.clone()), "not-a-uuid".to_owned(), 400),
        (Some(admin.clone()), uuid::Uuid::new_v4().to_string(), 404),
        (Some(token(Role::Clinician)), letter_id.clone(), 403),
        (None, letter_id.clone(), 401),
    ] {
        let res = redeliver(who, lid.clone()).await.unwrap();
        assert_eq!(res.status().as_u16(), want, "{lid}");
        assert_eq!(
            res.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json")
        );
    }
    let res = app
        .client
        .get(app.url("/v1/nrl/dead-letters"))
        .bearer_auth(token(Role::Ambulance))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
    // The parked attempt is in the access log as the failure it was.
    let owner = app.test_db.owner_client().await;
    let failed: i64 = owner
        .query_one(
            "SELECT count(*) FROM access_log WHERE actor = 'nrl-publisher' AND status = 502",
            &[],
        )
        .await
        .and_then(|r| r.try_get(0))
        .unwrap();
    assert!(
        failed >= 2,
        "the parked change and the failed redelivery: {failed}"
    );
}

#[tokio::test]
async fn a_server_that_does_not_publish_says_so() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .post(app.url(&format!(
            "/v1/nrl/dead-letters/{}/redeliver",
            uuid::Uuid::new_v4()
        )))
        .bearer_auth(token(Role::Admin))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 409);
    let problem: Value = res.json().await.unwrap_or_default();
    assert_eq!(problem["code"], "nrl_publishing_off");
}
