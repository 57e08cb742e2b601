//! Read-your-writes across a replica: every write answers with UCP-Consistency; the reads that
//! may use a replica take it back, are served by the replica only once it has replayed past it,
//! and say which server answered. Here the "replica" is the primary's own database reached
//! through a second pool, so its position is real; the HA drill (`make test-ha`) runs the same
//! against a real standby through a failover.

use std::time::{Duration, Instant};

use serde_json::Value;
use ucp_api::Role;

use crate::helpers::{nhs, plan_body, token, TestApp};

fn header(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn lsn(text: &str) -> u64 {
    ucp_store::replica::parse_lsn(text).unwrap_or_else(|| panic!("{text:?} is not a WAL position"))
}

#[tokio::test]
async fn writes_carry_a_consistency_token_and_reads_take_it_back() {
    let app = TestApp::spawn().await;
    let n = nhs(801);
    let res = app
        .req(reqwest::Method::POST, "/v1/care-plans", Role::Clinician)
        .json(&plan_body(&n))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    let first = header(&res, "ucp-consistency").unwrap_or_default();
    let plan: Value = res.json().await.unwrap_or_default();
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    let res = app
        .put_section(
            &id,
            "what-matters",
            &format!("\"plan.{}\"", plan["version"]),
            &serde_json::json!({"inTheirOwnWords": "Home."}),
        )
        .await;
    let second = header(&res, "ucp-consistency").unwrap_or_default();
    assert!(lsn(&second) > lsn(&first), "{second} after {first}");
    // Without a replica every read is the primary's, and says so.
    for path in [
        format!("/v1/care-plans/{id}"),
        format!("/v1/patients/{n}/emergency-summary"),
        format!("/v1/patients/{n}/care-plan"),
        "/v1/patients?family=Nowak&birthDate=1941-02-03".to_owned(),
    ] {
        let res = app
            .req(reqwest::Method::GET, &path, Role::Clinician)
            .header("UCP-Consistency", &second)
            .send()
            .await
            .unwrap();
        assert_eq!(
            (
                res.status().as_u16(),
                header(&res, "ucp-read-from").as_deref()
            ),
            (200, Some("primary")),
            "{path}"
        );
    }
    // A token that is not one is refused, on every read.
    for path in [
        format!("/v1/care-plans/{id}"),
        format!("/v1/care-plans/{id}/history"),
    ] {
        let res = app
            .req(reqwest::Method::GET, &path, Role::Clinician)
            .header("UCP-Consistency", "yesterday")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 400, "{path}");
        let problem: Value = res.json().await.unwrap_or_default();
        assert_eq!(problem["code"], "bad_consistency_token");
    }
    // Without a token the caller is told that first.
    let res = app
        .client
        .get(app.url(&format!("/v1/care-plans/{id}")))
        .header("UCP-Consistency", "0")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
    // A refused write carries no token.
    let res = app
        .put_section(
            &id,
            "what-matters",
            "\"plan.1\"",
            &serde_json::json!({"inTheirOwnWords": "Stale."}),
        )
        .await;
    assert_eq!(res.status().as_u16(), 412);
    assert_eq!(header(&res, "ucp-consistency"), None);
}

#[tokio::test]
async fn a_replica_serves_a_read_only_once_it_has_the_readers_write() {
    let app = TestApp::builder()
        .database(|c| {
            c.replica_url = Some(c.url.clone());
            c.replica_bounds = ucp_store::replica::ReplicaBounds {
                max_wait: Duration::from_millis(300),
                max_staleness: Duration::from_secs(2),
                poll: Duration::from_millis(10),
            };
        })
        .spawn()
        .await;
    let n = nhs(802);
    let res = app
        .req(reqwest::Method::POST, "/v1/care-plans", Role::Clinician)
        .json(&plan_body(&n))
        .send()
        .await
        .unwrap();
    let written = header(&res, "ucp-consistency").unwrap_or_default();
    let read = |consistency: Option<String>| {
        let mut req = app
            .client
            .get(app.url(&format!("/v1/patients/{n}/emergency-summary")))
            .bearer_auth(token(Role::Ambulance));
        if let Some(c) = consistency {
            req = req.header("UCP-Consistency", c);
        }
        req.send()
    };
    // The replica has the write (it is the same database): it serves the read, promptly.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let res = read(Some(written.clone())).await.unwrap();
        assert_eq!(res.status().as_u16(), 200);
        if header(&res, "ucp-read-from").as_deref() == Some("replica") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the replica never served a read it could"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let res = read(None).await.unwrap();
    assert_eq!(
        header(&res, "ucp-read-from").as_deref(),
        Some("replica"),
        "fresh within the bound"
    );
    // A position the replica has not reached: after the bounded wait, the primary answers.
    let started = Instant::now();
    let res = read(Some("FFFF/0".to_owned())).await.unwrap();
    let waited = started.elapsed();
    assert_eq!(
        (
            res.status().as_u16(),
            header(&res, "ucp-read-from").as_deref()
        ),
        (200, Some("primary"))
    );
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_secs(5),
        "waited {waited:?}"
    );
    // Writes and other reads stay on the primary and carry no UCP-Read-From.
    let res = app
        .req(reqwest::Method::GET, "/v1/feed", Role::Dispatch)
        .send()
        .await
        .unwrap();
    assert_eq!(header(&res, "ucp-read-from"), None);
}
