//! Limits a request body meets before anything is decided: depth, string and list lengths
//! (422 `limit_exceeded` naming the place), and time — a client that trickles its body or its
//! headers is cut off with 408, never held open.

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use ucp_api::Role;

use crate::helpers::{nhs, plan_body, problem, token, TestApp};

#[tokio::test]
async fn bodies_past_the_depth_string_or_list_limits_are_422_naming_the_place() {
    let app = TestApp::spawn_tuned(|c| {
        c.body_limits.max_depth = 6;
        c.body_limits.max_string_chars = 300;
        c.body_limits.max_items = 12;
    })
    .await;
    let before = app.event_count().await;
    let mut deep = plan_body(&nhs(701));
    deep["whatMatters"] = json!({ "inTheirOwnWords": [[[[[["x"]]]]]] });
    let mut long = plan_body(&nhs(702));
    long["whatMatters"] = json!({ "inTheirOwnWords": "x".repeat(301) });
    let mut many = plan_body(&nhs(703));
    many["personalInformation"]["address"]["lines"] = json!(vec!["line"; 13]);
    for (body, pointer) in [
        (deep, "/whatMatters/inTheirOwnWords/0/0/0/0"),
        (long, "/whatMatters/inTheirOwnWords"),
        (many, "/personalInformation/address/lines"),
    ] {
        let res = app
            .req(reqwest::Method::POST, "/v1/care-plans", Role::Clinician)
            .json(&body)
            .send()
            .await
            .unwrap();
        let p = problem(res, 422).await;
        assert_eq!(p["code"], "limit_exceeded", "{p}");
        assert_eq!(p["errors"][0]["pointer"], pointer, "{p}");
    }
    assert_eq!(app.event_count().await, before, "nothing was written");
}

/// Reads what the server sends until it closes the connection, or `within` passes.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> (String, bool) {
    let deadline = Instant::now() + within;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return (String::from_utf8_lossy(&got).into_owned(), false);
        }
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&got).into_owned(), true),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => return (String::from_utf8_lossy(&got).into_owned(), false),
        }
    }
}

#[tokio::test]
async fn a_trickled_body_is_cut_off_with_408_and_the_connection_closed() {
    let app = TestApp::spawn_tuned(|c| c.body_limits.read_timeout = Duration::from_secs(1)).await;
    let before = app.event_count().await;
    let address = app.url("").trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /v1/care-plans HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 4000\r\n\r\n{{\"personal",
        token(Role::Clinician)
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    // A byte now and then, never the whole body.
    let trickle = async {
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if stream.write_all(b" ").await.is_err() {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_millis(1500), trickle).await;
    let (answer, closed) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "answer: {answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(answer.contains("\"code\":\"request_timeout\""), "{answer}");
    assert!(closed, "the connection is closed after a 408");
    assert!(started.elapsed() < Duration::from_secs(6));
    assert_eq!(app.event_count().await, before, "nothing was written");
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off() {
    let app = TestApp::spawn_tuned(|c| c.header_timeout = Duration::from_secs(1)).await;
    let address = app.url("").trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&address).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    // Well before actix's own default (5 s): the configured timeout is what cut it off.
    let (answer, closed) = read_until_closed(&mut stream, Duration::from_secs(3)).await;
    assert!(closed, "held open past the header timeout; got {answer:?}");
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
}
