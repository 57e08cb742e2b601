//! `/v1/subscriptions` (admin): webhooks for the dispatch system and other followers.

use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use ucp_app::subscriptions::{self, DeadLetterView, NewSubscription, SubscriptionView};
use ucp_app::webhooks::{DeliveryConfig, WebhookClient};
use ucp_app::AppState;
use uuid::Uuid;

use super::respond::audited;
use crate::auth::Caller;
use crate::body::{parse, read_json};
use crate::problem::ApiError;
use crate::problem::{ErrorCode, Problem};

fn parse_id(text: &str, pointer: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(text).map_err(|_| {
        ApiError::bad_field(
            ErrorCode::BadId,
            pointer,
            format!("{text:?} is not an id (a UUID)."),
        )
    })
}

/// Subscribe a URL to changes from now on (or, explicitly, replay history from a position).
#[utoipa::path(
    post, path = "/v1/subscriptions", operation_id = "createSubscription", tag = "subscriptions",
    request_body = NewSubscription,
    responses(
        (status = 201, description = "Subscribed", body = SubscriptionView),
        (status = 400, description = "Malformed JSON or an unknown field", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid URL, change type, secret or attempts", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/subscriptions")]
pub async fn create_subscription(
    req: HttpRequest,
    payload: web::Payload,
    Caller(actor): Caller,
    state: web::Data<AppState>,
    client: web::Data<WebhookClient>,
) -> Result<HttpResponse, ApiError> {
    let (json, _) = read_json(&req, payload).await?;
    let new: NewSubscription = parse(json)?;
    let shown = subscriptions::create(&state.db, &actor, &client, new).await?;
    let location = format!("/v1/subscriptions/{}", shown.value.id);
    Ok(audited(
        HttpResponse::Created()
            .insert_header(("location", location))
            .json(shown.value),
        shown.access,
    ))
}

/// List subscriptions.
#[utoipa::path(
    get, path = "/v1/subscriptions", operation_id = "listSubscriptions", tag = "subscriptions",
    responses(
        (status = 200, description = "Live subscriptions", body = Vec<SubscriptionView>),
    ),
    security(("bearer" = []))
)]
#[get("/subscriptions")]
pub async fn list_subscriptions(
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let subs: Vec<SubscriptionView> = subscriptions::list(&state.db, &actor).await?;
    Ok(HttpResponse::Ok().json(subs))
}

/// Stop a subscription (it is kept, marked deleted).
#[utoipa::path(
    delete, path = "/v1/subscriptions/{id}", operation_id = "deleteSubscription", tag = "subscriptions",
    params(("id" = Uuid, Path, description = "Subscription id")),
    responses(
        (status = 204, description = "Stopped"),
        (status = 400, description = "Bad id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such subscription", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/subscriptions/{id}")]
pub async fn delete_subscription(
    path: web::Path<String>,
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, "/id")?;
    subscriptions::delete(&state.db, &actor, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A subscription's dead letters.
#[utoipa::path(
    get, path = "/v1/subscriptions/{id}/dead-letters", operation_id = "listDeadLetters", tag = "subscriptions",
    params(("id" = Uuid, Path, description = "Subscription id")),
    responses(
        (status = 200, description = "Parked changes, oldest first", body = Vec<DeadLetterView>),
        (status = 400, description = "Bad id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such subscription", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/subscriptions/{id}/dead-letters")]
pub async fn list_dead_letters(
    path: web::Path<String>,
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, "/id")?;
    let shown = subscriptions::dead_letters(&state.db, &actor, id).await?;
    let letters: &Vec<DeadLetterView> = &shown.value;
    Ok(audited(HttpResponse::Ok().json(letters), shown.access))
}

/// Deliver a parked change again, now.
#[utoipa::path(
    post, path = "/v1/subscriptions/{id}/dead-letters/{deadLetterId}/redeliver", operation_id = "redeliverDeadLetter", tag = "subscriptions",
    params(("id" = Uuid, Path, description = "Subscription id"), ("deadLetterId" = Uuid, Path, description = "Dead letter id")),
    responses(
        (status = 200, description = "Delivered; the dead letter is settled", body = DeadLetterView),
        (status = 400, description = "Bad id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such subscription or dead letter", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The receiver failed again; the dead letter stays", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/subscriptions/{id}/dead-letters/{deadLetterId}/redeliver")]
pub async fn redeliver(
    path: web::Path<(String, String)>,
    Caller(actor): Caller,
    state: web::Data<AppState>,
    config: web::Data<DeliveryConfig>,
    client: web::Data<WebhookClient>,
) -> Result<HttpResponse, ApiError> {
    let (id, dl) = path.into_inner();
    let id = parse_id(&id, "/id")?;
    let dl = parse_id(&dl, "/deadLetterId")?;
    let shown = subscriptions::redeliver(&state.db, &actor, &client, &config, id, dl).await?;
    Ok(audited(HttpResponse::Ok().json(shown.value), shown.access))
}

/// This module's routes, in the order they must match.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(create_subscription)
        .service(list_subscriptions)
        .service(delete_subscription)
        .service(list_dead_letters)
        .service(redeliver);
}

/// This module's part of the OpenAPI document (merged into [`crate::openapi::ApiDoc`]).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    create_subscription,
    list_subscriptions,
    delete_subscription,
    list_dead_letters,
    redeliver
))]
pub struct Api;
