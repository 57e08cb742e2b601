//! `/v1/me/notifications`: the person's choice of messages about their plan; and
//! `/v1/notifications/dead-letters`: the notifier's dead letters (admin).

use actix_web::http::StatusCode;
use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use ucp_app::notify::dead_letters::{self, NotificationDeadLetter};
use ucp_app::notify::preferences::{self, NotificationChoice};
use ucp_app::AppState;
use ucp_domain::notifications::NotificationsChosen;
use uuid::Uuid;

use super::respond::{audited, tagged};
use crate::auth::Caller;
use crate::body::{parse, read_json};
use crate::problem::{ApiError, ErrorCode, Problem};
use crate::request_id::request_id;

/// Whether this server notifies (`UCP_NOTIFY_URL` or `UCP_NOTIFY_PRACTICES`).
#[derive(Debug, Clone, Copy)]
pub struct Notifying(pub bool);

/// Whether I am told when someone else changes my care plan (through the NHS App), with its
/// ETag to change it.
#[utoipa::path(
    get, path = "/v1/me/notifications", operation_id = "getMyNotifications", tag = "me",
    responses(
        (status = 200, description = "Your choice", body = NotificationChoice, headers(("ETag" = String))),
    ),
    security(("bearer" = []))
)]
#[get("/me/notifications")]
pub async fn get_my_notifications(
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let shown = preferences::mine(&state.db, &actor).await?;
    Ok(audited(
        tagged(StatusCode::OK, &shown.value.etag, &shown.value),
        shown.access,
    ))
}

fn choice_version(req: &HttpRequest) -> Result<i64, ApiError> {
    crate::headers::if_match_number(
        req,
        "notifications.",
        "Send If-Match with the ETag of your choice as you read it.",
        "If-Match is not the ETag of your choice (\"notifications.<n>\").",
    )
}

/// Choose whether I am told when someone else changes my care plan: `{"messages": "on"}` (the
/// default) or `"off"`. My GP practice is told of changes made outside it either way. Only I
/// may change it: not someone acting for me.
#[utoipa::path(
    put, path = "/v1/me/notifications", operation_id = "putMyNotifications", tag = "me",
    params(("If-Match" = String, Header, description = "Your choice's ETag")),
    request_body = NotificationsChosen,
    responses(
        (status = 200, description = "Your choice now", body = NotificationChoice, headers(("ETag" = String))),
        (status = 400, description = "Malformed JSON, an unknown field or a bad If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Your choice changed since you read it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not on or off", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[put("/me/notifications")]
pub async fn put_my_notifications(
    req: HttpRequest,
    payload: web::Payload,
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    ucp_app::use_cases::PUT_MY_NOTIFICATIONS.authorize(&actor)?;
    let (json, _) = read_json(&req, payload).await?;
    let chosen: NotificationsChosen = parse(json)?;
    let version = choice_version(&req)?;
    let shown = preferences::choose(&state.db, &actor, version, chosen, request_id(&req)).await?;
    Ok(audited(
        tagged(StatusCode::OK, &shown.value.etag, &shown.value),
        shown.access,
    ))
}

/// Messages to people and practices that were not accepted after the last attempt, oldest
/// first (admin).
#[utoipa::path(
    get, path = "/v1/notifications/dead-letters", operation_id = "listNotificationDeadLetters", tag = "notifications",
    responses(
        (status = 200, description = "Parked messages, oldest first (redelivered ones with redeliveredAt)", body = Vec<NotificationDeadLetter>),
    ),
    security(("bearer" = []))
)]
#[get("/notifications/dead-letters")]
pub async fn list_notification_dead_letters(
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let shown = dead_letters::list(&state.db, &actor).await?;
    Ok(audited(HttpResponse::Ok().json(&shown.value), shown.access))
}

/// Put a parked message back to be sent now (admin). For the person it is sent only if they
/// still want messages and are alive.
#[utoipa::path(
    post, path = "/v1/notifications/dead-letters/{deadLetterId}/redeliver", operation_id = "redeliverNotificationDeadLetter", tag = "notifications",
    params(("deadLetterId" = Uuid, Path, description = "Dead letter id")),
    responses(
        (status = 200, description = "Back in the outbox, due now", body = NotificationDeadLetter),
        (status = 400, description = "Bad id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such dead letter", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Redelivered already, or this server does not notify", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/notifications/dead-letters/{deadLetterId}/redeliver")]
pub async fn redeliver_notification_dead_letter(
    path: web::Path<String>,
    Caller(actor): Caller,
    state: web::Data<AppState>,
    notifying: web::Data<Notifying>,
) -> Result<HttpResponse, ApiError> {
    let id = Uuid::parse_str(&path).map_err(|_| {
        ApiError::bad_field(
            ErrorCode::BadId,
            "/deadLetterId",
            format!("{:?} is not an id (a UUID).", path.as_str()),
        )
    })?;
    let shown = dead_letters::redeliver(&state.db, &actor, notifying.0, id).await?;
    Ok(audited(HttpResponse::Ok().json(&shown.value), shown.access))
}

/// This module's routes, in the order they must match.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(get_my_notifications)
        .service(put_my_notifications)
        .service(list_notification_dead_letters)
        .service(redeliver_notification_dead_letter);
}

/// This module's part of the OpenAPI document (merged into [`crate::openapi::ApiDoc`]).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        get_my_notifications,
        put_my_notifications,
        list_notification_dead_letters,
        redeliver_notification_dead_letter
    ),
    components(schemas(NotificationsChosen))
)]
pub struct Api;
