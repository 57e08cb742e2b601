//! `/v1/nrl`: the National Record Locator publisher's dead letters (admin).

use actix_web::{get, post, web, HttpResponse};
use ucp_app::audit::AuditWriter;
use ucp_app::nrl::dead_letters::{self, NrlDeadLetterView};
use ucp_app::nrl::NrlClient;
use ucp_app::AppState;
use uuid::Uuid;

use super::respond::audited;
use crate::auth::Caller;
use crate::problem::{ApiError, ErrorCode, Problem};

/// The publisher's client, when this server publishes (`UCP_NRL_URL`).
#[derive(Debug, Clone)]
pub struct NrlPublishing(pub Option<NrlClient>);

/// Pointer changes the NRL did not take after the last attempt, oldest first.
#[utoipa::path(
    get, path = "/v1/nrl/dead-letters", operation_id = "listNrlDeadLetters", tag = "nrl",
    responses(
        (status = 200, description = "Parked pointer changes, oldest first (settled ones with redeliveredAt)", body = Vec<NrlDeadLetterView>),
    ),
    security(("bearer" = []))
)]
#[get("/nrl/dead-letters")]
pub async fn list_nrl_dead_letters(
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let shown = dead_letters::list(&state.db, &actor).await?;
    Ok(audited(HttpResponse::Ok().json(&shown.value), shown.access))
}

/// Bring a parked pointer in line with its plan as it is now (create, update or delete it at
/// the NRL), and settle the dead letter.
#[utoipa::path(
    post, path = "/v1/nrl/dead-letters/{deadLetterId}/redeliver", operation_id = "redeliverNrlDeadLetter", tag = "nrl",
    params(("deadLetterId" = Uuid, Path, description = "Dead letter id")),
    responses(
        (status = 200, description = "Sent; the dead letter is settled", body = NrlDeadLetterView),
        (status = 400, description = "Bad id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such dead letter", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Redelivered already, or this server does not publish to the NRL", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The NRL failed again; the dead letter stays open", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/nrl/dead-letters/{deadLetterId}/redeliver")]
pub async fn redeliver_nrl_dead_letter(
    path: web::Path<String>,
    Caller(actor): Caller,
    state: web::Data<AppState>,
    publishing: web::Data<NrlPublishing>,
    audit: web::Data<AuditWriter>,
) -> Result<HttpResponse, ApiError> {
    let id = Uuid::parse_str(&path).map_err(|_| {
        ApiError::bad_field(
            ErrorCode::BadId,
            "/deadLetterId",
            format!("{:?} is not an id (a UUID).", path.as_str()),
        )
    })?;
    let shown =
        dead_letters::redeliver(&state.db, &actor, publishing.0.as_ref(), &audit, id).await?;
    Ok(audited(HttpResponse::Ok().json(&shown.value), shown.access))
}

/// This module's routes, in the order they must match.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list_nrl_dead_letters)
        .service(redeliver_nrl_dead_letter);
}

/// This module's part of the OpenAPI document (merged into [`crate::openapi::ApiDoc`]).
#[derive(utoipa::OpenApi)]
#[openapi(paths(list_nrl_dead_letters, redeliver_nrl_dead_letter))]
pub struct Api;
