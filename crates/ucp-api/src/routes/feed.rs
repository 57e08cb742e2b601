//! `/v1/feed`: every change in commit order, as pages (with long polling) or as Server-Sent
//! Events, for the dispatch system and other followers.

use std::time::Duration;

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use ucp_store::FeedCursor;
use utoipa::IntoParams;

use crate::audit::{note, View};
use crate::auth::{Actor, Role};
use crate::changes::{next_changes, ChangePage};
use crate::problem::Problem;
use crate::{ApiError, AppState};

/// Where to read from.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// The cursor of the last change you hold (`next` of the previous page); absent: from the start.
    pub after: Option<String>,
    /// 1 to 1000; default 100.
    pub limit: Option<i64>,
    /// 0 to 60: when there is nothing new, wait this long for a change to commit.
    pub wait_seconds: Option<u64>,
}

pub(crate) fn parse_cursor(text: Option<&str>) -> Result<FeedCursor, ApiError> {
    match text {
        None | Some("") => Ok(FeedCursor::START),
        Some(t) => FeedCursor::decode(t).map_err(|_| {
            ApiError::bad_field(
                "bad_cursor",
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
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Dispatch and admin only", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/v1/feed")]
pub async fn read_feed(
    req: HttpRequest,
    query: web::Query<FeedQuery>,
    actor: Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    actor.require(&[Role::Dispatch, Role::Admin])?;
    let after = parse_cursor(query.after.as_deref())?;
    let limit = match query.limit {
        None => 100,
        Some(n) if (1..=1000).contains(&n) => n,
        Some(_) => {
            return Err(ApiError::bad_field(
                "bad_limit",
                "/limit",
                "limit runs from 1 to 1000.",
            ))
        }
    };
    let wait = match query.wait_seconds {
        None => 0,
        Some(s) if s <= 60 => s,
        Some(_) => {
            return Err(ApiError::bad_field(
                "bad_wait",
                "/waitSeconds",
                "waitSeconds runs from 0 to 60.",
            ))
        }
    };
    let poll = req
        .app_data::<web::Data<FeedPoll>>()
        .map_or(Duration::from_millis(500), |p| p.0);
    let page = next_changes(
        &state.db,
        &state.feed,
        after,
        limit,
        Duration::from_secs(wait),
        poll,
    )
    .await?;
    note(&req, |n| {
        n.view = Some(View::Feed);
        n.returned_nhs_numbers = page.changes.iter().map(|c| c.nhs_number.clone()).collect();
    });
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(page))
}

/// The same changes as Server-Sent Events (`id` is the cursor; resume with `Last-Event-ID`).
#[utoipa::path(
    get, path = "/v1/feed/stream", operation_id = "streamFeed", tag = "feed",
    params(
        ("after" = Option<String>, Query, description = "Start after this cursor (Last-Event-ID wins)"),
        ("Last-Event-ID" = Option<String>, Header, description = "The id of the last event received"),
    ),
    responses(
        (status = 200, description = "text/event-stream of `change` events whose data is a Change", content_type = "text/event-stream", body = String),
        (status = 400, description = "Bad cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Dispatch and admin only", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/v1/feed/stream")]
pub async fn stream_feed(
    req: HttpRequest,
    actor: Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    actor.require(&[Role::Dispatch, Role::Admin])?;
    let last_event_id = req
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let after_param =
        web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
            .ok()
            .and_then(|q| q.get("after").cloned());
    let start = parse_cursor(last_event_id.as_deref().or(after_param.as_deref()))?;
    note(&req, |n| n.view = Some(View::Feed));
    let poll = req
        .app_data::<web::Data<FeedPoll>>()
        .map_or(Duration::from_millis(500), |p| p.0);
    let state = state.into_inner();
    let stream = futures::stream::unfold(
        (state, start, true),
        move |(state, cursor, first)| async move {
            if first {
                return Some((
                    Ok::<_, actix_web::Error>(Bytes::from_static(b"retry: 2000\n\n")),
                    (state, cursor, false),
                ));
            }
            match next_changes(
                &state.db,
                &state.feed,
                cursor,
                100,
                Duration::from_secs(15),
                poll,
            )
            .await
            {
                Ok(page) => {
                    let next = ucp_store::FeedCursor::decode(&page.next).unwrap_or(cursor);
                    let mut text = String::new();
                    if page.changes.is_empty() {
                        text.push_str(": keep-alive\n\n");
                    }
                    for change in &page.changes {
                        let data = serde_json::to_string(change).unwrap_or_default();
                        text.push_str(&format!(
                            "id: {}\nevent: change\ndata: {data}\n\n",
                            change.cursor
                        ));
                    }
                    Some((Ok(Bytes::from(text)), (state, next, false)))
                }
                Err(e) => {
                    tracing::warn!(error = %e, "feed stream ended");
                    None
                }
            }
        },
    );
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(stream))
}
