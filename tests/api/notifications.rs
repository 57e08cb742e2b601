//! The notifier against a local NHS Notify stand-in and a GP practice's receiver, each checking
//! the shape of what it is sent: each notifying change gives one message; the person's changes
//! within the window coalesce; opting out stops the person's messages and not the practice's; a
//! change by the practice itself does not tell the practice; nothing after death; dead letters
//! redeliver; every message is in the person's access log and replays as what was sent.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use reqwest::Method;
use serde_json::{json, Value};
use ucp_api::Role;

use crate::helpers::{nhs, problem, token, token_at, token_with, TestApp};

const PRACTICE: &str = "F84001";
const SECRET: &str = "practice-secret-0123456789-abcdefgh";
const ROUTING_PLAN: &str = "b838b13c-f98c-4def-93f0-515d4e4f4ee1";

#[derive(Debug, Clone)]
struct Received {
    to: &'static str,
    body: Value,
    /// What the receiver found wrong with the message's shape.
    faults: Vec<String>,
}

#[derive(Default)]
struct Receivers {
    down: bool,
    /// Take the next message to the person, but answer 500 (an answer lost on the way).
    lose_next_answer: bool,
    /// The message references NHS Notify has had: it refuses one again (422), as it does.
    references: Vec<String>,
    received: Vec<Received>,
}

/// NHS Notify's rules for a message request (its API's `CreateMessage`): JSON:API, a routing
/// plan, a UUID message reference, the recipient's NHS number, the personalisation; nothing
/// clinical.
fn person_faults(req: &HttpRequest, body: &Value) -> Vec<String> {
    let mut f = Vec::new();
    let mut need = |ok: bool, what: &str| {
        if !ok {
            f.push(what.to_owned());
        }
    };
    need(
        req.headers()
            .get("content-type")
            .is_some_and(|v| v == "application/vnd.api+json"),
        "JSON:API content type",
    );
    need(
        req.headers()
            .get("authorization")
            .is_some_and(|v| v == "Bearer notify-token"),
        "bearer token",
    );
    let a = &body["data"]["attributes"];
    need(body["data"]["type"] == "Message", "data.type Message");
    need(a["routingPlanId"] == ROUTING_PLAN, "routingPlanId");
    need(
        a["messageReference"]
            .as_str()
            .is_some_and(|r| uuid::Uuid::parse_str(r).is_ok()),
        "messageReference a UUID",
    );
    need(
        a["recipient"]["nhsNumber"]
            .as_str()
            .is_some_and(|n| n.len() == 10),
        "recipient.nhsNumber",
    );
    let p = &a["personalisation"];
    need(
        p.as_object().is_some_and(|o| {
            o.keys()
                .all(|k| ["updatedBy", "organisation", "date"].contains(&k.as_str()))
                && o.len() == 3
        }),
        "personalisation updatedBy, organisation, date",
    );
    let text = body.to_string();
    for clinical in ["cpr", "CPR", "attempts", "COPD", "resuscitation"] {
        need(!text.contains(clinical), "no clinical detail");
    }
    f
}

/// The practice's message: signed with its secret, naming the plan, version, change and who.
fn practice_faults(req: &HttpRequest, raw: &[u8], body: &Value) -> Vec<String> {
    let mut f = Vec::new();
    let timestamp = req
        .headers()
        .get("x-ucp-timestamp")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or_default();
    let signature = req
        .headers()
        .get("x-ucp-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !ucp_api::webhooks::signature::verify(SECRET.as_bytes(), timestamp, raw, signature) {
        f.push("signature".to_owned());
    }
    for key in [
        "planId",
        "version",
        "change",
        "changedBy",
        "nhsNumber",
        "messageId",
    ] {
        if body[key].is_null() {
            f.push(key.to_owned());
        }
    }
    f
}

async fn receive_notify(
    req: HttpRequest,
    raw: web::Bytes,
    state: web::Data<Arc<Mutex<Receivers>>>,
) -> HttpResponse {
    receive(&req, &raw, true, &state)
}

async fn receive_practice(
    req: HttpRequest,
    raw: web::Bytes,
    state: web::Data<Arc<Mutex<Receivers>>>,
) -> HttpResponse {
    receive(&req, &raw, false, &state)
}

fn receive(
    req: &HttpRequest,
    raw: &[u8],
    notify: bool,
    state: &Arc<Mutex<Receivers>>,
) -> HttpResponse {
    let body: Value = serde_json::from_slice(raw).unwrap_or(Value::Null);
    let mut s = state.lock().unwrap();
    if s.down {
        return HttpResponse::ServiceUnavailable().finish();
    }
    if notify {
        let reference = body["data"]["attributes"]["messageReference"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if s.references.contains(&reference) {
            return HttpResponse::UnprocessableEntity().json(json!({"errors": [{
                "code": "CM_DUPLICATE_REQUEST", "title": "Duplicate message request",
                "detail": "A message with this messageReference was received already."}]}));
        }
        s.references.push(reference);
    }
    let (to, faults) = if notify {
        ("person", person_faults(req, &body))
    } else {
        ("practice", practice_faults(req, raw, &body))
    };
    s.received.push(Received { to, body, faults });
    if notify && std::mem::take(&mut s.lose_next_answer) {
        return HttpResponse::InternalServerError().finish();
    }
    if to == "person" {
        HttpResponse::Created()
            .json(json!({"data": {"type": "Message", "id": "2WL3qFTEFM0qMY8xjRbt1LIKCzM"}}))
    } else {
        HttpResponse::Ok().finish()
    }
}

struct Setup {
    app: TestApp,
    receivers: Arc<Mutex<Receivers>>,
}

async fn setup(window: Duration) -> Setup {
    setup_on(None, window).await
}

/// As [`setup`], on a database of the test's making.
async fn setup_on(db: Option<crate::helpers::TestDb>, window: Duration) -> Setup {
    let receivers = Arc::new(Mutex::new(Receivers::default()));
    let data = web::Data::new(receivers.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/comms/v1/messages", web::post().to(receive_notify))
            .route("/practice/{ods}", web::post().to(receive_practice))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let port = server.addrs()[0].port();
    tokio::spawn(server.run());
    let practices = ucp_api::notify::Practices::parse(
        &format!(
            "[[practice]]\nods = \"{PRACTICE}\"\nurl = \"http://127.0.0.1:{port}/practice/{PRACTICE}\"\nsecret = \"{SECRET}\"\n"
        ),
        true,
    )
    .unwrap();
    let mut builder = TestApp::builder();
    if let Some(db) = db {
        builder = builder.on(db);
    }
    let app = builder
        .api(move |c| {
            c.notify = ucp_api::notify::NotifyConfig {
                notify_url: Some(format!("http://127.0.0.1:{port}/comms")),
                bearer_token: Some("notify-token".into()),
                bearer_token_file: None,
                routing_plan_id: uuid::Uuid::parse_str(ROUTING_PLAN).unwrap(),
                practices,
                window,
                max_attempts: 2,
                base_backoff: Duration::from_millis(50),
                max_backoff: Duration::from_millis(100),
                allow_http: true,
                timeout: Duration::from_secs(2),
                interval: Duration::from_millis(50),
            };
        })
        .spawn()
        .await;
    Setup { app, receivers }
}

/// A plan whose registered GP practice is F84001 (the test clinician's own organisation).
fn body(nhs_number: &str) -> Value {
    let mut b = crate::helpers::plan_body(nhs_number);
    b["contacts"] = json!({ "professional": [
        { "name": "Example Medical Practice", "role": "GP practice", "odsCode": PRACTICE, "phone": "020 7946 0001" }
    ] });
    b
}

impl Setup {
    fn received(&self) -> Vec<Received> {
        self.receivers.lock().unwrap().received.clone()
    }

    fn count(&self, to: &str) -> usize {
        self.received().iter().filter(|r| r.to == to).count()
    }

    /// Waits (10 s at most) until `to` has `n` messages, then a little longer to see that no
    /// more come.
    async fn expect(&self, to: &str, n: usize) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while self.count(to) < n {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{to}: {} messages of {n} after 10 s: {:#?}",
                self.count(to),
                self.received()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(600)).await;
        if self.count(to) != n {
            let owner = self.app.test_db.owner_client().await;
            for r in owner.query("SELECT outbox_id::text, recipient, changes::text, attempts, coalesce(last_error, '') FROM notification_outbox", &[]).await.unwrap() {
                eprintln!("OUTBOX {} {} {} {} {}", r.get::<_, String>(0), r.get::<_, String>(1), r.get::<_, String>(2), r.get::<_, i32>(3), r.get::<_, String>(4));
            }
            for r in owner.query("SELECT action, status, detail::text FROM access_log WHERE action LIKE 'notify%'", &[]).await.unwrap() {
                eprintln!("ENTRY {} {} {}", r.get::<_, String>(0), r.get::<_, i16>(1), r.get::<_, String>(2));
            }
        }
        assert_eq!(self.count(to), n, "{to}: {:#?}", self.received());
        for r in self.received() {
            assert!(
                r.faults.is_empty(),
                "{:?}: {:?} in {}",
                r.to,
                r.faults,
                r.body
            );
        }
    }

    async fn etag(&self, id: &str) -> String {
        let (_, plan) = self
            .app
            .get_json(&format!("/v1/care-plans/{id}"), Role::Clinician)
            .await;
        plan["etag"].as_str().unwrap_or_default().to_owned()
    }

    /// An out-of-hours GP (outside the practice) changes the Emergency Treatment Plan.
    async fn ooh_changes_the_etp(&self, id: &str) {
        self.ooh_records_cpr(id, "attempts-recommended").await;
    }

    /// An out-of-hours GP records this CPR recommendation in the Emergency Treatment Plan.
    async fn ooh_records_cpr(&self, id: &str, cpr: &str) {
        let mut etp = crate::helpers::etp();
        etp["cprRecommendation"] = json!(cpr);
        let res = self
            .app
            .client
            .put(self.app.url(&format!(
                "/v1/care-plans/{id}/sections/emergency-treatment-plan"
            )))
            .bearer_auth(token_at(Role::Ooh, "NLO12"))
            .header("If-Match", self.etag(id).await)
            .json(&etp)
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status().as_u16(),
            200,
            "{}",
            res.text().await.unwrap_or_default()
        );
    }
}

#[tokio::test]
async fn each_notifying_change_tells_the_person_once_and_the_practice_of_changes_from_outside() {
    let s = setup(Duration::from_millis(300)).await;
    let person = nhs(4100);
    // Made by the practice's own clinician: the person is told; the practice is not.
    let plan = s.app.create_plan(&body(&person)).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    s.expect("person", 1).await;
    s.expect("practice", 0).await;
    let first = &s.received()[0].body;
    assert_eq!(
        first["data"]["attributes"]["recipient"]["nhsNumber"],
        person.as_str()
    );
    assert_eq!(
        first["data"]["attributes"]["personalisation"]["updatedBy"],
        "a clinician"
    );
    // An out-of-hours GP changes the ETP: both are told.
    s.ooh_changes_the_etp(&id).await;
    s.expect("person", 2).await;
    s.expect("practice", 1).await;
    let to_practice = s
        .received()
        .into_iter()
        .find(|r| r.to == "practice")
        .map(|r| r.body)
        .unwrap_or_default();
    assert_eq!(to_practice["change"], "emergency-treatment-plan");
    assert_eq!(to_practice["planId"], id.as_str());
    assert_eq!(to_practice["changedBy"]["organisation"], "NLO12");
    assert_eq!(to_practice["changedBy"]["role"], "ooh");
    // A change that does not notify (the person's own words, by a clinician): nothing.
    let (_, doc) = s
        .app
        .get_json(&format!("/v1/care-plans/{id}"), Role::Clinician)
        .await;
    let tag = doc["sections"]["what-matters"]["etag"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let res = s
        .app
        .put_section(
            &id,
            "what-matters",
            &tag,
            &json!({"inTheirOwnWords": "Home."}),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    // The person withdraws their plan themselves: nobody is told (it is their own change).
    let res = s
        .app
        .client
        .post(s.app.url("/v1/me/care-plan/withdraw"))
        .bearer_auth(token_with(Role::Patient, Some(&person)))
        .header("If-Match", s.etag(&id).await)
        .json(&json!({"reason": "I no longer want a plan."}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status().as_u16(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
    // The person is not told of their own change; their practice is (a withdrawal by the
    // person is outside the practice, and their GP must know of it).
    s.expect("person", 2).await;
    s.expect("practice", 2).await;

    // Every message is in the person's access log, and replays as what was sent.
    let res = s
        .app
        .client
        .get(s.app.url("/v1/me/access-log?limit=200"))
        .bearer_auth(token_with(Role::Patient, Some(&person)))
        .send()
        .await
        .unwrap();
    let log: Value = res.json().await.unwrap();
    let said: Vec<String> = log["entries"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter_map(|x| x["description"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        said.iter()
            .filter(|d| d.starts_with("told you of a change"))
            .count(),
        2,
        "{said:#?}"
    );
    assert_eq!(
        said.iter()
            .filter(|d| d.starts_with("told your GP practice (F84001)"))
            .count(),
        2,
        "{said:#?}"
    );
    let owner = s.app.test_db.owner_client().await;
    let entry: uuid::Uuid = owner
        .query_one(
            "SELECT entry_id FROM access_log WHERE action = 'notifyPractice' AND nhs_number = $1 \
             ORDER BY at LIMIT 1",
            &[&person],
        )
        .await
        .unwrap()
        .get(0);
    let replayed = crate::helpers::replayed(&s.app, &entry.to_string()).await;
    assert_eq!(replayed, to_practice, "the replay is the message sent");
}

#[tokio::test]
async fn changes_within_the_window_are_one_message_to_the_person() {
    // A window long enough that a loaded machine still makes the three changes within it.
    let s = setup(Duration::from_secs(5)).await;
    let person = nhs(4101);
    let plan = s.app.create_plan(&body(&person)).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    // Spread over the window, each after the notifier has had time to send (it looks every
    // 50 ms): without the window, these would be three messages.
    tokio::time::sleep(Duration::from_millis(500)).await;
    s.ooh_changes_the_etp(&id).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    s.ooh_records_cpr(&id, "attempts-not-recommended").await;
    // One message for the three changes (the last by the out-of-hours GP); the practice hears
    // of each change from outside.
    s.expect("person", 1).await;
    s.expect("practice", 2).await;
    let to_person = s
        .received()
        .into_iter()
        .find(|r| r.to == "person")
        .map(|r| r.body)
        .unwrap_or_default();
    assert_eq!(
        to_person["data"]["attributes"]["personalisation"]["updatedBy"],
        "an out-of-hours GP"
    );
}

#[tokio::test]
async fn opting_out_stops_the_persons_messages_but_not_the_practices() {
    let s = setup(Duration::from_millis(300)).await;
    let person = nhs(4102);
    let me = token_with(Role::Patient, Some(&person));
    let plan = s.app.create_plan(&body(&person)).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    s.expect("person", 1).await;
    // The choice, with its ETag; bad input and stale tags are refused.
    let res = s
        .app
        .client
        .get(s.app.url("/v1/me/notifications"))
        .bearer_auth(&me)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let choice: Value = res.json().await.unwrap();
    assert_eq!(choice["messages"], "on");
    assert_eq!(choice["etag"], "\"notifications.0\"");
    let put = |tag: Option<&str>, body: Value, bearer: String| {
        let mut req = s
            .app
            .client
            .put(s.app.url("/v1/me/notifications"))
            .bearer_auth(bearer)
            .json(&body);
        if let Some(tag) = tag {
            req = req.header("If-Match", tag);
        }
        req.send()
    };
    problem(
        put(None, json!({"messages": "off"}), me.clone())
            .await
            .unwrap(),
        428,
    )
    .await;
    problem(
        put(Some("\"plan.1\""), json!({"messages": "off"}), me.clone())
            .await
            .unwrap(),
        400,
    )
    .await;
    problem(
        put(
            Some("\"notifications.0\""),
            json!({"messages": "sometimes"}),
            me.clone(),
        )
        .await
        .unwrap(),
        422,
    )
    .await;
    problem(
        put(
            Some("\"notifications.0\""),
            json!({"messages": "off", "x": 1}),
            me.clone(),
        )
        .await
        .unwrap(),
        400,
    )
    .await;
    problem(
        put(
            Some("\"notifications.0\""),
            json!({"messages": "off"}),
            token(Role::Clinician),
        )
        .await
        .unwrap(),
        403,
    )
    .await;
    problem(
        put(
            Some("\"notifications.0\""),
            json!({"messages": "off"}),
            "not-a-token".into(),
        )
        .await
        .unwrap(),
        401,
    )
    .await;
    let res = put(
        Some("\"notifications.0\""),
        json!({"messages": "off"}),
        me.clone(),
    )
    .await
    .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let off: Value = res.json().await.unwrap();
    assert_eq!(off["messages"], "off");
    problem(
        put(
            Some("\"notifications.0\""),
            json!({"messages": "on"}),
            me.clone(),
        )
        .await
        .unwrap(),
        412,
    )
    .await;
    // Now a change from outside: the practice is told, the person is not.
    s.ooh_changes_the_etp(&id).await;
    s.expect("practice", 1).await;
    s.expect("person", 1).await;
}

#[tokio::test]
async fn a_proxy_may_not_change_the_persons_choice() {
    let s = setup(Duration::from_millis(300)).await;
    let person = nhs(4103);
    let proxy_number = nhs(4104);
    s.app.create_plan(&body(&person)).await;
    // The person names the proxy, who may then act for them, but not on this.
    let res = s
        .app
        .client
        .post(s.app.url("/v1/me/proxies"))
        .bearer_auth(token_with(Role::Patient, Some(&person)))
        .json(&json!({"nhsNumber": proxy_number, "name": "Sam Example",
            "relationship": "daughter", "basis": "named-by-person"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    let res = s
        .app
        .client
        .put(s.app.url("/v1/me/notifications"))
        .bearer_auth(token_with(Role::Patient, Some(&proxy_number)))
        .header("UCP-On-Behalf-Of", &person)
        .header("If-Match", "\"notifications.0\"")
        .json(&json!({"messages": "off"}))
        .send()
        .await
        .unwrap();
    let refused = problem(res, 403).await;
    assert!(
        refused["detail"]
            .as_str()
            .is_some_and(|d| d.contains("nothing else on their behalf")),
        "{refused}"
    );
}

#[tokio::test]
async fn a_retry_of_a_message_nhs_notify_had_is_not_a_second_message() {
    let s = setup(Duration::from_millis(100)).await;
    s.receivers.lock().unwrap().lose_next_answer = true;
    let person = nhs(4109);
    s.app.create_plan(&body(&person)).await;
    // NHS Notify took it but the answer was lost: the retry is refused as a duplicate, which
    // means it was had. One message; nothing parked; one entry, as sent.
    s.expect("person", 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (_, letters) = s
        .app
        .get_json("/v1/notifications/dead-letters", Role::Admin)
        .await;
    assert_eq!(letters, json!([]));
    let owner = s.app.test_db.owner_client().await;
    let statuses: Vec<i16> = owner
        .query(
            "SELECT status FROM access_log WHERE action = 'notifyPerson' AND nhs_number = $1",
            &[&person],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(statuses, vec![201]);
}

#[tokio::test]
async fn no_message_to_the_person_after_their_death() {
    let s = setup(Duration::from_secs(3)).await;
    let person = nhs(4105);
    let plan = s.app.create_plan(&body(&person)).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    s.expect("person", 1).await;
    // A change from outside, then (within the window) the death: the person's waiting
    // message is not sent; the practice hears of both. The practice's message says the
    // notifier has the change (and the person's message waiting) before the death is recorded.
    s.ooh_changes_the_etp(&id).await;
    s.expect("practice", 1).await;
    let res = s
        .app
        .client
        .post(s.app.url(&format!("/v1/care-plans/{id}/person-died")))
        .bearer_auth(token_at(Role::Ooh, "NLO12"))
        .header("If-Match", s.etag(&id).await)
        .json(&json!({"dateOfDeath": chrono::Utc::now().date_naive().to_string()}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status().as_u16(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
    s.expect("practice", 2).await;
    // Past the window of the change made before the death: its message was due, and is not sent.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    s.expect("person", 1).await;
    let death = s
        .received()
        .into_iter()
        .rev()
        .find(|r| r.to == "practice")
        .map(|r| r.body)
        .unwrap_or_default();
    assert_eq!(death["change"], "death");
}

#[tokio::test]
async fn dead_letters_are_listed_and_redelivered_by_an_admin() {
    let s = setup(Duration::from_millis(100)).await;
    s.receivers.lock().unwrap().down = true;
    let person = nhs(4106);
    s.app.create_plan(&body(&person)).await;
    // Two attempts, then parked.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let letters = loop {
        let (status, letters) = s
            .app
            .get_json("/v1/notifications/dead-letters", Role::Admin)
            .await;
        assert_eq!(status, 200);
        if letters.as_array().is_some_and(|l| !l.is_empty()) {
            break letters;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "nothing parked after 10 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let letter = &letters[0];
    assert_eq!(letter["recipient"], "person");
    assert_eq!(letter["nhsNumber"], person.as_str());
    assert_eq!(letter["attempts"], 2);
    let id = letter["id"].as_str().unwrap_or_default().to_owned();
    let path = format!("/v1/notifications/dead-letters/{id}/redeliver");
    // Only an admin; bad and unknown ids.
    for role in [Role::Clinician, Role::Dispatch, Role::PrivacyOfficer] {
        let res = s.app.req(Method::POST, &path, role).send().await.unwrap();
        problem(res, 403).await;
    }
    let res = s
        .app
        .req(
            Method::POST,
            "/v1/notifications/dead-letters/nope/redeliver",
            Role::Admin,
        )
        .send()
        .await
        .unwrap();
    problem(res, 400).await;
    let unknown = format!(
        "/v1/notifications/dead-letters/{}/redeliver",
        uuid::Uuid::now_v7()
    );
    let res = s
        .app
        .req(Method::POST, &unknown, Role::Admin)
        .send()
        .await
        .unwrap();
    problem(res, 404).await;
    // Redelivered once the receiver is back: it arrives; a second redelivery is a conflict.
    s.receivers.lock().unwrap().down = false;
    let res = s
        .app
        .req(Method::POST, &path, Role::Admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    s.expect("person", 1).await;
    let res = s
        .app
        .req(Method::POST, &path, Role::Admin)
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res, 409).await["code"], "already_redelivered");
    // The parked attempt and the redelivery are both on the person's log.
    let owner = s.app.test_db.owner_client().await;
    let statuses: Vec<i16> = owner
        .query(
            "SELECT status FROM access_log WHERE action = 'notifyPerson' AND nhs_number = $1 ORDER BY at",
            &[&person],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(statuses, vec![502, 201]);
}

#[tokio::test]
async fn a_server_that_does_not_notify_says_so() {
    let app = TestApp::spawn().await;
    let res = app
        .req(
            Method::POST,
            &format!(
                "/v1/notifications/dead-letters/{}/redeliver",
                uuid::Uuid::now_v7()
            ),
            Role::Admin,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res, 409).await["code"], "notifying_off");
}

#[tokio::test]
async fn each_kind_of_notifying_change_is_one_message_to_the_person() {
    let s = setup(Duration::from_millis(100)).await;
    let person = nhs(4107);
    let son = nhs(4108);
    let mut plan_body = body(&person);
    plan_body["contacts"]["personal"] = json!([{ "name": "Tom Example", "relationship": "son",
        "phone": "07700 900456", "lpaHealthAndWelfare": "yes", "lpaPropertyAndFinancial": "no",
        "nhsNumber": son, "lpaRegistrationReference": "7000-1234-5678" }]);
    // Made (with its Emergency Treatment Plan, in one change): one message.
    let plan = s.app.create_plan(&plan_body).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    s.expect("person", 1).await;
    // The Emergency Treatment Plan changed (from outside the practice: the practice too).
    s.ooh_changes_the_etp(&id).await;
    s.expect("person", 2).await;
    s.expect("practice", 1).await;
    // A correction: a section entered in error, retracted.
    let res = s
        .app
        .req(
            Method::DELETE,
            &format!("/v1/care-plans/{id}/sections/what-matters"),
            Role::Clinician,
        )
        .header("If-Match", s.etag(&id).await)
        .json(&json!({"reason": "Entered on the wrong person's plan."}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status().as_u16(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
    s.expect("person", 3).await;
    // An attorney given proxy access by a clinician of the practice.
    let res = s
        .app
        .req(
            Method::POST,
            &format!("/v1/care-plans/{id}/proxies"),
            Role::Clinician,
        )
        .json(
            &json!({"nhsNumber": son, "name": "Tom Example", "relationship": "son",
            "basis": "lasting-power-of-attorney", "lpaRegistrationReference": "7000-1234-5678"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status().as_u16(),
        201,
        "{}",
        res.text().await.unwrap_or_default()
    );
    s.expect("person", 4).await;
    // A care home records that they live there (a home is outside the practice).
    let res = s
        .app
        .client
        .post(s.app.url("/v1/care-home/residents"))
        .bearer_auth(crate::helpers::token_for_home(
            "VM1A2",
            "Rosewood Care Home",
        ))
        .json(&json!({"nhsNumber": person, "birthDate": "1941-02-03",
            "since": chrono::Utc::now().date_naive().to_string()}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status().as_u16(),
        201,
        "{}",
        res.text().await.unwrap_or_default()
    );
    s.expect("person", 5).await;
    s.expect("practice", 2).await;
    // The person revokes the attorney's access themselves: they are not told (their own
    // change); their practice is.
    let grant: Value = {
        let res = s
            .app
            .client
            .get(s.app.url("/v1/me/proxies"))
            .bearer_auth(token_with(Role::Patient, Some(&person)))
            .send()
            .await
            .unwrap();
        res.json().await.unwrap()
    };
    let grant_id = grant["grants"][0]["grantId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let res = s
        .app
        .client
        .post(s.app.url(&format!("/v1/me/proxies/{grant_id}/revoke")))
        .bearer_auth(token_with(Role::Patient, Some(&person)))
        .json(&json!({"reason": "I manage my own plan now."}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status().as_u16(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
    s.expect("practice", 3).await;
    s.expect("person", 5).await;
    // Withdrawn, then voided.
    for (action, reason, told) in [
        ("withdraw", "No longer wanted.", 6),
        ("void", "Made in error.", 7),
    ] {
        let res = s
            .app
            .req(
                Method::POST,
                &format!("/v1/care-plans/{id}/{action}"),
                Role::Clinician,
            )
            .header("If-Match", s.etag(&id).await)
            .json(&json!({"reason": reason}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status().as_u16(),
            200,
            "{action}: {}",
            res.text().await.unwrap_or_default()
        );
        s.expect("person", told).await;
    }
    s.expect("practice", 3).await;
}

#[tokio::test]
async fn turning_the_notifier_on_tells_no_one_of_the_past() {
    // Twenty people's plans, made before the notifier was ever on.
    let db = crate::helpers::TestDb::migrated().await;
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
    let s = setup_on(Some(db), Duration::from_millis(100)).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(s.received().len(), 0, "{:#?}", s.received());
    // A change made once it is on is told.
    s.app.create_plan(&body(&nhs(4110))).await;
    s.expect("person", 1).await;
}
