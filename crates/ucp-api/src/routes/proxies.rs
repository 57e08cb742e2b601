//! Proxy access: the person grants, lists and revokes it under `/v1/me/proxies`; a clinician
//! grants it to an attorney recorded on a plan; a proxy finds whom they may act for.

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Serialize;
use ucp_app::proxies::{self, GrantProxyRequest, ProxyGrantView, RevokeProxyRequest};
use ucp_app::AppState;
use utoipa::ToSchema;
use uuid::Uuid;

use super::access::parse_plan_id;
use super::respond::audited;
use crate::auth::Caller;
use crate::body::{parse, read_json};
use crate::problem::{ApiError, ErrorCode, Problem};
use crate::request_id::request_id;

/// Proxy grants, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProxyGrantList {
    pub grants: Vec<ProxyGrantView>,
}

fn no_store(status: StatusCode) -> actix_web::HttpResponseBuilder {
    let mut builder = HttpResponse::build(status);
    builder.insert_header((header::CACHE_CONTROL, "no-store"));
    builder
}

/// A grant made: 201, and the access-log entry about the person it was made for.
fn granted(shown: ucp_app::audit::Shown<ProxyGrantView>) -> HttpResponse {
    audited(
        no_store(StatusCode::CREATED).json(shown.value),
        shown.access,
    )
}

fn parse_grant_id(text: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(text).map_err(|_| {
        ApiError::bad_field(
            ErrorCode::BadId,
            "/path/grantId",
            "The grant id must be a UUID, as the grant's grantId gives it.",
        )
    })
}

/// Who may act for me.
#[utoipa::path(
    get, path = "/v1/me/proxies", operation_id = "listMyProxies", tag = "me",
    responses(
        (status = 200, description = "Your proxy grants, active and revoked, newest first", body = ProxyGrantList),
    ),
    security(("bearer" = []))
)]
#[get("/me/proxies")]
pub async fn list_my_proxies(
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let grants = proxies::list_mine(&state.db, &actor).await?;
    Ok(no_store(StatusCode::OK).json(ProxyGrantList { grants }))
}

/// Let someone act for me.
#[utoipa::path(
    post, path = "/v1/me/proxies", operation_id = "grantMyProxy", tag = "me",
    request_body = GrantProxyRequest,
    responses(
        (status = 201, description = "The grant", body = ProxyGrantView),
        (status = 400, description = "Malformed JSON or an unknown field", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "They already hold an active grant", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid values, yourself, or an attorney your plan does not record", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/me/proxies")]
pub async fn grant_my_proxy(
    req: HttpRequest,
    payload: web::Payload,
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (json, _) = read_json(&req, payload).await?;
    let body: GrantProxyRequest = parse(json)?;
    let shown =
        proxies::grant_mine(&state.db, &state.metrics, &actor, body, request_id(&req)).await?;
    Ok(granted(shown))
}

/// Stop someone acting for me.
#[utoipa::path(
    post, path = "/v1/me/proxies/{grantId}/revoke", operation_id = "revokeMyProxy", tag = "me",
    params(("grantId" = Uuid, Path, description = "The grant")),
    request_body(content = RevokeProxyRequest, description = "Why (optional)"),
    responses(
        (status = 200, description = "The grant, revoked", body = ProxyGrantView),
        (status = 400, description = "Malformed JSON, an unknown field or a bad id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such grant of yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already revoked", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid reason", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/me/proxies/{grantId}/revoke")]
pub async fn revoke_my_proxy(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let grant_id = parse_grant_id(&path)?;
    let (json, _) = read_json(&req, payload).await?;
    let body: RevokeProxyRequest = parse(json)?;
    let grant = proxies::revoke(&state.db, &actor, grant_id, body, request_id(&req)).await?;
    Ok(no_store(StatusCode::OK).json(grant))
}

/// Whom I may act for.
#[utoipa::path(
    get, path = "/v1/me/acting-for", operation_id = "listActingFor", tag = "me",
    responses(
        (status = 200, description = "The active grants you hold; send UCP-On-Behalf-Of with one's nhsNumber", body = ProxyGrantList),
    ),
    security(("bearer" = []))
)]
#[get("/me/acting-for")]
pub async fn list_acting_for(
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let grants = proxies::held_by_me(&state.db, &actor).await?;
    Ok(no_store(StatusCode::OK).json(ProxyGrantList { grants }))
}

/// Grant proxy access to an attorney for health and welfare the plan records.
#[utoipa::path(
    post, path = "/v1/care-plans/{id}/proxies", operation_id = "grantAttorneyProxy", tag = "care-plans",
    params(("id" = Uuid, Path, description = "The plan")),
    request_body = GrantProxyRequest,
    responses(
        (status = 201, description = "The grant", body = ProxyGrantView),
        (status = 400, description = "Malformed JSON, an unknown field, a bad id, or no X-Purpose-Of-Use", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "They already hold an active grant", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid values, no LPA registration reference, or not an attorney the plan records by this NHS number", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/care-plans/{id}/proxies")]
pub async fn grant_attorney_proxy(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    Caller(actor): Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let plan_id = parse_plan_id(&path)?;
    let (json, _) = read_json(&req, payload).await?;
    let body: GrantProxyRequest = parse(json)?;
    let shown = proxies::grant_to_attorney(
        &state.db,
        &state.metrics,
        &actor,
        plan_id,
        body,
        request_id(&req),
    )
    .await?;
    Ok(granted(shown))
}

/// This module's routes, in the order they must match.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list_my_proxies)
        .service(grant_my_proxy)
        .service(revoke_my_proxy)
        .service(list_acting_for)
        .service(grant_attorney_proxy);
}

/// This module's part of the OpenAPI document (merged into [`crate::openapi::ApiDoc`]).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list_my_proxies,
    grant_my_proxy,
    revoke_my_proxy,
    list_acting_for,
    grant_attorney_proxy
))]
pub struct Api;
