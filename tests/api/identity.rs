//! Real identities: tokens in the claim shapes NHS CIS2 and NHS login issue, signed with test
//! keys that a local JWKS server publishes, verified by the issuers of an identity
//! configuration file; purpose of use; and proxies acting for the person.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpResponse, HttpServer};
use jsonwebtoken::jwk::JwkSet;
use reqwest::Method;
use serde_json::{json, Value};
use ucp_api::auth::shapes::{self, Cis2Token, NhsLoginToken};
use ucp_api::auth::{IdentityConfig, ProofingLevel};
use ucp_store::AccessQuery;

use crate::helpers::{nhs, plan_body, problem, TestApp};

const CIS2: &str = "https://cis2.test.invalid";
const NHS_LOGIN: &str = "https://nhs-login.test.invalid";
const DISPATCH: &str = "https://dispatch.test.invalid";
const AUDIENCE: &str = "ucp-test";

fn key(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/keys")
        .join(format!("{name}.pem"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()))
}

fn jwks(keys: &[(&str, &str)]) -> Value {
    let keys: Vec<_> = keys
        .iter()
        .map(|(file, kid)| shapes::public_jwk(&key(file), kid).unwrap())
        .collect();
    serde_json::to_value(JwkSet { keys }).unwrap()
}

/// A JWKS endpoint whose key set the test changes, counting how often it is fetched.
struct JwksServer {
    url: String,
    keys: Arc<Mutex<Value>>,
    fetches: Arc<AtomicUsize>,
    server: actix_web::dev::ServerHandle,
}

impl JwksServer {
    fn start(initial: Value) -> Self {
        let keys = Arc::new(Mutex::new(initial));
        let fetches = Arc::new(AtomicUsize::new(0));
        let data = web::Data::new((keys.clone(), fetches.clone()));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(move || {
            App::new().app_data(data.clone()).route(
                "/jwks",
                web::get().to(
                    |data: web::Data<(Arc<Mutex<Value>>, Arc<AtomicUsize>)>| async move {
                        data.1.fetch_add(1, Ordering::SeqCst);
                        let body = data.0.lock().map(|k| k.clone()).unwrap_or(Value::Null);
                        HttpResponse::Ok().json(body)
                    },
                ),
            )
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            url: format!("http://127.0.0.1:{port}/jwks"),
            keys,
            fetches,
            server: handle,
        }
    }

    fn publish(&self, keys: Value) {
        if let Ok(mut k) = self.keys.lock() {
            *k = keys;
        }
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    /// The issuer's key endpoint goes away (connections are refused from now on).
    async fn go_down(&self) {
        self.server.stop(false).await;
    }
}

/// The server, trusting CIS2 and NHS login (keys by URL) and a dispatch issuer (keys from a
/// file), with the development secret still accepted for the helpers' clinician.
struct World {
    app: TestApp,
    cis2_keys: JwksServer,
    _nhs_login_keys: JwksServer,
    _dir: tempfile::TempDir,
}

async fn world(minimum: &str) -> World {
    let cis2_keys = JwksServer::start(jwks(&[("rsa-1", "cis2-1")]));
    let nhs_login_keys = JwksServer::start(jwks(&[("ec-1", "nl-1")]));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("dispatch-jwks.json"),
        jwks(&[("rsa-2", "disp-1")]).to_string(),
    )
    .unwrap();
    let config = format!(
        r#"
[nhs_login]
minimum_proofing_level = "{minimum}"

[[issuer]]
name = "cis2"
kind = "cis2"
issuer = "{CIS2}"
audience = "{AUDIENCE}"
jwks_url = "{cis2_url}"

[[issuer]]
name = "nhs-login"
kind = "nhs-login"
issuer = "{NHS_LOGIN}"
audience = "{AUDIENCE}"
jwks_url = "{nhs_login_url}"

[[issuer]]
name = "dispatch"
kind = "claims"
issuer = "{DISPATCH}"
audience = "{AUDIENCE}"
jwks_file = "dispatch-jwks.json"
role = "dispatch"
[issuer.claims]
name = "client_name"
"#,
        cis2_url = cis2_keys.url,
        nhs_login_url = nhs_login_keys.url,
    );
    let path = dir.path().join("identity.toml");
    std::fs::write(&path, config).unwrap();
    let issuers = Arc::new(IdentityConfig::load(&path).unwrap().issuers);
    let app = TestApp::spawn_tuned(move |c| c.identity = issuers).await;
    World {
        app,
        cis2_keys,
        _nhs_login_keys: nhs_login_keys,
        _dir: dir,
    }
}

fn now() -> u64 {
    chrono::Utc::now().timestamp().unsigned_abs()
}

fn sign(claims: Value, file: &str, kid: &str, iss: &str) -> String {
    shapes::sign(claims, &key(file), kid, iss, AUDIENCE, now(), now() + 600).unwrap()
}

/// The claims CIS2 issues for one selected role.
fn cis2_claims(sub: &str, org: &str, role_code: &str, activities: &[&str]) -> Value {
    shapes::cis2(&Cis2Token {
        sub: sub.into(),
        name: Some(format!("Dr {sub}")),
        org_code: org.into(),
        role_code: role_code.into(),
        activities: activities.iter().map(|a| (*a).to_owned()).collect(),
    })
}

/// A CIS2 token, signed with the key CIS2 publishes.
fn cis2(sub: &str, org: &str, role_code: &str, activities: &[&str]) -> String {
    sign(
        cis2_claims(sub, org, role_code, activities),
        "rsa-1",
        "cis2-1",
        CIS2,
    )
}

fn nhs_login(sub: &str, nhs_number: Option<&str>, level: ProofingLevel) -> String {
    let claims = shapes::nhs_login(&NhsLoginToken {
        sub: Some(sub.into()),
        nhs_number: nhs_number.map(str::to_owned),
        proofing: level,
        name: Some(format!("Person {sub}")),
    });
    sign(claims, "ec-1", "nl-1", NHS_LOGIN)
}

impl World {
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        purpose: Option<&str>,
    ) -> reqwest::Response {
        // A client without the helpers' default purpose, so that each test says its own.
        let mut req = reqwest::Client::new()
            .request(method, self.app.url(path))
            .bearer_auth(token);
        if let Some(p) = purpose {
            req = req.header("X-Purpose-Of-Use", p);
        }
        req.send().await.unwrap_or_else(|e| panic!("{path}: {e:?}"))
    }

    async fn status(&self, path: &str, token: &str) -> u16 {
        self.call(Method::GET, path, token, Some("direct-care"))
            .await
            .status()
            .as_u16()
    }

    /// Reads `path` with `token` (stating an emergency) and checks the refusal says `phrase`.
    async fn refused(&self, path: &str, token: &str, status: u16, phrase: &str) {
        let res = self.call(Method::GET, path, token, Some("emergency")).await;
        let body = problem(res, status).await;
        let detail = body["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(phrase), "{phrase:?} not in {body}");
    }

    /// The newest access-log entry of an actor.
    async fn last_entry(&self, actor: &str) -> ucp_store::AccessEntry {
        self.app
            .db
            .access_log(&AccessQuery {
                actor: Some(actor.to_owned()),
                limit: 1,
                ..AccessQuery::default()
            })
            .await
            .unwrap()
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no access-log entry of {actor}"))
    }
}

/// Subject, organisation, access role, activities; then the status, role and credential expected.
type MappingLine<'a> = (
    &'a str,
    &'a str,
    &'a str,
    &'a [&'a str],
    u16,
    &'a str,
    &'a str,
);

#[tokio::test]
async fn cis2_sessions_map_by_the_selected_role_through_every_line_and_every_refusal_is_logged() {
    let w = world("P9").await;
    let person = nhs(7001);
    w.app.create_plan(&plan_body(&person)).await;
    let summary = format!("/v1/patients/{person}/emergency-summary");

    // Each line of the default mapping, as CIS2 would send it.
    let lines: [MappingLine; 9] = [
        (
            "crew",
            "RRU",
            "R8003",
            &["B0370"],
            200,
            "ambulance",
            "R8003 (rule 1)",
        ),
        (
            "gp",
            "F84001",
            "R8000",
            &["B0380"],
            200,
            "clinician",
            "R8000 (rule 2)",
        ),
        (
            "nurse",
            "RJ1",
            "R8001",
            &["B0380"],
            200,
            "clinician",
            "R8001 (rule 3)",
        ),
        (
            "ahp",
            "RJ1",
            "R8003",
            &["B0380"],
            200,
            "clinician",
            "R8003 (rule 4)",
        ),
        ("viewer", "F84001", "R8000", &["B0370"], 403, "none", ""),
        ("student", "RJ1", "R8004", &["B0370"], 403, "none", ""),
        (
            "receptionist",
            "F84001",
            "R8009",
            &["B0370"],
            403,
            "none",
            "",
        ),
        (
            "privacy",
            "RJ1",
            "R0001",
            &[],
            403,
            "privacy-officer",
            "R0001 (rule 8)",
        ),
        ("unknown", "RJ1", "R9999", &["B0380"], 403, "none", ""),
    ];
    for (sub, org, code, activities, status, role, credential) in lines {
        let token = cis2(sub, org, code, activities);
        assert_eq!(w.status(&summary, &token).await, status, "{sub}");
        let entry = w.last_entry(sub).await;
        assert_eq!(entry.role, role, "{sub}");
        assert_eq!(entry.issuer.as_deref(), Some("cis2"), "{sub}");
        if role == "none" {
            // Refused by the mapping: who it was (the signature was good) and why.
            let why = entry
                .detail
                .as_ref()
                .map(|d| d["refused"].to_string())
                .unwrap_or_default();
            assert!(why.contains(code), "{sub}: {why}");
        } else {
            assert_eq!(entry.organisation.as_deref(), Some(org), "{sub}");
            assert_eq!(entry.credential.as_deref(), Some(credential), "{sub}");
            assert_eq!(
                entry.actor_name.as_deref(),
                Some(format!("Dr {sub}").as_str())
            );
        }
    }

    // Refusals that the token itself earns.
    let mut no_selection = cis2_claims("no-selection", "F84001", "R8000", &["B0380"]);
    let unselected = no_selection.clone();
    if let Some(obj) = no_selection.as_object_mut() {
        obj.remove("selected_roleid");
    }
    w.refused(
        &summary,
        &sign(no_selection, "rsa-1", "cis2-1", CIS2),
        401,
        "selected",
    )
    .await;
    assert!(w.last_entry("no-selection").await.detail.is_some());

    let mut not_held = unselected;
    not_held["sub"] = json!("not-held");
    not_held["selected_roleid"] = json!("someone-elses-role");
    w.refused(
        &summary,
        &sign(not_held, "rsa-1", "cis2-1", CIS2),
        401,
        "not one of the roles",
    )
    .await;
    assert_eq!(w.last_entry("not-held").await.status, 401);

    w.refused(
        &summary,
        &cis2("bad-org", "F8", "R8000", &["B0380"]),
        401,
        "ODS",
    )
    .await;

    // Wrong issuer: signed by a key CIS2 publishes, but claiming another iss.
    let elsewhere = sign(
        cis2_claims("elsewhere", "F84001", "R8000", &["B0380"]),
        "rsa-1",
        "cis2-1",
        "https://impostor.invalid",
    );
    w.refused(&summary, &elsewhere, 401, "not trusted").await;
    // Right iss, but signed with NHS login's key: not CIS2's.
    let forged = sign(
        cis2_claims("forged", "F84001", "R8000", &["B0380"]),
        "ec-1",
        "nl-1",
        CIS2,
    );
    assert_eq!(w.status(&summary, &forged).await, 401);
    // Another service's audience.
    let other_audience = shapes::sign(
        cis2_claims("other-aud", "F84001", "R8000", &["B0380"]),
        &key("rsa-1"),
        "cis2-1",
        CIS2,
        "another-service",
        now(),
        now() + 600,
    )
    .unwrap();
    assert_eq!(w.status(&summary, &other_audience).await, 401);
}

#[tokio::test]
async fn the_jwks_url_is_fetched_once_cached_and_fetched_again_for_a_new_key() {
    let w = world("P9").await;
    let person = nhs(7002);
    w.app.create_plan(&plan_body(&person)).await;
    let summary = format!("/v1/patients/{person}/emergency-summary");
    let crew = cis2("crew-1", "RRU", "R8003", &["B0370"]);
    assert_eq!(w.status(&summary, &crew).await, 200);
    assert_eq!(w.status(&summary, &crew).await, 200);
    assert_eq!(w.cis2_keys.fetches(), 1, "the keys are cached");

    // CIS2 rotates: a token signed with a key not yet published is refused...
    let rotated = sign(
        cis2_claims("crew-2", "RRU", "R8003", &["B0370"]),
        "rsa-2",
        "cis2-2",
        CIS2,
    );
    assert_eq!(w.status(&summary, &rotated).await, 401);
    // ...and accepted, without a restart, once published (an unknown kid fetches again, at
    // most once a second).
    w.cis2_keys
        .publish(jwks(&[("rsa-1", "cis2-1"), ("rsa-2", "cis2-2")]));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if w.status(&summary, &rotated).await == 200 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the new key was never fetched"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(w.cis2_keys.fetches() >= 2);
    assert_eq!(
        w.status(&summary, &crew).await,
        200,
        "the old key still verifies"
    );
}

#[tokio::test]
async fn keys_that_cannot_be_fetched_again_are_trusted_only_up_to_their_maximum_age() {
    let keys = JwksServer::start(jwks(&[("rsa-1", "cis2-1")]));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("identity.toml");
    std::fs::write(
        &path,
        format!(
            "[[issuer]]\nname = \"cis2\"\nkind = \"cis2\"\nissuer = \"{CIS2}\"\naudience = \"{AUDIENCE}\"\n\
             jwks_url = \"{}\"\njwks_refresh_seconds = 1\nmax_key_age_seconds = 2\n",
            keys.url
        ),
    )
    .unwrap();
    let issuers = Arc::new(IdentityConfig::load(&path).unwrap().issuers);
    let app = TestApp::spawn_tuned(move |c| c.identity = issuers).await;
    let person = nhs(7020);
    app.create_plan(&plan_body(&person)).await;
    let summary = app.url(&format!("/v1/patients/{person}/emergency-summary"));
    let crew = cis2("crew-stale", "RRU", "R8003", &["B0370"]);
    let status = || async {
        reqwest::Client::new()
            .get(&summary)
            .bearer_auth(&crew)
            .header("X-Purpose-Of-Use", "emergency")
            .send()
            .await
            .unwrap()
    };
    assert_eq!(status().await.status().as_u16(), 200);
    // The endpoint goes away: the keys already fetched go on verifying for a while...
    keys.go_down().await;
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    assert_eq!(status().await.status().as_u16(), 200, "a blink is survived");
    // ...and then no longer: the issuer's tokens are refused, saying why, and counted.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let refused = loop {
        let res = status().await;
        if res.status().as_u16() == 401 {
            break problem(res, 401).await;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "stale keys were trusted past their maximum age"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    };
    assert!(
        refused["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("last fetched"),
        "{refused}"
    );
    let metrics = app.metrics().await;
    assert!(
        !metrics.contains("ucp_stale_key_refusals_total 0"),
        "the refusal is counted: {metrics}"
    );
}

#[tokio::test]
async fn nhs_login_needs_the_configured_proofing_level_and_the_access_log_records_it() {
    let w = world("P9").await;
    let person = nhs(7003);
    w.app.create_plan(&plan_body(&person)).await;

    let p9 = nhs_login("person-p9", Some(&person), ProofingLevel::P9);
    let res = w.call(Method::GET, "/v1/me/care-plan", &p9, None).await;
    assert_eq!(res.status().as_u16(), 200, "a patient states no purpose");
    let plan: Value = res.json().await.unwrap();
    assert_eq!(plan["nhsNumber"], person.as_str());
    let entry = w.last_entry("person-p9").await;
    assert_eq!(entry.role, "patient");
    assert_eq!(entry.proofing_level.as_deref(), Some("P9"));
    assert_eq!(entry.issuer.as_deref(), Some("nhs-login"));
    assert_eq!(entry.actor_name.as_deref(), Some("Person person-p9"));

    for (sub, level, number) in [
        ("person-p5", ProofingLevel::P5, Some(person.as_str())),
        ("person-p0", ProofingLevel::P0, None),
    ] {
        let token = nhs_login(sub, number, level);
        let res = w.call(Method::GET, "/v1/me/care-plan", &token, None).await;
        let body = problem(res, 403).await;
        let detail = body["detail"].as_str().unwrap_or_default();
        assert!(detail.contains("needs identity proofing P9"), "{detail}");
        assert!(detail.contains(level.as_str()), "{detail}");
        let entry = w.last_entry(sub).await;
        assert_eq!(entry.status, 403);
        assert_eq!(entry.proofing_level.as_deref(), Some(level.as_str()));
    }
    // Writing needs it too.
    let p5 = nhs_login("person-p5", Some(&person), ProofingLevel::P5);
    let res = reqwest::Client::new()
        .put(w.app.url("/v1/me/care-plan/sections/what-matters"))
        .bearer_auth(&p5)
        .header("If-Match", "\"plan.2\"")
        .json(&json!({ "inTheirOwnWords": "Something else." }))
        .send()
        .await
        .unwrap();
    problem(res, 403).await;

    // A token without a proofing level, or with one NHS login does not issue, proves nothing.
    let mut bare = shapes::nhs_login(&NhsLoginToken {
        sub: Some("no-level".into()),
        nhs_number: Some(person.clone()),
        proofing: ProofingLevel::P9,
        name: None,
    });
    let mut odd = bare.clone();
    if let Some(obj) = bare.as_object_mut() {
        obj.remove("identity_proofing_level");
    }
    odd["identity_proofing_level"] = json!("P7");
    for claims in [bare, odd] {
        let res = w
            .call(
                Method::GET,
                "/v1/me/care-plan",
                &sign(claims, "ec-1", "nl-1", NHS_LOGIN),
                None,
            )
            .await;
        problem(res, 401).await;
    }

    // The level is the deployment's to set.
    let lenient = world("P5").await;
    lenient.app.create_plan(&plan_body(&person)).await;
    let res = lenient
        .call(Method::GET, "/v1/me/care-plan", &p5, None)
        .await;
    assert_eq!(res.status().as_u16(), 200);
}

#[tokio::test]
async fn professionals_state_why_they_read_dispatch_never_has_to_and_the_reason_is_replayable() {
    let w = world("P9").await;
    let person = nhs(7004);
    w.app.create_plan(&plan_body(&person)).await;
    let summary = format!("/v1/patients/{person}/emergency-summary");
    let crew = cis2("crew-purpose", "RRU", "R8003", &["B0370"]);

    let res = w.call(Method::GET, &summary, &crew, None).await;
    let body = problem(res, 400).await;
    assert_eq!(body["code"], "purpose_of_use_required");
    let refused = w.last_entry("crew-purpose").await;
    assert_eq!((refused.status, refused.purpose), (400, None));

    let res = w
        .call(Method::GET, &summary, &crew, Some("curiosity"))
        .await;
    let body = problem(res, 400).await;
    assert_eq!(body["code"], "bad_purpose_of_use");

    let res = w
        .call(Method::GET, &summary, &crew, Some("emergency"))
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let served = w.last_entry("crew-purpose").await;
    assert_eq!(served.purpose.as_deref(), Some("emergency"));

    // Writes need no purpose (the change itself says what was done).
    let gp = cis2("gp-purpose", "F84001", "R8000", &["B0380"]);
    let res = reqwest::Client::new()
        .post(w.app.url("/v1/care-plans"))
        .bearer_auth(&gp)
        .json(&plan_body(&nhs(7005)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    let created: Value = res.json().await.unwrap();
    // The change records who decided, as CIS2 said.
    assert_eq!(created["createdBy"]["organisation"], "F84001");
    assert_eq!(created["createdBy"]["role"], "clinician");

    // Dispatch: a machine with a fixed purpose.
    let dispatch = sign(
        json!({ "sub": "cad-1", "client_name": "LAS CAD" }),
        "rsa-2",
        "disp-1",
        DISPATCH,
    );
    let res = w.call(Method::GET, "/v1/feed", &dispatch, None).await;
    assert_eq!(res.status().as_u16(), 200);
    let entry = w.last_entry("cad-1").await;
    assert_eq!(entry.role, "dispatch");
    assert_eq!(entry.purpose.as_deref(), Some("emergency"));
    assert_eq!(entry.actor_name.as_deref(), Some("LAS CAD"));
    assert_eq!(entry.issuer.as_deref(), Some("dispatch"));

    // An auditor replays what the crew was shown; the replay records the crew's reason.
    let auditor = cis2("caldicott", "RJ1", "R5105", &[]);
    let res = w
        .call(
            Method::GET,
            &format!("/v1/audit/{}/shown", served.entry_id),
            &auditor,
            Some("audit"),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let replay = w.last_entry("caldicott").await;
    assert_eq!(replay.purpose.as_deref(), Some("audit"));
    let detail = replay.detail.unwrap_or_default();
    assert_eq!(detail["replayedPurpose"], "emergency");
    // And the audit listing shows it.
    let res = w
        .call(
            Method::GET,
            "/v1/audit?actor=crew-purpose",
            &auditor,
            Some("audit"),
        )
        .await;
    let page: Value = res.json().await.unwrap();
    let purposes: Vec<&str> = page["entries"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["purpose"].as_str()).collect())
        .unwrap_or_default();
    assert!(purposes.contains(&"emergency"), "{page}");
}

/// Sam Example (NHS number `nhs(7011)`), attorney for health and welfare under a registered
/// LPA.
fn contacts_with_attorney() -> Value {
    json!({ "personal": [{ "name": "Sam Example", "relationship": "daughter",
        "phone": "07700 900456", "nextOfKin": true, "carer": true,
        "lpaHealthAndWelfare": "yes", "lpaPropertyAndFinancial": "no", "contactFirst": true,
        "nhsNumber": nhs(7011), "lpaRegistrationReference": "7000-1234-5678" }] })
}

async fn proxy_events(app: &TestApp) -> Vec<String> {
    app.test_db
        .owner_client()
        .await
        .query(
            "SELECT e.event_type FROM events e JOIN streams s USING (stream_id) \
             WHERE s.stream_type = 'proxy_access' ORDER BY e.global_position",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[tokio::test]
async fn a_proxy_reads_and_writes_for_the_person_only_while_granted_and_every_use_is_recorded() {
    let w = world("P9").await;
    let person = nhs(7010);
    let mut body = plan_body(&person);
    body["contacts"] = contacts_with_attorney();
    let plan = w.app.create_plan(&body).await;
    let plan_id = plan["id"].as_str().unwrap_or_default().to_owned();
    let sam_number = nhs(7011);
    let me = nhs_login("the-person", Some(&person), ProofingLevel::P9);
    let sam = nhs_login("sam", Some(&sam_number), ProofingLevel::P9);

    let as_proxy = |method: Method, path: &str, token: &str| {
        reqwest::Client::new()
            .request(method, w.app.url(path))
            .bearer_auth(token)
            .header("UCP-On-Behalf-Of", person.as_str())
    };

    // No grant yet.
    let res = as_proxy(Method::GET, "/v1/me/care-plan", &sam)
        .send()
        .await
        .unwrap();
    let refused = problem(res, 403).await;
    assert!(refused["detail"]
        .as_str()
        .unwrap_or_default()
        .contains("no active proxy grant"));
    // The attempt is in the access log, about the person Sam tried to act for.
    let attempt = w.last_entry("sam").await;
    assert_eq!(attempt.status, 403);
    assert_eq!(attempt.nhs_number.as_deref(), Some(person.as_str()));
    assert_eq!(attempt.on_behalf_of, None, "refused: acted for no one");
    assert!(
        proxy_events(&w.app).await.is_empty(),
        "a refused use is no event"
    );

    // The person names Sam.
    let res = w
        .call_json(
            Method::POST,
            "/v1/me/proxies",
            &me,
            &json!({
            "nhsNumber": sam_number, "name": "Sam Example", "relationship": "daughter",
            "basis": "named-by-person" }),
        )
        .await;
    assert_eq!(res.status().as_u16(), 201);
    let grant: Value = res.json().await.unwrap();
    assert_eq!(grant["status"], "active");
    assert_eq!(grant["granted"]["byRole"], "patient");
    let grant_id = grant["grantId"].as_str().unwrap_or_default().to_owned();
    // A second active grant for the same proxy is a conflict.
    let res = w
        .call_json(
            Method::POST,
            "/v1/me/proxies",
            &me,
            &json!({
            "nhsNumber": sam_number, "name": "Sam Example", "relationship": "daughter",
            "basis": "named-by-person" }),
        )
        .await;
    assert_eq!(problem(res, 409).await["code"], "proxy_grant_conflict");

    // Sam sees whom she may act for, then reads and writes for the person.
    let res = w.call(Method::GET, "/v1/me/acting-for", &sam, None).await;
    let held: Value = res.json().await.unwrap();
    assert_eq!(held["grants"][0]["nhsNumber"], person.as_str());
    let res = as_proxy(Method::GET, "/v1/me/care-plan", &sam)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let etag = res
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let read: Value = res.json().await.unwrap();
    assert_eq!(read["nhsNumber"], person.as_str());
    let res = as_proxy(Method::PUT, "/v1/me/care-plan/sections/what-matters", &sam)
        .header("If-Match", etag.as_str())
        .json(&json!({ "inTheirOwnWords": "Mum wants to stay at home, with the cat." }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let section: Value = res.json().await.unwrap();
    assert_eq!(section["changedBy"]["actor"], "sam", "{section}");
    assert_eq!(section["changedBy"]["role"], "proxy");
    assert_eq!(section["changedBy"]["onBehalfOf"], person.as_str());
    // A write admitted under the grant and then refused (a stale tag) is still the proxy's,
    // acting for the person, in the log.
    let res = as_proxy(Method::PUT, "/v1/me/care-plan/sections/what-matters", &sam)
        .header("If-Match", etag.as_str())
        .json(&json!({ "inTheirOwnWords": "Stale." }))
        .send()
        .await
        .unwrap();
    problem(res, 412).await;
    let stale = w.last_entry("sam").await;
    assert_eq!(
        (
            stale.status,
            stale.role.as_str(),
            stale.on_behalf_of.as_deref()
        ),
        (412, "proxy", Some(person.as_str()))
    );
    // Not clinical sections, not withdrawing, not managing proxies, nothing else.
    let res = as_proxy(
        Method::PUT,
        "/v1/me/care-plan/sections/emergency-treatment-plan",
        &sam,
    )
    .header("If-Match", "\"plan.2\"")
    .json(&crate::helpers::etp())
    .send()
    .await
    .unwrap();
    problem(res, 403).await;
    for (method, path) in [
        (Method::POST, "/v1/me/care-plan/withdraw"),
        (Method::GET, "/v1/me/proxies"),
        (Method::GET, "/v1/me/access-log"),
    ] {
        let res = as_proxy(method, path, &sam)
            .json(&json!({ "reason": "x" }))
            .send()
            .await
            .unwrap();
        problem(res, 403).await;
    }
    // A malformed header is a 400.
    let res = reqwest::Client::new()
        .get(w.app.url("/v1/me/care-plan"))
        .bearer_auth(&sam)
        .header("UCP-On-Behalf-Of", "not-a-number")
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res, 400).await["code"], "bad_on_behalf_of");

    // The access log records each action as by Sam on behalf of the person (the malformed
    // request just now acted for no one).
    let entry = w.last_entry("sam").await;
    assert_eq!((entry.role.as_str(), entry.on_behalf_of), ("patient", None));
    let served: Vec<_> = w
        .app
        .db
        .access_log(&AccessQuery {
            actor: Some("sam".into()),
            limit: 50,
            ..AccessQuery::default()
        })
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.status < 300 && e.on_behalf_of.is_some())
        .collect();
    assert_eq!(
        served.len(),
        2,
        "one read and one write, each on behalf of the person"
    );
    // The person sees it in words.
    let res = w.call(Method::GET, "/v1/me/access-log", &me, None).await;
    let log: Value = res.json().await.unwrap();
    assert!(log.to_string().contains("(acting for you)"), "{log}");

    // The person revokes; Sam is refused from then on.
    let res = w
        .call_json(
            Method::POST,
            &format!("/v1/me/proxies/{grant_id}/revoke"),
            &me,
            &json!({ "reason": "I can manage again." }),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let revoked: Value = res.json().await.unwrap();
    assert_eq!(revoked["status"], "revoked");
    assert_eq!(revoked["revoked"]["reason"], "I can manage again.");
    // The read, the write and the stale write used the grant; the clinical write was refused by
    // its use case before the grant was looked at, and used nothing.
    assert_eq!(revoked["uses"], 3);
    let res = as_proxy(Method::GET, "/v1/me/care-plan", &sam)
        .send()
        .await
        .unwrap();
    problem(res, 403).await;
    let attempt = w.last_entry("sam").await;
    assert_eq!(
        (attempt.status, attempt.nhs_number.as_deref()),
        (403, Some(person.as_str()))
    );
    let res = w
        .call_json(
            Method::POST,
            &format!("/v1/me/proxies/{grant_id}/revoke"),
            &me,
            &json!({}),
        )
        .await;
    assert_eq!(problem(res, 409).await["code"], "proxy_grant_conflict");

    // A use that raced the revocation (checked before it, appended after) is refused under the
    // stream's lock, and nothing is written.
    let late_use = ucp_store::AppendRequest {
        stream_id: ucp_store::projections::proxies::stream_id(&person),
        stream_type: ucp_store::projections::proxies::STREAM_TYPE.to_owned(),
        expected: ucp_store::ExpectedVersion::Any,
        events: vec![ucp_store::NewEvent::new(
            ucp_store::projections::proxies::USED,
            1,
            json!({ "grantId": grant_id, "action": "getMyCarePlan" }),
            ucp_store::EventMetadata {
                actor: "sam".into(),
                role: "proxy".into(),
                ..ucp_store::EventMetadata::default()
            },
        )],
        idempotency: None,
        prior: None,
        audit: None,
    };
    assert!(matches!(
        w.app.db.append(late_use).await,
        Err(ucp_store::StoreError::Refused(_))
    ));

    // The grant, its uses and its revocation are events, in order.
    assert_eq!(
        proxy_events(&w.app).await,
        [
            "ProxyAccessGranted",
            "ProxyAccessUsed",
            "ProxyAccessUsed",
            "ProxyAccessUsed",
            "ProxyAccessRevoked"
        ]
    );

    // A clinician may grant access to the attorney the plan records, and to no one else.
    let gp = cis2("gp-lpa", "F84001", "R8000", &["B0380"]);
    let grant_path = format!("/v1/care-plans/{plan_id}/proxies");
    let res = w
        .call_json(
            Method::POST,
            &grant_path,
            &gp,
            &json!({
            "nhsNumber": nhs(7012), "name": "Someone Else", "relationship": "friend",
            "basis": "lasting-power-of-attorney", "lpaRegistrationReference": "7000-1234-5678" }),
        )
        .await;
    assert_eq!(
        problem(res, 422).await["errors"][0]["pointer"],
        "/nhsNumber"
    );
    let res = w
        .call_json(
            Method::POST,
            &grant_path,
            &gp,
            &json!({
            "nhsNumber": sam_number, "name": "Sam Example", "relationship": "daughter",
            "basis": "named-by-person" }),
        )
        .await;
    problem(res, 403).await;
    let crew = cis2("crew-lpa", "RRU", "R8003", &["B0370"]);
    let res = w
        .call_json(
            Method::POST,
            &grant_path,
            &crew,
            &json!({
            "nhsNumber": sam_number, "name": "Sam Example", "relationship": "daughter",
            "basis": "lasting-power-of-attorney" }),
        )
        .await;
    problem(res, 403).await;
    let res = w
        .call_json(
            Method::POST,
            &grant_path,
            &gp,
            &json!({
            "nhsNumber": sam_number, "name": "  sam  EXAMPLE ", "relationship": "daughter",
            "basis": "lasting-power-of-attorney", "lpaRegistrationReference": "7000 1234 5678" }),
        )
        .await;
    assert_eq!(res.status().as_u16(), 201);
    let lpa: Value = res.json().await.unwrap();
    assert_eq!(lpa["granted"]["byRole"], "clinician");
    let res = as_proxy(Method::GET, "/v1/me/care-plan", &sam)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status().as_u16(),
        200,
        "the attorney acts again, under the new grant"
    );

    // A voided plan (made in error) is no basis for anyone's authority.
    let mut other = plan_body(&nhs(7014));
    other["contacts"] = contacts_with_attorney();
    let voided = w.app.create_plan(&other).await;
    let voided_id = voided["id"].as_str().unwrap_or_default().to_owned();
    let res = w
        .app
        .req(
            Method::GET,
            &format!("/v1/care-plans/{voided_id}"),
            ucp_api::Role::Clinician,
        )
        .send()
        .await
        .unwrap();
    let etag = res
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let res = w
        .app
        .write(
            ucp_api::Role::Clinician,
            Method::POST,
            &format!("/v1/care-plans/{voided_id}/void"),
            &etag,
            &json!({ "reason": "Wrong person." }),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let res = w
        .call_json(
            Method::POST,
            &format!("/v1/care-plans/{voided_id}/proxies"),
            &gp,
            &json!({ "nhsNumber": sam_number, "name": "Sam Example", "relationship": "daughter",
                "basis": "lasting-power-of-attorney" }),
        )
        .await;
    problem(res, 422).await;

    // The person sees both grants, newest first.
    let res = w.call(Method::GET, "/v1/me/proxies", &me, None).await;
    let list: Value = res.json().await.unwrap();
    let statuses: Vec<&str> = list["grants"]
        .as_array()
        .map(|a| a.iter().filter_map(|g| g["status"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(statuses, ["active", "revoked"]);

    // Bad input.
    for (body, status) in [
        (
            json!({ "nhsNumber": person, "name": "Me", "relationship": "self", "basis": "named-by-person" }),
            422,
        ),
        (
            json!({ "nhsNumber": "123", "name": "X", "relationship": "y", "basis": "named-by-person" }),
            422,
        ),
        (
            json!({ "nhsNumber": nhs(7013), "name": "X", "relationship": "y", "basis": "cousin" }),
            422,
        ),
        (
            json!({ "nhsNumber": nhs(7013), "name": "X", "relationship": "y", "basis": "named-by-person", "extra": 1 }),
            400,
        ),
    ] {
        let res = w
            .call_json(Method::POST, "/v1/me/proxies", &me, &body)
            .await;
        problem(res, status).await;
    }
    let res = w
        .call_json(
            Method::POST,
            "/v1/me/proxies/not-a-uuid/revoke",
            &me,
            &json!({}),
        )
        .await;
    problem(res, 400).await;
    let res = w
        .call_json(
            Method::POST,
            &format!("/v1/me/proxies/{}/revoke", uuid::Uuid::new_v4()),
            &me,
            &json!({}),
        )
        .await;
    problem(res, 404).await;
    // Only a person proofed to P9 manages proxies; a proxy under P9 cannot act.
    let low = nhs_login("the-person", Some(&person), ProofingLevel::P5);
    let res = w.call(Method::GET, "/v1/me/proxies", &low, None).await;
    problem(res, 403).await;
    let sam_low = nhs_login("sam", Some(&sam_number), ProofingLevel::P5);
    let res = as_proxy(Method::GET, "/v1/me/care-plan", &sam_low)
        .send()
        .await
        .unwrap();
    problem(res, 403).await;
    // No token at all.
    let res = reqwest::Client::new()
        .get(w.app.url("/v1/me/proxies"))
        .send()
        .await
        .unwrap();
    problem(res, 401).await;
}

impl World {
    async fn call_json(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: &Value,
    ) -> reqwest::Response {
        // A professional's grant states its purpose; a person may, and does here.
        reqwest::Client::new()
            .request(method, self.app.url(path))
            .bearer_auth(token)
            .header("X-Purpose-Of-Use", "direct-care")
            .json(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path}: {e:?}"))
    }
}

/// `ucp token` in each issuer's shape, against the shipped example configuration and its keys:
/// what the README tells a developer to do works.
#[tokio::test]
async fn ucp_token_mints_each_shape_for_the_example_configuration() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let issuers = Arc::new(
        IdentityConfig::load(&root.join("config/identity.example.toml"))
            .unwrap()
            .issuers,
    );
    let app = TestApp::spawn_tuned(move |c| c.identity = issuers).await;
    let person = nhs(7020);
    app.create_plan(&plan_body(&person)).await;
    let mint = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ucp"))
            .arg("token")
            .args(args)
            .env_remove("UCP_JWT_SECRET")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let keys = root.join("tests/keys");
    let rsa = keys.join("rsa-1.pem").display().to_string();
    let ec = keys.join("ec-1.pem").display().to_string();
    let crew = mint(&[
        "--shape",
        "cis2",
        "--key",
        &rsa,
        "--kid",
        "dev-cis2",
        "--issuer",
        "https://cis2.dev.invalid",
        "--audience",
        "ucp-dev",
        "--org",
        "RRU",
        "--role-code",
        "R8003",
        "--activity",
        "B0370",
        "--sub",
        "cli-crew",
    ]);
    let res = reqwest::Client::new()
        .get(app.url(&format!("/v1/patients/{person}/emergency-summary")))
        .bearer_auth(&crew)
        .header("X-Purpose-Of-Use", "emergency")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let me = |level: &str| {
        mint(&[
            "--shape",
            "nhs-login",
            "--key",
            &ec,
            "--kid",
            "dev-nhs-login",
            "--issuer",
            "https://nhs-login.dev.invalid",
            "--audience",
            "ucp-dev",
            "--nhs-number",
            &person,
            "--proofing",
            level,
        ])
    };
    for (level, status) in [("P9", 200), ("P5", 403)] {
        let res = reqwest::Client::new()
            .get(app.url("/v1/me/care-plan"))
            .bearer_auth(me(level))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), status, "{level}");
    }
    // A carer through the social care record system's issuer: a care home's staff, their home's
    // code and name from its claims; the home admits the person and its staff read the plan.
    let carer = mint(&[
        "--shape",
        "social-care",
        "--key",
        &keys.join("rsa-3.pem").display().to_string(),
        "--kid",
        "dev-social-care",
        "--issuer",
        "https://social-care.dev.invalid",
        "--audience",
        "ucp-dev",
        "--org",
        "VM1A2",
        "--org-name",
        "Rosewood Care Home",
        "--name",
        "Ada Carer",
    ]);
    let res = reqwest::Client::new()
        .post(app.url("/v1/care-home/residents"))
        .bearer_auth(&carer)
        .json(&serde_json::json!({
            "nhsNumber": person, "birthDate": "1941-02-03",
            "since": chrono::Utc::now().date_naive().to_string(),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    let admitted: Value = res.json().await.unwrap();
    assert_eq!(
        admitted["residence"]["careHome"]["name"],
        "Rosewood Care Home"
    );
    assert_eq!(admitted["residence"]["careHome"]["odsCode"], "VM1A2");
    assert_eq!(admitted["residence"]["recordedBy"]["name"], "Ada Carer");
    assert_eq!(admitted["residence"]["recordedBy"]["role"], "care-home");
    let res = reqwest::Client::new()
        .get(app.url(&format!("/v1/patients/{person}/emergency-summary")))
        .bearer_auth(&carer)
        .header("X-Purpose-Of-Use", "direct-care")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    // The `ucp` shape needs its secret; the signed shapes need their key.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ucp"))
        .args(["token", "--role", "clinician"])
        .env_remove("UCP_JWT_SECRET")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("UCP_JWT_SECRET"));
}
