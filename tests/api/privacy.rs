//! The privacy officer's alerts: each kind raised by the access pattern that should raise it
//! and not by an ordinary day; a clinician's confirmation clears a home's admission; the
//! officer's list, alert and outcome, each audited, with the person told when an alert about
//! them is closed; `ucp alerts rebuild --check` agrees with the live scanner; a clinician marks
//! a record sensitive.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use ucp_api::Role;

use crate::fixtures::{nhs, plan_body};
use crate::helpers::{problem, token, token_as, token_for_home, token_with, TestApp};

const HOME: &str = "VM1A2";
const HOME_NAME: &str = "Rosewood Care Home";

fn today() -> String {
    chrono::Utc::now().date_naive().to_string()
}

/// A server whose scanner looks every 50 ms, with small thresholds (a crew may read 3 people an
/// hour; 5 refusals about one person are bulk), every refusal its own entry, and a staff
/// directory naming one clinician who shares the fixtures' family name and postcode.
async fn spawn(directory: &std::path::Path) -> TestApp {
    let staff =
        ucp_api::alerts::StaffDirectory::parse(&std::fs::read_to_string(directory).unwrap())
            .unwrap();
    TestApp::spawn_tuned(move |c| {
        c.alerts.scan_interval = Duration::from_millis(50);
        c.alerts.bulk_reads.insert("ambulance".into(), 3);
        c.alerts.bulk_refusals = 5;
        c.alerts.staff = staff;
        c.audit.refusal_window = Duration::ZERO;
    })
    .await
}

fn directory() -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        file.path(),
        "actor,family name,postcode\n# Dr Nowak lives at the fixtures' postcode\ndr-nowak,Nowak,SE1 7EH\n",
    )
    .unwrap();
    file
}

/// Waits (10 s at most) until the scanner has read every entry written so far.
async fn caught_up(app: &TestApp) {
    let owner = app.test_db.owner_client().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let behind: i64 = owner
            .query_one(
                "SELECT count(*) FROM access_log a WHERE NOT EXISTS (SELECT 1 FROM alert_scan s \
                 WHERE s.scanner = 'privacy-alerts' \
                   AND (a.transaction_id, a.entry_id) <= (s.transaction_id, s.entry_id))",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if behind == 0 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the scanner is {behind} entries behind after 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn officer() -> String {
    token_as(Role::PrivacyOfficer, "po-1", "Pat Officer", None)
}

async fn alerts(app: &TestApp, query: &str) -> Vec<Value> {
    let res = app
        .client
        .get(app.url(&format!("/v1/privacy/alerts{query}")))
        .bearer_auth(officer())
        .header("X-Purpose-Of-Use", "audit")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200, "{query}");
    let page: Value = res.json().await.unwrap();
    page["alerts"].as_array().cloned().unwrap_or_default()
}

fn kinds(alerts: &[Value]) -> Vec<String> {
    let mut k: Vec<String> = alerts
        .iter()
        .map(|a| a["kind"].as_str().unwrap_or_default().to_owned())
        .collect();
    k.sort();
    k
}

async fn read_summary(app: &TestApp, bearer: &str, person: &str, purpose: &str) -> u16 {
    app.client
        .get(app.url(&format!("/v1/patients/{person}/emergency-summary")))
        .bearer_auth(bearer)
        .header("X-Purpose-Of-Use", purpose)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn read_plan(app: &TestApp, bearer: &str, plan_id: &str, purpose: &str) -> u16 {
    app.client
        .get(app.url(&format!("/v1/care-plans/{plan_id}")))
        .bearer_auth(bearer)
        .header("X-Purpose-Of-Use", purpose)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn etag_of(app: &TestApp, plan_id: &str) -> String {
    let (_, plan) = app
        .get_json(&format!("/v1/care-plans/{plan_id}"), Role::Clinician)
        .await;
    plan["etag"].as_str().unwrap_or_default().to_owned()
}

async fn ucp_alerts(
    app: &TestApp,
    args: &[&str],
    directory: &std::path::Path,
    bulk_reads: &str,
) -> (bool, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_ucp"))
        .args(["alerts", "rebuild"])
        .args(args)
        .env("DATABASE_URL", app.test_db.url())
        .env("UCP_ALERTS_BULK_READS", bulk_reads)
        .env("UCP_ALERTS_BULK_REFUSALS", "5")
        .env("UCP_STAFF_DIRECTORY", directory)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[tokio::test]
async fn each_kind_is_raised_by_its_pattern_and_not_by_an_ordinary_day() {
    let dir = directory();
    let app = spawn(dir.path()).await;
    let people: Vec<String> = (0..8).map(|i| nhs(3100 + i)).collect();
    let mut plans = Vec::new();
    for p in &people {
        plans.push(
            app.create_plan(&plan_body(p)).await["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }

    // An ordinary day: a crew reads two people for an emergency, a GP reads three for direct
    // care, a dispatch system reads every one, a refusal or two.
    let crew = token_as(Role::Ambulance, "crew-ordinary", "Crew Ordinary", None);
    for p in &people[..2] {
        assert_eq!(read_summary(&app, &crew, p, "emergency").await, 200);
    }
    let gp = token(Role::Clinician);
    for id in &plans[..3] {
        assert_eq!(read_plan(&app, &gp, id, "direct-care").await, 200);
    }
    let dispatch = token(Role::Dispatch);
    for p in &people {
        assert_eq!(read_summary(&app, &dispatch, p, "emergency").await, 200);
    }
    let unsigned = app
        .client
        .get(app.url(&format!("/v1/patients/{}/emergency-summary", people[0])))
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status().as_u16(), 401);
    caught_up(&app).await;
    assert_eq!(
        alerts(&app, "").await,
        Vec::<Value>::new(),
        "an ordinary day raises nothing"
    );

    // 1. A care home admits a resident: a self-declared relationship.
    let res = app
        .client
        .post(app.url("/v1/care-home/residents"))
        .bearer_auth(token_for_home(HOME, HOME_NAME))
        .json(&json!({"nhsNumber": people[0], "birthDate": "1941-02-03", "since": today()}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    // 2. A GP states an emergency.
    assert_eq!(read_plan(&app, &gp, &plans[1], "emergency").await, 200);
    // 3. A crew reads four people within the hour (more than 3).
    let busy = token_as(Role::Ambulance, "crew-busy", "Crew Busy", None);
    for p in &people[2..6] {
        assert_eq!(read_summary(&app, &busy, p, "emergency").await, 200);
    }
    // 4. Dr Nowak reads the record of a Nowak at their own postcode.
    let nowak = token_as(Role::Clinician, "dr-nowak", "Dr A Nowak", None);
    assert_eq!(read_plan(&app, &nowak, &plans[6], "direct-care").await, 200);
    // 5. A record marked sensitive, read by a crew.
    let etag = etag_of(&app, &plans[7]).await;
    let res = app
        .write(
            Role::Clinician,
            Method::POST,
            &format!("/v1/care-plans/{}/sensitivity", plans[7]),
            &etag,
            &json!({"reason": "public-figure"}),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let marked: Value = res.json().await.unwrap();
    assert_eq!(marked["sensitive"], true);
    assert_eq!(
        read_summary(&app, &crew, &people[7], "emergency").await,
        200
    );
    // 6. Five refused requests about one person.
    for _ in 0..5 {
        let res = app
            .client
            .get(app.url(&format!("/v1/patients/{}/emergency-summary", people[5])))
            .bearer_auth("not-a-token")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 401);
    }
    caught_up(&app).await;
    let raised = alerts(&app, "").await;
    assert_eq!(
        kinds(&raised),
        [
            "bulk-reads",
            "bulk-refusals",
            "emergency-purpose",
            "family-lookup",
            "self-declared-relationship",
            "sensitive-record",
        ],
        "{raised:#?}"
    );
    let of = |kind: &str| {
        raised
            .iter()
            .find(|a| a["kind"] == kind)
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(of("bulk-reads")["actor"], "crew-busy");
    assert_eq!(of("bulk-reads")["peopleCount"], 4);
    assert_eq!(of("family-lookup")["nhsNumber"], people[6].as_str());
    assert_eq!(of("sensitive-record")["nhsNumber"], people[7].as_str());
    assert_eq!(of("emergency-purpose")["role"], "clinician");
    assert_eq!(of("bulk-refusals")["nhsNumber"], people[5].as_str());
    assert_eq!(of("bulk-refusals")["evidenceCount"], 5);
    let admission = of("self-declared-relationship");
    assert_eq!(admission["state"], "open");
    assert_eq!(admission["organisation"], HOME);
    let metrics = app.metrics().await;
    for kind in [
        "bulk-reads",
        "self-declared-relationship",
        "sensitive-record",
    ] {
        assert!(
            metrics.contains(&format!("ucp_privacy_alerts_open{{kind=\"{kind}\"}} 1")),
            "{kind}: {metrics}"
        );
    }

    // A clinician's confirmation of that home clears the admission's alert.
    let plan0 = &plans[0];
    let res = app
        .write(
            Role::Clinician,
            Method::POST,
            &format!("/v1/care-plans/{plan0}/residence/confirm"),
            &etag_of(&app, plan0).await,
            &json!({"odsCode": HOME}),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    caught_up(&app).await;
    let cleared = alerts(&app, "?kind=self-declared-relationship").await;
    assert_eq!(cleared.len(), 1);
    assert_eq!(cleared[0]["state"], "cleared");
    assert!(cleared[0]["clearedBy"].is_string());
    assert_eq!(alerts(&app, "?state=open").await.len(), 5);
    assert_eq!(alerts(&app, "?state=cleared").await.len(), 1);
    assert_eq!(alerts(&app, "?actor=crew-busy").await.len(), 1);
    assert_eq!(
        alerts(&app, &format!("?nhsNumber={}", people[3]))
            .await
            .len(),
        1
    );
    assert_eq!(
        alerts(&app, &format!("?organisation={HOME}")).await.len(),
        1
    );
    assert_eq!(alerts(&app, "?limit=2").await.len(), 2);

    // Detection is replayable: a recomputation from the log finds exactly these.
    let (ok, out) = ucp_alerts(&app, &["--check"], dir.path(), "ambulance=3").await;
    assert!(ok, "{out}");
    assert!(out.contains("6 alerts from"), "{out}");
    assert!(out.contains("0 differ"), "{out}");
    // A recomputation under other rules differs, and says so.
    let (ok, out) = ucp_alerts(&app, &["--check"], dir.path(), "ambulance=10").await;
    assert!(!ok, "{out}");
    assert!(out.contains("recorded, not recomputed"), "{out}");
    // Writing is refused while the server scans.
    let (ok, out) = ucp_alerts(&app, &[], dir.path(), "ambulance=3").await;
    assert!(!ok, "{out}");
    assert!(out.contains("a server is scanning"), "{out}");
}

#[tokio::test]
async fn the_privacy_officer_reviews_an_alert_and_the_person_is_told() {
    let dir = directory();
    let app = spawn(dir.path()).await;
    let person = nhs(3200);
    let plan = app.create_plan(&plan_body(&person)).await;
    let plan_id = plan["id"].as_str().unwrap_or_default().to_owned();
    let gp = token(Role::Clinician);
    assert_eq!(read_plan(&app, &gp, &plan_id, "emergency").await, 200);
    caught_up(&app).await;
    let listed = alerts(&app, "").await;
    assert_eq!(listed.len(), 1);
    let id = listed[0]["alertId"].as_str().unwrap_or_default().to_owned();

    // Only a privacy officer: not an admin, not a clinician, not without a token.
    for (bearer, status) in [
        (token(Role::Admin), 403),
        (token(Role::Clinician), 403),
        ("not-a-token".to_owned(), 401),
    ] {
        let res = app
            .client
            .get(app.url(&format!("/v1/privacy/alerts/{id}")))
            .bearer_auth(&bearer)
            .header("X-Purpose-Of-Use", "audit")
            .send()
            .await
            .unwrap();
        problem(res, status).await;
        let res = app
            .client
            .get(app.url("/v1/privacy/alerts"))
            .bearer_auth(&bearer)
            .header("X-Purpose-Of-Use", "audit")
            .send()
            .await
            .unwrap();
        problem(res, status).await;
    }
    // Bad input.
    for (path, status) in [
        ("/v1/privacy/alerts/not-a-uuid", 400),
        (
            "/v1/privacy/alerts/00000000-0000-0000-0000-000000000000",
            404,
        ),
        ("/v1/privacy/alerts?state=closed", 400),
        ("/v1/privacy/alerts?kind=gossip", 400),
        ("/v1/privacy/alerts?nhsNumber=123", 400),
        ("/v1/privacy/alerts?limit=0", 400),
        ("/v1/privacy/alerts?before=xyz", 400),
        ("/v1/privacy/alerts?colour=red", 400),
        ("/v1/privacy/alerts?actor=%00", 400),
        ("/v1/privacy/alerts?organisation=a%00b", 400),
        ("/v1/audit?actor=%00", 400),
    ] {
        let res = app
            .client
            .get(app.url(path))
            .bearer_auth(officer())
            .header("X-Purpose-Of-Use", "audit")
            .send()
            .await
            .unwrap();
        problem(res, status).await;
    }

    // The alert with its evidence: the access-log entry of the read itself.
    let res = app
        .client
        .get(app.url(&format!("/v1/privacy/alerts/{id}")))
        .bearer_auth(officer())
        .header("X-Purpose-Of-Use", "audit")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let etag = res.headers()["etag"]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    let detail: Value = res.json().await.unwrap();
    assert_eq!(detail["alert"]["kind"], "emergency-purpose");
    assert_eq!(detail["people"], json!([person]));
    let evidence = detail["evidence"].as_array().cloned().unwrap_or_default();
    assert_eq!(evidence.len(), 1);
    assert_eq!(evidence[0]["action"], "getCarePlan");
    assert_eq!(evidence[0]["purpose"], "emergency");
    assert_eq!(evidence[0]["actor"], "clinician-test");

    let outcome = |if_match: Option<&str>, body: Value, bearer: String| {
        let mut req = app
            .client
            .post(app.url(&format!("/v1/privacy/alerts/{id}/outcome")))
            .bearer_auth(bearer)
            .json(&body);
        if let Some(tag) = if_match {
            req = req.header("If-Match", tag);
        }
        req.send()
    };
    let ok_body = json!({"outcome": "reviewed-appropriate", "note": "The GP was called to the house that night."});
    let wrong: [(Option<&str>, Value, String, u16); 7] = [
        (None, ok_body.clone(), officer(), 428),
        (Some("\"7\""), ok_body.clone(), officer(), 400),
        (Some("\"alert-r99\""), ok_body.clone(), officer(), 412),
        (
            Some(&etag),
            json!({"outcome": "ignored", "note": "x"}),
            officer(),
            422,
        ),
        (
            Some(&etag),
            json!({"outcome": "referred", "note": ""}),
            officer(),
            422,
        ),
        (
            Some(&etag),
            json!({"outcome": "referred", "note": "x", "extra": 1}),
            officer(),
            400,
        ),
        (Some(&etag), ok_body.clone(), token(Role::Admin), 403),
    ];
    for (tag, body, bearer, status) in wrong {
        problem(outcome(tag, body, bearer).await.unwrap(), status).await;
    }
    let res = outcome(Some(&etag), ok_body.clone(), officer())
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let closed: Value = res.json().await.unwrap();
    assert_eq!(closed["state"], "reviewed-appropriate");
    assert_eq!(closed["outcome"]["byName"], "Pat Officer");
    // The same ETag again: someone (this officer) recorded an outcome since.
    problem(outcome(Some(&etag), ok_body, officer()).await.unwrap(), 412).await;
    assert_eq!(alerts(&app, "?state=reviewed-appropriate").await.len(), 1);
    assert!(app
        .metrics()
        .await
        .contains("ucp_privacy_alerts_open{kind=\"emergency-purpose\"} 0"));

    // Every action of the officer is in the access log, and the person is told.
    let owner = app.test_db.owner_client().await;
    let actions: Vec<String> = owner
        .query(
            "SELECT action || ' ' || status FROM access_log WHERE actor = 'po-1' ORDER BY at",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    for expected in [
        "listPrivacyAlerts 200",
        "getPrivacyAlert 200",
        "recordPrivacyAlertOutcome 200",
        "recordPrivacyAlertOutcome 412",
    ] {
        assert!(
            actions.iter().any(|a| a == expected),
            "{expected} missing from {actions:?}"
        );
    }
    let recorded: i64 = owner
        .query_one(
            "SELECT count(*) FROM access_log WHERE action = 'recordPrivacyAlertOutcome' \
             AND status = 200 AND nhs_number = $1",
            &[&person],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(recorded, 1, "one entry for the outcome, committed with it");
    let res = app
        .client
        .get(app.url("/v1/me/access-log"))
        .bearer_auth(token_with(Role::Patient, Some(&person)))
        .send()
        .await
        .unwrap();
    let log: Value = res.json().await.unwrap();
    let said: Vec<&str> = log["entries"]
        .as_array()
        .map(|e| e.iter().filter_map(|x| x["description"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        said.contains(&"an access to your record was reviewed by the privacy officer"),
        "{said:#?}"
    );

    // More evidence (another emergency read that day) reopens it.
    assert_eq!(read_plan(&app, &gp, &plan_id, "emergency").await, 200);
    caught_up(&app).await;
    let reopened = alerts(&app, "").await;
    assert_eq!(reopened[0]["state"], "open");
    assert_eq!(reopened[0]["evidenceCount"], 2);
}

#[tokio::test]
async fn only_a_clinician_marks_a_record_sensitive_and_readers_are_told() {
    let app = TestApp::spawn().await;
    let person = nhs(3300);
    let plan = app.create_plan(&plan_body(&person)).await;
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    let path = format!("/v1/care-plans/{id}/sensitivity");
    let etag = etag_of(&app, &id).await;
    for role in [Role::Ambulance, Role::Admin, Role::PrivacyOfficer] {
        let res = app
            .write(
                role,
                Method::POST,
                &path,
                &etag,
                &json!({"reason": "member-of-staff"}),
            )
            .await;
        problem(res, 403).await;
    }
    let res = app
        .client
        .post(app.url(&path))
        .bearer_auth(token(Role::Clinician))
        .json(&json!({"reason": "member-of-staff"}))
        .send()
        .await
        .unwrap();
    problem(res, 428).await;
    for (bad, status) in [
        (json!({"reason": "celebrity"}), 422),
        (json!({}), 422),
        (json!({"reason": "member-of-staff", "x": 1}), 400),
    ] {
        let res = app
            .write(Role::Clinician, Method::POST, &path, &etag, &bad)
            .await;
        problem(res, status).await;
    }
    let res = app
        .write(
            Role::Clinician,
            Method::POST,
            &path,
            "\"1\"",
            &json!({"reason": "member-of-staff"}),
        )
        .await;
    assert!(
        matches!(res.status().as_u16(), 412 | 400),
        "{}",
        res.status()
    );
    let res = app
        .write(
            Role::Clinician,
            Method::POST,
            &path,
            &etag,
            &json!({"reason": "member-of-staff"}),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let marked: Value = res.json().await.unwrap();
    // Marked again for the same reason: a conflict, nothing written.
    let res = app
        .write(
            Role::Clinician,
            Method::POST,
            &path,
            marked["etag"].as_str().unwrap_or_default(),
            &json!({"reason": "member-of-staff"}),
        )
        .await;
    assert_eq!(problem(res, 409).await["code"], "sensitivity_conflict");
    // Every reader is told reads are reviewed; the reason is not on the plan.
    let (_, crew_view) = app
        .get_json(&format!("/v1/care-plans/{id}"), Role::Ambulance)
        .await;
    assert_eq!(
        crew_view["sensitivity"]["notice"],
        "This record is marked sensitive: every read of it is reviewed by the privacy officer."
    );
    assert!(!crew_view.to_string().contains("member-of-staff"));
    // In FHIR, the CarePlan and the Patient carry the restricted security label.
    let (status, care_plan) = app
        .get_json(&format!("/fhir/R4/CarePlan/{id}"), Role::Clinician)
        .await;
    assert_eq!(status, 200);
    assert_eq!(care_plan["meta"]["security"][0]["code"], "R", "{care_plan}");
    let (_, patient) = app
        .get_json(&format!("/fhir/R4/Patient/{person}"), Role::Clinician)
        .await;
    assert_eq!(patient["meta"]["security"][0]["code"], "R", "{patient}");
    // The history gives the mark's type, never its reason; the feed does not carry it.
    let (_, history) = app
        .get_json(&format!("/v1/care-plans/{id}/history"), Role::Ambulance)
        .await;
    assert!(
        history.to_string().contains("SensitivityMarked"),
        "{history}"
    );
    assert!(
        !history.to_string().contains("member-of-staff"),
        "{history}"
    );
    let (_, feed) = app.get_json("/v1/feed?limit=200", Role::Dispatch).await;
    assert!(!feed.to_string().contains("Sensitivity"), "{feed}");
    // Cleared (it names no reason: the plan's ETag binds it to the mark seen); cleared again:
    // a conflict.
    let clear = format!("{path}/clear");
    let res = app
        .write(
            Role::Clinician,
            Method::POST,
            &clear,
            marked["etag"].as_str().unwrap_or_default(),
            &json!({}),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let cleared: Value = res.json().await.unwrap();
    let res = app
        .write(
            Role::Clinician,
            Method::POST,
            &clear,
            cleared["etag"].as_str().unwrap_or_default(),
            &json!({}),
        )
        .await;
    assert_eq!(problem(res, 409).await["code"], "sensitivity_conflict");
    let (_, now) = app
        .get_json(&format!("/v1/care-plans/{id}"), Role::Clinician)
        .await;
    assert!(now.get("sensitivity").is_none(), "{now}");
    let (_, care_plan) = app
        .get_json(&format!("/fhir/R4/CarePlan/{id}"), Role::Clinician)
        .await;
    assert!(care_plan["meta"].get("security").is_none(), "{care_plan}");
    let res = app
        .client
        .get(app.url("/v1/me/access-log"))
        .bearer_auth(token_with(Role::Patient, Some(&person)))
        .send()
        .await
        .unwrap();
    let log: Value = res.json().await.unwrap();
    assert!(
        log.to_string().contains("marked your record sensitive"),
        "{log}"
    );
}

#[tokio::test]
async fn the_demo_day_raises_one_open_alert_of_each_kind() {
    let db = crate::helpers::TestDb::migrated().await;
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_ucp"))
        .args(["seed", "--demo", "--count", "20", "--access-day"])
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
    let directory =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/staff-directory.example.csv");
    let staff =
        ucp_api::alerts::StaffDirectory::parse(&std::fs::read_to_string(&directory).unwrap())
            .unwrap();
    // The defaults, as `make run` serves them.
    let app = TestApp::builder()
        .on(db)
        .api(move |c| {
            c.alerts.scan_interval = Duration::from_millis(50);
            c.alerts.staff = staff;
        })
        .spawn()
        .await;
    caught_up(&app).await;
    let open = alerts(&app, "?state=open").await;
    assert_eq!(
        kinds(&open),
        [
            "bulk-reads",
            "bulk-refusals",
            "emergency-purpose",
            "family-lookup",
            "self-declared-relationship",
            "sensitive-record",
        ],
        "{open:#?}"
    );
    let cleared = alerts(&app, "?state=cleared").await;
    assert_eq!(kinds(&cleared), ["self-declared-relationship"]);
    assert_eq!(alerts(&app, "").await.len(), 7, "nothing else");
    // Seeding again writes no second day.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_ucp"))
        .args(["seed", "--demo", "--count", "20", "--access-day"])
        .env("DATABASE_URL", app.test_db.url())
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    assert!(out.status.success());
    caught_up(&app).await;
    assert_eq!(alerts(&app, "").await.len(), 7);
}

#[tokio::test]
async fn the_scanner_never_reads_past_an_entry_still_being_committed() {
    use ucp_store::alerts::ScanPosition;
    let test_db = crate::helpers::TestDb::migrated().await;
    let db = test_db.store(2);
    let insert =
        "INSERT INTO access_log (entry_id, at, actor, role, action, method, path, status) \
                  VALUES ($1, now(), $2, 'clinician', 'getCarePlan', 'GET', '/v1', 200)";
    let early = uuid::Uuid::now_v7();
    let late = uuid::Uuid::now_v7();
    // An entry whose transaction starts first and is still open...
    let open = test_db.owner_client().await;
    open.batch_execute("BEGIN").await.unwrap();
    open.execute(insert, &[&early, &"early"]).await.unwrap();
    // ...and one that commits after it started.
    let other = test_db.owner_client().await;
    other.execute(insert, &[&late, &"late"]).await.unwrap();
    let seen = db.access_log_after(ScanPosition::START, 100).await.unwrap();
    assert!(
        seen.is_empty(),
        "nothing past the open transaction is read: {seen:?}"
    );
    open.batch_execute("COMMIT").await.unwrap();
    // Both, in commit order, once the first commits (other tests' transactions in the cluster
    // may hold the fence a moment longer: 10 s at most).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let seen = db.access_log_after(ScanPosition::START, 100).await.unwrap();
        if seen.len() == 2 {
            assert_eq!(seen[0].entry.entry_id, early);
            assert_eq!(seen[1].entry.entry_id, late);
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{seen:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
