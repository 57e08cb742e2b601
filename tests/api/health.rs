//! /healthz, /readyz, problem+json for unknown paths, request ids, and the binary's graceful
//! shutdown.

use std::time::Duration;

use crate::helpers::{problem, TestApp, TestDb};

#[tokio::test]
async fn healthz_and_readyz_answer_when_all_is_well() {
    let app = TestApp::spawn().await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status().as_u16(), 200);
    assert!(health.headers().contains_key("x-request-id"));
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status().as_u16(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "ready");
}

#[tokio::test]
async fn readyz_is_503_when_migrations_are_missing() {
    let app = TestApp::builder().on(TestDb::empty().await).spawn().await;
    let body = problem(app.get("/readyz").await, 503).await;
    assert_eq!(body["code"], "service_unavailable");
    assert_eq!(app.get("/healthz").await.status().as_u16(), 200);
}

#[tokio::test]
async fn readyz_is_503_when_the_database_is_unreachable() {
    let test_db = TestDb::migrated().await;
    let mut config = ucp_store::DatabaseConfig::new("postgres://ucp_app@127.0.0.1:1/nowhere");
    config.acquire_timeout = Duration::from_millis(500);
    let pool = ucp_store::connect(&config).unwrap();
    let app = ucp_api::Application::build(
        &ucp_api::ApiConfig {
            listen: "127.0.0.1:0".into(),
            workers: Some(1),
            ..ucp_api::ApiConfig::default()
        },
        ucp_api::AppState::new(pool),
    )
    .unwrap();
    let url = format!("http://127.0.0.1:{}/readyz", app.port());
    tokio::spawn(app.run_until_stopped());
    let response = reqwest::get(url).await.unwrap();
    let body = problem(response, 503).await;
    assert!(!body["detail"]
        .as_str()
        .unwrap_or_default()
        .contains("127.0.0.1:1"));
    drop(test_db);
}

#[tokio::test]
async fn an_unknown_path_is_a_404_problem() {
    let app = TestApp::spawn().await;
    let body = problem(app.get("/v1/nothing-here").await, 404).await;
    assert_eq!(body["type"], "urn:ucp:problem:not_found");
}

/// The real binary: migrates (when told to), serves, and on SIGTERM or SIGINT lets an
/// in-flight request finish, then exits 0.
async fn stops_gracefully_on(signal: &str) {
    let db = TestDb::empty().await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_ucp"))
        .args(["serve", "--migrate"])
        .env("DATABASE_URL", db.url())
        .env("UCP_LISTEN", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .env("UCP_JWT_SECRET", "test-secret")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let mut ready = false;
    for _ in 0..100 {
        if let Ok(r) = reqwest::get(format!("{base}/readyz")).await {
            if r.status().as_u16() == 200 {
                ready = true;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        ready,
        "the binary migrated the empty database and became ready"
    );
    // A long poll is in flight when the signal comes: it must be answered, not dropped.
    let in_flight = tokio::spawn(
        reqwest::Client::new()
            .get(format!("{base}/v1/feed?waitSeconds=2"))
            .bearer_auth(crate::helpers::token(ucp_api::Role::Dispatch))
            .send(),
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pid = child.id().unwrap_or_else(|| panic!("no pid"));
    let killed = tokio::process::Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .await
        .unwrap();
    assert!(killed.success());
    let answered = in_flight
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("the in-flight request was dropped on {signal}: {e:?}"));
    assert_eq!(answered.status().as_u16(), 200, "{signal}");
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .unwrap_or_else(|_| panic!("the server did not stop within 30 s"))
        .unwrap();
    assert!(status.success(), "exit status {status:?} on {signal}");
}

#[tokio::test]
async fn the_binary_drains_and_stops_on_sigterm() {
    stops_gracefully_on("-TERM").await;
}

#[tokio::test]
async fn the_binary_drains_and_stops_on_sigint() {
    stops_gracefully_on("-INT").await;
}

#[tokio::test]
async fn metrics_count_requests_and_access_log_commits() {
    let app = TestApp::spawn().await;
    app.get("/healthz").await;
    let denied = app
        .get("/v1/care-plans/00000000-0000-0000-0000-000000000000")
        .await;
    assert_eq!(denied.status().as_u16(), 401);
    let res = app.get("/metrics").await;
    assert_eq!(res.status().as_u16(), 200);
    let text = res.text().await.unwrap();
    for line in [
        "ucp_http_requests_total{class=\"2xx\"} 1",
        "ucp_http_requests_total{class=\"4xx\"} 1",
        "ucp_audit_entries_total 1",
        "ucp_audit_commits_total 1",
        "ucp_audit_failed_entries_total 0",
        "ucp_dead_letters_parked_total 0",
    ] {
        assert_line(&text, line);
    }
}

fn assert_line(text: &str, line: &str) {
    assert!(
        text.lines().any(|l| l == line),
        "missing {line:?} in\n{text}"
    );
}

#[tokio::test]
async fn documented_series_are_at_zero_before_their_first_event() {
    let app = TestApp::spawn().await;
    let text = app.get("/metrics").await.text().await.unwrap();
    for line in [
        "ucp_http_requests_total{class=\"5xx\"} 0",
        "ucp_http_requests_total{class=\"4xx\"} 0",
        "ucp_webhook_attempts_total{outcome=\"delivered\"} 0",
        "ucp_webhook_attempts_total{outcome=\"failed\"} 0",
        "ucp_dead_letters_parked_total 0",
        "ucp_audit_failed_entries_total 0",
        "ucp_audit_batch_size_count 0",
        "ucp_db_pool_waiting 0",
        "ucp_feed_fence_lag_positions 0",
    ] {
        assert_line(&text, line);
    }
}

#[tokio::test]
async fn metrics_time_requests_by_route_and_show_the_pool_and_the_lag() {
    let app = TestApp::spawn().await;
    // A subscription to a receiver that is not there: its checkpoint stays where it started.
    let sub: serde_json::Value = app
        .req(
            reqwest::Method::POST,
            "/v1/subscriptions",
            ucp_api::Role::Admin,
        )
        .json(&serde_json::json!({
            "name": "Nobody home", "targetUrl": "http://127.0.0.1:9/", "maxAttempts": 50,
            "secret": "0123456789abcdef0123456789abcdef"
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sub_id = sub["id"].as_str().unwrap_or_default().to_owned();
    let plan = app
        .create_plan(&crate::helpers::plan_body(&crate::helpers::nhs(901)))
        .await;
    let nhs_number = plan["nhsNumber"].as_str().unwrap_or_default().to_owned();
    app.summary(&nhs_number, ucp_api::Role::Ambulance).await;
    let text = app.get("/metrics").await.text().await.unwrap();
    let summary_route = "route=\"/v1/patients/{nhsNumber}/emergency-summary\"";
    assert!(
        text.lines()
            .any(|l| l.starts_with("ucp_http_request_duration_seconds_count")
                && l.contains(summary_route)
                && l.contains("status=\"200\"")
                && l.ends_with(" 1")),
        "no latency series for the summary route in\n{text}"
    );
    assert!(!text.contains(&nhs_number), "an NHS number in the metrics");
    // The plan's events are in the log; the pool has been used and waited on.
    let value = |name: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
            .unwrap_or_else(|| panic!("no {name} in\n{text}"))
    };
    assert!(value("ucp_feed_head_position ") >= 1.0);
    assert!(value("ucp_db_pool_wait_seconds_count ") >= 2.0);
    assert!(value("ucp_db_pool_max_connections ") >= 1.0);
    assert!(value("ucp_audit_batch_size_count ") >= 1.0);
    let lag = format!("ucp_subscription_lag_positions{{subscription=\"{sub_id}\"}} ");
    assert!(
        value(&lag) >= 1.0,
        "the subscription is behind the plan just created"
    );
}

#[tokio::test]
async fn an_undeclared_method_is_405_naming_the_methods_there_are() {
    let app = TestApp::spawn().await;
    let id = "00000000-0000-0000-0000-000000000000";
    for (method, path, allow) in [
        (
            reqwest::Method::PUT,
            format!("/v1/care-plans/{id}/history"),
            "GET",
        ),
        (
            reqwest::Method::PATCH,
            format!("/v1/care-plans/{id}/sections/contacts"),
            "DELETE, GET, PUT",
        ),
        (reqwest::Method::DELETE, "/v1/patients".to_owned(), "GET"),
        (
            reqwest::Method::GET,
            "/v1/subscriptions/x/dead-letters/y/redeliver".to_owned(),
            "POST",
        ),
    ] {
        let res = app
            .client
            .request(method.clone(), app.url(&path))
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["allow"], allow, "{method} {path}");
        let body = problem(res, 405).await;
        assert_eq!(body["code"], "method_not_allowed");
    }
    // A path that is no resource at all stays 404.
    problem(app.get("/v1/nothing-here").await, 404).await;
}

/// The real binary's logs, while it answers requests that carry NHS numbers in their paths
/// and names in their queries: no NHS number, no name, no colour codes in a file.
#[tokio::test]
async fn logs_carry_no_patient_identifiers() {
    let db = TestDb::migrated().await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("ucp.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_ucp"))
        .arg("serve")
        .env("DATABASE_URL", db.url())
        .env("UCP_LISTEN", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "info")
        .env("UCP_JWT_SECRET", "test-secret")
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if reqwest::get(format!("{base}/readyz"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let number = crate::helpers::nhs(777);
    let client = reqwest::Client::new();
    let crew = crate::helpers::token(ucp_api::Role::Ambulance);
    let created = client
        .post(format!("{base}/v1/care-plans"))
        .bearer_auth(crate::helpers::token(ucp_api::Role::Clinician))
        .json(&crate::helpers::plan_body(&number))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    for (path, token) in [
        (
            format!("/v1/patients/{number}/emergency-summary"),
            Some(&crew),
        ),
        (
            format!(
                "/v1/patients/{}/emergency-summary",
                crate::helpers::nhs(778)
            ),
            Some(&crew),
        ),
        (format!("/v1/patients/{number}/care-plan"), None),
        (
            "/v1/patients?family=nowak&postcode=SE17EH".to_owned(),
            Some(&crew),
        ),
        (
            "/v1/patients/1234567890/emergency-summary".to_owned(),
            Some(&crew),
        ),
    ] {
        let mut req = client.get(format!("{base}{path}"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap();
    }
    let pid = child.id().unwrap_or_else(|| panic!("no pid"));
    let _ = tokio::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .await;
    let _ = tokio::time::timeout(Duration::from_secs(30), child.wait()).await;
    let text = std::fs::read_to_string(&log_path).unwrap_or_default();
    assert!(
        text.contains("serving the Universal Care Plan API"),
        "{text}"
    );
    for needle in [
        number.as_str(),
        &crate::helpers::nhs(778),
        "1234567890",
        "Nowak",
        "nowak",
    ] {
        assert!(!text.contains(needle), "the log names {needle}:\n{text}");
    }
    assert!(
        !text.contains('\u{1b}'),
        "no colour codes in a file:\n{text}"
    );
}
