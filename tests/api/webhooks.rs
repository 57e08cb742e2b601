//! Webhooks with real HTTP receivers: every change arrives, signed, in order, once per delivery
//! id — after the receiver was down, and after the delivering server was killed and another took
//! over; dead letters are parked and redelivered.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use reqwest::Method;
use serde_json::{json, Value};
use ucp_api::Role;

use crate::helpers::{nhs, plan_body, token_with, TestApp, TestDb};

const SECRET: &str = "receiver-secret-0123456789";

#[derive(Debug, Clone)]
struct Delivery {
    delivery_id: String,
    change_id: String,
    signature_ok: bool,
    body: Value,
}

#[derive(Default)]
struct Inbox {
    down: bool,
    slow: bool,
    deliveries: Vec<Delivery>,
}

/// A receiver on a random port, recording what arrives; `down` makes it answer 503.
struct Receiver {
    url: String,
    inbox: Arc<Mutex<Inbox>>,
    _server: actix_web::dev::ServerHandle,
}

async fn receive(
    req: HttpRequest,
    body: web::Bytes,
    inbox: web::Data<Arc<Mutex<Inbox>>>,
) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let timestamp: i64 = header("x-ucp-timestamp").parse().unwrap_or_default();
    let signature_ok = ucp_api::webhooks::signature::verify(
        SECRET.as_bytes(),
        timestamp,
        &body,
        &header("x-ucp-signature"),
    );
    let slow = inbox.lock().map(|i| i.slow).unwrap_or(false);
    if slow {
        // Longer than the server's delivery timeout in tests (2 s).
        tokio::time::sleep(Duration::from_secs(4)).await;
    }
    let Ok(mut inbox) = inbox.lock() else {
        return HttpResponse::InternalServerError().finish();
    };
    if inbox.down {
        return HttpResponse::ServiceUnavailable().finish();
    }
    inbox.deliveries.push(Delivery {
        delivery_id: header("x-ucp-delivery-id"),
        change_id: header("x-ucp-change-id"),
        signature_ok,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });
    HttpResponse::NoContent().finish()
}

/// The test receiver's TLS settings: a certificate for 127.0.0.1 signed by the test CA.
fn receiver_tls() -> rustls::ServerConfig {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let keys = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/keys");
    let certs = CertificateDer::pem_file_iter(keys.join("localhost.pem"))
        .and_then(|c| c.collect::<Result<Vec<_>, _>>())
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(keys.join("localhost.key")).unwrap();
    rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
    .unwrap()
}

impl Receiver {
    fn start() -> Self {
        Self::start_with(None)
    }

    /// A receiver behind `https://`.
    fn start_tls() -> Self {
        Self::start_with(Some(receiver_tls()))
    }

    fn start_with(tls: Option<rustls::ServerConfig>) -> Self {
        let inbox = Arc::new(Mutex::new(Inbox::default()));
        let data = web::Data::new(inbox.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/hook", web::post().to(receive))
        })
        .workers(1);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let server = match tls {
            Some(config) => server.listen_rustls_0_23(listener, config),
            None => server.listen(listener),
        }
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            url: format!("{scheme}://127.0.0.1:{port}/hook"),
            inbox,
            _server: handle,
        }
    }

    fn set_down(&self, down: bool) {
        if let Ok(mut inbox) = self.inbox.lock() {
            inbox.down = down;
        }
    }

    fn set_slow(&self, slow: bool) {
        if let Ok(mut inbox) = self.inbox.lock() {
            inbox.slow = slow;
        }
    }

    fn deliveries(&self) -> Vec<Delivery> {
        self.inbox
            .lock()
            .map(|i| i.deliveries.clone())
            .unwrap_or_default()
    }

    /// Distinct change ids in order of first arrival.
    fn first_arrivals(&self) -> Vec<String> {
        let mut seen = HashSet::new();
        self.deliveries()
            .into_iter()
            .filter(|d| seen.insert(d.change_id.clone()))
            .map(|d| d.change_id)
            .collect()
    }

    async fn wait_for(&self, count: usize, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        while self.first_arrivals().len() < count {
            assert!(
                tokio::time::Instant::now() < deadline,
                "only {} of {count} changes arrived",
                self.first_arrivals().len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The subscription's dead letters, once at least one is parked (within 20 s).
async fn parked(app: &TestApp, id: &str, admin: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no dead letter was parked"
        );
        let letters: Value = app
            .client
            .get(app.url(&format!("/v1/subscriptions/{id}/dead-letters")))
            .bearer_auth(admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if letters.as_array().is_some_and(|l| !l.is_empty()) {
            return letters;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The change ids of the whole feed, in commit order (`expected` of them).
async fn feed_order(base: &str, client: &reqwest::Client, expected: usize) -> Vec<String> {
    crate::helpers::all_changes(base, client, expected)
        .await
        .0
        .iter()
        .filter_map(|c| c["changeId"].as_str().map(str::to_owned))
        .collect()
}

async fn subscribe(base: &str, client: &reqwest::Client, mut body: Value) -> Value {
    if body.get("name").is_none() {
        body["name"] = json!("Test receiver");
    }
    let res = client
        .post(format!("{base}/v1/subscriptions"))
        .bearer_auth(token_with(Role::Admin, None))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    res.json().await.unwrap()
}

/// Every delivery is signed; each change was accepted at least once and at most `at_most`
/// times, always under one delivery id of its own (so a receiver can drop repeats).
fn assert_delivered(receiver: &Receiver, at_most: usize) {
    let deliveries = receiver.deliveries();
    let mut per_change: std::collections::HashMap<&str, (usize, HashSet<&str>)> =
        std::collections::HashMap::new();
    for d in &deliveries {
        assert!(d.signature_ok, "every payload is signed: {d:?}");
        let (count, ids) = per_change.entry(&d.change_id).or_default();
        *count += 1;
        ids.insert(&d.delivery_id);
    }
    let mut all_ids = HashSet::new();
    for (change, (count, ids)) in &per_change {
        assert!(
            *count <= at_most,
            "change {change} was accepted {count} times (at most {at_most})"
        );
        assert_eq!(ids.len(), 1, "change {change} came under one delivery id");
        assert!(
            all_ids.insert(ids.iter().next().copied()),
            "a delivery id per change"
        );
    }
}

#[tokio::test]
async fn every_change_arrives_signed_in_order_after_the_receiver_was_down() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start();
    let sub = subscribe(
        &app.address,
        &app.client,
        json!({ "targetUrl": receiver.url, "secret": SECRET, "maxAttempts": 40 }),
    )
    .await;
    assert!(
        sub.get("secret").is_none(),
        "the secret is never shown again"
    );
    for i in 0..3 {
        app.create_plan(&plan_body(&nhs(500 + i))).await;
    }
    receiver.wait_for(9, Duration::from_secs(30)).await;
    receiver.set_down(true);
    for i in 3..5 {
        app.create_plan(&plan_body(&nhs(500 + i))).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    receiver.set_down(false);
    receiver.wait_for(15, Duration::from_secs(30)).await;
    assert_eq!(
        receiver.first_arrivals(),
        feed_order(&app.address, &app.client, app.event_count().await).await,
        "in feed order"
    );
    assert_delivered(&receiver, 1);
    let first = &receiver.deliveries()[0];
    assert_eq!(first.body["changeType"], "CarePlanCreated");
    assert_eq!(
        first.body["changeId"].as_str(),
        Some(first.change_id.as_str())
    );
}

#[tokio::test]
async fn failed_deliveries_are_parked_then_redelivered_on_request() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start();
    receiver.set_down(true);
    let sub = subscribe(
        &app.address,
        &app.client,
        json!({ "targetUrl": receiver.url, "secret": SECRET, "maxAttempts": 2, "changeTypes": ["CarePlanCreated"] }),
    )
    .await;
    let id = sub["id"].as_str().unwrap_or_default().to_owned();
    app.create_plan(&plan_body(&nhs(520))).await;
    let admin = token_with(Role::Admin, None);
    let letters = parked(&app, &id, &admin).await;
    assert_eq!(
        letters.as_array().map(Vec::len),
        Some(1),
        "only the wanted change type: {letters}"
    );
    let letter = &letters[0];
    assert_eq!(letter["attempts"], 2);
    // The receiver is on this machine, not the public internet: the admin is told that it
    // refused, never what it answered (a subscription is no port scanner).
    let last_error = letter["lastError"].as_str().unwrap_or_default();
    assert!(
        last_error.contains("refused the delivery") && !last_error.contains("503"),
        "{letter}"
    );
    // Continue policy: later changes still flow once the receiver is back.
    receiver.set_down(false);
    app.create_plan(&plan_body(&nhs(521))).await;
    receiver.wait_for(1, Duration::from_secs(20)).await;
    let redeliver = |dl: &str| {
        app.client
            .post(app.url(&format!(
                "/v1/subscriptions/{id}/dead-letters/{dl}/redeliver"
            )))
            .bearer_auth(&admin)
            .send()
    };
    let dl = letter["id"].as_str().unwrap_or_default().to_owned();
    let res = redeliver(&dl).await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let settled: Value = res.json().await.unwrap();
    assert!(settled["redeliveredAt"].is_string());
    receiver.wait_for(2, Duration::from_secs(5)).await;
    assert_eq!(receiver.first_arrivals().len(), 2);
    assert_delivered(&receiver, 1);
    // A redelivery that fails again is a 502 and the letter stays.
    receiver.set_down(true);
    let again = redeliver(&dl).await.unwrap();
    assert_eq!(again.status().as_u16(), 502);

    // Bad subscriptions and who may manage them.
    for body in [
        json!({ "targetUrl": "ftp://x", "secret": SECRET }),
        json!({ "targetUrl": receiver.url, "secret": "short" }),
        json!({ "targetUrl": receiver.url, "secret": SECRET, "changeTypes": ["Nope"] }),
        json!({ "targetUrl": receiver.url, "secret": SECRET, "maxAttempts": 0 }),
    ] {
        let res = app
            .client
            .post(app.url("/v1/subscriptions"))
            .bearer_auth(&admin)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 422, "{body}");
    }
    let res = app
        .req(Method::POST, "/v1/subscriptions", Role::Dispatch)
        .json(&json!({ "targetUrl": receiver.url, "secret": SECRET }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
    let del = app
        .client
        .delete(app.url(&format!("/v1/subscriptions/{id}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status().as_u16(), 204);
    let list: Value = app
        .client
        .get(app.url("/v1/subscriptions"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn a_receiver_that_does_not_answer_in_time_fails_the_attempt() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start();
    receiver.set_slow(true);
    let sub = subscribe(
        &app.address,
        &app.client,
        json!({ "targetUrl": receiver.url, "secret": SECRET, "maxAttempts": 1, "changeTypes": ["CarePlanCreated"] }),
    )
    .await;
    let id = sub["id"].as_str().unwrap_or_default().to_owned();
    app.create_plan(&plan_body(&nhs(530))).await;
    let admin = token_with(Role::Admin, None);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let letters: Value = app
            .client
            .get(app.url(&format!("/v1/subscriptions/{id}/dead-letters")))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if let Some(letter) = letters.as_array().and_then(|l| l.first()) {
            assert!(
                letter["lastError"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("did not answer in time"),
                "{letter}"
            );
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the slow delivery was never given up"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Starts the real binary on the database and waits until it is ready.
async fn start_server(db: &TestDb) -> (tokio::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_ucp"))
        .arg("serve")
        .env("DATABASE_URL", db.url())
        .env("UCP_LISTEN", format!("127.0.0.1:{port}"))
        .env("UCP_JWT_SECRET", "test-secret")
        .env("UCP_WEBHOOK_ALLOW_HTTP", "true")
        .env("UCP_WEBHOOK_ALLOW", "127.0.0.1")
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if reqwest::get(format!("{base}/readyz"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return (child, base);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not become ready");
}

async fn create(base: &str, client: &reqwest::Client, i: u32) {
    let res = client
        .post(format!("{base}/v1/care-plans"))
        .bearer_auth(token_with(Role::Clinician, None))
        .json(&plan_body(&nhs(i)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
}

#[tokio::test]
async fn when_the_delivering_server_is_killed_another_takes_over_without_losing_a_change() {
    let db = TestDb::migrated().await;
    let client = reqwest::Client::new();
    let receiver = Receiver::start();
    let (mut first, a) = start_server(&db).await;
    subscribe(
        &a,
        &client,
        json!({ "targetUrl": receiver.url, "secret": SECRET, "maxAttempts": 40 }),
    )
    .await;
    for i in 0..3 {
        create(&a, &client, 600 + i).await;
    }
    receiver.wait_for(9, Duration::from_secs(30)).await;
    // The first server leads; a second one starts and waits its turn.
    let (mut second, b) = start_server(&db).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    first.start_kill().unwrap();
    let _ = first.wait().await;
    for i in 3..6 {
        create(&b, &client, 600 + i).await;
    }
    receiver.wait_for(18, Duration::from_secs(60)).await;
    assert_eq!(
        receiver.first_arrivals(),
        feed_order(&b, &client, db.event_count().await).await,
        "in feed order, none lost"
    );
    // A server killed between a delivery and its checkpoint sends that change again.
    assert_delivered(&receiver, 2);
    second.start_kill().unwrap();
    let _ = second.wait().await;
}

/// Every access-log entry of deliveries, as JSON.
async fn delivery_entries(app: &TestApp) -> Vec<Value> {
    app.test_db
        .owner_client()
        .await
        .query(
            "SELECT to_jsonb(a) FROM access_log a WHERE role = 'webhook' ORDER BY at, entry_id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<_, Value>(0))
        .collect()
}

#[tokio::test]
async fn a_new_subscription_gets_only_new_changes_unless_a_replay_is_asked_for() {
    let app = TestApp::spawn().await;
    // An older transaction still open holds the feed's fence below the old plan's write, so
    // the subscription's starting position is before it: only the snapshot taken at creation
    // tells that the old plan was already committed.
    let holder = app.test_db.owner_client().await;
    holder
        .batch_execute("BEGIN; SELECT pg_current_xact_id();")
        .await
        .unwrap();
    let old = nhs(540);
    app.create_plan(&plan_body(&old)).await;
    let receiver = Receiver::start();
    let sub = subscribe(
        &app.address,
        &app.client,
        json!({ "name": "LAS dispatch", "targetUrl": receiver.url, "secret": SECRET }),
    )
    .await;
    holder.batch_execute("COMMIT").await.unwrap();
    assert_eq!(sub["startedFrom"], "now");
    assert_eq!(sub["name"], "LAS dispatch");
    let new = nhs(541);
    app.create_plan(&plan_body(&new)).await;
    receiver.wait_for(1, Duration::from_secs(20)).await;
    // Another change after it: once that has come, the old plan's create can no longer be
    // on its way (deliveries are in feed order).
    app.create_plan(&plan_body(&nhs(542))).await;
    receiver.wait_for(2, Duration::from_secs(20)).await;
    let people: Vec<String> = receiver
        .deliveries()
        .iter()
        .filter_map(|d| d.body["nhsNumber"].as_str().map(str::to_owned))
        .collect();
    assert!(
        !people.contains(&old),
        "history is not exported: {people:?}"
    );
    assert!(people.contains(&new));

    // Each change sent is in the access log, and the person sees whom it was shared with.
    let logged = delivery_entries(&app).await;
    assert!(
        logged.iter().any(|e| e["nhs_number"] == new.as_str()
            && e["actor_name"] == "LAS dispatch"
            && e["detail"]["subscriptionId"] == sub["id"]),
        "{logged:?}"
    );
    let mine: Value = app
        .client
        .get(app.url("/v1/me/access-log"))
        .bearer_auth(token_with(Role::Patient, Some(&new)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        mine["entries"].as_array().is_some_and(|a| a
            .iter()
            .any(|e| e["description"] == "shared with LAS dispatch")),
        "{mine}"
    );
    let audit: Value = app
        .req(
            Method::GET,
            &format!("/v1/audit?nhsNumber={new}"),
            Role::Admin,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        audit["entries"]
            .as_array()
            .is_some_and(|a| a.iter().any(|e| e["action"] == "deliverWebhook")),
        "{audit}"
    );

    // An explicit replay from the start exports history, and says so in the log.
    let replaying = Receiver::start();
    let sub = subscribe(
        &app.address,
        &app.client,
        json!({ "name": "Replay", "targetUrl": replaying.url, "secret": SECRET, "replayFrom": "start" }),
    )
    .await;
    assert_eq!(sub["startedFrom"], "replay");
    replaying.wait_for(3, Duration::from_secs(20)).await;
    assert!(replaying
        .deliveries()
        .iter()
        .any(|d| d.body["nhsNumber"] == old.as_str()));
    let created = app
        .test_db
        .owner_client()
        .await
        .query_one(
            "SELECT detail FROM access_log WHERE action = 'createSubscription' \
             AND detail->>'replayFrom' = 'start'",
            &[],
        )
        .await;
    assert!(
        created.is_ok(),
        "the replay request is logged with its start"
    );

    // Bad input: a cursor that is not ours, no name.
    for body in [
        json!({ "name": "x", "targetUrl": receiver.url, "secret": SECRET, "replayFrom": "nope" }),
        json!({ "name": "", "targetUrl": receiver.url, "secret": SECRET }),
    ] {
        let res = app
            .req(Method::POST, "/v1/subscriptions", Role::Admin)
            .json(&body)
            .send()
            .await
            .unwrap();
        crate::helpers::problem(res, 422).await;
    }
}

#[tokio::test]
async fn an_https_receiver_gets_signed_deliveries_and_http_is_refused_by_default() {
    let ca = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/keys/test-ca.pem");
    let app = TestApp::spawn_tuned(|c| {
        c.webhook_tls = ucp_api::webhooks::WebhookTls {
            allow_http: false,
            ca_file: Some(ca),
            allow: crate::helpers::loopback_allowed(),
        };
    })
    .await;
    let plain = Receiver::start();
    let res = app
        .req(Method::POST, "/v1/subscriptions", Role::Admin)
        .json(&json!({ "name": "Plain", "targetUrl": plain.url, "secret": SECRET }))
        .send()
        .await
        .unwrap();
    let body = crate::helpers::problem(res, 422).await;
    assert!(body.to_string().contains("https"), "{body}");

    let receiver = Receiver::start_tls();
    assert!(receiver.url.starts_with("https://"));
    subscribe(
        &app.address,
        &app.client,
        json!({ "name": "TLS receiver", "targetUrl": receiver.url, "secret": SECRET }),
    )
    .await;
    let number = nhs(545);
    app.create_plan(&plan_body(&number)).await;
    receiver.wait_for(1, Duration::from_secs(20)).await;
    let delivered = receiver.deliveries();
    assert!(delivered.iter().all(|d| d.signature_ok));
    assert_eq!(delivered[0].body["nhsNumber"], number.as_str());
}

#[tokio::test]
async fn targets_at_reserved_addresses_or_outside_the_allow_list_are_refused() {
    let receiver = Receiver::start();
    // By default: anywhere but loopback, link-local and metadata addresses.
    let open =
        TestApp::spawn_tuned(|c| c.webhook_tls.allow = ucp_api::webhooks::TargetPolicy::default())
            .await;
    for (target, words) in [
        (receiver.url.clone(), "loopback"),
        ("http://localhost:9/hook".to_owned(), "loopback"),
        (
            "http://169.254.169.254/latest/meta-data".to_owned(),
            "cloud metadata",
        ),
        ("http://[fe80::1]/".to_owned(), "link-local"),
        ("http://0.0.0.0:9/".to_owned(), "unspecified"),
        // IPv6 forms that carry a reserved IPv4 address, and site-local.
        ("http://[::127.0.0.1]/".to_owned(), "loopback"),
        ("http://[::ffff:0:7f00:1]/".to_owned(), "loopback"),
        ("http://[64:ff9b::7f00:1]/".to_owned(), "loopback"),
        ("http://[2002:7f00:1::]/".to_owned(), "loopback"),
        ("http://[2001:0:7f00:1::1]/".to_owned(), "loopback"),
        ("http://[2002:a9fe:a9fe::1]/".to_owned(), "cloud metadata"),
        ("http://[fec0::1]/".to_owned(), "site-local"),
    ] {
        let res = open
            .req(Method::POST, "/v1/subscriptions", Role::Admin)
            .json(&json!({ "name": "x", "targetUrl": target, "secret": SECRET }))
            .send()
            .await
            .unwrap();
        let body = crate::helpers::problem(res, 422).await;
        assert!(body.to_string().contains(words), "{target}: {body}");
        assert_eq!(body["errors"][0]["pointer"], "/targetUrl", "{body}");
    }
    // A list admits only what it names.
    let listed = TestApp::spawn_tuned(|c| {
        c.webhook_tls.allow = "hooks.example.org,10.0.0.0/8".parse().unwrap();
    })
    .await;
    let res = listed
        .req(Method::POST, "/v1/subscriptions", Role::Admin)
        .json(&json!({ "name": "x", "targetUrl": receiver.url, "secret": SECRET }))
        .send()
        .await
        .unwrap();
    let body = crate::helpers::problem(res, 422).await;
    assert!(body.to_string().contains("allow-list"), "{body}");
    let res = listed
        .req(Method::POST, "/v1/subscriptions", Role::Admin)
        .json(&json!({ "name": "x", "targetUrl": "http://10.20.30.40:9/hook", "secret": SECRET }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "a listed network is admitted");
    // Nothing was subscribed by the refusals.
    let listed_subs: Value = open
        .req(Method::GET, "/v1/subscriptions", Role::Admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed_subs.as_array().map(Vec::len),
        Some(0),
        "{listed_subs}"
    );
}

/// A change parked before the person withdrew consent to share goes out, when redelivered, as
/// the feed says it now: drop what you hold, with no summary.
#[tokio::test]
async fn a_parked_change_redelivered_after_consent_was_withdrawn_carries_no_summary() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start();
    receiver.set_down(true);
    let sub = subscribe(
        &app.address,
        &app.client,
        json!({ "targetUrl": receiver.url, "secret": SECRET, "maxAttempts": 1, "changeTypes": ["CarePlanCreated"] }),
    )
    .await;
    let id = sub["id"].as_str().unwrap_or_default().to_owned();
    let plan = app.create_plan(&plan_body(&nhs(523))).await;
    let plan_id = plan["id"].as_str().unwrap_or_default().to_owned();
    let admin = token_with(Role::Admin, None);
    let letter = parked(&app, &id, &admin).await[0].clone();
    assert!(letter["payload"]["summary"].is_object(), "{letter}");
    let res = app
        .write(
            Role::Clinician,
            Method::POST,
            &format!("/v1/care-plans/{plan_id}/consent/withdraw"),
            plan["etag"].as_str().unwrap_or_default(),
            &json!({ "reason": "Told the GP: not to be shared." }),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    receiver.set_down(false);
    let res = app
        .client
        .post(app.url(&format!(
            "/v1/subscriptions/{id}/dead-letters/{}/redeliver",
            letter["id"].as_str().unwrap_or_default()
        )))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    receiver.wait_for(1, Duration::from_secs(5)).await;
    let delivered = &receiver.deliveries()[0].body;
    assert_eq!(delivered["action"], "drop", "{delivered}");
    assert!(delivered["summary"].is_null(), "{delivered}");
}
