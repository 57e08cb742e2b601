//! `make bench`: the service's performance claims, each measured against a baseline in the same
//! run and printed as a ratio (absolute times on a shared machine mean little).
//!
//! 1. Group commit of the access log: concurrent audited reads with the default window (2 ms,
//!    up to 256 entries a commit) against one commit per entry (window 0, batch 1).
//! 2. Feed long-poll wake-up: time from the start of a write to the waiting reader's answer (an
//!    upper bound of commit-to-answer), woken by LISTEN/NOTIFY, against the same reader with no
//!    wake-up (polling every 500 ms).
//!
//! Needs DATABASE_URL (the Makefile sets it); works in a database of its own, dropped at the end.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio_postgres::NoTls;
use ucp_api::audit::AuditConfig;
use ucp_api::{ApiConfig, AppState, Application, Claims, JwtKeys, Role};
use ucp_store::DatabaseConfig;

const SECRET: &[u8] = b"bench-secret";

fn token(role: Role) -> String {
    let now = chrono::Utc::now().timestamp().unsigned_abs();
    JwtKeys::hs256(SECRET)
        .mint(&Claims {
            sub: format!("bench-{}", role.as_str()),
            role,
            org: Some("F84001".into()),
            org_name: None,
            name: Some(format!("Bench {}", role.as_str())),
            registration: None,
            nhs_number: None,
            identity_proofing_level: None,
            exp: now + 3600,
            iat: now,
        })
        .unwrap_or_default()
}

/// A client as a crew's system is: every read states its purpose.
fn client() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "x-purpose-of-use",
        reqwest::header::HeaderValue::from_static("emergency"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap_or_default()
}

fn nhs(i: u32) -> String {
    let mut stem = 999_500_000 + i * 11;
    loop {
        let digits: Vec<u32> = format!("{stem:09}")
            .chars()
            .filter_map(|c| c.to_digit(10))
            .collect();
        let sum: u32 = digits.iter().zip((2..=10).rev()).map(|(d, w)| d * w).sum();
        match 11 - sum % 11 {
            10 => stem += 1,
            11 => return format!("{stem:09}0"),
            c => return format!("{stem:09}{c}"),
        }
    }
}

fn plan(i: u32) -> Value {
    json!({
        "personalInformation": { "nhsNumber": nhs(i), "familyName": "Bench", "givenName": "Person",
            "birthDate": "1940-01-01", "address": { "lines": ["1 Road"], "postcode": "SE1 7EH" } },
        "consentToShare": { "basis": "person-agreed", "date": "2026-11-01" },
        "emergencyTreatmentPlan": { "sharedUnderstanding": "x", "clinicalFocus": "symptom-control",
            "cprRecommendation": "attempts-not-recommended", "capacity": "has-capacity", "involvement": ["A"],
            "signAs": { "role": "GP", "registrationNumber": "GMC 1234567", "seniorResponsible": true } }
    })
}

async fn server(db_url: &str, audit: AuditConfig, listen: bool, poll: Duration) -> String {
    let mut config = DatabaseConfig::new(db_url);
    config.max_connections = 24;
    let state = if listen {
        AppState::open(&config).unwrap_or_else(|e| panic!("{e:?}"))
    } else {
        AppState::new(ucp_store::connect(&config).unwrap_or_else(|e| panic!("{e:?}")))
    };
    let app = Application::build(
        &ApiConfig {
            listen: "127.0.0.1:0".into(),
            workers: Some(2),
            jwt: JwtKeys::hs256(SECRET),
            audit,
            feed_poll: poll,
            ..ApiConfig::default()
        },
        state,
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    base
}

/// Audited reads per second with 32 concurrent clients, and commits per read.
async fn audited_reads(base: &str, owner: &tokio_postgres::Client, label: &str) -> (f64, f64) {
    let client = client();
    let crew = token(Role::Ambulance);
    let before: (i64, i64) = {
        let r = owner
            .query_one(
                "SELECT count(*), count(DISTINCT transaction_id) FROM access_log",
                &[],
            )
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        (r.get(0), r.get(1))
    };
    let started = Instant::now();
    let tasks: Vec<_> = (0..32u32)
        .map(|c| {
            let client = client.clone();
            let crew = crew.clone();
            let base = base.to_owned();
            tokio::spawn(async move {
                for i in 0..40u32 {
                    let res = client
                        .get(format!(
                            "{base}/v1/patients/{}/emergency-summary",
                            nhs((c + i) % 20)
                        ))
                        .bearer_auth(&crew)
                        .send()
                        .await
                        .unwrap_or_else(|e| panic!("{e:?}"));
                    assert!(res.status().is_success());
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap_or_else(|e| panic!("{e:?}"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    let after: (i64, i64) = {
        let r = owner
            .query_one(
                "SELECT count(*), count(DISTINCT transaction_id) FROM access_log",
                &[],
            )
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        (r.get(0), r.get(1))
    };
    let reads = (after.0 - before.0) as f64;
    let commits = (after.1 - before.1) as f64;
    println!(
        "  {label:<38} {:>8.0} reads/s, {:>5.2} commits per read",
        reads / elapsed,
        commits / reads
    );
    (reads / elapsed, commits / reads)
}

async fn tail(base: &str, client: &reqwest::Client) -> String {
    let mut after = String::new();
    loop {
        let page: Value = client
            .get(format!("{base}/v1/feed?limit=1000&after={after}"))
            .bearer_auth(token(Role::Dispatch))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e:?}"))
            .json()
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        let next = page["next"].as_str().unwrap_or_default().to_owned();
        if page["changes"].as_array().is_none_or(Vec::is_empty) {
            return next;
        }
        after = next;
    }
}

/// Median time from a commit to the waiting reader's answer.
async fn wake_latency(base: &str, writer: &str, first: u32, label: &str) -> Duration {
    let client = client();
    let mut samples = Vec::new();
    for i in 0..15 {
        let head = tail(base, &client).await;
        let req = client
            .get(format!("{base}/v1/feed?after={head}&waitSeconds=20"))
            .bearer_auth(token(Role::Dispatch));
        let poll = tokio::spawn(async move {
            let _ = req
                .send()
                .await
                .unwrap_or_else(|e| panic!("{e:?}"))
                .bytes()
                .await;
            Instant::now()
        });
        tokio::time::sleep(Duration::from_millis(150)).await;
        // The commit happens somewhere inside the write request: timing from its start gives an
        // upper bound of commit-to-answer (it includes the write itself).
        let sent = Instant::now();
        let res = client
            .post(format!("{writer}/v1/care-plans"))
            .bearer_auth(token(Role::Clinician))
            .json(&plan(first + i))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(res.status().as_u16(), 201);
        samples.push(
            poll.await
                .unwrap_or_else(|e| panic!("{e:?}"))
                .saturating_duration_since(sent),
        );
    }
    samples.sort();
    let median = samples[samples.len() / 2];
    println!(
        "  {label:<38} median {:>7.1} ms, max {:>7.1} ms (from the write's start)",
        median.as_secs_f64() * 1e3,
        samples[samples.len() - 1].as_secs_f64() * 1e3
    );
    median
}

#[tokio::main]
async fn main() {
    let admin_url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| panic!("DATABASE_URL is not set: run `make bench`"));
    let name = format!("ucp_bench_{}", std::process::id());
    let (admin, conn) = tokio_postgres::connect(&admin_url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    tokio::spawn(conn);
    admin
        .batch_execute(&format!("CREATE DATABASE \"{name}\""))
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let mut url = url::Url::parse(&admin_url).unwrap_or_else(|e| panic!("{e:?}"));
    url.set_path(&format!("/{name}"));
    let db_url = url.to_string();
    ucp_store::migrate(&db_url)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let (owner, conn) = tokio_postgres::connect(&db_url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    tokio::spawn(conn);

    let grouped = server(
        &db_url,
        AuditConfig::default(),
        true,
        Duration::from_secs(5),
    )
    .await;
    let one_by_one = server(
        &db_url,
        AuditConfig {
            window: Duration::ZERO,
            max_batch: 1,
            in_flight: 1,
            ..AuditConfig::default()
        },
        false,
        Duration::from_millis(500),
    )
    .await;
    let client = client();
    for i in 0..20 {
        let res = client
            .post(format!("{grouped}/v1/care-plans"))
            .bearer_auth(token(Role::Clinician))
            .json(&plan(i))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(res.status().as_u16(), 201);
    }

    println!("access log group commit (32 clients x 40 audited summary reads):");
    let _ = audited_reads(&one_by_one, &owner, "warm-up").await;
    let (base_rate, base_commits) =
        audited_reads(&one_by_one, &owner, "baseline: one commit per entry").await;
    let (rate, commits) = audited_reads(&grouped, &owner, "group commit (2 ms window, 256)").await;
    println!(
        "  => throughput x{:.2} of baseline; commits per read x{:.2} of baseline",
        rate / base_rate,
        commits / base_commits
    );

    println!("feed long-poll wake-up after a commit:");
    let woken = wake_latency(&grouped, &grouped, 100, "LISTEN/NOTIFY wake-up").await;
    let polled = wake_latency(&one_by_one, &grouped, 200, "baseline: polling every 500 ms").await;
    println!(
        "  => median x{:.3} of baseline (target: under 100 ms in the common case: {})",
        woken.as_secs_f64() / polled.as_secs_f64(),
        if woken < Duration::from_millis(100) {
            "met"
        } else {
            "NOT met"
        }
    );

    drop(owner);
    let _ = admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await;
}
