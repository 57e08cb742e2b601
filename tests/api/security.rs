//! Every access accounted for, and the service's own defences: the audit decision on the route
//! that matched (not the raw path), admin replays in the person's log, refused attempts with
//! their target, the SSE stream's token expiry, the snapshot that bootstraps a consumer, the
//! serving role's limits, production token rules and search walking.

use std::time::Duration;

use futures::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};
use ucp_api::Role;

use crate::helpers::{nhs, plan_body, problem, token_living, token_with, TestApp, TestDb};

/// Every access-log entry, oldest first, as JSON.
async fn entries(app: &TestApp) -> Vec<Value> {
    app.test_db
        .owner_client()
        .await
        .query(
            "SELECT to_jsonb(a) FROM access_log a ORDER BY at, entry_id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<_, Value>(0))
        .collect()
}

async fn send(app: &TestApp, path: &str, role: Role) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .bearer_auth(token_with(role, None))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e:?}"))
}

#[tokio::test]
async fn encoded_and_varied_paths_are_audited_on_the_route_that_matched() {
    let app = TestApp::spawn().await;
    let number = nhs(700);
    let plan = app.create_plan(&plan_body(&number)).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    // (path, status, the operation the entry must name)
    let cases = [
        (
            format!("/v1/patients/{number}/emergency-summary"),
            200,
            "getEmergencySummary",
        ),
        (
            format!("/v1/%70atients/{number}/emergency-summary"),
            200,
            "getEmergencySummary",
        ),
        (
            format!("/v1/patients/{number}/%65mergency-summary"),
            200,
            "getEmergencySummary",
        ),
        (
            format!("/v1/%63are-plans/{id}/history"),
            200,
            "getCarePlanHistory",
        ),
        (
            format!("/v1/%2570atients/{number}/emergency-summary"),
            404,
            "unknown",
        ),
        (
            format!("/v1/patients/{number}/emergency-summary/"),
            404,
            "unknown",
        ),
        (
            format!("/v1/Patients/{number}/emergency-summary"),
            404,
            "unknown",
        ),
    ];
    for (path, status, action) in &cases {
        let before = entries(&app).await.len();
        let res = send(&app, path, Role::Ambulance).await;
        assert_eq!(res.status().as_u16(), *status, "{path}");
        let after = entries(&app).await;
        assert_eq!(after.len(), before + 1, "exactly one entry for {path}");
        let entry = &after[after.len() - 1];
        assert_eq!(entry["action"], *action, "{path}");
        assert_eq!(entry["status"], *status, "{path}");
        assert_eq!(entry["path"], path.as_str());
        if *status == 200 {
            assert_eq!(entry["nhs_number"], number.as_str(), "{path}");
        }
    }
    // Outside /v1 nothing is served: a case-varied prefix is a plain 404 with no data.
    let res = send(
        &app,
        &format!("/V1/patients/{number}/emergency-summary"),
        Role::Ambulance,
    )
    .await;
    problem(res, 404).await;
}

#[tokio::test]
async fn a_refused_request_records_its_target_and_the_person_sees_it() {
    let app = TestApp::spawn().await;
    let number = nhs(701);
    let plan = app.create_plan(&plan_body(&number)).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    // Dispatch may not read whole plans; no token at all is refused too.
    assert_eq!(
        send(&app, &format!("/v1/care-plans/{id}"), Role::Dispatch)
            .await
            .status()
            .as_u16(),
        403
    );
    assert_eq!(
        app.get(&format!("/v1/patients/{number}/care-plan"))
            .await
            .status()
            .as_u16(),
        401
    );
    let all = entries(&app).await;
    let refused: Vec<&Value> = all.iter().filter(|e| e["status"] != 201).collect();
    assert_eq!(refused.len(), 2);
    assert_eq!(refused[0]["plan_id"], id.as_str());
    assert_eq!(
        refused[0]["nhs_number"],
        number.as_str(),
        "found from the plan id"
    );
    assert_eq!(
        refused[1]["nhs_number"],
        number.as_str(),
        "named by the path"
    );
    assert_eq!(refused[1]["role"], "none");

    let mine: Value = app
        .client
        .get(app.url("/v1/me/access-log"))
        .bearer_auth(token_with(Role::Patient, Some(&number)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let descriptions: Vec<&str> = mine["entries"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["description"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        descriptions
            .iter()
            .any(|d| d.starts_with("refused (403)") && d.contains("getCarePlan")),
        "{descriptions:?}"
    );
    assert!(
        descriptions.iter().any(|d| d.starts_with("refused (401)")),
        "{descriptions:?}"
    );
}

#[tokio::test]
async fn an_audit_replay_is_logged_and_shows_in_the_persons_log() {
    let app = TestApp::spawn().await;
    let number = nhs(702);
    app.create_plan(&plan_body(&number)).await;
    assert_eq!(
        send(
            &app,
            &format!("/v1/patients/{number}/emergency-summary"),
            Role::Ambulance
        )
        .await
        .status()
        .as_u16(),
        200
    );
    let (_, page) = app
        .get_json(&format!("/v1/audit?nhsNumber={number}"), Role::Admin)
        .await;
    let read = page["entries"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["action"] == "getEmergencySummary"))
        .cloned()
        .unwrap_or_else(|| panic!("the crew's read is in the log: {page}"));
    let shown = send(
        &app,
        &format!(
            "/v1/audit/{}/shown",
            read["entryId"].as_str().unwrap_or_default()
        ),
        Role::Admin,
    )
    .await;
    assert_eq!(shown.status().as_u16(), 200);
    let all = entries(&app).await;
    let search = all
        .iter()
        .find(|e| e["action"] == "searchAuditLog")
        .unwrap_or_else(|| panic!("the admin's search is logged"));
    assert_eq!(search["nhs_number"], number.as_str());
    let replay = all
        .iter()
        .find(|e| e["action"] == "getAuditShown")
        .unwrap_or_else(|| panic!("the replay is logged"));
    assert_eq!(replay["nhs_number"], number.as_str());
    assert_eq!(replay["view"], "replay");
    assert_eq!(replay["detail"]["replayedEntry"], read["entryId"]);
    assert_eq!(replay["actor"], "admin-test");

    let mine: Value = app
        .client
        .get(app.url("/v1/me/access-log"))
        .bearer_auth(token_with(Role::Patient, Some(&number)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let descriptions: Vec<&str> = mine["entries"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["description"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        descriptions.contains(&"replayed for audit by Test admin"),
        "{descriptions:?}"
    );
    assert!(
        descriptions.contains(&"your access log was looked at by Test admin"),
        "{descriptions:?}"
    );
}

#[tokio::test]
async fn the_event_stream_closes_when_its_token_expires_and_records_what_it_sent() {
    let app = TestApp::spawn().await;
    let number = nhs(703);
    app.create_plan(&plan_body(&number)).await;
    let started = tokio::time::Instant::now();
    let res = app
        .client
        .get(app.url("/v1/feed/stream"))
        .bearer_auth(token_living(Role::Dispatch, None, 3))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let mut body = String::new();
    let mut stream = res.bytes_stream();
    let read_all = async {
        while let Some(chunk) = stream.next().await {
            let Ok(chunk) = chunk else { break };
            body.push_str(&String::from_utf8_lossy(&chunk));
        }
    };
    tokio::time::timeout(Duration::from_secs(20), read_all)
        .await
        .unwrap_or_else(|_| panic!("the stream outlived its token by far"));
    let lasted = started.elapsed();
    assert!(
        lasted >= Duration::from_secs(1),
        "ended only at expiry: {lasted:?}"
    );
    assert!(body.contains("event: change"), "{body}");
    assert!(body.contains(&number), "{body}");
    assert!(body.contains("event: token-expired"), "{body}");
    let all = entries(&app).await;
    let opened = all
        .iter()
        .filter(|e| e["action"] == "streamFeed" && e["path"] == "/v1/feed/stream")
        .count();
    assert!(opened >= 2, "the request and what it sent: {all:?}");
    assert!(
        all.iter().any(|e| e["action"] == "streamFeed"
            && e["returned_nhs_numbers"]
                .as_array()
                .is_some_and(|a| a.iter().any(|n| n == number.as_str()))),
        "the change sent is recorded with the person's NHS number"
    );
}

#[tokio::test]
async fn a_new_consumer_bootstraps_from_current_summaries_without_a_voided_plans_content() {
    let app = TestApp::spawn().await;
    let kept = nhs(704);
    let wrong = nhs(705);
    app.create_plan(&plan_body(&kept)).await;
    let voided = app.create_plan(&plan_body(&wrong)).await;
    let id = voided["id"].as_str().unwrap_or_default();
    let res = app
        .req(
            Method::POST,
            &format!("/v1/care-plans/{id}/void"),
            Role::Clinician,
        )
        .header("If-Match", voided["etag"].as_str().unwrap_or_default())
        .json(&json!({ "reason": "Made on the wrong person." }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);

    let (_, snapshot) = app.get_json("/v1/feed/snapshot", Role::Dispatch).await;
    let text = snapshot.to_string();
    assert!(text.contains(&kept), "{text}");
    assert!(
        !text.contains(&wrong),
        "no trace of the voided plan: {text}"
    );
    assert_eq!(snapshot["summaries"].as_array().map(Vec::len), Some(1));
    assert!(snapshot["nextPage"].is_null());

    // A consumer that replays the feed from the start gets the voided plan only as drops.
    let (changes, _) = crate::helpers::all_changes(&app.address, &app.client, 3).await;
    for change in changes.iter().filter(|c| c["nhsNumber"] == wrong.as_str()) {
        assert_eq!(change["action"], "drop", "{change}");
        assert!(change["summary"].is_null(), "{change}");
    }

    // Following on from the snapshot's cursor brings what changed after it.
    let later = nhs(706);
    app.create_plan(&plan_body(&later)).await;
    let cursor = snapshot["cursor"].as_str().unwrap_or_default();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut after = cursor.to_owned();
    let mut seen = Vec::new();
    while !seen
        .iter()
        .any(|c: &Value| c["nhsNumber"] == later.as_str())
    {
        assert!(tokio::time::Instant::now() < deadline, "{seen:?}");
        let page: Value = send(
            &app,
            &format!("/v1/feed?after={after}&waitSeconds=1"),
            Role::Dispatch,
        )
        .await
        .json()
        .await
        .unwrap();
        seen.extend(page["changes"].as_array().cloned().unwrap_or_default());
        after = page["next"].as_str().unwrap_or_default().to_owned();
    }
    // The cursor is at-least-once: while an older transaction anywhere in the cluster is
    // still open (other tests' databases share it), changes from before the snapshot may come
    // again. The voided plan's may, but only as drops, never with its content.
    for change in seen.iter().filter(|c| c["nhsNumber"] == wrong.as_str()) {
        assert_eq!(change["action"], "drop", "{change}");
        assert!(change["summary"].is_null(), "{change}");
    }

    let all = entries(&app).await;
    let boot = all
        .iter()
        .find(|e| e["action"] == "readFeedSnapshot")
        .unwrap_or_else(|| panic!("the snapshot is audited"));
    assert_eq!(boot["returned_nhs_numbers"], json!([kept]));

    // Bad input and roles.
    problem(
        send(&app, "/v1/feed/snapshot?after=123", Role::Dispatch).await,
        400,
    )
    .await;
    problem(
        send(&app, "/v1/feed/snapshot?limit=0", Role::Dispatch).await,
        400,
    )
    .await;
    problem(send(&app, "/v1/feed/snapshot", Role::Ambulance).await, 403).await;
    problem(app.get("/v1/feed/snapshot").await, 401).await;
}

#[tokio::test]
async fn the_serving_role_cannot_rewrite_the_logs_or_disable_their_triggers() {
    let db = TestDb::migrated().await;
    let pg = ucp_store::app_pg_config(&db.config(1)).unwrap();
    let (client, connection) = pg.connect(tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let who: String = client
        .query_one("SELECT current_user::text", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(who, ucp_store::APP_ROLE);
    client
        .batch_execute(
            "INSERT INTO access_log (entry_id, at, actor, role, action, method, path, status) \
             VALUES (gen_random_uuid(), now(), 'x', 'admin', 'a', 'GET', '/', 200)",
        )
        .await
        .unwrap_or_else(|e| panic!("the serving role appends: {e:?}"));
    for sql in [
        "UPDATE access_log SET actor = 'someone else'",
        "DELETE FROM access_log",
        "TRUNCATE access_log",
        "ALTER TABLE access_log DISABLE TRIGGER ALL",
        "ALTER TABLE events DISABLE TRIGGER events_no_update_or_delete",
        "DROP TRIGGER events_no_update_or_delete ON events",
        "UPDATE events SET data = '{}'",
        "DELETE FROM events",
        "ALTER TABLE events OWNER TO ucp_app",
    ] {
        let refused = client.batch_execute(sql).await;
        assert!(refused.is_err(), "the serving role may not: {sql}");
    }
}

#[tokio::test]
async fn serve_refuses_an_unmigrated_database_and_production_refuses_the_development_secret() {
    let db = TestDb::empty().await;
    let run = |envs: Vec<(&'static str, String)>| async move {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_ucp"));
        cmd.arg("serve")
            .env("UCP_LISTEN", "127.0.0.1:0")
            .env("RUST_LOG", "warn")
            .env_remove("UCP_JWT_SECRET")
            .kill_on_drop(true);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let out = tokio::time::timeout(Duration::from_secs(30), cmd.output())
            .await
            .unwrap_or_else(|_| panic!("the server should have refused to start"))
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, stderr) = run(vec![
        ("DATABASE_URL", db.url()),
        ("UCP_JWT_SECRET", "test-secret".to_owned()),
    ])
    .await;
    assert!(!ok);
    assert!(stderr.contains("ucp migrate"), "{stderr}");

    let (ok, stderr) = run(vec![
        ("DATABASE_URL", db.url()),
        ("UCP_ENV", "production".to_owned()),
        (
            "UCP_JWT_SECRET",
            ucp_api::auth::DEVELOPMENT_SECRET.to_owned(),
        ),
        ("UCP_ALLOW_HS256", "true".to_owned()),
        ("UCP_JWT_ISSUER", "https://idp.example".to_owned()),
        ("UCP_JWT_AUDIENCE", "ucp".to_owned()),
    ])
    .await;
    assert!(!ok);
    assert!(stderr.contains("development secret"), "{stderr}");

    let (ok, stderr) = run(vec![
        ("DATABASE_URL", db.url()),
        ("UCP_ENV", "production".to_owned()),
        (
            "UCP_JWT_SECRET",
            "a-secret-of-our-own-0123456789".to_owned(),
        ),
    ])
    .await;
    assert!(!ok);
    for needed in ["UCP_ALLOW_HS256", "UCP_JWT_AUDIENCE", "UCP_JWT_ISSUER"] {
        assert!(stderr.contains(needed), "{needed}: {stderr}");
    }

    // An identity configuration that says production means production, whatever UCP_ENV says:
    // the development secret is refused even beside real issuers.
    let dir = tempfile::tempdir().unwrap();
    let jwks =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/dev-nhs-login-jwks.json");
    let production = dir.path().join("identity.toml");
    std::fs::write(
        &production,
        format!(
            "deployment = \"production\"\n[[issuer]]\nname = \"nhs-login\"\nkind = \"nhs-login\"\n\
             issuer = \"https://auth.login.nhs.uk\"\naudience = \"ucp\"\njwks_file = \"{}\"\n",
            jwks.display()
        ),
    )
    .unwrap();
    let (ok, stderr) = run(vec![
        ("DATABASE_URL", db.url()),
        ("UCP_IDENTITY_CONFIG", production.display().to_string()),
        (
            "UCP_JWT_SECRET",
            ucp_api::auth::DEVELOPMENT_SECRET.to_owned(),
        ),
        ("UCP_ALLOW_HS256", "true".to_owned()),
    ])
    .await;
    assert!(!ok);
    assert!(stderr.contains("development secret"), "{stderr}");
    // Beside real issuers, a shared secret of one's own still needs iss and aud: without them
    // its tokens would be accepted for any service from anyone holding the secret.
    let (ok, stderr) = run(vec![
        ("DATABASE_URL", db.url()),
        ("UCP_IDENTITY_CONFIG", production.display().to_string()),
        (
            "UCP_JWT_SECRET",
            "a-secret-of-our-own-0123456789".to_owned(),
        ),
        ("UCP_ALLOW_HS256", "true".to_owned()),
    ])
    .await;
    assert!(!ok);
    for needed in ["UCP_JWT_AUDIENCE", "UCP_JWT_ISSUER"] {
        assert!(stderr.contains(needed), "{needed}: {stderr}");
    }
    // Production with everything else right, but PostgreSQL in plain text: refused, naming
    // the setting and the way out; with UCP_DB_ALLOW_PLAINTEXT it goes on (to the schema check).
    let tokens_right = |extra: Vec<(&'static str, String)>| {
        let mut envs = vec![
            ("DATABASE_URL", db.url()),
            ("UCP_IDENTITY_CONFIG", production.display().to_string()),
            ("UCP_PUBLIC_URL", "https://ucp.test.example".to_owned()),
            (
                "UCP_CHECK_KEYS",
                "1:a-key-for-printed-copies-of-this-test-0000".to_owned(),
            ),
        ];
        envs.extend(extra);
        envs
    };
    let (ok, stderr) = run(tokens_right(vec![])).await;
    assert!(!ok);
    assert!(
        stderr.contains("without TLS") && stderr.contains("DATABASE_URL has no sslmode=require"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("postgres://"),
        "the URL is never echoed: {stderr}"
    );
    let (ok, stderr) = run(tokens_right(vec![(
        "UCP_DB_ALLOW_PLAINTEXT",
        "true".to_owned(),
    )]))
    .await;
    assert!(!ok);
    assert!(
        !stderr.contains("without TLS") && stderr.contains("ucp migrate"),
        "{stderr}"
    );
    // Printed plans' QR codes: a public https address and keys of its own, in production.
    for (setting, value, named) in [
        (
            "UCP_PUBLIC_URL",
            "http://ucp.test.example",
            "UCP_PUBLIC_URL",
        ),
        ("UCP_PUBLIC_URL", "https://127.0.0.1:8080", "UCP_PUBLIC_URL"),
        (
            "UCP_CHECK_KEYS",
            "0:ucp-development-check-key-do-not-use-in-production",
            "development key",
        ),
    ] {
        let (ok, stderr) = run(tokens_right(vec![
            ("UCP_DB_ALLOW_PLAINTEXT", "true".to_owned()),
            (setting, value.to_owned()),
        ]))
        .await;
        assert!(!ok);
        assert!(stderr.contains(named), "{setting}={value}: {stderr}");
    }
    // A configuration with a mistake stops the start, naming the issuer and the mistake.
    let broken = dir.path().join("broken.toml");
    std::fs::write(
        &broken,
        "[[issuer]]\nname = \"cis2\"\nkind = \"cis2\"\nissuer = \"https://cis2\"\naudience = \"ucp\"\n",
    )
    .unwrap();
    let (ok, stderr) = run(vec![
        ("DATABASE_URL", db.url()),
        ("UCP_IDENTITY_CONFIG", broken.display().to_string()),
    ])
    .await;
    assert!(!ok);
    assert!(
        stderr.contains("cis2") && stderr.contains("jwks_file"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_token_that_lives_longer_than_allowed_is_refused() {
    let app = TestApp::spawn_tuned(|c| {
        c.jwt = c
            .jwt
            .clone()
            .with_max_lifetime(Some(Duration::from_secs(12 * 3600)));
    })
    .await;
    let number = nhs(707);
    let path = format!("/v1/patients/{number}/emergency-summary");
    let ok = app
        .client
        .get(app.url(&path))
        .bearer_auth(token_living(Role::Ambulance, None, 12 * 3600))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 404, "accepted (there is no plan)");
    let long = app
        .client
        .get(app.url(&path))
        .bearer_auth(token_living(Role::Ambulance, None, 12 * 3600 + 60))
        .send()
        .await
        .unwrap();
    let body = problem(long, 401).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("longer than"),
        "{body}"
    );
}

#[tokio::test]
async fn search_refuses_prefixes_short_enough_to_walk_the_index() {
    let app = TestApp::spawn().await;
    app.create_plan(&plan_body(&nhs(708))).await;
    let refused = [
        "/v1/patients?family=n&given=z",
        "/v1/patients?family=no&given=zo",
        "/v1/patients?family=no&postcode=SE17EH",
        "/v1/patients?family=n&birthDate=1941-02-03",
    ];
    for path in refused {
        let body = problem(send(&app, path, Role::Ambulance).await, 400).await;
        assert_eq!(body["code"], "name_prefix_too_short", "{path}");
    }
    for path in [
        "/v1/patients?family=no&birthDate=1941-02-03",
        "/v1/patients?family=now&postcode=SE17EH",
        "/v1/patients?family=now&given=zoe",
    ] {
        let res = send(&app, path, Role::Ambulance).await;
        assert_eq!(res.status().as_u16(), 200, "{path}");
        let found: Value = res.json().await.unwrap();
        assert_eq!(found.as_array().map(Vec::len), Some(1), "{path}");
    }
    // The prefix indexes serve the query (on an empty table the planner may still scan;
    // force the choice it would make on a large one).
    let client = app.test_db.owner_client().await;
    client
        .batch_execute("SET enable_seqscan = off")
        .await
        .unwrap();
    let plan: String = client
        .query(
            "EXPLAIN SELECT * FROM patient_index WHERE family_folded LIKE 'now' || '%'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<_, String>(0))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(plan.contains("patient_index_family_prefix"), "{plan}");
}

#[tokio::test]
async fn database_connections_are_encrypted_and_verified_when_the_url_requires_it() {
    let db = TestDb::migrated().await;
    let ssl: String = db
        .owner_client()
        .await
        .query_one("SHOW ssl", &[])
        .await
        .unwrap()
        .get(0);
    if ssl != "on" {
        // Only a DATABASE_URL of someone else's server gets here; scripts/dev-db.sh turns TLS on.
        eprintln!("skipped: the cluster at DATABASE_URL does not offer TLS");
        return;
    }
    let ca = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/keys/test-ca.pem");
    let mut config = db.config(2);
    config.url = format!("{}?sslmode=require", db.url());
    config.tls.ca_file = Some(ca.clone());
    ucp_store::migrate_with_tls(&config.url, &config.tls)
        .await
        .unwrap_or_else(|e| panic!("migrating over TLS: {e:?}"));
    let pool = ucp_store::connect(&config).unwrap();
    let client = pool.get().await.unwrap();
    let row = client
        .query_one(
            "SELECT ssl, current_user::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap();
    assert!(row.get::<_, bool>(0), "the pool's session is encrypted");
    assert_eq!(row.get::<_, String>(1), ucp_store::APP_ROLE);

    // Without the CA that signed the server's certificate, nothing connects: "require" verifies.
    config.tls.ca_file = None;
    let untrusted = ucp_store::connect(&config).unwrap();
    assert!(
        untrusted.get().await.is_err(),
        "an unknown certificate is refused"
    );

    // And a URL that does not ask for TLS does not get it.
    config.url = db.url();
    let plain = ucp_store::connect(&config).unwrap();
    let row = plain
        .get()
        .await
        .unwrap()
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap();
    assert!(!row.get::<_, bool>(0));
}
