//! `/v1/feed`: every change in commit order, as pages (with long polling) or as Server-Sent
//! Events, for the dispatch system and other followers.

use std::time::Duration;

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use ucp_app::audit::{entry, Access, AuditWriter, View};
use ucp_app::feed::FeedCursor;
use ucp_app::feed::{self, next_changes, ChangePage, SnapshotPage};
use ucp_app::{Actor, AppState};
use utoipa::{IntoParams, ToSchema};

use super::respond::audited;
use crate::auth::Caller;
use crate::paging::page_size;
use crate::problem::ApiError;
use crate::problem::{ErrorCode, Problem};

/// One event of the stream, as a server-sent event's fields (the document describes each event
/// this way, as OpenAPI before 3.2 does for `text/event-stream`).
#[derive(Debug, Serialize, ToSchema)]
pub struct StreamEvent {
    /// `change`, or `token-expired` as the last event when the token expires.
    pub event: Option<String>,
    /// The cursor of the change: reconnect with `Last-Event-ID` (or `after`) to resume.
    pub id: Option<String>,
    /// For `change`: a Change as JSON.
    pub data: Option<String>,
    /// How long to wait before reconnecting, in milliseconds.
    pub retry: Option<u64>,
}

/// Where to read from.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// The cursor of the last change you hold (`next` of the previous page); absent: from the start.
    pub after: Option<String>,
    /// 1 to 1000; default 100.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// 0 to 60: when there is nothing new, wait this long for a change to commit.
    #[param(minimum = 0, maximum = 60)]
    pub wait_seconds: Option<u64>,
}

pub(crate) fn parse_cursor(text: Option<&str>) -> Result<FeedCursor, ApiError> {
    match text {
        None | Some("") => Ok(FeedCursor::START),
        Some(t) => FeedCursor::decode(t).map_err(|_| {
            ApiError::bad_field(
                ErrorCode::BadCursor,
                "/after",
                "This is not a feed cursor this service issued.",
            )
        }),
    }
}

/// Fallback polling interval of waiting readers, when no wake-up arrives.
#[derive(Debug, Clone, Copy)]
pub struct FeedPoll(pub Duration);

/// Changes after a cursor, in commit order.
#[utoipa::path(
    get, path = "/v1/feed", operation_id = "readFeed", tag = "feed",
    params(FeedQuery),
    responses(
        (status = 200, description = "Changes, oldest first, and the cursor to continue from", body = ChangePage),
        (status = 400, description = "Bad cursor, limit or wait", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/feed")]
pub async fn read_feed(
    req: HttpRequest,
    query: web::Query<FeedQuery>,
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let after = parse_cursor(query.after.as_deref())?;
    let limit = page_size(query.limit, 100, 1000)?;
    let wait = match query.wait_seconds {
        None => 0,
        Some(s) if s <= 60 => s,
        Some(_) => {
            return Err(ApiError::bad_field(
                ErrorCode::BadWait,
                "/waitSeconds",
                "waitSeconds runs from 0 to 60.",
            ))
        }
    };
    let poll = req
        .app_data::<web::Data<FeedPoll>>()
        .map_or(Duration::from_millis(500), |p| p.0);
    let shown = feed::read_page(
        &state.db,
        &state.feed,
        &actor,
        after,
        limit,
        Duration::from_secs(wait),
        poll,
    )
    .await?;
    Ok(audited(
        HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(shown.value),
        shown.access,
    ))
}

/// Which page of the snapshot.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SnapshotQuery {
    /// The `nextPage` of the previous page (an NHS number); absent: the first page.
    #[param(pattern = r"^([0-9]{10})?$")]
    pub after: Option<String>,
    /// 1 to 1000; default 500.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// Bootstrap a new consumer: what is true now, and the feed cursor to follow on from — never a
/// replay of history, so a voided plan's content never reaches a new consumer.
#[utoipa::path(
    get, path = "/v1/feed/snapshot", operation_id = "readFeedSnapshot", tag = "feed",
    params(SnapshotQuery),
    responses(
        (status = 200, description = "Current summaries of active plans, by NHS number, and the feed cursor", body = SnapshotPage),
        (status = 400, description = "Bad page or limit", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/feed/snapshot")]
pub async fn read_snapshot(
    query: web::Query<SnapshotQuery>,
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let after = match query.after.as_deref() {
        None | Some("") => None,
        Some(text) => Some(super::access::parse_nhs_number(text).map_err(|_| {
            ApiError::bad_field(
                ErrorCode::BadPage,
                "/after",
                "This is not a nextPage this service issued.",
            )
        })?),
    };
    let limit = page_size(query.limit, 500, 1000)?;
    let shown = feed::snapshot(&state.db, &actor, after, limit).await?;
    Ok(audited(
        HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(shown.value),
        shown.access,
    ))
}

/// The same changes as Server-Sent Events (`id` is the cursor; resume with `Last-Event-ID`).
#[utoipa::path(
    get, path = "/v1/feed/stream", operation_id = "streamFeed", tag = "feed",
    params(
        ("after" = Option<String>, Query, description = "Start after this cursor (Last-Event-ID wins)"),
        ("Last-Event-ID" = Option<String>, Header, description = "The id of the last event received"),
    ),
    responses(
        (status = 200, description = "text/event-stream of `change` events whose data is a Change, ending with `token-expired` when the token does", content_type = "text/event-stream", body = StreamEvent),
        (status = 400, description = "Bad cursor", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/feed/stream")]
pub async fn stream_feed(
    req: HttpRequest,
    Caller(actor): Caller,
    state: web::Data<AppState>,
    audit: web::Data<AuditWriter>,
) -> Result<HttpResponse, ApiError> {
    feed::open_stream(&actor)?;
    let last_event_id = req
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let after_param =
        web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
            .ok()
            .and_then(|q| q.get("after").cloned());
    // Both are checked, so a bad cursor is never hidden by the other; Last-Event-ID wins.
    let after = parse_cursor(after_param.as_deref())?;
    let start = match last_event_id.as_deref().filter(|id| !id.is_empty()) {
        Some(id) => parse_cursor(Some(id))?,
        None => after,
    };
    let opened = Access {
        view: Some(View::Feed),
        detail: Some(serde_json::json!({ "streamFrom": start.encode() })),
        ..Access::default()
    };
    let poll = req
        .app_data::<web::Data<FeedPoll>>()
        .map_or(Duration::from_millis(500), |p| p.0);
    let stream = SseStream {
        state: state.into_inner(),
        audit: audit.into_inner(),
        expires: token_deadline(actor.expires_at),
        actor,
        cursor: start,
        poll,
    };
    let events = futures::stream::unfold(Some((stream, true)), |step| async move {
        let (stream, first) = step?;
        if first {
            return Some((
                Ok::<_, actix_web::Error>(Bytes::from_static(b"retry: 2000\n\n")),
                Some((stream, false)),
            ));
        }
        match stream.next_chunk().await {
            Chunk::Changes(bytes, stream) => Some((Ok(bytes), Some((*stream, false)))),
            Chunk::Last(bytes) => Some((Ok(bytes), None)),
            Chunk::End => None,
        }
    });
    Ok(audited(
        HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/event-stream"))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .streaming(events),
        opened,
    ))
}

/// When a token that expires at `exp` (seconds since 1970) stops being good, as an instant.
fn token_deadline(exp: u64) -> tokio::time::Instant {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    tokio::time::Instant::now() + Duration::from_secs(exp.saturating_sub(now))
}

/// One SSE connection: it lives no longer than its token, and every change it sends is in the
/// access log (committed before the bytes leave), like a page of the feed.
struct SseStream {
    state: std::sync::Arc<AppState>,
    audit: std::sync::Arc<AuditWriter>,
    actor: Actor,
    expires: tokio::time::Instant,
    cursor: FeedCursor,
    poll: Duration,
}

enum Chunk {
    Changes(Bytes, Box<SseStream>),
    Last(Bytes),
    End,
}

impl SseStream {
    async fn next_chunk(mut self) -> Chunk {
        let now = tokio::time::Instant::now();
        if now >= self.expires {
            // The client reconnects with a fresh token and Last-Event-ID.
            return Chunk::Last(Bytes::from_static(
                b"event: token-expired\ndata: {\"detail\":\"The token has expired; reconnect with a fresh one and Last-Event-ID.\"}\n\n",
            ));
        }
        let wait = Duration::from_secs(15).min(self.expires - now);
        let page = match next_changes(
            &self.state.db,
            &self.state.feed,
            self.cursor,
            100,
            wait,
            self.poll,
        )
        .await
        {
            Ok(page) => page,
            Err(e) => {
                tracing::warn!(error = %e, "feed stream ended");
                return Chunk::End;
            }
        };
        if page.changes.is_empty() {
            self.cursor = FeedCursor::decode(&page.next).unwrap_or(self.cursor);
            return Chunk::Changes(Bytes::from_static(b": keep-alive\n\n"), Box::new(self));
        }
        let mut entry = entry(
            Some(&self.actor),
            "streamFeed",
            Access {
                view: Some(View::Feed),
                returned_nhs_numbers: page.changes.iter().map(|c| c.nhs_number.clone()).collect(),
                detail: Some(serde_json::json!({ "streamedUpTo": page.next })),
                ..Access::default()
            },
            200,
        );
        "/v1/feed/stream".clone_into(&mut entry.path);
        if let Err(e) = self.audit.record(entry).await {
            // Nothing leaves unrecorded: end the stream; the client resumes from its last id.
            tracing::warn!(error = %e, "feed stream ended: the access log is unavailable");
            return Chunk::End;
        }
        let mut text = String::new();
        for change in &page.changes {
            let Ok(data) = serde_json::to_string(change) else {
                continue;
            };
            text.push_str(&format!(
                "id: {}\nevent: change\ndata: {data}\n\n",
                change.cursor
            ));
        }
        self.cursor = FeedCursor::decode(&page.next).unwrap_or(self.cursor);
        Chunk::Changes(Bytes::from(text), Box::new(self))
    }
}

/// This module's routes, in the order they must match.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(read_feed)
        .service(stream_feed)
        .service(read_snapshot);
}

/// This module's part of the OpenAPI document (merged into [`crate::openapi::ApiDoc`]).
#[derive(utoipa::OpenApi)]
#[openapi(paths(read_feed, stream_feed, read_snapshot))]
pub struct Api;
