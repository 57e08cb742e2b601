//! A dispatch-side consumer of the Universal Care Plan API: the integration a real dispatch
//! system would copy. It keeps a local flag table (NHS number → CPR decision, postcode, link to
//! the summary) current, saved to a file after every change, so it survives restarts.
//!
//! Two ways to follow changes:
//!
//! ```sh
//! # Long-poll the feed (a dispatch token). A first run bootstraps from /v1/feed/snapshot —
//! # what is true now, never a replay of history — then resumes from the saved cursor.
//! cargo run --example dispatch_consumer -- feed http://127.0.0.1:8080 "$DISPATCH_TOKEN" flags.json
//! # Receive webhooks (checks signatures, ignores repeated delivery ids)
//! cargo run --example dispatch_consumer -- webhook 127.0.0.1:9000 "$WEBHOOK_SECRET" flags.json
//! ```

mod flags;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use flags::{signature_ok, FlagTable};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("feed") if args.len() == 5 => {
            follow_feed(&args[2], &args[3], PathBuf::from(&args[4])).await
        }
        Some("webhook") if args.len() == 5 => {
            receive_webhooks(&args[2], args[3].clone(), PathBuf::from(&args[4])).await
        }
        _ => {
            eprintln!("usage: dispatch_consumer feed <base-url> <token> <flags.json>\n       dispatch_consumer webhook <listen-addr> <secret> <flags.json>");
            std::process::exit(2);
        }
    }
}

/// A first run: every current summary, page by page, and the cursor of the first page (every
/// change not reflected in the pages comes after it; the rest are applied again harmlessly).
async fn bootstrap(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    table: &mut FlagTable,
) -> std::io::Result<()> {
    let mut after = String::new();
    let mut cursor = None;
    loop {
        let page: serde_json::Value = client
            .get(format!("{base}/v1/feed/snapshot?after={after}&limit=1000"))
            .bearer_auth(token)
            .header("X-Purpose-Of-Use", "dispatch-flags")
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(std::io::Error::other)?
            .json()
            .await
            .map_err(std::io::Error::other)?;
        cursor = cursor.or_else(|| page["cursor"].as_str().map(str::to_owned));
        for item in page["summaries"].as_array().into_iter().flatten() {
            table.apply_snapshot_item(item);
        }
        match page["nextPage"].as_str() {
            Some(next) => next.clone_into(&mut after),
            None => break,
        }
    }
    table.cursor = cursor;
    Ok(())
}

async fn follow_feed(base: &str, token: &str, path: PathBuf) -> std::io::Result<()> {
    let mut table = FlagTable::load(&path)?;
    let client = reqwest::Client::new();
    if table.cursor.is_none() {
        bootstrap(&client, base, token, &mut table).await?;
        table.save(&path)?;
    }
    let mut backoff = std::time::Duration::from_secs(1);
    loop {
        let after = table.cursor.clone().unwrap_or_default();
        let response = client
            .get(format!(
                "{base}/v1/feed?after={after}&limit=200&waitSeconds=30"
            ))
            .bearer_auth(token)
            .header("X-Purpose-Of-Use", "dispatch-flags")
            .send()
            .await;
        let page: serde_json::Value = match response {
            Ok(r) if r.status().is_success() => r.json().await.map_err(std::io::Error::other)?,
            Ok(r) => {
                eprintln!("feed answered {}; retrying in {backoff:?}", r.status());
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(std::time::Duration::from_secs(60));
                continue;
            }
            Err(e) => {
                eprintln!("feed unreachable ({e}); retrying in {backoff:?}");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(std::time::Duration::from_secs(60));
                continue;
            }
        };
        backoff = std::time::Duration::from_secs(1);
        for change in page["changes"].as_array().into_iter().flatten() {
            table.apply(change);
        }
        table.cursor = page["next"].as_str().map(str::to_owned);
        table.save(&path)?;
    }
}

async fn receive_webhooks(listen: &str, secret: String, path: PathBuf) -> std::io::Result<()> {
    let table = Arc::new(Mutex::new(FlagTable::load(&path)?));
    let state = web::Data::new((table, secret, path));
    HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route("/", web::post().to(webhook))
    })
    .bind(listen)?
    .run()
    .await
}

type State = (Arc<Mutex<FlagTable>>, String, PathBuf);

async fn webhook(req: HttpRequest, body: web::Bytes, state: web::Data<State>) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    let (table, secret, path) = state.get_ref();
    let now = chrono::Utc::now().timestamp();
    if !signature_ok(
        secret.as_bytes(),
        header("x-ucp-timestamp"),
        &body,
        header("x-ucp-signature"),
        now,
    ) {
        return HttpResponse::Unauthorized().body("bad signature");
    }
    let Ok(change) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return HttpResponse::BadRequest().finish();
    };
    let Ok(mut table) = table.lock() else {
        return HttpResponse::InternalServerError().finish();
    };
    table.apply_delivery(header("x-ucp-delivery-id"), &change);
    // Acknowledge only once saved: an unsaved change is redelivered.
    match table.save(path) {
        Ok(()) => HttpResponse::NoContent().finish(),
        Err(_) => HttpResponse::ServiceUnavailable().finish(),
    }
}
